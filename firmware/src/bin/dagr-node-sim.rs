//! dagr-node-sim: the dagr node firmware core running on a PC, speaking the node link
//! protocol on a serial device or pseudo-terminal, with synthetic sensors.
//!
//! It answers time-sync requests and commands arriving on the same port. Exits 0 after
//! `--duration` or on SIGTERM / SIGINT, 1 when the port cannot be opened or fails, 2 on
//! bad flags.
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use dagr_firmware::sim::{self, SimOptions, READ_TIMEOUT};

/// A simulated dagr sensor node on a serial port.
#[derive(Debug, Parser)]
#[command(name = "dagr-node-sim", version)]
struct Args {
    /// Serial device or pty to speak on (e.g. /dev/ttyUSB0, /dev/pts/3).
    #[arg(long, value_name = "PATH")]
    port: String,
    /// Baud rate (ignored by ptys).
    #[arg(long, value_name = "N", default_value_t = 921_600)]
    baud: u32,
    /// Node id at boot (1..=65534; 0 = unassigned).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(0..=0xFFFE))]
    node_id: u16,
    /// Run a CSI receiver at this many packets per second (64 subcarriers, slowly
    /// rotating phase).
    #[arg(long, value_name = "HZ", value_parser = parse_rate)]
    csi_rate: Option<f64>,
    /// Run a radar: one person walking a circle, 8 points per frame, 20 frames per second.
    #[arg(long)]
    radar: bool,
    /// Run an RFID reader: three tags, 10 inventory rounds per second.
    #[arg(long)]
    rfid: bool,
    /// Stop after this many seconds (default: run until SIGTERM / SIGINT).
    #[arg(long, value_name = "S")]
    duration: Option<f64>,
    /// Milliseconds between heartbeats (0 = off).
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    heartbeat_ms: u32,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(hz) if (0.001..=2_000.0).contains(&hz) => Ok(hz),
        Ok(hz) => Err(format!("{hz} Hz is outside 0.001..=2000")),
        Err(e) => Err(format!("expected a rate in Hz: {e}")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.csi_rate.is_none() && !args.radar && !args.rfid {
        eprintln!("dagr-node-sim: no sensor selected: pass --csi-rate HZ, --radar and/or --rfid");
        return ExitCode::from(2);
    }
    let duration = match args.duration.map(Duration::try_from_secs_f64).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("dagr-node-sim: --duration: expected a non-negative number of seconds: {e}");
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            eprintln!("dagr-node-sim: cannot install the handler for signal {signal}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let opened = serialport::new(&args.port, args.baud)
        .timeout(READ_TIMEOUT)
        .open_native()
        .and_then(|reader| Ok((reader.try_clone_native()?, reader)));
    let (writer, reader) = match opened {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("dagr-node-sim: cannot open serial port {}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let options = SimOptions {
        node_id: args.node_id,
        csi_rate_hz: args.csi_rate,
        radar: args.radar,
        rfid: args.rfid,
        duration,
        heartbeat_ms: args.heartbeat_ms,
    };
    match sim::run(reader, writer, &options, &stop) {
        Ok(report) => {
            let c = report.counters;
            eprintln!(
                "dagr-node-sim: node {} on {}: {} frames sent, {} samples, {} dropped (ring full), {} send failures, {} link errors, {} crc errors",
                args.node_id, args.port, c.frames_sent, c.samples_taken, report.dropped, c.send_failures, c.link_errors, c.crc_errors
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dagr-node-sim: {}: {e}", args.port);
            ExitCode::FAILURE
        }
    }
}
