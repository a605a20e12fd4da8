//! `dagr sim`: the digital twin written to a capture: room K, subject K, a scripted or
//! random schedule, every simulated device's bytes and the ground-truth labels.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dagr_host::sim::run::{default_renderers, write_capture};
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
    let mut renderers = default_renderers(&world, args.seed);
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
