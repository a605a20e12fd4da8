//! `dagr decode --format intel5300` run as a user runs it: the real binary on a `.dat` file.
//!
//! There is no real 5300 recording in the fixtures, so the file is written with the
//! crate's encoder (cross-checked against csiread in `tests/tests/intel5300_peers.rs`).
use std::path::Path;

use dagr_protocols::csi::intel5300::{Bfee, CODE_CONNECTOR_LOG};
use dagr_protocols::csi::Iq;
use serde_json::Value;

use crate::support::{dagr, scratch_file};

fn bfee(count: u16, nrx: u8, ntx: u8) -> Bfee {
    let csi = (0..usize::from(nrx) * usize::from(ntx) * 30)
        .map(|i| Iq {
            re: (i as i32 - 100).clamp(-128, 127) as i8,
            im: (count as i32 * 3 - i as i32).clamp(-128, 127) as i8,
        })
        .collect();
    Bfee {
        timestamp_low: 1_000_000 + u32::from(count) * 1000,
        bfee_count: count,
        nrx,
        ntx,
        rssi_a: 30,
        rssi_b: 31,
        rssi_c: 32,
        noise: -92,
        agc: 44,
        antenna_sel: 0b01_00_10,
        rate: 0x4102,
        csi,
    }
}

fn dagr_decode(path: &Path, json: bool) -> std::process::Output {
    let mut cmd = dagr();
    cmd.args(["decode", "--format", "intel5300"]).arg(path);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run dagr")
}

#[test]
fn json_output_carries_every_field_of_each_bfee() {
    let records = [bfee(1, 3, 1), bfee(2, 2, 3), bfee(3, 1, 2)];
    let mut bytes = Vec::new();
    for (i, r) in records.iter().enumerate() {
        r.encode_into(&mut bytes).unwrap();
        // a connector-log record between bfees, as log_to_file writes them
        bytes.extend_from_slice(&[0, 5, CODE_CONNECTOR_LOG, i as u8, 1, 2, 3]);
    }
    let (_dir, path) = scratch_file("intel5300-three", "three.dat", &bytes);
    let out = dagr_decode(&path, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let second = &lines[1];
    assert_eq!(second["bfee_count"], 2);
    assert_eq!(second["timestamp_low"], 1_002_000);
    assert_eq!(
        (second["nrx"].as_u64(), second["ntx"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(second["rssi_a"], 30);
    assert_eq!(second["rssi_b"], 31);
    assert_eq!(second["rssi_c"], 32);
    assert_eq!(second["noise"], -92);
    assert_eq!(second["agc"], 44);
    assert_eq!(second["rate"], 0x4102);
    assert_eq!(second["perm"], serde_json::json!([2, 0, 1]));
    let csi = &second["csi"];
    assert_eq!(csi.as_array().unwrap().len(), 3);
    let expected = records[1].csi_at(2, 1, 29).unwrap();
    assert_eq!(csi[2][1][29], serde_json::json!([expected.re, expected.im]));
    // the skipped connector-log records are reported on stderr
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped 21 bytes"), "{err}");
}

#[test]
fn human_output_is_one_line_per_record() {
    let mut bytes = Vec::new();
    bfee(7, 3, 3).encode_into(&mut bytes).unwrap();
    let (_dir, path) = scratch_file("intel5300-one", "one.dat", &bytes);
    let out = dagr_decode(&path, false);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("bfee #7") && text.contains("3x3"), "{text}");
}

#[test]
fn garbage_input_fails_with_a_clear_message_and_no_panic() {
    let garbage: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let (_dir, path) = scratch_file("intel5300-garbage", "garbage.dat", &garbage);
    let out = dagr_decode(&path, true);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no intel5300 records found"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
