//! `dagr dataset export` as a user runs it: two `dagr sim` captures in different rooms,
//! exported, and the shards read by numpy (the training side's view of the files).

use crate::support::{python_with_peers, run, scratch};
use serde_json::Value;

/// Reads a safetensors file with numpy alone (tests/peers/safetensors_file.py) and prints
/// each tensor's shape, the labels, the rooms, the mean presence and the metadata's room.
const NUMPY_READER: &str = r#"
import json, sys
import numpy as np
from safetensors_file import read_metadata, read_safetensors
tensors = read_safetensors(sys.argv[1])
out = {name: list(t.shape) for name, t in tensors.items()}
out["label"] = tensors["label"].tolist()
out["room"] = sorted(set(tensors["room"].tolist()))
out["present_mean"] = float(tensors["present"].mean())
out["wifi_finite"] = bool(np.isfinite(tensors["wifi"]).all())
out["metadata_room"] = read_metadata(sys.argv[1])["room"]
print(json.dumps(out))
"#;

#[test]
fn sim_captures_export_to_shards_numpy_reads_with_schedule_labels() {
    let dir = scratch("dataset-export");
    let scenario = dir.join("scenario.txt");
    std::fs::write(&scenario, "0 3 clapping\n3 6 jumping\n").unwrap();
    let scenario = scenario.to_str().unwrap();
    for (room, name) in [("2", "kitchen.mcap"), ("6", "office.mcap")] {
        let out = dir.join(name);
        let sim = run(&[
            "sim",
            "--scenario",
            scenario,
            "--room",
            room,
            "--subject",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            sim.status.success(),
            "{}",
            String::from_utf8_lossy(&sim.stderr)
        );
    }
    let out = dir.join("data");
    let export = run(&[
        "dataset",
        "export",
        dir.join("kitchen.mcap").to_str().unwrap(),
        dir.join("office.mcap").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--window",
        "1",
        "--hop",
        "0.5",
    ]);
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert!(export.status.success(), "{stderr}");

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("dataset.json")).unwrap()).unwrap();
    assert_eq!(manifest["shapes"]["wifi"], serde_json::json!([270, 100]));
    assert_eq!(manifest["shapes"]["rfid"], serde_json::json!([46, 30]));
    assert_eq!(manifest["shapes"]["mmwave"], serde_json::json!([20, 64, 5]));
    let classes: Vec<&str> = manifest["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let index = |name: &str| classes.iter().position(|c| *c == name).unwrap() as i64;

    let read = python_with_peers()
        .args([
            "-c",
            NUMPY_READER,
            out.join("kitchen.safetensors").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let seen: Value = serde_json::from_slice(&read.stdout).unwrap();
    // 1 s windows every 0.5 s over the 7 s run: centres from 0.5; from 6.0 on unlabeled.
    let labels: Vec<i64> = serde_json::from_value(seen["label"].clone()).unwrap();
    let expected: Vec<i64> = (0..11)
        .map(|i| {
            if 0.5 * i as f64 + 0.5 < 3.0 {
                index("clapping")
            } else {
                index("jumping")
            }
        })
        .collect();
    assert_eq!(labels, expected);
    assert_eq!(seen["wifi"], serde_json::json!([11, 270, 100]));
    assert_eq!(seen["mmwave"], serde_json::json!([11, 20, 64, 5]));
    assert_eq!(seen["present"], serde_json::json!([11, 3]));
    assert_eq!(seen["room"], serde_json::json!([2]));
    assert_eq!(seen["metadata_room"], "2");
    assert_eq!(seen["present_mean"], 1.0);
    assert_eq!(seen["wifi_finite"], true);

    let splits: Value =
        serde_json::from_slice(&std::fs::read(out.join("splits.json")).unwrap()).unwrap();
    assert_eq!(
        splits["by_room"]["test"]["files"],
        serde_json::json!(["office.safetensors"])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_of_a_missing_capture_fails_naming_it() {
    let dir = scratch("dataset-missing");
    let missing = dir.join("absent.mcap");
    let export = run(&[
        "dataset",
        "export",
        missing.to_str().unwrap(),
        "--out",
        dir.join("data").to_str().unwrap(),
    ]);
    assert_eq!(export.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert!(stderr.contains("absent.mcap"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
