//! End to end with a simulated sensor node: `dagr-node-sim` on one end of a socat-joined
//! serial link, `dagr record --source node://...` on the other, then `dagr inspect` and
//! `dagr replay` on the capture.
use std::process::Command;
use std::time::Duration;

use dagr_host::capture::{CaptureReader, Entry};
use dagr_tests::binaries::node_sim;
use dagr_tests::dagr_cli::{finish_record, inspect, replay, start_record};
use dagr_tests::node_capture::{last_frame_bytes, median, NodeReplay};
use dagr_tests::process::{has_open, spawn_piped, wait_for};
use dagr_tests::pty_link::PtyLink;
use dagr_tests::scratch_dir;
use serde_json::Value;

const RECORD_S: f64 = 3.0;

fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value
        .get(key)
        .unwrap_or_else(|| panic!("no {key:?} in {value}"))
}

/// The median wire time, at the default 921 600 Bd (8N1), of the last frame of each chunk
/// that completed a record (a publish time other than its log time), s.
pub(crate) fn median_last_frame_wire_s(capture: &std::path::Path) -> f64 {
    let chunks: Vec<(u64, u64, Vec<u8>)> = CaptureReader::open(capture)
        .expect("the capture opens")
        .filter_map(|entry| match entry {
            Entry::Chunk {
                log_ns,
                publish_ns,
                bytes,
                ..
            } => Some((log_ns, publish_ns, bytes)),
            _ => None,
        })
        .collect();
    let lengths = last_frame_bytes(chunks.iter().map(|c| c.2.as_slice()));
    let wire_s = chunks
        .iter()
        .zip(lengths)
        .filter(|((log, publish, _), _)| publish != log)
        .filter_map(|(_, bytes)| bytes)
        .map(|bytes| bytes as f64 * 10.0 / 921_600.0)
        .collect();
    median(wire_s).expect("chunks that completed records")
}

#[test]
fn node_sim_recorded_over_a_serial_link_replays_every_stream_in_sequence_with_time_sync() {
    let dir = scratch_dir("e2e-node");
    let link = PtyLink::start(&dir);
    let capture = dir.join("node.mcap");
    let uri = format!("node://{}", link.b().display());
    let source = format!("node:{}", link.b().display()); // the stream's name
                                                         // Found (or built, which takes a while) before the recorder's duration starts running.
    let node_sim = node_sim();
    let record = start_record(&[uri], &capture, RECORD_S);
    wait_for(
        "dagr record to open its port",
        Duration::from_secs(5),
        || has_open(record.id(), link.b()),
    );
    let _node = spawn_piped(
        Command::new(node_sim)
            .arg("--port")
            .arg(link.a())
            .args(["--node-id", "3", "--csi-rate", "100", "--radar", "--rfid"])
            .args(["--duration", "10"]),
    );
    let summary = finish_record(record, Duration::from_secs(10));
    assert!(summary.contains("0 events dropped"), "{summary}");

    let report = inspect(&capture);
    assert_eq!(field(&report, "complete"), true, "{report}");
    let streams = field(&report, "streams").as_array().unwrap();
    assert_eq!(streams.len(), 1, "{report}");
    let node = &streams[0];
    assert_eq!(field(node, "format"), "node");
    assert_eq!(field(node, "source"), source.as_str());
    // ~2.5 s of 100 CSI + 20 radar + 10 RFID frames per second.
    let records = field(node, "records").as_u64().unwrap();
    assert!(records > 150, "only {records} records: {node}");
    assert!(
        field(node, "control_messages").as_u64().unwrap() >= 2,
        "{node}"
    );
    assert_eq!(field(node, "bytes_skipped"), 0, "{node}");
    // Publish times follow the two-way time sync, except that the gateway models each
    // frame's wire time at the port's 921 600 Bd and no record is placed after its first
    // byte arrived. A pty carries bytes with no wire time and the node simulator writes a
    // frame within its 2 ms read timeout of making it, so the wire time (about 1.8 ms for a
    // CSI frame) is what the clamp leaves: publish - log = -max(link delay, wire time).
    // Measured: 0.04-0.5 ms beyond the wire time; 5 ms allows for a loaded machine (the
    // offset is a median over some 300 chunks, so only a delay in most of them counts).
    let offset = field(node, "clock_offset_s")
        .as_f64()
        .expect("a clock offset");
    let wire_s = median_last_frame_wire_s(&capture);
    assert!(
        offset <= -wire_s + 20e-6,
        "clock offset {offset} s, wire time of the chunks' last frames {wire_s} s"
    );
    assert!(
        offset >= -wire_s - 5e-3,
        "clock offset {offset} s, wire time of the chunks' last frames {wire_s} s"
    );

    NodeReplay::read(&replay(&capture), &source, 3).assert_streams_unbroken_and_time_synced();
    let _ = std::fs::remove_dir_all(&dir);
}
