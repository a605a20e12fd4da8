//! The speed the gateway must have to work at all: the simulator must render faster than
//! real time (`dagr sim --serve` feeds live devices from it) and the pipeline must ingest a
//! capture faster than real time (a gateway slower than its sensors falls behind for
//! good).
//!
//! What is measured is the CPU time (user + system, all threads) each `dagr` process used,
//! read from the kernel when it exits, against the simulated seconds it handled; never wall
//! time. Wall time on the shared 2-core test machine measures the load beside the test (at
//! load 15 the simulator's wall-time ratio fell to 1.3x while its work had not changed);
//! CPU time counts only the cycles the process ran, so it moves when the code gets slower
//! and hardly with the load. A ratio of 1 means one core just keeps up with the sensors,
//! so the floor is 1x, in the unoptimized test build. The release figures are in
//! BENCHMARKS.md with their commands, and the decoders' ratios to their peers are guarded
//! by .ci/run's speed step.
use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use rustix::io::Errno;
use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};

use crate::capture_support::path_str;
use crate::support::{dagr, scratch};

/// Simulated seconds: long enough that start-up is a small part of the time.
const SIMULATED_S: f64 = 20.0;

/// Clock ticks per second of the times in `/proc/PID/stat` (`USER_HZ`, 100 in Linux's
/// user-space ABI on every architecture this project builds for).
const USER_HZ: f64 = 100.0;

/// What one process cost.
struct Cost {
    /// User + system CPU seconds of all its threads.
    cpu_s: f64,
    /// Wall seconds from spawn to exit (printed for context, never asserted).
    wall_s: f64,
}

/// Runs `command` to its end and returns its CPU and wall time; panics with its stderr
/// (kept in `stderr_log`) when it fails.
fn run_measured(mut command: Command, stderr_log: &Path) -> Cost {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(File::create(stderr_log).expect("create the stderr log"))
        .spawn()
        .expect("spawn dagr");
    let pid = Pid::from_child(&child);
    // Wait for the exit without reaping, so /proc still holds the process's final times.
    loop {
        match waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Ok(_) => break,
            Err(Errno::INTR) => continue,
            Err(e) => panic!("waitid on dagr ({pid:?}): {e}"),
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds_of_exited(pid);
    let status: ExitStatus = child.wait().expect("reap dagr");
    assert!(
        status.success(),
        "dagr failed: {status:?}\n{}",
        std::fs::read_to_string(stderr_log).unwrap_or_default()
    );
    Cost { cpu_s, wall_s }
}

/// User + system seconds of an exited, not yet reaped process (fields 14 and 15 of
/// `/proc/PID/stat`, which for a zombie hold the totals of all its threads).
fn cpu_seconds_of_exited(pid: Pid) -> f64 {
    let path = format!("/proc/{}/stat", pid.as_raw_nonzero());
    let stat = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let after_name = &stat[stat.rfind(')').expect("a command name") + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    assert_eq!(fields[0], "Z", "{path}: the process has exited (state Z)");
    let ticks = |i: usize| -> f64 { fields[i].parse::<u64>().expect("clock ticks") as f64 };
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    (ticks(11) + ticks(12)) / USER_HZ
}

#[test]
fn the_simulator_and_the_ingest_pipeline_both_need_less_than_a_core() {
    let dir = scratch("speed-floors");
    let capture = dir.join("sim.mcap");
    let mut sim = dagr();
    sim.args(["sim", "--out", path_str(&capture), "--duration", "20"]);
    sim.args(["--seed", "4", "--room", "2", "--subject", "3"]);
    let sim = run_measured(sim, &dir.join("sim.stderr"));

    let mut export = dagr();
    export.args(["dataset", "export", path_str(&capture), "--out"]);
    export.arg(dir.join("data"));
    let export = run_measured(export, &dir.join("export.stderr"));

    let sim_x = SIMULATED_S / sim.cpu_s;
    let ingest_x = SIMULATED_S / export.cpu_s;
    eprintln!(
        "debug build, per CPU second: simulator {sim_x:.1}x, ingest (decode, clocks, windows, \
         tensors) {ingest_x:.1}x real time; CPU / wall: simulator {:.2} / {:.2} s, export \
         {:.2} / {:.2} s",
        sim.cpu_s, sim.wall_s, export.cpu_s, export.wall_s
    );
    assert!(
        sim_x > 1.0,
        "the simulator needs {:.2} CPU s for {SIMULATED_S} simulated s ({sim_x:.2}x)",
        sim.cpu_s
    );
    assert!(
        ingest_x > 1.0,
        "the pipeline needs {:.2} CPU s for {SIMULATED_S} s of capture ({ingest_x:.2}x)",
        export.cpu_s
    );
}
