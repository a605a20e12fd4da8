//! Evidence for on-gateway head adaptation (issue 12 point 4): in rooms and with people the
//! model never saw, accuracy of the committed head before and after adaptation with 1, 5 and
//! 20 labeled windows per class (and 100: about all of them), 3 seeds, DAGR vs plain cross-entropy, scored with all
//! modalities, each modality dropped and each modality noisy; how often adaptation makes
//! things worse and what the validation gate does about it.
//!
//! Per (room, subject) pair the directory holds `adapt-rR-sS.mcap` (labeled windows to
//! adapt on) and `eval-rR-sS.mcap` (the same room and person, another seed: scored only).
//! Every capture goes once through `features_from_captures` (the `dagr adapt` pipeline:
//! recognized windows, backbone features cached); every setting then runs `adapt_head` on
//! the cached features and scores the evaluation windows with the native head.
//!
//! Test-time conditions, on the cached evaluation features (the backbone's encoders are
//! per modality, so a modality's features do not depend on the others' inputs):
//! - `all`: the windows as recognized;
//! - `drop M`: modality M marked absent (present mask 0), as when its device is off;
//! - `noisy M`: every value of `feat_M` plus Gaussian noise whose standard deviation is
//!   the standard deviation of `feat_M`'s values over that pair's evaluation windows
//!   (0 dB signal-to-noise in feature space; the same noise draw before and after).
//!
//! `cargo run --release -p dagr-host --example adapt_study -- --captures DIR --pair 101:201 ...`
//! (`--model DIR`, default the committed reference model). Markdown tables on stdout,
//! progress on stderr.
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dagr_head::{arena_len, fit, Activations, DagrConfig, Head, HeadShape, Rng, Split, MODALITIES};
use dagr_host::adapt::{
    adapt_head, features_from_captures, holdout_order, AdaptSettings, LabeledFeatures,
};
use dagr_host::recognize::{default_model_dir, Recognizer};
use dagr_infer::{EngineKind, MODALITY_NAMES};

/// Labeled windows per class drawn from the adaptation capture (100: in practice every
/// window of a class, a ceiling for what more labels would give).
const SHOTS: [usize; 4] = [1, 5, 20, 100];
/// Seeds: which windows are drawn, the held-out split and the trainer's shuffling.
const SEEDS: [u64; 3] = [0, 1, 2];
/// Seed of the test-time feature noise.
const NOISE_SEED: u64 = 7;

/// The two adaptation objectives compared.
#[derive(Clone, Copy, PartialEq)]
enum Method {
    /// The package's DAGR flags (model.json `dagr`), as `dagr adapt` uses them.
    Dagr,
    /// The same settings with every DAGR weight zero: plain cross-entropy.
    CrossEntropy,
}

impl Method {
    const ALL: [Method; 2] = [Method::Dagr, Method::CrossEntropy];

    fn name(self) -> &'static str {
        match self {
            Method::Dagr => "DAGR",
            Method::CrossEntropy => "CE",
        }
    }
}

/// A test-time condition of the evaluation windows.
#[derive(Clone, Copy)]
enum Condition {
    All,
    Drop(usize),
    Noisy(usize),
}

impl Condition {
    fn all() -> Vec<Condition> {
        let mut out = vec![Condition::All];
        out.extend((0..MODALITIES).map(Condition::Drop));
        out.extend((0..MODALITIES).map(Condition::Noisy));
        out
    }

    fn name(self) -> String {
        match self {
            Condition::All => "all".into(),
            Condition::Drop(m) => format!("drop {}", MODALITY_NAMES[m]),
            Condition::Noisy(m) => format!("noisy {}", MODALITY_NAMES[m]),
        }
    }
}

/// One pair's cached features: adaptation windows and evaluation windows per condition.
struct Pair {
    name: String,
    adapt: LabeledFeatures,
    /// The evaluation windows under each of [`Condition::all`], in that order.
    eval: Vec<LabeledFeatures>,
}

/// One adaptation run's accuracies on the evaluation windows, per condition.
struct Run {
    pair: usize,
    shots: usize,
    method: Method,
    accepted: bool,
    before: Vec<f64>,
    /// The head `adapt_head` returns (best on the held-out windows; the last epoch when
    /// nothing is held out).
    after: Vec<f64>,
    /// The head a run without held-out windows (no early stopping, no gate) ends with:
    /// the same training windows and seed, all epochs.
    ungated: Vec<f64>,
}

impl Run {
    /// The head the gateway would use: the adapted one when the gate accepts it.
    fn gated(&self, c: usize) -> f64 {
        if self.accepted {
            self.after[c]
        } else {
            self.before[c]
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse()?;
    let t0 = Instant::now();
    let mut recognizer = Recognizer::open(&args.model, EngineKind::Tract)?;
    let start = recognizer.package().head_params().to_vec();
    let shape = recognizer.package().head_shape();
    let dagr = AdaptSettings::from_package(recognizer.package())?;
    let mut pairs = Vec::new();
    for &(room, subject) in &args.pairs {
        pairs.push(load_pair(&args.captures, room, subject, &mut recognizer)?);
    }
    let features_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut runs = Vec::new();
    for (p, pair) in pairs.iter().enumerate() {
        for shots in SHOTS {
            for seed in SEEDS {
                for method in Method::ALL {
                    let settings = settings_for(&dagr, method, seed);
                    runs.push(run_one(&start, shape, pair, p, shots, &settings, method)?);
                }
            }
        }
    }
    let settings_s = t1.elapsed().as_secs_f64();
    print_report(&pairs, &runs, &dagr);
    println!(
        "\nTiming: features of all captures {features_s:.1} s; {} adaptation runs (each \
         with its no-gate twin) and their scoring {settings_s:.1} s.",
        runs.len()
    );
    Ok(())
}

/// The command line: `--captures DIR`, `--pair ROOM:SUBJECT` (repeated), `--model DIR`.
struct Args {
    captures: PathBuf,
    pairs: Vec<(u32, u32)>,
    model: PathBuf,
}

impl Args {
    fn parse() -> Result<Args, Box<dyn Error>> {
        let mut captures = None;
        let mut pairs = Vec::new();
        let mut model = default_model_dir();
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().ok_or(format!("{flag}: expected a value"))?;
            match flag.as_str() {
                "--captures" => captures = Some(PathBuf::from(value)),
                "--model" => model = PathBuf::from(value),
                "--pair" => pairs.push(parse_pair(&value)?),
                other => return Err(format!("unknown flag {other}").into()),
            }
        }
        let captures = captures.ok_or("--captures DIR is required")?;
        if pairs.is_empty() {
            return Err("at least one --pair ROOM:SUBJECT is required".into());
        }
        Ok(Args {
            captures,
            pairs,
            model,
        })
    }
}

/// `ROOM:SUBJECT`, both below 1000 (ids from 1000 on are reserved for outside evaluation).
fn parse_pair(text: &str) -> Result<(u32, u32), Box<dyn Error>> {
    let bad = || format!("--pair {text}: expected ROOM:SUBJECT, two integers below 1000");
    let (r, s) = text.split_once(':').ok_or_else(bad)?;
    let (r, s): (u32, u32) = (r.parse().map_err(|_| bad())?, s.parse().map_err(|_| bad())?);
    if r >= 1000 || s >= 1000 {
        return Err(bad().into());
    }
    Ok((r, s))
}

/// The pair's two captures through the `dagr adapt` feature pipeline.
fn load_pair(
    dir: &Path,
    room: u32,
    subject: u32,
    recognizer: &mut Recognizer,
) -> Result<Pair, Box<dyn Error>> {
    let name = format!("r{room}-s{subject}");
    let adapt = capture_features(&dir.join(format!("adapt-{name}.mcap")), recognizer)?;
    let eval = capture_features(&dir.join(format!("eval-{name}.mcap")), recognizer)?;
    let eval = Condition::all()
        .into_iter()
        .map(|c| condition_view(&eval, c))
        .collect();
    Ok(Pair { name, adapt, eval })
}

/// One capture's labeled windows and features; the ONNX model's accuracy on them is
/// printed beside the native head's, a check that both score the same windows alike.
fn capture_features(
    path: &Path,
    recognizer: &mut Recognizer,
) -> Result<LabeledFeatures, Box<dyn Error>> {
    let t = Instant::now();
    let mut onnx = None;
    let data = features_from_captures(&[path.to_path_buf()], recognizer, &mut |c| {
        onnx = c.start_accuracy;
    })?;
    let native = accuracy(recognizer.package().head_params(), &data.features);
    eprintln!(
        "{}: {} windows, start accuracy ONNX {:.4} native head {native:.4} ({:.1} s)",
        path.display(),
        data.features.len(),
        onnx.unwrap_or(f64::NAN),
        t.elapsed().as_secs_f64()
    );
    Ok(data.features)
}

/// The evaluation windows under condition `c` (see the module doc).
fn condition_view(eval: &LabeledFeatures, c: Condition) -> LabeledFeatures {
    let w = eval.windows();
    let dim = eval.shape().feat_dim;
    let sigma = match c {
        Condition::Noisy(m) => std_dev(w.feats[m]),
        _ => 0.0,
    };
    let mut rng = Rng::new(NOISE_SEED);
    let mut out = LabeledFeatures::new(eval.shape());
    let mut noisy = vec![0.0f32; dim];
    for (i, (&label, &t)) in eval.labels().iter().zip(eval.times()).enumerate() {
        let row = |m: usize| &w.feats[m][i * dim..(i + 1) * dim];
        let mut present = w.present[i];
        let mut feats = [row(0), row(1), row(2)];
        match c {
            Condition::All => {}
            Condition::Drop(m) => present[m] = false,
            Condition::Noisy(m) => {
                for (n, &x) in noisy.iter_mut().zip(row(m)) {
                    *n = x + sigma * rng.normal();
                }
                feats[m] = &noisy;
            }
        }
        out.push(feats, present, label, t)
            .expect("a copy of checked windows fits the same head");
    }
    out
}

/// Standard deviation of `values` (population).
fn std_dev(values: &[f32]) -> f32 {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    var.sqrt() as f32
}

/// The package's adaptation settings for `method`, every seed set to `seed`.
fn settings_for(dagr: &AdaptSettings, method: Method, seed: u64) -> AdaptSettings {
    let mut s = *dagr;
    if method == Method::CrossEntropy {
        s.train.dagr = DagrConfig::default();
    }
    s.train.seed = seed;
    s.seed = seed;
    s
}

/// One adaptation: `shots` windows per class drawn with `settings.seed`, adapted, its
/// no-gate twin trained, all three heads scored under every condition.
fn run_one(
    start: &[f32],
    shape: HeadShape,
    pair: &Pair,
    p: usize,
    shots: usize,
    settings: &AdaptSettings,
    method: Method,
) -> Result<Run, Box<dyn Error>> {
    let drawn = draw(&pair.adapt, shots, settings.seed);
    let outcome = adapt_head(start, None, shape, &drawn, settings, &mut |_| {})?;
    let ungated = train_without_gate(start, shape, &drawn, settings)?;
    let score =
        |params: &[f32]| -> Vec<f64> { pair.eval.iter().map(|e| accuracy(params, e)).collect() };
    Ok(Run {
        pair: p,
        shots,
        method,
        accepted: outcome.accepted,
        before: score(start),
        after: score(&outcome.params),
        ungated: score(&ungated),
    })
}

/// Up to `shots` windows of each class of `all`, drawn at random with `seed`.
fn draw(all: &LabeledFeatures, shots: usize, seed: u64) -> LabeledFeatures {
    let classes = all.shape().classes;
    let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9).wrapping_add(11));
    let mut order: Vec<usize> = (0..all.len()).collect();
    rng.shuffle(&mut order);
    let mut taken = vec![0usize; classes];
    let w = all.windows();
    let dim = all.shape().feat_dim;
    let mut out = LabeledFeatures::new(all.shape());
    for i in order {
        let label = all.labels()[i];
        if taken[usize::from(label)] >= shots {
            continue;
        }
        taken[usize::from(label)] += 1;
        let row = |m: usize| &w.feats[m][i * dim..(i + 1) * dim];
        out.push(
            [row(0), row(1), row(2)],
            w.present[i],
            label,
            all.times()[i],
        )
        .expect("a copy of checked windows fits the same head");
    }
    out
}

/// The head trained on `adapt_head`'s training part of `data` (same split, same seed) with
/// nothing held out: every epoch runs and the last one is kept.
fn train_without_gate(
    start: &[f32],
    shape: HeadShape,
    data: &LabeledFeatures,
    settings: &AdaptSettings,
) -> Result<Vec<f32>, Box<dyn Error>> {
    let (mut order, k) = holdout_order(shape, data, settings)?;
    let mut params = start.to_vec();
    let mut arena = vec![0.0f32; arena_len(shape, settings.train.batch)];
    let split = Split {
        windows: data.windows(),
        train: &mut order[..k],
        val: &[],
    };
    fit(
        shape,
        &mut params,
        split,
        &settings.train,
        &mut arena,
        |_| {},
    )?;
    Ok(params)
}

/// Fraction of `data`'s windows whose top class under head `params` is the label.
fn accuracy(params: &[f32], data: &LabeledFeatures) -> f64 {
    let shape = data.shape();
    let head = Head::new(shape, params).expect("parameters of the package's head shape");
    let (mut z, mut fused, mut logits) = (
        vec![0.0; MODALITIES * shape.embed_dim],
        vec![0.0; shape.embed_dim],
        vec![0.0; shape.classes],
    );
    let w = data.windows();
    let dim = shape.feat_dim;
    let mut correct = 0usize;
    for (i, &label) in data.labels().iter().enumerate() {
        let row = |m: usize| &w.feats[m][i * dim..(i + 1) * dim];
        let mut out = Activations {
            z: &mut z,
            fused: &mut fused,
            logits: &mut logits,
        };
        head.forward([row(0), row(1), row(2)], w.present[i], &mut out)
            .expect("features of the head's shape");
        correct += usize::from(argmax(&logits) == usize::from(label));
    }
    correct as f64 / data.len().max(1) as f64
}

/// Index of the largest value (the first on ties).
fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Mean and sample standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// `mean ± std` of `values`.
fn pm(values: &[f64]) -> String {
    let (m, s) = mean_std(values);
    format!("{m:.3} ± {s:.3}")
}

/// Every table of the report.
fn print_report(pairs: &[Pair], runs: &[Run], dagr: &AdaptSettings) {
    print_data(pairs, dagr);
    print_conditions(runs);
    print_gate(runs);
    print_per_pair(pairs, runs);
}

/// What was adapted on and scored.
fn print_data(pairs: &[Pair], dagr: &AdaptSettings) {
    println!("## Data\n");
    println!("| pair | adaptation windows | per class (min / max) | evaluation windows |");
    println!("|---|---:|---:|---:|");
    for pair in pairs {
        let counts = pair.adapt.per_class(pair.adapt.shape().classes);
        let (min, max) = (counts.iter().min(), counts.iter().max());
        println!(
            "| {} | {} | {} / {} | {} |",
            pair.name,
            pair.adapt.len(),
            min.unwrap_or(&0),
            max.unwrap_or(&0),
            pair.eval[0].len()
        );
    }
    println!("\nDAGR settings (from the package): {}", dagr.to_json());
}

/// Before / after / gated accuracy and the share of runs made worse, per condition,
/// method and shots.
fn print_conditions(runs: &[Run]) {
    println!("\n## Accuracy on the evaluation captures\n");
    println!(
        "Mean ± sample std over pairs × seeds. `after`: the head adapt_head returns; `gated`: \
         the head in use after the validation gate (the start head when refused); `worse`: \
         runs with after < before; `no gate`: the last-epoch head of a run without held-out \
         windows.\n"
    );
    println!("| condition | method | shots | before | after | after − before | gated | no gate | no gate − before | worse (after) | worse (no gate) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (c, condition) in Condition::all().into_iter().enumerate() {
        for method in Method::ALL {
            for shots in SHOTS {
                let sel: Vec<&Run> = runs
                    .iter()
                    .filter(|r| r.method == method && r.shots == shots)
                    .collect();
                let col = |f: &dyn Fn(&Run) -> f64| sel.iter().map(|r| f(r)).collect::<Vec<_>>();
                let worse = |f: &dyn Fn(&Run) -> f64| {
                    let n = sel.iter().filter(|r| f(r) < r.before[c]).count();
                    format!("{n}/{}", sel.len())
                };
                println!(
                    "| {} | {} | {shots} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    condition.name(),
                    method.name(),
                    pm(&col(&|r| r.before[c])),
                    pm(&col(&|r| r.after[c])),
                    pm(&col(&|r| r.after[c] - r.before[c])),
                    pm(&col(&|r| r.gated(c))),
                    pm(&col(&|r| r.ungated[c])),
                    pm(&col(&|r| r.ungated[c] - r.before[c])),
                    worse(&|r| r.after[c]),
                    worse(&|r| r.ungated[c]),
                );
            }
        }
    }
}

/// The validation gate's verdicts against what the evaluation windows say (all
/// modalities): a refusal is right when the head trained without the gate is no better
/// than the start; an acceptance is right when the accepted head is better.
fn print_gate(runs: &[Run]) {
    println!("\n## The validation gate (all modalities)\n");
    println!("| method | shots | runs | accepted | accepted and better | accepted and not better | refused | refused, no-gate head not better (right) | refused, no-gate head better (wrong) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for method in Method::ALL {
        for shots in SHOTS {
            let sel: Vec<&Run> = runs
                .iter()
                .filter(|r| r.method == method && r.shots == shots)
                .collect();
            let count = |f: &dyn Fn(&Run) -> bool| sel.iter().filter(|r| f(r)).count();
            println!(
                "| {} | {shots} | {} | {} | {} | {} | {} | {} | {} |",
                method.name(),
                sel.len(),
                count(&|r| r.accepted),
                count(&|r| r.accepted && r.after[0] > r.before[0]),
                count(&|r| r.accepted && r.after[0] <= r.before[0]),
                count(&|r| !r.accepted),
                count(&|r| !r.accepted && r.ungated[0] <= r.before[0]),
                count(&|r| !r.accepted && r.ungated[0] > r.before[0]),
            );
        }
    }
}

/// Per pair, all modalities: the start head and each method's mean over seeds.
fn print_per_pair(pairs: &[Pair], runs: &[Run]) {
    println!("\n## Per pair, all modalities (mean over the 3 seeds of `after`)\n");
    let mut header = String::from("| pair | before |");
    for method in Method::ALL {
        for shots in SHOTS {
            header.push_str(&format!(" {} {shots} |", method.name()));
        }
    }
    println!("{header}");
    println!(
        "|---|---:|{}",
        "---:|".repeat(Method::ALL.len() * SHOTS.len())
    );
    for (p, pair) in pairs.iter().enumerate() {
        let mine: Vec<&Run> = runs.iter().filter(|r| r.pair == p).collect();
        let before = mine.first().map_or(f64::NAN, |r| r.before[0]);
        let mut line = format!("| {} | {before:.3} |", pair.name);
        for method in Method::ALL {
            for shots in SHOTS {
                let after: Vec<f64> = mine
                    .iter()
                    .filter(|r| r.method == method && r.shots == shots)
                    .map(|r| r.after[0])
                    .collect();
                line.push_str(&format!(" {:.3} |", mean_std(&after).0));
            }
        }
        println!("{line}");
    }
}
