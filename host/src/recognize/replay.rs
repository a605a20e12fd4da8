//! A capture recognized window by window: every chunk through the gateway's pipeline at full
//! speed (as `dagr dataset export` cuts it, so a window here is the same window a training
//! shard holds), each window through the [`Recognizer`], labeled with the capture's label
//! covering its centre (the dataset's rule, [`label_at`]).
use std::path::Path;
use std::sync::Arc;

use super::{Prediction, RecognizeError, Recognizer, Tally};
use crate::capture::{seconds, CaptureError, CaptureReader};
use crate::dataset::label_at;
use crate::dataset::windows::{replay_windows, ReplayTally};

/// Why a capture could not be recognized.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The capture cannot be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// A window could not be recognized.
    #[error("{}", path.display())]
    Recognize {
        /// The capture.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: Box<RecognizeError>,
    },
    /// The caller's handler failed (writing output).
    #[error("writing predictions")]
    Output(#[source] std::io::Error),
}

/// What a recognized replay leaves besides its predictions.
#[derive(Debug)]
pub struct ReplaySummary {
    /// Predictions against the labels.
    pub tally: Tally,
    /// Records decoded, and the reader's warning and loss for a damaged capture.
    pub capture: ReplayTally,
}

/// Recognizes every window of `path`, handing each prediction to `each` in time order.
pub fn recognize_capture(
    path: &Path,
    recognizer: &mut Recognizer,
    each: &mut dyn FnMut(&Prediction) -> std::io::Result<()>,
) -> Result<ReplaySummary, ReplayError> {
    recognize_capture_features(path, recognizer, &mut |p, _| each(p))
}

/// The backbone features of one window: `feat_mmwave`, `feat_wifi`, `feat_rfid`.
pub type WindowFeatures<'a> = [&'a [f32]; 3];

/// [`recognize_capture`], handing `each` the window's backbone features (`feat_mmwave`,
/// `feat_wifi`, `feat_rfid`) beside its prediction: what head adaptation caches.
pub fn recognize_capture_features(
    path: &Path,
    recognizer: &mut Recognizer,
    each: &mut dyn FnMut(&Prediction, WindowFeatures<'_>) -> std::io::Result<()>,
) -> Result<ReplaySummary, ReplayError> {
    let labels = CaptureReader::labels(path)?;
    let mut tally = Tally::new(recognizer.classes().clone());
    let mut failure: Option<ReplayError> = None;
    let config = recognizer.sync_config();
    let (capture, _) = replay_windows(path, config, &mut |window| {
        if failure.is_some() {
            return;
        }
        let centre = seconds(window.start_ns + (window.end_ns - window.start_ns) / 2);
        let label = label_at(&labels, centre).map(|l| Arc::from(l.class.as_str()));
        match recognizer.recognize(window, label) {
            Ok(prediction) => {
                tally.add(&prediction);
                if let Err(e) = each(&prediction, recognizer.last_features()) {
                    failure = Some(ReplayError::Output(e));
                }
            }
            Err(source) => {
                failure = Some(ReplayError::Recognize {
                    path: path.to_path_buf(),
                    source: Box::new(source),
                })
            }
        }
    })?;
    match failure {
        Some(e) => Err(e),
        None => Ok(ReplaySummary { tally, capture }),
    }
}
