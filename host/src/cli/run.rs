//! `dagr run`: the gateway's main job. Sources -> pipeline -> recognizer -> one prediction
//! per window on stdout: JSON lines (DESIGN.md's fields) when stdout is a file or a pipe or
//! with --json, one human line per window on a terminal. Source state changes go to
//! standard error as they happen; at the end, a summary there: windows, deadline-to-
//! prediction latency (p50/p99), per-source records and state, and the process's memory
//! and CPU share since the first prediction.
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dagr_host::clock::GatewayClock;
use dagr_host::recognize::live::{Labeler, LiveRecognizer, PredictionOutput};
use dagr_host::recognize::{default_model_dir, Recognizer};
use dagr_host::runtime::{watch_signals, Gateway, Interrupt, Until};
use dagr_host::source::{self, Output, SourceUri};
use dagr_infer::EngineKind;

use super::{context, Failure, Outcome, UsageError};

/// What `dagr run` and `dagr demo` ask of the live gateway.
pub struct LiveArgs<'a> {
    /// Source URIs.
    pub sources: &'a [String],
    /// The model package (`None`: the committed reference).
    pub model: Option<&'a Path>,
    /// Stop after this long (`None`: until a signal or every source ends).
    pub duration: Option<f64>,
    /// JSON lines even on a terminal.
    pub json: bool,
}

/// Runs the live gateway; see `dagr run --help`.
pub fn run(args: &LiveArgs<'_>) -> Outcome {
    let interrupt = watch_signals()?;
    let recognizer = open_model(args.model)?;
    let clock = GatewayClock::new();
    run_live(args, recognizer, clock, None, &interrupt, "run")
}

/// The model package at `model`, or the reference one.
pub fn open_model(model: Option<&Path>) -> Result<Recognizer, Failure> {
    let dir: PathBuf = model.map_or_else(default_model_dir, Path::to_path_buf);
    let recognizer = Recognizer::open(&dir, EngineKind::Tract)?;
    tracing::info!(
        "model {} ({}): {} classes, {} s windows every {} s",
        recognizer.package().name(),
        dir.display(),
        recognizer.classes().len(),
        recognizer.spec().window_s,
        recognizer.spec().hop_s
    );
    Ok(recognizer)
}

/// Starts the sources, recognizes their windows until `args.duration`, `interrupt` or the
/// end of every source, then prints the summary (`command` names the subcommand).
pub fn run_live(
    args: &LiveArgs<'_>,
    recognizer: Recognizer,
    clock: GatewayClock,
    labeler: Option<Labeler>,
    interrupt: &Interrupt,
    command: &str,
) -> Outcome {
    if args.sources.is_empty() {
        return Err(UsageError("give at least one --source URI".into()).into());
    }
    let mut uris = Vec::new();
    for text in args.sources {
        let uri = SourceUri::parse(text).map_err(context(format!("--source {text}")))?;
        source::check(&uri).map_err(context(format!("--source {text}")))?;
        uris.push(uri);
    }
    let usage = UsageProbe::default();
    let first = usage.clone();
    let mut output = output(args.json || !io::stdout().is_terminal());
    let output: PredictionOutput = Box::new(move |p, latency| {
        first.mark_first();
        output(p, latency)
    });
    let mut sink = LiveRecognizer::new(recognizer, clock, output)?;
    if let Some(labeler) = labeler {
        sink = sink.with_labeler(labeler);
    }
    let gateway = Gateway::start(&uris, clock, Output::ChunksAndRecords)?;
    let until = Until {
        deadline: args
            .duration
            .map(|s| Instant::now() + Duration::from_secs_f64(s)),
        interrupt: Some(interrupt.clone()),
    };
    let pumped = gateway.pump(&mut sink, &until);
    let stopped = gateway.stop(&mut sink);
    gateway.join()?;
    match pumped.and(stopped) {
        Err(dagr_host::recognize::live::LiveError::Output(e))
            if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    eprint!("{}", summary(command, &sink, &usage));
    Ok(())
}

/// Prints each prediction: JSON or a human line, flushed at once (a live stream).
fn output(json: bool) -> impl FnMut(&dagr_host::recognize::Prediction, Duration) -> io::Result<()> {
    move |p, _| {
        let mut out = io::stdout().lock();
        if json {
            writeln!(out, "{}", p.to_json())?;
        } else {
            writeln!(out, "{p}")?;
        }
        out.flush()
    }
}

/// The end-of-run summary.
fn summary(command: &str, sink: &LiveRecognizer, usage: &UsageProbe) -> String {
    let mut text = String::new();
    let lat = sink.latencies();
    let ms = |q: f64| lat.quantile(q).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    text.push_str(&format!(
        "dagr {command}: {} windows recognized; deadline-to-prediction latency p50 {:.2} ms, \
         p99 {:.2} ms\n",
        lat.len(),
        ms(0.5),
        ms(0.99)
    ));
    for (name, seen) in sink.sources() {
        text.push_str(&format!(
            "  {name}: {} records, last state {:?}\n",
            seen.records, seen.state
        ));
    }
    text.push_str(&format!("  {}\n", usage.report()));
    text
}

/// The process's own CPU time and memory (Linux /proc), read at the first prediction and
/// at the end, so the CPU share leaves out start-up (model loading, optimization).
#[derive(Debug, Clone, Default)]
struct UsageProbe {
    first: std::sync::Arc<std::sync::OnceLock<(Instant, Option<f64>)>>,
}

impl UsageProbe {
    /// Notes the time and CPU seconds of the first prediction (later calls do nothing).
    fn mark_first(&self) {
        self.first.get_or_init(|| (Instant::now(), cpu_seconds()));
    }

    /// `steady state: CPU x % of a core over y s; RSS a MB (peak b MB)`.
    fn report(&self) -> String {
        let share = match (self.first.get(), cpu_seconds()) {
            (Some((at, Some(cpu0))), Some(cpu1)) => {
                let wall = at.elapsed().as_secs_f64();
                format!(
                    "CPU {:.1} % of a core over {wall:.1} s since the first prediction",
                    (cpu1 - cpu0) / wall.max(1e-9) * 100.0
                )
            }
            _ => "CPU share unknown (no prediction or no /proc)".to_string(),
        };
        let mb = |key| status_kb(key).map_or(f64::NAN, |kb| kb as f64 / 1024.0);
        format!(
            "{share}; RSS {:.1} MB (peak {:.1} MB)",
            mb("VmRSS:"),
            mb("VmHWM:")
        )
    }
}

/// User + system CPU seconds of this process (`/proc/self/stat`, clock ticks at 100 Hz as
/// on every Linux the gateway targets).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// A `kB` line of `/proc/self/status`.
fn status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}
