//! Issue 8, point 7: serial devices flooding the gateway. An ESP32 (CSI rows) and a TI
//! radar (data port frames) on real pseudo-terminals send their recordings over and over,
//! as fast as the pty takes them, with garbage between rows and frames; `dagr record`
//! must stay in bounded memory, stop on time, count what it dropped and skipped, exit 0
//! and leave a capture that reads back whole.
//!
//! A test binary of its own (`cargo test -p dagr-tests --test serial_flood`): the flood
//! keeps both cores busy for seconds, and beside end_to_end's tests it would slow the
//! devices those pace by the wall clock (the served room, the node simulator). Cargo runs
//! test binaries one after another.
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dagr_tests::binaries::dagr;
use dagr_tests::dagr_cli::{finish_record, inspect, start_record};
use dagr_tests::process::{has_open, peak_rss_kb, run_ok, wait_for};
use dagr_tests::{fixture, scratch_dir};
use serde_json::Value;
use serialport::{SerialPort, TTYPort};

const TI_DAT: &str = "ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat";
const ESP32_CSV: &str = "esp32_csi/example_csi.csv";
/// The recording's length.
const DURATION_S: f64 = 4.0;
/// Peak RSS `dagr record` must stay under: its source queues are bounded in bytes (64 MiB
/// each by default), so two flooding sources may not grow it past 200 MB.
const RSS_BOUND_KB: u64 = 200 * 1024;
/// Longest `dagr record --duration 4` may take: the duration, the queues' drain at stop
/// (at most 3 s) and 4 s for a loaded machine (7.3 s seen at load average 10 on 2 cores).
const STOP_BOUND: Duration = Duration::from_secs(11);

/// One pty whose master a thread writes `unit`s into, each followed by garbage, as fast as
/// the pty takes them, until dropped.
struct Flood {
    path: String,
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Flood {
    fn start(units: Vec<Vec<u8>>, garbage: fn(u64) -> Vec<u8>) -> Flood {
        let (mut master, slave) = TTYPort::pair().expect("create a pty pair");
        // A full pty (nobody reading) makes a write time out, not block the thread forever.
        master.set_timeout(Duration::from_millis(20)).unwrap();
        let path = slave.name().expect("pty slave has a path");
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let (stopped, count) = (stop.clone(), written.clone());
        let thread = std::thread::spawn(move || {
            let _slave = slave; // keeps the pty alive however the gateway opens it
            let mut i = 0u64;
            while !stopped.load(Ordering::Relaxed) {
                let unit = &units[i as usize % units.len()];
                for bytes in [unit.as_slice(), &garbage(i)] {
                    let mut rest = bytes;
                    while !rest.is_empty() && !stopped.load(Ordering::Relaxed) {
                        match master.write(rest) {
                            Ok(n) => rest = &rest[n..],
                            Err(_) => continue, // full: try again
                        }
                    }
                }
                count.fetch_add(unit.len() as u64, Ordering::Relaxed);
                i += 1;
            }
        });
        Flood {
            path,
            stop,
            written,
            thread: Some(thread),
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Deterministic bytes (xorshift) that contain no newline: a corrupted line.
fn line_garbage(seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes: Vec<u8> = (0..40 + seed % 200)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .filter(|&b| b != b'\n')
        .collect();
    bytes.push(b'\n');
    bytes
}

/// Deterministic bytes between radar frames (no magic word can form from them: no 0x02).
fn frame_garbage(seed: u64) -> Vec<u8> {
    let mut garbage = line_garbage(seed);
    garbage.retain(|&b| b != 2);
    garbage
}

/// The real radar recording cut into its frames (at each magic word).
fn ti_frames() -> Vec<Vec<u8>> {
    const MAGIC: [u8; 8] = [2, 1, 4, 3, 6, 5, 8, 7];
    let bytes = fixture(TI_DAT);
    let mut starts: Vec<usize> = (0..bytes.len() - 7)
        .filter(|&i| bytes[i..i + 8] == MAGIC)
        .collect();
    starts.push(bytes.len());
    starts
        .windows(2)
        .map(|w| bytes[w[0]..w[1]].to_vec())
        .collect()
}

/// The real ESP32-CSI-Tool recording's CSI rows, each with its line ending.
fn csi_rows() -> Vec<Vec<u8>> {
    fixture(ESP32_CSV)
        .split_inclusive(|&b| b == b'\n')
        .filter(|line| line.starts_with(b"CSI_DATA"))
        .map(<[u8]>::to_vec)
        .collect()
}

fn stream<'a>(report: &'a Value, format: &str) -> &'a Value {
    report["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["format"] == format)
        .unwrap_or_else(|| panic!("no {format} stream in {report}"))
}

/// The events dropped for `uri`, from `dagr record`'s summary line `source URI: N events
/// dropped`.
fn dropped(stderr: &str, uri: &str) -> u64 {
    let prefix = format!("source {uri}: ");
    stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(&prefix)?
                .strip_suffix(" events dropped")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no drop count for {uri} in: {stderr}"))
}

#[test]
fn flooding_serial_devices_with_garbage_are_recorded_in_bounded_memory_with_skips_counted() {
    let dir = scratch_dir("serial-flood");
    let out = dir.join("flood.mcap");
    let esp32 = Flood::start(csi_rows(), line_garbage);
    let radar = Flood::start(ti_frames(), frame_garbage);
    let uris = [
        format!("esp32-csi://{}", esp32.path),
        format!("ti-mmwave://{}", radar.path),
    ];
    let started = Instant::now();
    let record = start_record(&uris, &out, DURATION_S);
    let pid = record.id();
    wait_for(
        "dagr record to open both ptys",
        Duration::from_secs(10),
        || {
            [&esp32.path, &radar.path]
                .iter()
                .all(|p| has_open(pid, std::path::Path::new(p)))
        },
    );
    let mut peak_kb = 0;
    while let Some(kb) = peak_rss_kb(pid) {
        peak_kb = kb;
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stderr = finish_record(record, Duration::from_secs(30));
    let took = started.elapsed();
    let sent = [&esp32, &radar].map(|f| f.written.load(Ordering::Relaxed));
    drop((esp32, radar));

    assert!(took < STOP_BOUND, "--duration 4 took {took:?}: {stderr}");
    assert!(
        peak_kb < RSS_BOUND_KB,
        "peak RSS {} MB under the flood: {stderr}",
        peak_kb / 1024
    );
    let dropped = uris.clone().map(|u| dropped(&stderr, &u));
    let report = inspect(&out);
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["lost"], Value::Null, "{report}");
    let (csi, ti) = (stream(&report, "esp32-csi"), stream(&report, "ti-mmwave"));
    for ((s, what), dropped) in [(csi, "rows"), (ti, "frames")].into_iter().zip(dropped) {
        let records = s["records"].as_u64().unwrap();
        assert!(
            records > 100,
            "{records} {what} recorded from the flood: {s}"
        );
        assert!(
            s["bytes_skipped"].as_u64().unwrap() > 0,
            "the garbage between {what} is counted as skipped: {s}"
        );
        // A recorder slower than the flood drops the newest events when its queue is full:
        // then the capture ends early, and only then, with the drops counted.
        assert!(
            s["end"].as_f64().unwrap() > DURATION_S - 1.0 || dropped > 0,
            "the capture ends early without a drop counted: {s}"
        );
    }
    // The capture reads back whole: every recorded record replays (one summary line each,
    // `T SOURCE: ...`; the human form, as the JSON of 100 000 records is slow to check).
    let text = run_ok(
        Command::new(dagr()).args(["replay", "--max"]).arg(&out),
        Duration::from_secs(120),
    );
    let text = String::from_utf8_lossy(&text);
    let replayed = |format: &str| {
        let source = stream(&report, format)["source"]
            .as_str()
            .unwrap()
            .to_owned();
        let marker = format!(" {source}: ");
        text.lines().filter(|l| l.contains(&marker)).count() as u64
    };
    assert_eq!(replayed("esp32-csi"), csi["records"].as_u64().unwrap());
    assert_eq!(replayed("ti-mmwave"), ti["records"].as_u64().unwrap());
    eprintln!(
        "serial flood: took {took:?}, peak RSS {} MB; esp32 {} rows to {:.2} s ({} B sent, {} B \
         skipped, {} events dropped), radar {} frames to {:.2} s ({} B sent, {} B skipped, {} \
         events dropped)",
        peak_kb / 1024,
        csi["records"],
        csi["end"].as_f64().unwrap(),
        sent[0],
        csi["bytes_skipped"],
        dropped[0],
        ti["records"],
        ti["end"].as_f64().unwrap(),
        sent[1],
        ti["bytes_skipped"],
        dropped[1]
    );
    std::fs::remove_dir_all(&dir).ok();
}
