//! End to end with a TI mmWave radar's data port: the real recording played into one end
//! of a socat-joined serial link at the radar's 20 frames/s while `dagr record --source
//! ti-mmwave://...` reads the other end; the capture replays to exactly what `dagr decode`
//! gives for the recording, and an unplug/replug shows in the capture.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dagr_host::capture::{CaptureReader, Entry};
use dagr_host::events::SourceState;
use dagr_tests::dagr_cli::{decode, finish_record, inspect, replay, start_record};
use dagr_tests::process::{has_open, holds, wait_for, ChildGuard};
use dagr_tests::pty_link::PtyLink;
use dagr_tests::{fixture, fixtures_dir, scratch_dir};
use serde_json::Value;

const RECORDING: &str = "ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat";
const FRAMES_IN_RECORDING: usize = 101;
/// The radar's frame period.
const PERIOD: Duration = Duration::from_millis(50);
const MAGIC: [u8; 8] = [2, 1, 4, 3, 6, 5, 8, 7];

fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value
        .get(key)
        .unwrap_or_else(|| panic!("no {key:?} in {value}"))
}

/// The recording cut into the frames the radar sent (at each magic word).
fn frames() -> Vec<Vec<u8>> {
    let bytes = fixture(RECORDING);
    let mut starts: Vec<usize> = (0..bytes.len().saturating_sub(7))
        .filter(|&i| bytes[i..i + 8] == MAGIC)
        .collect();
    starts[0] = 0;
    starts.push(bytes.len());
    let frames: Vec<Vec<u8>> = starts
        .windows(2)
        .map(|w| bytes[w[0]..w[1]].to_vec())
        .collect();
    assert_eq!(frames.len(), FRAMES_IN_RECORDING);
    frames
}

/// Plays `frames` into the device end of `link` at the radar's rate.
fn play(link: &Path, frames: &[Vec<u8>]) {
    let mut port = serialport::new(link.to_string_lossy(), 921_600)
        .timeout(Duration::from_secs(1))
        .open()
        .unwrap_or_else(|e| panic!("open {}: {e}", link.display()));
    let start = Instant::now();
    for (i, frame) in frames.iter().enumerate() {
        let due = start + PERIOD * i as u32;
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        port.write_all(frame).expect("write a frame to the pty");
    }
    port.flush().expect("flush the pty");
}

/// `dagr record` of the link's gateway end, started and waited for until it holds the port.
fn record(link: &PtyLink, capture: &Path, duration_s: f64) -> (ChildGuard, String) {
    let uri = format!("ti-mmwave://{}", link.b().display());
    let record = start_record(&[uri], capture, duration_s);
    wait_for(
        "dagr record to open its port",
        Duration::from_secs(5),
        || has_open(record.id(), link.b()),
    );
    (record, format!("ti-mmwave:{}", link.b().display()))
}

/// A replayed record without the fields replay adds, after checking them.
fn as_decoded(mut line: Value, source: &str) -> Value {
    assert_eq!(field(&line, "source"), source, "{line}");
    assert_eq!(field(&line, "modality"), "mmwave", "{line}");
    assert!(field(&line, "t").as_f64().unwrap() > 0.0, "{line}");
    assert_eq!(field(&line, "mapped_ns").as_array().map(Vec::len), Some(1));
    let object = line.as_object_mut().unwrap();
    for added in ["source", "modality", "t", "mapped_ns"] {
        object.remove(added);
    }
    line
}

fn recording_path() -> PathBuf {
    fixtures_dir().join(RECORDING)
}

#[test]
fn ti_radar_recorded_live_then_replayed_equals_decoding_the_recording_directly() {
    let dir = scratch_dir("e2e-ti");
    let link = PtyLink::start(&dir);
    let capture = dir.join("ti.mmwave.mcap");
    let (record, source) = record(&link, &capture, 6.5);
    play(link.a(), &frames());
    finish_record(record, Duration::from_secs(10));

    let direct = decode("ti-mmwave", &recording_path());
    assert_eq!(direct.len(), FRAMES_IN_RECORDING);
    let replayed: Vec<Value> = replay(&capture)
        .into_iter()
        .map(|line| as_decoded(line, &source))
        .collect();
    assert_eq!(replayed.len(), direct.len());
    for (live, file) in replayed.iter().zip(&direct) {
        assert_eq!(live, file);
    }
    let report = inspect(&capture);
    let stream = &field(&report, "streams")[0];
    assert_eq!(field(stream, "records"), FRAMES_IN_RECORDING as u64);
    let rate = field(stream, "rate_hz").as_f64().unwrap();
    assert!((15.0..25.0).contains(&rate), "recorded at {rate} frames/s");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bytes in the closed chunks of `capture`, which may still be being written (0 before
/// its first chunk is on disk).
fn captured_bytes(capture: &Path) -> usize {
    let Ok(reader) = CaptureReader::open(capture) else {
        return 0;
    };
    reader
        .map(|entry| match entry {
            Entry::Chunk { bytes, .. } => bytes.len(),
            _ => 0,
        })
        .sum()
}

/// The states of `source` in the capture's /status channel.
fn states(capture: &Path, source: &str) -> Vec<SourceState> {
    CaptureReader::open(capture)
        .expect("the capture opens")
        .filter_map(|entry| match entry {
            Entry::Status(s) if &*s.source == source => Some(s.state),
            _ => None,
        })
        .collect()
}

#[test]
fn ti_radar_unplugged_and_replugged_during_record_shows_the_outage_and_data_after_it() {
    let dir = scratch_dir("e2e-ti-unplug");
    let mut link = PtyLink::start(&dir);
    let capture = dir.join("ti.mmwave.mcap");
    let (record, source) = record(&link, &capture, 5.0);
    let frames = frames();
    let (before, after) = (&frames[..30], &frames[30..60]);
    play(link.a(), before);
    // Bytes still in flight when the cable is pulled are lost: unplug only once every
    // frame played is in the capture (the recorder closes a chunk at least every second).
    let played: usize = before.iter().map(Vec::len).sum();
    wait_for(
        "the frames played before the unplug to reach the capture",
        Duration::from_secs(10),
        || captured_bytes(&capture) >= played,
    );

    let unplugged_device = link.b().canonicalize().unwrap();
    link.unplug();
    wait_for(
        "dagr record to let go of the unplugged port",
        Duration::from_secs(5),
        || !holds(record.id(), &unplugged_device),
    );
    link.replug();
    wait_for(
        "dagr record to reopen the replugged port",
        Duration::from_secs(5),
        || has_open(record.id(), link.b()),
    );
    play(link.a(), after);
    finish_record(record, Duration::from_secs(10));

    let states = states(&capture, &source);
    let disconnected = states
        .iter()
        .position(|s| matches!(s, SourceState::Disconnected { .. }))
        .unwrap_or_else(|| panic!("no Disconnected in {states:?}"));
    assert_eq!(states[0], SourceState::Connected, "{states:?}");
    assert!(
        states[disconnected..].contains(&SourceState::Connected),
        "no Connected after the Disconnected: {states:?}"
    );

    let report = inspect(&capture);
    let stream = &field(&report, "streams")[0];
    let disconnects = field(stream, "disconnects").as_array().unwrap();
    assert!(!disconnects.is_empty(), "{stream}");
    let lost_at = field(&disconnects[0], "at").as_f64().unwrap();
    // The largest gap is the outage: it holds the disconnect (it starts at the last frame
    // before the unplug, which came once those frames were in the capture).
    let gap = &field(stream, "largest_gaps")[0];
    let gap_start = field(gap, "after").as_f64().unwrap();
    let gap_end = gap_start + field(gap, "seconds").as_f64().unwrap();
    assert!(
        gap_start <= lost_at && lost_at <= gap_end,
        "the largest gap {gap} does not hold the outage at {lost_at} s"
    );
    assert!(field(gap, "seconds").as_f64().unwrap() >= 0.1, "{gap}");

    // Every frame of both halves is there; those after the replug come after the outage.
    let replayed = replay(&capture);
    let frame_numbers: Vec<u64> = replayed
        .iter()
        .map(|l| field(l, "frame").as_u64().unwrap())
        .collect();
    let direct: Vec<u64> = decode("ti-mmwave", &recording_path())[..60]
        .iter()
        .map(|l| field(l, "frame").as_u64().unwrap())
        .collect();
    assert_eq!(frame_numbers, direct);
    let resumed = replayed[30..]
        .iter()
        .all(|l| field(l, "t").as_f64().unwrap() > lost_at);
    assert!(
        resumed,
        "frames after the replug are timed before the outage"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
