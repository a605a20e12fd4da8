//! Per-window inference latency at batch 1 (issue 11 point 7): tract, ort (1 intra-op thread
//! and ONNX Runtime's default) and onnxruntime from Python (the same two settings), each on
//! the whole ONNX model, side by side from one run, on one parity window of the model
//! package; and what the gateway runs per window on each engine, `Classifier::classify`
//! (the backbone up to `feat_*` on one thread, then the native head).
//!
//! ```sh
//! ORT_DYLIB_PATH=$HOME/.cache/dagr/train-venv/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.32.0 \
//!     cargo run --release -p dagr-infer --features ort --example latency -- --runs 3
//! ```
//!
//! Each run times every contender in turn (so load on the machine hits all alike); the table
//! gives the median over runs of each run's p50 and p99. Options: `--model DIR`
//! (models/reference), `--windows N` (300 timed per run), `--warmup N` (20), `--runs N` (3),
//! `--python PATH` (the train venv's python; `none` skips the Python peer). Without the `ort`
//! feature the ort rows are left out.

use dagr_npz as npz;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dagr_infer::{
    open_engine, Classifier, EngineKind, EngineOptions, EngineOutputs, ModelPackage, WindowInput,
};

/// What the command line asked for.
struct Args {
    model: PathBuf,
    windows: usize,
    warmup: usize,
    runs: usize,
    python: Option<PathBuf>,
}

/// One contender's p50 and p99 of one run, in milliseconds.
#[derive(Clone, Copy)]
struct Figures {
    p50: f64,
    p99: f64,
}

fn parse_args() -> Result<Args, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut args = Args {
        model: root.join("models/reference"),
        windows: 300,
        warmup: 20,
        runs: 3,
        python: Some(home.join(".cache/dagr/train-venv/bin/python")),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: expected a positive integer, found {value}"))
        };
        match flag.as_str() {
            "--model" => args.model = PathBuf::from(&value),
            "--windows" => args.windows = number()?.max(1),
            "--warmup" => args.warmup = number()?,
            "--runs" => args.runs = number()?.max(1),
            "--python" => args.python = (value != "none").then(|| PathBuf::from(&value)),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(args)
}

/// Nearest-rank percentile `q` of `times`, in milliseconds (sorts `times`).
fn percentile_ms(times: &mut [Duration], q: f64) -> f64 {
    times.sort_unstable();
    let rank = ((q / 100.0 * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1;
    times[rank].as_secs_f64() * 1e3
}

/// Times `step` `windows` times after `warmup` untimed calls.
///
/// The vector registers' upper halves are cleared first: the contenders run one after the
/// other on this thread, and tract 0.23.9's x86-64 kernels return with them dirty, which
/// makes every legacy-SSE instruction after them slow (`vzeroupper`, see
/// `dagr_infer::clear_upper_halves`). Without it, the contender after a tract one (ort)
/// would start from tract's state, not its own; with it, each runs in the state that it
/// and its own code leave, as in a process of its own (like the Python peer).
fn time_calls(args: &Args, mut step: impl FnMut()) -> Figures {
    dagr_infer::clear_upper_halves();
    for _ in 0..args.warmup {
        step();
    }
    let mut times: Vec<Duration> = (0..args.windows)
        .map(|_| {
            let start = Instant::now();
            step();
            start.elapsed()
        })
        .collect();
    Figures {
        p50: percentile_ms(&mut times, 50.0),
        p99: percentile_ms(&mut times, 99.0),
    }
}

/// Engine options for the whole ONNX model, `logits` included, as the Python peer runs it.
fn whole_model(threads: Option<usize>) -> EngineOptions {
    EngineOptions {
        threads,
        onnx_logits: true,
    }
}

/// The engine alone (the whole ONNX model, like the Python peer) on `input`.
fn time_engine(
    args: &Args,
    pkg: &ModelPackage,
    kind: EngineKind,
    threads: Option<usize>,
    input: &WindowInput<'_>,
) -> Result<Figures, String> {
    let mut engine = open_engine(pkg, kind, &whole_model(threads)).map_err(|e| e.to_string())?;
    let mut out = EngineOutputs::default();
    Ok(time_calls(args, || {
        engine
            .run(input, &mut out)
            .expect("the engine ran on this window before")
    }))
}

/// `Classifier::classify` (the backbone on `kind` with one thread, the native head,
/// softmax), as the gateway recognizes a window.
fn time_classifier(
    args: &Args,
    pkg: &ModelPackage,
    kind: EngineKind,
    input: &WindowInput<'_>,
) -> Result<Figures, String> {
    let one_thread = EngineOptions {
        threads: Some(1),
        onnx_logits: false,
    };
    let mut classifier =
        Classifier::open_with(pkg, kind, &one_thread).map_err(|e| e.to_string())?;
    Ok(time_calls(args, || {
        classifier
            .classify(input)
            .expect("the classifier ran on this window before");
    }))
}

/// onnxruntime from Python, through bench/onnxruntime_latency.py.
fn time_python(args: &Args, python: &Path, npz: &Path, threads: usize) -> Result<Figures, String> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/onnxruntime_latency.py");
    let output = Command::new(python)
        .arg(&script)
        .arg("--model")
        .arg(args.model.join("model.onnx"))
        .arg("--npz")
        .arg(npz)
        .args([
            "--windows",
            &args.windows.to_string(),
            "--warmup",
            &args.warmup.to_string(),
        ])
        .args(["--threads", &threads.to_string()])
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("{}: {e}", script.display()))?;
    let field = |name: &str| {
        doc[name]
            .as_f64()
            .ok_or_else(|| format!("{}: no `{name}` in {doc}", script.display()))
    };
    Ok(Figures {
        p50: field("p50_ms")?,
        p99: field("p99_ms")?,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    if let Err(e) = run() {
        eprintln!("latency: {e}");
        std::process::exit(1);
    }
}

/// A named way to run one window, timed once per run.
type Contender<'a> = (String, Box<dyn Fn() -> Result<Figures, String> + 'a>);

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let pkg = ModelPackage::load(&args.model).map_err(|e| format!("{e}"))?;
    let npz_path = args.model.join("parity/b1_all.npz");
    let arrays = npz::read_f32(&npz_path);
    let get = |name: &str| {
        arrays
            .get(name)
            .ok_or_else(|| format!("{}: no `{name}`", npz_path.display()))
    };
    let (mmwave, wifi, rfid) = (get("mmwave")?, get("wifi")?, get("rfid")?);
    let input = WindowInput {
        mmwave: mmwave.row(0),
        wifi: wifi.row(0),
        rfid: rfid.row(0),
        present: [true; 3],
    };
    let a = &args;
    let (pkg, input) = (&pkg, &input);
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "tract (engine)".into(),
            Box::new(move || time_engine(a, pkg, EngineKind::Tract, None, input)),
        ),
        (
            "tract + native head (Classifier::classify)".into(),
            Box::new(move || time_classifier(a, pkg, EngineKind::Tract, input)),
        ),
    ];
    if cfg!(feature = "ort") {
        contenders.push((
            "ort, 1 intra-op thread".into(),
            Box::new(move || time_engine(a, pkg, EngineKind::Ort, Some(1), input)),
        ));
        contenders.push((
            "ort, default threads".into(),
            Box::new(move || time_engine(a, pkg, EngineKind::Ort, None, input)),
        ));
        contenders.push((
            "ort + native head (Classifier::classify)".into(),
            Box::new(move || time_classifier(a, pkg, EngineKind::Ort, input)),
        ));
    }
    if let Some(python) = &args.python {
        let npz = &npz_path;
        contenders.push((
            "onnxruntime (Python), 1 intra-op thread".into(),
            Box::new(move || time_python(a, python, npz, 1)),
        ));
        contenders.push((
            "onnxruntime (Python), default threads".into(),
            Box::new(move || time_python(a, python, npz, 0)),
        ));
    }
    let mut results: Vec<Vec<Figures>> = vec![Vec::new(); contenders.len()];
    for run in 1..=args.runs {
        eprintln!("run {run} of {}", args.runs);
        for ((_, time), figures) in contenders.iter().zip(&mut results) {
            figures.push(time()?);
        }
    }
    print_table(&args, pkg, &contenders, &results);
    Ok(())
}

fn print_table(
    args: &Args,
    pkg: &ModelPackage,
    contenders: &[Contender<'_>],
    results: &[Vec<Figures>],
) {
    println!(
        "model {} ({}), batch 1, {} timed windows per run after {} warm-up, median of {} runs",
        pkg.name(),
        args.model.display(),
        args.windows,
        args.warmup,
        args.runs
    );
    let medians: Vec<(f64, f64)> = results
        .iter()
        .map(|runs| {
            (
                median(runs.iter().map(|f| f.p50).collect()),
                median(runs.iter().map(|f| f.p99).collect()),
            )
        })
        .collect();
    // The reference for the ratio: ort with one thread (tract runs on one), else the first.
    let base = contenders
        .iter()
        .position(|(n, _)| n.starts_with("ort, 1"))
        .unwrap_or(0);
    println!(
        "{:<44} {:>9} {:>9} {:>12}",
        "engine", "p50 ms", "p99 ms", "p50 / ort-1"
    );
    for ((name, _), (p50, p99)) in contenders.iter().zip(&medians) {
        println!(
            "{name:<44} {p50:>9.3} {p99:>9.3} {:>11.2}x",
            p50 / medians[base].0
        );
    }
}
