//! `dagr dataset export`'s tensor values, not only their shapes, against an independent
//! computation from `dagr replay --json` output (tests/peers/mmwave_tensor_check.py builds
//! each radar frame's slot from the documented layout and finds it in the exported tensor).
use std::process::Command;
use std::time::Duration;

use dagr_tests::binaries::dagr;
use dagr_tests::process::run_ok;
use dagr_tests::{run_peer, scratch_dir};
use serde_json::Value;

#[test]
fn every_exported_radar_slot_is_a_replayed_frames_strongest_points_in_frame_order() {
    let dir = scratch_dir("dataset-values");
    let capture = dir.join("room.mcap");
    let limit = Duration::from_secs(60);
    let sim = [
        "sim",
        "--duration",
        "12",
        "--seed",
        "8",
        "--room",
        "4",
        "--subject",
        "9",
    ];
    run_ok(
        Command::new(dagr()).args(sim).arg("--out").arg(&capture),
        limit,
    );
    let data = dir.join("data");
    run_ok(
        Command::new(dagr())
            .args(["dataset", "export"])
            .arg(&capture)
            .arg("--out")
            .arg(&data),
        limit,
    );
    let replayed = run_ok(
        Command::new(dagr())
            .args(["replay", "--max", "--json"])
            .arg(&capture),
        limit,
    );
    let lines = dir.join("replay.jsonl");
    std::fs::write(&lines, replayed).unwrap();
    let shard = data.join("room.safetensors");
    let out = run_peer(
        "mmwave_tensor_check.py",
        &[lines.to_str().unwrap(), shard.to_str().unwrap()],
    );
    let check: Value = serde_json::from_slice(&out).unwrap();
    let count = |k: &str| check[k].as_u64().unwrap();
    eprintln!("{check}");
    assert!(count("windows") >= 15, "{check}");
    assert!(
        count("slots") >= count("windows") * 20,
        "at 20 Hz most of a window's 40 slots hold a frame: {check}"
    );
    assert_eq!(
        count("matched"),
        count("slots"),
        "slots that are no replayed frame: {check}"
    );
    assert_eq!(count("out_of_order"), 0, "{check}");
    assert_eq!(check["max_diff"].as_f64(), Some(0.0), "{check}");
    std::fs::remove_dir_all(&dir).ok();
}
