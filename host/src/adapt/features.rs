//! Labeled windows as the head trainer needs them: the frozen backbone's `feat_*` of each
//! window (computed once, cached here), its presence mask, class and start time.
use dagr_head::{HeadShape, Windows, MODALITIES};
use dagr_infer::MODALITY_NAMES;

use super::AdaptError;

/// Labeled windows with cached backbone features, owned and growable (a bounded buffer
/// drops its oldest windows with [`remove_oldest`](Self::remove_oldest)).
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledFeatures {
    shape: HeadShape,
    /// Per modality, one row of `feat_dim` values per window.
    feats: [Vec<f32>; MODALITIES],
    present: Vec<[bool; MODALITIES]>,
    labels: Vec<u16>,
    /// Each window's start, s (gateway time).
    times: Vec<f64>,
}

impl LabeledFeatures {
    /// No windows yet, for a head of `shape`.
    pub fn new(shape: HeadShape) -> Self {
        LabeledFeatures {
            shape,
            feats: Default::default(),
            present: Vec::new(),
            labels: Vec::new(),
            times: Vec::new(),
        }
    }

    /// Adds a window: its `features` (`feat_mmwave`, `feat_wifi`, `feat_rfid`, each
    /// `feat_dim` long), which modalities it had, its class index and start `t` (s).
    /// Refused, and nothing added, when a length or the class does not fit the head.
    pub fn push(
        &mut self,
        features: [&[f32]; MODALITIES],
        present: [bool; MODALITIES],
        label: u16,
        t: f64,
    ) -> Result<(), AdaptError> {
        let dim = self.shape.feat_dim;
        for (name, f) in MODALITY_NAMES.iter().zip(features) {
            if f.len() != dim {
                return Err(AdaptError::Shape {
                    what: format!("feat_{name} of a window"),
                    expected: format!("{dim} values (the head's feat_dim)"),
                    found: format!("{} values", f.len()),
                });
            }
        }
        if usize::from(label) >= self.shape.classes {
            return Err(AdaptError::Label {
                label,
                classes: self.shape.classes,
            });
        }
        for (rows, f) in self.feats.iter_mut().zip(features) {
            rows.extend_from_slice(f);
        }
        self.present.push(present);
        self.labels.push(label);
        self.times.push(t);
        Ok(())
    }

    /// The head shape the features are for.
    pub fn shape(&self) -> HeadShape {
        self.shape
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True without windows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Windows per class index, `0..classes`.
    pub fn per_class(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        counts
    }

    /// Drops the `n` oldest windows (in insertion order; all of them if fewer).
    pub fn remove_oldest(&mut self, n: usize) {
        let n = n.min(self.len());
        let dim = self.shape.feat_dim;
        for rows in &mut self.feats {
            rows.drain(..n * dim);
        }
        self.present.drain(..n);
        self.labels.drain(..n);
        self.times.drain(..n);
    }

    /// Each window's class index.
    pub fn labels(&self) -> &[u16] {
        &self.labels
    }

    /// Each window's start, s.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The windows as the trainer borrows them.
    pub fn windows(&self) -> Windows<'_> {
        Windows {
            feats: [0, 1, 2].map(|m| self.feats[m].as_slice()),
            present: &self.present,
            labels: &self.labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: HeadShape = HeadShape {
        feat_dim: 2,
        embed_dim: 2,
        classes: 3,
        fusion_weights: dagr_head::EQUAL_FUSION,
    };

    #[test]
    fn push_checks_lengths_and_classes_and_remove_oldest_keeps_the_newest() {
        let mut data = LabeledFeatures::new(SHAPE);
        for (i, label) in [0u16, 2, 2].into_iter().enumerate() {
            let v = i as f32;
            data.push([&[v, v], &[v, v], &[v, v]], [true; 3], label, f64::from(v))
                .unwrap();
        }
        let err = data
            .push([&[0.0, 0.0], &[0.0], &[0.0, 0.0]], [true; 3], 0, 9.0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "feat_wifi of a window: expected 2 values (the head's feat_dim), found 1 values"
        );
        let err = data.push([&[0.0; 2]; 3], [true; 3], 3, 9.0).unwrap_err();
        assert_eq!(err.to_string(), "label 3: the head has 3 classes (0 to 2)");
        assert_eq!(data.len(), 3, "refused windows are not added");
        assert_eq!(data.per_class(3), [1, 0, 2]);
        data.remove_oldest(2);
        assert_eq!((data.labels(), data.times()), (&[2u16][..], &[2.0][..]));
        assert_eq!(data.windows().feats[1], &[2.0, 2.0]);
        data.remove_oldest(5);
        assert!(data.is_empty());
    }
}
