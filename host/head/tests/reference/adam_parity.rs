//! One and two optimizer steps equal torch.optim.AdamW's (the training pipeline's
//! optimizer), recorded by torch_reference.py from the exported gradients.

use dagr_head::{Adam, AdamConfig, ParamBlock};

use crate::model::{reference_dir, reference_head};
use crate::variant_parity::{torch_reference, STALE};
use dagr_npz as npz;

/// head_batch<b>_float32's exported gradient, in the flat layout.
fn exported_gradient(b: usize) -> Vec<f32> {
    let arrays = npz::read(&reference_dir().join(format!("parity/head_batch{b}_float32.npz")));
    const NAMES: [&str; 3] = ["mmwave", "wifi", "rfid"];
    let mut grad = Vec::new();
    for block in ParamBlock::ALL {
        let name = match block {
            ParamBlock::ProjWeight(m) => format!("grad.head.proj.{}.weight", NAMES[m]),
            ParamBlock::ProjBias(m) => format!("grad.head.proj.{}.bias", NAMES[m]),
            ParamBlock::ClassifierWeight => "grad.head.classifier.weight".into(),
            ParamBlock::ClassifierBias => "grad.head.classifier.bias".into(),
        };
        grad.extend(arrays[&name].f32s());
    }
    grad
}

/// Largest |ours - theirs|.
fn max_diff(ours: &[f32], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(&a, &b)| (f64::from(a) - b).abs())
        .fold(0.0, f64::max)
}

#[test]
fn adamw_steps_equal_pytorch() {
    let reference = torch_reference();
    let (_, mut params) = reference_head();
    let start = params.clone();
    let config = AdamConfig {
        lr: reference["adam.lr"].scalar(),
        weight_decay: reference["adam.weight_decay"].scalar(),
        ..AdamConfig::default()
    };
    let (mut m, mut v) = (vec![1.0; params.len()], vec![1.0; params.len()]);
    let mut adam = Adam::new(config, &mut m, &mut v).unwrap();
    for (step, b) in [(1, 0), (2, 1)] {
        adam.step(&mut params, &exported_gradient(b), config.lr)
            .unwrap();
        let diff = max_diff(&params, &reference[&format!("adam.params{step}")].values);
        println!("AdamW step {step}: max |diff| parameters {diff:.2e}");
        assert!(
            diff <= 1e-6,
            "step {step}: parameters differ by {diff:e} ({STALE})"
        );
    }
    let (exp_avg, exp_avg_sq) = adam.moments();
    let diffs = [
        max_diff(exp_avg, &reference["adam.exp_avg2"].values),
        max_diff(exp_avg_sq, &reference["adam.exp_avg_sq2"].values),
    ];
    println!(
        "AdamW moments after step 2: max |diff| {:.2e}, {:.2e}",
        diffs[0], diffs[1]
    );
    assert!(
        diffs.iter().all(|&d| d <= 1e-6),
        "moments differ by {diffs:?} ({STALE})"
    );
    // every parameter moved: the comparison is not vacuous
    assert!(params.iter().zip(&start).all(|(a, b)| a != b));
}

#[test]
fn bad_optimizer_settings_are_refused() {
    let (mut m, mut v) = (vec![0.0; 4], vec![0.0; 3]);
    let err = Adam::new(AdamConfig::default(), &mut m, &mut v).unwrap_err();
    assert_eq!(err.to_string(), "`exp_avg_sq`: expected 4 values, found 3");
    let mut v = vec![0.0; 4];
    let bad = AdamConfig {
        beta2: 1.0,
        ..AdamConfig::default()
    };
    let err = Adam::new(bad, &mut m, &mut v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "training setting `beta2`: expected in [0, 1)"
    );
}

#[test]
fn a_step_fed_row_by_row_equals_a_step_on_the_whole_gradient() {
    // The trainer never holds the whole gradient: it hands AdamW one row at a time. That
    // path must give the parameters the checked whole-gradient path gives.
    use crate::model::OwnedWindows;
    use dagr_head::{loss_and_backward, loss_and_gradient, BatchActivations, DagrConfig, Head};
    let arrays = npz::read(&reference_dir().join("parity/head_batch0_float32.npz"));
    let data = OwnedWindows::from_batch(&arrays);
    let cfg = crate::model::batch_config(&arrays);
    assert_ne!(cfg, DagrConfig::default());
    let (shape, start) = reference_head();
    let n = data.labels.len();
    let mut buf = vec![0.0; BatchActivations::len(shape, n)];
    let mut act = BatchActivations::new(shape, n, &mut buf).unwrap();
    let p = start.len();

    let mut whole = start.clone();
    let mut grad = vec![0.0; p];
    let head = Head::new(shape, &start).unwrap();
    loss_and_gradient(&head, &cfg, &data.view(), &mut act, &mut grad).unwrap();
    let (mut m, mut v) = (vec![0.0; p], vec![0.0; p]);
    let mut adam = Adam::new(AdamConfig::default(), &mut m, &mut v).unwrap();
    adam.step(&mut whole, &grad, 2e-3).unwrap();

    let mut rows = start.clone();
    let (mut m2, mut v2) = (vec![0.0; p], vec![0.0; p]);
    let mut adam2 = Adam::new(AdamConfig::default(), &mut m2, &mut v2).unwrap();
    loss_and_backward(&head, &cfg, &data.view(), &mut act).unwrap();
    let step = adam2.begin_step(2e-3);
    let mut covered = 0;
    act.gradient_rows(&data.view(), |range, row| {
        assert_eq!(range.start, covered, "rows come in layout order");
        covered = range.end;
        adam2.apply(&step, range.start, &mut rows[range], row);
    })
    .unwrap();
    assert_eq!(covered, p, "every parameter has a row");
    assert_eq!(rows, whole);
    assert_eq!(adam2.moments(), adam.moments());
}
