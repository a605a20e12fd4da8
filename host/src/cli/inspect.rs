//! `dagr inspect`: a capture's per-stream report.
use std::io::{self, Write};
use std::path::Path;

use dagr_host::capture::inspect::inspect;

use super::{Failure, Outcome};

/// Prints the report of `file` (JSON or human); the truncation warning goes to stderr, and
/// a damaged file's loss ends with exit 3 after the report.
pub fn run(file: &Path, json: bool) -> Outcome {
    let inspection = inspect(file)?;
    let text = if json {
        format!("{}\n", inspection.to_json())
    } else {
        inspection.summary()
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = io::stdout().lock().write_all(text.as_bytes());
    if let Some(warning) = &inspection.warning {
        eprintln!("dagr inspect: warning: {warning}");
    }
    match inspection.lost {
        Some(lost) => Err(Failure::DataLost(lost)),
        None => Ok(()),
    }
}
