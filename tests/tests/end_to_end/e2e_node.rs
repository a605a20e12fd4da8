//! End to end with a simulated sensor node: `dagr-node-sim` on one end of a socat-joined
//! serial link, `dagr record --source node://...` on the other, then `dagr inspect` and
//! `dagr replay` on the capture.
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use dagr_tests::binaries::node_sim;
use dagr_tests::dagr_cli::{finish_record, inspect, replay, start_record};
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

#[test]
fn node_sim_recorded_over_a_serial_link_replays_every_stream_in_sequence_with_time_sync() {
    let dir = scratch_dir("e2e-node");
    let link = PtyLink::start(&dir);
    let capture = dir.join("node.mcap");
    let uri = format!("node://{}", link.b().display());
    let source = format!("node:{}", link.b().display()); // the stream's name
    let record = start_record(&[uri], &capture, RECORD_S);
    wait_for(
        "dagr record to open its port",
        Duration::from_secs(5),
        || has_open(record.id(), link.b()),
    );
    let _node = spawn_piped(
        Command::new(node_sim())
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
    // Publish times come from the time-synced clock model: never after arrival, and
    // behind it by at most the link's latency.
    let offset = field(node, "clock_offset_s")
        .as_f64()
        .expect("a clock offset");
    assert!((-0.5..=0.0).contains(&offset), "clock offset {offset} s");

    let lines = replay(&capture);
    let mut seqs: BTreeMap<(u64, String), Vec<u64>> = BTreeMap::new();
    let mut time_sync_answers = Vec::new();
    for line in &lines {
        assert_eq!(field(line, "source"), source.as_str());
        assert!(field(line, "t").as_f64().unwrap() > 0.0, "{line}");
        let kind = field(line, "kind").as_str().unwrap();
        match kind {
            "csi" | "radar" | "rfid" => {
                assert_eq!(field(line, "node"), 3, "{line}");
                let key = (field(line, "stream").as_u64().unwrap(), kind.to_string());
                seqs.entry(key)
                    .or_default()
                    .push(field(line, "seq").as_u64().unwrap());
            }
            "time_sync_response" => time_sync_answers.push(line.clone()),
            _ => {}
        }
    }
    let kinds: Vec<&str> = seqs.keys().map(|(_, k)| k.as_str()).collect();
    assert_eq!(kinds, ["csi", "radar", "rfid"], "streams {:?}", seqs.keys());
    for ((stream, kind), seq) in &seqs {
        assert!(
            seq.len() >= 10,
            "{kind} on stream {stream}: {} frames",
            seq.len()
        );
        let gaps: Vec<_> = seq.windows(2).filter(|w| w[1] != w[0] + 1).collect();
        assert!(
            gaps.is_empty(),
            "{kind} on stream {stream}: seq jumps {gaps:?}"
        );
    }
    // The gateway asked once a second and the node answered: t1 echoed, t2 <= t3 on its clock.
    assert!(time_sync_answers.len() >= 2, "{time_sync_answers:?}");
    for answer in &time_sync_answers {
        let t = |k| field(answer, k).as_u64().unwrap();
        assert!(t("t1") > 0 && t("t2") <= t("t3"), "{answer}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
