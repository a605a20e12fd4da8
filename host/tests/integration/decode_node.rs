//! `dagr decode --format node` end to end: the real binary on the committed test vectors
//! (protocols/testdata/node/), on a stream with line noise, and on input with no frames.
use std::path::PathBuf;

use crate::support::{json_lines, run, scratch_file};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocols/testdata/node")
}

#[test]
fn json_of_the_test_vector_matches_the_committed_listing() {
    let bin = vectors().join("stream.bin");
    let out = run(&[
        "decode",
        "--format",
        "node",
        "--json",
        bin.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "clean stream reports nothing");
    let listing = vectors().join("stream.jsonl");
    if std::env::var_os("DAGR_BLESS").is_some() {
        std::fs::write(&listing, &out.stdout).unwrap();
    }
    let committed = std::fs::read_to_string(&listing).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[test]
fn json_fields_hold_the_encoded_values() {
    let bin = vectors().join("stream.bin");
    let out = run(&[
        "decode",
        "--format",
        "node",
        "--json",
        bin.to_str().unwrap(),
    ]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 10);
    let kinds: Vec<_> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "csi",
            "radar",
            "rfid",
            "heartbeat",
            "time_sync_request",
            "time_sync_response",
            "command",
            "ack",
            "ack",
            "unknown"
        ]
    );
    let csi = &lines[0];
    assert_eq!(csi["version"], "1.0");
    assert_eq!(csi["modality"], "wifi");
    assert_eq!(csi["seq"], 100);
    assert_eq!(csi["timestamp_us"], 1_000_000);
    assert_eq!(csi["csi"][0], serde_json::json!([-10, 7]));
    assert_eq!(csi["csi"].as_array().unwrap().len(), 8);
    let radar = &lines[1];
    assert_eq!(radar["frame"], 812);
    assert_eq!(radar["points"][1]["v"], -1.25);
    assert_eq!(radar["points"][0]["snr"], 221);
    let tag = &lines[2]["tags"][0];
    assert_eq!(tag["epc"], "e2801160600002052a44129f");
    assert_eq!(tag["peak_rssi"], -58.25);
    assert_eq!(tag["doppler_hz"], -2.5);
    assert!((tag["phase_rad"].as_f64().unwrap() - std::f64::consts::PI).abs() < 1e-12);
    assert_eq!(lines[3]["ring_high_water"], 17);
    assert_eq!(lines[5]["t2"], 1_234_567);
    assert_eq!(lines[6]["opcode"], "set_rate");
    assert_eq!(lines[8]["ok"], false);
    assert_eq!(lines[8]["status"], "bad_argument");
    assert_eq!(lines[9]["version"], "1.1");
    assert_eq!(lines[9]["payload_hex"], "dead00beef");
}

#[test]
fn human_output_is_one_summary_line_per_frame() {
    let bin = vectors().join("stream.bin");
    let out = run(&["decode", "--format", "node", bin.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 10);
    assert!(
        lines[0].starts_with("node 1 stream 0 (wifi) seq 100"),
        "{}",
        lines[0]
    );
    assert!(lines[8].contains("nack bad_argument"), "{}", lines[8]);
}

#[test]
fn corrupted_frame_is_reported_and_the_rest_still_decodes() {
    let mut bytes = std::fs::read(vectors().join("stream.bin")).unwrap();
    bytes[10] ^= 0x04; // inside the first (CSI) frame
    assert_ne!(bytes[10], 0);
    let mut noisy = b"boot: node fw 0.1\r\n".to_vec();
    noisy.extend(&bytes);
    let (_dir, path) = scratch_file("node-noisy", "noisy.bin", &noisy);
    let out = run(&[
        "decode",
        "--format",
        "node",
        "--json",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(json_lines(&out).len(), 9);
    let stderr = String::from_utf8(out.stderr).unwrap();
    // The 19-byte log line and the delimiter that ends it are skipped (mid-stream attach).
    assert!(
        stderr.contains(
            "9 frames; skipped 20 bytes, rejected 1 frames (last: integrity check failed)"
        ),
        "{stderr}"
    );
}

#[test]
fn input_without_frames_fails_with_a_clear_message_and_no_panic() {
    let (_dir, path) = scratch_file(
        "node-decode",
        "garbage.bin",
        b"this is a log line, not a node frame\n\0more text\0",
    );
    let out = run(&["decode", "--format", "node", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("no node frames found in 48 bytes"),
        "{stderr}"
    );
    assert!(stderr.contains("rejected 1 frames"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
