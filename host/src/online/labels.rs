//! Labels given to a running gateway: a class and a span of its recent windows, as
//! `POST /labels` sends them, checked and turned into labeled windows for adaptation.
//!
//! The body is `{"class": "walking", "start": T0, "end": T1}` (gateway time, s, as in
//! each prediction's `start` and `t`: every window lying wholly inside the span) or
//! `{"class": "walking", "last_s": N}` (the windows inside the last N seconds before the
//! newest window's end). A label is checked whole before anything is kept: an unknown
//! class, a malformed body or a span with no window changes nothing.
use serde::Deserialize;

use crate::recognize::recent::{RecentWindow, RecentWindows};

/// Why a label was refused; `Display` is the message the client gets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    /// The body is not the JSON object a label is.
    #[error(
        "body: {0}; expected {{\"class\": NAME, \"start\": T0, \"end\": T1}} or \
         {{\"class\": NAME, \"last_s\": SECONDS}}"
    )]
    Body(String),
    /// The class is not one of the model's.
    #[error("class `{class}` is not one of the model's classes: {}", known.join(", "))]
    UnknownClass {
        /// The class given.
        class: String,
        /// The model's classes.
        known: Vec<String>,
    },
    /// No recent window lies inside the span.
    #[error("no window lies inside {from:.3}..{to:.3} s; {coverage}")]
    EmptySpan {
        /// The span's start, gateway s.
        from: f64,
        /// Its end.
        to: f64,
        /// What the recent windows cover.
        coverage: String,
    },
}

impl LabelError {
    /// The HTTP status this refusal is answered with: 400 for a malformed body, 422 for a
    /// well-formed label that names nothing usable.
    pub fn status(&self) -> u16 {
        match self {
            LabelError::Body(_) => 400,
            LabelError::UnknownClass { .. } | LabelError::EmptySpan { .. } => 422,
        }
    }
}

/// A label as `POST /labels` spells it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelBody {
    class: String,
    start: Option<f64>,
    end: Option<f64>,
    last_s: Option<f64>,
}

/// A checked label: a class index and a span of gateway time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label {
    /// Index into the model's classes.
    pub class: u16,
    /// The span's start, gateway s.
    pub from: f64,
    /// Its end.
    pub to: f64,
}

impl Label {
    /// Reads and checks a `POST /labels` body against the model's `classes` and the
    /// `recent` windows (which `last_s` counts back from).
    pub fn parse(
        body: &[u8],
        classes: &[String],
        recent: &RecentWindows,
    ) -> Result<Label, LabelError> {
        let body: LabelBody =
            serde_json::from_slice(body).map_err(|e| LabelError::Body(e.to_string()))?;
        let (from, to) = span(&body, recent)?;
        let class = classes
            .iter()
            .position(|c| *c == body.class)
            .and_then(|i| u16::try_from(i).ok())
            .ok_or_else(|| LabelError::UnknownClass {
                class: body.class.clone(),
                known: classes.to_vec(),
            })?;
        let label = Label { class, from, to };
        if label.windows(recent).next().is_none() {
            return Err(LabelError::EmptySpan {
                from,
                to,
                coverage: coverage(recent),
            });
        }
        Ok(label)
    }

    /// The recent windows this label names, oldest first.
    pub fn windows<'r>(
        &self,
        recent: &'r RecentWindows,
    ) -> impl Iterator<Item = RecentWindow<'r>> + 'r {
        recent.within(self.from, self.to)
    }
}

/// The span a body names: `start..end`, or the last `last_s` seconds of the recent
/// windows.
fn span(body: &LabelBody, recent: &RecentWindows) -> Result<(f64, f64), LabelError> {
    let bad = |what: &str| Err(LabelError::Body(what.to_string()));
    match (body.start, body.end, body.last_s) {
        (Some(start), Some(end), None) => {
            if !(start.is_finite() && end.is_finite() && start < end) {
                return bad("`start` and `end` must be numbers with start < end");
            }
            Ok((start, end))
        }
        (None, None, Some(last_s)) => {
            if !(last_s.is_finite() && last_s > 0.0) {
                return bad("`last_s` must be a number of seconds above 0");
            }
            let end = recent.coverage().map_or(0.0, |(_, end)| end);
            Ok((end - last_s, end))
        }
        _ => bad("give either `start` and `end`, or `last_s`"),
    }
}

/// What the recent windows cover, for a refusal.
fn coverage(recent: &RecentWindows) -> String {
    match recent.coverage() {
        Some((from, to)) => format!(
            "the recent windows cover {from:.3}..{to:.3} s ({} windows)",
            recent.len()
        ),
        None => "no window has been recognized yet".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        ["walking", "falling"].map(String::from).to_vec()
    }

    /// Windows of 2 s every 0.5 s starting at 10 s.
    fn recent(n: usize) -> RecentWindows {
        let mut ring = RecentWindows::new(64, 2);
        for i in 0..n {
            let start = 10.0 + i as f64 * 0.5;
            ring.push(start, start + 2.0, [&[0.0; 2]; 3], [true; 3])
                .unwrap();
        }
        ring
    }

    #[test]
    fn a_span_or_the_last_seconds_name_the_windows_inside() {
        let ring = recent(20);
        let label = Label::parse(
            br#"{"class": "falling", "start": 11, "end": 14}"#,
            &classes(),
            &ring,
        )
        .unwrap();
        assert_eq!(label.class, 1);
        let starts: Vec<f64> = label.windows(&ring).map(|w| w.start).collect();
        assert_eq!(starts, [11.0, 11.5, 12.0]);
        // The newest window ends at 21.5: the last 3 s hold the windows starting at 18.5..19.5.
        let last =
            Label::parse(br#"{"class": "walking", "last_s": 3}"#, &classes(), &ring).unwrap();
        assert_eq!((last.from, last.to), (18.5, 21.5));
        assert_eq!(last.windows(&ring).count(), 3);
    }

    #[test]
    fn refusals_say_what_was_wrong_and_what_is_known() {
        let ring = recent(4);
        let error = |body: &str| Label::parse(body.as_bytes(), &classes(), &ring).unwrap_err();
        let unknown = error(r#"{"class": "dancing", "last_s": 5}"#);
        assert_eq!(unknown.status(), 422);
        assert_eq!(
            unknown.to_string(),
            "class `dancing` is not one of the model's classes: walking, falling"
        );
        let empty = error(r#"{"class": "walking", "start": 100, "end": 110}"#);
        assert_eq!(empty.status(), 422);
        assert_eq!(
            empty.to_string(),
            "no window lies inside 100.000..110.000 s; the recent windows cover \
             10.000..13.500 s (4 windows)"
        );
        for body in [
            "not json",
            r#"{"class": "walking"}"#,
            r#"{"class": "walking", "start": 12, "end": 11}"#,
            r#"{"class": "walking", "last_s": 5, "start": 1, "end": 2}"#,
            r#"{"class": "walking", "last_s": -1}"#,
            r#"{"class": "walking", "last_s": 5, "colour": 1}"#,
        ] {
            let e = error(body);
            assert_eq!(e.status(), 400, "{body}: {e}");
            assert!(e.to_string().contains("expected {\"class\""), "{e}");
        }
        let nothing_yet = Label::parse(
            br#"{"class": "walking", "last_s": 5}"#,
            &classes(),
            &recent(0),
        );
        assert!(nothing_yet
            .unwrap_err()
            .to_string()
            .ends_with("no window has been recognized yet"),);
    }
}
