//! `dagr dataset export`: labeled captures to training data, through the same path the
//! gateway takes (decoders, clock models, synchronizer, [`preprocess`]), so a model is
//! trained on exactly what it will see live.
//!
//! # Output (one directory)
//! - `<capture stem>.safetensors` per capture ([`shard`]): per window `wifi`, `rfid`,
//!   `mmwave`, `present` (float32, shapes as in the spec, batch first), `label`, `room`,
//!   `subject` (int64) and `start_s` (float64); safetensors metadata holds the capture path,
//!   room, subject and the spec as JSON. A capture without a labeled window writes no file.
//! - `dataset.json` ([`manifest`]): classes, per-sample shapes, the [`PreprocessSpec`], the
//!   labeling rule, per file its capture, room, subject and counts, and totals per class,
//!   room, subject and present modality.
//! - `splits.json` ([`manifest::Splits`]): a split by room and one by subject.
//!
//! [`xrf55`] loads samples of the published XRF55 dataset ([`npy`] reads its files).
//!
//! # Labels
//! A window takes the class of the capture label covering its centre (`start ≤ c < end`).
//! Windows whose centre no label covers are skipped (counted as `unlabeled`): nothing says
//! what happened then, and "nobody there" is a class of its own (`empty_room`) that the
//! simulator labels explicitly. Labels naming a class outside [`class_names`] are skipped too
//! (counted as `unknown_class`). Classes are [`crate::classes`] in their fixed order, so
//! class indices are stable across exports.
//!
//! # Room and subject
//! From the capture metadata `sim_room` / `sim_subject` that `dagr sim` writes; -1 when a
//! capture does not say (a real recording).
//!
//! Export must not know the simulator (it reads captures, whoever wrote them) nor devices:
//! its classes come from [`crate::classes`], its windows from [`crate::pipeline`].
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::capture::{seconds, CaptureError, CaptureReader, Label, META_ROOM, META_SUBJECT};
pub use crate::classes::class_names;
use crate::preprocess::{preprocess, PreprocessSpec};

pub mod manifest;
pub mod npy;
pub mod shard;
pub mod windows;
pub mod xrf55;

use manifest::{FileEntry, Manifest, Splits};
use shard::{SampleTags, Shard};

/// Name of the manifest file.
pub const MANIFEST_FILE: &str = "dataset.json";
/// Name of the split file.
pub const SPLITS_FILE: &str = "splits.json";

/// Why an export failed: the file, and the fault.
#[derive(Debug, thiserror::Error)]
#[error("{}: {fault}", path.display())]
pub struct DatasetError {
    /// The capture or output file.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub fault: DatasetFault,
}

/// What went wrong while exporting.
#[derive(Debug, thiserror::Error)]
pub enum DatasetFault {
    /// A capture could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The output could not be written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The manifest or a shard's metadata could not be encoded.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A shard could not be laid out; the text says why.
    #[error("{0}")]
    Shard(String),
}

impl DatasetError {
    fn new(path: &Path, fault: impl Into<DatasetFault>) -> Self {
        DatasetError {
            path: path.to_path_buf(),
            fault: fault.into(),
        }
    }
}

/// Exports `captures` into `out` (created if missing) with windows per `spec`; writes the
/// shards, `dataset.json` and `splits.json`, and returns the manifest. Warnings (a capture
/// cut short) are in the manifest's file entries.
pub fn export(
    captures: &[PathBuf],
    out: &Path,
    spec: &PreprocessSpec,
) -> Result<Manifest, DatasetError> {
    std::fs::create_dir_all(out).map_err(|e| DatasetError::new(out, e))?;
    let classes = class_names();
    let mut manifest = Manifest::new(spec.clone(), &classes);
    for (i, capture) in captures.iter().enumerate() {
        let stem = capture.file_stem().map_or_else(
            || format!("capture-{i}"),
            |s| s.to_string_lossy().into_owned(),
        );
        let mut name = format!("{stem}.safetensors");
        if manifest.files.iter().any(|f| f.file == name) {
            name = format!("{stem}-{i}.safetensors");
        }
        let entry = export_capture(capture, &out.join(&name), &name, spec, &classes)?;
        manifest.add(entry);
    }
    let splits = Splits::by_room_and_subject(&manifest.files);
    write_json(&out.join(MANIFEST_FILE), &manifest)?;
    write_json(&out.join(SPLITS_FILE), &splits)?;
    Ok(manifest)
}

/// One capture to one shard file `path` (named `name` in the manifest).
fn export_capture(
    capture: &Path,
    path: &Path,
    name: &str,
    spec: &PreprocessSpec,
    classes: &[&str],
) -> Result<FileEntry, DatasetError> {
    let (_, labels) = CaptureReader::catalog(capture).map_err(|e| DatasetError::new(capture, e))?;
    let mut entry = FileEntry::new(name, capture);
    let mut shard = Shard::default();
    let config = windows::sync_config(spec.window_s, spec.hop_s);
    let (tally, metadata) = windows::replay_windows(capture, config, &mut |window| {
        let centre = seconds(window.start_ns + (window.end_ns - window.start_ns) / 2);
        let Some(label) = label_at(&labels, centre) else {
            entry.unlabeled += 1;
            return;
        };
        let Some(class) = classes.iter().position(|c| *c == label.class) else {
            entry.unknown_class += 1;
            return;
        };
        let tensors = preprocess(window, spec);
        entry.count(classes[class], &tensors.present);
        shard.push(
            &tensors,
            SampleTags {
                label: class as i64,
                start_s: seconds(window.start_ns),
            },
        );
    })
    .map_err(|e| DatasetError::new(capture, e))?;
    let ids = (id_of(&metadata, META_ROOM), id_of(&metadata, META_SUBJECT));
    entry.room = ids.0;
    entry.subject = ids.1;
    entry.records = tally.records;
    entry.warning = tally.warning;
    entry.lost = tally.lost;
    if shard.is_empty() {
        entry.file.clear();
        return Ok(entry);
    }
    let info = HashMap::from([
        ("capture".to_string(), capture.display().to_string()),
        ("room".to_string(), ids.0.to_string()),
        ("subject".to_string(), ids.1.to_string()),
        (
            "spec".to_string(),
            serde_json::to_string(spec).map_err(|e| DatasetError::new(path, e))?,
        ),
    ]);
    shard
        .write(path, &spec.shapes, ids, info)
        .map_err(|e| DatasetError::new(path, DatasetFault::Shard(e)))?;
    Ok(entry)
}

/// The label covering `t` (s), the latest-starting one if several do.
pub fn label_at(labels: &[Label], t: f64) -> Option<&Label> {
    labels
        .iter()
        .filter(|l| l.start <= t && t < l.end)
        .max_by(|a, b| a.start.total_cmp(&b.start))
}

/// A numeric id from capture metadata, -1 when missing or not a number.
fn id_of(metadata: &std::collections::BTreeMap<String, String>, key: &str) -> i64 {
    metadata.get(key).and_then(|v| v.parse().ok()).unwrap_or(-1)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), DatasetError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| DatasetError::new(path, e))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| DatasetError::new(path, e))
}

#[cfg(all(test, feature = "sim"))]
mod tests;
