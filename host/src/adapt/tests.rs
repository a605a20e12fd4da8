//! The adaptation's settings from model.json and its validation gate, on the reference
//! package and on small synthetic heads.
use std::path::Path;

use dagr_head::{HeadShape, Rng};
use dagr_infer::ModelPackage;

use super::*;

fn reference_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/reference"))
}

#[test]
fn settings_take_the_dagr_flags_and_dropout_from_model_json() {
    let pkg = ModelPackage::load(reference_dir()).unwrap();
    let s = AdaptSettings::from_package(&pkg).unwrap();
    assert_eq!((s.train.dagr.lambda_d, s.train.dagr.lambda_a), (0.1, 0.5));
    assert_eq!(s.train.modality_dropout, 0.5);
    assert_eq!(s.to_json()["dagr"]["distance"], "cosine");
}

#[test]
fn a_dagr_flag_out_of_its_domain_is_named() {
    let dir = std::env::temp_dir().join(format!("dagr-adapt-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["model.onnx", "head.safetensors"] {
        std::fs::copy(reference_dir().join(file), dir.join(file)).unwrap();
    }
    let text = std::fs::read_to_string(reference_dir().join("model.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["dagr"]["distance"] = "manhattan".into();
    std::fs::write(dir.join("model.json"), json.to_string()).unwrap();
    let err = AdaptSettings::from_package(&ModelPackage::load(&dir).unwrap()).unwrap_err();
    json["dagr"]["distance"] = "cosine".into();
    json["dagr"]["tau_d"] = 0.0.into();
    std::fs::write(dir.join("model.json"), json.to_string()).unwrap();
    let err2 = AdaptSettings::from_package(&ModelPackage::load(&dir).unwrap()).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    let text = err.to_string();
    assert!(
        text.ends_with(
            "model.json: field `dagr.distance`: expected \"cosine\" or \"l2\", found manhattan"
        ),
        "{text}"
    );
    assert!(
        err2.to_string().contains("DAGR tau_d 0: expected > 0"),
        "{err2}"
    );
}

const SHAPE: HeadShape = HeadShape {
    feat_dim: 4,
    embed_dim: 4,
    classes: 2,
    fusion_weights: dagr_head::EQUAL_FUSION,
};

/// 40 windows of two classes told apart by the sign of their first feature, every
/// modality alike.
fn separable() -> LabeledFeatures {
    let mut data = LabeledFeatures::new(SHAPE);
    let mut rng = Rng::new(3);
    for i in 0..40u16 {
        let label = i % 2;
        let sign = if label == 0 { -1.0 } else { 1.0 };
        let f: Vec<f32> = (0..4)
            .map(|j| if j == 0 { sign } else { 0.0 } + 0.1 * rng.normal())
            .collect();
        data.push([&f, &f, &f], [true; 3], label, f64::from(i))
            .unwrap();
    }
    data
}

fn settings(holdout_fraction: f32) -> AdaptSettings {
    AdaptSettings {
        train: dagr_head::TrainConfig {
            epochs: 20,
            ..Default::default()
        },
        holdout_fraction,
        seed: 1,
    }
}

#[test]
fn the_gate_accepts_a_head_that_learned_and_refuses_one_it_cannot_validate() {
    let data = separable();
    let start = vec![0.01f32; SHAPE.param_count()];
    let mut epochs = 0;
    let band = [1e3f32; 3];
    let outcome = adapt_head(
        &start,
        Some(&band),
        SHAPE,
        &data,
        &settings(0.25),
        &mut |_| epochs += 1,
    )
    .unwrap();
    let (before, after) = (
        outcome.report.before.unwrap(),
        outcome.report.after.unwrap(),
    );
    assert!(outcome.accepted, "{before:?} -> {after:?}");
    assert!(after.accuracy > before.accuracy && after.accuracy == 1.0);
    assert_eq!(
        (outcome.windows, outcome.per_class.clone()),
        (40, vec![20, 20])
    );
    assert_eq!(epochs, outcome.report.epochs);
    assert_ne!(outcome.params, start);
    // The band moved with the head, measured on every window (all inside the wide band).
    let moved = outcome.norm_band.expect("a start band gives a moved one");
    assert_eq!(moved.source, band);
    assert_eq!(moved.windows, [40; 3]);
    for ((bound, source), ratio) in moved.bounds.iter().zip(band).zip(moved.ratio) {
        assert_eq!(*bound, source * ratio);
        assert!(ratio > 0.0 && ratio != 1.0, "{moved:?}");
    }

    let blind = adapt_head(&start, None, SHAPE, &data, &settings(0.0), &mut |_| {}).unwrap();
    assert!(!blind.accepted && blind.report.before.is_none());
    assert_eq!(blind.norm_band, None);
}

#[test]
fn a_head_or_data_of_another_shape_is_refused() {
    let data = separable();
    let err = adapt_head(&[0.0; 10], None, SHAPE, &data, &settings(0.25), &mut |_| {}).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("head parameters: expected 70 values"),
        "{err}"
    );
    let other = HeadShape {
        classes: 3,
        ..SHAPE
    };
    let start = vec![0.0; other.param_count()];
    let err = adapt_head(&start, None, other, &data, &settings(0.25), &mut |_| {}).unwrap_err();
    assert!(
        err.to_string().starts_with("labeled features: expected"),
        "{err}"
    );
    let empty = LabeledFeatures::new(SHAPE);
    let start = vec![0.0; SHAPE.param_count()];
    let err = adapt_head(&start, None, SHAPE, &empty, &settings(0.25), &mut |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "no labeled window to adapt on");
}

const SHAPE3: HeadShape = HeadShape {
    feat_dim: 4,
    embed_dim: 4,
    classes: 3,
    fusion_weights: dagr_head::EQUAL_FUSION,
};

/// `count` windows per class of `classes`, class `c` marked by feature `c` (+1) over noise,
/// every feature shifted by `shift` (another room).
fn marked(classes: &[u16], count: usize, shift: f32, seed: u64) -> LabeledFeatures {
    let mut data = LabeledFeatures::new(SHAPE3);
    let mut rng = Rng::new(seed);
    for i in 0..count {
        for &c in classes {
            let f: Vec<f32> = (0..4)
                .map(|j| f32::from(j == usize::from(c)) + shift + 0.2 * rng.normal())
                .collect();
            data.push([&f, &f, &f], [true; 3], c, i as f64).unwrap();
        }
    }
    data
}

/// Share of `data`'s windows whose top class under `params` is their label.
fn accuracy(params: &[f32], data: &LabeledFeatures) -> f32 {
    let head = dagr_head::Head::new(SHAPE3, params).unwrap();
    let windows = data.windows();
    let (mut z, mut fused, mut logits) = ([0.0; 12], [0.0; 4], [0.0; 3]);
    let mut correct = 0;
    for i in 0..windows.len() {
        let feats = std::array::from_fn(|m| windows.feat(m, i, 4));
        let mut act = dagr_head::Activations {
            z: &mut z,
            fused: &mut fused,
            logits: &mut logits,
        };
        head.forward(feats, windows.present[i], &mut act).unwrap();
        let top = (0..3)
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .unwrap();
        correct += usize::from(top == usize::from(windows.labels[i]));
    }
    correct as f32 / windows.len() as f32
}

#[test]
fn adapting_on_some_classes_keeps_the_others_unless_every_class_competes() {
    // A head that tells all three classes apart.
    let all = marked(&[0, 1, 2], 30, 0.0, 5);
    let mut start = vec![0.01f32; SHAPE3.param_count()];
    let mut train = settings(0.25);
    train.train.epochs = 60;
    start = adapt_head(&start, None, SHAPE3, &all, &train, &mut |_| {})
        .unwrap()
        .params;
    let unseen = marked(&[2], 40, 0.3, 9);
    assert_eq!(
        accuracy(&start, &unseen),
        1.0,
        "the start head knows class 2"
    );
    // A new room (every feature shifted), labeled windows of classes 0 and 1 only.
    let labeled = marked(&[0, 1], 40, 0.3, 7);
    let mut adapt = settings(0.25);
    adapt.train.epochs = 40;
    let kept = adapt_head(&start, None, SHAPE3, &labeled, &adapt, &mut |_| {}).unwrap();
    adapt.train.labeled_classes_only = false;
    let plain = adapt_head(&start, None, SHAPE3, &labeled, &adapt, &mut |_| {}).unwrap();
    let (kept_2, plain_2) = (
        accuracy(&kept.params, &unseen),
        accuracy(&plain.params, &unseen),
    );
    assert!(kept_2 >= 0.95, "class 2 kept: {kept_2}");
    assert!(
        plain_2 < kept_2,
        "plain cross-entropy forgets class 2: {plain_2}"
    );
    assert!(accuracy(&kept.params, &labeled) >= accuracy(&start, &labeled));
}
