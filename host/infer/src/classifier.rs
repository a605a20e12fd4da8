//! The classifier: an engine for the backbone features, then the native Rust head for the
//! logits, softmax for the probabilities and argmax for the class.

use dagr_head::{admitted, Activations, Head, HeadShape, NormBand, MODALITIES};

use crate::engine::{open_engine, Engine, EngineKind, EngineOptions, EngineOutputs};
use crate::package::ModelPackage;
use crate::{InferError, WindowInput};

/// One window's result. Its buffers are reused from call to call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// The native head's logits, one per class.
    pub logits: Vec<f32>,
    /// Softmax of `logits`.
    pub probs: Vec<f32>,
    /// Index of the largest logit (the first on a tie), into the package's `classes`.
    pub class: usize,
    /// The backbone features the head took, `feat_mmwave`, `feat_wifi`, `feat_rfid`.
    pub features: [Vec<f32>; 3],
    /// The modalities the fusion took: the present ones less those the norm guard set
    /// aside (see `dagr_head::admitted`).
    pub fused: [bool; 3],
}

/// An engine (the ONNX backbone) and the native head on top of it. The head's parameters
/// are owned here so they can be replaced (adapted) without reopening the engine.
pub struct Classifier {
    engine: Box<dyn Engine>,
    head_shape: HeadShape,
    head_params: Vec<f32>,
    /// The norm guard's band, when the package has one.
    norm_band: Option<NormBand>,
    outputs: EngineOutputs,
    z: Vec<f32>,
    fused: Vec<f32>,
    scores: Scores,
}

impl Classifier {
    /// Opens `kind` on the package's model, with the package's head.
    pub fn open(pkg: &ModelPackage, kind: EngineKind) -> Result<Classifier, InferError> {
        Self::open_with(pkg, kind, &EngineOptions::default())
    }

    /// [`Classifier::open`] with engine options (ONNX Runtime's thread count, the ONNX
    /// logits beside the native head's).
    pub fn open_with(
        pkg: &ModelPackage,
        kind: EngineKind,
        options: &EngineOptions,
    ) -> Result<Classifier, InferError> {
        let shape = pkg.head_shape();
        Ok(Classifier {
            engine: open_engine(pkg, kind, options)?,
            head_shape: shape,
            head_params: pkg.head_params().to_vec(),
            norm_band: pkg.norm_band(),
            outputs: EngineOutputs::default(),
            z: vec![0.0; MODALITIES * shape.embed_dim],
            fused: vec![0.0; shape.embed_dim],
            scores: Scores {
                logits: vec![0.0; shape.classes],
                probs: vec![0.0; shape.classes],
                ..Scores::default()
            },
        })
    }

    /// Which engine runs the backbone.
    pub fn engine_kind(&self) -> EngineKind {
        self.engine.kind()
    }

    /// Classifies one window: the engine's `feat_*`, the native head's logits (not the
    /// ONNX `logits`) over the modalities the norm guard admits, their softmax and argmax.
    pub fn classify(&mut self, input: &WindowInput<'_>) -> Result<&Scores, InferError> {
        self.engine.run(input, &mut self.outputs)?;
        std::mem::swap(&mut self.outputs.features, &mut self.scores.features);
        let feats = [0, 1, 2].map(|m| self.scores.features[m].as_slice());
        let head = Head::new(self.head_shape, &self.head_params)?;
        let mut act = Activations {
            z: &mut self.z,
            fused: &mut self.fused,
            logits: &mut self.scores.logits,
        };
        head.forward(feats, input.present, &mut act)?;
        self.scores.fused = input.present;
        if let Some(band) = &self.norm_band {
            let fused = admitted(act.z, input.present, band);
            if fused != input.present {
                // The embeddings do not depend on the mask: only the fusion is redone.
                head.forward(feats, fused, &mut act)?;
                self.scores.fused = fused;
            }
        }
        softmax(&self.scores.logits, &mut self.scores.probs);
        self.scores.class = argmax(&self.scores.logits);
        Ok(&self.scores)
    }

    /// The last window's result (what [`classify`](Self::classify) returned), for callers
    /// that keep its backbone features after the call (to adapt the head on them).
    pub fn last_scores(&self) -> &Scores {
        &self.scores
    }

    /// The ONNX model's own `logits` of the last window (the exported head's, over the
    /// `present` input: the graph has no norm guard), for checks that the native head
    /// agrees with it; `None` unless opened with [`EngineOptions::onnx_logits`].
    pub fn onnx_logits(&self) -> Option<&[f32]> {
        (!self.outputs.logits.is_empty()).then_some(self.outputs.logits.as_slice())
    }

    /// The head's dimensions.
    pub fn head_shape(&self) -> HeadShape {
        self.head_shape
    }

    /// The head's current parameters (`dagr_head::HeadShape`'s flat layout).
    pub fn head_params(&self) -> &[f32] {
        &self.head_params
    }

    /// The norm guard's band in use (the package's, or the one that came with a replaced
    /// head).
    pub fn norm_band(&self) -> Option<NormBand> {
        self.norm_band
    }

    /// Replaces the head (an adapted one) and its norm guard band (an adapted head's
    /// embeddings have other lengths, so its band comes with it) and returns the previous
    /// parameters, for rollback. Refused, and nothing changed, when `params` does not fit
    /// the head's shape.
    pub fn replace_head(
        &mut self,
        params: Vec<f32>,
        norm_band: Option<NormBand>,
    ) -> Result<Vec<f32>, InferError> {
        Head::new(self.head_shape, &params)?;
        self.norm_band = norm_band;
        Ok(std::mem::replace(&mut self.head_params, params))
    }
}

/// `probs = exp(logits - max) / sum`, stable for large logits.
fn softmax(logits: &[f32], probs: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (p, &l) in probs.iter_mut().zip(logits) {
        *p = (l - max).exp();
        sum += *p;
    }
    for p in probs.iter_mut() {
        *p /= sum;
    }
}

/// Index of the largest value, the first one on a tie (0 for an empty slice).
fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let mut probs = [0.0; 3];
        softmax(&[1000.0, 1000.0, 0.0], &mut probs);
        assert!((probs[0] - 0.5).abs() < 1e-6 && (probs[1] - 0.5).abs() < 1e-6);
        assert!(probs[2] < 1e-30);
        softmax(&[1.0, 2.0, 3.0], &mut probs);
        let e = [1f32.exp(), 2f32.exp(), 3f32.exp()];
        let sum: f32 = e.iter().sum();
        for (p, x) in probs.iter().zip(e) {
            assert!((p - x / sum).abs() < 1e-6);
        }
    }

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, -1.0]), 1);
        assert_eq!(argmax(&[-3.0, -2.0]), 1);
    }
}
