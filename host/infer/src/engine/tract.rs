//! The tract engine: the ONNX model decoded once, its input facts fixed to batch 1,
//! optimized (tract's declutter and codegen passes) and kept as a runnable plan with a
//! persistent state, so a window costs one `run` and no re-planning.

use tract_onnx::prelude::*;

use super::{store, Engine, EngineKind, EngineOutputs, INPUT_NAMES, OUTPUT_NAMES};
use crate::package::ModelPackage;
use crate::{InferError, WindowInput};

/// tract running one model at batch 1.
pub(crate) struct TractEngine {
    state: TypedSimpleState,
    /// Input shapes with the batch axis (1), in `INPUT_NAMES` order.
    input_shapes: [Vec<usize>; 4],
    /// Expected output lengths, in `OUTPUT_NAMES` order.
    output_lens: [usize; 4],
}

fn engine_error(e: impl std::fmt::Display) -> InferError {
    InferError::Engine {
        engine: "tract",
        message: e.to_string(),
    }
}

impl TractEngine {
    /// Builds the optimized plan for the package's model.
    pub(crate) fn open(pkg: &ModelPackage) -> Result<TractEngine, InferError> {
        let input_shapes = batch_one_shapes(pkg);
        let plan =
            optimized_plan(pkg, &input_shapes).map_err(|e| engine_error(format!("{e:#}")))?;
        let state = plan.spawn().map_err(|e| engine_error(format!("{e:#}")))?;
        let feat = pkg.head_shape().feat_dim;
        Ok(TractEngine {
            state,
            input_shapes,
            output_lens: [pkg.classes().len(), feat, feat, feat],
        })
    }
}

/// `[1, shape...]` of each input, `present` last.
fn batch_one_shapes(pkg: &ModelPackage) -> [Vec<usize>; 4] {
    let with_batch = |shape: &[usize]| [&[1][..], shape].concat();
    [
        with_batch(pkg.input_shape(0)),
        with_batch(pkg.input_shape(1)),
        with_batch(pkg.input_shape(2)),
        vec![1, 3],
    ]
}

/// The model with named inputs and outputs in our order, batch fixed to 1, optimized.
fn optimized_plan(
    pkg: &ModelPackage,
    input_shapes: &[Vec<usize>; 4],
) -> TractResult<Arc<TypedRunnableModel>> {
    let mut model = tract_onnx::onnx()
        .model_for_proto_model(pkg.onnx_proto())?
        .with_inputs_by_name(INPUT_NAMES)?
        .with_outputs_by_name(OUTPUT_NAMES)?;
    for (ix, shape) in input_shapes.iter().enumerate() {
        model.set_input_fact(ix, f32::fact(shape).into())?;
    }
    model.into_optimized()?.into_runnable()
}

impl Engine for TractEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Tract
    }

    fn run(&mut self, input: &WindowInput<'_>, out: &mut EngineOutputs) -> Result<(), InferError> {
        let lens = [0, 1, 2].map(|m| self.input_shapes[m][1..].iter().product());
        input.check_lengths(lens)?;
        let present = input.present_mask();
        let data = [input.mmwave, input.wifi, input.rfid, &present[..]];
        let mut inputs = TVec::new();
        for (shape, values) in self.input_shapes.iter().zip(data) {
            let tensor = Tensor::from_shape(shape, values).map_err(engine_error)?;
            inputs.push(tensor.into_tvalue());
        }
        let outputs = self
            .state
            .run(inputs)
            .map_err(|e| engine_error(format!("{e:#}")))?;
        let buffers = std::iter::once(&mut out.logits).chain(out.features.iter_mut());
        for (((name, value), buffer), &len) in OUTPUT_NAMES
            .iter()
            .zip(&outputs)
            .zip(buffers)
            .zip(&self.output_lens)
        {
            let view = value.try_as_plain_ram().map_err(engine_error)?;
            let values = view.as_slice::<f32>().map_err(engine_error)?;
            store(name, values, len, buffer)?;
        }
        Ok(())
    }
}
