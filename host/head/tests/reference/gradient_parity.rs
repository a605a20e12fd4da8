//! The loss terms and every parameter gradient equal PyTorch's on the head batches the
//! training pipeline exported (models/reference/parity/head_batch*_{float32,float64}.npz).

use dagr_head::{loss_and_gradient, BatchActivations, Head, HeadShape, LossTerms, ParamBlock};

use crate::model::{batch_config, reference_dir, reference_head, OwnedWindows};
use dagr_npz as npz;

/// The parity files hold gradients of the tensors under these names.
fn grad_name(block: ParamBlock) -> String {
    const NAMES: [&str; 3] = ["mmwave", "wifi", "rfid"];
    match block {
        ParamBlock::ProjWeight(m) => format!("grad.head.proj.{}.weight", NAMES[m]),
        ParamBlock::ProjBias(m) => format!("grad.head.proj.{}.bias", NAMES[m]),
        ParamBlock::ClassifierWeight => "grad.head.classifier.weight".into(),
        ParamBlock::ClassifierBias => "grad.head.classifier.bias".into(),
    }
}

/// Loss terms and gradient of the reference head on head batch `b` of `dtype`, with the
/// largest absolute difference to PyTorch's of the terms and of the gradient.
fn compare(b: usize, dtype: &str) -> (f64, f64) {
    let path = reference_dir().join(format!("parity/head_batch{b}_{dtype}.npz"));
    let arrays = npz::read(&path);
    let (shape, params) = reference_head();
    let cfg = batch_config(&arrays);
    let data = OwnedWindows::from_batch(&arrays);
    let n = data.labels.len();
    let mut buf = vec![0.0; BatchActivations::len(shape, n)];
    let mut act = BatchActivations::new(shape, n, &mut buf).unwrap();
    let mut grad = vec![f32::NAN; shape.param_count()];
    let head = Head::new(shape, &params).unwrap();
    let terms = loss_and_gradient(&head, &cfg, &data.view(), &mut act, &mut grad).unwrap();
    let term_diff = terms_diff(&terms, &arrays);
    let grad_diff = gradient_diff(shape, &grad, &arrays, &path.display().to_string());
    (term_diff, grad_diff)
}

/// Largest |ours - PyTorch| over total, task, each dispersion and anchoring.
fn terms_diff(
    terms: &LossTerms,
    arrays: &std::collections::BTreeMap<String, npz::Array<f64>>,
) -> f64 {
    let ours = [
        terms.total,
        terms.task,
        terms.disp[0],
        terms.disp[1],
        terms.disp[2],
        terms.anc,
    ];
    let disp = &arrays["loss_disp"].values;
    let theirs = [
        arrays["loss"].scalar(),
        arrays["loss_task"].scalar(),
        disp[0],
        disp[1],
        disp[2],
        arrays["loss_anc"].scalar(),
    ];
    ours.iter()
        .zip(theirs)
        .map(|(&a, b)| (f64::from(a) - b).abs())
        .fold(0.0, f64::max)
}

/// Largest |ours - PyTorch| over every parameter's gradient, block by block.
fn gradient_diff(
    shape: HeadShape,
    grad: &[f32],
    arrays: &std::collections::BTreeMap<String, npz::Array<f64>>,
    file: &str,
) -> f64 {
    let mut worst = 0.0f64;
    for block in ParamBlock::ALL {
        let theirs = &arrays[&grad_name(block)];
        let ours = &grad[shape.range(block)];
        assert_eq!(
            ours.len(),
            theirs.values.len(),
            "{file}: {}",
            grad_name(block)
        );
        for (&a, &b) in ours.iter().zip(&theirs.values) {
            worst = worst.max((f64::from(a) - b).abs());
        }
    }
    worst
}

#[test]
fn loss_terms_and_gradients_equal_pytorch_float32() {
    for b in 0..3 {
        let (terms, grad) = compare(b, "float32");
        println!("head_batch{b}_float32: max |diff| terms {terms:.2e}, gradient {grad:.2e}");
        assert!(terms <= 1e-5, "batch {b}: loss terms differ by {terms:e}");
        assert!(grad <= 1e-5, "batch {b}: a gradient differs by {grad:e}");
    }
}

#[test]
fn float32_computation_is_close_to_pytorch_float64() {
    for b in 0..3 {
        let (terms, grad) = compare(b, "float64");
        println!("head_batch{b}_float64 (ours in f32): max |diff| terms {terms:.2e}, gradient {grad:.2e}");
        assert!(terms <= 1e-5, "batch {b}: loss terms differ by {terms:e}");
        assert!(grad <= 1e-5, "batch {b}: a gradient differs by {grad:e}");
    }
}

#[test]
fn the_batches_exercise_every_term() {
    // A regularizer whose gradient is never non-zero would pass the comparison vacuously.
    let mut anc = 0.0f64;
    for b in 0..3 {
        let arrays = npz::read(&reference_dir().join(format!("parity/head_batch{b}_float32.npz")));
        anc = anc.max(arrays["loss_anc"].scalar());
        let cfg = batch_config(&arrays);
        assert!(cfg.lambda_d > 0.0 && cfg.lambda_a > 0.0, "both weights set");
    }
    assert!(anc > 0.0, "some batch has a pair outside the band");
}
