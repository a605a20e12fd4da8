//! `dagr decode --format esp32-csi` on the real ESP32-CSI-Tool recording.

use crate::support::{run, scratch};
use serde_json::Value;

const RECORDING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/real/esp32_csi/example_csi.csv"
);

#[test]
fn json_lines_of_the_real_recording_carry_the_fixed_fields() {
    let out = run(&["decode", "--format", "esp32-csi", RECORDING, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 13);
    let first = &rows[0];
    assert_eq!(first["mac"], "3C:71:BF:6D:2A:78");
    assert_eq!(first["rssi"], -73);
    assert_eq!(first["local_timestamp"], 80272146);
    assert_eq!(first["real_timestamp"], 80.363225);
    assert_eq!(first["len"], 384);
    let csi = first["csi"].as_array().unwrap();
    assert_eq!(csi.len(), 64, "128 printed values, whatever len says");
    assert_eq!(
        csi[0],
        serde_json::json!([-48, 101]),
        "[re, im], imaginary printed first"
    );
    assert_eq!(csi[6], serde_json::json!([12, 23]));
    assert!(rows
        .iter()
        .all(|r| r["csi"].as_array().unwrap().len() == 64));
    assert_eq!(rows[5]["rssi"], -69);
}

#[test]
fn human_summary_names_mac_rssi_time_and_subcarriers() {
    let out = run(&["decode", "--format", "esp32-csi", RECORDING]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    for part in ["3C:71:BF:6D:2A:78", "-73", "80272146", "64 subcarriers"] {
        assert!(first.contains(part), "{first:?} lacks {part}");
    }
}

#[test]
fn input_without_rows_fails_with_a_clear_message() {
    let dir = scratch("esp32-bad");
    let path = dir.join("noise.csv");
    std::fs::write(
        &path,
        b"I (12) boot: ESP-IDF v4.3\nCSI_DATA,AP,broken\n\xff\xfe",
    )
    .unwrap();
    let out = run(&[
        "decode",
        "--format",
        "esp32-csi",
        path.to_str().unwrap(),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("rejected 1 frames"), "{stderr}");
    assert!(stderr.contains("no esp32-csi rows"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
