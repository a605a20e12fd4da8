//! The head trainer: epochs of shuffled mini-batches (augmented by modality dropout and
//! feature noise), the DAGR objective's gradient, AdamW with an optional cosine schedule,
//! and early stopping on the held-out windows, keeping the best parameters. Every buffer
//! comes from the caller in one `f32` arena ([`arena_len`]), so the same code runs on the
//! gateway and on a microcontroller.

use crate::adam::{Adam, AdamConfig};
use crate::augment::{add_noise, drop_modalities, Rng};
use crate::classes::{ClassSet, CLASS_SET_CAPACITY};
use crate::forward::Head;
use crate::gradient::{loss_and_backward_among, shifted_exp_sum, BatchActivations, LossTerms};
use crate::objective::DagrConfig;
use crate::shape::{HeadShape, MODALITIES};
use crate::train_error::TrainError;
use crate::windows::Windows;

/// The largest batch the trainer's fixed-size mask and label buffers hold.
pub const MAX_BATCH: usize = 256;

/// Everything that decides a training run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training windows (at most; early stopping may end sooner).
    pub epochs: u32,
    /// Windows per gradient step, `1..=MAX_BATCH` and at most the arena's batch.
    pub batch: usize,
    /// The optimizer.
    pub adam: AdamConfig,
    /// Cosine annealing of the learning rate over `epochs` (PyTorch's
    /// `CosineAnnealingLR(T_max=epochs)`, as in training), else a constant rate.
    pub cosine: bool,
    /// Probability that a training window keeps only a random non-empty subset of its
    /// modalities.
    pub modality_dropout: f32,
    /// Standard deviation of the Gaussian noise added to present training features.
    pub noise_sigma: f32,
    /// Stop after this many epochs without a better validation score (0: never stop early).
    pub patience: u32,
    /// Seed of the shuffling and augmentation.
    pub seed: u64,
    /// The objective's DAGR flags.
    pub dagr: DagrConfig,
    /// Compare each label only with the classes some training window has (see
    /// [`ClassSet`]): a head adapted on a few activities keeps the others. Off, every class
    /// is in the softmax, as in training.
    pub labeled_classes_only: bool,
}

impl Default for TrainConfig {
    /// Adaptation defaults: 30 epochs of batch 8 (the batch whose memory fits 128 KiB for
    /// the reference head, see [`MemoryBudget`]), the training pipeline's AdamW and cosine
    /// schedule and modality dropout 0.5, no feature noise, patience 5, plain
    /// cross-entropy (set `dagr` from model.json's `dagr` section) over the labeled
    /// classes only.
    fn default() -> Self {
        TrainConfig {
            epochs: 30,
            batch: 8,
            adam: AdamConfig::default(),
            cosine: true,
            modality_dropout: 0.5,
            noise_sigma: 0.0,
            patience: 5,
            seed: 0,
            dagr: DagrConfig::default(),
            labeled_classes_only: true,
        }
    }
}

/// Validation scores with every modality the windows have.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Mean cross-entropy.
    pub loss: f32,
    /// Fraction of windows whose top class is the label.
    pub accuracy: f32,
}

impl Scores {
    /// Better = higher accuracy, or the same accuracy at a lower loss.
    fn better_than(&self, other: &Scores) -> bool {
        self.accuracy > other.accuracy
            || (self.accuracy == other.accuracy && self.loss < other.loss)
    }
}

/// What one epoch did, handed to the progress callback.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: u32,
    /// Mean of each loss term over the epoch's batches.
    pub train: LossTerms,
    /// Validation scores after the epoch (None without held-out windows).
    pub val: Option<Scores>,
    /// Whether these parameters are now the best kept.
    pub improved: bool,
}

/// The outcome of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitReport {
    /// Epochs run.
    pub epochs: u32,
    /// Optimizer steps taken.
    pub steps: u32,
    /// The epoch whose parameters were kept (0: the starting ones were never beaten).
    pub best_epoch: u32,
    /// Validation scores of the starting parameters.
    pub before: Option<Scores>,
    /// Validation scores of the kept parameters.
    pub after: Option<Scores>,
}

/// How much memory a run needs, in bytes, by part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// The head's parameters (the caller's, adapted in place). No whole gradient is ever
    /// held: it goes into the optimizer row by row (one row lives in `activations`).
    pub params: usize,
    /// Adam's two moments.
    pub adam_moments: usize,
    /// The gathered, augmented features of one batch.
    pub batch_features: usize,
    /// One batch's activations and their gradients.
    pub activations: usize,
    /// The masks and labels of one batch (fixed, [`MAX_BATCH`] windows).
    pub batch_masks: usize,
    /// The copy of the best parameters early stopping keeps.
    pub best_params: usize,
}

impl MemoryBudget {
    /// The budget of a run of `shape` with batches of `batch` windows.
    pub fn of(shape: HeadShape, batch: usize) -> Self {
        let p = shape.param_count() * 4;
        MemoryBudget {
            params: p,
            adam_moments: 2 * p,
            batch_features: batch * MODALITIES * shape.feat_dim * 4,
            activations: BatchActivations::len(shape, batch) * 4,
            batch_masks: MAX_BATCH * (MODALITIES + 2),
            best_params: p,
        }
    }

    /// Parameters, Adam moments and one batch (features, activations and their gradients,
    /// masks): what one optimizer step needs.
    pub const fn step_total(&self) -> usize {
        self.params + self.adam_moments + self.batch_features + self.activations + self.batch_masks
    }

    /// Everything a run with early stopping needs.
    pub const fn total(&self) -> usize {
        self.step_total() + self.best_params
    }
}

/// Number of `f32` the trainer's arena needs for `shape` and batches of `batch` windows:
/// two moments, best parameters, batch features, activations.
pub fn arena_len(shape: HeadShape, batch: usize) -> usize {
    3 * shape.param_count()
        + batch * MODALITIES * shape.feat_dim
        + BatchActivations::len(shape, batch)
}

/// The arena cut into its parts.
struct Arena<'a> {
    best: &'a mut [f32],
    batch_feats: [&'a mut [f32]; MODALITIES],
    act: BatchActivations<'a>,
    adam: Adam<'a>,
}

impl<'a> Arena<'a> {
    fn split(shape: HeadShape, cfg: &TrainConfig, buf: &'a mut [f32]) -> Result<Self, TrainError> {
        let expected = arena_len(shape, cfg.batch);
        if buf.len() != expected {
            return Err(TrainError::Length {
                name: "trainer arena",
                expected,
                found: buf.len(),
            });
        }
        let p = shape.param_count();
        let fb = cfg.batch * shape.feat_dim;
        let (best, rest) = buf.split_at_mut(p);
        let (m, rest) = rest.split_at_mut(p);
        let (v, rest) = rest.split_at_mut(p);
        let (f0, rest) = rest.split_at_mut(fb);
        let (f1, rest) = rest.split_at_mut(fb);
        let (f2, rest) = rest.split_at_mut(fb);
        Ok(Arena {
            best,
            batch_feats: [f0, f1, f2],
            act: BatchActivations::new(shape, cfg.batch, rest)?,
            adam: Adam::new(cfg.adam, m, v)?,
        })
    }
}

/// The labelled windows and which of them train and which validate.
#[derive(Debug)]
pub struct Split<'w, 'i> {
    /// Every labelled window.
    pub windows: Windows<'w>,
    /// Indices of the training windows (reordered: each epoch shuffles them in place).
    pub train: &'i mut [u32],
    /// Indices of the held-out windows (may be empty: then the last epoch is kept).
    pub val: &'i [u32],
}

/// Trains `params` (the head's flat parameters, adapted in place) on `split` under `cfg`,
/// with `arena` ([`arena_len`] values) as all of its memory; `on_epoch` sees each epoch's
/// report (progress). On return `params` hold the best parameters seen.
pub fn fit(
    shape: HeadShape,
    params: &mut [f32],
    split: Split<'_, '_>,
    cfg: &TrainConfig,
    arena: &mut [f32],
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<FitReport, TrainError> {
    check(shape, params, &split, cfg)?;
    let mut a = Arena::split(shape, cfg, arena)?;
    let mut rng = Rng::new(cfg.seed);
    let before = validate(shape, params, &split.windows, split.val, &mut a.act)?;
    a.best.copy_from_slice(params);
    let (mut best, mut best_epoch, mut stale, mut epochs) = (before, 0, 0, 0);
    let competing = competing_classes(&split, cfg);
    for epoch in 1..=cfg.epochs {
        let lr = learning_rate(cfg, epoch - 1);
        let batches = Batches {
            windows: &split.windows,
            train: split.train,
            cfg,
            competing: &competing,
        };
        let train = train_epoch(shape, params, batches, lr, &mut a, &mut rng)?;
        epochs = epoch;
        let val = validate(shape, params, &split.windows, split.val, &mut a.act)?;
        let improved = match (val, best) {
            (Some(v), Some(b)) => v.better_than(&b),
            _ => true, // nothing to compare: the latest parameters are kept
        };
        if improved {
            a.best.copy_from_slice(params);
            (best, best_epoch, stale) = (val, epoch, 0);
        } else {
            stale += 1;
        }
        on_epoch(&EpochReport {
            epoch,
            train,
            val,
            improved,
        });
        if cfg.patience > 0 && stale >= cfg.patience {
            break;
        }
    }
    params.copy_from_slice(a.best);
    Ok(FitReport {
        epochs,
        steps: a.adam.steps(),
        best_epoch,
        before,
        after: best,
    })
}

/// The classes the task loss compares labels with: those of the training windows when
/// `cfg.labeled_classes_only`, else all ([`check`] made sure the labels fit a set).
fn competing_classes(split: &Split<'_, '_>, cfg: &TrainConfig) -> ClassSet {
    if !cfg.labeled_classes_only {
        return ClassSet::ALL;
    }
    let labels = split
        .train
        .iter()
        .map(|&i| split.windows.labels[i as usize]);
    ClassSet::of_labels(labels).unwrap_or(ClassSet::ALL)
}

/// Settings and lengths checked before anything is written.
fn check(
    shape: HeadShape,
    params: &[f32],
    split: &Split<'_, '_>,
    cfg: &TrainConfig,
) -> Result<(), TrainError> {
    cfg.dagr.check()?;
    cfg.adam.check()?;
    split.windows.check(shape)?;
    if params.len() != shape.param_count() {
        return Err(TrainError::Length {
            name: "params",
            expected: shape.param_count(),
            found: params.len(),
        });
    }
    if cfg.batch == 0 || cfg.batch > MAX_BATCH {
        return Err(TrainError::Batch {
            max: MAX_BATCH,
            found: cfg.batch,
        });
    }
    let n = split.windows.len();
    if let Some(&index) = split
        .train
        .iter()
        .chain(split.val)
        .find(|&&i| i as usize >= n)
    {
        return Err(TrainError::WindowIndex { index, windows: n });
    }
    if split.train.is_empty() {
        return Err(TrainError::EmptyBatch);
    }
    if cfg.labeled_classes_only && shape.classes > CLASS_SET_CAPACITY {
        return Err(TrainError::Setting {
            name: "labeled_classes_only",
            expected: "a head of at most 256 classes",
        });
    }
    Ok(())
}

/// The learning rate of epoch `e` (0-based): constant, or cosine-annealed to 0 at `epochs`.
fn learning_rate(cfg: &TrainConfig, e: u32) -> f64 {
    if !cfg.cosine || cfg.epochs == 0 {
        return cfg.adam.lr;
    }
    let phase = core::f64::consts::PI * e as f64 / cfg.epochs as f64;
    cfg.adam.lr * (1.0 + libm::cos(phase)) / 2.0
}

/// What one epoch draws its batches from.
struct Batches<'s, 'w> {
    windows: &'s Windows<'w>,
    train: &'s mut [u32],
    cfg: &'s TrainConfig,
    competing: &'s ClassSet,
}

/// One pass over the shuffled training windows, one optimizer step per batch; the mean of
/// each loss term over the batches.
fn train_epoch(
    shape: HeadShape,
    params: &mut [f32],
    batches: Batches<'_, '_>,
    lr: f64,
    a: &mut Arena<'_>,
    rng: &mut Rng,
) -> Result<LossTerms, TrainError> {
    let Batches {
        windows,
        train,
        cfg,
        competing,
    } = batches;
    rng.shuffle(train);
    let f = shape.feat_dim;
    let mut present = [[false; MODALITIES]; MAX_BATCH];
    let mut labels = [0u16; MAX_BATCH];
    let (mut sum, mut count) = (LossTerms::default(), 0.0f32);
    for chunk in train.chunks(cfg.batch) {
        let n = chunk.len();
        for (slot, &i) in chunk.iter().enumerate() {
            let i = i as usize;
            present[slot] = drop_modalities(windows.present[i], cfg.modality_dropout, rng);
            labels[slot] = windows.labels[i];
            for (m, feats) in a.batch_feats.iter_mut().enumerate() {
                let row = &mut feats[slot * f..(slot + 1) * f];
                row.copy_from_slice(windows.feat(m, i, f));
                if present[slot][m] {
                    add_noise(row, cfg.noise_sigma, rng);
                }
            }
        }
        let batch = Windows {
            feats: core::array::from_fn(|m| &a.batch_feats[m][..n * f]),
            present: &present[..n],
            labels: &labels[..n],
        };
        let head = Head::new(shape, params)?;
        let terms = loss_and_backward_among(&head, &cfg.dagr, &batch, competing, &mut a.act)?;
        let step = a.adam.begin_step(lr);
        let adam = &mut a.adam;
        a.act.gradient_rows(&batch, |range, row| {
            adam.apply(&step, range.start, &mut params[range], row)
        })?;
        add_terms(&mut sum, &terms);
        count += 1.0;
    }
    scale_terms(&mut sum, 1.0 / count);
    Ok(sum)
}

/// `sum += terms`, term by term.
fn add_terms(sum: &mut LossTerms, terms: &LossTerms) {
    sum.total += terms.total;
    sum.task += terms.task;
    sum.anc += terms.anc;
    for (s, d) in sum.disp.iter_mut().zip(terms.disp) {
        *s += d;
    }
}

/// `terms *= k`, term by term.
fn scale_terms(terms: &mut LossTerms, k: f32) {
    terms.total *= k;
    terms.task *= k;
    terms.anc *= k;
    terms.disp.iter_mut().for_each(|d| *d *= k);
}

/// Mean cross-entropy and accuracy of `params` on the windows `val` (None when empty),
/// every modality a window has used, no augmentation.
pub fn validate(
    shape: HeadShape,
    params: &[f32],
    windows: &Windows<'_>,
    val: &[u32],
    act: &mut BatchActivations<'_>,
) -> Result<Option<Scores>, TrainError> {
    if val.is_empty() {
        return Ok(None);
    }
    let head = Head::new(shape, params)?;
    let (mut loss, mut correct) = (0.0f32, 0usize);
    for &i in val {
        act.forward_one(&head, windows, i as usize, 0)?;
        let logits = act.logits(0);
        let label = usize::from(windows.labels[i as usize]);
        let (max, sum) = shifted_exp_sum(logits);
        loss += max + libm::logf(sum) - logits[label];
        let top = logits.iter().position(|&v| v == max);
        correct += usize::from(top == Some(label));
    }
    let n = val.len() as f32;
    Ok(Some(Scores {
        loss: loss / n,
        accuracy: correct as f32 / n,
    }))
}
