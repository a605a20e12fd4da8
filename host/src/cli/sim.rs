//! `dagr sim`: the digital twin written to a capture: room K, subject K, a scripted or
//! random schedule, every simulated device's bytes and the ground-truth labels.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dagr_host::sim::devices::{CsiOutput, DeviceOptions};
use dagr_host::sim::run::{renderers_with, write_capture};
use dagr_host::sim::scenario::Schedule;
use dagr_host::sim::world::World;
use dagr_host::sim::{body::Subject, Room};

/// What `dagr sim` was asked for.
pub struct SimArgs {
    /// `--seed`.
    pub seed: u64,
    /// `--room`.
    pub room: u32,
    /// `--subject`.
    pub subject: u32,
    /// `--scenario`.
    pub scenario: Option<PathBuf>,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--duration`.
    pub duration: Option<f64>,
    /// `--serve`.
    pub serve: bool,
    /// `--llrp-port` (0: any).
    pub llrp_port: u16,
    /// `--labels`.
    pub labels: Option<PathBuf>,
    /// `--csi-rate` (packets/s per link).
    pub csi_rate: f64,
    /// `--csi-format intel5300` instead of ESP32-CSI-Tool rows.
    pub intel5300: bool,
}

/// Runs the simulation; see `dagr sim --help`.
pub fn run(args: &SimArgs) -> ExitCode {
    match simulate(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dagr sim: {message}");
            ExitCode::from(2)
        }
    }
}

fn simulate(args: &SimArgs) -> Result<(), String> {
    if args.serve {
        return super::sim_serve::serve(args);
    }
    let Some(out) = &args.out else {
        return Err("--out FILE.mcap is required".into());
    };
    let (schedule, duration) = schedule_and_duration(args)?;
    let world = World::new(
        Room::generate(args.room),
        Subject::generate(args.subject),
        schedule,
        args.seed,
    );
    if !(args.csi_rate > 0.0 && args.csi_rate <= 5000.0) {
        return Err(format!(
            "--csi-rate {}: expected packets per second in (0, 5000]",
            args.csi_rate
        ));
    }
    let options = DeviceOptions {
        csi_rate_hz: args.csi_rate,
        csi_output: if args.intel5300 {
            CsiOutput::Intel5300
        } else {
            CsiOutput::Esp32Rows
        },
    };
    let mut renderers = renderers_with(&world, args.seed, &options);
    let summary = write_capture(out, &world, &mut renderers, duration, args.seed)
        .map_err(|e| e.to_string())?;
    eprintln!(
        "dagr sim: wrote {} ({duration} s, room {}, subject {}, seed {}, {} labels)",
        out.display(),
        args.room,
        args.subject,
        args.seed,
        summary.labels
    );
    for (name, messages, bytes) in &summary.streams {
        eprintln!("  {name}: {messages} chunks, {bytes} bytes");
    }
    if renderers.is_empty() {
        eprintln!("  no device renderers are built in yet: the capture holds labels only");
    }
    Ok(())
}

/// The schedule to play and for how long: a scenario runs to its last activity's end plus
/// one second unless `--duration` says otherwise; a random schedule needs `--duration`.
pub(super) fn schedule_and_duration(args: &SimArgs) -> Result<(Schedule, f64), String> {
    if let Some(d) = args.duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(format!("--duration {d} is not a number of seconds > 0"));
        }
    }
    match &args.scenario {
        Some(path) => {
            let schedule = Schedule::load(Path::new(path)).map_err(|e| e.to_string())?;
            let end = schedule.items.last().map_or(0.0, |s| s.end) + 1.0;
            Ok((schedule, args.duration.unwrap_or(end)))
        }
        None => {
            let duration = args
                .duration
                .ok_or("--duration S is required without --scenario")?;
            Ok((Schedule::random(args.seed, duration), duration))
        }
    }
}
