//! The inference engines behind one interface: tract (pure Rust, the default) and ONNX
//! Runtime through `ort` (cargo feature `ort`). An engine runs the ONNX model for one window
//! at batch 1, up to the backbone features (and the exported head's `logits` when asked),
//! and hands back its outputs; what is done with them is the classifier's.

#[cfg(feature = "ort")]
mod graph_cut;
#[cfg(feature = "ort")]
mod ort;
#[cfg(feature = "ort")]
pub use self::ort::ORT_DYLIB_PATH;
mod tract;
mod vector_state;
pub use self::vector_state::clear_upper_halves;

use crate::package::ModelPackage;
use crate::{InferError, WindowInput};

/// Which engine runs the ONNX model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// tract-onnx, optimized once for batch 1 (pure Rust, always built).
    Tract,
    /// ONNX Runtime loaded from `ORT_DYLIB_PATH` (only with cargo feature `ort`).
    Ort,
}

impl EngineKind {
    /// The engine's name, as in errors and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Tract => "tract",
            EngineKind::Ort => "ort",
        }
    }
}

/// An engine name that is neither `tract` nor `ort` (from a config file or the command line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine `{0}` (expected `tract` or `ort`)")]
pub struct UnknownEngine(pub String);

impl std::str::FromStr for EngineKind {
    type Err = UnknownEngine;

    /// `tract` or `ort`, as a config file or `--engine` spells them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tract" => Ok(EngineKind::Tract),
            "ort" => Ok(EngineKind::Ort),
            _ => Err(UnknownEngine(s.to_string())),
        }
    }
}

/// How to open an engine, beyond which one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineOptions {
    /// Intra-op threads ONNX Runtime may use for one window (`None`: its default, one per
    /// physical core). tract always runs a window on the calling thread.
    pub threads: Option<usize>,
    /// Whether to compute the ONNX `logits` too (the exported head, over the `present`
    /// input), for checks of the native head against it. Off, the engine runs only the
    /// graph up to `feat_*`, which is all the classifier uses (the exported head's ~60 small
    /// nodes were 7 % of tract's window).
    pub onnx_logits: bool,
}

impl EngineOptions {
    /// Indices into [`OUTPUT_NAMES`] of the outputs an engine opened with these options
    /// computes.
    pub(crate) fn outputs(&self) -> std::ops::Range<usize> {
        let first = if self.onnx_logits { 0 } else { 1 };
        first..OUTPUT_NAMES.len()
    }
}

/// The model's outputs for one window, in buffers an engine refills on every run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineOutputs {
    /// The ONNX `logits` (the exported head's; the classifier uses the native head's);
    /// empty unless the engine was opened with [`EngineOptions::onnx_logits`].
    pub logits: Vec<f32>,
    /// `feat_mmwave`, `feat_wifi`, `feat_rfid`: the backbone features the head takes.
    pub features: [Vec<f32>; 3],
}

impl EngineOutputs {
    /// The buffer of output `k` of [`OUTPUT_NAMES`].
    pub(crate) fn buffer(&mut self, k: usize) -> &mut Vec<f32> {
        match k {
            0 => &mut self.logits,
            m => &mut self.features[m - 1],
        }
    }
}

/// An engine holding one loaded model, ready to run window after window.
pub trait Engine: Send {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// Runs the model on one window and writes its outputs into `out` (resized as needed,
    /// so after the first call no allocation is needed for the outputs).
    fn run(&mut self, input: &WindowInput<'_>, out: &mut EngineOutputs) -> Result<(), InferError>;
}

/// Opens `kind` on the package's model. tract optimizes the model here (once); ort creates
/// its session here.
pub fn open_engine(
    pkg: &ModelPackage,
    kind: EngineKind,
    options: &EngineOptions,
) -> Result<Box<dyn Engine>, InferError> {
    match kind {
        EngineKind::Tract => Ok(Box::new(tract::TractEngine::open(pkg, options)?)),
        #[cfg(feature = "ort")]
        EngineKind::Ort => Ok(Box::new(ort::OrtEngine::open(pkg, options)?)),
        #[cfg(not(feature = "ort"))]
        EngineKind::Ort => {
            let _ = options;
            Err(InferError::NotBuilt { engine: "ort" })
        }
    }
}

/// The output names in `EngineOutputs` order: logits, then the features in modality order.
pub const OUTPUT_NAMES: [&str; 4] = ["logits", "feat_mmwave", "feat_wifi", "feat_rfid"];

/// The ONNX input names in model order (`present` last).
pub const INPUT_NAMES: [&str; 4] = ["mmwave", "wifi", "rfid", "present"];

/// Copies one output into its buffer after checking its length.
pub(crate) fn store(
    name: &'static str,
    values: &[f32],
    expected: usize,
    out: &mut Vec<f32>,
) -> Result<(), InferError> {
    if values.len() != expected {
        return Err(InferError::OutputLength {
            output: name,
            expected,
            found: values.len(),
        });
    }
    out.clear();
    out.extend_from_slice(values);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_parse_back() {
        for kind in [EngineKind::Tract, EngineKind::Ort] {
            assert_eq!(kind.name().parse::<EngineKind>(), Ok(kind));
        }
        let err = "onnx".parse::<EngineKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown engine `onnx` (expected `tract` or `ort`)"
        );
    }
}
