//! The DAGR flags the exported head batches do not exercise (normalized dispersion, an
//! unsaturated dispersion kernel, the Pareto form, the L2 distance, a zero band) against
//! PyTorch's dagr_loss on the same inputs, recorded by torch_reference.py.

use dagr_head::{loss_and_gradient, BatchActivations, DagrConfig, Distance, Form, Head};

use crate::model::{reference_dir, reference_head, OwnedWindows};
use dagr_npz as npz;

/// What a mismatch may mean besides a bug.
pub const STALE: &str = "or torch_reference.npz predates models/reference: rerun \
    ~/.cache/dagr/train-venv/bin/python host/head/tests/reference/torch_reference.py";

/// torch_reference.npz, next to this file.
pub fn torch_reference() -> std::collections::BTreeMap<String, npz::Array<f64>> {
    npz::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/reference/torch_reference.npz"),
    )
}

/// The flags of variant `k`.
fn variant(arrays: &std::collections::BTreeMap<String, npz::Array<f64>>, k: usize) -> DagrConfig {
    let flag = |name: &str| arrays[&format!("v{k}.{name}")].scalar();
    DagrConfig {
        form: if flag("form") == 1.0 {
            Form::Pareto
        } else {
            Form::Lambda
        },
        distance: if flag("distance") == 1.0 {
            Distance::L2
        } else {
            Distance::Cosine
        },
        lambda_d: flag("lambda_d"),
        lambda_a: flag("lambda_a"),
        beta_total: flag("beta_total"),
        beta: flag("beta"),
        tau: flag("tau"),
        tau_d: flag("tau_d"),
        disp_dim: flag("disp_dim") as usize,
        disp_normalized: flag("disp_normalized") == 1.0,
    }
}

#[test]
fn every_dagr_flag_matches_pytorch() {
    let reference = torch_reference();
    let batch = npz::read(&reference_dir().join("parity/head_batch0_float32.npz"));
    let data = OwnedWindows::from_batch(&batch);
    let (shape, params) = reference_head();
    let head = Head::new(shape, &params).unwrap();
    let n = data.labels.len();
    let mut buf = vec![0.0; BatchActivations::len(shape, n)];
    let mut act = BatchActivations::new(shape, n, &mut buf).unwrap();
    let mut grad = vec![0.0; shape.param_count()];
    let variants = reference["variants"].scalar() as usize;
    assert_eq!(variants, 3);
    for k in 0..variants {
        let cfg = variant(&reference, k);
        let terms = loss_and_gradient(&head, &cfg, &data.view(), &mut act, &mut grad).unwrap();
        let key = |name: &str| &reference[&format!("v{k}.{name}")];
        let disp = &key("loss_disp").values;
        let pairs = [
            (terms.total, key("loss").scalar()),
            (terms.task, key("loss_task").scalar()),
            (terms.disp[0], disp[0]),
            (terms.disp[1], disp[1]),
            (terms.disp[2], disp[2]),
            (terms.anc, key("loss_anc").scalar()),
        ];
        let term_diff = pairs
            .iter()
            .map(|&(a, b)| (f64::from(a) - b).abs())
            .fold(0.0, f64::max);
        let grad_diff = grad
            .iter()
            .zip(&key("grad").values)
            .map(|(&a, &b)| (f64::from(a) - b).abs())
            .fold(0.0, f64::max);
        println!("variant {k} {cfg:?}: max |diff| terms {term_diff:.2e}, gradient {grad_diff:.2e}");
        assert!(
            term_diff <= 1e-5,
            "variant {k}: loss terms differ by {term_diff:e} ({STALE})"
        );
        assert!(
            grad_diff <= 1e-5,
            "variant {k}: gradient differs by {grad_diff:e} ({STALE})"
        );
        // the variant is not vacuous: its dispersion kernel is away from saturation
        // (log(1/n) = every off-diagonal term ~0) and some pair lies outside the band
        assert!(
            terms.disp.iter().any(|&d| d > -1.5),
            "variant {k}: {:?}",
            terms.disp
        );
        assert!(terms.anc > 0.0, "variant {k}: anchoring {}", terms.anc);
    }
}
