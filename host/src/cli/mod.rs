//! The `dagr` command line: subcommands and flags that read as English, errors that name
//! the file and what was expected, and exit codes a script can trust (0 ok, 1 the input held
//! nothing decodable, 2 usage or I/O error).
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use dagr_host::capture::Speed;
use dagr_host::decode::Format;

mod dataset;
mod decode;
mod inspect;
mod record;
mod replay;
mod sim;
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
    /// Decode a recorded device byte stream and print one record per line.
    ///
    /// The input is read as it came off the wire (serial dump, socket dump or file);
    /// garbage between frames is skipped and counted. A summary of what was skipped or
    /// rejected goes to standard error.
    Decode {
        /// Device format of the input.
        #[arg(long, value_enum)]
        format: FormatArg,
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
        /// The capture file to write (replaced if it exists).
        #[arg(long, value_name = "FILE.mcap")]
        out: PathBuf,
        /// Stop after this many seconds (default: until the sources finish or a signal).
        #[arg(long, value_name = "S")]
        duration: Option<f64>,
    },
    /// Replay a capture through the decoders and print one record per line.
    ///
    /// Records come out paced by their recorded arrival times (real time by default), each
    /// with its source, modality and gateway time `t`; label annotations are printed among
    /// them in time order.
    Replay {
        /// The capture to replay.
        file: PathBuf,
        /// Playback speed factor (1 = as recorded).
        #[arg(long, value_name = "X", default_value = "1", conflicts_with = "max", value_parser = parse_speed)]
        speed: Speed,
        /// Do not wait: replay as fast as possible.
        #[arg(long)]
        max: bool,
        /// Print JSON lines (field names as in DESIGN.md) instead of human summaries.
        #[arg(long)]
        json: bool,
    },
    /// Simulate a room with a person and the radar, WiFi CSI and RFID devices watching it,
    /// and write what the devices send as a labeled capture.
    ///
    /// The same arguments always give a byte-identical file. Without --scenario the person
    /// does random activities (drawn from --seed) separated by short idle gaps. A scenario
    /// file has one `START_S END_S ACTIVITY` line per activity (`#` starts a comment);
    /// activities: empty_room walking sitting_down standing_up falling waving clapping
    /// kicking jumping bending turning drinking phone_call.
    Sim {
        /// Seed of everything random in the run (schedule, motions, device noise).
        #[arg(long, value_name = "N", default_value = "0")]
        seed: u64,
        /// Which room (geometry, furniture, devices, multipath, clutter).
        #[arg(long, value_name = "K", default_value = "0")]
        room: u32,
        /// Which person (height, build, speed, habits).
        #[arg(long, value_name = "K", default_value = "0")]
        subject: u32,
        /// Activity schedule file (default: random activities).
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
        /// The capture file to write (replaced if it exists).
        #[arg(long, value_name = "FILE.mcap", required_unless_present = "serve")]
        out: Option<PathBuf>,
        /// Seconds to simulate (default with --scenario: until its last activity ends, plus 1 s).
        #[arg(long, value_name = "S")]
        duration: Option<f64>,
        /// Serve the simulated devices live instead: pseudo-terminals for the radar and
        /// the CSI receivers, an LLRP reader on 127.0.0.1; prints one source URI per line
        /// for `dagr record`/`dagr run` and serves until --duration or SIGINT/SIGTERM.
        #[arg(long, conflicts_with = "out")]
        serve: bool,
        /// With --serve: the simulated LLRP reader's TCP port (default: any free port).
        #[arg(long, value_name = "PORT", requires = "serve", default_value = "0")]
        llrp_port: u16,
        /// With --serve: append each activity label as a JSON line when it starts.
        #[arg(long, value_name = "FILE", requires = "serve")]
        labels: Option<PathBuf>,
        /// CSI packets per second per WiFi link (with --out).
        #[arg(long, value_name = "HZ", default_value = "100")]
        csi_rate: f64,
        /// What the CSI receivers send (with --out): esp32-csi rows or intel5300 records.
        #[arg(long, value_name = "FORMAT", default_value = "esp32-csi", value_parser = ["esp32-csi", "intel5300"])]
        csi_format: String,
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
        /// Output directory (created if missing; files in it are replaced).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Window length, s.
        #[arg(long, value_name = "S", default_value = "2")]
        window: f64,
        /// Distance between window starts, s.
        #[arg(long, value_name = "S", default_value = "0.5")]
        hop: f64,
    },
}

fn parse_speed(text: &str) -> Result<Speed, String> {
    Speed::parse(text)
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// TI mmWave out-of-box demo UART data port
    #[value(name = "ti-mmwave")]
    TiMmwave,
    /// ESP32-CSI-Tool CSV rows
    #[value(name = "esp32-csi")]
    Esp32Csi,
    /// Espressif esp-csi CSV rows
    #[value(name = "esp-csi")]
    EspCsi,
    /// Intel 5300 CSI Tool .dat file
    #[value(name = "intel5300")]
    Intel5300,
    /// LLRP 1.0.1 reader messages
    #[value(name = "llrp")]
    Llrp,
    /// dagr node link frames
    #[value(name = "node")]
    Node,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::TiMmwave => Format::TiMmwave,
            FormatArg::Esp32Csi => Format::Esp32Csi,
            FormatArg::EspCsi => Format::EspCsi,
            FormatArg::Intel5300 => Format::Intel5300,
            FormatArg::Llrp => Format::Llrp,
            FormatArg::Node => Format::Node,
        }
    }
}

/// Runs the command line and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode { format, file, json } => decode::run(format.into(), &file, json),
        Command::Record {
            sources,
            out,
            duration,
        } => record::run(&sources, &out, duration),
        Command::Replay {
            file,
            speed,
            max,
            json,
        } => replay::run(&file, if max { Speed::Max } else { speed }, json),
        Command::Inspect { file, json } => inspect::run(&file, json),
        Command::Dataset {
            command:
                DatasetCommand::Export {
                    captures,
                    out,
                    window,
                    hop,
                },
        } => dataset::export_run(&captures, &out, window, hop),
        Command::Sim {
            seed,
            room,
            subject,
            scenario,
            out,
            duration,
            serve,
            llrp_port,
            labels,
            csi_rate,
            csi_format,
        } => sim::run(&sim::SimArgs {
            seed,
            room,
            subject,
            scenario,
            out,
            duration,
            serve,
            llrp_port,
            labels,
            csi_rate,
            intel5300: csi_format == "intel5300",
        }),
    }
}

/// True if writing failed because the reader of our output went away (`| head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}
