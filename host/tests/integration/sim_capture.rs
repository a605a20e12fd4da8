//! `dagr sim` end to end: a world played through a device renderer into a capture that
//! holds the schedule's labels, replays through `dagr replay`, and is byte-identical for
//! the same arguments.
//!
//! The renderer here is a test device only (the real radar, CSI and RFID renderers live in
//! their own modules): one ESP32-CSI-Tool receiver whose subcarriers all carry the phase
//! of the path from the person's right hand to its antenna.
use std::f64::consts::PI;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{run, scratch};
use dagr_host::capture::{CaptureReader, Entry};
use dagr_host::format::Format;
use dagr_host::sim_capture::{stream_info, write_capture, SimSummary};
use dagr_protocols::csi::esp32_csi_tool::{CsiRow, Role};
use dagr_protocols::csi::{Iq, RxCtrl};
use dagr_sim::body::{part, Subject, RIGHT};
use dagr_sim::room::wifi_wavelength;
use dagr_sim::run::{DeviceClock, DeviceFormat, DeviceRenderer, DeviceStream};
use dagr_sim::scenario::Schedule;
use dagr_sim::world::World;
use dagr_sim::{Room, Scene, Vec3};
use serde_json::Value;

const SOURCE: &str = "esp32-hand";
const ROWS_PER_S: f64 = 50.0;
/// Amplitude of every subcarrier, quantized units.
const AMPLITUDE: f64 = 40.0;

/// One ESP32 receiver at 50 rows/s: 64 subcarriers, all with phase −2π·d/λ, d the distance
/// from the right hand to the link's first receive antenna (no hand: phase 0); stamped with
/// its own drifting µs clock.
struct HandPhaseEsp32 {
    clock: DeviceClock,
    sent: u32,
    antenna: Vec3,
    wavelength: f64,
    channel: u8,
    mac: [u8; 6],
}

impl HandPhaseEsp32 {
    fn new(room: &Room, seed: u64) -> Self {
        let link = &room.wifi[0];
        HandPhaseEsp32 {
            clock: DeviceClock::free_running(seed, 0),
            sent: 0,
            antenna: link.rx[0],
            wavelength: wifi_wavelength(link.channel),
            channel: link.channel,
            mac: link.mac,
        }
    }
}

/// The phase the renderer puts on a row sent at `t`.
fn expected_phase(scene: &dyn Scene, antenna: Vec3, wavelength: f64, t: f64) -> f64 {
    let mut body = Vec::new();
    scene.body_at(t, &mut body);
    body.get(part::HAND[RIGHT]).map_or(0.0, |hand| {
        -2.0 * PI * hand.pos.distance(antenna) / wavelength
    })
}

impl DeviceRenderer for HandPhaseEsp32 {
    fn stream(&self) -> DeviceStream {
        DeviceStream {
            name: SOURCE.into(),
            format: DeviceFormat::Esp32Csi,
            uri: "sim://test/esp32-hand".into(),
        }
    }

    fn next_due(&self) -> f64 {
        f64::from(self.sent) / ROWS_PER_S
    }

    fn render(&mut self, scene: &dyn Scene, t: f64, out: &mut Vec<u8>) {
        let phase = expected_phase(scene, self.antenna, self.wavelength, t);
        let iq = Iq {
            re: (AMPLITUDE * phase.cos()).round() as i8,
            im: (AMPLITUDE * phase.sin()).round() as i8,
        };
        let rx_ctrl = RxCtrl {
            rssi: -50,
            noise_floor: -95,
            channel: self.channel,
            local_timestamp: self.clock.micros_u32(t),
            sig_len: 100,
            ..RxCtrl::ht20(self.channel)
        };
        let row = CsiRow {
            len: 128,
            ..CsiRow::new(Role::Ap, self.mac, rx_ctrl, vec![iq; 64])
        };
        out.extend_from_slice(&row.to_line());
        self.sent += 1;
    }
}

fn world(seed: u64) -> World {
    World::new(
        Room::generate(3),
        Subject::generate(5),
        Schedule::random(seed, 20.0),
        seed,
    )
}

fn simulate(path: &Path, world: &World, seed: u64) -> SimSummary {
    let mut renderers: Vec<Box<dyn DeviceRenderer>> =
        vec![Box::new(HandPhaseEsp32::new(world.room(), seed))];
    write_capture(path, world, &mut renderers, 20.0, seed).unwrap()
}

#[test]
fn the_capture_holds_the_schedules_labels_and_every_row() {
    let dir = scratch("sim-capture-labels");
    let path = dir.join("a.mcap");
    let world = world(1);
    let summary = simulate(&path, &world, 1);
    let (streams, labels) = CaptureReader::catalog(&path).unwrap();
    // Label times go through the capture's nanoseconds: equal to 1 ns.
    let expected = world.labels();
    assert_eq!(labels.len(), expected.len());
    for (got, want) in labels.iter().zip(&expected) {
        assert_eq!(got.class, want.class);
        assert!((got.start - want.start).abs() < 1e-9 && (got.end - want.end).abs() < 1e-9);
    }
    assert!(labels.len() >= 3, "{labels:?}");
    assert_eq!(summary.labels, labels.len());
    assert_eq!(streams.len(), 1);
    assert_eq!(
        (&*streams[0].name, streams[0].format),
        (SOURCE, Format::Esp32Csi)
    );
    assert_eq!(summary.streams[0].1, 1000, "20 s at 50 rows/s");
}

#[test]
fn chunks_arrive_in_order_a_little_after_they_were_sent() {
    let dir = scratch("sim-capture-order");
    let path = dir.join("a.mcap");
    simulate(&path, &world(2), 2);
    let mut last = 0;
    let mut chunks = 0;
    for entry in CaptureReader::open(&path).unwrap() {
        let log = entry.log_ns();
        assert!(log >= last, "file order is arrival order");
        last = log;
        if let Entry::Chunk {
            log_ns, publish_ns, ..
        } = entry
        {
            let delay = log_ns - publish_ns;
            assert!((1_000_000..50_000_000).contains(&delay), "delay {delay} ns");
            chunks += 1;
        }
    }
    assert_eq!(chunks, 1000);
}

#[test]
fn the_same_world_writes_a_byte_identical_file_and_another_seed_a_different_one() {
    let dir = scratch("sim-capture-determinism");
    let (a, b, c) = (dir.join("a.mcap"), dir.join("b.mcap"), dir.join("c.mcap"));
    simulate(&a, &world(4), 4);
    simulate(&b, &world(4), 4);
    simulate(&c, &world(5), 5);
    let bytes = |p: &Path| std::fs::read(p).unwrap();
    assert!(bytes(&a) == bytes(&b), "same arguments, different bytes");
    assert!(bytes(&a) != bytes(&c));
}

#[test]
fn the_capture_replays_rows_whose_phase_follows_the_hand_and_labels() {
    let dir = scratch("sim-capture-replay");
    let path = dir.join("a.mcap");
    let world = world(6);
    simulate(&path, &world, 6);
    let out = run(&["replay", "--max", "--json", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rows: Vec<&Value> = lines.iter().filter(|v| v["source"] == SOURCE).collect();
    let labels = lines.iter().filter(|v| v.get("label").is_some()).count();
    assert_eq!((rows.len(), labels), (1000, world.labels().len()));

    // Each row's phase is the hand's path at the instant its device clock stamped.
    let device = HandPhaseEsp32::new(world.room(), 6);
    let mut previous_us: Option<u64> = None;
    let mut checked = 0;
    for row in rows {
        let stamp = row["local_timestamp"].as_u64().unwrap();
        // Unwrap the u32 counter against the clock's full reading.
        let full = device.clock.micros(0.0) & !0xFFFF_FFFF | stamp;
        let full = match previous_us {
            Some(p) if full < p => full + (1 << 32),
            _ => full,
        };
        previous_us = Some(full);
        let t = device.clock.scene_time(full);
        let iq = &row["csi"][0];
        let (re, im) = (iq[0].as_f64().unwrap(), iq[1].as_f64().unwrap());
        let expected = expected_phase(&world, device.antenna, device.wavelength, t);
        let error = (im.atan2(re) - expected).rem_euclid(2.0 * PI);
        let error = error.min(2.0 * PI - error);
        assert!(error < 0.05, "row at {t:.3} s: phase off by {error} rad");
        checked += 1;
    }
    assert_eq!(checked, 1000);
}

#[test]
fn dagr_sim_is_deterministic_and_the_seed_matters() {
    let dir = scratch("sim-capture-cli");
    let run = |seed: &str, name: &str| {
        let path = dir.join(name);
        let out = run(&[
            "sim",
            "--seed",
            seed,
            "--room",
            "2",
            "--subject",
            "1",
            "--duration",
            "60",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(path).unwrap()
    };
    let (a, b, c) = (run("7", "a.mcap"), run("7", "b.mcap"), run("8", "c.mcap"));
    assert!(a == b && a != c);
    let (_, labels) = CaptureReader::catalog(&dir.join("a.mcap")).unwrap();
    assert!(labels.len() >= 8, "{}", labels.len());
}

#[test]
fn dagr_sim_runs_a_scenario_file_and_reports_its_bad_lines() {
    let dir = scratch("sim-capture-scenario");
    let good = dir.join("good.txt");
    std::fs::write(&good, "# plan\n0.5 3.5 walking\n4 6 waving\n").unwrap();
    let out_path = dir.join("s.mcap");
    let out = run(&[
        "sim",
        "--scenario",
        good.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, labels) = CaptureReader::catalog(&out_path).unwrap();
    let classes: Vec<&str> = labels.iter().map(|l| l.class.as_str()).collect();
    assert_eq!(classes, ["walking", "waving"]);
    assert_eq!((labels[1].start, labels[1].end), (4.0, 6.0));

    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "0.5 3.5 walking\n4 six waving\n").unwrap();
    let out = run(&[
        "sim",
        "--scenario",
        bad.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.txt") && err.contains("line 2") && err.contains("end_s"),
        "{err}"
    );
}

#[test]
fn dagr_sim_serve_refuses_a_duration_that_is_not_positive() {
    // Serving itself is tested in sim_serve.rs.
    let out = run(&["sim", "--serve", "--duration", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'0' for '--duration") && err.contains("expected seconds in (0, 1000000]"),
        "{err}"
    );
}

#[test]
fn streams_keep_their_arc_names() {
    // The renderer's stream info is what the capture declares.
    let device = HandPhaseEsp32::new(&Room::generate(0), 0);
    let info = stream_info(&device.stream());
    assert_eq!(info.name, Arc::<str>::from(SOURCE));
    assert_eq!(info.modality_name(), "wifi");
}

/// `dagr sim` arguments and the SHA-256 of the capture they write, pinned again at commit
/// df41570, when the twin began to place people anywhere in the room (first pinned at
/// c66f14e, before the run could be interrupted). Training corpora and replay figures are
/// rebuilt from these arguments, so their bytes must not move by accident (the capture's
/// metadata names the dagr version: a version bump changes them too, and so does any change
/// to the physics, on purpose).
const PINNED_CAPTURES: [(&[&str], &str); 3] = [
    (
        &["--duration", "5"],
        "183771f2eea59822f7b2e9627a39d69e8b5951da2ab669146d2d14032fb13c3a",
    ),
    (
        &[
            "--room",
            "47",
            "--subject",
            "67",
            "--seed",
            "3",
            "--duration",
            "12",
        ],
        "db3f6562ee9a04a715a02ba9342f1c45a6ff87819844c8bd62b3368fae46297e",
    ),
    (
        &[
            "--room",
            "5",
            "--subject",
            "9",
            "--seed",
            "11",
            "--duration",
            "8",
            "--csi-format",
            "intel5300",
            "--csi-rate",
            "50",
        ],
        "ed09fb428c2ba9d69df2bc7fe8462e860417fe99054521c6797676a7062d8ca4",
    ),
];

#[test]
fn dagr_sim_writes_the_same_bytes_for_the_same_arguments_as_it_always_did() {
    let dir = scratch("sim-capture-pinned");
    for (i, (args, digest)) in PINNED_CAPTURES.iter().enumerate() {
        let path = dir.join(format!("{i}.mcap"));
        let mut full = vec!["sim", "--out", path.to_str().unwrap()];
        full.extend_from_slice(args);
        let out = run(&full);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sum = Command::new("sha256sum").arg(&path).output().unwrap();
        let text = String::from_utf8(sum.stdout).unwrap();
        assert_eq!(
            text.split_whitespace().next(),
            Some(*digest),
            "dagr sim {args:?}"
        );
    }
}

/// Process `pid`'s peak resident memory so far (`VmHWM`), kB; None once it has exited.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// Runs `dagr sim --duration seconds` into `dir`; returns its peak RSS, kB, polled until
/// it exits.
fn sim_peak_rss_kb(dir: &Path, seconds: &str) -> u64 {
    let out = dir.join(format!("{seconds}.mcap"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(["sim", "--duration", seconds, "--out", out.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak_rss_kb(child.id()).unwrap_or(peak).max(peak);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.wait().unwrap().success(),
        "dagr sim --duration {seconds}"
    );
    assert!(out.metadata().unwrap().len() > 0);
    peak
}

#[test]
fn dagr_sim_memory_does_not_grow_with_the_duration() {
    let dir = scratch("sim-capture-memory");
    let short = sim_peak_rss_kb(&dir, "6");
    // Ten times longer: a capture of ~45 MB, which a run built in memory would hold.
    let long = sim_peak_rss_kb(&dir, "60");
    let written = dir.join("60.mcap").metadata().unwrap().len() / 1024;
    assert!(
        long <= short + 4 * 1024,
        "peak RSS {short} kB for 6 s, {long} kB for 60 s (capture {written} kB)"
    );
}

/// Bytes in `dir`'s unfinished capture (0 when there is none).
fn partial_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .max()
        .unwrap_or(0)
}

#[test]
fn the_longest_dagr_sim_starts_writing_with_the_memory_of_a_short_one() {
    let dir = scratch("longest");
    let short = sim_peak_rss_kb(&dir, "6");
    // The longest run accepted: its whole plan (schedule, motions, micro-motion, spells)
    // took 116 MB and seconds before the first byte; drawn as it plays, it holds what is
    // under way. Watched until it has written a few simulated seconds (~0.5 MB each).
    let out = dir.join("long.mcap");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(["sim", "--duration", "1e6", "--out", out.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut peak = 0;
    while partial_bytes(&dir) < 2_000_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no 2 MB written in 120 s"
        );
        assert!(child.try_wait().unwrap().is_none(), "dagr sim ended early");
        peak = peak_rss_kb(child.id()).unwrap_or(peak).max(peak);
        std::thread::sleep(Duration::from_millis(20));
    }
    peak = peak_rss_kb(child.id()).unwrap_or(peak).max(peak);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        peak <= short + 4 * 1024,
        "peak RSS {peak} kB for --duration 1e6 after 2 MB, {short} kB for a 6 s run"
    );
}

#[test]
fn an_interrupted_dagr_sim_leaves_no_partial_file_and_the_old_output_as_it_was() {
    let dir = scratch("sim-capture-interrupt");
    let out = dir.join("keep.mcap");
    std::fs::write(&out, b"the previous capture").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args([
            "sim",
            "--duration",
            "600",
            "--force",
            "--out",
            out.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let partial_with_data = || {
        std::fs::read_dir(&*dir).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().ends_with(".partial")
                && e.metadata().is_ok_and(|m| m.len() > 0)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !partial_with_data() {
        assert!(Instant::now() < deadline, "no partial file grew");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let exit = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&exit.stderr);
    assert_eq!(exit.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("keep.mcap: not written: interrupted at"),
        "{stderr}"
    );
    let left: Vec<String> = std::fs::read_dir(&*dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["keep.mcap"]);
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous capture");
}
