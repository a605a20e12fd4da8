//! Errors of opening an engine and classifying a window.

/// Why an engine could not be opened or a window not classified. `Send + Sync`: engine
/// errors that are not (ort's) are kept as their message.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// The engine failed to load, optimize or run the model.
    #[error("{engine} engine: {message}")]
    Engine {
        /// "tract" or "ort".
        engine: &'static str,
        /// The engine's error chain, as text.
        message: String,
    },
    /// The engine asked for was not compiled into this build.
    #[error(
        "the {engine} engine is not in this build (enable dagr-infer's cargo feature `{engine}`)"
    )]
    NotBuilt {
        /// The engine's name.
        engine: &'static str,
    },
    /// ONNX Runtime's library could not be found or loaded.
    #[error("ONNX Runtime library: {0}")]
    OrtLibrary(String),
    /// A window's tensor does not have the length the model's input shape gives.
    #[error(
        "input `{modality}`: expected {expected} values (the model's input shape), found {found}"
    )]
    InputLength {
        /// The input's name.
        modality: &'static str,
        /// The product of the model's input shape.
        expected: usize,
        /// The slice's length.
        found: usize,
    },
    /// An engine output does not have the length model.json promised.
    #[error("output `{output}`: expected {expected} values, found {found}")]
    OutputLength {
        /// The output's name.
        output: &'static str,
        /// The length from model.json.
        expected: usize,
        /// What the engine returned.
        found: usize,
    },
    /// The native head refused its inputs or parameters.
    #[error("head")]
    Head(#[from] dagr_head::HeadError),
}
