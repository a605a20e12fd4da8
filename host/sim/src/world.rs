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
//! (chest and abdomen 5 mm and 3 mm at the subject's rate) and shows [`micro`] motion.
//!
//! The person's phone and the room's cup carry RFID tags ([`Object`]): the cup is in the
//! acting hand while drinking, the phone at the acting hand during a phone call, in the
//! right trouser pocket otherwise, and out of the room with the person.
use std::f64::consts::PI;

use super::activity::{smoothstep, Activity, Motion};
use super::body::{floor_deficit, part, scatterers, Pose, Segments, Subject, RIGHT};
use super::draw::{seeded, Stream};
use super::geometry::Vec3;
use super::micro::MicroMotion;
use super::scenario::Schedule;
use super::scene::{MovedTag, Object, Room, Scatterer, Scene};
use dagr_classes::Label;

/// Half the time step of the central difference that gives body velocities, s.
pub const VELOCITY_STEP: f64 = 1e-3;
/// Breathing excursion of the chest and of the abdomen, m.
const BREATHING: (f64, f64) = (0.005, 0.003);

/// A room, a person and what they do when (see the [module doc](self)).
#[derive(Debug, Clone)]
pub struct World {
    room: Room,
    subject: Subject,
    segments: Segments,
    schedule: Schedule,
    motions: Vec<Motion>,
    micro: MicroMotion,
}

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
    /// Builds the world; each scheduled activity gets its own motion drawn from `seed`.
    pub fn new(room: Room, subject: Subject, schedule: Schedule, seed: u64) -> World {
        let mut motions: Vec<Motion> = schedule
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut rng = seeded(Stream::Motion, seed, i as u64);
                Motion::new(
                    item.activity,
                    item.end - item.start,
                    &subject,
                    &room,
                    &mut rng,
                )
            })
            .collect();
        link_motions(&mut motions, &schedule, &subject);
        let horizon = schedule.items.last().map_or(0.0, |s| s.end) + 60.0;
        World {
            segments: subject.segments(),
            micro: MicroMotion::new(&subject, seed, horizon),
            room,
            subject,
            schedule,
            motions,
        }
    }

    /// This world with its person free of [`micro`](super::micro) motion (breathing only):
    /// for checks of one motion in isolation.
    pub fn without_micro_motion(mut self) -> World {
        self.micro = MicroMotion::none();
        self
    }

    /// The person.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The schedule being played.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The ground truth at `t`: the activity under way, `None` in idle gaps.
    pub fn label_at(&self, t: f64) -> Option<Activity> {
        self.schedule.at(t).map(|s| s.activity)
    }

    /// Every label of the schedule, in time order.
    pub fn labels(&self) -> Vec<Label> {
        self.schedule
            .items
            .iter()
            .map(|s| Label {
                start: s.start,
                end: s.end,
                class: s.activity.name().to_string(),
            })
            .collect()
    }

    /// The pose at `t` (`None`: nobody in the room), without breathing.
    pub fn pose_at(&self, t: f64) -> Option<Pose> {
        match self.source(t) {
            Source::Absent => None,
            Source::Moving(motion, tau) => motion.pose_at(tau),
            Source::Holding(pose) => Some(pose),
            Source::Between(from, to, u) => Some(self.transition(&from, &to, u)),
        }
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

    fn source(&self, t: f64) -> Source<'_> {
        let items = &self.schedule.items;
        let next = items.partition_point(|s| s.end <= t);
        if let Some(item) = items.get(next).filter(|s| s.start <= t) {
            return Source::Moving(&self.motions[next], t - item.start);
        }
        let held = match (next.checked_sub(1), items.get(next)) {
            (None, None) => None,
            (Some(prev), None) => self.motions[prev].pose_at(f64::INFINITY),
            (None, Some(_)) => self.motions[next].pose_at(0.0),
            (Some(prev), Some(after)) => {
                let (from, to) = (
                    self.motions[prev].pose_at(f64::INFINITY),
                    self.motions[next].pose_at(0.0),
                );
                if let (Some(from), Some(to)) = (from, to) {
                    let u = (t - items[prev].end) / (after.start - items[prev].end);
                    return Source::Between(from, to, u.clamp(0.0, 1.0));
                }
                if t < (items[prev].end + after.start) / 2.0 {
                    from
                } else {
                    to
                }
            }
        };
        held.map_or(Source::Absent, Source::Holding)
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
        self.micro.apply(t, &mut out[first..]);
    }

    fn moved_tags(&self, t: f64, body: &[Scatterer], out: &mut Vec<MovedTag>) {
        let doing = self.schedule.at(t).map(|s| s.activity);
        let acting = self
            .schedule
            .items
            .partition_point(|s| s.end <= t)
            .min(self.motions.len().saturating_sub(1));
        let hand = self
            .motions
            .get(acting)
            .and_then(|m| body.get(part::HAND[m.acting_side()]));
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

/// Places each instance within walking reach of where the previous one ended (moving it
/// towards that point when it is too far for the gap), and standing up where one sat down.
fn link_motions(motions: &mut [Motion], schedule: &Schedule, subject: &Subject) {
    let items = &schedule.items;
    for i in 1..motions.len().min(items.len()) {
        let (done, rest) = motions.split_at_mut(i);
        let (prev, motion) = (&done[i - 1], &mut rest[0]);
        if items[i - 1].activity == Activity::SittingDown
            && items[i].activity == Activity::StandingUp
        {
            motion.continue_from(prev);
            continue;
        }
        let (Some(end), Some(start)) = (prev.pose_at(f64::INFINITY), motion.pose_at(0.0)) else {
            continue;
        };
        let gap = (items[i].start - items[i - 1].end).max(0.0);
        let reach = subject.walking_speed * REACH_FRACTION * gap;
        let apart = Vec3::new(start.root.x - end.root.x, start.root.y - end.root.y, 0.0);
        let distance = apart.norm();
        if distance > reach {
            motion.shift(apart.unit() * -(distance - reach));
        }
    }
}

#[cfg(test)]
mod tests;
