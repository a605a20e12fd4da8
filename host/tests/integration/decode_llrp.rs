//! `dagr decode --format llrp` on the real Impinj recordings and on bad input.
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> String {
    format!(
        "{}/../../shared/fixtures/real/llrp/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn decode_json(path: &str) -> (Vec<Value>, std::process::Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(["decode", "--format", "llrp", path, "--json"])
        .output()
        .expect("run dagr");
    let lines = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (lines, out)
}

#[test]
fn json_of_real_impinj_capture_lists_45_tags_with_fixed_fields() {
    let (messages, out) = decode_json(&fixture("impinj_ro_access_reports.bin"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(messages.iter().all(|m| m["type"] == "RO_ACCESS_REPORT"));
    let tags: Vec<&Value> = messages
        .iter()
        .flat_map(|m| m["tags"].as_array().unwrap())
        .collect();
    assert_eq!(tags.len(), 45);
    let first = tags[0];
    assert_eq!(first["epc"], "3005fb63ac1f3841ec880467");
    assert_eq!(first["antenna"], 1);
    assert_eq!(first["peak_rssi"], -50);
    assert_eq!(first["first_seen_utc_us"], 1385585041558537u64);
    assert_eq!(first["channel"], Value::Null);
    assert_eq!(first["phase_rad"], Value::Null);
    assert_eq!(first["impinj_peak_rssi_dbm"], Value::Null);
    assert_eq!(first["doppler_hz"], Value::Null);
    assert_eq!(messages[0]["id"], 0x4095892f);
}

#[test]
fn json_of_reader_event_has_empty_tags_and_connection_event() {
    let (messages, out) = decode_json(&fixture("reader_event_notification.bin"));
    assert!(out.status.success());
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m["type"], "READER_EVENT_NOTIFICATION");
    assert_eq!(m["tags"], serde_json::json!([]));
    assert_eq!(m["event"]["connection_attempt"], 0);
    assert_eq!(m["event"]["utc_us"], 1398936810740479u64);
}

#[test]
fn human_output_is_one_line_per_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(["decode", "--format", "llrp"])
        .arg(fixture("impinj_ro_access_reports.bin"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(
            "RO_ACCESS_REPORT id 1083541807: 1 tag(s) 3005fb63ac1f3841ec880467 ant 1 -50 dBm"
        ),
        "{first}"
    );
}

#[test]
fn garbage_input_fails_with_a_clear_message_and_no_panic() {
    let path = std::env::temp_dir().join(format!("dagr-llrp-garbage-{}.bin", std::process::id()));
    std::fs::write(&path, b"this is not an LLRP stream at all\n".repeat(20)).unwrap();
    let (messages, out) = decode_json(path.to_str().unwrap());
    let _ = std::fs::remove_file(&path);
    assert!(messages.is_empty());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no llrp messages found"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
