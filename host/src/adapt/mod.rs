//! Head adaptation: the frozen backbone's features of labeled windows ([`LabeledFeatures`],
//! from captures by [`features_from_captures`] or from labels given to a running gateway),
//! the head trained on them under the model's own DAGR objective ([`adapt_head`], with a
//! validation gate on held-out windows), and the adapted head written out as a complete
//! model package ([`write_package`]: head.safetensors, model.json with an
//! [`AdaptationRecord`], model.onnx carrying the new head) that any runtime loads.
//!
//! The training itself is `dagr-head`'s allocation-free core; this module gives it owned
//! buffers, settings from model.json and files. It must not know where labels come from
//! beyond captures, nor how a running gateway swaps its head.

mod band;
mod captures;
mod error;
mod features;
mod package;
mod record;
mod settings;
mod train;

pub use band::{follow_band, FollowedBand, FOLLOW_RULE};
pub use captures::{features_from_captures, CaptureFeatures, CaptureWindows};
pub use error::AdaptError;
pub use features::LabeledFeatures;
pub use package::{check_own_head, write_package, BAND_FOLLOWED, PARITY_DROPPED};
pub use record::AdaptationRecord;
pub use settings::AdaptSettings;
pub use train::{adapt_head, holdout_order, AdaptOutcome};

#[cfg(test)]
mod tests;
