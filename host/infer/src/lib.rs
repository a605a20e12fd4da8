//! Inference for the dagr-edge gateway: the model package reader ([`ModelPackage`]), the
//! engines that run the ONNX backbone ([`Engine`]: tract by default, ONNX Runtime with the
//! cargo feature `ort`), and the [`Classifier`] that puts the native head (`dagr-head`) on
//! the backbone's features.
//!
//! This crate knows model files and tensors; it must not know devices, windows in time or
//! preprocessing (the host turns windows into [`WindowInput`]s and compares its own
//! preprocessing spec with [`ModelPackage::preprocess_spec`]).
#![forbid(unsafe_code)]

mod classifier;
mod engine;
mod error;
mod input;
mod package;

pub use classifier::{Classifier, Scores};
#[cfg(feature = "ort")]
pub use engine::ORT_DYLIB_PATH;
pub use engine::{open_engine, Engine, EngineKind, EngineOptions, EngineOutputs};
pub use error::InferError;
pub use input::WindowInput;
pub use package::{ModelPackage, PackageError, FORMAT, MODALITY_NAMES};
