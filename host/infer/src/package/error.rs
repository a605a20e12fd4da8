//! What can be wrong with a model package, each case naming the file and the field.

use std::path::PathBuf;

/// Why a model package was refused at load. Every variant names the file; the ones about
/// content also name the field and say what was expected, so a user can fix the package
/// without reading code.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A file the package must hold is not there.
    #[error("{file}: missing (a model package holds model.json, model.onnx and head.safetensors)")]
    Missing {
        /// The missing file.
        file: PathBuf,
    },
    /// A file exists but could not be read.
    #[error("{file}: cannot read")]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// model.json is not valid JSON.
    #[error("{file}: not valid JSON")]
    NotJson {
        /// The file.
        file: PathBuf,
        /// The parser's error (line and column).
        #[source]
        source: serde_json::Error,
    },
    /// model.onnx is not an ONNX protobuf.
    #[error("{file}: not an ONNX model: {message}")]
    NotOnnx {
        /// The file.
        file: PathBuf,
        /// The decoder's message.
        message: String,
    },
    /// head.safetensors is not a safetensors file.
    #[error("{file}: not a safetensors file")]
    NotSafetensors {
        /// The file.
        file: PathBuf,
        /// The reader's error.
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// A field is absent, of the wrong type, or disagrees with another part of the package.
    #[error("{file}: field `{field}`: expected {expected}, found {found}")]
    Field {
        /// The file holding the field.
        file: PathBuf,
        /// Where the field is: a dotted JSON path for model.json (`head.feat_dim`), the
        /// input/output or tensor name for model.onnx and head.safetensors.
        field: String,
        /// What was expected, in words.
        expected: String,
        /// What the file holds.
        found: String,
    },
}

impl PackageError {
    /// The field this error is about, for callers (and tests) that react to one field.
    pub fn field(&self) -> Option<&str> {
        match self {
            PackageError::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The file this error is about.
    pub fn file(&self) -> &std::path::Path {
        match self {
            PackageError::Missing { file }
            | PackageError::Unreadable { file, .. }
            | PackageError::NotJson { file, .. }
            | PackageError::NotOnnx { file, .. }
            | PackageError::NotSafetensors { file, .. }
            | PackageError::Field { file, .. } => file,
        }
    }
}
