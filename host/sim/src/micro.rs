//! Micro-motion: what a person who is "doing nothing" still does. Without it a still body
//! is invisible to a radar with clutter removal and a flat line to WiFi and RFID, so
//! holding a phone or a cup would look like an empty room.
//!
//! Three motions, all drawn from the subject and the seed and laid on scene time, never on
//! the schedule (so none of them marks where a label starts or ends):
//! - **postural sway**: the body above the feet drifts by up to [`SWAY_M`] (quiet standing
//!   sways by 0.5–1.5 cm at 0.1–0.5 Hz), scaled by the point's height above the floor;
//! - **weight shifts**: at Poisson times (mean every [`SHIFT_EVERY_S`]) the upper body moves
//!   4–8 cm sideways and back over 1.5–3 s;
//! - **fidgets**: at Poisson times (mean every [`FIDGET_EVERY_S`]) one hand moves 4–10 cm
//!   and back over 0.5–1.2 s (scratching, adjusting, gesturing), peak speed 0.2–0.6 m/s —
//!   a few Doppler bins, so a still person leaves occasional radar points.
//!
//! Each displacement is `offset · sin²(π x)` over its event (`x` from 0 to 1), so position
//! and velocity are continuous.
use std::f64::consts::PI;

use super::body::{part, Subject};
use super::draw::{exponential, seeded, uniform, Stream};
use super::geometry::Vec3;
use super::scene::Scatterer;

/// Largest postural sway of the head, m.
pub const SWAY_M: f64 = 0.012;
/// Mean time between weight shifts, s.
pub const SHIFT_EVERY_S: f64 = 12.0;
/// Mean time between hand fidgets, s.
pub const FIDGET_EVERY_S: f64 = 4.0;
/// Longest event, s (bounds the search for events under way).
const LONGEST_EVENT_S: f64 = 3.0;

/// One out-and-back movement.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Event {
    start: f64,
    duration: f64,
    /// Displacement at the event's middle, room frame, m.
    offset: Vec3,
    /// `None`: the whole upper body (weight shift); `Some(side)`: that hand.
    hand: Option<usize>,
}

/// A subject's micro-motion over a run (see the [module doc](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct MicroMotion {
    /// Per horizontal axis: amplitude (m), frequency (Hz), phase (rad).
    sway: [(f64, f64, f64); 2],
    height: f64,
    /// Sorted by start.
    events: Vec<Event>,
}

impl MicroMotion {
    /// The micro-motion of `subject` under `seed`, with events up to `horizon_s`.
    pub fn new(subject: &Subject, seed: u64, horizon_s: f64) -> MicroMotion {
        let mut rng = seeded(Stream::Motion, seed, u64::MAX - u64::from(subject.id));
        let sway = std::array::from_fn(|_| {
            (
                uniform(&mut rng, 0.4, 1.0) * SWAY_M,
                uniform(&mut rng, 0.1, 0.5),
                uniform(&mut rng, 0.0, 2.0 * PI),
            )
        });
        let mut events = Vec::new();
        let mut t = exponential(&mut rng, SHIFT_EVERY_S);
        while t < horizon_s {
            let size = uniform(&mut rng, 0.04, 0.08);
            let angle = uniform(&mut rng, 0.0, 2.0 * PI);
            let duration = uniform(&mut rng, 1.5, LONGEST_EVENT_S);
            events.push(Event {
                start: t,
                duration,
                offset: Vec3::new(angle.cos(), angle.sin(), 0.0) * size,
                hand: None,
            });
            t += duration + exponential(&mut rng, SHIFT_EVERY_S);
        }
        let mut t = exponential(&mut rng, FIDGET_EVERY_S);
        while t < horizon_s {
            let size = uniform(&mut rng, 0.04, 0.10) * subject.vigour;
            let dir = Vec3::new(
                uniform(&mut rng, -1.0, 1.0),
                uniform(&mut rng, -1.0, 1.0),
                uniform(&mut rng, -1.0, 1.0),
            );
            let duration = uniform(&mut rng, 0.5, 1.2);
            let hand = usize::from(uniform(&mut rng, 0.0, 1.0) < 0.5);
            events.push(Event {
                start: t,
                duration,
                offset: dir.unit() * size,
                hand: Some(hand),
            });
            t += duration + exponential(&mut rng, FIDGET_EVERY_S);
        }
        events.sort_by(|a, b| a.start.total_cmp(&b.start));
        MicroMotion {
            sway,
            height: subject.height,
            events,
        }
    }

    /// No micro-motion at all (a perfectly still mannequin, for tests that isolate one
    /// motion).
    pub fn none() -> MicroMotion {
        MicroMotion {
            sway: [(0.0, 0.0, 0.0); 2],
            height: 1.0,
            events: Vec::new(),
        }
    }

    /// Moves `body` (the 17 scatterers of [`body::scatterers`](super::body::scatterers), in
    /// order) by the micro-motion at `t`: positions and velocities.
    pub fn apply(&self, t: f64, body: &mut [Scatterer]) {
        let (mut sway, mut sway_v) = (Vec3::ZERO, Vec3::ZERO);
        for (axis, &(a, f, phase)) in self.sway.iter().enumerate() {
            let w = 2.0 * PI * f;
            let (s, c) = (w * t + phase).sin_cos();
            let (d, v) = (a * s, a * w * c);
            if axis == 0 {
                sway.x += d;
                sway_v.x += v;
            } else {
                sway.y += d;
                sway_v.y += v;
            }
        }
        let mut hands = [(Vec3::ZERO, Vec3::ZERO); 2];
        let first = self
            .events
            .partition_point(|e| e.start < t - LONGEST_EVENT_S);
        for e in self.events[first..].iter().take_while(|e| e.start <= t) {
            let x = (t - e.start) / e.duration;
            if !(0.0..1.0).contains(&x) {
                continue;
            }
            let shape = (PI * x).sin().powi(2);
            let rate = PI * (2.0 * PI * x).sin() / e.duration;
            let (d, v) = (e.offset * shape, e.offset * rate);
            match e.hand {
                None => {
                    sway += d;
                    sway_v += v;
                }
                Some(side) => {
                    hands[side].0 += d;
                    hands[side].1 += v;
                }
            }
        }
        for s in body.iter_mut() {
            let k = (s.pos.z / self.height).clamp(0.0, 1.0);
            s.pos += sway * k;
            s.vel += sway_v * k;
        }
        for (side, (d, v)) in hands.into_iter().enumerate() {
            for (index, share) in [(part::HAND[side], 1.0), (part::ELBOW[side], 0.4)] {
                if let Some(s) = body.get_mut(index) {
                    s.pos += d * share;
                    s.vel += v * share;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn still_body() -> Vec<Scatterer> {
        (0..17)
            .map(|i| Scatterer {
                pos: Vec3::new(2.0, 3.0, 0.1 * i as f64),
                vel: Vec3::ZERO,
                amplitude: 0.3,
            })
            .collect()
    }

    #[test]
    fn velocities_are_the_derivative_of_the_displacement() {
        let m = MicroMotion::new(&Subject::generate(3), 1, 120.0);
        let h = 1e-5;
        for i in 0..2000 {
            let t = 0.0537 * f64::from(i);
            let (mut a, mut b, mut now) = (still_body(), still_body(), still_body());
            m.apply(t - h, &mut a);
            m.apply(t + h, &mut b);
            m.apply(t, &mut now);
            for k in 0..17 {
                let numeric = (b[k].pos - a[k].pos) * (0.5 / h);
                assert!((numeric - now[k].vel).norm() < 1e-4, "t {t} part {k}");
            }
        }
    }

    #[test]
    fn a_still_hand_moves_fast_enough_for_a_doppler_bin_now_and_then() {
        let m = MicroMotion::new(&Subject::generate(5), 2, 300.0);
        let mut fast = 0;
        for i in 0..30_000 {
            let mut b = still_body();
            m.apply(0.01 * f64::from(i), &mut b);
            let v = b[part::HAND[0]].vel.norm().max(b[part::HAND[1]].vel.norm());
            if v > 0.14 {
                fast += 1;
            }
        }
        let share = f64::from(fast) / 30_000.0;
        assert!(
            (0.03..0.4).contains(&share),
            "hands fast {share} of the time"
        );
    }

    #[test]
    fn sway_stays_within_its_bound_and_feet_barely_move() {
        let m = MicroMotion::new(&Subject::generate(7), 3, 60.0);
        for i in 0..600 {
            let mut b = still_body();
            m.apply(0.1 * f64::from(i), &mut b);
            let foot = b[0].pos.distance(still_body()[0].pos);
            assert!(foot < 0.01, "{foot}");
        }
    }
}
