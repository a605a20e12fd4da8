//! The reader's frequency plan and its pseudo-random frequency hopping.
//!
//! FCC part 15.247 (the US 902–928 MHz band) as Impinj readers use it: 50 channels,
//! 500 kHz apart, centred at 902.75 + 0.5·(k − 1) MHz for k = 1..=50. LLRP's ChannelIndex
//! is that 1-based k (the reader's frequency table is sorted by frequency). The reader
//! stays on one channel for a dwell of 0.2–0.4 s (below the FCC's 0.4 s limit) and visits
//! the channels in a shuffled order, reshuffled after every 50 hops, so every channel is
//! used equally often, as the FCC requires.
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Number of channels in the FCC plan.
pub const FCC_CHANNELS: u16 = 50;
/// Centre frequency of channel 1, Hz.
pub const FCC_FIRST_HZ: f64 = 902.75e6;
/// Channel spacing, Hz.
pub const FCC_SPACING_HZ: f64 = 0.5e6;

/// Centre frequency of FCC channel `index` (1-based LLRP ChannelIndex), Hz. Indices
/// outside 1..=50 are clamped into the band.
pub fn frequency_hz(index: u16) -> f64 {
    let k = index.clamp(1, FCC_CHANNELS);
    FCC_FIRST_HZ + f64::from(k - 1) * FCC_SPACING_HZ
}

/// Wavelength of FCC channel `index`, m (λ = c / f).
pub fn wavelength_m(index: u16) -> f64 {
    crate::C / frequency_hz(index)
}

/// The channel the reader transmits on over time: a seeded pseudo-random hop sequence.
///
/// Queries must come in non-decreasing time (the renderer's reads do); an earlier time
/// gets the current channel.
#[derive(Debug, Clone)]
pub struct HopSequence {
    rng: ChaCha8Rng,
    order: Vec<u16>,
    next_in_order: usize,
    dwell_s: (f64, f64),
    current: u16,
    dwell_end_s: f64,
}

impl HopSequence {
    /// A hop sequence starting at time 0, dwelling uniformly `dwell_s.0..dwell_s.1` seconds
    /// per channel (bounded to 1 ms..=1e6 s).
    pub fn new(seed: u64, dwell_s: (f64, f64)) -> Self {
        let lo = bounded(dwell_s.0, 1e-3, 1e6);
        let mut hops = HopSequence {
            rng: ChaCha8Rng::seed_from_u64(seed),
            order: (1..=FCC_CHANNELS).collect(),
            next_in_order: usize::from(FCC_CHANNELS),
            dwell_s: (lo, bounded(dwell_s.1, lo, 1e6)),
            current: 1,
            dwell_end_s: 0.0,
        };
        hops.hop();
        hops
    }

    /// The 1-based channel index in use at time `t_s`.
    pub fn channel_at(&mut self, t_s: f64) -> u16 {
        while t_s >= self.dwell_end_s {
            self.hop();
        }
        self.current
    }

    fn hop(&mut self) {
        if self.next_in_order == self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.next_in_order = 0;
        }
        self.current = self.order[self.next_in_order];
        self.next_in_order += 1;
        let (lo, hi) = self.dwell_s;
        let dwell = if hi > lo {
            self.rng.random_range(lo..hi)
        } else {
            lo
        };
        self.dwell_end_s += dwell;
    }
}

/// `v` clamped into `lo..=hi`, NaN taken as `lo`.
fn bounded(v: f64, lo: f64, hi: f64) -> f64 {
    if v.is_nan() {
        lo
    } else {
        v.clamp(lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_spans_902_75_to_927_25_mhz_in_500_khz_steps() {
        assert_eq!(frequency_hz(1), 902.75e6);
        assert_eq!(frequency_hz(50), 927.25e6);
        assert_eq!(frequency_hz(2) - frequency_hz(1), 0.5e6);
        assert_eq!(frequency_hz(0), frequency_hz(1));
        assert!((wavelength_m(1) - 0.33209).abs() < 1e-4);
    }

    #[test]
    fn hops_visit_every_channel_once_per_50_dwells_of_0_2_to_0_4_s() {
        let mut hops = HopSequence::new(7, (0.2, 0.4));
        let mut seen = Vec::new();
        let mut changes = Vec::new();
        let mut last = hops.channel_at(0.0);
        seen.push(last);
        let mut t = 0.0;
        while seen.len() < 50 {
            t += 1e-3;
            let ch = hops.channel_at(t);
            if ch != last {
                changes.push(t);
                seen.push(ch);
                last = ch;
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=50).collect::<Vec<u16>>());
        for pair in changes.windows(2) {
            let dwell = pair[1] - pair[0];
            assert!((0.199..=0.401).contains(&dwell), "dwell {dwell}");
        }
    }

    #[test]
    fn nonsense_dwells_are_bounded_instead_of_hanging_or_panicking() {
        for dwell in [
            (f64::NAN, f64::NAN),
            (0.0, 0.0),
            (0.3, f64::INFINITY),
            (0.5, 0.1),
        ] {
            let mut hops = HopSequence::new(1, dwell);
            let ch = hops.channel_at(10.0);
            assert!((1..=FCC_CHANNELS).contains(&ch));
        }
    }

    #[test]
    fn same_seed_same_hops_other_seed_other_hops() {
        let trace = |seed| {
            let mut h = HopSequence::new(seed, (0.2, 0.4));
            (0..100)
                .map(|i| h.channel_at(i as f64 * 0.1))
                .collect::<Vec<_>>()
        };
        assert_eq!(trace(1), trace(1));
        assert_ne!(trace(1), trace(2));
    }
}
