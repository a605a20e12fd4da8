//! The held-out part of the labelled windows that early stopping watches: a random,
//! per-class share, so every class keeps windows to learn from and, where it has enough,
//! some to validate on.

use crate::augment::Rng;
use crate::train_error::TrainError;

/// Fills `order` (one slot per window) with the window indices shuffled by `rng`, then
/// moves `round(fraction * n_c)` windows of each class `c` (at most `n_c - 1`, so a class
/// with one window keeps it for training) to the end. Returns the number of training
/// windows: `order[..k]` trains, `order[k..]` validates.
pub fn split_holdout(
    labels: &[u16],
    classes: usize,
    fraction: f32,
    rng: &mut Rng,
    order: &mut [u32],
) -> Result<usize, TrainError> {
    if order.len() != labels.len() {
        return Err(TrainError::Length {
            name: "order",
            expected: labels.len(),
            found: order.len(),
        });
    }
    if !(0.0..1.0).contains(&fraction) {
        return Err(TrainError::Setting {
            name: "holdout fraction",
            expected: "in [0, 1)",
        });
    }
    for (slot, i) in order.iter_mut().zip(0u32..) {
        *slot = i;
    }
    rng.shuffle(order);
    let mut end = order.len();
    for class in 0..classes {
        let label_of = |i: u32| usize::from(labels[i as usize]);
        let count = labels.iter().filter(|&&l| usize::from(l) == class).count();
        let quota = libm::roundf(fraction * count as f32) as usize;
        let quota = quota.min(count.saturating_sub(1));
        let (mut taken, mut i) = (0, 0);
        while i < end && taken < quota {
            if label_of(order[i]) == class {
                end -= 1;
                order.swap(i, end);
                taken += 1;
            } else {
                i += 1;
            }
        }
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_gives_its_share_and_keeps_one_to_train() {
        // class 0: 10 windows, class 1: 4, class 2: 1
        let mut labels = [0u16; 15];
        labels[10..14].fill(1);
        labels[14] = 2;
        let mut order = [0u32; 15];
        let k = split_holdout(&labels, 3, 0.25, &mut Rng::new(2), &mut order).unwrap();
        let count =
            |part: &[u32], c: u16| part.iter().filter(|&&i| labels[i as usize] == c).count();
        let (train, val) = order.split_at(k);
        assert_eq!([count(val, 0), count(val, 1), count(val, 2)], [3, 1, 0]);
        assert_eq!(
            [count(train, 0), count(train, 1), count(train, 2)],
            [7, 3, 1]
        );
        let mut all = order;
        all.sort_unstable();
        assert!(
            all.iter().zip(0u32..).all(|(&a, b)| a == b),
            "a permutation"
        );
    }

    #[test]
    fn a_fraction_of_one_is_refused() {
        let err = split_holdout(&[0, 1], 2, 1.0, &mut Rng::new(0), &mut [0; 2]).unwrap_err();
        assert!(matches!(
            err,
            TrainError::Setting {
                name: "holdout fraction",
                ..
            }
        ));
    }
}
