//! The norm guard's band carried over to an adapted head.
//!
//! The band (`head.norm_band`, see `dagr_head::admitted`) bounds each modality's embedding
//! norm `|z_m|`, and `z_m` is the head's projection of the backbone's features: adapting the
//! head changes it. Measured on the reference adapted to room 50 (`dagr adapt`, two 300 s
//! captures): its embeddings came out ~1.2x longer on every modality, and under the source's
//! band 7.2 % of clean held-out windows had a modality set aside (0.7 % for the source
//! head), costing 0.030 of accuracy. So an adapted head gets its own band, and it is made
//! the way the source's was made as far as the gateway can: each bound moves with how much
//! longer (or shorter) the adapted projection makes that modality's embeddings of the same
//! windows, the median ratio over the adaptation's windows where the modality is present
//! and inside the source band under the source head (a noisy spell among them, out of band,
//! does not count; the median ignores a few odd windows). The 0.999 quantile itself cannot
//! be redrawn: a few hundred labeled windows from the user's room are not the clean
//! validation set it was chosen on. A modality without such a window keeps its bound.
use dagr_head::{embedding_norms, Activations, Head, HeadShape, NormBand, MODALITIES};

use super::{AdaptError, LabeledFeatures};

/// How [`follow_band`] moved each bound, recorded in the adapted package's model.json.
pub const FOLLOW_RULE: &str = "each bound times the median, over the adaptation's windows \
    where the modality is present and inside the source band under the source head, of \
    |z_m| under the adapted head over |z_m| under the source head; a modality without such \
    a window keeps its bound";

/// An adapted head's band and how it was derived from the source head's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowedBand {
    /// The source head's band.
    pub source: NormBand,
    /// The adapted head's band: `source[m] * ratio[m]`.
    pub bounds: NormBand,
    /// Per modality, the median of `|z_m adapted| / |z_m source|` (1 when no window
    /// counted).
    pub ratio: [f32; MODALITIES],
    /// Per modality, the windows the median was taken over.
    pub windows: [usize; MODALITIES],
}

/// The band of head `adapted` that corresponds to `band` of head `source` (both of
/// `shape`), measured on `data`'s windows (see the [module doc](self)).
pub fn follow_band(
    band: &NormBand,
    shape: HeadShape,
    source: &[f32],
    adapted: &[f32],
    data: &LabeledFeatures,
) -> Result<FollowedBand, AdaptError> {
    let train = |e| AdaptError::Train(dagr_head::TrainError::Head(e));
    let source = Head::new(shape, source).map_err(train)?;
    let adapted = Head::new(shape, adapted).map_err(train)?;
    let mut ratios: [Vec<f32>; MODALITIES] = Default::default();
    let mut buffers = Buffers::new(shape);
    let windows = data.windows();
    for i in 0..windows.len() {
        let feats: [&[f32]; MODALITIES] =
            std::array::from_fn(|m| windows.feat(m, i, shape.feat_dim));
        let before = buffers.norms(&source, feats).map_err(train)?;
        let after = buffers.norms(&adapted, feats).map_err(train)?;
        for (m, kept) in ratios.iter_mut().enumerate() {
            let inside = windows.present[i][m] && before[m] > 0.0 && before[m] <= band[m];
            let ratio = after[m] / before[m];
            if inside && ratio.is_finite() {
                kept.push(ratio);
            }
        }
    }
    let ratio = ratios.each_mut().map(|r| median(r).unwrap_or(1.0));
    Ok(FollowedBand {
        source: *band,
        bounds: std::array::from_fn(|m| band[m] * ratio[m]),
        ratio,
        windows: ratios.each_ref().map(Vec::len),
    })
}

/// One window's forward buffers, reused.
struct Buffers {
    z: Vec<f32>,
    fused: Vec<f32>,
    logits: Vec<f32>,
}

impl Buffers {
    fn new(shape: HeadShape) -> Self {
        Buffers {
            z: vec![0.0; MODALITIES * shape.embed_dim],
            fused: vec![0.0; shape.embed_dim],
            logits: vec![0.0; shape.classes],
        }
    }

    /// `|z_m|` of each modality under `head`.
    fn norms(
        &mut self,
        head: &Head<'_>,
        feats: [&[f32]; MODALITIES],
    ) -> Result<[f32; MODALITIES], dagr_head::HeadError> {
        let mut act = Activations {
            z: &mut self.z,
            fused: &mut self.fused,
            logits: &mut self.logits,
        };
        head.forward(feats, [true; MODALITIES], &mut act)?;
        Ok(embedding_norms(act.z))
    }
}

/// The median of `values` (the mean of the two middle ones for an even count), `None` for
/// none. Reorders `values`.
fn median(values: &mut [f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f32::total_cmp);
    let n = values.len();
    Some(match n % 2 {
        1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagr_head::ParamBlock;

    const SHAPE: HeadShape = HeadShape {
        feat_dim: 2,
        embed_dim: 2,
        classes: 2,
        fusion_weights: dagr_head::EQUAL_FUSION,
    };

    /// A head whose projections are `scale[m]` times the identity.
    fn scaled(scale: [f32; MODALITIES]) -> Vec<f32> {
        let mut params = vec![0.0; SHAPE.param_count()];
        for (m, s) in scale.iter().enumerate() {
            let w = &mut params[SHAPE.range(ParamBlock::ProjWeight(m))];
            w[0] = *s;
            w[3] = *s;
        }
        params
    }

    /// Windows whose every modality's features are `f` (each of norm |f|).
    fn windows(rows: &[([f32; 2], [bool; MODALITIES])]) -> LabeledFeatures {
        let mut data = LabeledFeatures::new(SHAPE);
        for (i, (f, present)) in rows.iter().enumerate() {
            data.push([f, f, f], *present, 0, i as f64).unwrap();
        }
        data
    }

    #[test]
    fn each_bound_moves_with_its_modality_s_embedding_length() {
        let data = windows(&[
            ([3.0, 4.0], [true; 3]),
            ([0.6, 0.8], [true; 3]),
            ([1.0, 0.0], [true, true, false]),
        ]);
        let band = [10.0, 10.0, 10.0];
        let f = follow_band(
            &band,
            SHAPE,
            &scaled([1.0; 3]),
            &scaled([2.0, 0.5, 1.0]),
            &data,
        )
        .unwrap();
        assert_eq!(f.bounds, [20.0, 5.0, 10.0]);
        assert_eq!(f.ratio, [2.0, 0.5, 1.0]);
        assert_eq!(f.windows, [3, 3, 2]);
        assert_eq!(f.source, band);
    }

    #[test]
    fn windows_out_of_the_source_band_and_absent_modalities_do_not_count() {
        // The long window (norm 50, a noisy spell) is out of the source band of 10.
        let data = windows(&[([30.0, 40.0], [true; 3]), ([3.0, 4.0], [true, false, true])]);
        let source = scaled([1.0; 3]);
        let adapted = scaled([3.0; 3]);
        let f = follow_band(&[10.0; 3], SHAPE, &source, &adapted, &data).unwrap();
        assert_eq!(f.windows, [1, 0, 1]);
        assert_eq!(f.ratio, [3.0, 1.0, 3.0]);
        assert_eq!(f.bounds, [30.0, 10.0, 30.0]);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
