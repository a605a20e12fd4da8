//! `dagr replay FILE.mcap --model DIR`: the capture's windows recognized, one prediction per
//! window on stdout (JSON lines with --json, human lines otherwise), each with the capture's
//! label when it has one; the score against the labels (accuracy, per-class recall,
//! confusion) on standard error.
use std::io::{self, BufWriter, Write};
use std::path::Path;

use dagr_host::recognize::replay::{recognize_capture, ReplayError};
use dagr_host::recognize::Recognizer;
use dagr_infer::EngineKind;

use super::{context, Failure, Outcome};

/// Recognizes every window of `file` with the model in `model`.
pub fn run(file: &Path, model: &Path, engine: EngineKind, json: bool) -> Outcome {
    let mut recognizer = Recognizer::open(model, engine)?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = recognize_capture(file, &mut recognizer, &mut |p| {
        if json {
            writeln!(out, "{}", p.to_json())
        } else {
            writeln!(out, "{p}")
        }
    });
    let summary = match result {
        Ok(summary) => summary,
        Err(ReplayError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        other => other.map_err(context("writing output"))?,
    }
    eprint!(
        "dagr replay: {}: model {}\n{}",
        file.display(),
        recognizer.package().name(),
        summary.tally
    );
    if let Some(warning) = &summary.capture.warning {
        eprintln!("dagr replay: warning: {warning}");
    }
    if let Some(lost) = summary.capture.lost {
        return Err(Failure::DataLost(lost));
    }
    Ok(())
}
