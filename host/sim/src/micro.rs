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
use std::collections::VecDeque;
use std::f64::consts::PI;

use rand_chacha::ChaCha8Rng;

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

/// Which of the two event streams.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Weight shifts.
    Shift,
    /// Hand fidgets of a subject of this vigour.
    Fidget { vigour: f64 },
}

impl Kind {
    /// Mean time between two events, s.
    fn every(self) -> f64 {
        match self {
            Kind::Shift => SHIFT_EVERY_S,
            Kind::Fidget { .. } => FIDGET_EVERY_S,
        }
    }
}

/// One stream of events (a Poisson process up to a horizon), drawn one event at a time.
#[derive(Debug, Clone)]
struct EventDraw {
    rng: ChaCha8Rng,
    /// Start of the next event, s (already drawn).
    t: f64,
    horizon: f64,
    kind: Kind,
}

impl EventDraw {
    fn new(kind: Kind, mut rng: ChaCha8Rng, horizon: f64) -> EventDraw {
        let t = exponential(&mut rng, kind.every());
        EventDraw {
            rng,
            t,
            horizon,
            kind,
        }
    }

    /// The random stream once every event before the horizon is drawn: where the next
    /// stream starts (the fidgets follow all the weight shifts in one stream). Takes time
    /// in proportion to the horizon, memory not.
    fn rng_after_all(mut self) -> ChaCha8Rng {
        while self.next().is_some() {}
        self.rng
    }
}

impl Iterator for EventDraw {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.t < self.horizon {
            let rng = &mut self.rng;
            let event = match self.kind {
                Kind::Shift => {
                    let size = uniform(rng, 0.04, 0.08);
                    let angle = uniform(rng, 0.0, 2.0 * PI);
                    let duration = uniform(rng, 1.5, LONGEST_EVENT_S);
                    Event {
                        start: self.t,
                        duration,
                        offset: Vec3::new(angle.cos(), angle.sin(), 0.0) * size,
                        hand: None,
                    }
                }
                Kind::Fidget { vigour } => {
                    let size = uniform(rng, 0.04, 0.10) * vigour;
                    let dir = Vec3::new(
                        uniform(rng, -1.0, 1.0),
                        uniform(rng, -1.0, 1.0),
                        uniform(rng, -1.0, 1.0),
                    );
                    let duration = uniform(rng, 0.5, 1.2);
                    let hand = usize::from(uniform(rng, 0.0, 1.0) < 0.5);
                    Event {
                        start: self.t,
                        duration,
                        offset: dir.unit() * size,
                        hand: Some(hand),
                    }
                }
            };
            self.t += event.duration + exponential(rng, self.kind.every());
            Some(event)
        } else {
            None
        }
    }
}

/// How far before the latest time asked about the events are kept, s: a look back within
/// it (a device rendering a little behind another) is answered from memory, one further
/// back draws the streams again from their start.
const KEEP_S: f64 = 10.0;

/// A subject's micro-motion over a run (see the [module doc](self)). Its events are drawn
/// as time advances and forgotten ten seconds after they are over, so it holds the same
/// few events whatever the horizon.
#[derive(Debug, Clone)]
pub struct MicroMotion {
    /// Per horizontal axis: amplitude (m), frequency (Hz), phase (rad).
    sway: [(f64, f64, f64); 2],
    height: f64,
    /// The weight shifts' and the fidgets' streams at their first event.
    origin: [EventDraw; 2],
    /// The streams where the window ends.
    draws: [EventDraw; 2],
    /// Each stream's next event: drawn, not yet in the window.
    pending: [Option<Event>; 2],
    /// The events that start by the latest time asked about and may still matter, sorted
    /// by start (a weight shift before a fidget of the same start).
    window: VecDeque<Event>,
    /// Earliest time the window answers for, s.
    valid_from: f64,
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
        let shifts = EventDraw::new(Kind::Shift, rng, horizon_s);
        let vigour = subject.vigour;
        let fidgets = EventDraw::new(
            Kind::Fidget { vigour },
            shifts.clone().rng_after_all(),
            horizon_s,
        );
        MicroMotion::from_streams(sway, subject.height, [shifts, fidgets])
    }

    /// No micro-motion at all (a perfectly still mannequin, for tests that isolate one
    /// motion).
    pub fn none() -> MicroMotion {
        let never = |kind| EventDraw::new(kind, seeded(Stream::Motion, 0, 0), f64::NEG_INFINITY);
        let streams = [never(Kind::Shift), never(Kind::Fidget { vigour: 0.0 })];
        MicroMotion::from_streams([(0.0, 0.0, 0.0); 2], 1.0, streams)
    }

    fn from_streams(sway: [(f64, f64, f64); 2], height: f64, origin: [EventDraw; 2]) -> Self {
        let mut micro = MicroMotion {
            sway,
            height,
            draws: origin.clone(),
            origin,
            pending: [None, None],
            window: VecDeque::new(),
            valid_from: f64::NEG_INFINITY,
        };
        micro.restart();
        micro
    }

    /// Events held now and room for them (for tests of what a long run keeps).
    #[cfg(test)]
    pub(crate) fn held(&self) -> (usize, usize) {
        (self.window.len(), self.window.capacity())
    }

    /// Back to the streams' first events, nothing in the window.
    fn restart(&mut self) {
        self.draws = self.origin.clone();
        self.pending = [self.draws[0].next(), self.draws[1].next()];
        self.window.clear();
        self.valid_from = f64::NEG_INFINITY;
    }

    /// Makes the window hold every event that starts by `t` and forgets those over long
    /// before it; a `t` before what the window answers for starts again from the first.
    fn reach(&mut self, t: f64) {
        if t < self.valid_from {
            self.restart();
        }
        let cut = t - LONGEST_EVENT_S - KEEP_S;
        loop {
            let next = match &self.pending {
                [Some(shift), Some(fidget)] => usize::from(fidget.start < shift.start),
                [Some(_), None] => 0,
                [None, Some(_)] => 1,
                [None, None] => break,
            };
            match self.pending[next] {
                Some(event) if event.start <= t => {
                    self.window.push_back(event);
                    self.pending[next] = self.draws[next].next();
                    self.forget_before(cut);
                }
                _ => break,
            }
        }
        self.forget_before(cut);
    }

    /// Drops the events that start before `cut`; the window then answers from
    /// `cut + LONGEST_EVENT_S` on (a jump far ahead holds no more than a step).
    fn forget_before(&mut self, cut: f64) {
        if self.window.front().is_some_and(|e| e.start < cut) {
            while self.window.front().is_some_and(|e| e.start < cut) {
                self.window.pop_front();
            }
            self.valid_from = self.valid_from.max(cut + LONGEST_EVENT_S);
        }
    }

    /// Moves `body` (the 17 scatterers of [`body::scatterers`](super::body::scatterers), in
    /// order) by the micro-motion at `t`: positions and velocities.
    /// Takes `&mut self` because it draws the events as `t` advances; the result depends
    /// on `t` alone, not on what was asked before.
    pub fn apply(&mut self, t: f64, body: &mut [Scatterer]) {
        self.reach(t);
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
            .window
            .partition_point(|e| e.start < t - LONGEST_EVENT_S);
        for e in self.window.range(first..).take_while(|e| e.start <= t) {
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

    /// The events as they were drawn before the streams were drawn as time advances: all
    /// weight shifts up to the horizon, then all fidgets from the same random stream,
    /// sorted by start. The reference the lazy streams must reproduce.
    fn events_whole(subject: &Subject, seed: u64, horizon_s: f64) -> Vec<Event> {
        let mut rng = seeded(Stream::Motion, seed, u64::MAX - u64::from(subject.id));
        for _ in 0..6 {
            uniform(&mut rng, 0.0, 1.0);
        }
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
        events
    }

    #[test]
    fn events_drawn_as_time_advances_are_the_events_drawn_whole_and_few_are_held() {
        let subject = Subject::generate(4);
        let horizon = 5000.0;
        let whole = events_whole(&subject, 9, horizon);
        let mut m = MicroMotion::new(&subject, 9, horizon);
        let (mut seen, mut held) = (Vec::new(), 0);
        for i in 0..5100 {
            m.reach(f64::from(i));
            let last = seen.last().map_or(f64::NEG_INFINITY, |e: &Event| e.start);
            seen.extend(m.window.iter().filter(|e| e.start > last));
            held = held.max(m.window.len());
        }
        assert_eq!(seen, whole);
        assert!(whole.len() > 1000, "{}", whole.len());
        assert!(held < 20, "{held} events held at once");
    }

    #[test]
    fn the_motion_at_a_time_does_not_depend_on_what_was_asked_before() {
        let subject = Subject::generate(6);
        let times = [500.0, 3.0, 499.0, 480.0, 1200.5, 20.25, 20.0, 1199.0];
        let mut jumping = MicroMotion::new(&subject, 2, 1500.0);
        for t in times {
            let (mut a, mut b) = (still_body(), still_body());
            jumping.apply(t, &mut a);
            MicroMotion::new(&subject, 2, 1500.0).apply(t, &mut b);
            assert_eq!(a, b, "t {t}");
        }
    }

    #[test]
    fn velocities_are_the_derivative_of_the_displacement() {
        let mut m = MicroMotion::new(&Subject::generate(3), 1, 120.0);
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
        let mut m = MicroMotion::new(&Subject::generate(5), 2, 300.0);
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
        let mut m = MicroMotion::new(&Subject::generate(7), 3, 60.0);
        for i in 0..600 {
            let mut b = still_body();
            m.apply(0.1 * f64::from(i), &mut b);
            let foot = b[0].pos.distance(still_body()[0].pos);
            assert!(foot < 0.01, "{foot}");
        }
    }
}
