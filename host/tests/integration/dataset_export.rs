//! `dagr dataset export` as a user runs it: two `dagr sim` captures in different rooms,
//! exported, and the shards read by numpy (the training side's view of the files).
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn dagr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dagr-dataset-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The peers' Python (numpy): `$DAGR_PYTHON`, else the venv .ci/run creates.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("DAGR_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/dagr/venv/bin/python")
}

/// Reads a safetensors file with numpy alone (8-byte header length, JSON header, data) and
/// prints `name dtype shape` per tensor, then the labels and the mean presence.
const NUMPY_READER: &str = r#"
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
kinds = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}
tensors = {}
for name, info in header.items():
    if name == "__metadata__":
        continue
    start, end = info["data_offsets"]
    tensors[name] = np.frombuffer(data[start:end], dtype=kinds[info["dtype"]]).reshape(info["shape"])
out = {name: list(t.shape) for name, t in tensors.items()}
out["label"] = tensors["label"].tolist()
out["room"] = sorted(set(tensors["room"].tolist()))
out["present_mean"] = float(tensors["present"].mean())
out["wifi_finite"] = bool(np.isfinite(tensors["wifi"]).all())
out["metadata_room"] = header["__metadata__"]["room"]
print(json.dumps(out))
"#;

#[test]
fn sim_captures_export_to_shards_numpy_reads_with_schedule_labels() {
    let dir = scratch("export");
    let scenario = dir.join("scenario.txt");
    std::fs::write(&scenario, "0 3 clapping\n3 6 jumping\n").unwrap();
    let scenario = scenario.to_str().unwrap();
    for (room, name) in [("2", "kitchen.mcap"), ("6", "office.mcap")] {
        let out = dir.join(name);
        let sim = dagr(&[
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
    let export = dagr(&[
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

    let read = Command::new(python())
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
    let dir = scratch("missing");
    let missing = dir.join("absent.mcap");
    let export = dagr(&[
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
