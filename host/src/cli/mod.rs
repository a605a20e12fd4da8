//! The `dagr` command line: subcommands and flags that read as English, errors that name
//! the file and what was expected, and exit codes a script can trust (0 ok, 1 the input held
//! nothing decodable, 2 usage or I/O error, 3 data lost, 4 refused by a check of the result).
//!
//! Each subcommand's module composes library pieces and returns a [`Failure`]; [`main`] is
//! the one place that prints it (`dagr COMMAND: what: why: cause`, ripgrep-style, on
//! standard error) and turns it into the exit code.
//!
//! The binary holds no gateway logic: what a command does beyond parsing its arguments and
//! printing its outcome belongs in the library, where `dagr run` and tests can reach it.
use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use dagr_host::capture::Speed;
use dagr_host::errors::chain;
use dagr_host::format::{Format, TABLE};
use dagr_host::output::{OutputError, Overwrite};
use dagr_infer::EngineKind;

mod adapt;
mod dataset;
mod decode;
#[cfg(feature = "sim")]
mod demo;
mod head;
mod inspect;
mod recognize_replay;
mod record;
mod replay;
mod run;
#[cfg(feature = "sim")]
mod sim;
#[cfg(feature = "sim")]
mod sim_serve;

#[derive(Parser)]
#[command(
    name = "dagr",
    version,
    about = "Edge gateway for live activity recognition from mmWave radar, WiFi CSI and UHF RFID"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: read the sources, recognize each window with the model, print one
    /// prediction per window.
    ///
    /// Windows (length and hop from the model's model.json) go out at their deadline
    /// whether or not every source delivered: a source that dies leaves its modality out
    /// of the prediction's `present` and is used again when it returns. Prints JSON lines
    /// (`t`, `start`, `class`, `score`, `probs`, `present`, `label`, `head`) when standard
    /// output is not a terminal or with --json, a human line per window otherwise; at the
    /// end a summary (latency, per-source records, memory and CPU) on standard error.
    ///
    /// With HTTP on, labels and head adaptation run on the live gateway (`POST /labels`,
    /// `POST /adapt`, `GET /adapt`, `POST /head/rollback`; writes need `[adapt] token`);
    /// with `[adapt] dir`, accepted heads are kept there and the newest is used at start.
    Run {
        /// The gateway's settings (TOML; every option and its default:
        /// host/gateway.example.toml). Flags override the file.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The model package (default: the committed models/reference, found beside the
        /// binary's checkout).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Source URI (repeatable; replaces the config's list): esp32-csi:///dev/ttyUSB0,
        /// ti-mmwave:///dev/ttyACM1?cli=..., node:///dev/ttyUSB1, llrp://HOST:5084,
        /// replay://FILE.mcap[?speed=X|?max].
        #[arg(long = "source", value_name = "URI")]
        sources: Vec<String>,
        /// Serve /status, /metrics, /events, /healthz and the adaptation endpoints over
        /// HTTP on this address (e.g. 127.0.0.1:8480; port 0 picks a free one, named on
        /// standard error).
        #[arg(long, value_name = "ADDR")]
        http: Option<std::net::SocketAddr>,
        /// Stop after this many seconds (default: until a signal or every source ends).
        #[arg(long, value_name = "S", value_parser = seconds_in(0.0, MAX_RECORD_S, true))]
        duration: Option<f64>,
        /// Print JSON lines even on a terminal.
        #[arg(long)]
        json: bool,
        /// The inference engine (overrides the config's `[model] engine`): tract (built
        /// in) or ort (ONNX Runtime: a build with the `ort` feature, the library at
        /// ORT_DYLIB_PATH).
        #[arg(long, value_name = "ENGINE")]
        engine: Option<EngineKind>,
    },
    /// Watch a simulated room live: simulated radar, WiFi CSI and RFID devices and the
    /// gateway with the reference model in one process, through the gateway's real
    /// sources (pseudo-terminals, LLRP on 127.0.0.1); each window's prediction is printed
    /// beside the activity the simulated person is really doing.
    #[cfg(feature = "sim")]
    Demo {
        #[command(flatten)]
        args: demo::DemoArgs,
    },
    /// Manage the adapted heads a gateway keeps in its `[adapt] dir`.
    Head {
        #[command(subcommand)]
        command: HeadCommand,
    },
    /// Decode a recorded device byte stream and print one record per line.
    ///
    /// The input is read as it came off the wire (serial dump, socket dump or file);
    /// garbage between frames is skipped and counted. A summary of what was skipped or
    /// rejected goes to standard error.
    Decode {
        /// Device format of the input.
        #[arg(long, value_parser = format_parser())]
        format: Format,
        /// File to decode (`-` reads standard input).
        file: PathBuf,
        /// Print JSON lines (field names as in DESIGN.md) instead of human summaries.
        #[arg(long)]
        json: bool,
    },
    /// Record every byte the sources receive into an MCAP capture.
    ///
    /// Runs until --duration has passed, every source has finished (a replayed capture
    /// ends), or SIGINT/SIGTERM; then completes the file and prints per source the bytes,
    /// chunks, records and drops to standard error. A capture cut short by a crash stays
    /// readable up to its last chunk (chunks are closed at least every second).
    Record {
        /// Source URI (repeatable): esp32-csi:///dev/ttyUSB0, ti-mmwave:///dev/ttyACM1?cli=...,
        /// node:///dev/ttyUSB1, llrp://HOST:5084, replay://FILE.mcap[?speed=X|?max].
        #[arg(long = "source", value_name = "URI", required = true)]
        sources: Vec<String>,
        /// The capture file to write. It must not exist unless --force is given; it is
        /// touched only once every source URI and .cfg was checked, and locked while
        /// written (a second recorder on it fails at start).
        #[arg(long, value_name = "FILE.mcap")]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
        /// Stop after this many seconds, at most 3.2e8 (default: until the sources finish
        /// or a signal).
        #[arg(long, value_name = "S", value_parser = seconds_in(0.0, MAX_RECORD_S, false))]
        duration: Option<f64>,
    },
    /// Replay a capture through the decoders and print one record per line, or with
    /// --model one prediction per window.
    ///
    /// Records come out paced by their recorded arrival times (real time by default), each
    /// with its source, modality and gateway time `t`; label annotations are printed among
    /// them in time order. With --model the capture is read at full speed through the
    /// gateway's pipeline (as `dagr dataset export` cuts it) and each window's prediction
    /// is printed with the capture's label covering the window's centre; accuracy,
    /// per-class recall and the confusion matrix go to standard error.
    Replay {
        /// The capture to replay.
        file: PathBuf,
        /// Recognize windows with this model package (e.g. models/reference).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Playback speed factor (1 = as recorded).
        #[arg(long, value_name = "X", default_value = "1", conflicts_with = "max", value_parser = Speed::parse)]
        speed: Speed,
        /// Do not wait: replay as fast as possible.
        #[arg(long)]
        max: bool,
        /// Print JSON lines (field names as in DESIGN.md) instead of human summaries.
        #[arg(long)]
        json: bool,
        /// The inference engine that runs the model: tract (built in) or ort (ONNX Runtime:
        /// a build with the `ort` feature, the library at ORT_DYLIB_PATH).
        #[arg(
            long,
            value_name = "ENGINE",
            default_value = "tract",
            requires = "model"
        )]
        engine: EngineKind,
    },
    /// Simulate a room with a person and the radar, WiFi CSI and RFID devices watching it,
    /// and write what the devices send as a labeled capture.
    ///
    /// The same arguments always give a byte-identical file. Without --scenario the person
    /// does random activities (drawn from --seed) separated by short idle gaps. A scenario
    /// file has one `START_S END_S ACTIVITY` line per activity (`#` starts a comment);
    /// activities: empty_room walking sitting_down standing_up falling waving clapping
    /// kicking jumping bending turning drinking phone_call.
    /// Simulate a room with a person and the radar, WiFi CSI and RFID devices watching it,
    /// and write what the devices send as a labeled capture.
    ///
    /// The same arguments always give a byte-identical file. Without --scenario the person
    /// does random activities (drawn from --seed) separated by short idle gaps. A scenario
    /// file has one `START_S END_S ACTIVITY` line per activity (`#` starts a comment);
    /// activities: empty_room walking sitting_down standing_up falling waving clapping
    /// kicking jumping bending turning drinking phone_call.
    #[cfg(feature = "sim")]
    Sim {
        #[command(flatten)]
        args: sim::SimArgs,
    },
    /// Adapt a model's classifier head to labeled captures (a new room, new people) and
    /// write the adapted model package.
    ///
    /// The captures' windows go through the model as in `dagr replay --model`; each window
    /// a label covers keeps its backbone features and class. The head is trained on them
    /// under the model's DAGR settings (model.json `dagr`), a share of each class held out:
    /// progress per epoch and the held-out accuracy before and after go to standard error.
    /// The package (head.safetensors, model.onnx carrying the new head, model.json with an
    /// `adaptation` record) is written only when the adapted head does better on the
    /// held-out windows than the start (else exit 4, nothing written) or with
    /// --accept-worse. Bad labels (none, a class the model lacks, a class without windows)
    /// stop it before anything is written (exit 2).
    Adapt {
        #[command(flatten)]
        args: adapt::AdaptArgs,
    },
    /// Build training data from labeled captures.
    Dataset {
        #[command(subcommand)]
        command: DatasetCommand,
    },
    /// Report what a capture holds per stream: bytes, records, rate, span, gaps, decoder
    /// counters and clock offset, and whether the file is complete.
    Inspect {
        /// The capture to inspect.
        file: PathBuf,
        /// Print one JSON object instead of the human report.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DatasetCommand {
    /// Cut labeled captures into windows and write the model's input tensors.
    ///
    /// Each capture is replayed at full speed through the gateway's decoders, clock models,
    /// synchronizer and preprocessing. A window takes the class of the label covering its
    /// centre; windows without one are skipped. Writes one CAPTURE.safetensors per capture
    /// (wifi, rfid, mmwave, present, label, room, subject, start_s), dataset.json (classes,
    /// shapes, preprocessing, counts) and splits.json (held-out rooms and subjects).
    Export {
        /// Captures to export (`dagr sim` or `dagr record` output).
        #[arg(required = true, value_name = "CAPTURE")]
        captures: Vec<PathBuf>,
        /// Output directory. It must not exist unless --force is given; it is built under
        /// a temporary name beside it and renamed when complete (a failure leaves nothing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Replace --out (the whole directory) if it exists.
        #[arg(long)]
        force: bool,
        /// Window length, s (0.05 to 60).
        #[arg(long, value_name = "S", default_value = "2",
              value_parser = seconds_in(WINDOW_S.0, WINDOW_S.1, false))]
        window: f64,
        /// Distance between window starts, s (0.01 to --window).
        #[arg(long, value_name = "S", default_value = "0.5",
              value_parser = seconds_in(MIN_HOP_S, WINDOW_S.1, false))]
        hop: f64,
    },
}

/// Longest `dagr record --duration`, s (ten years; beyond it, leave --duration out).
pub const MAX_RECORD_S: f64 = 3.2e8;
#[cfg(feature = "sim")]
/// Longest simulated run, s (about 11.6 days; the plan is drawn as the run plays, but a
/// random schedule is drawn through once for its end before the first byte).
pub const MAX_SIM_S: f64 = 1e6;
/// Window lengths `dataset export` accepts, s.
pub const WINDOW_S: (f64, f64) = (0.05, 60.0);
/// Smallest hop of `dataset export`, s (a window every 10 ms).
pub const MIN_HOP_S: f64 = 0.01;

/// A value parser for a number of seconds within `[lo, hi]` (`lo` excluded when
/// `lo_open`), saying the range when the value is outside it or not a number.
pub fn seconds_in(
    lo: f64,
    hi: f64,
    lo_open: bool,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let value = text.parse::<f64>().ok().filter(|v| {
            let above = if lo_open { *v > lo } else { *v >= lo };
            above && *v <= hi
        });
        let bracket = if lo_open { '(' } else { '[' };
        value.ok_or_else(|| format!("expected seconds in {bracket}{lo}, {hi}]"))
    }
}

/// `--format`'s values and their help, from the format table.
fn format_parser() -> impl TypedValueParser<Value = Format> {
    let values = TABLE
        .iter()
        .map(|row| PossibleValue::new(row.name).help(row.help));
    PossibleValuesParser::new(values)
        .map(|name| Format::from_name(&name).expect("the parser accepts only the table's names"))
}

/// How a command failed, which decides its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The input held nothing decodable (exit 1); the text says what was read.
    NothingDecodable(String),
    /// Part of a damaged input was lost (exit 3); everything readable was still output, and
    /// the text names the file and what was skipped.
    DataLost(String),
    /// A usage, configuration or I/O error (exit 2), with its chain of causes.
    Error(Box<dyn Error + Send + Sync>),
    /// The work was done but a check of its result refused it, so nothing was written
    /// (exit 4): `dagr adapt`'s validation gate. The text says why and how to override.
    Refused(String),
}

impl<E: Error + Send + Sync + 'static> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Error(Box::new(error))
    }
}

/// A command-line value out of range, or a combination of flags that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// An error a library part reports as text only (the simulator's virtual devices).
#[cfg(feature = "sim")]
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TextError(pub String);

/// An error with what was being done when it happened.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct InContext {
    /// What was being done (`cannot create FILE`...).
    pub context: String,
    /// Why it failed.
    #[source]
    pub source: Box<dyn Error + Send + Sync>,
}

/// Wraps an error with what was being done.
pub fn context<E: Error + Send + Sync + 'static>(
    context: impl Into<String>,
) -> impl FnOnce(E) -> InContext {
    let context = context.into();
    move |source| InContext {
        context,
        source: Box::new(source),
    }
}

/// An output error as the user says it: an existing `--out` names the flag that allows
/// replacing it.
pub fn out_error<T>(result: Result<T, OutputError>) -> Result<T, Failure> {
    result.map_err(|e| match e {
        OutputError::Exists { path } => UsageError(format!(
            "--out {}: exists (use --force to overwrite)",
            path.display()
        ))
        .into(),
        e => e.into(),
    })
}

/// A command's outcome.
pub type Outcome = Result<(), Failure>;

/// Runs the command line; prints a failure and maps it to the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let name = cli.command.name();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::NothingDecodable(message)) => {
            eprintln!("dagr {name}: {message}");
            ExitCode::from(1)
        }
        Err(Failure::DataLost(message)) => {
            eprintln!("dagr {name}: {message}");
            ExitCode::from(3)
        }
        Err(Failure::Refused(message)) => {
            eprintln!("dagr {name}: {message}");
            ExitCode::from(4)
        }
        Err(Failure::Error(error)) => {
            eprintln!("dagr {name}: {}", chain(error.as_ref()));
            ExitCode::from(2)
        }
    }
}

/// Sources' state changes and other progress go to standard error through tracing:
/// `info` and above of dagr's own messages by default, `RUST_LOG` (e.g. `RUST_LOG=debug`,
/// `RUST_LOG=off`) overrides.
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("dagr_host=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_target(false)
        .init();
}

fn run(command: Command) -> Outcome {
    match command {
        Command::Decode { format, file, json } => decode::run(format, &file, json),
        Command::Record {
            sources,
            out,
            duration,
            force,
        } => record::run(&sources, &out, duration, Overwrite::forced(force)),
        Command::Replay {
            file,
            model: Some(model),
            json,
            engine,
            ..
        } => recognize_replay::run(&file, &model, engine, json),
        Command::Replay {
            file,
            speed,
            max,
            json,
            model: None,
            ..
        } => replay::run(&file, if max { Speed::Max } else { speed }, json),
        Command::Inspect { file, json } => inspect::run(&file, json),
        Command::Dataset {
            command:
                DatasetCommand::Export {
                    captures,
                    out,
                    window,
                    hop,
                    force,
                },
        } => dataset::export_run(&captures, &out, window, hop, Overwrite::forced(force)),
        #[cfg(feature = "sim")]
        Command::Sim { args } => sim::run(&args),
        Command::Run {
            config,
            model,
            sources,
            http,
            duration,
            json,
            engine,
        } => run::run(run::RunArgs {
            config,
            model,
            sources,
            http,
            duration,
            json,
            engine,
        }),
        #[cfg(feature = "sim")]
        Command::Demo { args } => demo::run(&args),
        Command::Adapt { args } => adapt::run(&args),
        Command::Head {
            command: HeadCommand::Rollback { state },
        } => head::rollback(&state),
    }
}

impl Command {
    /// The subcommand's name, as messages start with it.
    fn name(&self) -> &'static str {
        match self {
            Command::Decode { .. } => "decode",
            Command::Record { .. } => "record",
            Command::Replay { .. } => "replay",
            Command::Inspect { .. } => "inspect",
            Command::Dataset { .. } => "dataset export",
            #[cfg(feature = "sim")]
            Command::Sim { .. } => "sim",
            Command::Run { .. } => "run",
            #[cfg(feature = "sim")]
            Command::Demo { .. } => "demo",
            Command::Adapt { .. } => "adapt",
            Command::Head { .. } => "head rollback",
        }
    }
}

/// `dagr head` subcommands.
#[derive(Subcommand)]
enum HeadCommand {
    /// Roll a stopped gateway back to the head before its newest adapted one: the newest
    /// `head-N/` in DIR is renamed `rolled-back-N/` (kept, never loaded), so the next
    /// `dagr run` uses the one before it, or the model's own head when none is left. A
    /// running gateway rolls back with `POST /head/rollback` instead.
    Rollback {
        /// The gateway's state directory (`[adapt] dir` in its config).
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
}
