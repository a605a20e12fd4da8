//! Throughput of the live path on one thread: device bytes -> the gateway's `Pipeline`
//! (per-stream decoders -> per-source clock models -> synchronizer), for a full sensor set.
//!
//! Generates 60 s of device bytes (3 ESP32-CSI-Tool links x 1000 rows/s, a TI radar at
//! 20 frames/s x 64 points, an LLRP reader reporting 23 tags x 30 reads/s), each chunk
//! stamped with a jittered arrival time, then times the pipeline over all of it and over
//! each source type alone. Prints medians of several runs (each at least a quarter of a
//! CPU second of passes), per pass, as multiples of real time, by two clocks: the
//! thread's CPU time (what the work costs one core; the figure to compare across runs on a
//! shared, loaded machine) and wall time (what it took here, including the time the thread
//! waited for a core).
//!
//! `cargo run --release -p dagr-host --example ingest_bench [-- --subcarriers 64|128 --runs 7]`
use std::time::Instant;

use dagr_host::pipeline::Pipeline;
use dagr_host::sync::SyncConfig;

#[path = "support/sensor_set.rs"]
mod sensor_set;
use sensor_set::{arg, full_set, median, Chunk, Kind, Source, MS, SECONDS};

/// What one pass produced, to check the work was done.
#[derive(Default, Debug, Clone, Copy)]
struct Totals {
    records: u64,
    windows: u64,
    late: u64,
    bytes: u64,
}

/// Runs `chunks` (sorted by arrival) through the pipeline: decoders, clock models and the
/// synchronizer.
fn pipeline(sources: &[Source], chunks: &[Chunk]) -> Totals {
    let mut pipeline =
        Pipeline::with_windows(SyncConfig::default()).expect("default config is valid");
    let mut totals = Totals::default();
    let mut next_poll = 0;
    for (source, arrival, bytes) in chunks {
        let source = &sources[*source];
        totals.bytes += bytes.len() as u64;
        pipeline.push_chunk(&source.name, source.format, bytes, *arrival);
        if *arrival >= next_poll {
            totals.windows += pipeline.poll(*arrival).len() as u64;
            next_poll = arrival + 100 * MS;
        }
    }
    totals.windows += pipeline.finish(&mut |_, _| {}).len() as u64;
    totals.records = pipeline.records();
    totals.late = pipeline.sync_stats().map_or(0, |s| s.late);
    totals
}

/// CPU seconds this thread has run: the first field of `/proc/thread-self/schedstat`,
/// nanoseconds on a CPU (the clock `CLOCK_THREAD_CPUTIME_ID` reads, without a binding).
fn thread_cpu_seconds() -> f64 {
    let path = "/proc/thread-self/schedstat";
    let stat = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let ns: u64 = stat
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("{path}: no run time in {stat:?}"));
    ns as f64 * 1e-9
}

/// Median seconds of a set's passes, by each clock.
struct Timing {
    cpu_s: f64,
    wall_s: f64,
}

/// CPU seconds each timed run lasts at least: the thread's run time in schedstat advances
/// by scheduler ticks (4 ms here), so a run repeats its pass until the tick is a small
/// part of it (a radar-only pass takes about 1 ms).
const MIN_RUN_CPU_S: f64 = 0.25;

/// Times `runs` runs, each of as many passes as [`MIN_RUN_CPU_S`] needs; returns the median
/// seconds per pass and the totals of one pass.
fn time(sources: &[Source], chunks: &[Chunk], runs: usize) -> (Timing, Totals) {
    let mut totals = Totals::default();
    let (cpu, wall): (Vec<f64>, Vec<f64>) = (0..runs)
        .map(|_| {
            let (cpu, wall) = (thread_cpu_seconds(), Instant::now());
            let mut passes = 0;
            while passes == 0 || thread_cpu_seconds() - cpu < MIN_RUN_CPU_S {
                totals = std::hint::black_box(pipeline(sources, chunks));
                passes += 1;
            }
            let per_pass = |s: f64| s / f64::from(passes);
            (
                per_pass(thread_cpu_seconds() - cpu),
                per_pass(wall.elapsed().as_secs_f64()),
            )
        })
        .unzip();
    let timing = Timing {
        cpu_s: median(cpu),
        wall_s: median(wall),
    };
    (timing, totals)
}

fn main() {
    let subcarriers = arg("--subcarriers", 64);
    let runs = arg("--runs", 7).max(1);
    let (sources, chunks) = full_set(subcarriers);

    println!(
        "ingest_bench: {SECONDS} s of device bytes, {subcarriers} CSI subcarriers, median of {runs} runs, one thread"
    );
    println!(
        "{:<34} {:>8} {:>7} {:>5} {:>7} {:>8} {:>10} {:>9} {:>8} {:>9}",
        "set",
        "records",
        "windows",
        "late",
        "MB",
        "CPU ms",
        "records/s",
        "x rt CPU",
        "wall ms",
        "x rt wall"
    );
    let sets: [(&str, Option<Kind>); 4] = [
        ("full set (3 CSI + radar + RFID)", None),
        ("CSI only (3 links x 1000/s)", Some(Kind::Csi)),
        ("radar only (20 frames/s x 64 pts)", Some(Kind::Radar)),
        ("RFID only (23 tags x 30 reads/s)", Some(Kind::Rfid)),
    ];
    for (label, only) in sets {
        let picked: Vec<Chunk> = chunks
            .iter()
            .filter(|c| only.is_none_or(|k| sources[c.0].kind == k))
            .cloned()
            .collect();
        let (timing, totals) = time(&sources, &picked, runs);
        println!(
            "{:<34} {:>8} {:>7} {:>5} {:>7.1} {:>8.1} {:>10.0} {:>9.1} {:>8.1} {:>9.1}",
            label,
            totals.records,
            totals.windows,
            totals.late,
            totals.bytes as f64 / 1e6,
            timing.cpu_s * 1e3,
            totals.records as f64 / timing.cpu_s,
            SECONDS as f64 / timing.cpu_s,
            timing.wall_s * 1e3,
            SECONDS as f64 / timing.wall_s,
        );
        assert!(totals.windows > 0, "{label}: no windows came out");
    }
}
