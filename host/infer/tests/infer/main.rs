//! dagr-infer's tests against the committed reference package (models/reference/): the
//! package checks on corrupted copies of it, and numeric parity of the engines and the
//! native head with the stored outputs (parity/*.npz). One test binary, so the crate and
//! tract link once.

mod package;
mod parity;

use std::path::PathBuf;

/// The committed reference model package.
fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/reference")
}
