//! Where tract spends a window: the optimized graph of the model package (batch 1, as the
//! tract engine builds it) and the time per operator kind over many windows. It answers the
//! questions of BENCHMARKS.md's inference section: which ops dominate, and whether tract's
//! optimizer fused the convolutions with their bias and activation.
//!
//! ```sh
//! cargo run --release -p dagr-infer --example tract_profile -- [--model DIR] [--windows N]
//! ```

use dagr_npz as npz;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dagr_infer::{ModelPackage, INPUT_NAMES, OUTPUT_NAMES};
use tract_onnx::prelude::tract_data::internal::anyhow;
use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    let mut model_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/reference");
    let mut windows = 300usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--model" => model_dir = PathBuf::from(value),
            "--windows" => windows = value.parse()?,
            _ => return Err(anyhow!("unknown option {flag}")),
        }
    }
    let pkg = ModelPackage::load(&model_dir)?;
    let shapes: Vec<Vec<usize>> = (0..3)
        .map(|m| [&[1][..], pkg.input_shape(m)].concat())
        .chain([vec![1, 3]])
        .collect();
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut pkg.onnx_bytes())?
        .with_inputs_by_name(INPUT_NAMES)?
        .with_outputs_by_name(OUTPUT_NAMES)?;
    for (ix, shape) in shapes.iter().enumerate() {
        model.set_input_fact(ix, f32::fact(shape).into())?;
    }
    let optimized = model.into_optimized()?;
    println!("optimized graph: {} nodes", optimized.nodes().len());
    for node in optimized.nodes() {
        println!("  {:>3} {:<24} {}", node.id, node.op().name(), node.name);
    }
    let plan = optimized.into_runnable()?;
    let mut state = plan.spawn()?;

    let arrays = npz::read_f32(&model_dir.join("parity/b1_all.npz"));
    let inputs: TVec<TValue> = INPUT_NAMES
        .iter()
        .zip(&shapes)
        .map(|(name, shape)| {
            let values = arrays[*name].row(0);
            Ok(Tensor::from_shape(shape, values)?.into_tvalue())
        })
        .collect::<TractResult<_>>()?;

    let mut per_op: BTreeMap<String, Duration> = BTreeMap::new();
    let mut per_node: BTreeMap<(usize, String), Duration> = BTreeMap::new();
    let start = Instant::now();
    for _ in 0..windows {
        state.run_plan_with_eval(inputs.clone(), |ctx, op_state, node, input| {
            let t = Instant::now();
            let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, input);
            let spent = t.elapsed();
            *per_op.entry(node.op().name().to_string()).or_default() += spent;
            let key = (node.id, format!("{} {}", node.op().name(), node.name));
            *per_node.entry(key).or_default() += spent;
            out
        })?;
    }
    let wall = start.elapsed() / windows as u32;
    let total: Duration = per_op.values().sum();
    println!(
        "\n{windows} windows, {:.3} ms per window (profiled)",
        wall.as_secs_f64() * 1e3
    );
    print_shares(
        "op",
        per_op.into_iter().collect(),
        total,
        windows,
        usize::MAX,
    );
    let mut per_branch: BTreeMap<String, Duration> = BTreeMap::new();
    for ((_, name), t) in &per_node {
        *per_branch.entry(branch(name).to_string()).or_default() += *t;
    }
    print_shares(
        "branch (first part of the node name)",
        per_branch.into_iter().collect(),
        total,
        windows,
        usize::MAX,
    );
    let nodes = per_node
        .into_iter()
        .map(|((id, name), t)| (format!("{id:>3} {name}"), t))
        .collect();
    print_shares("node (top 15)", nodes, total, windows, 15);
    Ok(())
}

/// The model part a node belongs to: the first component of its ONNX name (`/mmwave/...`
/// -> `mmwave`), so the time splits by encoder and head.
fn branch(op_and_name: &str) -> &str {
    let name = op_and_name.split_once(' ').map_or(op_and_name, |(_, n)| n);
    name.trim_start_matches('/')
        .split(['/', '.'])
        .next()
        .unwrap_or(name)
}

/// Rows of (name, time over all windows), largest first: microseconds per window and share.
fn print_shares(
    title: &str,
    mut rows: Vec<(String, Duration)>,
    total: Duration,
    windows: usize,
    limit: usize,
) {
    rows.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    println!("\n{title:<72} {:>10} {:>7}", "us/window", "share");
    for (name, t) in rows.into_iter().take(limit) {
        let us = t.as_secs_f64() * 1e6 / windows as f64;
        println!(
            "{name:<72} {us:>10.1} {:>6.1}%",
            100.0 * t.as_secs_f64() / total.as_secs_f64()
        );
    }
}
