//! Why an adaptation was refused or failed; each case names the file, field or class and
//! what was expected, so the user can fix the input without reading code.
use std::path::PathBuf;

use crate::output::OutputError;
use crate::recognize::replay::ReplayError;
use crate::recognize::RecognizeError;

/// A refused or failed adaptation. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum AdaptError {
    /// A length or shape disagrees with the head's: features of the wrong length, or a head
    /// (parameters, cached features) from another model.
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// What was measured (`feat_wifi of a window`, `head parameters`...).
        what: String,
        /// What the head needs.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A window's class index is not one of the head's classes.
    #[error("label {label}: the head has {classes} classes (0 to {})", classes.saturating_sub(1))]
    Label {
        /// The class index given.
        label: u16,
        /// The head's class count.
        classes: usize,
    },
    /// There is no labeled window to adapt on.
    #[error("no labeled window to adapt on")]
    NoWindows,
    /// model.json's adaptation-relevant field is missing or out of its domain.
    #[error("{}: field `{field}`: expected {expected}, found {found}", file.display())]
    Setting {
        /// model.json.
        file: PathBuf,
        /// A dotted JSON path (`dagr.tau_d`).
        field: String,
        /// What was expected.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// The head trainer refused its input or settings.
    #[error("training the head")]
    Train(#[source] dagr_head::TrainError),
    /// A capture has no label annotations.
    #[error(
        "{}: no labels (adapting needs labeled captures: `dagr sim --out` writes them, \
         `dagr inspect` counts a capture's labels)",
        file.display()
    )]
    NoLabels {
        /// The capture.
        file: PathBuf,
    },
    /// A capture's label names a class the model does not have.
    #[error(
        "{}: label {start:.2}-{end:.2} s: class `{class}` is not one of the model's classes \
         ({known})",
        file.display()
    )]
    UnknownClass {
        /// The capture.
        file: PathBuf,
        /// The label's class.
        class: String,
        /// The label's start, s.
        start: f64,
        /// The label's end, s.
        end: f64,
        /// The model's classes, comma-separated.
        known: String,
    },
    /// A labeled class got no window: no window's centre lies in its labels.
    #[error(
        "class `{class}` is labeled in {files} but no window has its centre inside those \
         labels (windows are {window_s} s every {hop_s} s: label spans need data around them)"
    )]
    ClassWithoutWindows {
        /// The class.
        class: String,
        /// The captures labeling it.
        files: String,
        /// The model's window length, s.
        window_s: f64,
        /// The model's hop, s.
        hop_s: f64,
    },
    /// The package in model.onnx holds another head than head.safetensors.
    #[error(
        "{}: head.safetensors is not the head inside model.onnx (parameter {index}: {safetensors} \
         vs {onnx}): a head from another model cannot be adapted on this backbone",
        dir.display()
    )]
    ForeignHead {
        /// The package directory.
        dir: PathBuf,
        /// The first differing flat parameter index.
        index: usize,
        /// Its value in head.safetensors.
        safetensors: f32,
        /// Its value in model.onnx.
        onnx: f32,
    },
    /// The model package cannot be opened for recognition.
    #[error(transparent)]
    Recognize(Box<RecognizeError>),
    /// A capture could not be replayed.
    #[error(transparent)]
    Replay(Box<ReplayError>),
    /// The source package could not produce the adapted package's files.
    #[error("model package {}", dir.display())]
    Package {
        /// The source package's directory.
        dir: PathBuf,
        /// What is wrong (names the file and field).
        #[source]
        source: Box<dagr_infer::PackageError>,
    },
    /// The adapted package, written, does not load back as written.
    #[error("{}: the written package does not load back with the adapted head: {problem}", out.display())]
    Verify {
        /// The output directory.
        out: PathBuf,
        /// What differs.
        problem: String,
    },
    /// The output could not be created or put in place.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A file of the package could not be written.
    #[error("{}: cannot write", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl From<dagr_head::TrainError> for AdaptError {
    fn from(e: dagr_head::TrainError) -> Self {
        AdaptError::Train(e)
    }
}

impl From<RecognizeError> for AdaptError {
    fn from(e: RecognizeError) -> Self {
        AdaptError::Recognize(Box::new(e))
    }
}

impl From<ReplayError> for AdaptError {
    fn from(e: ReplayError) -> Self {
        AdaptError::Replay(Box::new(e))
    }
}
