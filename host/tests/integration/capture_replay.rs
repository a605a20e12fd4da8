//! Captures written with the writer API from real recordings: `dagr replay` prints what
//! `dagr decode` prints, `dagr inspect` counts right, a recording of a replay replays the
//! same, and the replay source re-emits the original bytes and times.
use crate::capture_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{dagr, json_lines, run_ok, scratch};
use capture_support::*;
use dagr_host::clock::GatewayClock;
use dagr_host::events::{
    self, OverflowPolicy, SourceCounters, SourceEvent, SourceQueue, SourceState, StopFlag,
};
use dagr_host::source::{self, Output, SourceContext, SourceUri};
use serde_json::Value;

/// The decoded object of a replayed line, after checking the fields replay adds: source,
/// modality, t, and one mapped time per record (per tag report of an LLRP message).
fn strip_replay_fields(mut v: Value) -> Value {
    let records = v["tags"].as_array().map_or(1, Vec::len);
    let object = v.as_object_mut().unwrap();
    for key in ["source", "modality", "t"] {
        assert!(
            object.remove(key).is_some(),
            "replay line lacks {key:?}: {v}"
        );
    }
    let mapped = object.remove("mapped_ns");
    let mapped = mapped.as_ref().and_then(Value::as_array);
    let mapped = mapped.unwrap_or_else(|| panic!("replay line lacks \"mapped_ns\": {v}"));
    assert_eq!(mapped.len(), records, "one mapped time per record: {v}");
    assert!(mapped.iter().all(Value::is_u64), "{v}");
    v
}

#[test]
fn replay_prints_exactly_the_records_of_a_direct_decode_plus_source_modality_and_time() {
    let dir = scratch("replay-decode");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 8.0);
    let lines = replay_json(&capture);
    for (f, modality) in FIXTURES.iter().zip(["mmwave", "wifi", "rfid"]) {
        let direct = json_lines(&run_ok(&[
            "decode",
            "--format",
            f.format.name(),
            "--json",
            path_str(&real_path(f.file)),
        ]));
        let replayed: Vec<&Value> = lines.iter().filter(|v| v["source"] == f.name).collect();
        assert!(
            replayed.iter().all(|v| v["modality"] == modality),
            "{}",
            f.name
        );
        let times: Vec<f64> = replayed.iter().map(|v| v["t"].as_f64().unwrap()).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{}: t goes back",
            f.name
        );
        assert!(times
            .iter()
            .all(|&t| (START_S..=START_S + 8.0).contains(&t)));
        let stripped: Vec<Value> = replayed
            .into_iter()
            .cloned()
            .map(strip_replay_fields)
            .collect();
        assert_eq!(stripped.len(), direct.len(), "{}", f.name);
        assert!(
            stripped == direct,
            "{}: replayed records differ from decode",
            f.name
        );
    }
    // The first radar frame (736 bytes) is completed by the first 777-byte chunk.
    let first_radar = lines.iter().find(|v| v["source"] == "radar").unwrap();
    assert_eq!(first_radar["t"], START_S);
}

#[test]
fn replay_prints_labels_in_time_order_among_the_records() {
    let dir = scratch("replay-labels");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 8.0);
    let lines = replay_json(&capture);
    let labels: Vec<(usize, &Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, v)| v.get("label").is_some())
        .collect();
    let classes: Vec<&str> = labels
        .iter()
        .map(|(_, v)| v["label"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["walk", "sit"]);
    for (at, label) in labels {
        assert!(label.get("modality").is_none(), "{label}");
        assert_eq!(label.as_object().unwrap().len(), 3, "{label}");
        let start = label["start"].as_f64().unwrap();
        let t = |v: &Value| v["t"].as_f64();
        assert!(
            lines[..at].iter().filter_map(t).all(|t| t < start),
            "{label}"
        );
        assert!(
            lines[at..].iter().filter_map(t).all(|t| t >= start),
            "{label}"
        );
    }
}

#[test]
fn inspect_reports_each_streams_counts_gaps_disconnects_and_clock_offset() {
    let dir = scratch("inspect");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 8.0);
    let report = &json_lines(&run_ok(&["inspect", "--json", path_str(&capture)]))[0];
    assert_eq!(report["complete"], true);
    assert_eq!(report["labels"], 2);
    assert_eq!(report["dagr_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        report["gateway_epoch_unix_ns"],
        1_700_000_000_000_000_000u64
    );
    let streams = report["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 3);
    for (f, (name, records)) in FIXTURES.iter().zip(RECORDS) {
        let s = streams.iter().find(|s| s["source"] == name).unwrap();
        let bytes = real(f.file).len();
        assert_eq!(s["format"], f.format.name());
        assert_eq!(s["bytes"], bytes);
        assert_eq!(s["chunks"], bytes.div_ceil(f.chunk));
        assert_eq!(s["records"], records, "{name}");
        assert_eq!(s["bytes_skipped"], 0, "{name}");
        assert_eq!(s["frames_rejected"], 0, "{name}");
        assert_eq!(s["start"], START_S);
        let rate = s["rate_hz"].as_f64().unwrap();
        let span = s["duration"].as_f64().unwrap();
        assert!((rate - records as f64 / span).abs() < 1e-9);
        assert_eq!(s["largest_gaps"].as_array().unwrap().len(), 3);
    }
    let esp = streams.iter().find(|s| s["source"] == "esp32").unwrap();
    assert_eq!(esp["disconnects"][0]["reason"], "unplugged");
    let radar = streams.iter().find(|s| s["source"] == "radar").unwrap();
    assert!((radar["clock_offset_s"].as_f64().unwrap() - 0.002).abs() < 1e-9);
    assert_eq!(radar["modality"], "mmwave");
    let human = run_ok(&["inspect", path_str(&capture)]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("radar [ti-mmwave, mmwave]") && text.contains("101 records"),
        "{text}"
    );
}

#[test]
fn recording_a_replay_then_replaying_it_prints_the_same_lines() {
    let dir = scratch("round-trip");
    let (a, b) = (dir.join("a.mcap"), dir.join("b.mcap"));
    write_capture(&a, 8.0);
    let uri = format!("replay://{}?max", a.display());
    let out = run_ok(&["record", "--source", &uri, "--out", path_str(&b)]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("radar: 74336 bytes, 96 chunks, 101 records"),
        "{summary}"
    );
    assert!(summary.contains("0 events dropped"), "{summary}");
    assert_eq!(replay_json(&b), replay_json(&a));
    let report = &json_lines(&run_ok(&["inspect", "--json", path_str(&b)]))[0];
    assert_eq!(report["complete"], true);
    let esp = report["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "esp32");
    assert_eq!(esp.unwrap()["disconnects"].as_array().unwrap().len(), 1);
}

#[test]
fn replay_source_reemits_original_chunks_and_times_then_finishes_every_stream() {
    let dir = scratch("replay-source");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 8.0);
    let uri = SourceUri::parse(&format!("replay://{}?speed=max", capture.display())).unwrap();
    let counters = Arc::new(SourceCounters::default());
    let (events, rx) = events::channel(
        SourceQueue {
            capacity: 1 << 16,
            policy: OverflowPolicy::DropNewest,
            ..SourceQueue::default()
        },
        counters.clone(),
    );
    let ctx = SourceContext {
        name: uri.name().into(),
        events,
        stop: StopFlag::default(),
        clock: GatewayClock::new(),
        output: Output::ChunksAndRecords,
    };
    let thread = source::spawn(&uri, ctx).unwrap();
    let (mut bytes, mut arrivals, mut records, mut finished) =
        (HashMap::new(), HashMap::new(), HashMap::new(), 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while finished < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left).expect("replay finished in time") {
            SourceEvent::Chunk(c) => {
                bytes
                    .entry(c.source.to_string())
                    .or_insert_with(Vec::new)
                    .extend(c.bytes);
                arrivals
                    .entry(c.source.to_string())
                    .or_insert_with(Vec::new)
                    .push(c.arrival_ns);
            }
            SourceEvent::Records(rs) => {
                for r in rs {
                    assert!(arrivals[&*r.source].contains(&r.arrival_ns));
                    *records.entry(r.source.to_string()).or_insert(0u64) += 1;
                }
            }
            SourceEvent::Status(s) => finished += u32::from(s.state == SourceState::Finished),
            SourceEvent::TimeSync(_) => panic!("these captures hold no node time-sync answers"),
        }
    }
    thread.join().unwrap();
    for (f, (name, count)) in FIXTURES.iter().zip(RECORDS) {
        assert_eq!(bytes[name], real(f.file), "{name}");
        let n = real(f.file).len().div_ceil(f.chunk);
        let expected: Vec<u64> = (0..n).map(|i| arrival_ns(i, n, 8.0)).collect();
        assert_eq!(arrivals[name], expected, "{name}");
        assert_eq!(records[name], count, "{name}");
    }
    assert_eq!(SourceCounters::get(&counters.records), 101 + 13 + 45);
    assert_eq!(SourceCounters::get(&counters.dropped_events), 0);
}

#[test]
fn replay_source_for_recording_sends_every_chunk_and_status_but_no_records() {
    let dir = scratch("replay-chunks-only");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 8.0);
    let uri = SourceUri::parse(&format!("replay://{}?speed=max", capture.display())).unwrap();
    let counters = Arc::new(SourceCounters::default());
    let (events, rx) = events::channel(
        SourceQueue {
            capacity: 1 << 16,
            policy: OverflowPolicy::DropNewest,
            ..SourceQueue::default()
        },
        counters.clone(),
    );
    let ctx = SourceContext {
        name: uri.name().into(),
        events,
        stop: StopFlag::default(),
        clock: GatewayClock::new(),
        output: Output::ChunksOnly,
    };
    let thread = source::spawn(&uri, ctx).unwrap();
    let (mut bytes, mut finished) = (HashMap::new(), 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while finished < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left).expect("replay finished in time") {
            SourceEvent::Chunk(c) => bytes
                .entry(c.source.to_string())
                .or_insert_with(Vec::new)
                .extend(c.bytes),
            SourceEvent::Status(s) => finished += u32::from(s.state == SourceState::Finished),
            other => panic!("chunks only, yet the replay sent {other:?}"),
        }
    }
    thread.join().unwrap();
    for f in FIXTURES {
        assert_eq!(bytes[f.name], real(f.file), "{}", f.name);
    }
    assert_eq!(SourceCounters::get(&counters.records), 0);
}

#[test]
fn replay_at_speed_one_takes_the_recorded_time_and_speed_four_a_quarter() {
    // Pacing can only be checked from below on a shared machine (a starved replay is late,
    // never early): each speed takes at least its share of the recorded 4 s, and speed 4
    // finishes before speed 1, whose floor (3.6 s) is 2.6 s above speed 4's (1 s).
    let dir = scratch("replay-speed");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 4.0);
    let took = |speed: &str| {
        let start = Instant::now();
        run_ok(&["replay", path_str(&capture), "--speed", speed, "--json"]);
        start.elapsed().as_secs_f64()
    };
    let (one, four) = (took("1"), took("4"));
    assert!(one >= 4.0 * 0.9, "speed 1: {one} s");
    assert!(four >= 1.0 * 0.9, "speed 4: {four} s");
    assert!(four < one, "speed 4 took {four} s, speed 1 {one} s");
}

/// An empty, a garbage or a missing file given as a capture is an input error (exit 2)
/// naming the file, for every command that reads captures (issue 8 point 5: empty input).
#[test]
fn missing_or_corrupt_captures_exit_2_naming_the_file() {
    let dir = scratch("bad-captures");
    let garbage = dir.join("garbage.mcap");
    std::fs::write(&garbage, b"this is not an mcap file at all").unwrap();
    let empty = dir.join("empty.mcap");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.join("missing.mcap");
    for file in [&garbage, &empty, &missing] {
        let out = dir.join("export");
        let export = ["dataset", "export", path_str(file), "--out", path_str(&out)];
        for args in [
            &["replay", path_str(file)][..],
            &["inspect", path_str(file)],
            &export,
        ] {
            let command = args[0];
            let run = dagr().args(args).output().unwrap();
            let err = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(2), "{command}: {err}");
            assert!(err.contains(path_str(file)), "{command}: {err}");
            assert!(!err.contains("panicked"), "{command}: {err}");
        }
        assert!(!out.exists(), "dataset export left {out:?}");
        let uri = format!("replay://{}", file.display());
        let out = dagr()
            .args([
                "record",
                "--source",
                &uri,
                "--out",
                path_str(&dir.join("o.mcap")),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "record: {err}");
        assert!(err.contains(path_str(file)), "record: {err}");
    }
    let err = String::from_utf8_lossy(
        &dagr()
            .args(["inspect", path_str(&garbage)])
            .output()
            .unwrap()
            .stderr,
    )
    .to_string();
    assert!(err.contains("not an MCAP file"), "{err}");
}

#[test]
fn replay_source_waits_for_room_instead_of_dropping_into_a_full_channel() {
    let dir = scratch("replay-backpressure");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 8.0);
    let uri = SourceUri::parse(&format!("replay://{}?max", capture.display())).unwrap();
    let counters = Arc::new(SourceCounters::default());
    let (events, rx) = events::channel(
        SourceQueue {
            capacity: 2,
            policy: OverflowPolicy::DropOldest,
            ..SourceQueue::default()
        },
        counters.clone(),
    );
    let ctx = SourceContext {
        name: uri.name().into(),
        events,
        stop: StopFlag::default(),
        clock: GatewayClock::new(),
        output: Output::ChunksAndRecords,
    };
    let thread = source::spawn(&uri, ctx).unwrap();
    let (mut records, mut finished) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while finished < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left).expect("replay finished in time") {
            SourceEvent::Records(rs) => records += rs.len(),
            SourceEvent::Status(s) => finished += u32::from(s.state == SourceState::Finished),
            SourceEvent::Chunk(_) => {}
            SourceEvent::TimeSync(_) => panic!("these captures hold no node time-sync answers"),
        }
        std::thread::sleep(Duration::from_micros(200)); // a slow consumer
    }
    thread.join().unwrap();
    assert_eq!(records, 101 + 13 + 45);
    assert_eq!(SourceCounters::get(&counters.dropped_events), 0);
}

#[test]
fn record_refuses_to_overwrite_the_capture_it_replays() {
    let dir = scratch("record-overwrite");
    let capture = dir.join("a.mcap");
    write_capture(&capture, 1.0);
    let before = std::fs::read(&capture).unwrap();
    let uri = format!("replay://{}?max", capture.display());
    let out = dagr()
        .args(["record", "--source", &uri, "--out", path_str(&capture)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is the capture"), "{err}");
    assert_eq!(std::fs::read(&capture).unwrap(), before);
}
