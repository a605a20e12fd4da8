//! Sensor outages and noisy spells: the times a simulated device sends nothing, or sends
//! worse data, so training data exercises the presence mask and robustness.
//!
//! Per device, independently and from the seed alone (never from the schedule, so no spell
//! marks where a label starts or ends): outages start as a Poisson process with a mean gap
//! of [`OUTAGE_EVERY_S`] and last [`OUTAGE_S`] (a cable knocked loose, a board rebooting, a
//! reader busy; for WiFi also the access point all links listen to, so the whole modality
//! drops out); noisy spells start every [`NOISY_EVERY_S`] on average and last
//! [`NOISY_S`] (interference, a running microwave, a fan). What a spell does is up to the
//! device (see [`devices`](super::devices)).
use super::draw::{exponential, seeded, uniform, Stream};

/// Mean time between the starts of two outages of one device, s.
pub const OUTAGE_EVERY_S: f64 = 120.0;
/// Shortest and longest outage, s.
pub const OUTAGE_S: (f64, f64) = (2.0, 10.0);
/// Mean time between noisy spells of one device, s.
pub const NOISY_EVERY_S: f64 = 120.0;
/// Shortest and longest noisy spell, s.
pub const NOISY_S: (f64, f64) = (3.0, 12.0);

/// One device's outages and noisy spells, as sorted `[start, end)` intervals, s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spells {
    outages: Vec<(f64, f64)>,
    noisy: Vec<(f64, f64)>,
}

impl Spells {
    /// No spells at all.
    pub fn none() -> Spells {
        Spells::default()
    }

    /// The spells of device `device` under `seed`, up to scene time `horizon_s`.
    pub fn draw(seed: u64, device: u64, horizon_s: f64) -> Spells {
        let mut rng = seeded(Stream::Device, seed, device | 1 << 32);
        let mut intervals = |every: f64, (lo, hi): (f64, f64)| {
            let mut out = Vec::new();
            let mut t = exponential(&mut rng, every);
            while t < horizon_s {
                let end = t + uniform(&mut rng, lo, hi);
                out.push((t, end));
                t = end + exponential(&mut rng, every);
            }
            out
        };
        let outages = intervals(OUTAGE_EVERY_S, OUTAGE_S);
        let noisy = intervals(NOISY_EVERY_S, NOISY_S);
        Spells { outages, noisy }
    }

    /// These spells with `other`'s outages added (a shared cause: the access point all
    /// WiFi receivers listen to going quiet silences every link at once).
    pub fn with_outages_of(mut self, other: &Spells) -> Spells {
        self.outages.extend_from_slice(&other.outages);
        self.outages.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(self.outages.len());
        for (start, end) in self.outages {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        self.outages = merged;
        self
    }

    /// True when the device sends nothing at `t`.
    pub fn out_at(&self, t: f64) -> bool {
        within(&self.outages, t)
    }

    /// True when the device is in a noisy spell at `t`.
    pub fn noisy_at(&self, t: f64) -> bool {
        within(&self.noisy, t)
    }

    /// Total outage time before `t`, s.
    pub fn outage_before(&self, t: f64) -> f64 {
        self.outages
            .iter()
            .map(|&(a, b)| (b.min(t) - a).max(0.0))
            .sum()
    }
}

fn within(intervals: &[(f64, f64)], t: f64) -> bool {
    let i = intervals.partition_point(|&(start, _)| start <= t);
    i > 0 && t < intervals[i - 1].1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_take_their_expected_share_of_time_and_repeat_per_seed() {
        let horizon = 20_000.0;
        let spells = Spells::draw(4, 16, horizon);
        assert_eq!(spells, Spells::draw(4, 16, horizon));
        assert_ne!(spells, Spells::draw(4, 17, horizon));
        let mean_outage = (OUTAGE_S.0 + OUTAGE_S.1) / 2.0;
        let expected = mean_outage / (OUTAGE_EVERY_S + mean_outage);
        let share = spells.outage_before(horizon) / horizon;
        assert!((share - expected).abs() < 0.02, "{share} vs {expected}");
        let sampled = (0..20_000).filter(|&i| spells.out_at(f64::from(i))).count();
        assert!((sampled as f64 / 20_000.0 - share).abs() < 0.01);
    }

    #[test]
    fn shared_outages_merge_with_a_devices_own() {
        let own = Spells {
            outages: vec![(10.0, 14.0), (50.0, 52.0)],
            noisy: vec![(30.0, 31.0)],
        };
        let shared = Spells {
            outages: vec![(12.0, 20.0), (40.0, 41.0)],
            noisy: vec![(1.0, 100.0)],
        };
        let both = own.with_outages_of(&shared);
        for t in [11.0, 13.0, 19.0, 40.5, 51.0] {
            assert!(both.out_at(t), "{t}");
        }
        for t in [9.0, 20.5, 45.0, 53.0] {
            assert!(!both.out_at(t), "{t}");
        }
        assert!(
            both.noisy_at(30.5) && !both.noisy_at(60.0),
            "own noise only"
        );
    }

    #[test]
    fn no_spells_means_always_on_and_clean() {
        let s = Spells::none();
        assert!(!s.out_at(5.0) && !s.noisy_at(5.0));
        let drawn = Spells::draw(1, 0, 3000.0);
        assert!((0..3000).any(|i| drawn.noisy_at(f64::from(i))));
    }
}
