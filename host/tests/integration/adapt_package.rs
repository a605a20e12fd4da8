//! An adapted head written as a package (`adapt::write_package`) is a complete package:
//! it loads, head.safetensors holds the new head, model.onnx carries it (tract's ONNX
//! `logits` equal the native head's, and so do onnxruntime's in the training venv), and
//! model.json records the adaptation; an existing output is replaced only when asked.
use std::path::{Path, PathBuf};
use std::process::Command;

use dagr_head::{Activations, Head, Scores};
use dagr_host::adapt::{write_package, AdaptError, AdaptationRecord, PARITY_DROPPED};
use dagr_infer::{Classifier, EngineKind, ModelPackage, WindowInput};
use serde_json::{json, Value};

use crate::capture_support::scratch;

/// Largest difference allowed between the ONNX logits and the native head's.
const LOGIT_TOLERANCE: f32 = 1e-5;

fn reference() -> ModelPackage {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/reference");
    ModelPackage::load(&dir).unwrap()
}

/// The reference head, changed everywhere (scaled and shifted per parameter).
fn changed_params(pkg: &ModelPackage) -> Vec<f32> {
    pkg.head_params()
        .iter()
        .enumerate()
        .map(|(i, p)| p * 1.25 + 0.05 * (i as f32 * 0.37).sin())
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
    }
}

/// Deterministic inputs in [-1, 1) of `len` values.
fn inputs(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

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

    let mut classifier = Classifier::open(&written, EngineKind::Tract).unwrap();
    let tensors: Vec<Vec<f32>> = (0..3)
        .map(|m| inputs(written.input_len(m), m as u64 + 1))
        .collect();
    let masks = [[true, true, true], [true, false, true]];
    let mut tract_logits = Vec::new();
    for present in masks {
        let input = WindowInput {
            mmwave: &tensors[0],
            wifi: &tensors[1],
            rfid: &tensors[2],
            present,
        };
        let native = classifier.classify(&input).unwrap().logits.clone();
        let onnx = classifier.onnx_logits().to_vec();
        let diff = max_diff(&native, &onnx);
        assert!(
            diff <= LOGIT_TOLERANCE,
            "tract: ONNX vs native logits differ by {diff}"
        );
        let unadapted = source.head_params();
        assert!(
            max_diff(&native, &head_logits(&written, unadapted, &classifier)) > 1e-2,
            "the logits are the adapted head's, not the source's"
        );
        tract_logits.push(onnx);
    }
    onnxruntime_agrees(&dir, &out, &written, &tensors, &masks, &tract_logits);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The native head `params` on the classifier's last features.
fn head_logits(pkg: &ModelPackage, params: &[f32], classifier: &Classifier) -> Vec<f32> {
    let feats = &classifier.last_scores().features;
    native_logits(pkg, params, [&feats[0], &feats[1], &feats[2]], [true; 3])
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

/// Runs model.onnx on the inputs and prints per mask its logits and features.
const ONNXRUNTIME_LOGITS: &str = r#"
import json, sys
import numpy as np
import onnxruntime as ort

model, inputs = sys.argv[1], sys.argv[2]
shapes = json.loads(sys.argv[3])
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
feed = {m: np.fromfile(f"{inputs}/{m}.f32", dtype="<f4").reshape([1] + shapes[m])
        for m in ("mmwave", "wifi", "rfid")}
masks = np.fromfile(f"{inputs}/present.f32", dtype="<f4").reshape(-1, 3)
names = ["logits", "feat_mmwave", "feat_wifi", "feat_rfid"]
for mask in masks:
    out = session.run(names, {**feed, "present": mask[None, :]})
    print(json.dumps({n: o[0].astype(float).tolist() for n, o in zip(names, out)}))
"#;

fn onnxruntime_agrees(
    dir: &Path,
    out: &Path,
    pkg: &ModelPackage,
    tensors: &[Vec<f32>],
    masks: &[[bool; 3]],
    tract_logits: &[Vec<f32>],
) {
    let Some(python) = train_python() else {
        eprintln!("skipped: no training venv (set DAGR_TRAIN_PYTHON to run onnxruntime)");
        return;
    };
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for (m, name) in ["mmwave", "wifi", "rfid"].iter().enumerate() {
        std::fs::write(dir.join(format!("{name}.f32")), bytes(&tensors[m])).unwrap();
    }
    let mask_values: Vec<f32> = masks
        .iter()
        .flatten()
        .map(|&p| f32::from(u8::from(p)))
        .collect();
    std::fs::write(dir.join("present.f32"), bytes(&mask_values)).unwrap();
    let shapes = json!({
        "mmwave": pkg.input_shape(0), "wifi": pkg.input_shape(1), "rfid": pkg.input_shape(2),
    });
    let run = Command::new(&python)
        .args(["-c", ONNXRUNTIME_LOGITS])
        .arg(out.join("model.onnx"))
        .arg(dir)
        .arg(shapes.to_string())
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
        let native = native_logits(
            pkg,
            pkg.head_params(),
            [&feats[0], &feats[1], &feats[2]],
            present,
        );
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
    let _ = std::fs::remove_dir_all(&dir);
}
