//! What every integration test module needs to run the `dagr` binary as a user does: the
//! command, a scratch directory that goes away with the test, the peers' Python, and
//! stdout read as JSON lines. One copy here instead of one per module.
#![allow(dead_code)] // each module uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `dagr` binary this test build made, as a command to add arguments to.
pub fn dagr() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dagr"))
}

/// Runs `dagr ARGS` to the end and returns what it did, success or not.
pub fn run(args: &[&str]) -> Output {
    dagr().args(args).output().expect("run dagr")
}

/// Runs `dagr ARGS`, expecting success; the failure message carries dagr's stderr.
pub fn run_ok(args: &[&str]) -> Output {
    ok(run(args))
}

/// `out`, after asserting the run succeeded (its stderr in the failure message).
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "dagr failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A test's scratch directory: a `tempfile::TempDir` (unique, removed when the test ends,
/// passed or failed) that reads as a `Path`.
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh, empty scratch directory for the test called `test` (its name starts with
/// `dagr-TEST-`, so a leftover says whose it was).
pub fn scratch(test: &str) -> Scratch {
    let dir = tempfile::Builder::new()
        .prefix(&format!("dagr-{test}-"))
        .tempdir()
        .expect("create scratch dir");
    Scratch(dir)
}

/// `bytes` written to `name` in a fresh scratch directory for the test called `test`:
/// the directory (removed when dropped: keep it alive while the file is used) and the path.
pub fn scratch_file(test: &str, name: &str, bytes: &[u8]) -> (Scratch, PathBuf) {
    let dir = scratch(test);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// The peers' Python (numpy, csiread, mcap...): `$DAGR_PYTHON`, else the venv .ci/run
/// creates.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("DAGR_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/dagr/venv/bin/python")
}

/// The peers' Python with tests/peers on its module path (the shared numpy readers).
pub fn python_with_peers() -> Command {
    let mut cmd = Command::new(python());
    cmd.env(
        "PYTHONPATH",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers"),
    );
    cmd
}

/// One JSON value per stdout line.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
