//! Labeled windows from captures: each capture's labels checked against the model's
//! classes first (before any window is computed), then its windows recognized as `dagr
//! replay --model` recognizes them ([`recognize_capture_features`]), and each window whose
//! centre a label covers cached with its backbone features and class.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{AdaptError, LabeledFeatures};
use crate::capture::{CaptureReader, Label};
use crate::recognize::replay::{recognize_capture_features, ReplayError};
use crate::recognize::Recognizer;

/// The labeled windows of some captures, and what the starting head made of them.
#[derive(Debug, Clone)]
pub struct CaptureFeatures {
    /// Every labeled window's features, presence, class and start.
    pub features: LabeledFeatures,
    /// Per capture, in the order given.
    pub captures: Vec<CaptureWindows>,
    /// Damaged captures' warnings and losses (their readable part was used).
    pub warnings: Vec<String>,
}

/// One capture's share of the labeled windows.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureWindows {
    /// The capture.
    pub path: PathBuf,
    /// Its labeled windows of a class the model has.
    pub windows: u64,
    /// The starting head's accuracy on them.
    pub start_accuracy: Option<f64>,
}

/// Recognizes every window of `captures` with `recognizer` and keeps the labeled ones'
/// features; `on_capture` sees each capture's share as it is done (progress on long runs). Refused before any window is computed when a capture has no labels or a label
/// names a class the model does not have; after, when a labeled class got no window.
pub fn features_from_captures(
    captures: &[PathBuf],
    recognizer: &mut Recognizer,
    on_capture: &mut dyn FnMut(&CaptureWindows),
) -> Result<CaptureFeatures, AdaptError> {
    let classes: Vec<String> = recognizer.package().classes().to_vec();
    let mut labeled_in: BTreeMap<String, Vec<&Path>> = BTreeMap::new();
    for path in captures {
        for label in checked_labels(path, &classes)? {
            let files = labeled_in.entry(label.class).or_default();
            if !files.contains(&path.as_path()) {
                files.push(path);
            }
        }
    }
    let mut out = CaptureFeatures {
        features: LabeledFeatures::new(recognizer.package().head_shape()),
        captures: Vec::new(),
        warnings: Vec::new(),
    };
    for path in captures {
        let features = &mut out.features;
        let mut failure = None;
        let summary = recognize_capture_features(path, recognizer, &mut |p, feats| {
            let Some(label) = &p.label else {
                return Ok(());
            };
            let Some(class) = classes.iter().position(|c| **c == **label) else {
                return Ok(()); // checked above: cannot happen
            };
            if let Err(e) = features.push(feats, p.present, class as u16, p.start) {
                failure = Some(e);
            }
            Ok(())
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        let tally = &summary.tally;
        let done = CaptureWindows {
            path: path.clone(),
            windows: tally.scored(),
            start_accuracy: tally.accuracy(),
        };
        on_capture(&done);
        out.captures.push(done);
        let damage = [&summary.capture.warning, &summary.capture.lost];
        for text in damage.into_iter().flatten() {
            out.warnings.push(text.clone());
        }
    }
    check_every_labeled_class_has_windows(&out.features, &classes, &labeled_in, recognizer)?;
    Ok(out)
}

/// The capture's labels, refused when there are none or one names an unknown class.
fn checked_labels(path: &Path, classes: &[String]) -> Result<Vec<Label>, AdaptError> {
    let (_, labels) =
        CaptureReader::catalog(path).map_err(|e| AdaptError::from(ReplayError::Capture(e)))?;
    if labels.is_empty() {
        return Err(AdaptError::NoLabels {
            file: path.to_path_buf(),
        });
    }
    if let Some(bad) = labels.iter().find(|l| !classes.contains(&l.class)) {
        return Err(AdaptError::UnknownClass {
            file: path.to_path_buf(),
            class: bad.class.clone(),
            start: bad.start,
            end: bad.end,
            known: classes.join(", "),
        });
    }
    Ok(labels)
}

/// Every class some label names got at least one window.
fn check_every_labeled_class_has_windows(
    features: &LabeledFeatures,
    classes: &[String],
    labeled_in: &BTreeMap<String, Vec<&Path>>,
    recognizer: &Recognizer,
) -> Result<(), AdaptError> {
    let counts = features.per_class(classes.len());
    for (class, files) in labeled_in {
        let index = classes.iter().position(|c| c == class);
        if index.is_some_and(|i| counts[i] > 0) {
            continue;
        }
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let package = recognizer.package();
        return Err(AdaptError::ClassWithoutWindows {
            class: class.clone(),
            files: files.join(", "),
            window_s: package.window_s(),
            hop_s: package.hop_s(),
        });
    }
    Ok(())
}
