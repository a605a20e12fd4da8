//! `dagr demo`: the whole product in one process, no hardware needed. The simulated devices
//! of `dagr sim --serve` (radar and CSI receivers on pseudo-terminals, the RFID reader on
//! LLRP at 127.0.0.1) and the gateway of `dagr run` reading them through its real sources,
//! recognizing each window with the reference model and printing it beside the activity
//! the simulated person is really doing.
//!
//! The room and person default to ones the reference model never saw in training (its
//! report's test range), so what the demo shows is what a new home would get.
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use dagr_host::capture::seconds;
use dagr_host::clock::GatewayClock;
use dagr_host::recognize::live::Labeler;
use dagr_host::runtime::watch_signals;
use dagr_sim::scenario::{Activities, ActivityLookup};
use dagr_sim::serve::VirtualDevices;
use dagr_sim::world::World;
use dagr_sim::{body::Subject, Room};

use dagr_host::config::{GatewayConfig, OutputMode, Overrides};

use super::run::{open_model, run_live_labeled, Live};
use super::{context, Outcome, TextError};

/// What `dagr demo` was asked for.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seconds to run (default: until SIGINT/SIGTERM).
    #[arg(long, value_name = "S", value_parser = super::seconds_in(0.0, super::MAX_SIM_S, true))]
    pub duration: Option<f64>,
    /// The model package (default: the committed models/reference).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Simulated room (default 47: held out of the reference model's training).
    #[arg(long, value_name = "K", default_value = "47")]
    pub room: u32,
    /// Simulated person (default 67: held out of the reference model's training).
    #[arg(long, value_name = "K", default_value = "67")]
    pub subject: u32,
    /// Seed of the random activity schedule and the devices' noise.
    #[arg(long, value_name = "N", default_value = "1")]
    pub seed: u64,
    /// Serve /status, /metrics, /events and /healthz over HTTP on this address
    /// (e.g. 127.0.0.1:8480).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// Print JSON lines even on a terminal.
    #[arg(long)]
    pub json: bool,
}

/// Length of the random schedule without --duration, s (a day).
const OPEN_ENDED_SCHEDULE_S: f64 = 86_400.0;

/// Serves the devices on a thread and runs the gateway on them until the end.
pub fn run(args: &DemoArgs) -> Outcome {
    let mut config = GatewayConfig::resolve(
        None,
        Overrides {
            model: args.model.clone(),
            http: args.http,
            output: args.json.then_some(OutputMode::Json),
            ..Overrides::default()
        },
    )?;
    let interrupt = watch_signals()?;
    let recognizer = open_model(&config)?;
    let activities = Activities::random(args.seed, args.duration.unwrap_or(OPEN_ENDED_SCHEDULE_S));
    // The truth is drawn as the windows advance, like the world's own plan: a day-long
    // run holds the last minute of activities, not the day's.
    let mut truth = ActivityLookup::new(activities.clone());
    let world = World::new(
        Room::generate(args.room),
        Subject::generate(args.subject),
        activities,
        args.seed,
    );
    let work_dir = std::env::temp_dir().join(format!("dagr-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir)
        .map_err(context(format!("cannot create {}", work_dir.display())))?;
    let result = (|| {
        let mut devices =
            VirtualDevices::start(world, args.seed, 0, &work_dir).map_err(TextError)?;
        // Scene time is time since the devices started: the gateway clock starts with them.
        let clock = GatewayClock::new();
        let uris = devices.uris().map_err(TextError)?;
        eprintln!(
            "dagr demo: room {}, person {}, seed {}; devices: {}",
            args.room,
            args.subject,
            args.seed,
            uris.join(" ")
        );
        let labeler: Labeler = Box::new(move |w| {
            let centre = seconds(w.start_ns + (w.end_ns - w.start_ns) / 2);
            truth.at(centre).map(|s| Arc::from(s.activity.name()))
        });
        // The devices serve until the gateway is done (then `interrupt` is raised), so the
        // gateway's sources never see them go away before it stops.
        let stop = interrupt.clone();
        let served = std::thread::Builder::new()
            .name("sim-devices".into())
            .spawn(move || devices.run(stop.flag(), None, |_| {}))
            .map_err(context("cannot start the simulated devices"))?;
        config.sources = uris;
        let live = Live {
            duration: args.duration,
            interrupt: interrupt.clone(),
            command: "demo",
        };
        let outcome = run_live_labeled(&config, recognizer, clock, Some(labeler), &live);
        interrupt.raise();
        let _ = served.join();
        outcome
    })();
    let _ = std::fs::remove_dir_all(&work_dir);
    result
}
