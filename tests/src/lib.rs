//! Shared helpers for the end-to-end tests: where the real recordings are, how to run
//! the independent Python implementations (csiread, llrpkit, sllurp) that .ci/run installs,
//! the workspace's own programs ([`binaries`], [`dagr_cli`]), socat-joined serial paths ([`pty_link`]),
//! the LLRP reader emulator ([`llrp_emulator`]), what a node's recording must show
//! ([`node_capture`]), guarded child processes ([`process`]), a TCP port reserved for a
//! test, refusing connections while nothing listens on it ([`reserved_port`]) and what the live-gateway tests share: the served
//! room, followed output lines, HTTP polling ([`live_run`]).
#![forbid(unsafe_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod binaries;
pub mod dagr_cli;
pub mod live_run;
pub mod llrp_emulator;
pub mod node_capture;
pub mod process;
pub mod pty_link;
pub mod reserved_port;

/// The folder of real device recordings: `$DAGR_FIXTURES`, else `../shared/fixtures/real`
/// beside the checkout (where CI puts it).
pub fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DAGR_FIXTURES") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/real")
}

/// Reads one recording, failing the test with a message that says where it looked.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The Python interpreter of the peers' venv: `$DAGR_PYTHON`, else
/// `$HOME/.cache/dagr/venv/bin/python` (what .ci/run creates).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("DAGR_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/dagr/venv/bin/python")
}

/// Runs a Python script from `tests/peers/` with arguments; returns its standard output.
/// Panics with the script's standard error when it fails (a test failure, not a skip: the
/// peers are part of the test environment .ci/run builds).
pub fn run_peer(script: &str, args: &[&str]) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("peers")
        .join(script);
    let out = Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} with {}: {e} (run .ci/run once to create the venv)",
                path.display(),
                python().display()
            )
        });
    assert!(
        out.status.success(),
        "{} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A test's scratch directory: a `tempfile::TempDir` (unique, removed when dropped, so a
/// test leaves nothing in /tmp whether it passes or fails) that reads as a `Path`. Keep it
/// alive (a named binding, not a temporary) while its files are used.
#[derive(Debug)]
pub struct ScratchDir(tempfile::TempDir);

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh, empty scratch directory for the test tagged `tag` (named `dagr-tests-TAG-...`).
pub fn scratch_dir(tag: &str) -> ScratchDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("dagr-tests-{tag}-"))
        .tempdir()
        .expect("create scratch dir");
    ScratchDir(dir)
}

/// A file in a scratch directory of its own; both go away when it is dropped. Derefs to
/// the file's path.
#[derive(Debug)]
pub struct ScratchFile {
    _dir: ScratchDir,
    path: PathBuf,
}

impl std::ops::Deref for ScratchFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for ScratchFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// `bytes` written to `name` in a fresh scratch directory for the test tagged `tag`.
pub fn scratch_file(tag: &str, name: &str, bytes: &[u8]) -> ScratchFile {
    let dir = scratch_dir(tag);
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write scratch file");
    ScratchFile { _dir: dir, path }
}
