//! The head's forward pass: projections, weighted masked mean, classifier.

use crate::shape::{HeadShape, ParamBlock, MODALITIES};

/// Why a forward pass (or building a [`Head`]) was refused: a slice whose length does not
/// match the head's shape. Nothing is written when this is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// The parameter slice does not hold `HeadShape::param_count()` values.
    Params { expected: usize, found: usize },
    /// A modality's fusion weight is not a positive finite number.
    FusionWeight { modality: usize },
    /// A feature vector is not `feat_dim` long.
    Features {
        modality: usize,
        expected: usize,
        found: usize,
    },
    /// A caller buffer (`"z"`, `"fused"` or `"logits"`) has the wrong length.
    Buffer {
        name: &'static str,
        expected: usize,
        found: usize,
    },
}

impl core::fmt::Display for HeadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HeadError::Params { expected, found } => {
                write!(
                    f,
                    "head parameters: expected {expected} values, found {found}"
                )
            }
            HeadError::FusionWeight { modality } => write!(
                f,
                "fusion weight of modality {modality}: expected a positive finite number"
            ),
            HeadError::Features {
                modality,
                expected,
                found,
            } => write!(
                f,
                "features of modality {modality}: expected {expected} values, found {found}"
            ),
            HeadError::Buffer {
                name,
                expected,
                found,
            } => write!(
                f,
                "head buffer `{name}`: expected {expected} values, found {found}"
            ),
        }
    }
}

impl core::error::Error for HeadError {}

/// The caller's buffers a forward pass writes: every intermediate a trainer needs later.
#[derive(Debug)]
pub struct Activations<'b> {
    /// The embeddings `z_m`, modality after modality (`MODALITIES * embed_dim`), computed
    /// for every modality, present or not (an absent one is only left out of the fusion).
    pub z: &'b mut [f32],
    /// The weighted mean of the present embeddings (`embed_dim`, weights
    /// `HeadShape::fusion_weights`); zeros when none is present.
    pub fused: &'b mut [f32],
    /// The classifier's output (`classes`).
    pub logits: &'b mut [f32],
}

/// A head: its shape and a borrowed flat parameter slice (layout in [`HeadShape`]).
#[derive(Clone, Copy, Debug)]
pub struct Head<'p> {
    shape: HeadShape,
    params: &'p [f32],
}

impl<'p> Head<'p> {
    /// A head over `params`, which must hold exactly `shape.param_count()` values, with
    /// positive finite fusion weights.
    pub fn new(shape: HeadShape, params: &'p [f32]) -> Result<Self, HeadError> {
        if let Some(modality) = shape.bad_fusion_weight() {
            return Err(HeadError::FusionWeight { modality });
        }
        if params.len() != shape.param_count() {
            return Err(HeadError::Params {
                expected: shape.param_count(),
                found: params.len(),
            });
        }
        Ok(Head { shape, params })
    }

    /// The head's dimensions.
    pub fn shape(&self) -> HeadShape {
        self.shape
    }

    /// The parameters of one block of the layout.
    pub fn block(&self, block: ParamBlock) -> &'p [f32] {
        &self.params[self.shape.range(block)]
    }

    /// One forward pass for one window: `feats` in modality order, `present` the mask
    /// (absent modalities are left out of the mean, whatever their features hold).
    pub fn forward(
        &self,
        feats: [&[f32]; MODALITIES],
        present: [bool; MODALITIES],
        out: &mut Activations<'_>,
    ) -> Result<(), HeadError> {
        self.check(feats, out)?;
        let e = self.shape.embed_dim;
        for (m, feat) in feats.iter().enumerate() {
            let z = &mut out.z[m * e..(m + 1) * e];
            linear(
                self.block(ParamBlock::ProjWeight(m)),
                self.block(ParamBlock::ProjBias(m)),
                feat,
                z,
            );
        }
        weighted_mean(out.z, present, self.shape.fusion_weights, out.fused);
        linear(
            self.block(ParamBlock::ClassifierWeight),
            self.block(ParamBlock::ClassifierBias),
            out.fused,
            out.logits,
        );
        Ok(())
    }

    /// Checks every slice length before anything is written.
    fn check(&self, feats: [&[f32]; MODALITIES], out: &Activations<'_>) -> Result<(), HeadError> {
        let s = self.shape;
        for (modality, feat) in feats.iter().enumerate() {
            if feat.len() != s.feat_dim {
                return Err(HeadError::Features {
                    modality,
                    expected: s.feat_dim,
                    found: feat.len(),
                });
            }
        }
        let buffers = [
            ("z", out.z.len(), MODALITIES * s.embed_dim),
            ("fused", out.fused.len(), s.embed_dim),
            ("logits", out.logits.len(), s.classes),
        ];
        for (name, found, expected) in buffers {
            if found != expected {
                return Err(HeadError::Buffer {
                    name,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }
}

/// `y = W x + b` with `W` row-major `y.len() x x.len()`; lengths checked by the caller.
fn linear(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    for ((yi, row), bi) in y.iter_mut().zip(weight.chunks_exact(x.len())).zip(bias) {
        let dot: f32 = row.iter().zip(x).map(|(w, v)| w * v).sum();
        *yi = dot + bi;
    }
}

/// `fused = sum over present m of w_m z_m / sum over present m of w_m` (zeros when none is
/// present), summed in modality order like the PyTorch head.
fn weighted_mean(
    z: &[f32],
    present: [bool; MODALITIES],
    weights: [f32; MODALITIES],
    fused: &mut [f32],
) {
    fused.fill(0.0);
    let e = fused.len();
    for (m, _) in present.iter().enumerate().filter(|(_, &p)| p) {
        for (f, v) in fused.iter_mut().zip(&z[m * e..(m + 1) * e]) {
            *f += weights[m] * v;
        }
    }
    let total = fusion_total(present, weights);
    for f in fused.iter_mut() {
        *f /= total;
    }
}

/// The divisor of the weighted mean: the present modalities' weights summed in modality
/// order, or 1 when none is present (the fused vector is then zero).
pub(crate) fn fusion_total(present: [bool; MODALITIES], weights: [f32; MODALITIES]) -> f32 {
    let total: f32 = (0..MODALITIES)
        .filter(|&m| present[m])
        .map(|m| weights[m])
        .sum();
    if total > 0.0 {
        total
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// feat_dim 2, embed_dim 2, classes 2. Projections: mmwave = identity, wifi = 2 *
    /// identity + (1, 1), rfid = swap; classifier = [[1, 0], [1, -1]] + (0, 10).
    const SHAPE: HeadShape = HeadShape {
        feat_dim: 2,
        embed_dim: 2,
        classes: 2,
        fusion_weights: crate::EQUAL_FUSION,
    };
    #[rustfmt::skip]
    const PARAMS: [f32; 24] = [
        1.0, 0.0, 0.0, 1.0,   0.0, 0.0,  // mmwave
        2.0, 0.0, 0.0, 2.0,   1.0, 1.0,  // wifi
        0.0, 1.0, 1.0, 0.0,   0.0, 0.0,  // rfid
        1.0, 0.0, 1.0, -1.0,  0.0, 10.0, // classifier
    ];
    const FEATS: [&[f32]; 3] = [&[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]];

    fn run(present: [bool; 3]) -> ([f32; 6], [f32; 2], [f32; 2]) {
        run_with(SHAPE, present)
    }

    /// `z`, `fused` and `logits` of a head of `shape` over PARAMS for one window.
    fn run_with(shape: HeadShape, present: [bool; 3]) -> ([f32; 6], [f32; 2], [f32; 2]) {
        let head = Head::new(shape, &PARAMS).unwrap();
        let (mut z, mut fused, mut logits) = ([f32::NAN; 6], [f32::NAN; 2], [f32::NAN; 2]);
        let mut out = Activations {
            z: &mut z,
            fused: &mut fused,
            logits: &mut logits,
        };
        head.forward(FEATS, present, &mut out).unwrap();
        (z, fused, logits)
    }

    #[test]
    fn embeddings_are_each_modalitys_projection() {
        let (z, _, _) = run([true, false, true]);
        assert_eq!(z, [1.0, 2.0, 7.0, 9.0, 6.0, 5.0]);
    }

    #[test]
    fn fusion_averages_only_present_modalities() {
        // all three: ((1,2) + (7,9) + (6,5)) / 3 = (14/3, 16/3)
        let (_, fused, logits) = run([true, true, true]);
        assert_eq!(fused, [14.0 / 3.0, 16.0 / 3.0]);
        assert_eq!(logits, [14.0 / 3.0, 14.0 / 3.0 - 16.0 / 3.0 + 10.0]);
        // mmwave and rfid: ((1,2) + (6,5)) / 2 = (3.5, 3.5); wifi's (7,9) left out
        let (_, fused, logits) = run([true, false, true]);
        assert_eq!(fused, [3.5, 3.5]);
        assert_eq!(logits, [3.5, 10.0]);
    }

    #[test]
    fn fusion_weights_weigh_the_present_modalities() {
        let shape = HeadShape {
            fusion_weights: [1.0, 0.25, 0.5],
            ..SHAPE
        };
        // all three: ((1,2) + 0.25 (7,9) + 0.5 (6,5)) / 1.75 = (5.75, 6.75) / 1.75
        let (_, fused, _) = run_with(shape, [true; 3]);
        assert_eq!(fused, [5.75 / 1.75, 6.75 / 1.75]);
        // wifi and rfid: (0.25 (7,9) + 0.5 (6,5)) / 0.75 = (4.75, 4.75) / 0.75
        let (_, fused, _) = run_with(shape, [false, true, true]);
        assert_eq!(fused, [4.75 / 0.75, 4.75 / 0.75]);
        // one modality alone is its own embedding, whatever its weight
        let (_, fused, _) = run_with(shape, [false, true, false]);
        assert_eq!(fused, [7.0, 9.0]);
    }

    #[test]
    fn a_bad_fusion_weight_is_refused() {
        let shape = HeadShape {
            fusion_weights: [1.0, 0.0, 1.0],
            ..SHAPE
        };
        assert_eq!(
            Head::new(shape, &PARAMS).unwrap_err(),
            HeadError::FusionWeight { modality: 1 }
        );
    }

    #[test]
    fn no_modality_present_gives_the_classifier_bias() {
        let (_, fused, logits) = run([false, false, false]);
        assert_eq!(fused, [0.0, 0.0]);
        assert_eq!(logits, [0.0, 10.0]);
    }

    #[test]
    fn wrong_lengths_are_refused_before_writing() {
        assert_eq!(
            Head::new(SHAPE, &PARAMS[..23]).unwrap_err(),
            HeadError::Params {
                expected: 24,
                found: 23
            }
        );
        let head = Head::new(SHAPE, &PARAMS).unwrap();
        let (mut z, mut fused, mut logits) = ([7.0; 6], [7.0; 2], [7.0; 3]);
        let mut out = Activations {
            z: &mut z,
            fused: &mut fused,
            logits: &mut logits,
        };
        let err = head.forward(FEATS, [true; 3], &mut out).unwrap_err();
        assert_eq!(
            err,
            HeadError::Buffer {
                name: "logits",
                expected: 2,
                found: 3
            }
        );
        let short: [&[f32]; 3] = [&[1.0, 2.0], &[3.0], &[5.0, 6.0]];
        let err = head.forward(short, [true; 3], &mut out).unwrap_err();
        assert_eq!(
            err,
            HeadError::Features {
                modality: 1,
                expected: 2,
                found: 1
            }
        );
        assert_eq!(z, [7.0; 6], "nothing written on error");
    }
}
