//! The `dagr` command line: subcommands and flags that read as English, errors that name
//! the file and what was expected, and exit codes a script can trust (0 ok, 1 the input held
//! nothing decodable, 2 usage or I/O error).
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use dagr_host::decode::{self, Format};

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
        Command::Decode { format, file, json } => run_decode(format.into(), &file, json),
    }
}

fn run_decode(format: Format, file: &PathBuf, json: bool) -> ExitCode {
    let name = file.display().to_string();
    let mut input: Box<dyn io::Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        match File::open(file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("dagr decode: cannot open {name}: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let report = match decode::decode(format, &mut input, json, &mut out) {
        Ok(r) => r,
        Err(e) if is_broken_pipe(&e) => return ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("dagr decode: {name}: {e:#}");
            return ExitCode::from(2);
        }
    };
    let s = report.stats;
    if s.bytes_skipped > 0 || s.frames_rejected > 0 {
        let why = s
            .last_error
            .map(|e| format!(" (last: {e})"))
            .unwrap_or_default();
        eprintln!(
            "dagr decode: {name}: {} records; skipped {} bytes, rejected {} frames{why}",
            report.records, s.bytes_skipped, s.frames_rejected
        );
    }
    if report.records == 0 && s.bytes_in > 0 {
        eprintln!(
            "dagr decode: {name}: no {format:?} records found in {} bytes",
            s.bytes_in
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}
