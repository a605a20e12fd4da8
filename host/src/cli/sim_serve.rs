//! `dagr sim --serve`: the simulated devices live for a gateway to open; prints their
//! source URIs on stdout, the labels on stderr (and to `--labels FILE` as JSON lines).
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use dagr_host::runtime::{watch_signals, Interrupt};
use dagr_sim::csi::CsiBandwidth;
use dagr_sim::scenario::{Activities, Schedule};
use dagr_sim::serve::{ServedLabel, VirtualDevices};

use super::sim::SimArgs;
use super::{context, Outcome, TextError};

/// Length of the random schedule served without --duration, s (a day).
const OPEN_ENDED_SCHEDULE_S: f64 = 86_400.0;

/// Serves until --duration or a signal.
pub fn serve(args: &SimArgs) -> Outcome {
    let scene = &args.scene;
    let csi_bandwidth = args.csi_bandwidth()?;
    let duration = scene.duration;
    let activities = match &scene.scenario {
        Some(path) => Schedule::load(Path::new(path))?.into(),
        None => Activities::random(scene.seed, duration.unwrap_or(OPEN_ENDED_SCHEDULE_S)),
    };
    let mut labels_file = match &args.labels {
        Some(path) => {
            Some(File::create(path).map_err(context(format!("cannot create {}", path.display())))?)
        }
        None => None,
    };
    let world = scene.world(activities);
    let stop = watch_signals()?;
    let work_dir = std::env::temp_dir().join(format!("dagr-sim-serve-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir)
        .map_err(context(format!("cannot create {}", work_dir.display())))?;
    let result = serve_in(
        args,
        world,
        csi_bandwidth,
        &work_dir,
        &stop,
        labels_file.as_mut(),
    );
    let _ = std::fs::remove_dir_all(&work_dir);
    result
}

fn serve_in(
    args: &SimArgs,
    world: dagr_sim::world::World,
    csi_bandwidth: CsiBandwidth,
    work_dir: &Path,
    stop: &Interrupt,
    mut labels_file: Option<&mut File>,
) -> Outcome {
    let scene = &args.scene;
    let mut devices =
        VirtualDevices::start_with(world, scene.seed, args.llrp_port, work_dir, csi_bandwidth)
            .map_err(TextError)?;
    devices.set_llrp_idle_timeout(Duration::from_secs_f64(args.llrp_idle_timeout));
    let mut stdout = std::io::stdout().lock();
    for uri in devices.uris().map_err(TextError)? {
        writeln!(stdout, "{uri}").map_err(context("cannot print the URIs"))?;
    }
    stdout.flush().map_err(context("cannot print the URIs"))?;
    drop(stdout);
    eprintln!(
        "dagr sim: serving room {}, subject {}, seed {}{}",
        scene.room,
        scene.subject,
        scene.seed,
        match scene.duration {
            Some(d) => format!(" for {d} s"),
            None => " until SIGINT/SIGTERM".to_string(),
        }
    );
    let mut label_error = None;
    let summary = devices.run(stop.flag(), scene.duration, |served: &ServedLabel| {
        let l = &served.label;
        eprintln!("dagr sim: {:.2}-{:.2} s {}", l.start, l.end, l.class);
        if let Some(file) = labels_file.as_mut() {
            if let Err(e) = writeln!(file, "{}", served.to_json_line()) {
                label_error.get_or_insert(e);
            }
        }
    });
    eprintln!(
        "dagr sim: served {:.1} s, {} radar CLI commands, {} LLRP connections ({} dropped as idle)",
        summary.seconds, summary.cli_commands, summary.llrp_connections, summary.llrp_idle_drops
    );
    for (name, dropped) in summary.dropped.iter().filter(|(_, d)| *d > 0) {
        eprintln!("  {name}: {dropped} chunks dropped (the client did not keep up)");
    }
    match label_error {
        Some(e) => Err(context("cannot write the labels")(e).into()),
        None => Ok(()),
    }
}
