//! Whether running windows through tract in batches would pay in replay: the model
//! optimized for batch 1 (as the tract engine builds it) and for batch N, the same N
//! windows through both. Prints how many output values differ between the two (and by
//! how much: a batched replay must print what a window-by-window one prints) and the time
//! per window of each, twice. BENCHMARKS.md, "Live recognition with the reference model".
//!
//! ```sh
//! cargo run --release -p dagr-infer --example batch_cost -- [--model DIR] [--batch N]
//! ```
//!
//! The windows are the rows of the package's `parity/b7_subsets.npz` (absent modalities
//! included), repeated to fill the batch.

use dagr_npz as npz;

use std::path::PathBuf;
use std::time::Instant;

use dagr_infer::{ModelPackage, INPUT_NAMES, OUTPUT_NAMES};
use tract_onnx::prelude::tract_data::internal::anyhow;
use tract_onnx::prelude::*;

/// Rows stored in `b7_subsets.npz`.
const STORED_ROWS: usize = 7;
/// Batch-1 windows run to time each batch of N (per window: the same work).
const TIMED_BATCHES: usize = 50;

fn main() -> TractResult<()> {
    let mut model_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/reference");
    let mut batch = 16usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--model" => model_dir = PathBuf::from(value),
            "--batch" => batch = value.parse()?,
            _ => return Err(anyhow!("unknown option {flag}")),
        }
    }
    let pkg = ModelPackage::load(&model_dir)?;
    let arrays = npz::read_f32(&model_dir.join("parity/b7_subsets.npz"));
    let rows = |first: usize, n: usize| -> TractResult<TVec<TValue>> {
        (0..INPUT_NAMES.len())
            .map(|m| {
                let name = INPUT_NAMES[m];
                let mut values = Vec::new();
                for r in first..first + n {
                    values.extend_from_slice(arrays[name].row(r % STORED_ROWS));
                }
                Ok(Tensor::from_shape(&shape(&pkg, m, n), &values)?.into_tvalue())
            })
            .collect()
    };
    let mut single = optimized(&pkg, 1)?;
    let mut batched = optimized(&pkg, batch)?;

    let all = rows(0, batch)?;
    let together = batched.run(all.clone())?;
    let (mut differ, mut values, mut largest) = (0usize, 0usize, 0f32);
    for r in 0..batch {
        let alone = single.run(rows(r, 1)?)?;
        for (one, many) in alone.iter().zip(&together) {
            let one = one.try_as_plain_ram()?;
            let one = one.as_slice::<f32>()?;
            let many = many.try_as_plain_ram()?;
            let many = &many.as_slice::<f32>()?[r * one.len()..(r + 1) * one.len()];
            for (a, b) in one.iter().zip(many) {
                values += 1;
                if a.to_bits() != b.to_bits() {
                    differ += 1;
                    largest = largest.max((a - b).abs());
                }
            }
        }
    }
    println!(
        "batch {batch}: {differ} of {values} output values ({}) differ from batch 1, largest by {largest:e}",
        OUTPUT_NAMES.join(", ")
    );

    let one = rows(0, 1)?;
    for _ in 0..2 {
        let start = Instant::now();
        for _ in 0..TIMED_BATCHES * batch {
            single.run(one.clone())?;
        }
        let per_single = start.elapsed().as_secs_f64() / (TIMED_BATCHES * batch) as f64;
        let start = Instant::now();
        for _ in 0..TIMED_BATCHES {
            batched.run(all.clone())?;
        }
        let per_batched = start.elapsed().as_secs_f64() / (TIMED_BATCHES * batch) as f64;
        println!(
            "per window: batch 1 {:.3} ms, batch {batch} {:.3} ms ({:.2}x)",
            per_single * 1e3,
            per_batched * 1e3,
            per_batched / per_single
        );
    }
    Ok(())
}

/// `[batch, input_shape(m)...]`, `[batch, 3]` for `present`.
fn shape(pkg: &ModelPackage, m: usize, batch: usize) -> Vec<usize> {
    match m {
        3 => vec![batch, 3],
        _ => [&[batch][..], pkg.input_shape(m)].concat(),
    }
}

/// The model with every input fixed to `batch`, optimized and ready to run.
fn optimized(pkg: &ModelPackage, batch: usize) -> TractResult<TypedSimpleState> {
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut pkg.onnx_bytes())?
        .with_inputs_by_name(INPUT_NAMES)?
        .with_outputs_by_name(OUTPUT_NAMES)?;
    for m in 0..INPUT_NAMES.len() {
        model.set_input_fact(m, f32::fact(shape(pkg, m, batch)).into())?;
    }
    model.into_optimized()?.into_runnable()?.spawn()
}
