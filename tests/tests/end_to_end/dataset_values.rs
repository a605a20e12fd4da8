//! `dagr dataset export`'s tensor values, not only their shapes, against independent
//! computations from `dagr replay --json` output: tests/peers/mmwave_tensor_check.py
//! builds each radar frame's slot from the documented layout and finds it in the exported
//! tensor; tests/peers/wifi_rfid_tensor_check.py rebuilds every WiFi and RFID window from the
//! replayed rows and tag reads at their `mapped_ns` (where the synchronizer places them).
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use dagr_tests::binaries::dagr;
use dagr_tests::process::run_ok;
use dagr_tests::{run_peer, scratch_dir, ScratchDir};
use serde_json::Value;

/// Largest difference allowed between an exported float32 value and the float64
/// recomputation (values are O(1): dB / 3, rad / 1, rad / π, dB / 6).
const TOLERANCE: f64 = 1e-4;

/// A simulated capture exported as a dataset and replayed as JSON lines.
struct Exported {
    /// Where it all is; removed with the `Exported`.
    _dir: ScratchDir,
    /// `dagr replay --max --json` of the capture.
    lines: PathBuf,
    /// The capture's shard.
    shard: PathBuf,
}

impl Exported {
    /// Simulates 12 s of room 4, subject 9, exports them with the default 2 s windows and
    /// writes the replay's lines.
    fn new(tag: &str) -> Exported {
        let dir = scratch_dir(tag);
        let capture = dir.join("room.mcap");
        let limit = Duration::from_secs(120);
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
        Exported {
            shard: data.join("room.safetensors"),
            lines,
            _dir: dir,
        }
    }

    fn check(&self, script: &str, extra: &[&str]) -> Value {
        let mut args = vec![self.lines.to_str().unwrap(), self.shard.to_str().unwrap()];
        args.extend_from_slice(extra);
        let check: Value = serde_json::from_slice(&run_peer(script, &args)).unwrap();
        eprintln!("{check}");
        check
    }
}

#[test]
fn every_exported_radar_slot_is_a_replayed_frames_strongest_points_in_frame_order() {
    let exported = Exported::new("dataset-values-radar");
    let check = exported.check("mmwave_tensor_check.py", &[]);
    let count = |k: &str| check[k].as_u64().unwrap();
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
}

#[test]
fn exported_wifi_and_rfid_windows_equal_their_recomputation_from_replayed_records() {
    let exported = Exported::new("dataset-values-wifi-rfid");
    let tolerance = TOLERANCE.to_string();
    let check = exported.check("wifi_rfid_tensor_check.py", &["2.0", &tolerance]);
    let spec: Value = serde_json::from_slice(
        &std::fs::read(exported.shard.with_file_name("dataset.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        spec["spec"]["wifi_subcarriers"], check["subcarriers"],
        "the documented subcarrier pick"
    );
    assert_eq!(spec["spec"]["window_s"].as_f64(), Some(2.0));
    for modality in ["wifi", "rfid"] {
        let report = &check[modality];
        let number = |k: &str| report[k].as_f64().unwrap();
        assert!(number("windows") >= 15.0, "{modality}: {report}");
        assert!(number("nonzero") > 0.0, "{modality}: all zero: {report}");
        assert!(
            number("max_diff") <= TOLERANCE,
            "{modality}: exported values differ from the recomputation: {report}"
        );
        // The comparison must see the mistakes it exists to catch.
        assert!(
            number("swapped_rows") > TOLERANCE,
            "{modality}: two swapped rows go unseen: {report}"
        );
        assert!(
            number("shifted") > TOLERANCE,
            "{modality}: records one grid step late go unseen: {report}"
        );
    }
}
