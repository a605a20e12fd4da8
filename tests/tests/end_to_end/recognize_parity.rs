//! The gateway recognizes a window as the training side would: the same simulated capture
//! of a held-out room and person, cut by `dagr dataset export` and run through onnxruntime
//! in the training venv (Python), and replayed through `dagr replay --model` (Rust:
//! pipeline, preprocessing, tract backbone, native head and its norm guard), gives the same
//! class for every labeled window, with probabilities equal to float precision, and sets
//! the same modalities aside; and so does the replay on ONNX Runtime (`--engine ort`)
//! where the build has it.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dagr_tests::binaries::dagr;
use dagr_tests::process::{run_ok, spawn_piped};
use serde_json::Value;

/// Largest difference allowed between a probability from Rust and from onnxruntime.
const PROB_TOLERANCE: f64 = 1e-4;

/// The training venv's Python (torch, onnxruntime, safetensors): `$DAGR_TRAIN_PYTHON`,
/// else `~/.cache/dagr/train-venv/bin/python` (what `models/venv.sh` creates for .ci/run).
fn train_python() -> PathBuf {
    if let Some(p) = std::env::var_os("DAGR_TRAIN_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/dagr/train-venv/bin/python")
}

/// Runs every window of an exported dataset through model.onnx in onnxruntime, with the
/// package's norm guard (model.json `head.norm_band`) applied as models/dagr_train/guard.py
/// states it: a present modality whose embedding (head.safetensors' projection of its
/// `feat_*`) is longer than its bound is given to the graph as absent, unless all are.
/// Prints one JSON object per window: start_s, label index, probabilities (softmax of the
/// logits), the modalities set aside.
const ONNXRUNTIME_WINDOWS: &str = r#"
import json, sys
import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file

dataset, model = sys.argv[1], sys.argv[2]
manifest = json.load(open(f"{dataset}/dataset.json"))
head = json.load(open(f"{model}/model.json"))["head"]
bounds = head.get("norm_band", {}).get("bounds")
tensors = load_file(f"{model}/head.safetensors")
names = ("mmwave", "wifi", "rfid")
session = ort.InferenceSession(f"{model}/model.onnx", providers=["CPUExecutionProvider"])
outputs = ["logits"] + [f"feat_{m}" for m in names]
for entry in manifest["files"]:
    if not entry["file"]:
        continue
    t = load_file(f"{dataset}/{entry['file']}")
    for i in range(t["label"].shape[0]):
        feed = {m: t[m][i : i + 1] for m in names + ("present",)}
        logits, *feats = session.run(outputs, feed)
        present = feed["present"][0] > 0.5
        kept = present.copy()
        if bounds:
            for m, (name, f) in enumerate(zip(names, feats)):
                proj = head["projection"][name]
                z = f[0] @ tensors[proj["weight"]].T + tensors[proj["bias"]]
                kept[m] &= bool(np.linalg.norm(z) <= bounds[m])
            if kept.any() and (kept != present).any():
                feed["present"] = kept.astype(np.float32)[None, :]
                logits = session.run(["logits"], feed)[0]
            else:
                kept = present
        logits = logits[0].astype(np.float64)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        aside = [n for n, a, k in zip(names, present, kept) if a and not k]
        print(json.dumps({"start": float(t["start_s"][i]), "label": int(t["label"][i]),
                          "probs": p.tolist(), "set_aside": aside}))
"#;

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn replayed_windows_get_the_class_onnxruntime_gives_the_exported_windows() {
    let dir = dagr_tests::scratch_dir("recognize-parity");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/reference");
    let capture = dir.join("held_out.mcap");
    // Room 47 and subject 67 are in the reference model's test part (never trained on).
    let timeout = Duration::from_secs(120);
    run_ok(
        Command::new(dagr())
            .args(["sim", "--room", "47", "--subject", "67", "--seed", "37"])
            .args(["--duration", "16", "--out"])
            .arg(&capture),
        timeout,
    );
    run_ok(
        Command::new(dagr())
            .args(["dataset", "export"])
            .arg(&capture)
            .arg("--out")
            .arg(dir.join("dataset")),
        timeout,
    );
    let rust = json_lines(&run_ok(
        Command::new(dagr())
            .args(["replay", "--json", "--model"])
            .arg(&model)
            .arg(&capture),
        timeout,
    ));
    let python = json_lines(&run_ok(
        Command::new(train_python())
            .args(["-c", ONNXRUNTIME_WINDOWS])
            .arg(dir.join("dataset"))
            .arg(&model),
        timeout,
    ));

    assert!(python.len() >= 12, "{} exported windows", python.len());
    agree_with_onnxruntime("tract", &rust, &python);
    // The same replay on ONNX Runtime (`--engine ort`), where this build has it.
    if let Some(ort) = replay_on_ort(&model, &capture, timeout) {
        agree_with_onnxruntime("ort", &ort, &python);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Checks `dagr replay --json` predictions (`rust`, on `engine`) against onnxruntime's on
/// the exported windows (`python`): every labeled window there, with its label, the class
/// onnxruntime gives, the same modalities set aside and probabilities within
/// [`PROB_TOLERANCE`].
fn agree_with_onnxruntime(engine: &str, rust: &[Value], python: &[Value]) {
    let classes: Vec<String> = rust[0]["probs"]
        .as_object()
        .expect("probs keyed by class")
        .keys()
        .cloned()
        .collect();
    // Rust's labeled windows by start (ms), each with its label and probabilities.
    let labeled: BTreeMap<i64, &Value> = rust
        .iter()
        .filter(|p| !p["label"].is_null())
        .map(|p| ((p["start"].as_f64().unwrap() * 1e3).round() as i64, p))
        .collect();
    assert_eq!(
        labeled.len(),
        python.len(),
        "{engine}: the same labeled windows"
    );
    let mut worst: f64 = 0.0;
    for window in python {
        let start = (window["start"].as_f64().unwrap() * 1e3).round() as i64;
        let ours = labeled
            .get(&start)
            .unwrap_or_else(|| panic!("{engine}: no prediction for the window at {start} ms"));
        let label = &classes[window["label"].as_u64().unwrap() as usize];
        assert_eq!(
            ours["label"].as_str(),
            Some(label.as_str()),
            "{engine}: {start} ms"
        );
        assert_eq!(
            ours["set_aside"], window["set_aside"],
            "{engine}: {start} ms: set aside"
        );
        let theirs: Vec<f64> = window["probs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        let argmax = (0..theirs.len())
            .max_by(|a, b| theirs[*a].total_cmp(&theirs[*b]))
            .unwrap();
        assert_eq!(
            ours["class"].as_str(),
            Some(classes[argmax].as_str()),
            "{engine}: window at {start} ms"
        );
        for (class, p) in classes.iter().zip(&theirs) {
            worst = worst.max((ours["probs"][class].as_f64().unwrap() - p).abs());
        }
    }
    assert!(
        worst <= PROB_TOLERANCE,
        "{engine}: probabilities differ by {worst}"
    );
}

/// `dagr replay --json --engine ort` of `capture`, or `None` (said on stderr) when this
/// build has no ort engine or no library for it, unless `DAGR_REQUIRE_ORT=1` (.ci/run).
fn replay_on_ort(model: &Path, capture: &Path, timeout: Duration) -> Option<Vec<Value>> {
    let required = std::env::var("DAGR_REQUIRE_ORT").as_deref() == Ok("1");
    let skip = |reason: &str| {
        assert!(!required, "DAGR_REQUIRE_ORT=1 but {reason}");
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipping the ort replay: {reason}");
        None
    };
    if std::env::var_os("ORT_DYLIB_PATH").is_none_or(|p| p.is_empty()) {
        return skip("ORT_DYLIB_PATH is not set");
    }
    let mut replay = Command::new(dagr());
    replay.args(["replay", "--json", "--engine", "ort", "--model"]);
    let output = spawn_piped(replay.arg(model).arg(capture)).wait_output("replay on ort", timeout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() && stderr.contains("not in this build") {
        return skip("this dagr was built without the ort engine");
    }
    assert!(
        output.status.success(),
        "dagr replay --engine ort: {stderr}"
    );
    Some(json_lines(&output.stdout))
}

#[test]
fn run_takes_its_engine_from_the_command_line_over_the_config() {
    let dir = dagr_tests::scratch_dir("run-engine");
    let capture = dir.join("short.mcap");
    let timeout = Duration::from_secs(60);
    run_ok(
        Command::new(dagr())
            .args(["sim", "--seed", "5", "--duration", "3", "--out"])
            .arg(&capture),
        timeout,
    );
    // The config asks for tract; the flag asks for ort, and ort is what opens.
    let config = dir.join("gateway.toml");
    std::fs::write(&config, "[model]\nengine = \"tract\"\n").unwrap();
    let source = format!("replay://{}?max", capture.display());
    let mut run = Command::new(dagr());
    run.args([
        "run",
        "--engine",
        "ort",
        "--duration",
        "2",
        "--source",
        &source,
    ])
    .arg("--config")
    .arg(&config);
    let out = spawn_piped(&mut run).wait_output("dagr run --engine ort", timeout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let required = std::env::var("DAGR_REQUIRE_ORT").as_deref() == Ok("1");
    if stderr.contains("the ort engine is not in this build") {
        assert!(
            !required,
            "DAGR_REQUIRE_ORT=1 but dagr has no ort engine: {stderr}"
        );
        assert_eq!(out.status.code(), Some(2), "{stderr}");
    } else if std::env::var_os("ORT_DYLIB_PATH").is_some_and(|p| !p.is_empty()) {
        assert!(out.status.success(), "dagr run --engine ort: {stderr}");
    } else {
        // An ort build without the library: the failure names the variable to set.
        assert!(stderr.contains("ORT_DYLIB_PATH"), "{stderr}");
    }
    // A name that is no engine is refused before anything starts.
    let mut bogus = Command::new(dagr());
    bogus.args(["run", "--engine", "onnx"]);
    let out = spawn_piped(&mut bogus).wait_output("dagr run --engine onnx", timeout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown engine `onnx` (expected `tract` or `ort`)"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
