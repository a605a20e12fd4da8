//! The world: a room, a subject and a schedule, played out. It implements [`Scene`], so the
//! renderers read the body's scatterers from it, and it knows the ground-truth label at
//! every instant.
//!
//! During an activity the body follows that activity's [`Motion`]. In an idle gap between
//! two activities the person holds still: the first half of the gap in the pose the previous
//! activity ended in, the second half in the pose the next one starts from; at the gap's
//! middle they are moved at once (a reposition, never during an activity). Before the first
//! activity they hold its start pose, after the last its end pose. An `empty_room` activity
//! removes the person for its duration, and its halves of the neighbouring gaps. A person
//! present always breathes: chest and abdomen move 5 mm and 3 mm forward and back at the
//! subject's breathing rate.
use std::f64::consts::PI;

use super::activity::{Activity, Motion};
use super::body::{part, scatterers, Joints, Pose, Segments, Subject};
use super::draw::{seeded, Stream};
use super::geometry::Vec3;
use super::scenario::Schedule;
use super::scene::{Room, Scatterer, Scene};
use crate::capture::Label;

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
}

/// Where the body comes from at one instant.
enum Source<'a> {
    /// Nobody there.
    Absent,
    /// An activity under way, `tau` s into it.
    Moving(&'a Motion, f64),
    /// Holding a pose between activities.
    Holding(Pose),
}

impl World {
    /// Builds the world; each scheduled activity gets its own motion drawn from `seed`.
    pub fn new(room: Room, subject: Subject, schedule: Schedule, seed: u64) -> World {
        let motions = schedule
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
        World {
            segments: subject.segments(),
            room,
            subject,
            schedule,
            motions,
        }
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
        }
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
                if t < (items[prev].end + after.start) / 2.0 {
                    self.motions[prev].pose_at(f64::INFINITY)
                } else {
                    self.motions[next].pose_at(0.0)
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
        let (yaw, [before, now, after]): (f64, [Joints; 3]) = match self.source(t) {
            Source::Absent => return,
            Source::Holding(pose) => {
                let j = pose.joints(&self.segments);
                (pose.yaw, [j, j, j])
            }
            Source::Moving(motion, tau) => {
                let at = |tau: f64| motion.pose_at(tau);
                let (Some(b), Some(n), Some(a)) = (at(tau - h), at(tau), at(tau + h)) else {
                    return;
                };
                let j = |p: Pose| p.joints(&self.segments);
                (n.yaw, [j(b), j(n), j(a)])
            }
        };
        let first = out.len();
        scatterers(&self.subject, &before, &now, &after, h, out);
        self.breathe(t, yaw, &mut out[first..]);
    }
}

#[cfg(test)]
mod tests;
