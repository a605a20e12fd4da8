//! The head's training objective on one batch and its gradient with respect to every head
//! parameter, written out (no autodiff): a forward pass that keeps its activations, the
//! cross-entropy of the fused logits, the DAGR terms on the embeddings (see
//! [`crate::regularizer`]), then the chain rule back through the classifier, the masked
//! mean and the projections. It matches `dagr_train.loss.dagr_loss` followed by PyTorch's
//! `backward()` (tests/gradient_parity.rs checks it against the exported vectors).

use crate::forward::{Activations, Head};
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
    /// One embedding-sized scratch vector.
    tmp: &'b mut [f32],
}

impl<'b> BatchActivations<'b> {
    /// Number of `f32` a buffer for `capacity` windows of `shape` needs.
    pub const fn len(shape: HeadShape, capacity: usize) -> usize {
        let e = shape.embed_dim;
        capacity * (2 * MODALITIES * e + e + shape.classes + MODALITIES) + e
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

/// The objective on `batch` (every window of it) and, in `grad` (the flat parameter
/// layout, overwritten), its gradient with respect to every parameter of `head`.
pub fn loss_and_gradient(
    head: &Head<'_>,
    cfg: &DagrConfig,
    batch: &Windows<'_>,
    act: &mut BatchActivations<'_>,
    grad: &mut [f32],
) -> Result<LossTerms, TrainError> {
    let shape = head.shape();
    check(shape, cfg, batch, act, grad)?;
    let n = batch.len();
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
    let mut disp = [0.0; MODALITIES];
    for (m, d) in disp.iter_mut().enumerate() {
        *d = dispersion(&emb, m, cfg, w_d, dz, act.tmp);
    }
    let anc = anchoring(&emb, cfg, w_a, dz, act.tmp);
    parameter_gradients(head, batch, act, grad);
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
    grad: &[f32],
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
    if grad.len() != shape.param_count() {
        return Err(TrainError::Length {
            name: "gradient",
            expected: shape.param_count(),
            found: grad.len(),
        });
    }
    Ok(())
}

/// Mean cross-entropy of `logits` (rows of `classes`) against `labels`; overwrites the
/// logits with the loss's gradient with respect to them, `(softmax - onehot) / n`.
pub(crate) fn cross_entropy_backward(classes: usize, logits: &mut [f32], labels: &[u16]) -> f32 {
    let n = labels.len() as f32;
    let mut sum = 0.0;
    for (row, &label) in logits.chunks_exact_mut(classes).zip(labels) {
        let (max, total) = shifted_exp_sum(row);
        sum += max + libm::logf(total) - row[usize::from(label)];
        for v in row.iter_mut() {
            *v = libm::expf(*v - max) / total / n;
        }
        row[usize::from(label)] -= 1.0 / n;
    }
    sum / n
}

/// (`max(row)`, `sum exp(row - max)`): `log sum exp(row)` is `max + ln(sum)`, computed
/// around the maximum like PyTorch so no term overflows.
pub(crate) fn shifted_exp_sum(row: &[f32]) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|v| libm::expf(v - max)).sum();
    (max, sum)
}

/// Classifier backward into `dz`: `dfused = W_c^T dlogits`, shared equally by the present
/// modalities' embeddings (the masked mean's gradient); absent ones get nothing.
fn fused_backward(head: &Head<'_>, batch: &Windows<'_>, act: &mut BatchActivations<'_>) {
    let shape = head.shape();
    let (e, c) = (shape.embed_dim, shape.classes);
    let weight = head.block(ParamBlock::ClassifierWeight);
    for (i, present) in batch.present.iter().enumerate() {
        let dlogits = &act.logits[i * c..(i + 1) * c];
        let count = present.iter().filter(|&&p| p).count().max(1) as f32;
        act.tmp.fill(0.0);
        for (row, &dl) in weight.chunks_exact(e).zip(dlogits) {
            for (t, w) in act.tmp.iter_mut().zip(row) {
                *t += w * dl;
            }
        }
        for m in (0..MODALITIES).filter(|&m| present[m]) {
            let at = (i * MODALITIES + m) * e;
            for (d, t) in act.dz[at..at + e].iter_mut().zip(act.tmp.iter()) {
                *d += t / count;
            }
        }
    }
}

/// The parameters' gradients from `dlogits` (in `act.logits`) and `dz`: outer products
/// with each layer's input, summed over the batch. Absent modalities' features are never
/// read, so whatever they hold cannot reach the gradient.
fn parameter_gradients(
    head: &Head<'_>,
    batch: &Windows<'_>,
    act: &BatchActivations<'_>,
    grad: &mut [f32],
) {
    let shape = head.shape();
    let (e, c, f) = (shape.embed_dim, shape.classes, shape.feat_dim);
    grad.fill(0.0);
    for (i, present) in batch.present.iter().enumerate() {
        let fused = &act.fused[i * e..(i + 1) * e];
        let dlogits = &act.logits[i * c..(i + 1) * c];
        outer_add(
            &mut grad[shape.range(ParamBlock::ClassifierWeight)],
            dlogits,
            fused,
        );
        add(&mut grad[shape.range(ParamBlock::ClassifierBias)], dlogits);
        for m in (0..MODALITIES).filter(|&m| present[m]) {
            let at = (i * MODALITIES + m) * e;
            let dz = &act.dz[at..at + e];
            outer_add(
                &mut grad[shape.range(ParamBlock::ProjWeight(m))],
                dz,
                batch.feat(m, i, f),
            );
            add(&mut grad[shape.range(ParamBlock::ProjBias(m))], dz);
        }
    }
}

/// `matrix += column * row^T`, `matrix` row-major `column.len() x row.len()`.
fn outer_add(matrix: &mut [f32], column: &[f32], row: &[f32]) {
    for (out, &k) in matrix.chunks_exact_mut(row.len()).zip(column) {
        for (o, x) in out.iter_mut().zip(row) {
            *o += k * x;
        }
    }
}

/// `acc += v` elementwise.
fn add(acc: &mut [f32], v: &[f32]) {
    for (a, x) in acc.iter_mut().zip(v) {
        *a += x;
    }
}
