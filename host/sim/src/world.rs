//! The world: a room, a subject and a schedule, played out. It implements [`Scene`], so the
//! renderers read the body's scatterers from it, and it knows the ground-truth label at
//! every instant.
//!
//! During an activity the body follows that activity's [`Motion`]. In an idle gap between
//! two activities the person moves continuously from the pose the previous activity ended
//! in to the pose the next one starts from (joint angles, facing and position blended with
//! a smooth step, legs stepping while the feet travel): they walk over, turn, get up from
//! the floor after a fall. Each instance is placed within walking reach of the previous
//! one's end ([`World::new`]), and standing up happens at the chair one sat down on. An
//! `empty_room` activity removes the person for its duration and its halves of the
//! neighbouring gaps (they leave or enter at the gap's middle). Before the first activity
//! they hold its start pose, after the last its end pose. A person present always breathes
//! (chest and abdomen 5 mm and 3 mm at the subject's rate) and shows [`micro`](super::micro) motion.
//!
//! The person's phone and the room's cup carry RFID tags ([`Object`]): the cup is in the
//! acting hand while drinking, the phone at the acting hand during a phone call, in the
//! right trouser pocket otherwise, and out of the room with the person.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::f64::consts::PI;

use super::activity::{smoothstep, Activity, Motion};
use super::body::{floor_deficit, part, scatterers, Pose, Segments, Subject, RIGHT};
use super::draw::{seeded, Stream};
use super::geometry::Vec3;
use super::micro::MicroMotion;
use super::scenario::{Activities, ActivityDraw, Scheduled};
use super::scene::{MovedTag, Object, Room, Scatterer, Scene};
use dagr_classes::Label;

/// Half the time step of the central difference that gives body velocities, s.
pub const VELOCITY_STEP: f64 = 1e-3;
/// Breathing excursion of the chest and of the abdomen, m.
const BREATHING: (f64, f64) = (0.005, 0.003);

/// A room, a person and what they do when (see the [module doc](self)).
///
/// The activities, their motions and the micro-motion are drawn as the scene is asked
/// about later times (its plan), so a world holds what is under way, not the whole run.
/// That drawing is a cache behind `&self` (the renderers see the world as a [`Scene`]):
/// what the world answers for a time depends on that time alone, never on the order of
/// the questions, because each random stream is drawn in its own fixed order.
#[derive(Debug, Clone)]
pub struct World {
    room: Room,
    subject: Subject,
    segments: Segments,
    activities: Activities,
    seed: u64,
    /// End of the last activity, s (0 without any).
    plan_end: f64,
    plan: RefCell<Plan>,
}

/// The part of the run a world holds: a window of consecutive activities with their
/// motions, and the micro-motion's events.
#[derive(Debug, Clone)]
struct Plan {
    draw: ActivityDraw,
    /// Index in the whole schedule of `items[0]`.
    first: usize,
    items: VecDeque<Scheduled>,
    motions: VecDeque<Motion>,
    /// No activity is left to draw.
    drawn_all: bool,
    micro: MicroMotion,
}

/// How long an activity over is kept after the next one is over too, s: a look back
/// within it is answered from memory, one further back draws the plan again from the start.
const KEEP_S: f64 = 10.0;

/// Where the body comes from at one instant.
enum Source<'a> {
    /// Nobody there.
    Absent,
    /// An activity under way, `tau` s into it.
    Moving(&'a Motion, f64),
    /// Holding a pose before the first or after the last activity, or next to an empty room.
    Holding(Pose),
    /// Between two activities: from one pose to the other, `u` (0..1) of the way.
    Between(Pose, Pose, f64),
}

/// Fraction of the walking speed a transition may ask for (the rest is turning, stepping).
const REACH_FRACTION: f64 = 0.8;
/// Offset of the phone in the trouser pocket from the hip joint, body frame (right, forward,
/// up), m.
const POCKET: Vec3 = Vec3::new(0.08, 0.05, -0.1);
/// Offset of a held object from the hand point, m (up: a cup's rim, a phone's antenna).
const IN_HAND: Vec3 = Vec3::new(0.0, 0.0, 0.04);

impl World {
    /// Builds the world playing `activities` (a [`Schedule`](super::scenario::Schedule) or
    /// [`Activities::random`]);
    /// each activity gets its own motion drawn from `seed`. A random schedule is drawn
    /// through once here for its end (the micro-motion and the devices' spells run a minute
    /// past it), keeping nothing.
    pub fn new(
        room: Room,
        subject: Subject,
        activities: impl Into<Activities>,
        seed: u64,
    ) -> World {
        let activities = activities.into();
        let plan_end = activities.last_end().unwrap_or(0.0);
        let micro = MicroMotion::new(&subject, seed, plan_end + 60.0);
        World {
            segments: subject.segments(),
            plan: RefCell::new(Plan::new(&activities, micro)),
            plan_end,
            activities,
            seed,
            room,
            subject,
        }
    }

    /// This world with its person free of [`micro`](super::micro) motion (breathing only):
    /// for checks of one motion in isolation.
    pub fn without_micro_motion(mut self) -> World {
        self.plan.get_mut().micro = MicroMotion::none();
        self
    }

    /// The person.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The activities being played.
    pub fn activities(&self) -> &Activities {
        &self.activities
    }

    /// End of the last activity, s (0 when there is none).
    pub fn plan_end(&self) -> f64 {
        self.plan_end
    }

    /// The ground truth at `t`: the activity under way, `None` in idle gaps.
    pub fn label_at(&self, t: f64) -> Option<Activity> {
        let mut plan = self.plan.borrow_mut();
        let next = self.reach(&mut plan, t);
        plan.item(next).filter(|s| s.start <= t).map(|s| s.activity)
    }

    /// Every label of the schedule, in time order (drawn anew: a list as long as the run).
    pub fn labels(&self) -> Vec<Label> {
        self.activities.draw().map(|s| s.label()).collect()
    }

    /// The pose at `t` (`None`: nobody in the room), without breathing.
    pub fn pose_at(&self, t: f64) -> Option<Pose> {
        let mut plan = self.plan.borrow_mut();
        let next = self.reach(&mut plan, t);
        match plan.source(next, t) {
            Source::Absent => None,
            Source::Moving(motion, tau) => motion.pose_at(tau),
            Source::Holding(pose) => Some(pose),
            Source::Between(from, to, u) => Some(self.transition(&from, &to, u)),
        }
    }

    /// Makes `plan` hold the activities around `t` and returns the index of the first
    /// activity not over by `t` (the whole schedule's count when all are).
    fn reach(&self, plan: &mut Plan, t: f64) -> usize {
        if plan.first > 0 && plan.items.front().is_some_and(|s| s.end > t) {
            plan.restart(&self.activities);
        }
        while !plan.drawn_all && plan.items.back().is_none_or(|s| s.end <= t) {
            plan.draw_next(&self.subject, &self.room, self.seed);
            plan.forget_before(t - KEEP_S);
        }
        plan.forget_before(t - KEEP_S);
        plan.first + plan.items.partition_point(|s| s.end <= t)
    }

    /// The pose `u` of the way from `from` to `to` (see the [module doc](self)).
    fn transition(&self, from: &Pose, to: &Pose, u: f64) -> Pose {
        let s = smoothstep(0.0, 1.0, u);
        let mix = |a: f64, b: f64| a + (b - a) * s;
        let turn = (to.yaw - from.yaw + PI).rem_euclid(2.0 * PI) - PI;
        let mut pose = Pose {
            root: from.root + (to.root - from.root) * s,
            yaw: from.yaw + turn * s,
            trunk_pitch: mix(from.trunk_pitch, to.trunk_pitch),
            trunk_roll: mix(from.trunk_roll, to.trunk_roll),
            arms: std::array::from_fn(|i| super::body::ArmPose {
                flexion: mix(from.arms[i].flexion, to.arms[i].flexion),
                abduction: mix(from.arms[i].abduction, to.arms[i].abduction),
                elbow: mix(from.arms[i].elbow, to.arms[i].elbow),
            }),
            legs: std::array::from_fn(|i| super::body::LegPose {
                hip: mix(from.legs[i].hip, to.legs[i].hip),
                knee: mix(from.legs[i].knee, to.legs[i].knee),
            }),
        };
        let travel = Vec3::new(to.root.x - from.root.x, to.root.y - from.root.y, 0.0).norm();
        if travel > 0.1 {
            let stride = 0.45 * self.subject.height;
            let phase = 2.0 * PI * travel * s / stride;
            let g = (PI * u).sin();
            for (side, offset) in [(0, 0.0), (1, PI)] {
                pose.legs[side].hip += 0.3 * g * (phase + offset).sin();
                pose.legs[side].knee += 0.4 * g * (phase + offset).cos().max(0.0).powi(2);
            }
        }
        pose.root.z += floor_deficit(&pose.joints(&self.segments));
        pose
    }

    /// Moves chest and abdomen by the breath at `t` (positions and velocities).
    fn breathe(&self, t: f64, yaw: f64, body: &mut [Scatterer]) {
        let forward = Vec3::new(0.0, 1.0, 0.0).rotate_z(yaw);
        let w = 2.0 * PI * self.subject.breathing_hz;
        for (index, depth) in [(part::CHEST, BREATHING.0), (part::ABDOMEN, BREATHING.1)] {
            body[index].pos += forward * (depth * (w * t).sin());
            body[index].vel += forward * (depth * w * (w * t).cos());
        }
    }
}

impl Scene for World {
    fn room(&self) -> &Room {
        &self.room
    }

    fn body_at(&self, t: f64, out: &mut Vec<Scatterer>) {
        let h = VELOCITY_STEP;
        let Some(now) = self.pose_at(t) else {
            return;
        };
        let j = |p: Pose| p.joints(&self.segments);
        let (before, after) = match (self.pose_at(t - h), self.pose_at(t + h)) {
            (Some(b), Some(a)) => (j(b), j(a)),
            _ => (j(now), j(now)),
        };
        let first = out.len();
        scatterers(&self.subject, &before, &j(now), &after, h, out);
        self.breathe(t, now.yaw, &mut out[first..]);
        self.plan.borrow_mut().micro.apply(t, &mut out[first..]);
    }

    fn moved_tags(&self, t: f64, body: &[Scatterer], out: &mut Vec<MovedTag>) {
        let (doing, acting_side) = {
            let mut plan = self.plan.borrow_mut();
            let next = self.reach(&mut plan, t);
            let doing = plan.item(next).filter(|s| s.start <= t).map(|s| s.activity);
            // The activity under way or next; after the last, the last.
            let drawn = plan.first + plan.items.len();
            let acting = next.min(drawn.saturating_sub(1));
            (doing, plan.motion(acting).map(Motion::acting_side))
        };
        let hand = acting_side.and_then(|side| body.get(part::HAND[side]));
        for (index, tag) in self.room.rfid.tags.iter().enumerate() {
            let pose = match tag.object {
                None => continue,
                Some(Object::Cup) => match (doing, hand) {
                    (Some(Activity::Drinking), Some(hand)) => Some((hand.pos + IN_HAND, hand.vel)),
                    _ => continue,
                },
                Some(Object::Phone) => match (doing, hand, body.get(part::HIP[RIGHT])) {
                    (_, _, None) => None,
                    (Some(Activity::PhoneCall), Some(hand), _) => {
                        Some((hand.pos + IN_HAND, hand.vel))
                    }
                    (_, _, Some(hip)) => {
                        let yaw = body_yaw(body);
                        Some((hip.pos + POCKET.rotate_z(yaw), hip.vel))
                    }
                },
            };
            out.push(MovedTag { tag: index, pose });
        }
    }
}

/// Facing of `body` (its scatterers in [`part`] order) from the line of the hips: body
/// forward is room +y turned by the returned angle.
fn body_yaw(body: &[Scatterer]) -> f64 {
    match (body.get(part::HIP[0]), body.get(part::HIP[RIGHT])) {
        (Some(left), Some(right)) => {
            let across = right.pos - left.pos;
            across.y.atan2(across.x)
        }
        _ => 0.0,
    }
}

impl Plan {
    fn new(activities: &Activities, micro: MicroMotion) -> Plan {
        Plan {
            draw: activities.draw(),
            first: 0,
            items: VecDeque::new(),
            motions: VecDeque::new(),
            drawn_all: false,
            micro,
        }
    }

    /// Back to before the first activity (the micro-motion keeps its own window).
    fn restart(&mut self, activities: &Activities) {
        self.draw = activities.draw();
        self.first = 0;
        self.items.clear();
        self.motions.clear();
        self.drawn_all = false;
    }

    /// Draws the next activity and its motion, linked to the previous one.
    fn draw_next(&mut self, subject: &Subject, room: &Room, seed: u64) {
        let Some(item) = self.draw.next() else {
            self.drawn_all = true;
            return;
        };
        let index = (self.first + self.items.len()) as u64;
        let mut rng = seeded(Stream::Motion, seed, index);
        let duration = item.end - item.start;
        let mut motion = Motion::new(item.activity, duration, subject, room, &mut rng);
        if let (Some(before), Some(previous)) = (self.items.back(), self.motions.back()) {
            link(previous, before, &mut motion, &item, subject);
        }
        self.items.push_back(item);
        self.motions.push_back(motion);
    }

    /// Drops the activities before the last one over by `t` (a jump far ahead holds no
    /// more than a step).
    fn forget_before(&mut self, t: f64) {
        while self.items.len() > 1 && self.items[1].end <= t {
            self.items.pop_front();
            self.motions.pop_front();
            self.first += 1;
        }
    }

    /// Activity `i` of the whole schedule, if held.
    fn item(&self, i: usize) -> Option<&Scheduled> {
        self.items.get(i.checked_sub(self.first)?)
    }

    /// The motion of activity `i`, if held.
    fn motion(&self, i: usize) -> Option<&Motion> {
        self.motions.get(i.checked_sub(self.first)?)
    }

    /// Where the body comes from at `t`, `next` being the first activity not over by then.
    fn source(&self, next: usize, t: f64) -> Source<'_> {
        if let Some(item) = self.item(next).filter(|s| s.start <= t) {
            if let Some(motion) = self.motion(next) {
                return Source::Moving(motion, t - item.start);
            }
        }
        let previous = next
            .checked_sub(1)
            .and_then(|i| Some((self.item(i)?, self.motion(i)?)));
        let following = self.item(next).zip(self.motion(next));
        let held = match (previous, following) {
            (None, None) => None,
            (Some((_, before)), None) => before.pose_at(f64::INFINITY),
            (None, Some((_, after))) => after.pose_at(0.0),
            (Some((ended, before)), Some((starts, after))) => {
                let (from, to) = (before.pose_at(f64::INFINITY), after.pose_at(0.0));
                if let (Some(from), Some(to)) = (from, to) {
                    let u = (t - ended.end) / (starts.start - ended.end);
                    return Source::Between(from, to, u.clamp(0.0, 1.0));
                }
                if t < (ended.end + starts.start) / 2.0 {
                    from
                } else {
                    to
                }
            }
        };
        held.map_or(Source::Absent, Source::Holding)
    }
}

/// Places `motion` (of `item`) within walking reach of where `previous` (of `before`)
/// ended, moving it towards that point when it is too far for the gap, and standing up
/// where one sat down.
fn link(
    previous: &Motion,
    before: &Scheduled,
    motion: &mut Motion,
    item: &Scheduled,
    subject: &Subject,
) {
    if before.activity == Activity::SittingDown && item.activity == Activity::StandingUp {
        motion.continue_from(previous);
        return;
    }
    let (Some(end), Some(start)) = (previous.pose_at(f64::INFINITY), motion.pose_at(0.0)) else {
        return;
    };
    let gap = (item.start - before.end).max(0.0);
    let reach = subject.walking_speed * REACH_FRACTION * gap;
    let apart = Vec3::new(start.root.x - end.root.x, start.root.y - end.root.y, 0.0);
    let distance = apart.norm();
    if distance > reach {
        motion.shift(apart.unit() * -(distance - reach));
    }
}

#[cfg(test)]
mod tests;
