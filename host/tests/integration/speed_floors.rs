//! The speed the gateway must have to work at all, guarded in every test run by ratios
//! measured in that run (never absolute times): the simulator must render faster than
//! real time (`dagr sim --serve` feeds live devices from it) and the pipeline must ingest a
//! capture faster than real time (a gateway slower than its sensors falls behind for
//! good). These hold even in the unoptimized test build on a loaded 2-core machine; the
//! release figures (68x and more) are in BENCHMARKS.md with their commands, and the
//! decoders' ratios to their peers are guarded by .ci/run's speed step.
use std::time::Instant;

use crate::capture_support::path_str;
use crate::support::{dagr, run_ok, scratch};

/// Simulated seconds: long enough that start-up is a small part of the time.
const SIMULATED_S: f64 = 20.0;

#[test]
fn the_simulator_and_the_ingest_pipeline_both_run_faster_than_real_time() {
    let dir = scratch("speed-floors");
    let capture = dir.join("sim.mcap");
    let started = Instant::now();
    run_ok(&[
        "sim",
        "--out",
        path_str(&capture),
        "--duration",
        "20",
        "--seed",
        "4",
        "--room",
        "2",
        "--subject",
        "3",
    ]);
    let sim = SIMULATED_S / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let export = dagr()
        .args(["dataset", "export", path_str(&capture), "--out"])
        .arg(dir.join("data"))
        .output()
        .unwrap();
    let ingest = SIMULATED_S / started.elapsed().as_secs_f64();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    eprintln!("debug build: simulator {sim:.1}x, ingest (decode, clocks, windows, tensors) {ingest:.1}x real time");
    assert!(sim > 1.0, "the simulator renders at {sim:.2}x real time");
    assert!(
        ingest > 1.0,
        "the pipeline ingests at {ingest:.2}x real time"
    );
}
