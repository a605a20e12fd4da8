//! The workspace's programs under test (`dagr`, `dagr-node-sim`), found beside the test
//! executable and built once if missing.
//!
//! Cargo gives `CARGO_BIN_EXE_*` only to tests of the package that owns a binary; these
//! tests live in another package, so they look in the target directory the test runs
//! from (`target/<profile>/deps/<test>` -> `target/<profile>/`). `cargo test --workspace`
//! builds both binaries before running any test; when one is missing (`cargo test -p
//! dagr-tests`), it is built once per test process into a target directory of its own, so
//! the build does not wait on the lock of the `cargo test` that is running us.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A binary of the workspace and the cargo arguments that build it.
struct Binary {
    name: &'static str,
    build: &'static [&'static str],
}

const DAGR: Binary = Binary {
    name: "dagr",
    build: &["-p", "dagr-host", "--bin", "dagr"],
};

const NODE_SIM: Binary = Binary {
    name: "dagr-node-sim",
    build: &[
        "-p",
        "dagr-firmware",
        "--features",
        "std",
        "--bin",
        "dagr-node-sim",
    ],
};

/// The `dagr` command line.
pub fn dagr() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| locate(&DAGR)).clone()
}

/// The simulated sensor node, `dagr-node-sim`.
pub fn node_sim() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| locate(&NODE_SIM)).clone()
}

/// `target/<profile>` of the running test executable.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable sits in target/<profile>/deps")
        .to_path_buf()
}

fn locate(binary: &Binary) -> PathBuf {
    let beside = profile_dir().join(binary.name);
    if beside.is_file() {
        return beside;
    }
    build(binary)
}

/// Builds `binary` into `target/<profile>/dagr-tests-bins` and returns its path.
fn build(binary: &Binary) -> PathBuf {
    let profile = profile_dir();
    let release = profile.file_name().is_some_and(|n| n == "release");
    let target_dir = profile
        .parent()
        .expect("target/<profile> has a parent")
        .join("dagr-tests-bins");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .args(binary.build)
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if release {
        command.arg("--release");
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build {}: {e}", binary.name));
    assert!(
        status.success(),
        "building {} failed: {status}",
        binary.name
    );
    let built = target_dir
        .join(if release { "release" } else { "debug" })
        .join(binary.name);
    assert!(built.is_file(), "cargo built no {}", built.display());
    built
}
