//! The tract engine: the ONNX model decoded once, its input facts fixed to batch 1,
//! optimized (tract's declutter and codegen passes) and kept as a runnable plan with a
//! persistent state, so a window costs one `run` and no re-planning. The plan is run node by
//! node with the vector registers' upper halves cleared after each (`vzeroupper`, see
//! [`super::vector_state`]): tract's x86-64 kernels leave them dirty, which slowed the
//! legacy-SSE code after them, tract's own and the gateway's, several-fold.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::OpState;
use tract_onnx::tract_core::plan::EvalContext;

use super::vector_state::clear_upper_halves;
use super::{store, Engine, EngineKind, EngineOptions, EngineOutputs, INPUT_NAMES, OUTPUT_NAMES};
use crate::package::ModelPackage;
use crate::{InferError, WindowInput};

/// tract running one model at batch 1.
pub(crate) struct TractEngine {
    state: TypedSimpleState,
    /// Input shapes with the batch axis (1), in `INPUT_NAMES` order.
    input_shapes: [Vec<usize>; 4],
    /// Expected output lengths, in `OUTPUT_NAMES` order.
    output_lens: [usize; 4],
    /// The outputs the plan computes (indices into `OUTPUT_NAMES`).
    outputs: std::ops::Range<usize>,
}

fn engine_error(e: impl std::fmt::Display) -> InferError {
    InferError::Engine {
        engine: "tract",
        message: e.to_string(),
    }
}

impl TractEngine {
    /// Builds the optimized plan for the package's model, cut after the outputs `options`
    /// asks for (tract drops the nodes no output needs).
    pub(crate) fn open(
        pkg: &ModelPackage,
        options: &EngineOptions,
    ) -> Result<TractEngine, InferError> {
        let input_shapes = batch_one_shapes(pkg);
        let outputs = options.outputs();
        let plan = optimized_plan(pkg, &input_shapes, &OUTPUT_NAMES[outputs.clone()])
            .map_err(|e| engine_error(format!("{e:#}")))?;
        let state = plan.spawn().map_err(|e| engine_error(format!("{e:#}")))?;
        let feat = pkg.head_shape().feat_dim;
        Ok(TractEngine {
            state,
            input_shapes,
            output_lens: [pkg.classes().len(), feat, feat, feat],
            outputs,
        })
    }
}

/// One node of the plan as tract evaluates it, then the vector registers' upper halves
/// cleared: tract's kernels leave them dirty, which slows every legacy-SSE instruction after
/// them, tract's own code between kernels included (see [`clear_upper_halves`]).
fn eval_then_clear(
    ctx: &EvalContext,
    state: Option<&mut (dyn OpState + 'static)>,
    node: &TypedNode,
    input: TVec<TValue>,
) -> TractResult<TVec<TValue>> {
    let outputs = tract_onnx::tract_core::plan::eval(ctx, state, node, input);
    clear_upper_halves();
    outputs
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

/// The model with named inputs and `outputs` in our order, batch fixed to 1, optimized.
fn optimized_plan(
    pkg: &ModelPackage,
    input_shapes: &[Vec<usize>; 4],
    outputs: &[&str],
) -> TractResult<Arc<TypedRunnableModel>> {
    let mut model = tract_onnx::onnx()
        .model_for_proto_model(pkg.onnx_proto())?
        .with_inputs_by_name(INPUT_NAMES)?
        .with_outputs_by_name(outputs.iter().copied())?;
    for (ix, shape) in input_shapes.iter().enumerate() {
        model.set_input_fact(ix, f32::fact(shape).into())?;
    }
    model.into_optimized()?.into_runnable()
}

impl TractEngine {
    /// The window's tensors as the plan's inputs, after checking their lengths.
    fn inputs(&self, input: &WindowInput<'_>) -> Result<TVec<TValue>, InferError> {
        let lens = [0, 1, 2].map(|m| self.input_shapes[m][1..].iter().product());
        input.check_lengths(lens)?;
        let present = input.present_mask();
        let data = [input.mmwave, input.wifi, input.rfid, &present[..]];
        let mut inputs = TVec::new();
        for (shape, values) in self.input_shapes.iter().zip(data) {
            let tensor = Tensor::from_shape(shape, values).map_err(engine_error)?;
            inputs.push(tensor.into_tvalue());
        }
        Ok(inputs)
    }
}

impl Engine for TractEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Tract
    }

    fn run(&mut self, input: &WindowInput<'_>, out: &mut EngineOutputs) -> Result<(), InferError> {
        let inputs = self.inputs(input)?;
        let outputs = self
            .state
            .run_plan_with_eval(inputs, eval_then_clear)
            .map_err(|e| engine_error(format!("{e:#}")))?;
        out.logits.clear();
        for (k, value) in self.outputs.clone().zip(&outputs) {
            let view = value.try_as_plain_ram().map_err(engine_error)?;
            let values = view.as_slice::<f32>().map_err(engine_error)?;
            store(OUTPUT_NAMES[k], values, self.output_lens[k], out.buffer(k))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1) of the given length, different per `seed`.
    fn pattern(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 37 + seed * 11) % 101) as f32 / 50.5 - 1.0)
            .collect()
    }

    fn reference() -> ModelPackage {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/reference");
        ModelPackage::load(&dir).expect("reference package loads")
    }

    /// Options for the whole model, the exported head's `logits` included.
    fn whole_model() -> EngineOptions {
        EngineOptions {
            onnx_logits: true,
            ..EngineOptions::default()
        }
    }

    /// The plan evaluated node by node with the registers cleared after each gives the bits
    /// tract's own `run` gives, window after window on one state.
    #[test]
    fn clearing_the_vector_state_between_nodes_keeps_every_output_bit() {
        let pkg = reference();
        let mut ours = TractEngine::open(&pkg, &whole_model()).expect("tract opens the reference");
        let mut plain = optimized_plan(&pkg, &ours.input_shapes, &OUTPUT_NAMES)
            .and_then(|plan| plan.spawn())
            .expect("a second state");
        let lens = [0, 1, 2].map(|m| pkg.input_shape(m).iter().product::<usize>());
        for (seed, present) in [[true; 3], [true, false, true], [false, false, true]]
            .into_iter()
            .enumerate()
        {
            let [mmwave, wifi, rfid] = lens.map(|len| pattern(len, seed));
            let input = WindowInput {
                mmwave: &mmwave,
                wifi: &wifi,
                rfid: &rfid,
                present,
            };
            let mut out = EngineOutputs::default();
            ours.run(&input, &mut out).expect("run");
            let expected = plain
                .run(ours.inputs(&input).expect("inputs"))
                .expect("plain run");
            let got = std::iter::once(&out.logits).chain(&out.features);
            for (value, got) in expected.iter().zip(got) {
                let want = value.try_as_plain_ram().expect("ram");
                let want = want.as_slice::<f32>().expect("f32");
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(want), "window {seed}");
            }
        }
    }

    /// Without the exported head the plan is smaller, gives the same feature bits and
    /// leaves `logits` empty.
    #[test]
    fn the_backbone_alone_gives_the_same_features_and_no_logits() {
        let pkg = reference();
        let mut whole = TractEngine::open(&pkg, &whole_model()).expect("whole model");
        let mut backbone = TractEngine::open(&pkg, &EngineOptions::default()).expect("backbone");
        let nodes = |e: &TractEngine| e.state.model().nodes().len();
        assert!(
            nodes(&backbone) + 30 < nodes(&whole),
            "backbone {} nodes, whole {}",
            nodes(&backbone),
            nodes(&whole)
        );
        let lens = [0, 1, 2].map(|m| pkg.input_shape(m).iter().product::<usize>());
        let [mmwave, wifi, rfid] = lens.map(|len| pattern(len, 5));
        let input = WindowInput {
            mmwave: &mmwave,
            wifi: &wifi,
            rfid: &rfid,
            present: [true, false, true],
        };
        let (mut a, mut b) = (EngineOutputs::default(), EngineOutputs::default());
        whole.run(&input, &mut a).expect("whole runs");
        b.logits = vec![1.0; 3];
        backbone.run(&input, &mut b).expect("backbone runs");
        assert_eq!(a.logits.len(), pkg.classes().len());
        assert!(b.logits.is_empty(), "no logits without the head");
        let bits = |v: &[Vec<f32>; 3]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.features), bits(&b.features));
    }
}
