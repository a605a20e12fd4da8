//! An adapted head written as a package (`adapt::write_package`) is a complete package:
//! it loads, head.safetensors holds the new head, model.onnx carries it (tract's ONNX
//! `logits` equal the native head's, and so do onnxruntime's in the training venv), and
//! model.json records the adaptation; an existing output is replaced only when asked.
use std::path::{Path, PathBuf};
use std::process::Command;

use dagr_head::{Activations, Head, Scores};
use dagr_host::adapt::{
    write_package, AdaptError, AdaptationRecord, FollowedBand, BAND_FOLLOWED, PARITY_DROPPED,
};
use dagr_infer::{Classifier, EngineKind, EngineOptions, ModelPackage, WindowInput};
use serde_json::{json, Value};

use crate::support::scratch;

/// Largest difference allowed between the ONNX logits and the native head's.
const LOGIT_TOLERANCE: f32 = 1e-5;

fn reference() -> ModelPackage {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/reference");
    ModelPackage::load(&dir).unwrap()
}

/// The reference head, every parameter shifted (by up to 0.02; `dagr adapt` on a 60 s
/// capture moved them by up to 0.1), logits staying of the size the unadapted head gives.
fn changed_params(pkg: &ModelPackage) -> Vec<f32> {
    pkg.head_params()
        .iter()
        .enumerate()
        .map(|(i, p)| p + 0.02 * (i as f32 * 0.37).sin())
        .collect()
}

fn record(parent: &str) -> AdaptationRecord {
    AdaptationRecord {
        data: vec!["test.mcap".into()],
        windows: 40,
        per_class: vec![("walking".into(), 20), ("waving".into(), 20)],
        epochs: 3,
        steps: 15,
        best_epoch: 2,
        before: Some(Scores {
            loss: 2.0,
            accuracy: 0.25,
        }),
        after: Some(Scores {
            loss: 1.0,
            accuracy: 0.75,
        }),
        accepted: true,
        settings: json!({"epochs": 3}),
        parent: parent.into(),
        utc: "2026-12-04T14:00:00Z".into(),
        norm_band: Some(MOVED),
    }
}

/// A band moved for an adapted head, as `adapt::follow_band` reports it.
const MOVED: FollowedBand = FollowedBand {
    source: [34.0, 40.0, 28.0],
    bounds: [40.8, 44.0, 28.0],
    ratio: [1.2, 1.1, 1.0],
    windows: [500, 480, 0],
};

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn an_adapted_package_loads_and_its_onnx_logits_are_the_native_heads() {
    let dir = scratch("adapt-package");
    let out = dir.join("adapted");
    let source = reference();
    let params = changed_params(&source);
    write_package(&source, &out, &params, &record(source.name()), false).unwrap();

    let written = ModelPackage::load(&out).unwrap();
    assert_eq!(written.head_params(), &params[..]);
    assert_eq!(written.onnx_head_params().unwrap(), params);
    assert_eq!(written.classes(), source.classes());
    let json = written.model_json();
    assert_eq!(json["adaptation"]["parent"], source.name());
    assert_eq!(json["adaptation"]["validation"]["after"]["accuracy"], 0.75);
    assert_eq!(json["adaptation"]["parity"], PARITY_DROPPED);
    assert!(json.get("parity").is_none() && json.get("head_adaptation").is_none());
    assert_eq!(
        json["dagr"],
        source.model_json()["dagr"],
        "the rest is kept"
    );
    assert!(!out.join("parity").exists());
    // The guard's band is the adapted head's, and says where it came from; the source
    // head's test-part scores are not carried over.
    assert_eq!(written.norm_band(), Some(MOVED.bounds));
    let band = &json["head"]["norm_band"];
    assert_eq!(band["chosen_on"], BAND_FOLLOWED);
    assert!(band.get("held_out").is_none() && band.get("rule").is_some());
    let recorded = &json["adaptation"]["norm_band"];
    assert_eq!(recorded["source_bounds"], json!(MOVED.source));
    assert_eq!(recorded["windows"], json!([500, 480, 0]));

    let with_onnx_logits = EngineOptions {
        onnx_logits: true,
        ..EngineOptions::default()
    };
    let mut classifier =
        Classifier::open_with(&written, EngineKind::Tract, &with_onnx_logits).unwrap();
    let windows = dagr_npz::read(&parity_windows());
    let present = windows["present"].f32s();
    let masks: Vec<[bool; 3]> = present
        .chunks(3)
        .map(|p| [p[0] > 0.5, p[1] > 0.5, p[2] > 0.5])
        .collect();
    let tensors: Vec<Vec<f32>> = ["mmwave", "wifi", "rfid"]
        .iter()
        .map(|m| windows[*m].f32s())
        .collect();
    let mut tract_logits = Vec::new();
    for (row, &present) in masks.iter().enumerate() {
        let slice = |m: usize| {
            let n = written.input_len(m);
            &tensors[m][row * n..(row + 1) * n]
        };
        let input = WindowInput {
            mmwave: slice(0),
            wifi: slice(1),
            rfid: slice(2),
            present,
        };
        let native = classifier.classify(&input).unwrap().logits.clone();
        let onnx = classifier.onnx_logits().expect("asked for").to_vec();
        let diff = max_diff(&native, &onnx);
        assert!(
            diff <= LOGIT_TOLERANCE,
            "window {row}: tract's ONNX logits vs the native head's differ by {diff}"
        );
        let unadapted = head_logits(&written, source.head_params(), &classifier, present);
        assert!(
            max_diff(&native, &unadapted) > 1e-2,
            "the logits are the adapted head's, not the source's"
        );
        tract_logits.push(onnx);
    }
    onnxruntime_agrees(&out, &written, &masks, &tract_logits);
}

/// The native head `params` on the classifier's last features.
fn head_logits(
    pkg: &ModelPackage,
    params: &[f32],
    classifier: &Classifier,
    present: [bool; 3],
) -> Vec<f32> {
    let feats = &classifier.last_scores().features;
    native_logits(pkg, params, [&feats[0], &feats[1], &feats[2]], present)
}

/// Seven real preprocessed windows with every subset of modalities (the reference
/// package's parity inputs: logits of the size real windows give).
fn parity_windows() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/reference/parity/b7_subsets.npz")
}

fn native_logits(
    pkg: &ModelPackage,
    params: &[f32],
    feats: [&[f32]; 3],
    present: [bool; 3],
) -> Vec<f32> {
    let shape = pkg.head_shape();
    let head = Head::new(shape, params).unwrap();
    let (mut z, mut fused) = (vec![0.0; 3 * shape.embed_dim], vec![0.0; shape.embed_dim]);
    let mut logits = vec![0.0; shape.classes];
    let mut act = Activations {
        z: &mut z,
        fused: &mut fused,
        logits: &mut logits,
    };
    head.forward(feats, present, &mut act).unwrap();
    logits
}

/// The training venv's Python: `$DAGR_TRAIN_PYTHON`, else the default venv if it exists.
fn train_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DAGR_TRAIN_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")?;
    let default = Path::new(&home).join(".cache/dagr/train-venv/bin/python");
    default.exists().then_some(default)
}

/// Runs model.onnx on the parity windows and prints per window its logits and features.
const ONNXRUNTIME_LOGITS: &str = r#"
import json, sys
import numpy as np
import onnxruntime as ort

model, windows = sys.argv[1], np.load(sys.argv[2])
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
names = ["logits", "feat_mmwave", "feat_wifi", "feat_rfid"]
for i in range(windows["present"].shape[0]):
    feed = {m: windows[m][i : i + 1] for m in ("mmwave", "wifi", "rfid", "present")}
    out = session.run(names, feed)
    print(json.dumps({n: o[0].astype(float).tolist() for n, o in zip(names, out)}))
"#;

fn onnxruntime_agrees(
    out: &Path,
    pkg: &ModelPackage,
    masks: &[[bool; 3]],
    tract_logits: &[Vec<f32>],
) {
    let Some(python) = train_python() else {
        eprintln!("skipped: no training venv (set DAGR_TRAIN_PYTHON to run onnxruntime)");
        return;
    };
    let run = Command::new(&python)
        .args(["-c", ONNXRUNTIME_LOGITS])
        .arg(out.join("model.onnx"))
        .arg(parity_windows())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(
        run.status.success(),
        "onnxruntime: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), masks.len());
    let f32s = |v: &Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    for ((line, &present), tract) in lines.iter().zip(masks).zip(tract_logits) {
        let ort_logits = f32s(&line["logits"]);
        let feats: Vec<Vec<f32>> = ["feat_mmwave", "feat_wifi", "feat_rfid"]
            .iter()
            .map(|n| f32s(&line[*n]))
            .collect();
        let feats = [&feats[0][..], &feats[1][..], &feats[2][..]];
        let native = native_logits(pkg, pkg.head_params(), feats, present);
        let diff = max_diff(&ort_logits, &native);
        assert!(
            diff <= LOGIT_TOLERANCE,
            "onnxruntime vs native head: {diff}"
        );
        let diff = max_diff(&ort_logits, tract);
        assert!(diff <= 1e-4, "onnxruntime vs tract logits: {diff}");
    }
}

#[test]
fn an_existing_output_is_replaced_only_when_asked() {
    let dir = scratch("adapt-package-replace");
    let out = dir.join("adapted");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let source = reference();
    let params = changed_params(&source);
    let err = write_package(&source, &out, &params, &record("f"), false).unwrap_err();
    assert!(matches!(err, AdaptError::Output(_)), "{err}");
    assert!(err.to_string().contains("exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );

    let short = &params[..10];
    let err = write_package(&source, &out, short, &record("f"), true).unwrap_err();
    let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(
        text.contains("head parameters") && text.contains("found 10 values"),
        "{text}"
    );
    assert!(
        out.join("keep.txt").exists(),
        "a refused write leaves the output as it was"
    );

    write_package(&source, &out, &params, &record("f"), true).unwrap();
    assert!(!out.join("keep.txt").exists());
    assert_eq!(ModelPackage::load(&out).unwrap().head_params(), &params[..]);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "adapted")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
