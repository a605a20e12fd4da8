//! One adaptation: the labeled windows split into training and held-out parts, the head
//! trained from its current parameters, and the validation gate's verdict.
use dagr_head::{
    arena_len, fit, split_holdout, EpochReport, FitReport, HeadShape, NormBand, Rng, Split,
};

use super::band::{follow_band, FollowedBand};
use super::{AdaptError, AdaptSettings, LabeledFeatures};

/// What an adaptation gives: the new parameters, the trainer's report and the gate's
/// verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptOutcome {
    /// The adapted head's parameters (the best seen on the held-out windows; the starting
    /// ones when no epoch beat them).
    pub params: Vec<f32>,
    /// Epochs, steps, and the held-out scores before and after.
    pub report: FitReport,
    /// The validation gate: true when the held-out windows were scored and the adapted
    /// head beats the starting one there (higher accuracy, or equal accuracy at a lower
    /// loss). A head that got no better, or could not be validated (no class had two
    /// windows), is not to be used.
    pub accepted: bool,
    /// Labeled windows used (training and held-out).
    pub windows: usize,
    /// Labeled windows per class index.
    pub per_class: Vec<usize>,
    /// The norm guard's band for the adapted head, when the start head had one (see
    /// [`follow_band`]).
    pub norm_band: Option<FollowedBand>,
}

/// Adapts the head `start` (of `shape`, norm guard band `start_band`) on `data` under
/// `settings`; `on_epoch` sees each epoch's report (progress). The trainer keeps the parameters that scored best on the
/// held-out windows, the starting ones included, so the adapted head is never worse there
/// than the start; [`AdaptOutcome::accepted`] says whether it is better.
pub fn adapt_head(
    start: &[f32],
    start_band: Option<&NormBand>,
    shape: HeadShape,
    data: &LabeledFeatures,
    settings: &AdaptSettings,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<AdaptOutcome, AdaptError> {
    check(start, shape, data)?;
    let (mut order, k) = holdout_order(shape, data, settings)?;
    let (train, val) = order.split_at_mut(k);
    let mut params = start.to_vec();
    let mut arena = vec![0.0f32; arena_len(shape, settings.train.batch)];
    let split = Split {
        windows: data.windows(),
        train,
        val,
    };
    let report = fit(
        shape,
        &mut params,
        split,
        &settings.train,
        &mut arena,
        on_epoch,
    )?;
    let accepted = report.before.is_some() && report.best_epoch > 0;
    let norm_band = start_band
        .map(|band| follow_band(band, shape, start, &params, data))
        .transpose()?;
    Ok(AdaptOutcome {
        params,
        report,
        accepted,
        windows: data.len(),
        per_class: data.per_class(shape.classes),
        norm_band,
    })
}

/// The window order [`adapt_head`] uses for `data` under `settings` (its seed and holdout
/// fraction): the first `k` windows train, the rest are held out for the gate.
pub fn holdout_order(
    shape: HeadShape,
    data: &LabeledFeatures,
    settings: &AdaptSettings,
) -> Result<(Vec<u32>, usize), AdaptError> {
    let mut order = vec![0u32; data.len()];
    let mut rng = Rng::new(settings.seed);
    let k = split_holdout(
        data.labels(),
        shape.classes,
        settings.holdout_fraction,
        &mut rng,
        &mut order,
    )?;
    Ok((order, k))
}

/// The start head and the data are for `shape`, and there is data.
fn check(start: &[f32], shape: HeadShape, data: &LabeledFeatures) -> Result<(), AdaptError> {
    if start.len() != shape.param_count() {
        return Err(AdaptError::Shape {
            what: "head parameters".into(),
            expected: format!("{} values (head {shape:?})", shape.param_count()),
            found: format!("{} values (a head from another model?)", start.len()),
        });
    }
    if data.shape() != shape {
        return Err(AdaptError::Shape {
            what: "labeled features".into(),
            expected: format!("features for head {shape:?}"),
            found: format!("features for head {:?}", data.shape()),
        });
    }
    if data.is_empty() {
        return Err(AdaptError::NoWindows);
    }
    Ok(())
}
