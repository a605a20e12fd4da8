//! The head's training objective on one batch and its gradient with respect to every head
//! parameter, written out (no autodiff): a forward pass that keeps its activations, the
//! cross-entropy of the fused logits, the DAGR terms on the embeddings (see
//! [`crate::regularizer`]), then the chain rule back through the classifier, the masked
//! mean and the projections. It matches `dagr_train.loss.dagr_loss` followed by PyTorch's
//! `backward()` (tests/gradient_parity.rs checks it against the exported vectors).

use core::ops::Range;

use crate::classes::ClassSet;
use crate::forward::{fusion_total, Activations, Head};
use crate::objective::DagrConfig;
use crate::regularizer::{anchoring, dispersion, Embeddings};
use crate::shape::{HeadShape, ParamBlock, MODALITIES};
use crate::train_error::TrainError;
use crate::windows::Windows;

/// The value of each term of the objective on one batch (PyTorch's `parts` of
/// `dagr_loss`, and its `total`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossTerms {
    /// `task + w_d * sum_m disp[m] + w_a * anc`.
    pub total: f32,
    /// Mean cross-entropy of the fused logits.
    pub task: f32,
    /// Dispersion of each modality over the windows where it is present (0 if none).
    pub disp: [f32; MODALITIES],
    /// Mean anchoring hinge over windows and present modality pairs (0 if none).
    pub anc: f32,
}

/// Caller-provided buffers for one batch's activations and their gradients, sized for at
/// most `capacity` windows (see [`BatchActivations::len`]).
#[derive(Debug)]
pub struct BatchActivations<'b> {
    shape: HeadShape,
    capacity: usize,
    /// `z_m` of every window, window-major then modality (`capacity * 3 * embed_dim`).
    z: &'b mut [f32],
    /// The fused vectors (`capacity * embed_dim`).
    fused: &'b mut [f32],
    /// The logits; after the backward pass, the gradient of the loss with respect to them.
    logits: &'b mut [f32],
    /// Gradient of the loss with respect to `z` (same layout).
    dz: &'b mut [f32],
    /// `||z_m||` of every window and modality (`capacity * 3`).
    norms: &'b mut [f32],
    /// Scratch: one embedding, or one row of the parameter layout
    /// (`max(feat_dim, embed_dim, classes)`).
    tmp: &'b mut [f32],
    /// Windows of the last backward pass (0: none yet).
    filled: usize,
}

impl<'b> BatchActivations<'b> {
    /// Number of `f32` a buffer for `capacity` windows of `shape` needs.
    pub const fn len(shape: HeadShape, capacity: usize) -> usize {
        let e = shape.embed_dim;
        capacity * (2 * MODALITIES * e + e + shape.classes + MODALITIES) + row_len(shape)
    }

    /// Splits `buf` (exactly [`BatchActivations::len`] values) into the activation buffers.
    pub fn new(shape: HeadShape, capacity: usize, buf: &'b mut [f32]) -> Result<Self, TrainError> {
        let expected = Self::len(shape, capacity);
        if buf.len() != expected {
            return Err(TrainError::Length {
                name: "activations",
                expected,
                found: buf.len(),
            });
        }
        let e = shape.embed_dim;
        let (z, rest) = buf.split_at_mut(capacity * MODALITIES * e);
        let (dz, rest) = rest.split_at_mut(capacity * MODALITIES * e);
        let (fused, rest) = rest.split_at_mut(capacity * e);
        let (logits, rest) = rest.split_at_mut(capacity * shape.classes);
        let (norms, tmp) = rest.split_at_mut(capacity * MODALITIES);
        Ok(BatchActivations {
            shape,
            capacity,
            z,
            fused,
            logits,
            dz,
            norms,
            tmp,
            filled: 0,
        })
    }

    /// The most windows a batch may hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The logits of window `i` of the last forward pass (before a backward pass).
    pub fn logits(&self, i: usize) -> &[f32] {
        let c = self.shape.classes;
        &self.logits[i * c..(i + 1) * c]
    }

    /// The forward pass of window `i` of `windows` into slot `slot`.
    pub(crate) fn forward_one(
        &mut self,
        head: &Head<'_>,
        windows: &Windows<'_>,
        i: usize,
        slot: usize,
    ) -> Result<(), TrainError> {
        let (e, c, f) = (
            self.shape.embed_dim,
            self.shape.classes,
            self.shape.feat_dim,
        );
        let feats = core::array::from_fn(|m| windows.feat(m, i, f));
        let mut out = Activations {
            z: &mut self.z[slot * MODALITIES * e..(slot + 1) * MODALITIES * e],
            fused: &mut self.fused[slot * e..(slot + 1) * e],
            logits: &mut self.logits[slot * c..(slot + 1) * c],
        };
        head.forward(feats, windows.present[i], &mut out)?;
        Ok(())
    }
}

/// The longest row of the parameter layout: a projection row, an embedding-long bias or
/// classifier row, or the classifier bias.
const fn row_len(shape: HeadShape) -> usize {
    let longest = if shape.feat_dim > shape.embed_dim {
        shape.feat_dim
    } else {
        shape.embed_dim
    };
    if longest > shape.classes {
        longest
    } else {
        shape.classes
    }
}

/// The objective on `batch` (every window of it) and, in `grad` (the flat parameter
/// layout, overwritten), its gradient with respect to every parameter of `head`.
pub fn loss_and_gradient(
    head: &Head<'_>,
    cfg: &DagrConfig,
    batch: &Windows<'_>,
    act: &mut BatchActivations<'_>,
    grad: &mut [f32],
) -> Result<LossTerms, TrainError> {
    let expected = head.shape().param_count();
    if grad.len() != expected {
        return Err(TrainError::Length {
            name: "gradient",
            expected,
            found: grad.len(),
        });
    }
    let terms = loss_and_backward(head, cfg, batch, act)?;
    act.gradient_rows(batch, |range, row| grad[range].copy_from_slice(row))?;
    Ok(terms)
}

/// The objective on `batch` and the backward pass down to the logits and embeddings (kept
/// in `act`); the parameters' gradient then comes row by row from
/// [`BatchActivations::gradient_rows`], so a trainer never needs a whole gradient buffer.
pub fn loss_and_backward(
    head: &Head<'_>,
    cfg: &DagrConfig,
    batch: &Windows<'_>,
    act: &mut BatchActivations<'_>,
) -> Result<LossTerms, TrainError> {
    loss_and_backward_among(head, cfg, batch, &ClassSet::ALL, act)
}

/// [`loss_and_backward`] with the task loss's softmax over the classes of `competing`
/// only (see [`ClassSet`]): the other classes' logits get no gradient. Every label of
/// `batch` must be in `competing`.
pub fn loss_and_backward_among(
    head: &Head<'_>,
    cfg: &DagrConfig,
    batch: &Windows<'_>,
    competing: &ClassSet,
    act: &mut BatchActivations<'_>,
) -> Result<LossTerms, TrainError> {
    let shape = head.shape();
    check(shape, cfg, batch, act)?;
    if !batch
        .labels
        .iter()
        .all(|&l| competing.contains(usize::from(l)))
    {
        return Err(TrainError::Setting {
            name: "competing classes",
            expected: "every label of the batch among them",
        });
    }
    let n = batch.len();
    act.filled = 0;
    for i in 0..n {
        act.forward_one(head, batch, i, i)?;
    }
    let e = shape.embed_dim;
    for (norm, z) in act.norms[..n * MODALITIES]
        .iter_mut()
        .zip(act.z.chunks_exact(e))
    {
        *norm = libm::sqrtf(z.iter().map(|v| v * v).sum());
    }
    let task = cross_entropy_backward(
        shape.classes,
        &mut act.logits[..n * shape.classes],
        batch.labels,
        competing,
    );
    act.dz[..n * MODALITIES * e].fill(0.0);
    fused_backward(head, batch, act);
    let (w_d, w_a) = cfg.weights();
    let emb = Embeddings {
        z: &act.z[..n * MODALITIES * e],
        norms: &act.norms[..n * MODALITIES],
        present: batch.present,
        embed_dim: e,
    };
    let dz = &mut act.dz[..n * MODALITIES * e];
    let tmp = &mut act.tmp[..e];
    let mut disp = [0.0; MODALITIES];
    for (m, d) in disp.iter_mut().enumerate() {
        *d = dispersion(&emb, m, cfg, w_d, dz, tmp);
    }
    let anc = anchoring(&emb, cfg, w_a, dz, tmp);
    act.filled = n;
    let total = task + w_d * (disp[0] + disp[1] + disp[2]) + w_a * anc;
    Ok(LossTerms {
        total,
        task,
        disp,
        anc,
    })
}

/// Every length and label checked before anything is written.
fn check(
    shape: HeadShape,
    cfg: &DagrConfig,
    batch: &Windows<'_>,
    act: &BatchActivations<'_>,
) -> Result<(), TrainError> {
    cfg.check()?;
    batch.check(shape)?;
    if act.shape != shape {
        return Err(TrainError::Length {
            name: "activations",
            expected: BatchActivations::len(shape, act.capacity),
            found: BatchActivations::len(act.shape, act.capacity),
        });
    }
    if batch.is_empty() {
        return Err(TrainError::EmptyBatch);
    }
    if batch.len() > act.capacity {
        return Err(TrainError::Batch {
            max: act.capacity,
            found: batch.len(),
        });
    }
    Ok(())
}

/// Mean cross-entropy of `logits` (rows of `classes`) against `labels`, the softmax over
/// the classes of `competing`; overwrites the logits with the loss's gradient with respect
/// to them, `(softmax - onehot) / n` (0 for a class outside `competing`).
pub(crate) fn cross_entropy_backward(
    classes: usize,
    logits: &mut [f32],
    labels: &[u16],
    competing: &ClassSet,
) -> f32 {
    let n = labels.len() as f32;
    let mut sum = 0.0;
    for (row, &label) in logits.chunks_exact_mut(classes).zip(labels) {
        let (max, total) = shifted_exp_sum_among(row, competing);
        sum += max + libm::logf(total) - row[usize::from(label)];
        for (c, v) in row.iter_mut().enumerate() {
            *v = if competing.contains(c) {
                libm::expf(*v - max) / total / n
            } else {
                0.0
            };
        }
        row[usize::from(label)] -= 1.0 / n;
    }
    sum / n
}

/// [`shifted_exp_sum`] over the entries of `row` whose class is in `competing`.
fn shifted_exp_sum_among(row: &[f32], competing: &ClassSet) -> (f32, f32) {
    let among = || (row.iter().enumerate()).filter(|(c, _)| competing.contains(*c));
    let max = among().map(|(_, &v)| v).fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = among().map(|(_, &v)| libm::expf(v - max)).sum();
    (max, sum)
}

/// (`max(row)`, `sum exp(row - max)`): `log sum exp(row)` is `max + ln(sum)`, computed
/// around the maximum like PyTorch so no term overflows (every entry, in order).
pub(crate) fn shifted_exp_sum(row: &[f32]) -> (f32, f32) {
    shifted_exp_sum_among(row, &ClassSet::ALL)
}

/// Classifier backward into `dz`: `dfused = W_c^T dlogits`, shared by the present
/// modalities' embeddings in proportion to their fusion weights (the weighted mean's
/// gradient, `w_m / sum of present weights`); absent ones get nothing.
fn fused_backward(head: &Head<'_>, batch: &Windows<'_>, act: &mut BatchActivations<'_>) {
    let shape = head.shape();
    let (e, c) = (shape.embed_dim, shape.classes);
    let weight = head.block(ParamBlock::ClassifierWeight);
    for (i, present) in batch.present.iter().enumerate() {
        let dlogits = &act.logits[i * c..(i + 1) * c];
        let total = fusion_total(*present, shape.fusion_weights);
        let tmp = &mut act.tmp[..e];
        tmp.fill(0.0);
        for (row, &dl) in weight.chunks_exact(e).zip(dlogits) {
            for (t, w) in tmp.iter_mut().zip(row) {
                *t += w * dl;
            }
        }
        for m in (0..MODALITIES).filter(|&m| present[m]) {
            let at = (i * MODALITIES + m) * e;
            let w = shape.fusion_weights[m];
            for (d, t) in act.dz[at..at + e].iter_mut().zip(tmp.iter()) {
                *d += w * (t / total);
            }
        }
    }
}

impl BatchActivations<'_> {
    /// After [`loss_and_backward`] on `batch`: the gradient of every parameter, one row
    /// of the flat layout at a time, in layout order, as `each(range in the layout, row)`.
    /// Each row sums its outer-product terms over the batch (`dlogits` with the fused
    /// vectors, `dz` with the features); absent modalities' features are never read, so
    /// whatever they hold cannot reach the gradient.
    pub fn gradient_rows(
        &mut self,
        batch: &Windows<'_>,
        mut each: impl FnMut(Range<usize>, &[f32]),
    ) -> Result<(), TrainError> {
        if self.filled == 0 || batch.len() != self.filled {
            return Err(TrainError::Length {
                name: "batch after backward",
                expected: self.filled,
                found: batch.len(),
            });
        }
        let shape = self.shape;
        let (e, c, f) = (shape.embed_dim, shape.classes, shape.feat_dim);
        let present = batch.present;
        for block in ParamBlock::ALL {
            let start = shape.range(block).start;
            match block {
                ParamBlock::ProjWeight(m) => {
                    let row = &mut self.tmp[..f];
                    for r in 0..e {
                        row.fill(0.0);
                        for i in (0..present.len()).filter(|&i| present[i][m]) {
                            let k = self.dz[(i * MODALITIES + m) * e + r];
                            axpy(row, k, batch.feat(m, i, f));
                        }
                        each(start + r * f..start + (r + 1) * f, row);
                    }
                }
                ParamBlock::ProjBias(m) => {
                    let row = &mut self.tmp[..e];
                    row.fill(0.0);
                    for i in (0..present.len()).filter(|&i| present[i][m]) {
                        let at = (i * MODALITIES + m) * e;
                        axpy(row, 1.0, &self.dz[at..at + e]);
                    }
                    each(start..start + e, row);
                }
                ParamBlock::ClassifierWeight => {
                    let row = &mut self.tmp[..e];
                    for r in 0..c {
                        row.fill(0.0);
                        for i in 0..present.len() {
                            axpy(row, self.logits[i * c + r], &self.fused[i * e..(i + 1) * e]);
                        }
                        each(start + r * e..start + (r + 1) * e, row);
                    }
                }
                ParamBlock::ClassifierBias => {
                    let row = &mut self.tmp[..c];
                    row.fill(0.0);
                    for i in 0..present.len() {
                        axpy(row, 1.0, &self.logits[i * c..(i + 1) * c]);
                    }
                    each(start..start + c, row);
                }
            }
        }
        Ok(())
    }
}

/// `acc += k * x` elementwise.
fn axpy(acc: &mut [f32], k: f32, x: &[f32]) {
    for (a, v) in acc.iter_mut().zip(x) {
        *a += k * v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::{DagrConfig, Form};

    /// feat 2, embed 2, classes 2; identity projections, a zero classifier.
    const SHAPE: HeadShape = HeadShape {
        feat_dim: 2,
        embed_dim: 2,
        classes: 2,
        fusion_weights: crate::EQUAL_FUSION,
    };
    #[rustfmt::skip]
    const PARAMS: [f32; 24] = [
        1.0, 0.0, 0.0, 1.0, 0.0, 0.0, // mmwave
        1.0, 0.0, 0.0, 1.0, 0.0, 0.0, // wifi
        1.0, 0.0, 0.0, 1.0, 0.0, 0.0, // rfid
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, // classifier
    ];
    /// Window 0: mmwave (1, 0), wifi (0, 1), rfid absent (its features hold NaN);
    /// window 1: mmwave (0, 2), wifi absent, rfid (1, 0). Labels 0, 1.
    const FEATS: [[f32; 4]; 3] = [
        [1.0, 0.0, 0.0, 2.0],
        [0.0, 1.0, f32::NAN, f32::NAN],
        [f32::NAN, f32::NAN, 1.0, 0.0],
    ];
    const PRESENT: [[bool; 3]; 2] = [[true, true, false], [true, false, true]];

    fn run(cfg: &DagrConfig) -> (LossTerms, [f32; 24]) {
        run_with(SHAPE, &PARAMS, cfg)
    }

    /// The loss terms and gradient of a head of `shape` over `params` on the two windows.
    fn run_with(shape: HeadShape, params: &[f32; 24], cfg: &DagrConfig) -> (LossTerms, [f32; 24]) {
        let mut grad = [f32::NAN; 24];
        let terms = on_two_windows(shape, params, |head, windows, act| {
            loss_and_gradient(head, cfg, windows, act, &mut grad).unwrap()
        });
        (terms, grad)
    }

    /// `f` on a head of `shape` over `params`, the two windows and their activations.
    fn on_two_windows<R>(
        shape: HeadShape,
        params: &[f32; 24],
        f: impl FnOnce(&Head<'_>, &Windows<'_>, &mut BatchActivations<'_>) -> R,
    ) -> R {
        let windows = Windows {
            feats: [&FEATS[0], &FEATS[1], &FEATS[2]],
            present: &PRESENT,
            labels: &[0, 1],
        };
        let mut buf = [0.0; 64];
        let len = BatchActivations::len(shape, 2);
        let mut act = BatchActivations::new(shape, 2, &mut buf[..len]).unwrap();
        f(&Head::new(shape, params).unwrap(), &windows, &mut act)
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-6
    }

    #[test]
    fn a_class_outside_the_competing_set_is_out_of_the_softmax_and_gets_no_gradient() {
        let competing = ClassSet::of_labels([0u16, 2]).unwrap();
        let mut logits = [1.0f32, 2.0, 0.5];
        let loss = cross_entropy_backward(3, &mut logits, &[0], &competing);
        let (e0, e2) = (1.0f32.exp(), 0.5f32.exp());
        assert!(close(loss, (e0 + e2).ln() - 1.0), "{loss}");
        let expected = [e0 / (e0 + e2) - 1.0, 0.0, e2 / (e0 + e2)];
        assert!(
            logits.iter().zip(expected).all(|(g, e)| close(*g, e)),
            "{logits:?}"
        );
        // Every class competing: the plain cross-entropy, bit for bit.
        let (mut all, mut plain) = ([1.0f32, 2.0, 0.5], [1.0f32, 2.0, 0.5]);
        let full = ClassSet::of_labels([0u16, 1, 2]).unwrap();
        let a = cross_entropy_backward(3, &mut all, &[0], &full);
        let b = cross_entropy_backward(3, &mut plain, &[0], &ClassSet::ALL);
        assert_eq!((a, all), (b, plain));
    }

    #[test]
    fn a_label_outside_the_competing_classes_is_refused() {
        let only_0 = ClassSet::of_labels([0u16]).unwrap();
        let err = on_two_windows(SHAPE, &PARAMS, |head, windows, act| {
            loss_and_backward_among(head, &CFG, windows, &only_0, act).unwrap_err()
        });
        assert!(matches!(
            err,
            TrainError::Setting {
                name: "competing classes",
                ..
            }
        ));
    }

    const CFG: DagrConfig = DagrConfig {
        form: Form::Lambda,
        lambda_d: 0.5,
        lambda_a: 1.0,
        beta_total: 0.0,
        beta: 0.5,
        tau: 0.3,
        tau_d: 1.0,
        disp_dim: 0,
        disp_normalized: false,
        distance: crate::objective::Distance::Cosine,
    };

    #[test]
    fn loss_terms_equal_hand_computed_values() {
        let (terms, _) = run(&CFG);
        // zero logits: ln 2 per window
        assert!(close(terms.task, core::f32::consts::LN_2));
        // mmwave in both windows: ||(1,0) - (0,2)||^2 = 5, D * tau_d = 2
        let k = libm::expf(-2.5);
        assert!(close(terms.disp[0], libm::logf((2.0 + 2.0 * k) / 4.0)));
        // wifi and rfid present in one window each: log(1 / 1) = 0
        assert_eq!(terms.disp[1..], [0.0, 0.0]);
        // two present pairs, both orthogonal: 1 - cos = 1, hinge 0.7 each
        assert!(close(terms.anc, 0.7));
        let total = terms.task + 0.5 * terms.disp[0] + 0.7;
        assert!(close(terms.total, total));
    }

    #[test]
    fn gradients_equal_hand_computed_values() {
        let (_, grad) = run(&CFG);
        let k = libm::expf(-2.5);
        let ks = k / (2.0 + 2.0 * k);
        let expected: [f32; 24] = [
            // mmwave weight: dispersion (translation-invariant) + anchoring to wifi and rfid
            -ks,
            2.0 * ks - 0.5,
            2.0 * ks - 0.5,
            -4.0 * ks,
            // mmwave bias: the dispersion parts cancel
            -0.25,
            -0.5,
            // wifi: anchoring to mmwave in window 0 only
            0.0,
            -0.5,
            0.0,
            0.0,
            -0.5,
            0.0,
            // rfid: anchoring to mmwave in window 1 only
            0.0,
            0.0,
            -0.5,
            0.0,
            0.0,
            -0.5,
            // classifier: dlogits (-1/4, 1/4), (1/4, -1/4) on fused (1/2, 1/2), (1/2, 1)
            0.0,
            0.125,
            0.0,
            -0.125,
            0.0,
            0.0,
        ];
        for (i, (g, e)) in grad.iter().zip(expected).enumerate() {
            assert!(close(*g, e), "parameter {i}: {g} != {e}");
        }
    }

    /// The task loss of a head with unequal `fusion_weights` over `params`, and its
    /// gradient.
    fn weighted_task(params: &[f32; 24]) -> (f32, [f32; 24]) {
        let shape = HeadShape {
            fusion_weights: [1.0, 0.25, 0.5],
            ..SHAPE
        };
        let task_only = DagrConfig {
            lambda_d: 0.0,
            lambda_a: 0.0,
            ..CFG
        };
        let (terms, grad) = run_with(shape, params, &task_only);
        (terms.task, grad)
    }

    #[test]
    fn fusion_weights_share_the_gradient_like_finite_differences() {
        let mut params = PARAMS;
        params[18..].copy_from_slice(&[1.0, -0.5, 0.25, 2.0, 0.1, -0.2]);
        let (_, grad) = weighted_task(&params);
        let h = 1e-2;
        for i in 0..24 {
            let (mut up, mut down) = (params, params);
            up[i] += h;
            down[i] -= h;
            let numeric = (weighted_task(&up).0 - weighted_task(&down).0) / (2.0 * h);
            assert!(
                (grad[i] - numeric).abs() < 1e-3,
                "parameter {i}: {} != {numeric}",
                grad[i]
            );
        }
        // wifi's projection is present once with weight 0.25 of 1.25: a nonzero gradient
        assert!(grad[6..12].iter().any(|g| g.abs() > 1e-3));
    }

    #[test]
    fn the_pareto_form_weights_the_same_terms() {
        let pareto = DagrConfig {
            form: Form::Pareto,
            beta_total: 2.0,
            beta: 0.25,
            ..CFG
        };
        let (terms, _) = run(&pareto);
        // beta_total * ((1 - beta) * disp + beta * anc)
        let total = terms.task + 1.5 * terms.disp[0] + 0.5 * terms.anc;
        assert!(close(terms.total, total));
    }

    #[test]
    fn a_batch_too_large_or_a_label_out_of_range_is_refused() {
        let mut buf = [0.0; 64];
        let len = BatchActivations::len(SHAPE, 1);
        let mut act = BatchActivations::new(SHAPE, 1, &mut buf[..len]).unwrap();
        let head = Head::new(SHAPE, &PARAMS).unwrap();
        let mut grad = [7.0; 24];
        let windows = Windows {
            feats: [&FEATS[0], &FEATS[1], &FEATS[2]],
            present: &PRESENT,
            labels: &[0, 1],
        };
        let err = loss_and_gradient(&head, &CFG, &windows, &mut act, &mut grad).unwrap_err();
        assert_eq!(err, TrainError::Batch { max: 1, found: 2 });
        let windows = Windows {
            feats: [&FEATS[0][..2], &FEATS[1][..2], &FEATS[2][..2]],
            present: &PRESENT[..1],
            labels: &[2],
        };
        let err = loss_and_gradient(&head, &CFG, &windows, &mut act, &mut grad).unwrap_err();
        assert_eq!(
            err,
            TrainError::Label {
                index: 0,
                label: 2,
                classes: 2
            }
        );
        assert_eq!(grad, [7.0; 24], "nothing written");
    }
}
