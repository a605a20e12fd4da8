//! Inference for the dagr-edge gateway: the model package reader ([`ModelPackage`]), the
//! engines that run the ONNX backbone ([`Engine`]: tract by default, ONNX Runtime with the
//! cargo feature `ort`), and the [`Classifier`] that puts the native head (`dagr-head`) on
//! the backbone's features.
//!
//! This crate knows model files and tensors; it must not know devices, windows in time or
//! preprocessing (the host turns windows into [`WindowInput`]s and compares its own
//! preprocessing spec with [`ModelPackage::preprocess_spec`]).
// `deny`, not `forbid`: one function may use `unsafe`, `engine::vector_state::clear_upper_halves`
// (the `vzeroupper` that tract's x86-64 kernels leave out).
#![deny(unsafe_code)]

mod classifier;
mod engine;
mod error;
mod input;
mod package;

pub use classifier::{Classifier, Scores};
#[cfg(feature = "ort")]
pub use engine::ORT_DYLIB_PATH;
pub use engine::{
    clear_upper_halves, open_engine, Engine, EngineKind, EngineOptions, EngineOutputs,
    UnknownEngine, INPUT_NAMES, OUTPUT_NAMES,
};
pub use error::InferError;
pub use input::WindowInput;
pub use package::{ModelPackage, PackageError, FORMAT, MODALITY_NAMES};

#[cfg(test)]
mod tests {
    use super::*;

    /// Compile-time: errors cross threads (the gateway reports them from worker threads),
    /// and a classifier can be moved into the inference thread.
    #[test]
    fn errors_are_send_and_sync_and_the_classifier_is_send() {
        fn send_sync<T: Send + Sync + std::error::Error + 'static>() {}
        fn send<T: Send>() {}
        send_sync::<InferError>();
        send_sync::<PackageError>();
        send::<Classifier>();
        send::<ModelPackage>();
    }
}
