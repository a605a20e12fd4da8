//! `dagr run`: the gateway's main job. Sources -> pipeline -> recognizer -> one prediction
//! per window on stdout: JSON lines (DESIGN.md's fields) when stdout is a file or a pipe or
//! with --json, one human line per window on a terminal. Settings come from `--config
//! gateway.toml` (every option with its default: host/gateway.example.toml) with the
//! flags on top; `--http ADDR` (or `[http]`) serves /status, /metrics, /events, /healthz,
//! and labels and head adaptation (`/labels`, `/adapt`, `/head/rollback`, writes behind
//! `[adapt] token`); with `[adapt] dir`, accepted heads are kept there and the newest is
//! used at the next start (said on standard error). Source state changes go to
//! standard error as they happen; at the end, a summary there: windows, deadline-to-
//! prediction latency (p50/p99), per-source records and state, and the process's memory
//! and CPU share since the first prediction.
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dagr_host::adapt::AdaptSettings;
use dagr_host::clock::GatewayClock;
use dagr_host::config::{Engine, GatewayConfig, ModelConfig, OutputMode, Overrides};
use dagr_host::http::{self, ControlMount, PredictionFeed, WriteToken};
use dagr_host::online::store::HeadStore;
use dagr_host::online::{HeadVersion, OnlineAdaptation, Setup};
use dagr_host::preprocess::tag_order::TagOrder;
use dagr_host::recognize::live::{Adaptation, LiveError, LiveRecognizer, PredictionOutput};
use dagr_host::recognize::{default_model_dir, priority, Recognizer};
use dagr_host::runtime::{watch_signals, Gateway, Interrupt, Until};
use dagr_host::source::{self, Output};
use dagr_host::status::process::{cpu_seconds, status_kb};
use dagr_host::status::{ModelStatus, StatusBoard, StatusTracker};
use dagr_infer::EngineKind;

use super::{context, Failure, Outcome, UsageError};

/// What `dagr run` was asked for on its command line.
pub struct RunArgs {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--model DIR`.
    pub model: Option<PathBuf>,
    /// `--source URI...`.
    pub sources: Vec<String>,
    /// `--http ADDR`.
    pub http: Option<SocketAddr>,
    /// `--duration S`.
    pub duration: Option<f64>,
    /// `--json`.
    pub json: bool,
    /// `--engine tract|ort`.
    pub engine: Option<EngineKind>,
}

/// Runs the live gateway; see `dagr run --help`.
pub fn run(args: RunArgs) -> Outcome {
    let overrides = Overrides {
        model: args.model,
        engine: args.engine.map(Engine::from),
        sources: (!args.sources.is_empty()).then_some(args.sources),
        http: args.http,
        output: args.json.then_some(OutputMode::Json),
    };
    let config = GatewayConfig::resolve(args.config.as_deref(), overrides)?;
    let interrupt = watch_signals()?;
    let recognizer = open_model(&config)?;
    run_live(
        &config,
        recognizer,
        GatewayClock::new(),
        &Live {
            duration: args.duration,
            interrupt,
            command: "run",
        },
    )
}

/// The model directory `config` names: as given when it exists; the committed reference
/// model (found beside the binary) when it is the default, relative one that does not
/// exist from here.
fn model_dir(config: &ModelConfig) -> PathBuf {
    let default = ModelConfig::default().dir;
    if config.dir == default && !config.dir.exists() {
        default_model_dir()
    } else {
        config.dir.clone()
    }
}

/// The model package `config` names, on its engine, with its RFID tag list.
pub fn open_model(config: &GatewayConfig) -> Result<Recognizer, Failure> {
    open_model_at(config, &model_dir(&config.model))
}

/// The model package in `dir`, on `config`'s engine, with its RFID tag list.
fn open_model_at(config: &GatewayConfig, dir: &Path) -> Result<Recognizer, Failure> {
    let engine = EngineKind::from(config.model.engine);
    let mut recognizer = Recognizer::open(dir, engine)?;
    if !config.rfid.tags.is_empty() {
        let order = TagOrder::from_hex(&config.rfid.tags).map_err(context("rfid.tags"))?;
        recognizer = recognizer.with_tag_order(order);
    }
    tracing::info!(
        "model {} ({}, {}): {} classes, {} s windows every {} s",
        recognizer.package().name(),
        dir.display(),
        engine.name(),
        recognizer.classes().len(),
        recognizer.spec().window_s,
        recognizer.spec().hop_s
    );
    Ok(recognizer)
}

/// How a live run ends and what it is called.
pub struct Live {
    /// Stop after this long (`None`: until a signal or every source ends).
    pub duration: Option<f64>,
    /// Set by SIGINT/SIGTERM.
    pub interrupt: Interrupt,
    /// The subcommand, for messages.
    pub command: &'static str,
}

/// Starts `config`'s sources (and HTTP server), recognizes their windows until the run
/// ends, then prints the summary. `recognizer` may carry a labeler (the demo's truth).
pub fn run_live(
    config: &GatewayConfig,
    recognizer: Recognizer,
    clock: GatewayClock,
    live: &Live,
) -> Outcome {
    run_live_labeled(config, recognizer, clock, None, live)
}

/// [`run_live`] with `labeler` giving each window its ground truth.
pub fn run_live_labeled(
    config: &GatewayConfig,
    recognizer: Recognizer,
    clock: GatewayClock,
    labeler: Option<dagr_host::recognize::live::Labeler>,
    live: &Live,
) -> Outcome {
    if config.sources.is_empty() {
        return Err(
            UsageError("no source: give --source URI or `sources` in --config".into()).into(),
        );
    }
    let uris = config.source_uris().map_err(context("sources"))?;
    for uri in &uris {
        source::check(uri).map_err(context(format!("source {}", uri.text)))?;
    }
    let (recognizer, online) = open_online(config, recognizer, live.command)?;
    let board = StatusBoard::new(ModelStatus {
        name: recognizer.package().name().to_string(),
        engine: recognizer.engine().name().to_string(),
    });
    let (window_ns, hop_ns) = recognizer.geometry_ns();
    let sync = config
        .sync
        .sync_config(window_ns, hop_ns, recognizer.rates_hz());
    let feed = PredictionFeed::new(config.http.events_buffer, board.clone());
    let (mount, adaptation) = match online {
        Some((control, adaptation)) => {
            let mount = ControlMount {
                control: Arc::new(control),
                token: WriteToken::new(&config.adapt.token),
            };
            (Some(mount), Some(adaptation))
        }
        None => (None, None),
    };
    let server = if config.http.enabled {
        Some(http::start_with_control(
            config.http.address,
            board.clone(),
            feed.clone(),
            mount,
        )?)
    } else {
        None
    };
    let usage = UsageProbe::default();
    let json = match config.output {
        OutputMode::Json => true,
        OutputMode::Human => false,
        OutputMode::Auto => !io::stdout().is_terminal(),
    };
    let mut print = output(json);
    let first = usage.clone();
    let publish = server.is_some().then(|| feed.clone());
    let output: PredictionOutput = Box::new(move |p, latency| {
        first.note_prediction();
        if let Some(feed) = &publish {
            feed.publish(Arc::from(p.to_json().to_string()));
        }
        print(p, latency)
    });
    let gateway = Gateway::start_with_queue(
        &uris,
        clock,
        Output::ChunksAndRecords,
        config.queue.source_queue(),
    )?;
    let tracker = StatusTracker::new(board, clock, gateway.sources());
    let mut sink = LiveRecognizer::new(recognizer, sync, clock, output)?.with_status(tracker);
    if let Some(labeler) = labeler {
        sink = sink.with_labeler(labeler);
    }
    if let Some(adaptation) = adaptation {
        sink = sink.with_adaptation(adaptation);
    }
    let until = Until {
        deadline: live
            .duration
            .map(|s| Instant::now() + Duration::from_secs_f64(s)),
        interrupt: Some(live.interrupt.clone()),
    };
    // This thread recognizes the windows: ahead of the sources' and the server's threads
    // (started above) and of other programs where the system allows it.
    priority::favour_current_thread();
    let pumped = gateway.pump(&mut sink, &until);
    let stopped = gateway.stop(&mut sink);
    if let Some(server) = server {
        server.stop()?;
    }
    gateway.join()?;
    match pumped.and(stopped) {
        Err(LiveError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    eprint!("{}", summary(live.command, &sink, &usage));
    Ok(())
}

/// The recognizer to run, on the newest head stored in `[adapt] dir` when there is one,
/// and online adaptation (labels, background adaptation, rollback) when HTTP serves it.
fn open_online(
    config: &GatewayConfig,
    recognizer: Recognizer,
    command: &str,
) -> Result<(Recognizer, Option<(OnlineAdaptation, Adaptation)>), Failure> {
    let store = if config.adapt.dir.as_os_str().is_empty() {
        None
    } else {
        Some(HeadStore::open(&config.adapt.dir)?)
    };
    let (recognizer, previous) = match &store {
        Some(store) => resume(config, recognizer, store, command)?,
        None => (recognizer, None),
    };
    if !config.http.enabled {
        return Ok((recognizer, None));
    }
    let settings = match AdaptSettings::from_package(recognizer.package()) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::warn!(
                "no adaptation on this gateway: model {}'s adaptation settings: {error}",
                recognizer.package().name()
            );
            return Ok((recognizer, None));
        }
    };
    let current = HeadVersion {
        version: recognizer.head_version(),
        params: recognizer.head_params().to_vec(),
        norm_band: recognizer.norm_band(),
    };
    let (control, adaptation) = OnlineAdaptation::new(Setup {
        package: recognizer.package().clone(),
        current,
        previous,
        settings,
        store,
        recent_windows: config.adapt.recent_windows(recognizer.spec().hop_s),
        max_labeled: config.adapt.max_labeled,
    });
    Ok((recognizer, Some((control, adaptation))))
}

/// Switches to the newest head in `store` (a complete package: its own model.onnx and
/// head) after checking it belongs to the configured model, and finds the head before it
/// for rollback (the model's own head when it is the only one stored).
fn resume(
    config: &GatewayConfig,
    recognizer: Recognizer,
    store: &HeadStore,
    command: &str,
) -> Result<(Recognizer, Option<HeadVersion>), Failure> {
    let heads = store.heads()?;
    let Some(newest) = heads.first() else {
        return Ok((recognizer, None));
    };
    let model = recognizer.package();
    store.load(newest, model)?;
    let previous = match heads.get(1) {
        Some(before) => {
            let package = store.load(before, model)?;
            HeadVersion {
                version: before.version,
                params: package.head_params().to_vec(),
                norm_band: package.norm_band(),
            }
        }
        None => HeadVersion {
            version: recognizer.head_version(),
            params: recognizer.head_params().to_vec(),
            norm_band: recognizer.norm_band(),
        },
    };
    let parent = newest.parent().unwrap_or_else(|| "(unrecorded)".into());
    let mut adapted = open_model_at(config, &newest.dir)?;
    let params = adapted.head_params().to_vec();
    let band = adapted.norm_band();
    adapted.replace_head(params, band, newest.version)?;
    eprintln!(
        "dagr {command}: using adapted head {} from {} (adapted from model {parent}; the \
         configured model is {} in {}); head {} before it is kept for rollback",
        newest.version,
        newest.dir.display(),
        model.name(),
        model_dir(&config.model).display(),
        previous.version
    );
    Ok((adapted, Some(previous)))
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
    if let Some(tally) = sink.tally() {
        text.push_str(&format!("dagr {command}: {tally}"));
    }
    text
}

/// The process's own CPU time and memory (Linux /proc): CPU read at the first prediction
/// and at the end, so the share leaves out start-up (model loading, optimization); resident
/// memory sampled while predictions flow (at most once a second), so the steady state is
/// what the gateway held with every source running, not after they were stopped.
#[derive(Debug, Clone, Default)]
struct UsageProbe {
    first: Arc<std::sync::OnceLock<(Instant, Option<f64>)>>,
    resident: Arc<Mutex<ResidentSamples>>,
}

/// Resident-set samples taken while predicting.
#[derive(Debug, Default)]
struct ResidentSamples {
    at: Option<Instant>,
    last_kb: Option<u64>,
    max_kb: u64,
}

impl UsageProbe {
    /// Notes a prediction: the time and CPU seconds of the first one, and the resident
    /// memory when a second has passed since the last sample.
    fn note_prediction(&self) {
        self.first.get_or_init(|| (Instant::now(), cpu_seconds()));
        let mut resident = self.resident.lock().unwrap_or_else(|e| e.into_inner());
        if resident
            .at
            .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        resident.at = Some(Instant::now());
        resident.last_kb = status_kb("VmRSS:");
        resident.max_kb = resident.max_kb.max(resident.last_kb.unwrap_or(0));
    }

    /// `CPU x % of a core over y s since the first prediction; RSS a MB while predicting
    /// (at most b MB, peak c MB)`: a the last sample, b the largest, c the process's
    /// high-water mark including start-up.
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
        let mb = |kb: Option<u64>| kb.map_or(f64::NAN, |kb| kb as f64 / 1024.0);
        let resident = self.resident.lock().unwrap_or_else(|e| e.into_inner());
        // The kernel updates VmHWM lazily; a sample may be above it.
        let peak = status_kb("VmHWM:").map(|kb| kb.max(resident.max_kb));
        format!(
            "{share}; RSS {:.1} MB while predicting (at most {:.1} MB, peak {:.1} MB)",
            mb(resident.last_kb),
            mb(resident.last_kb.map(|_| resident.max_kb)),
            mb(peak)
        )
    }
}
