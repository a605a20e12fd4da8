//! The live gateway's memory of its last windows: for each recognized window its span in
//! gateway time, the backbone features the head took and its presence mask, so that a
//! label given afterwards ("that was walking, from t0 to t1", "the last 10 s were
//! falling") can find the windows it names and adapt the head on them without running the
//! backbone again.
//!
//! [`RecentWindows`] is a ring of fixed capacity whose storage is reserved when it is
//! made: recording a window copies its features into a slot and allocates nothing, the
//! oldest window giving way once the ring is full.

/// Why a window was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("window features of modality {modality}: {found} values, expected {expected}")]
pub struct FeatureLengthError {
    /// The modality's index (0 mmwave, 1 wifi, 2 rfid).
    pub modality: usize,
    /// The ring's feature length.
    pub expected: usize,
    /// What the window had.
    pub found: usize,
}

/// One recorded window, borrowed from the ring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecentWindow<'a> {
    /// Its start, gateway s.
    pub start: f64,
    /// Its end, gateway s (a prediction's `t`).
    pub end: f64,
    /// The backbone's `feat_mmwave`, `feat_wifi`, `feat_rfid`.
    pub features: [&'a [f32]; 3],
    /// Which modalities the model was given.
    pub present: [bool; 3],
}

/// The last `capacity` windows (see the [module doc](self)).
#[derive(Debug, Clone)]
pub struct RecentWindows {
    capacity: usize,
    feat_dim: usize,
    /// `capacity` slots of `3 * feat_dim` values.
    features: Vec<f32>,
    spans: Vec<(f64, f64)>,
    present: Vec<[bool; 3]>,
    /// The slot the next window goes to.
    next: usize,
    len: usize,
}

impl RecentWindows {
    /// A ring of `capacity` windows (at least 1) whose features are `feat_dim` long per
    /// modality, its storage reserved now.
    pub fn new(capacity: usize, feat_dim: usize) -> RecentWindows {
        let capacity = capacity.max(1);
        RecentWindows {
            capacity,
            feat_dim,
            features: vec![0.0; capacity * 3 * feat_dim],
            spans: vec![(0.0, 0.0); capacity],
            present: vec![[false; 3]; capacity],
            next: 0,
            len: 0,
        }
    }

    /// Records a window from `start` to `end` (gateway s); the oldest is forgotten when the
    /// ring is full. Features of the wrong length are refused and nothing changes.
    pub fn push(
        &mut self,
        start: f64,
        end: f64,
        features: [&[f32]; 3],
        present: [bool; 3],
    ) -> Result<(), FeatureLengthError> {
        for (modality, f) in features.iter().enumerate() {
            if f.len() != self.feat_dim {
                return Err(FeatureLengthError {
                    modality,
                    expected: self.feat_dim,
                    found: f.len(),
                });
            }
        }
        let slot = self.next;
        let base = slot * 3 * self.feat_dim;
        for (m, f) in features.iter().enumerate() {
            let at = base + m * self.feat_dim;
            self.features[at..at + self.feat_dim].copy_from_slice(f);
        }
        self.spans[slot] = (start, end);
        self.present[slot] = present;
        self.next = (slot + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        Ok(())
    }

    /// Windows held now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first window.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most windows held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Each modality's feature length.
    pub fn feat_dim(&self) -> usize {
        self.feat_dim
    }

    /// The gateway time the ring covers: the oldest window's start and the newest's end.
    pub fn coverage(&self) -> Option<(f64, f64)> {
        let oldest = self.iter().next()?;
        let newest = self.window(self.len - 1);
        Some((oldest.start, newest.end))
    }

    /// The windows from oldest to newest.
    pub fn iter(&self) -> impl Iterator<Item = RecentWindow<'_>> + '_ {
        (0..self.len).map(|i| self.window(i))
    }

    /// The windows lying wholly inside `from..=to` (gateway s), oldest first.
    pub fn within(&self, from: f64, to: f64) -> impl Iterator<Item = RecentWindow<'_>> + '_ {
        self.iter().filter(move |w| w.start >= from && w.end <= to)
    }

    /// The `i`-th window from the oldest (`i < len`).
    fn window(&self, i: usize) -> RecentWindow<'_> {
        let slot = (self.next + self.capacity - self.len + i) % self.capacity;
        let base = slot * 3 * self.feat_dim;
        let feature = |m: usize| {
            let at = base + m * self.feat_dim;
            &self.features[at..at + self.feat_dim]
        };
        let (start, end) = self.spans[slot];
        RecentWindow {
            start,
            end,
            features: [feature(0), feature(1), feature(2)],
            present: self.present[slot],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Window `i`: 2 s long every 0.5 s, every feature equal to `i`.
    fn push(ring: &mut RecentWindows, i: usize) {
        let f = vec![i as f32; ring.feat_dim()];
        let start = i as f64 * 0.5;
        ring.push(start, start + 2.0, [&f, &f, &f], [true, i % 2 == 0, true])
            .unwrap();
    }

    #[test]
    fn a_full_ring_forgets_its_oldest_windows_and_keeps_order() {
        let mut ring = RecentWindows::new(4, 3);
        assert_eq!(ring.coverage(), None);
        for i in 0..6 {
            push(&mut ring, i);
        }
        assert_eq!(ring.len(), 4);
        let kept: Vec<f32> = ring.iter().map(|w| w.features[1][0]).collect();
        assert_eq!(kept, [2.0, 3.0, 4.0, 5.0]);
        assert_eq!(ring.coverage(), Some((1.0, 4.5)));
        let last = ring.iter().last().unwrap();
        assert_eq!(last.present, [true, false, true]);
        assert_eq!(last.features[2], [5.0; 3]);
    }

    #[test]
    fn a_span_selects_the_windows_wholly_inside_it() {
        let mut ring = RecentWindows::new(16, 2);
        for i in 0..10 {
            push(&mut ring, i);
        }
        // Windows start at 0, 0.5, ... and last 2 s: [1, 3], [1.5, 3.5] and [2, 4] fit.
        let inside: Vec<f64> = ring.within(1.0, 4.0).map(|w| w.start).collect();
        assert_eq!(inside, [1.0, 1.5, 2.0]);
        assert_eq!(ring.within(100.0, 200.0).count(), 0);
    }

    #[test]
    fn features_of_the_wrong_length_are_refused_and_nothing_changes() {
        let mut ring = RecentWindows::new(2, 3);
        push(&mut ring, 0);
        let (good, short) = ([1.0; 3], [1.0; 2]);
        let error = ring
            .push(9.0, 11.0, [&good, &short, &good], [true; 3])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "window features of modality 1: 2 values, expected 3"
        );
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.coverage(), Some((0.0, 2.0)));
    }
}
