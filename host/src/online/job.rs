//! One adaptation of the head on a running gateway, as `GET /adapt` shows it: whether one
//! runs and how far it is, and what the last one decided.
use std::time::Instant;

use serde_json::{json, Value};

/// What the adaptation side is doing now.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// No adaptation runs.
    Idle,
    /// An adaptation runs on a thread of its own.
    Running {
        /// Epochs done so far.
        epoch: u32,
        /// Epochs it runs at most.
        epochs: u32,
        /// Labeled windows it adapts on.
        windows: usize,
        /// The head version it starts from.
        from_head: u64,
        /// When it started.
        started: Instant,
    },
}

impl JobState {
    /// True while an adaptation runs.
    pub fn is_running(&self) -> bool {
        matches!(self, JobState::Running { .. })
    }

    /// `{"state": "idle"}` or `{"state": "running", "epoch", "epochs", "windows",
    /// "from_head", "running_s"}`.
    pub fn to_json(&self) -> Value {
        match self {
            JobState::Idle => json!({ "state": "idle" }),
            JobState::Running {
                epoch,
                epochs,
                windows,
                from_head,
                started,
            } => json!({
                "state": "running",
                "epoch": epoch,
                "epochs": epochs,
                "windows": windows,
                "from_head": from_head,
                "running_s": started.elapsed().as_secs_f64(),
            }),
        }
    }
}

/// Validation scores as JSON (`null` when there were no held-out windows).
pub fn scores_json(scores: Option<dagr_head::Scores>) -> Value {
    match scores {
        Some(s) => json!({ "accuracy": s.accuracy, "loss": s.loss }),
        None => Value::Null,
    }
}

/// Per-class counts keyed by class name.
pub fn per_class_json(classes: &[String], counts: &[usize]) -> Value {
    let object: serde_json::Map<String, Value> = classes
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| (c.clone(), json!(n)))
        .collect();
    Value::Object(object)
}
