//! `dagr decode`: a recorded byte stream to records.
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use dagr_host::decode::{self, Format};

use super::is_broken_pipe;

/// Decodes `file` as `format` and prints its records.
pub fn run(format: Format, file: &Path, json: bool) -> ExitCode {
    let name = file.display().to_string();
    let mut input: Box<dyn io::Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        match File::open(file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("dagr decode: cannot open {name}: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let report = match decode::decode(format, &mut input, json, &mut out) {
        Ok(r) => r,
        Err(e) if is_broken_pipe(&e) => return ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("dagr decode: {name}: {e:#}");
            return ExitCode::from(2);
        }
    };
    let s = report.stats;
    if s.bytes_skipped > 0 || s.frames_rejected > 0 {
        let why = s
            .last_error
            .map(|e| format!(" (last: {e})"))
            .unwrap_or_default();
        eprintln!(
            "dagr decode: {name}: {} records; skipped {} bytes, rejected {} frames{why}",
            report.records, s.bytes_skipped, s.frames_rejected
        );
    }
    if report.records == 0 && s.bytes_in > 0 {
        eprintln!(
            "dagr decode: {name}: no {format:?} records found in {} bytes",
            s.bytes_in
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
