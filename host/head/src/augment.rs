//! Training-time augmentation that keeps an adapted head robust when a modality drops out
//! or turns noisy: modality dropout (a random non-empty subset of the present modalities,
//! as `dagr_train.dropout`) and additive Gaussian noise on the present features, driven by
//! a small deterministic generator so a run is reproducible from its seed on any target.

use crate::shape::MODALITIES;

/// SplitMix64: a tiny, well-mixed 64-bit generator; the same seed gives the same stream on
/// every platform.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    /// The second normal draw of the last Box-Muller pair, not yet handed out.
    spare: Option<f32>,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng {
            state: seed,
            spare: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, 24 random bits.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift (bias below 2^-32 for small n).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// A standard normal draw (Box-Muller; each pair of uniforms gives two draws).
    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: the log stays finite
        let u2 = self.uniform();
        let r = libm::sqrtf(-2.0 * libm::logf(u1));
        let (sin, cos) = libm::sincosf(core::f32::consts::TAU * u2);
        self.spare = Some(r * sin);
        r * cos
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// With probability `p`, keeps only a random non-empty subset of `present` (drawn
/// uniformly from the 7 subsets of three modalities); a subset sharing nothing with
/// `present` leaves it unchanged, as in training.
pub fn drop_modalities(present: [bool; MODALITIES], p: f32, rng: &mut Rng) -> [bool; MODALITIES] {
    if p <= 0.0 || rng.uniform() >= p {
        return present;
    }
    let subset = rng.below(7) + 1;
    let kept: [bool; MODALITIES] = core::array::from_fn(|m| present[m] && subset >> m & 1 == 1);
    if kept.iter().any(|&k| k) {
        kept
    } else {
        present
    }
}

/// Adds `sigma * N(0, 1)` to every value of `feat` (nothing when `sigma` is 0).
pub fn add_noise(feat: &mut [f32], sigma: f32, rng: &mut Rng) {
    if sigma == 0.0 {
        return;
    }
    for v in feat {
        *v += sigma * rng.normal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn normal_draws_have_zero_mean_and_unit_variance() {
        let mut rng = Rng::new(1);
        let n = 20_000;
        let (mut sum, mut sq) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let x = rng.normal() as f64;
            sum += x;
            sq += x * x;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }

    #[test]
    fn dropout_keeps_a_non_empty_subset_of_the_present_modalities() {
        let mut rng = Rng::new(3);
        let present = [true, false, true];
        let mut seen = [0usize; 8];
        for _ in 0..2000 {
            let kept = drop_modalities(present, 1.0, &mut rng);
            assert!(kept.iter().any(|&k| k), "never empty");
            assert!(!kept[1], "an absent modality never comes back");
            seen[kept
                .iter()
                .enumerate()
                .map(|(m, &k)| usize::from(k) << m)
                .sum::<usize>()] += 1;
        }
        // {mmwave}, {rfid} and {mmwave, rfid} all occur
        assert!(seen[1] > 0 && seen[4] > 0 && seen[5] > 0, "{seen:?}");
        assert_eq!(drop_modalities(present, 0.0, &mut rng), present);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut items = [0u32, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        Rng::new(5).shuffle(&mut items);
        let mut sorted = items;
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_ne!(items, sorted, "seed 5 moves something");
    }
}
