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
use rand_chacha::ChaCha8Rng;

use super::draw::{exponential, seeded, uniform, Stream};

/// Mean time between the starts of two outages of one device, s.
pub const OUTAGE_EVERY_S: f64 = 120.0;
/// Shortest and longest outage, s.
pub const OUTAGE_S: (f64, f64) = (2.0, 10.0);
/// Mean time between noisy spells of one device, s.
pub const NOISY_EVERY_S: f64 = 120.0;
/// Shortest and longest noisy spell, s.
pub const NOISY_S: (f64, f64) = (3.0, 12.0);

/// One Poisson process of `[start, end)` intervals up to a horizon, drawn one at a time.
#[derive(Debug, Clone)]
struct IntervalDraw {
    rng: ChaCha8Rng,
    /// Start of the next interval, s (already drawn).
    t: f64,
    horizon: f64,
    every: f64,
    length: (f64, f64),
}

impl IntervalDraw {
    fn new(mut rng: ChaCha8Rng, horizon: f64, every: f64, length: (f64, f64)) -> IntervalDraw {
        let t = exponential(&mut rng, every);
        IntervalDraw {
            rng,
            t,
            horizon,
            every,
            length,
        }
    }

    /// The random stream once every interval before the horizon is drawn: where the next
    /// process starts (noisy spells follow all outages in one stream). Takes time in
    /// proportion to the horizon, memory not.
    fn rng_after_all(mut self) -> ChaCha8Rng {
        while self.next().is_some() {}
        self.rng
    }
}

impl Iterator for IntervalDraw {
    type Item = (f64, f64);

    fn next(&mut self) -> Option<(f64, f64)> {
        if self.t < self.horizon {
            let start = self.t;
            let end = start + uniform(&mut self.rng, self.length.0, self.length.1);
            self.t = end + exponential(&mut self.rng, self.every);
            Some((start, end))
        } else {
            None
        }
    }
}

/// Intervals in start order from one process, or from several merged (a tie goes to the
/// earlier process) with overlapping ones joined.
#[derive(Debug, Clone)]
struct Merged {
    parts: Vec<IntervalDraw>,
    /// Each part's next interval.
    heads: Vec<Option<(f64, f64)>>,
}

impl Merged {
    fn new(parts: Vec<IntervalDraw>) -> Merged {
        let mut parts = parts;
        let heads = parts.iter_mut().map(Iterator::next).collect();
        Merged { parts, heads }
    }

    /// The part whose next interval starts first (a tie: the earlier part) and that start.
    fn first_head(&self) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for (part, head) in self.heads.iter().enumerate() {
            if let Some((start, _)) = *head {
                if best.is_none_or(|(_, s)| start < s) {
                    best = Some((part, start));
                }
            }
        }
        best
    }

    /// The next interval of `part`, which is then drawn anew.
    fn take(&mut self, part: usize) -> Option<(f64, f64)> {
        let head = self.heads[part];
        self.heads[part] = self.parts[part].next();
        head
    }
}

impl Iterator for Merged {
    type Item = (f64, f64);

    fn next(&mut self) -> Option<(f64, f64)> {
        let (part, _) = self.first_head()?;
        let (start, mut end) = self.take(part)?;
        if self.parts.len() > 1 {
            while let Some((part, _)) = self.first_head().filter(|&(_, s)| s <= end) {
                if let Some((_, e)) = self.take(part) {
                    end = end.max(e);
                }
            }
        }
        Some((start, end))
    }
}

/// Where a device is in one kind of spell: the last interval started by the latest time
/// asked about and the next one, drawn as time advances.
#[derive(Debug, Clone)]
struct Intervals {
    /// The intervals from their first (for a look back before `current`).
    origin: Merged,
    draw: Merged,
    current: Option<(f64, f64)>,
    next: Option<(f64, f64)>,
}

impl Intervals {
    fn new(origin: Merged) -> Intervals {
        let mut draw = origin.clone();
        let next = draw.next();
        Intervals {
            origin,
            draw,
            current: None,
            next,
        }
    }

    /// True when `t` falls in an interval.
    fn contain(&mut self, t: f64) -> bool {
        if self.current.is_some_and(|(start, _)| t < start) {
            *self = Intervals::new(self.origin.clone());
        }
        while let Some(next) = self.next.filter(|&(start, _)| start <= t) {
            self.current = Some(next);
            self.next = self.draw.next();
        }
        self.current.is_some_and(|(_, end)| t < end)
    }
}

/// One device's outages and noisy spells, as `[start, end)` intervals drawn as the device
/// asks about later times: a device holds two intervals of each kind whatever the run's
/// length.
#[derive(Debug, Clone)]
pub struct Spells {
    outages: Intervals,
    noisy: Intervals,
    /// The outage processes, for [`with_outages_of`](Self::with_outages_of).
    outage_parts: Vec<IntervalDraw>,
}

impl Spells {
    /// No spells at all.
    pub fn none() -> Spells {
        let never = IntervalDraw::new(
            seeded(Stream::Device, 0, 0),
            f64::NEG_INFINITY,
            1.0,
            OUTAGE_S,
        );
        Spells::of(vec![never.clone()], never)
    }

    fn of(outage_parts: Vec<IntervalDraw>, noisy: IntervalDraw) -> Spells {
        Spells {
            outages: Intervals::new(Merged::new(outage_parts.clone())),
            noisy: Intervals::new(Merged::new(vec![noisy])),
            outage_parts,
        }
    }

    /// The spells of device `device` under `seed`, up to scene time `horizon_s`.
    pub fn draw(seed: u64, device: u64, horizon_s: f64) -> Spells {
        let rng = seeded(Stream::Device, seed, device | 1 << 32);
        let outages = IntervalDraw::new(rng, horizon_s, OUTAGE_EVERY_S, OUTAGE_S);
        let noisy = IntervalDraw::new(
            outages.clone().rng_after_all(),
            horizon_s,
            NOISY_EVERY_S,
            NOISY_S,
        );
        Spells::of(vec![outages], noisy)
    }

    /// These spells with `other`'s outages added (a shared cause: the access point all
    /// WiFi receivers listen to going quiet silences every link at once).
    pub fn with_outages_of(self, other: &Spells) -> Spells {
        let mut parts = self.outage_parts;
        parts.extend(other.outage_parts.iter().cloned());
        let noisy = self.noisy.origin;
        Spells {
            outages: Intervals::new(Merged::new(parts.clone())),
            noisy: Intervals::new(noisy),
            outage_parts: parts,
        }
    }

    /// True when the device sends nothing at `t` (`&mut`: the spells are drawn as `t`
    /// advances; the answer depends on `t` alone).
    pub fn out_at(&mut self, t: f64) -> bool {
        self.outages.contain(t)
    }

    /// True when the device is in a noisy spell at `t`.
    pub fn noisy_at(&mut self, t: f64) -> bool {
        self.noisy.contain(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spells as they were drawn before they were drawn as time advances: every interval up
    /// to the horizon, outages then noisy spells from one stream. The reference the lazy
    /// draw must reproduce.
    fn whole(seed: u64, device: u64, horizon_s: f64) -> [Vec<(f64, f64)>; 2] {
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
        [outages, noisy]
    }

    /// The old `with_outages_of`: both lists sorted together, overlapping ones joined.
    fn joined(mut own: Vec<(f64, f64)>, other: &[(f64, f64)]) -> Vec<(f64, f64)> {
        own.extend_from_slice(other);
        own.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for (start, end) in own {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    fn within(intervals: &[(f64, f64)], t: f64) -> bool {
        let i = intervals.partition_point(|&(start, _)| start <= t);
        i > 0 && t < intervals[i - 1].1
    }

    #[test]
    fn spells_drawn_as_time_advances_are_the_spells_drawn_whole() {
        let horizon = 20_000.0;
        for seed in [0, 4, 9] {
            let [own, noisy] = whole(seed, 16, horizon);
            let [shared, _] = whole(seed, 2, horizon);
            let both = joined(own.clone(), &shared);
            assert!(both.len() < own.len() + shared.len(), "some overlap");
            let mut alone = Spells::draw(seed, 16, horizon);
            let mut link =
                Spells::draw(seed, 16, horizon).with_outages_of(&Spells::draw(seed, 2, horizon));
            for i in 0..(horizon as u32 + 200) * 4 {
                let t = f64::from(i) * 0.25;
                assert_eq!(alone.out_at(t), within(&own, t), "seed {seed} t {t}");
                assert_eq!(alone.noisy_at(t), within(&noisy, t), "seed {seed} t {t}");
                assert_eq!(link.out_at(t), within(&both, t), "seed {seed} t {t}");
                assert_eq!(link.noisy_at(t), within(&noisy, t), "seed {seed} t {t}");
            }
            // Asked out of order, the answers are the same.
            for t in [19_000.5, 30.0, 12_345.6, 12_340.0, 3.0] {
                assert_eq!(link.out_at(t), within(&both, t), "t {t}");
                assert_eq!(link.noisy_at(t), within(&noisy, t), "t {t}");
            }
        }
    }

    #[test]
    fn outages_take_their_expected_share_of_time_and_repeat_per_seed() {
        let horizon = 20_000.0;
        let sample = |mut spells: Spells| -> Vec<bool> {
            (0..200_000)
                .map(|i| spells.out_at(f64::from(i) * 0.1))
                .collect()
        };
        let out = sample(Spells::draw(4, 16, horizon));
        assert_eq!(out, sample(Spells::draw(4, 16, horizon)));
        assert_ne!(out, sample(Spells::draw(4, 17, horizon)));
        let mean_outage = (OUTAGE_S.0 + OUTAGE_S.1) / 2.0;
        let expected = mean_outage / (OUTAGE_EVERY_S + mean_outage);
        let share = out.iter().filter(|&&o| o).count() as f64 / out.len() as f64;
        assert!((share - expected).abs() < 0.02, "{share} vs {expected}");
    }

    #[test]
    fn no_spells_means_always_on_and_clean() {
        let mut s = Spells::none();
        assert!(!s.out_at(5.0) && !s.noisy_at(5.0));
        let mut drawn = Spells::draw(1, 0, 3000.0);
        assert!((0..3000).any(|i| drawn.noisy_at(f64::from(i))));
        assert!(!(3100..4000).any(|i| drawn.noisy_at(f64::from(i)) || drawn.out_at(f64::from(i))));
    }
}
