//! End to end with an RFID reader: `dagr record --source llrp://...` against the llrpkit
//! emulator on 127.0.0.1, then `dagr replay` and `dagr inspect` on the capture.
use std::time::{Duration, Instant};

use dagr_tests::dagr_cli::{finish_record, inspect, replay, start_record};
use dagr_tests::llrp_emulator::Emulator;
use dagr_tests::process::wait_for;
use dagr_tests::reserved_port::ReservedPort;
use dagr_tests::scratch_dir;
use serde_json::Value;

fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value
        .get(key)
        .unwrap_or_else(|| panic!("no {key:?} in {value}"))
}

/// The tag objects of every RO_ACCESS_REPORT replayed, with the report's time `t`.
fn tags(lines: &[Value], source: &str) -> Vec<(f64, Value)> {
    lines
        .iter()
        .filter(|l| field(l, "type") == "RO_ACCESS_REPORT")
        .flat_map(|l| {
            assert_eq!(field(l, "source"), source, "{l}");
            assert_eq!(field(l, "modality"), "rfid", "{l}");
            let t = field(l, "t").as_f64().unwrap();
            let tags = field(l, "tags").as_array().unwrap().clone();
            tags.into_iter().map(move |tag| (t, tag))
        })
        .collect()
}

#[test]
fn llrp_reader_recorded_then_replayed_prints_tag_reads_with_impinj_phase() {
    let dir = scratch_dir("e2e-llrp");
    let emulator = Emulator::start(0);
    let capture = dir.join("llrp.mcap");
    let uri = format!("llrp://127.0.0.1:{}", emulator.port);
    let record = start_record(&[uri], &capture, 3.0);
    finish_record(record, Duration::from_secs(10));

    let source = format!("llrp:127.0.0.1:{}", emulator.port);
    let reads = tags(&replay(&capture), &source);
    // 50 reads/s for ~3 s, less the handshake.
    assert!(reads.len() >= 50, "only {} tag reads", reads.len());
    for (_, tag) in &reads {
        let phase = field(tag, "phase_rad").as_f64().expect("Impinj phase");
        assert!((0.0..std::f64::consts::TAU).contains(&phase), "{tag}");
        assert!(field(tag, "epc").as_str().unwrap().len() == 24, "{tag}");
        assert!(
            field(tag, "first_seen_utc_us").as_u64().unwrap() > 0,
            "{tag}"
        );
    }
    let report = inspect(&capture);
    let stream = &field(&report, "streams")[0];
    assert_eq!(field(stream, "format"), "llrp");
    assert_eq!(
        field(stream, "records").as_u64().unwrap(),
        reads.len() as u64
    );
    assert_eq!(field(stream, "disconnects").as_array().unwrap().len(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn llrp_reader_killed_mid_record_shows_as_a_disconnect_gap_and_reads_resume() {
    let dir = scratch_dir("e2e-llrp-kill");
    // Reserved: nothing else can take the port while the reader is down.
    let reserved = ReservedPort::new();
    let port = reserved.port();
    let emulator = Emulator::start(port);
    let capture = dir.join("llrp.mcap");
    let uri = format!("llrp://127.0.0.1:{port}?retry_ms=50&max_retry_ms=400");
    let started = Instant::now();
    let record = start_record(&[uri], &capture, 6.0);
    // Kill the reader once the capture on disk holds 20 reads (its chunks close every
    // second), not after a fixed time a loaded machine may not honour.
    let source = format!("llrp:127.0.0.1:{port}");
    wait_for("20 reads in the capture", Duration::from_secs(15), || {
        std::fs::metadata(&capture).is_ok_and(|m| m.len() > 0)
            && tags(&replay(&capture), &source).len() >= 20
    });
    drop(emulator); // kill -9: no CLOSE_CONNECTION, no FIN from LLRP
    let killed_after = started.elapsed().as_secs_f64();
    let restarted = Emulator::start(port);
    assert_eq!(restarted.port, port);
    finish_record(record, Duration::from_secs(12));

    let report = inspect(&capture);
    let stream = &field(&report, "streams")[0];
    let disconnects = field(stream, "disconnects").as_array().unwrap();
    assert!(!disconnects.is_empty(), "{stream}");
    let reason = field(&disconnects[0], "reason").as_str().unwrap();
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");
    let lost_at = field(&disconnects[0], "at").as_f64().unwrap();
    // Gateway time starts a little after our clock: the disconnect comes soon after the kill.
    assert!(
        lost_at <= killed_after + 1.0,
        "disconnect at {lost_at} s, kill at {killed_after} s"
    );
    let gap = &field(stream, "largest_gaps")[0];
    let silence = field(gap, "seconds").as_f64().unwrap();
    let after = field(gap, "after").as_f64().unwrap();
    assert!(silence >= 0.2, "the restart left no gap: {stream}");
    assert!(
        (after - lost_at).abs() < 1.0,
        "the largest gap {gap} is not the outage at {lost_at}"
    );

    let reads = tags(&replay(&capture), &source);
    let before = reads.iter().filter(|(t, _)| *t <= lost_at).count();
    let resumed = reads
        .iter()
        .filter(|(t, _)| *t > after + silence - 0.01)
        .count();
    assert!(before >= 20, "{before} reads before the kill");
    assert!(resumed >= 20, "{resumed} reads after the reader came back");
    let _ = std::fs::remove_dir_all(&dir);
}
