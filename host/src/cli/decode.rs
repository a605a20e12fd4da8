//! `dagr decode`: a recorded byte stream to one line per decoded unit.
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use dagr_host::format::Format;
use dagr_host::print::print_stream;

use super::{context, Failure, Outcome};

/// Decodes `file` (`-`: standard input) as `format` and prints its units.
pub fn run(format: Format, file: &Path, json: bool) -> Outcome {
    let name = file.display().to_string();
    let mut input: Box<dyn io::Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(file).map_err(context(format!("cannot open {name}")))?)
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let report = match print_stream(format, &mut input, json, &mut out) {
        Ok(report) => report,
        Err(e) if e.is_broken_pipe() => return Ok(()),
        Err(e) => {
            let _ = out.flush();
            return Err(context(name)(e).into());
        }
    };
    let s = report.stats;
    if s.bytes_skipped > 0 || s.frames_rejected > 0 {
        let why = s
            .last_error
            .map(|e| format!(" (last: {e})"))
            .unwrap_or_default();
        eprintln!(
            "dagr decode: {name}: {} {}; skipped {} bytes, rejected {} frames{why}",
            report.units,
            format.units(),
            s.bytes_skipped,
            s.frames_rejected
        );
    }
    if s.bytes_in == 0 {
        return Err(Failure::NothingDecodable(format!(
            "{name}: empty (0 bytes)"
        )));
    }
    if report.units == 0 {
        return Err(Failure::NothingDecodable(format!(
            "{name}: no {} {} found in {} bytes",
            format.name(),
            format.units(),
            s.bytes_in
        )));
    }
    Ok(())
}
