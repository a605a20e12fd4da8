//! Labelled windows as the trainer sees them: the frozen backbone's cached `feat_*`, the
//! presence mask and the class of each window, borrowed from the caller.

use crate::shape::{HeadShape, MODALITIES};
use crate::train_error::TrainError;

/// `n` labelled windows: `feats[m]` holds modality `m`'s feature vectors row after row
/// (`n * feat_dim` values), `present[i]` says which modalities window `i` has, `labels[i]`
/// is its class index. A view: nothing is copied.
#[derive(Clone, Copy, Debug)]
pub struct Windows<'a> {
    /// Per modality (mmwave, wifi, rfid), `n` rows of `feat_dim` values.
    pub feats: [&'a [f32]; MODALITIES],
    /// Which modalities each window has.
    pub present: &'a [[bool; MODALITIES]],
    /// Each window's class, an index into the head's classes.
    pub labels: &'a [u16],
}

impl<'a> Windows<'a> {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there is no window.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Modality `m`'s features of window `i` (lengths checked by [`Windows::check`]).
    pub fn feat(&self, m: usize, i: usize, feat_dim: usize) -> &'a [f32] {
        &self.feats[m][i * feat_dim..(i + 1) * feat_dim]
    }

    /// Checks every length against `shape` and every label against its classes, so later
    /// indexing cannot fail; the error names the field and what was expected.
    pub fn check(&self, shape: HeadShape) -> Result<(), TrainError> {
        let n = self.len();
        if self.present.len() != n {
            return Err(TrainError::Length {
                name: "present",
                expected: n,
                found: self.present.len(),
            });
        }
        const NAMES: [&str; MODALITIES] = ["feat_mmwave", "feat_wifi", "feat_rfid"];
        for (name, feats) in NAMES.iter().zip(self.feats) {
            if feats.len() != n * shape.feat_dim {
                return Err(TrainError::Length {
                    name,
                    expected: n * shape.feat_dim,
                    found: feats.len(),
                });
            }
        }
        match self
            .labels
            .iter()
            .position(|&l| usize::from(l) >= shape.classes)
        {
            Some(index) => Err(TrainError::Label {
                index,
                label: self.labels[index],
                classes: shape.classes,
            }),
            None => Ok(()),
        }
    }
}
