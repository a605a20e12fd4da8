//! Which classes the task loss compares a window's label against.
//!
//! Adapting a head to labeled windows of some activities must not teach it that the others
//! never happen. With every class in the softmax, each step lowers the logits of the classes
//! no window shows, and a head adapted on a few activities stops predicting the rest
//! (measured in models/reports/adapt-few-2026-12-06.md). Comparing each label
//! only with the labeled classes leaves the other classes' logits out of the loss.

/// Classes a [`ClassSet`] can hold besides "all of them".
pub const CLASS_SET_CAPACITY: usize = 256;

const WORDS: usize = CLASS_SET_CAPACITY / 64;

/// A set of class indices: every class, or some of the first [`CLASS_SET_CAPACITY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassSet {
    bits: [u64; WORDS],
    all: bool,
}

impl ClassSet {
    /// Every class: the plain cross-entropy of training.
    pub const ALL: ClassSet = ClassSet {
        bits: [0; WORDS],
        all: true,
    };

    /// No class (add some with [`ClassSet::insert`]).
    pub const fn empty() -> ClassSet {
        ClassSet {
            bits: [0; WORDS],
            all: false,
        }
    }

    /// The classes of `labels`; `None` when one is at or beyond [`CLASS_SET_CAPACITY`].
    pub fn of_labels(labels: impl IntoIterator<Item = u16>) -> Option<ClassSet> {
        let mut set = ClassSet::empty();
        for label in labels {
            if !set.insert(usize::from(label)) {
                return None;
            }
        }
        Some(set)
    }

    /// Adds `class`; false (nothing added) when it is beyond [`CLASS_SET_CAPACITY`].
    pub fn insert(&mut self, class: usize) -> bool {
        if class >= CLASS_SET_CAPACITY {
            return false;
        }
        self.bits[class / 64] |= 1 << (class % 64);
        true
    }

    /// Whether `class` is in the set.
    pub fn contains(&self, class: usize) -> bool {
        self.all || (class < CLASS_SET_CAPACITY && self.bits[class / 64] & (1 << (class % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_the_labels_given_and_all_holds_everything() {
        let set = ClassSet::of_labels([3u16, 0, 3, 200]).unwrap();
        let members: [bool; 6] = core::array::from_fn(|c| set.contains(c));
        assert_eq!(members, [true, false, false, true, false, false]);
        assert!(set.contains(200) && !set.contains(199) && !set.contains(10_000));
        assert!(ClassSet::ALL.contains(0) && ClassSet::ALL.contains(10_000));
        assert!(!ClassSet::empty().contains(0));
        assert_eq!(ClassSet::of_labels([256u16]), None);
    }
}
