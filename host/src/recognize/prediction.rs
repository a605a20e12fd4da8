//! What the gateway says about one window: the activity it recognized, how sure it is, the
//! modalities it used, and (replaying a labeled capture) the true activity.
//!
//! As a JSON line (DESIGN.md, `dagr run` and `dagr replay --model --json`):
//! `{"t", "start", "class", "score", "probs", "present", "set_aside", "label", "head"}` where
//! `t` is the window's end and `start` its start (gateway time, s), `probs` an object keyed
//! by class name in the model's class order, `present` the modalities the model was given
//! (`"mmwave"`, `"wifi"`, `"rfid"`, in that order), `set_aside` those of them the norm guard
//! left out of the fusion (an embedding out of its clean band: a sensor turned to noise, see
//! `dagr_head::admitted`; usually `[]`), `label` the ground truth or `null`, and
//! `head` the version of the head that made it (0: the model package's own head; each head
//! adapted on a running gateway takes the next number, see `dagr run`'s adaptation).
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::record::Modality;

/// One recognized window.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The window's end, gateway s: the time the prediction speaks for.
    pub t: f64,
    /// The window's start, gateway s.
    pub start: f64,
    /// The recognized class (the most probable).
    pub class: Arc<str>,
    /// Its probability.
    pub score: f32,
    /// Every class's probability, in the model's class order (see [`Prediction::classes`]).
    pub probs: Vec<f32>,
    /// The model's classes, in order, shared by every prediction of one model.
    pub classes: Arc<[Arc<str>]>,
    /// Which modalities the model was given, in [`Modality::ALL`] order.
    pub present: [bool; 3],
    /// Which of them the norm guard set aside (present, not fused), in the same order.
    pub set_aside: [bool; 3],
    /// The true class, when the input says it (a labeled capture).
    pub label: Option<Arc<str>>,
    /// The version of the head that made it (0: the package's own).
    pub head: u64,
}

impl Prediction {
    /// The modalities given, in [`Modality::ALL`] order.
    pub fn modalities(&self) -> impl Iterator<Item = Modality> + '_ {
        Modality::ALL
            .into_iter()
            .filter(|m| self.present[m.index()])
    }

    /// The modalities the fusion used: given and not set aside.
    pub fn fused(&self) -> impl Iterator<Item = Modality> + '_ {
        self.modalities().filter(|m| !self.set_aside[m.index()])
    }

    /// The modalities given but set aside by the norm guard.
    pub fn set_aside(&self) -> impl Iterator<Item = Modality> + '_ {
        self.modalities().filter(|m| self.set_aside[m.index()])
    }

    /// The JSON object of DESIGN.md's prediction line.
    pub fn to_json(&self) -> Value {
        let probs: Map<String, Value> = self
            .classes
            .iter()
            .zip(&self.probs)
            .map(|(c, p)| (c.to_string(), rounded(*p)))
            .collect();
        let present: Vec<Value> = self.modalities().map(|m| m.name().into()).collect();
        let set_aside: Vec<Value> = self.set_aside().map(|m| m.name().into()).collect();
        serde_json::json!({
            "t": self.t,
            "start": self.start,
            "class": &*self.class,
            "score": rounded(self.score),
            "probs": probs,
            "present": present,
            "set_aside": set_aside,
            "label": self.label.as_deref(),
            "head": self.head,
        })
    }
}

/// A probability to 6 decimals: what a reader can use, without float noise in every line.
fn rounded(p: f32) -> Value {
    let value = (f64::from(p) * 1e6).round() / 1e6;
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// One line for a person watching: time, class and score, the modalities used, the truth.
impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used: Vec<&str> = self.fused().map(Modality::name).collect();
        let mut used = if used.is_empty() {
            "no modality".to_string()
        } else {
            used.join("+")
        };
        for m in self.set_aside() {
            used.push_str(&format!(", {} set aside", m.name()));
        }
        write!(
            f,
            "{:>9.2} s  {:<13} {:>5.1} %  [{used}]",
            self.t,
            self.class,
            self.score * 100.0
        )?;
        match &self.label {
            Some(label) if *label == self.class => write!(f, "  true: {label} ✓"),
            Some(label) => write!(f, "  true: {label} ✗"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Prediction {
        let classes: Arc<[Arc<str>]> = ["walking", "falling"].map(Arc::from).into();
        Prediction {
            t: 12.5,
            start: 10.5,
            class: classes[1].clone(),
            score: 0.75,
            probs: vec![0.25, 0.75],
            classes,
            present: [true, false, true],
            set_aside: [false; 3],
            label: Some("walking".into()),
            head: 2,
        }
    }

    #[test]
    fn the_json_line_has_designs_fields_with_probs_keyed_in_class_order() {
        let line = sample().to_json().to_string();
        assert_eq!(
            line,
            r#"{"t":12.5,"start":10.5,"class":"falling","score":0.75,"probs":{"walking":0.25,"falling":0.75},"present":["mmwave","rfid"],"set_aside":[],"label":"walking","head":2}"#
        );
    }

    #[test]
    fn the_human_line_says_the_modalities_and_a_miss() {
        let mut p = sample();
        assert_eq!(
            p.to_string(),
            "    12.50 s  falling        75.0 %  [mmwave+rfid]  true: walking ✗"
        );
        p.set_aside = [false, false, true];
        assert!(p.to_string().contains("[mmwave, rfid set aside]"), "{p}");
        assert!(p.to_json().to_string().contains(r#""set_aside":["rfid"]"#));
        p.label = None;
        p.present = [false; 3];
        assert!(p.to_string().ends_with("[no modality]"), "{p}");
    }
}
