//! A ground-truth annotation and its JSON body (a capture's `/labels` message, a served
//! label line).
use serde_json::json;

/// A ground-truth annotation: the person did `class` from `start` to `end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Gateway time, s.
    pub start: f64,
    /// Gateway time, s.
    pub end: f64,
    /// Activity class name.
    pub class: String,
}

impl Label {
    /// The JSON message body.
    pub fn to_json(&self) -> serde_json::Value {
        json!({"start": self.start, "end": self.end, "class": self.class})
    }

    /// Parses a message body; `None` if a field is missing or of the wrong type.
    pub fn from_json(bytes: &[u8]) -> Option<Label> {
        let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        Some(Label {
            start: v.get("start")?.as_f64()?,
            end: v.get("end")?.as_f64()?,
            class: v.get("class")?.as_str()?.to_string(),
        })
    }
}
