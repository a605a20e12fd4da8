//! Running the `dagr` command line as a user would, and reading its JSON output.
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::binaries::dagr;
use crate::process::{run_ok, spawn_piped, ChildGuard};

/// Longest a one-shot command (inspect, replay --max, decode) may take: a guard against a
/// hang, not a speed check, so it allows for a debug build on a shared, overloaded machine
/// (a 77 s capture's `replay --max --json` took over 20 s at load average 14 on 2 cores).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Starts `dagr record --source URI... --out FILE --duration S` in the background.
pub fn start_record(sources: &[String], out: &Path, duration_s: f64) -> ChildGuard {
    let mut command = Command::new(dagr());
    command.arg("record");
    for source in sources {
        command.args(["--source", source]);
    }
    command
        .arg("--out")
        .arg(out)
        .args(["--duration", &duration_s.to_string()]);
    spawn_piped(&mut command)
}

/// Waits for a `dagr record` started by [`start_record`] to finish and checks it exited 0;
/// returns its standard error (the per-source summary).
pub fn finish_record(record: ChildGuard, timeout: Duration) -> String {
    let out = record.wait_output("dagr record", timeout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "dagr record failed with {}: {stderr}",
        out.status
    );
    stderr
}

/// `dagr inspect --json FILE`.
pub fn inspect(capture: &Path) -> Value {
    let out = run_ok(
        Command::new(dagr())
            .args(["inspect", "--json"])
            .arg(capture),
        COMMAND_TIMEOUT,
    );
    serde_json::from_slice(&out).expect("inspect --json prints one JSON object")
}

/// `dagr replay --max --json FILE`, one value per line.
pub fn replay(capture: &Path) -> Vec<Value> {
    json_lines(&run_ok(
        Command::new(dagr())
            .args(["replay", "--max", "--json"])
            .arg(capture),
        COMMAND_TIMEOUT,
    ))
}

/// `dagr decode --format FORMAT --json FILE`, one value per line.
pub fn decode(format: &str, file: &Path) -> Vec<Value> {
    json_lines(&run_ok(
        Command::new(dagr())
            .args(["decode", "--format", format, "--json"])
            .arg(file),
        COMMAND_TIMEOUT,
    ))
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect()
}
