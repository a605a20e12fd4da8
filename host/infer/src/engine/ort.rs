//! The ONNX Runtime engine (cargo feature `ort`): the library is loaded at run time from
//! `ORT_DYLIB_PATH` (the libonnxruntime.so the onnxruntime wheel ships), one environment per
//! process, one session per engine with every graph optimization on.

use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use super::{
    graph_cut, store, Engine, EngineKind, EngineOptions, EngineOutputs, INPUT_NAMES, OUTPUT_NAMES,
};
use crate::package::ModelPackage;
use crate::{InferError, WindowInput};

/// The environment variable naming the ONNX Runtime library to load.
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// ONNX Runtime running one model at batch 1.
pub(crate) struct OrtEngine {
    session: Session,
    /// Input shapes with the batch axis (1), in `INPUT_NAMES` order.
    input_shapes: [Vec<usize>; 4],
    /// Expected output lengths, in `OUTPUT_NAMES` order.
    output_lens: [usize; 4],
    /// The outputs computed (indices into `OUTPUT_NAMES`): the session's graph was cut
    /// after them, so a run returns exactly these.
    outputs: std::ops::Range<usize>,
}

/// ort's errors are not `Send + Sync`: keep their message.
fn engine_error(e: impl std::fmt::Display) -> InferError {
    InferError::Engine {
        engine: "ort",
        message: e.to_string(),
    }
}

/// The process's ONNX Runtime environment, created on first use from `ORT_DYLIB_PATH`.
fn environment() -> Result<&'static Environment, InferError> {
    static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            let path = std::env::var_os(ORT_DYLIB_PATH)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    format!("{ORT_DYLIB_PATH} is not set (it names the libonnxruntime.so to load, e.g. the one in the onnxruntime wheel's onnxruntime/capi/)")
                })?;
            let builder = ort::init_from(&path).map_err(|e| format!("{}: {e}", path.to_string_lossy()))?;
            builder.with_name("dagr").build().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| InferError::OrtLibrary(message.clone()))
}

impl OrtEngine {
    /// Creates the session (all graph optimizations; `options.threads` intra-op threads, or
    /// ONNX Runtime's default of one per physical core).
    pub(crate) fn open(
        pkg: &ModelPackage,
        options: &EngineOptions,
    ) -> Result<OrtEngine, InferError> {
        let env = environment()?;
        let mut builder = Session::builder(env)
            .map_err(engine_error)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(engine_error)?;
        if let Some(threads) = options.threads {
            builder = builder.with_intra_threads(threads).map_err(engine_error)?;
        }
        let outputs = options.outputs();
        let model =
            graph_cut::encoded_with_outputs(pkg.onnx_proto(), &OUTPUT_NAMES[outputs.clone()]);
        let session = builder.commit_from_memory(&model).map_err(engine_error)?;
        let with_batch = |shape: &[usize]| [&[1][..], shape].concat();
        let feat = pkg.head_shape().feat_dim;
        Ok(OrtEngine {
            session,
            input_shapes: [
                with_batch(pkg.input_shape(0)),
                with_batch(pkg.input_shape(1)),
                with_batch(pkg.input_shape(2)),
                vec![1, 3],
            ],
            output_lens: [pkg.classes().len(), feat, feat, feat],
            outputs,
        })
    }
}

impl Engine for OrtEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Ort
    }

    fn run(&mut self, input: &WindowInput<'_>, out: &mut EngineOutputs) -> Result<(), InferError> {
        let lens = [0, 1, 2].map(|m| self.input_shapes[m][1..].iter().product());
        input.check_lengths(lens)?;
        let present = input.present_mask();
        let data = [input.mmwave, input.wifi, input.rfid, &present[..]];
        let mut inputs = Vec::with_capacity(INPUT_NAMES.len());
        for ((name, shape), values) in INPUT_NAMES.iter().zip(&self.input_shapes).zip(data) {
            let tensor =
                TensorRef::from_array_view((shape.as_slice(), values)).map_err(engine_error)?;
            inputs.push((*name, tensor));
        }
        let outputs = self.session.run(inputs).map_err(engine_error)?;
        out.logits.clear();
        for k in self.outputs.clone() {
            let name = OUTPUT_NAMES[k];
            let value = outputs
                .get(name)
                .ok_or_else(|| engine_error(format!("no output `{name}`")))?;
            let (_, values) = value.try_extract_tensor::<f32>().map_err(engine_error)?;
            store(name, values, self.output_lens[k], out.buffer(k))?;
        }
        Ok(())
    }
}
