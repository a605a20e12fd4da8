//! `dagr sim --serve` end to end: the served devices are opened by the gateway's own
//! sources (`dagr record`) exactly as hardware would be, and what they record decodes
//! cleanly at the devices' rates.
#![cfg(feature = "sim")]
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dagr_protocols::ti_mmwave::cli::parse_cfg;
use dagr_protocols::ti_mmwave::decode_bytes;
use dagr_sim::serve::ti_cli::RADAR_CFG;
use serde_json::Value;

/// A running `dagr sim --serve`, killed when dropped.
struct Served {
    child: Child,
    uris: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Served {
    /// Starts the simulator with `args` after `--serve` and reads its URIs (the LLRP one is
    /// printed last).
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dagr"))
            .args(["sim", "--serve", "--seed", "3"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dagr sim --serve");
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut served = Served {
            child,
            uris: Vec::new(),
            stderr: Some(stderr),
        };
        while !served.uris.last().is_some_and(|u| u.starts_with("llrp://")) {
            match lines.recv_timeout(Duration::from_secs(5)) {
                Ok(line) => served.uris.push(line),
                Err(_) => panic!("no LLRP URI within 5 s; got {:?}", served.uris),
            }
        }
        served
    }

    fn uri(&self, scheme: &str) -> &str {
        self.uris
            .iter()
            .find(|u| u.starts_with(scheme))
            .unwrap_or_else(|| panic!("no {scheme} URI in {:?}", self.uris))
    }

    /// Waits for the simulator to end by itself; returns its exit status and stderr.
    fn wait(mut self, timeout: Duration) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "dagr sim --serve did not end");
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status, stderr)
    }
}

impl Drop for Served {
    /// Stops the simulator with SIGTERM, as a user would, so it removes its work directory;
    /// kills it if it has not ended within 5 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dagr-sim-serve-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dagr(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dagr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn record(uris: &[String], out: &Path, seconds: &str) {
    let mut args = vec!["record"];
    for uri in uris {
        args.extend(["--source", uri.as_str()]);
    }
    args.extend(["--out", out.to_str().unwrap(), "--duration", seconds]);
    dagr(&args);
}

#[test]
fn a_recording_of_every_served_device_decodes_cleanly_at_the_device_rates() {
    let dir = scratch("rates");
    let labels = dir.join("labels.jsonl");
    let served = Served::start(&["--duration", "8", "--labels", labels.to_str().unwrap()]);
    assert!(
        served.uri("ti-mmwave://").contains("cli=") && served.uri("ti-mmwave://").contains("cfg=")
    );
    let capture = dir.join("live.mcap");
    record(&served.uris, &capture, "3");
    let inspection: Value =
        serde_json::from_slice(&dagr(&["inspect", "--json", capture.to_str().unwrap()]).stdout)
            .unwrap();
    let streams = inspection["streams"].as_array().unwrap();
    assert_eq!(streams.len(), served.uris.len(), "{inspection}");
    for s in streams {
        let name = s["source"].as_str().unwrap();
        let rate = s["rate_hz"].as_f64().unwrap();
        assert_eq!(s["frames_rejected"], 0, "{name}: {s}");
        let (lo, hi) = match s["format"].as_str().unwrap() {
            "ti-mmwave" => (18.0, 22.0),
            "esp32-csi" => (270.0, 330.0), // 100 packets/s x 3 antennas
            "llrp" => (100.0, f64::INFINITY),
            other => panic!("unexpected format {other}"),
        };
        assert!(rate >= lo && rate <= hi, "{name}: {rate} records/s");
        assert_eq!(s["disconnects"].as_array().unwrap().len(), 0, "{name}: {s}");
    }
    // The reader's tag reads carry the Impinj phase the gateway asked for.
    let replay = dagr(&["replay", "--max", "--json", capture.to_str().unwrap()]).stdout;
    let with_phase = String::from_utf8(replay)
        .unwrap()
        .lines()
        .filter(|l| l.contains("RO_ACCESS_REPORT") && l.contains("\"phase_rad\":"))
        .count();
    assert!(with_phase > 100, "{with_phase} reports with phase");
    let (status, stderr) = served.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    // The gateway's TI source sent the whole cfg (and sensorStop when it finished).
    let cfg_commands = parse_cfg(RADAR_CFG).count();
    assert!(
        stderr.contains(&format!("{} radar CLI commands", cfg_commands + 1)),
        "{stderr}"
    );
    assert!(stderr.contains("1 LLRP connections"), "{stderr}");
    let labels = std::fs::read_to_string(&labels).unwrap();
    let first: Value = serde_json::from_str(labels.lines().next().expect("a label")).unwrap();
    assert!(
        first["class"].is_string() && first["start_unix_ns"].is_u64(),
        "{first}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_silent_llrp_client_is_dropped_but_the_gateway_acknowledging_keepalives_is_not() {
    let dir = scratch("idle");
    let served = Served::start(&["--duration", "9", "--llrp-idle-timeout", "1"]);
    let llrp = served.uri("llrp://").to_string();
    let address = llrp["llrp://".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_string();
    // A client that connects and then says nothing holds the reader's only slot...
    let mut silent = std::net::TcpStream::connect(&address).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    let mut greeting = Vec::new();
    silent.read_to_end(&mut greeting).unwrap();
    let dropped_after = started.elapsed();
    // ...until the idle timeout: the reader closes it (after its greeting).
    assert!(!greeting.is_empty());
    assert!(
        dropped_after >= Duration::from_millis(900) && dropped_after < Duration::from_secs(3),
        "{dropped_after:?}"
    );
    // The gateway's LLRP source acknowledges its KEEPALIVEs (every 300 ms here), so it
    // records for four idle timeouts without being dropped.
    let capture = dir.join("llrp.mcap");
    record(&[format!("{llrp}&keepalive_ms=300")], &capture, "4");
    let inspection: Value =
        serde_json::from_slice(&dagr(&["inspect", "--json", capture.to_str().unwrap()]).stdout)
            .unwrap();
    let rfid = &inspection["streams"][0];
    assert!(rfid["records"].as_u64().unwrap() > 100, "{rfid}");
    assert_eq!(rfid["disconnects"].as_array().unwrap().len(), 0, "{rfid}");
    let (status, stderr) = served.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("2 LLRP connections (1 dropped as idle)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Reads what `port` gives within `window`.
fn read_for(port: &mut dyn serialport::SerialPort, window: Duration) -> Vec<u8> {
    let deadline = Instant::now() + window;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = port.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    got
}

fn open(path: &str) -> Box<dyn serialport::SerialPort> {
    serialport::new(path, 921_600)
        .timeout(Duration::from_millis(20))
        .open()
        .unwrap_or_else(|e| panic!("open {path}: {e}"))
}

/// Sends one CLI command and returns what the radar printed within half a second.
fn command(cli: &mut dyn serialport::SerialPort, line: &str) -> String {
    cli.write_all(format!("{line}\n").as_bytes()).unwrap();
    String::from_utf8_lossy(&read_for(cli, Duration::from_millis(300))).into_owned()
}

/// The served radar's data port is silent until `sensorStart`, then sends frames 50 ms apart
/// on the radar's own clock (20 Hz, read from the frame headers' numbers and `timeCpuCycles`
/// rather than the test's wall clock, so a starved reader or server cannot fail it while a
/// repeated or mistimed frame does), and falls silent after `sensorStop`.
#[test]
fn the_radar_data_port_sends_frames_only_between_sensor_start_and_sensor_stop() {
    let served = Served::start(&["--duration", "10"]);
    let uri = served.uri("ti-mmwave://").to_string();
    let data_path = &uri["ti-mmwave://".len()..uri.find('?').unwrap()];
    let cli_path = uri.split("cli=").nth(1).unwrap().split('&').next().unwrap();
    let mut data = open(data_path);
    let mut cli = open(cli_path);
    assert!(read_for(data.as_mut(), Duration::from_millis(300)).is_empty());
    let asked = Instant::now();
    let answer = command(cli.as_mut(), "sensorStart");
    assert!(answer.contains("sensorStart\r\nDone"), "{answer:?}");
    let frames = read_frames(data.as_mut(), 8, Duration::from_secs(20));
    let waited = asked.elapsed();
    // Each frame's `timeCpuCycles` (the R4F's 200 MHz clock) is 50 ms per frame number after
    // the previous one's, to a microsecond: the radar runs at 20 Hz on its own clock. Frame
    // numbers only increase; a frame the outbox dropped for a slow reader skips a number,
    // so gaps are allowed, but a radar that sent only every other frame would have none
    // consecutive.
    let steps: Vec<(u32, u32)> = frames
        .windows(2)
        .map(|w| {
            (
                w[1].frame_number.wrapping_sub(w[0].frame_number),
                w[1].time_cpu_cycles.wrapping_sub(w[0].time_cpu_cycles),
            )
        })
        .collect();
    assert!(
        steps.iter().all(|&(n, cycles)| (1..1000).contains(&n)
            && u64::from(cycles).abs_diff(u64::from(n) * 10_000_000) <= 200),
        "(frame number step, CPU cycles step) {steps:?}: 10 000 000 cycles a frame at 20 Hz"
    );
    assert!(steps.iter().any(|&(n, _)| n == 1), "{steps:?}");
    // And the frames are paced in real time, not sent as fast as they are made: frame k
    // leaves no earlier than k periods after the first, so the last one read cannot come
    // sooner than that after `sensorStart` (a lower bound only: a starved machine delays
    // frames, it cannot hurry them).
    let span = frames[frames.len() - 1]
        .frame_number
        .wrapping_sub(frames[0].frame_number);
    let paced = Duration::from_millis(50) * span;
    assert!(
        waited >= paced.mul_f64(0.9),
        "{} frames {span} numbers apart arrived within {waited:?} of sensorStart",
        frames.len()
    );
    let answer = command(cli.as_mut(), "sensorStop");
    assert!(answer.contains("Done"), "{answer:?}");
    // Frames sent before the answer may still be buffered; a radar still running would
    // keep every 200 ms read busy (4 frames each), so the port must fall quiet.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read_for(data.as_mut(), Duration::from_millis(200)).is_empty() {
        assert!(
            Instant::now() < deadline,
            "frames kept coming 10 s after sensorStop"
        );
    }
    let answer = command(cli.as_mut(), "frobnicate 1");
    assert!(
        answer.contains("'frobnicate' is not recognized as a CLI command"),
        "{answer:?}"
    );
}

/// Reads `port` until it has given `count` whole frames (the first `count` returned), at
/// most for `limit`.
fn read_frames(
    port: &mut dyn serialport::SerialPort,
    count: usize,
    limit: Duration,
) -> Vec<dagr_protocols::ti_mmwave::Frame> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    loop {
        got.extend(read_for(port, Duration::from_millis(100)));
        let (mut frames, _) = decode_bytes(&got);
        if frames.len() >= count {
            frames.truncate(count);
            return frames;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} frames after {limit:?}",
            frames.len()
        );
    }
}

#[test]
fn serving_ends_cleanly_on_sigterm_and_removes_its_cfg() {
    let served = Served::start(&[]);
    let uri = served.uri("ti-mmwave://").to_string();
    let cfg = PathBuf::from(uri.split("cfg=").nth(1).unwrap().split('&').next().unwrap());
    assert!(cfg.exists());
    let killed = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, stderr) = served.wait(Duration::from_secs(5));
    assert!(status.success(), "{stderr}");
    assert!(!cfg.exists(), "{} left behind", cfg.display());
}

/// What the model's inputs are made of, per modality, in one capture (from `dagr replay
/// --json`): the numbers a change in the devices' physics moves.
#[derive(Debug, Default)]
struct DeviceStatistics {
    radar_frames: u64,
    radar_points: u64,
    /// The smallest non-zero |v| of a radar point: the Doppler bin, m/s.
    radar_velocity_step: f64,
    csi_rows: u64,
    csi_rssi_sum: f64,
    tag_reads: u64,
    epcs: std::collections::BTreeSet<String>,
}

impl DeviceStatistics {
    /// Reads `capture`'s records up to capture time `until_s`.
    fn of(capture: &Path, until_s: f64) -> DeviceStatistics {
        let replay = dagr(&["replay", "--max", "--json", capture.to_str().unwrap()]).stdout;
        let mut s = DeviceStatistics {
            radar_velocity_step: f64::INFINITY,
            ..DeviceStatistics::default()
        };
        for line in String::from_utf8(replay).unwrap().lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            if record["t"].as_f64().is_none_or(|t| t > until_s) {
                continue;
            }
            match record["modality"].as_str() {
                Some("mmwave") => s.add_frame(&record),
                Some("wifi") => {
                    s.csi_rows += 1;
                    s.csi_rssi_sum += record["rssi"].as_f64().unwrap();
                }
                Some("rfid") => {
                    for tag in record["tags"].as_array().unwrap() {
                        s.tag_reads += 1;
                        s.epcs.insert(tag["epc"].as_str().unwrap().to_string());
                    }
                }
                _ => {}
            }
        }
        s
    }

    fn add_frame(&mut self, frame: &Value) {
        self.radar_frames += 1;
        for point in frame["points"].as_array().unwrap() {
            self.radar_points += 1;
            let v = point["v"].as_f64().unwrap().abs();
            if v > 1e-6 {
                self.radar_velocity_step = self.radar_velocity_step.min(v);
            }
        }
    }

    fn points_per_frame(&self) -> f64 {
        self.radar_points as f64 / self.radar_frames as f64
    }

    fn mean_csi_rssi(&self) -> f64 {
        self.csi_rssi_sum / self.csi_rows as f64
    }
}

/// `dagr demo` recognizes what the served devices send with a model trained on `dagr sim
/// --out` captures: the served devices (through the gateway's sources, with the `.cfg` the
/// gateway sends the radar) must measure like the `--out` devices of the same room, person
/// and seed. A served radar once ran a 0.84 m/s Doppler grid instead of 0.14 m/s, and the
/// demo predicted "clapping" for most windows.
#[test]
fn served_devices_measure_like_the_sim_out_devices_of_the_same_seed() {
    let dir = scratch("statistics");
    let scene = ["--room", "47", "--subject", "67"];
    let served = Served::start(&[&scene[..], &["--duration", "9"]].concat());
    let live = dir.join("served.mcap");
    record(&served.uris, &live, "6");
    let written = dir.join("out.mcap");
    let out_path = written.to_str().unwrap();
    dagr(
        &[
            &["sim", "--seed", "3"],
            &scene[..],
            &["--duration", "7", "--out", out_path],
        ]
        .concat(),
    );
    let served_stats = DeviceStatistics::of(&live, 6.0);
    let out_stats = DeviceStatistics::of(&written, 6.0);
    let summary = format!("served {served_stats:?}\nsim --out {out_stats:?}");
    assert!(
        served_stats.radar_frames > 80 && out_stats.radar_frames > 80,
        "{summary}"
    );
    assert!(
        (served_stats.radar_velocity_step / out_stats.radar_velocity_step - 1.0).abs() < 0.01,
        "radar Doppler bins differ\n{summary}"
    );
    // The served radar starts once the gateway has sent its cfg (a second or so later), so
    // the two cover slightly different stretches of the scene: a loose bound (the 0.84 m/s
    // grid gave 0.52).
    let points = served_stats.points_per_frame() / out_stats.points_per_frame();
    assert!(
        (0.7..1.4).contains(&points),
        "radar points per frame differ\n{summary}"
    );
    assert!(
        (served_stats.mean_csi_rssi() - out_stats.mean_csi_rssi()).abs() < 1.5,
        "CSI power differs\n{summary}"
    );
    assert_eq!(served_stats.epcs, out_stats.epcs, "{summary}");
    let reads = served_stats.tag_reads as f64 / out_stats.tag_reads as f64;
    assert!(
        (0.8..1.25).contains(&reads),
        "tag read rates differ\n{summary}"
    );
    drop(served);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `dagr demo` prints each window's prediction beside the true activity and closes, like
/// `dagr replay --model`, with its score against them: the summary's accuracy is the share
/// of labeled lines whose class is their label, over exactly those lines.
#[test]
fn the_demo_scores_its_live_predictions_against_the_true_activities() {
    let out = dagr(&["demo", "--duration", "8", "--json"]);
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 8, "{} windows in 8 s", lines.len());
    let labeled: Vec<&Value> = lines.iter().filter(|l| l["label"].is_string()).collect();
    assert!(!labeled.is_empty(), "no window had a true activity");
    let right = labeled.iter().filter(|l| l["class"] == l["label"]).count();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let expected = format!(
        "dagr demo: accuracy {:.3} over {} labeled windows",
        right as f64 / labeled.len() as f64,
        labeled.len()
    );
    assert!(stderr.contains(&expected), "{expected:?} not in:\n{stderr}");
    assert!(
        stderr.contains("confusion (rows true, columns predicted)"),
        "{stderr}"
    );
}

/// `dagr sim --serve --csi-bandwidth 40 --csi-secondary below` serves HT40 rows on the CSI
/// receivers' pseudo-terminals: the gateway's ESP32-CSI-Tool decoder reads `cwb` 1,
/// secondary 2, `len` 384 and all 192 buffer entries.
#[test]
fn served_csi_receivers_print_ht40_rows_when_asked() {
    use dagr_protocols::csi::esp32_csi_tool::{CsiRow, RowDecoder};
    use dagr_protocols::stream::decode_all;
    let served = Served::start(&[
        "--duration",
        "10",
        "--csi-bandwidth",
        "40",
        "--csi-secondary",
        "below",
    ]);
    let uri = served.uri("esp32-csi://").to_string();
    let path = &uri["esp32-csi://".len()..uri.find('?').unwrap_or(uri.len())];
    let mut port = open(path);
    let bytes = read_for(port.as_mut(), Duration::from_millis(500));
    let mut rows: Vec<CsiRow> = Vec::new();
    decode_all(&mut RowDecoder::new(), &bytes, |row| rows.push(row));
    assert!(rows.len() >= 60, "{} rows in 0.5 s", rows.len());
    for row in &rows {
        let rx = &row.rx_ctrl;
        assert_eq!((rx.bandwidth, rx.secondary_channel, row.len), (1, 2, 384));
        assert_eq!(row.csi.len(), 192);
    }
}
