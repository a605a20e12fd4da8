//! `dagr sim --serve`: the simulated devices live for a gateway to open; prints their
//! source URIs on stdout, the labels on stderr (and to `--labels FILE` as JSON lines).
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use dagr_host::sim::scenario::Schedule;
use dagr_host::sim::serve::{ServedLabel, VirtualDevices};
use dagr_host::sim::world::World;
use dagr_host::sim::{body::Subject, Room};

use super::sim::SimArgs;

/// Length of the random schedule served without --duration, s (a day).
const OPEN_ENDED_SCHEDULE_S: f64 = 86_400.0;

/// Serves until --duration or a signal.
pub fn serve(args: &SimArgs) -> Result<(), String> {
    if let Some(d) = args.duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(format!("--duration {d} is not a number of seconds > 0"));
        }
    }
    let schedule = match &args.scenario {
        Some(path) => Schedule::load(Path::new(path)).map_err(|e| e.to_string())?,
        None => Schedule::random(args.seed, args.duration.unwrap_or(OPEN_ENDED_SCHEDULE_S)),
    };
    let mut labels_file = match &args.labels {
        Some(path) => {
            Some(File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?)
        }
        None => None,
    };
    let world = World::new(
        Room::generate(args.room),
        Subject::generate(args.subject),
        schedule,
        args.seed,
    );
    let stop = watch_signals()?;
    let work_dir = std::env::temp_dir().join(format!("dagr-sim-serve-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| format!("cannot create {}: {e}", work_dir.display()))?;
    let result = serve_in(args, world, &work_dir, &stop, labels_file.as_mut());
    let _ = std::fs::remove_dir_all(&work_dir);
    result
}

fn serve_in(
    args: &SimArgs,
    world: World,
    work_dir: &Path,
    stop: &AtomicBool,
    mut labels_file: Option<&mut File>,
) -> Result<(), String> {
    let mut devices = VirtualDevices::start(world, args.seed, args.llrp_port, work_dir)?;
    let mut stdout = std::io::stdout().lock();
    for uri in devices.uris()? {
        writeln!(stdout, "{uri}").map_err(|e| format!("cannot print the URIs: {e}"))?;
    }
    stdout
        .flush()
        .map_err(|e| format!("cannot print the URIs: {e}"))?;
    drop(stdout);
    eprintln!(
        "dagr sim: serving room {}, subject {}, seed {}{}",
        args.room,
        args.subject,
        args.seed,
        match args.duration {
            Some(d) => format!(" for {d} s"),
            None => " until SIGINT/SIGTERM".to_string(),
        }
    );
    let mut label_error = None;
    let summary = devices.run(stop, args.duration, |served: &ServedLabel| {
        let l = &served.label;
        eprintln!("dagr sim: {:.2}-{:.2} s {}", l.start, l.end, l.class);
        if let Some(file) = labels_file.as_mut() {
            if let Err(e) = writeln!(file, "{}", served.to_json_line()) {
                label_error.get_or_insert(e.to_string());
            }
        }
    });
    eprintln!(
        "dagr sim: served {:.1} s, {} radar CLI commands, {} LLRP connections",
        summary.seconds, summary.cli_commands, summary.llrp_connections
    );
    for (name, dropped) in summary.dropped.iter().filter(|(_, d)| *d > 0) {
        eprintln!("  {name}: {dropped} chunks dropped (the client did not keep up)");
    }
    match label_error {
        Some(e) => Err(format!("cannot write the labels: {e}")),
        None => Ok(()),
    }
}

/// A flag set by SIGINT or SIGTERM; a second signal ends the process at once.
fn watch_signals() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone())
            .and_then(|_| signal_hook::flag::register(signal, flag.clone()))
            .map_err(|e| format!("cannot watch signal {signal}: {e}"))?;
    }
    Ok(flag)
}
