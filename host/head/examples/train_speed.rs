//! Issue 12 point 5's benchmark, in one command: training the reference head on 1000
//! windows for 30 epochs (batch 64, AdamW with a cosine schedule, modality dropout 0.5,
//! feature noise 0.05, the reference DAGR settings) with the no_std core on one core, and
//! the same head training in PyTorch on one CPU thread, side by side. Prints the median of
//! several runs of each, the ratio, the core's steps per second and its memory for the run
//! (`MemoryBudget`: parameters, Adam moments, one batch, the best parameters kept).
//!
//! The windows are the 48 real ones of models/reference/parity/head_batch*_float32.npz,
//! repeated with Gaussian noise (sigma 0.1) and a random non-empty subset of modalities
//! each, to 1000.
//!
//! `cargo run --release -p dagr-head --example train_speed [-- REPS [BATCH]]` (5 runs,
//! batch 64 by default: the training pipeline's batch); the PyTorch side
//! runs `torch_train_speed.py` with `$DAGR_TRAIN_PYTHON` (default: the training venv,
//! `~/.cache/dagr/train-venv/bin/python`).

use dagr_npz as npz;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use dagr_head::{
    arena_len, fit, AdamConfig, DagrConfig, HeadShape, MemoryBudget, ParamBlock, Rng, Split,
    TrainConfig, Windows, EQUAL_FUSION,
};
use safetensors::SafeTensors;

const WINDOWS: usize = 1000;
const EPOCHS: u32 = 30;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps: usize = std::env::args().nth(1).map_or(Ok(5), |a| a.parse())?;
    let batch: usize = std::env::args().nth(2).map_or(Ok(64), |a| a.parse())?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (shape, params) = reference_head(&root.join("models/reference/head.safetensors"))?;
    let data = windows(&root, shape.feat_dim);
    let dagr = DagrConfig {
        lambda_d: 0.1,
        lambda_a: 0.5,
        ..DagrConfig::default()
    };
    let cfg = TrainConfig {
        epochs: EPOCHS,
        batch,
        adam: AdamConfig::default(),
        cosine: true,
        modality_dropout: 0.5,
        noise_sigma: 0.05,
        patience: 0,
        seed: 0,
        dagr,
        labeled_classes_only: false, // plain cross-entropy, as the PyTorch loop it is timed against
    };
    let mut ours = Vec::new();
    let mut steps = 0;
    for rep in 0..reps {
        let mut head = params.clone();
        let mut arena = vec![0.0; arena_len(shape, batch)];
        let mut train: Vec<u32> = (0..WINDOWS as u32).collect();
        let split = Split {
            windows: data.view(),
            train: &mut train,
            val: &[],
        };
        let cfg = TrainConfig {
            seed: rep as u64,
            ..cfg
        };
        let started = Instant::now();
        let report = fit(shape, &mut head, split, &cfg, &mut arena, |_| {})?;
        ours.push(started.elapsed().as_secs_f64());
        steps = report.steps;
    }
    let theirs = pytorch(&root, &data, reps, batch)?;
    let (a, b) = (median(&mut ours), median(&mut theirs.clone()));
    println!("head {shape:?}, {WINDOWS} windows x {EPOCHS} epochs, batch {batch}: {steps} steps");
    println!("dagr-head (no_std core, 1 core): median {a:.3} s of {reps} runs {ours:.3?}");
    println!("PyTorch (CPU, 1 thread):         median {b:.3} s of {reps} runs {theirs:.3?}");
    println!(
        "ratio {:.1}x; dagr-head {:.0} steps/s ({:.0} windows/s), PyTorch {:.0} steps/s",
        b / a,
        steps as f64 / a,
        (WINDOWS * EPOCHS as usize) as f64 / a,
        steps as f64 / b
    );
    let budget = MemoryBudget::of(shape, batch);
    println!(
        "dagr-head memory for the run: {} bytes ({:.1} KiB: parameters, Adam moments, one \
         batch, best parameters), besides the windows",
        budget.total(),
        budget.total() as f64 / 1024.0
    );
    Ok(())
}

/// Owned windows.
struct Data {
    feats: [Vec<f32>; 3],
    present: Vec<[bool; 3]>,
    labels: Vec<u16>,
}

impl Data {
    fn view(&self) -> Windows<'_> {
        Windows {
            feats: [&self.feats[0], &self.feats[1], &self.feats[2]],
            present: &self.present,
            labels: &self.labels,
        }
    }
}

/// The 48 real windows, repeated with noise and random modality subsets to WINDOWS.
fn windows(root: &Path, feat_dim: usize) -> Data {
    let mut real = Data {
        feats: [vec![], vec![], vec![]],
        present: vec![],
        labels: vec![],
    };
    for b in 0..3 {
        let path = root.join(format!("models/reference/parity/head_batch{b}_float32.npz"));
        let arrays = npz::read(&path);
        for (m, name) in ["feat_mmwave", "feat_wifi", "feat_rfid"].iter().enumerate() {
            real.feats[m].extend(arrays[*name].f32s());
        }
        real.labels
            .extend(arrays["labels"].values.iter().map(|&l| l as u16));
    }
    let mut rng = Rng::new(42);
    let mut data = Data {
        feats: [vec![], vec![], vec![]],
        present: vec![],
        labels: vec![],
    };
    for w in 0..WINDOWS {
        let source = w % real.labels.len();
        for (m, feats) in data.feats.iter_mut().enumerate() {
            let row = &real.feats[m][source * feat_dim..(source + 1) * feat_dim];
            feats.extend(row.iter().map(|v| v + 0.1 * rng.normal()));
        }
        let subset = rng.below(7) + 1;
        data.present
            .push(std::array::from_fn(|m| subset >> m & 1 == 1));
        data.labels.push(real.labels[source]);
    }
    data
}

/// Runs the PyTorch side on the same windows (written to a temporary directory).
fn pytorch(
    root: &Path,
    data: &Data,
    reps: usize,
    batch: usize,
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let python = std::env::var_os("DAGR_TRAIN_PYTHON").map_or_else(
        || {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/dagr/train-venv/bin/python")
        },
        PathBuf::from,
    );
    if !python.exists() {
        return Err(format!(
            "{}: no such Python (set DAGR_TRAIN_PYTHON to the training venv's python)",
            python.display()
        )
        .into());
    }
    let dir = std::env::temp_dir().join(format!("dagr-train-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bytes = |values: &mut dyn Iterator<Item = [u8; 4]>| values.flatten().collect::<Vec<u8>>();
    let feats = data.feats.iter().flatten().map(|v| v.to_le_bytes());
    std::fs::write(dir.join("feats.bin"), bytes(&mut feats.into_iter()))?;
    let present = data
        .present
        .iter()
        .flatten()
        .map(|&p| f32::from(u8::from(p)).to_le_bytes());
    std::fs::write(dir.join("present.bin"), bytes(&mut present.into_iter()))?;
    let labels: Vec<u8> = data
        .labels
        .iter()
        .flat_map(|&l| i64::from(l).to_le_bytes())
        .collect();
    std::fs::write(dir.join("labels.bin"), labels)?;
    let script = root.join("host/head/examples/torch_train_speed.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&dir)
        .args([EPOCHS.to_string(), batch.to_string(), reps.to_string()])
        .output();
    std::fs::remove_dir_all(&dir)?;
    let out = out?;
    if !out.status.success() {
        return Err(format!(
            "{} {}: {}",
            python.display(),
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let seconds = doc["seconds"]
        .as_array()
        .ok_or("torch_train_speed.py: no `seconds` in its output")?;
    Ok(seconds.iter().filter_map(|v| v.as_f64()).collect())
}

/// The median (sorts `values`).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The reference head's shape and flat parameters from head.safetensors.
fn reference_head(path: &Path) -> Result<(HeadShape, Vec<f32>), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let tensors = SafeTensors::deserialize(&bytes)?;
    const NAMES: [&str; 3] = ["mmwave", "wifi", "rfid"];
    let name = |block| match block {
        ParamBlock::ProjWeight(m) => format!("head.proj.{}.weight", NAMES[m]),
        ParamBlock::ProjBias(m) => format!("head.proj.{}.bias", NAMES[m]),
        ParamBlock::ClassifierWeight => "head.classifier.weight".to_string(),
        ParamBlock::ClassifierBias => "head.classifier.bias".to_string(),
    };
    let proj = tensors.tensor(&name(ParamBlock::ProjWeight(0)))?;
    let classes = tensors.tensor(&name(ParamBlock::ClassifierBias))?.shape()[0];
    let shape = HeadShape {
        feat_dim: proj.shape()[1],
        embed_dim: proj.shape()[0],
        classes,
        // The time of a step does not depend on the weights' values.
        fusion_weights: EQUAL_FUSION,
    };
    let mut params = Vec::with_capacity(shape.param_count());
    for block in ParamBlock::ALL {
        let t = tensors.tensor(&name(block))?;
        params.extend(
            t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
    if params.len() != shape.param_count() {
        return Err(format!(
            "{}: {} parameters, expected {}",
            path.display(),
            params.len(),
            shape.param_count()
        )
        .into());
    }
    Ok((shape, params))
}
