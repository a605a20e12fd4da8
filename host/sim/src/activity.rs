//! Activities and how each one moves the skeleton.
//!
//! An [`Activity`] is a class with a stable name and index (the label vocabulary, after
//! XRF55's categories plus `empty_room`). A [`Motion`] is one instance of it: a duration,
//! where in the room it happens and which way the person faces, and a style drawn from the
//! subject's habits and the seed (gesture rate and size, which hand or foot, how far a turn
//! goes). [`Motion::pose_at`] gives the skeleton at any time since the instance started.
//!
//! Placement: every instance but walking stands on one floor point (its *anchor*) drawn
//! around the subject's favourite spot in the activity area (anywhere in the room, at least
//! 0.9 m from the walls), facing the radar turned by the subject's facing habit plus up to
//! ±0.6 rad (the radar hangs on the wall people face, as an installer would put it), turned
//! away from a wall the motion would reach; the supporting foot (or both feet's middle)
//! stays on the anchor and the lower foot on the floor, so a person who bends, sits or falls
//! pivots about their feet rather than sliding. Walking follows an arc of a circle that fits
//! in the activity area, speeding up and slowing down over 0.5 s at its ends, at the
//! subject's walking speed (±10 %), legs and arms swinging with the distance walked.
//! Each motion is smooth within its instance except the impact of a fall (the body stops
//! at once). Between instances the world holds poses still and may move the person at
//! once (see [`world`](super::world)).
use std::f64::consts::{FRAC_PI_2, PI};

use rand_chacha::ChaCha8Rng;

use super::body::{
    floor_deficit, grounded_pelvis_height, part, ArmPose, LegPose, Pose, Segments, Subject, LEFT,
    RIGHT,
};
use super::draw::uniform;
use super::geometry::Vec3;
use super::room::{ActivityArea, WALL_CLEARANCE_M};
use super::scene::Room;

pub use dagr_classes::Activity;

/// What the simulator adds to each class: how long one instance lasts, the range of
/// durations a random schedule draws from, s.
pub fn typical_duration(activity: Activity) -> (f64, f64) {
    match activity {
        Activity::EmptyRoom => (2.0, 5.0),
        Activity::Walking => (3.0, 6.0),
        Activity::Kicking | Activity::Turning => (1.5, 3.0),
        Activity::Jumping => (1.6, 3.2),
        Activity::Drinking => (2.5, 4.5),
        Activity::PhoneCall => (3.0, 5.0),
        _ => (2.0, 4.0),
    }
}

/// How this instance is performed, drawn once per instance.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    /// The hand or foot that acts.
    side: usize,
    /// Gesture repetition rate, Hz.
    rate: f64,
    /// Size of the movement, relative (around the subject's vigour).
    size: f64,
    /// Repetitions (kicks, jumps).
    count: u32,
    /// Signed turn angle, radians (turning).
    turn: f64,
}

/// One performed instance of an activity (see the [module doc](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct Motion {
    /// What is done.
    pub activity: Activity,
    /// How long it lasts, s.
    pub duration: f64,
    seg: Segments,
    /// Floor point the feet stay on (or the walking circle's centre).
    anchor: Vec3,
    /// Facing at the start, radians.
    yaw: f64,
    /// Walking's arc.
    path: WalkPath,
    style: Style,
}

impl Motion {
    /// Draws an instance of `activity` lasting `duration` s for `subject` in `room`.
    pub fn new(
        activity: Activity,
        duration: f64,
        subject: &Subject,
        room: &Room,
        rng: &mut ChaCha8Rng,
    ) -> Motion {
        let area = room.activity_area();
        let habit = Vec3::new(
            area.min.0 + subject.spot_habit.0 * (area.max.0 - area.min.0),
            area.min.1 + subject.spot_habit.1 * (area.max.1 - area.min.1),
            0.0,
        );
        let jitter = Vec3::new(uniform(rng, -0.6, 0.6), uniform(rng, -0.6, 0.6), 0.0);
        let mut anchor = habit + jitter;
        // Far enough from the walls that a body turned away from the nearest one has room
        // behind it (sitting down) and ahead of it.
        let inset = BACK_REACH_M + WALL_GAP_M - WALL_CLEARANCE_M;
        anchor.x = anchor.x.clamp(area.min.0 + inset, area.max.0 - inset);
        anchor.y = anchor.y.clamp(area.min.1 + inset, area.max.1 - inset);
        // Facing the radar (its wall is the one people face), turned around or aside when
        // that faces a wall closer than the motion reaches (a fall lands a body length
        // ahead) or has one right behind (sitting down).
        let reach = if activity == Activity::Falling {
            subject.height + 0.3
        } else {
            0.7
        };
        let to_radar = room.radar.pos - anchor;
        let facing = yaw_towards(to_radar) + subject.facing_habit + uniform(rng, -0.6, 0.6);
        let yaw = away_from_walls(anchor, facing, reach, &area);
        let radius = area.inner_radius() * uniform(rng, 0.5, 0.9);
        let slack = area.inner_radius() - radius;
        let centre = area.center()
            + Vec3::new(
                uniform(rng, -slack, slack),
                uniform(rng, -slack, slack),
                0.0,
            );
        let path = WalkPath {
            radius,
            start_angle: uniform(rng, -PI, PI),
            direction: sign(rng),
            speed: subject.walking_speed * uniform(rng, 0.9, 1.1),
        };
        let lead = if subject.right_handed { RIGHT } else { LEFT };
        let (count, rate) = match activity {
            Activity::Jumping => (((duration / 1.6) as u32).clamp(1, 6), 0.0),
            Activity::Kicking => (((duration / 1.2) as u32).clamp(1, 8), 0.0),
            _ => (1, uniform(rng, 2.0, 3.2) * subject.vigour),
        };
        let style = Style {
            side: if uniform(rng, 0.0, 1.0) < 0.9 {
                lead
            } else {
                1 - lead
            },
            rate,
            size: subject.vigour * uniform(rng, 0.85, 1.15),
            count,
            turn: uniform(rng, FRAC_PI_2, PI) * sign(rng),
        };
        Motion {
            activity,
            duration,
            seg: subject.segments(),
            anchor: if activity == Activity::Walking {
                centre
            } else {
                anchor
            },
            yaw,
            path,
            style,
        }
    }

    /// Moves the whole instance by `delta` on the floor (its anchor or walking circle), so it
    /// starts where the person can get to from the previous one.
    pub fn shift(&mut self, delta: Vec3) {
        self.anchor += Vec3::new(delta.x, delta.y, 0.0);
    }

    /// Performs this instance where `previous` was performed, facing the same way (standing
    /// up from the chair one sat down on).
    pub fn continue_from(&mut self, previous: &Motion) {
        self.anchor = previous.anchor;
        self.yaw = previous.yaw;
    }

    /// The hand (or foot) that acts: [`LEFT`] or [`RIGHT`].
    pub fn acting_side(&self) -> usize {
        self.style.side
    }

    /// The skeleton `tau` s after the instance started (`None`: nobody there). Defined for
    /// every `tau`: before 0 it is the start pose, after `duration` the end pose.
    pub fn pose_at(&self, tau: f64) -> Option<Pose> {
        let tau = tau.clamp(0.0, self.duration);
        let d = self.duration;
        let st = &self.style;
        let mut shape = Shape::default();
        match self.activity {
            Activity::EmptyRoom => return None,
            Activity::Walking => return Some(self.walking(tau)),
            Activity::SittingDown => shape.sit(smoothstep(0.15 * d, 0.85 * d, tau)),
            Activity::StandingUp => shape.sit(1.0 - smoothstep(0.15 * d, 0.85 * d, tau)),
            Activity::Falling => shape.fall(tau),
            Activity::Waving => {
                let e = envelope(tau, d, 0.5);
                let arm = &mut shape.arms[st.side];
                arm.flexion = 0.35 * e;
                arm.abduction = e * (1.5 + 0.35 * st.size * (2.0 * PI * st.rate * tau).sin());
                arm.elbow = 0.5 * e;
            }
            Activity::Clapping => {
                let e = envelope(tau, d, 0.5);
                let open = 0.5 + 0.5 * (2.0 * PI * st.rate * tau).cos();
                for arm in &mut shape.arms {
                    arm.flexion = 1.1 * e;
                    arm.abduction = e * (-0.1 + 0.55 * st.size * open);
                    arm.elbow = 1.0 * e;
                }
            }
            Activity::Kicking => {
                shape.support = Some(1 - st.side);
                let u = (tau / d * f64::from(st.count)).fract();
                let leg = &mut shape.legs[st.side];
                leg.hip = 1.1 * st.size * bump(u, 0.55, 0.12) - 0.3 * bump(u, 0.3, 0.1);
                leg.knee = 1.2 * bump(u, 0.35, 0.12) + 0.15 * bump(u, 0.6, 0.2);
                shape.arms[st.side].flexion = -0.3 * bump(u, 0.55, 0.15);
                shape.arms[1 - st.side].flexion = 0.4 * bump(u, 0.55, 0.15);
                shape.trunk_pitch = -0.15 * bump(u, 0.55, 0.15);
            }
            Activity::Jumping => {
                shape.jump(tau, d / f64::from(st.count), 0.15 + 0.2 * st.size / 1.2)
            }
            Activity::Bending => {
                let s = hold(tau, d);
                shape.trunk_pitch = 1.3 * s * st.size.min(1.1);
                for (arm, leg) in shape.arms.iter_mut().zip(&mut shape.legs) {
                    arm.flexion = shape.trunk_pitch;
                    leg.hip = 0.2 * s;
                    leg.knee = 0.35 * s;
                }
            }
            Activity::Turning => {
                let s = smoothstep(0.1 * d, 0.9 * d, tau);
                shape.yaw = st.turn * s;
                let step = (PI * s).sin() * 0.15 * (2.0 * PI * 1.8 * tau).sin();
                shape.legs[LEFT].hip = step;
                shape.legs[RIGHT].hip = -step;
            }
            Activity::Drinking => {
                let s = hold(tau, d);
                let sip = 0.08 * s * (2.0 * PI * 0.8 * tau).sin();
                let arm = &mut shape.arms[st.side];
                arm.flexion = 1.4 * s;
                arm.abduction = 0.15 * s;
                arm.elbow = 2.2 * s + sip;
                shape.trunk_pitch = -0.08 * s;
            }
            Activity::PhoneCall => {
                let s = smoothstep(0.05 * d, 0.25 * d, tau) - smoothstep(0.85 * d, d, tau);
                let arm = &mut shape.arms[st.side];
                arm.flexion = 1.2 * s;
                arm.abduction = 0.45 * s;
                arm.elbow = 2.5 * s;
                shape.trunk_roll = 0.05 * s * (2.0 * PI * 0.4 * tau).sin();
            }
        }
        Some(self.place(&shape))
    }

    /// Puts a body shape in the room: facing, supporting foot on the anchor, lower foot on
    /// the floor (plus any flight height).
    fn place(&self, shape: &Shape) -> Pose {
        let mut pose = Pose {
            root: Vec3::ZERO,
            yaw: self.yaw + shape.yaw,
            trunk_pitch: shape.trunk_pitch,
            trunk_roll: shape.trunk_roll,
            arms: shape.arms,
            legs: shape.legs,
        };
        // The body placed at the origin; placing it elsewhere only shifts every point.
        let mut joints = pose.joints(&self.seg);
        let support = match shape.support {
            Some(side) => joints.points[part::FOOT[side]],
            None => (joints.points[part::FOOT[LEFT]] + joints.points[part::FOOT[RIGHT]]) * 0.5,
        };
        pose.root = Vec3::new(
            self.anchor.x - support.x,
            self.anchor.y - support.y,
            grounded_pelvis_height(&shape.legs, &self.seg, shape.support) + shape.lift,
        );
        for p in &mut joints.points {
            *p += pose.root;
        }
        pose.root.z += floor_deficit(&joints);
        pose
    }

    /// Walking along the arc: distance walked with 0.5 s ramps at both ends, gait phase
    /// from distance (stride 0.8 H · √(v / 1.3 m/s)).
    fn walking(&self, tau: f64) -> Pose {
        let WalkPath {
            radius,
            start_angle: theta0,
            direction: dir,
            speed,
        } = self.path;
        let ramp = 0.5_f64.min(self.duration / 2.0);
        let distance = ramped_distance(tau, self.duration, ramp, speed);
        let now_speed = speed * ramp_factor(tau, self.duration, ramp);
        let theta = theta0 + dir * distance / radius;
        let height = (self.seg.spine + self.seg.head) / 0.4;
        let stride = 0.8 * height * (speed / 1.3).sqrt();
        let phase = 2.0 * PI * distance / stride;
        let g = now_speed / speed;
        let mut shape = Shape::default();
        for (side, offset) in [(LEFT, 0.0), (RIGHT, PI)] {
            let p = phase + offset;
            shape.legs[side].hip = 0.35 * g * p.sin();
            shape.legs[side].knee = 0.1 + 0.55 * g * p.cos().max(0.0).powi(2);
            shape.arms[side].flexion = -0.3 * g * p.sin();
            shape.arms[side].elbow = 0.3;
        }
        shape.trunk_pitch = 0.05 * g;
        let centre = self.anchor;
        let mut pose = Pose {
            root: centre + Vec3::new(radius * theta.cos(), radius * theta.sin(), 0.0),
            yaw: if dir > 0.0 { theta } else { theta + PI },
            trunk_pitch: shape.trunk_pitch,
            trunk_roll: 0.0,
            arms: shape.arms,
            legs: shape.legs,
        };
        pose.root.z = grounded_pelvis_height(&shape.legs, &self.seg, None);
        pose
    }
}

/// A walk along an arc of a circle centred on the motion's anchor.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WalkPath {
    /// m.
    radius: f64,
    /// Where on the circle the walk starts, radians.
    start_angle: f64,
    /// +1 counter-clockwise, −1 clockwise.
    direction: f64,
    /// Full walking speed, m/s.
    speed: f64,
}

/// `yaw`, or when the floor point `reach` m ahead of `anchor` or [`BACK_REACH_M`] behind it
/// comes within [`WALL_GAP_M`] of a wall (the activity `area` is the floor but
/// [`WALL_CLEARANCE_M`] along the walls), the first of the opposite and the two side facings
/// whose points do not; facing the area's middle when none is clear.
fn away_from_walls(anchor: Vec3, yaw: f64, reach: f64, area: &ActivityArea) -> f64 {
    let inside = |p: Vec3| area.contains(p, WALL_CLEARANCE_M - WALL_GAP_M);
    let clear = |yaw: f64| {
        let forward = Vec3::new(0.0, 1.0, 0.0).rotate_z(yaw);
        inside(anchor + forward * reach) && inside(anchor - forward * BACK_REACH_M)
    };
    [0.0, PI, FRAC_PI_2, -FRAC_PI_2]
        .into_iter()
        .map(|turn| yaw + turn)
        .find(|&yaw| clear(yaw))
        .unwrap_or_else(|| yaw_towards(area.center() - anchor))
}

/// The yaw of a body facing along floor direction `v` (yaw 0 faces +y, as `rotate_z` turns).
fn yaw_towards(v: Vec3) -> f64 {
    (-v.x).atan2(v.y)
}

/// How far behind its feet a body reaches (the hips of a person sitting down), m.
const BACK_REACH_M: f64 = 0.6;

/// Least gap between a body and a wall, m.
const WALL_GAP_M: f64 = 0.3;

/// +1 or −1 with equal odds.
fn sign(rng: &mut ChaCha8Rng) -> f64 {
    if uniform(rng, 0.0, 1.0) < 0.5 {
        -1.0
    } else {
        1.0
    }
}

/// Joint angles, facing change, support and flight height of a pose before placement.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    trunk_pitch: f64,
    trunk_roll: f64,
    arms: [ArmPose; 2],
    legs: [LegPose; 2],
    /// Added to the instance's facing, radians.
    yaw: f64,
    /// Height of the feet above the floor (jumps), m.
    lift: f64,
    /// The foot that stays put (`None`: the middle of both feet).
    support: Option<usize>,
}

impl Shape {
    /// Standing (`s` = 0) to seated on a chair (`s` = 1), leaning forward on the way.
    fn sit(&mut self, s: f64) {
        self.trunk_pitch = 0.1 * s + 0.45 * (PI * s).sin();
        for (arm, leg) in self.arms.iter_mut().zip(&mut self.legs) {
            leg.hip = 1.5 * s;
            leg.knee = 1.5 * s;
            arm.flexion = 0.3 * (PI * s).sin() + 0.2 * s;
            arm.elbow = 0.5 * s;
        }
    }

    /// Falling forward: 0.2 s upright, 0.9 s accelerating fall (progress ∝ time²), lying.
    fn fall(&mut self, tau: f64) {
        let u = ((tau - 0.2) / 0.9).clamp(0.0, 1.0);
        let p = u * u;
        self.trunk_pitch = 1.45 * p;
        for (arm, leg) in self.arms.iter_mut().zip(&mut self.legs) {
            leg.hip = -1.3 * p;
            leg.knee = 0.6 * (PI * p).sin();
            // Arms reach forward as the body goes down and lie ahead of the head.
            arm.flexion = 2.8 * p;
            arm.elbow = 0.4 * p;
        }
    }

    /// Jumps of apex height `apex` m, one per `cycle` s: 0.45 s crouch, flight
    /// (ballistic, g = 9.81), 0.45 s landing crouch.
    fn jump(&mut self, tau: f64, cycle: f64, apex: f64) {
        const G: f64 = 9.81;
        let v0 = (2.0 * G * apex).sqrt();
        let flight = 2.0 * v0 / G;
        let start = ((cycle - 0.9 - flight) / 2.0).max(0.0);
        let s = tau % cycle - start;
        let takeoff = 0.45;
        let land = takeoff + flight;
        let crouch = if (0.0..takeoff).contains(&s) {
            (PI * s / takeoff).sin()
        } else if (land..land + 0.45).contains(&s) {
            0.8 * (PI * (s - land) / 0.45).sin()
        } else {
            0.0
        };
        if (takeoff..land).contains(&s) {
            let t = s - takeoff;
            self.lift = v0 * t - 0.5 * G * t * t;
        }
        let swing = if (takeoff..land).contains(&s) {
            1.2 * (PI * (s - takeoff) / flight).sin()
        } else {
            -0.5 * crouch
        };
        self.trunk_pitch = 0.4 * crouch;
        for (arm, leg) in self.arms.iter_mut().zip(&mut self.legs) {
            leg.hip = 0.7 * crouch;
            leg.knee = 1.4 * crouch;
            arm.flexion = swing + self.trunk_pitch;
        }
    }
}

/// 0 below `a`, 1 above `b`, smooth (C¹) in between.
pub fn smoothstep(a: f64, b: f64, x: f64) -> f64 {
    let t = if b > a {
        ((x - a) / (b - a)).clamp(0.0, 1.0)
    } else {
        f64::from(u8::from(x >= a))
    };
    t * t * (3.0 - 2.0 * t)
}

/// Up over the first `ramp` s, held, down over the last `ramp` s.
fn envelope(tau: f64, d: f64, ramp: f64) -> f64 {
    smoothstep(0.0, ramp, tau) * (1.0 - smoothstep(d - ramp, d, tau))
}

/// Up over 10–45 % of the duration, held, down over 60–95 %.
fn hold(tau: f64, d: f64) -> f64 {
    smoothstep(0.1 * d, 0.45 * d, tau) - smoothstep(0.6 * d, 0.95 * d, tau)
}

/// A Gaussian bump of width `w` centred on `c`.
fn bump(u: f64, c: f64, w: f64) -> f64 {
    (-((u - c) / w).powi(2)).exp()
}

/// Speed as a fraction of full speed with linear ramps of `ramp` s at both ends.
fn ramp_factor(tau: f64, d: f64, ramp: f64) -> f64 {
    (tau / ramp).min((d - tau) / ramp).clamp(0.0, 1.0)
}

/// Distance walked by `tau` at full speed `v` with linear speed ramps (the integral of
/// [`ramp_factor`]).
fn ramped_distance(tau: f64, d: f64, ramp: f64, v: f64) -> f64 {
    let up = |t: f64| {
        let t = t.clamp(0.0, d);
        if t < ramp {
            t * t / (2.0 * ramp)
        } else {
            t - ramp / 2.0
        }
    };
    let down = |t: f64| {
        let late = (t - (d - ramp)).clamp(0.0, ramp);
        late * late / (2.0 * ramp)
    };
    v * (up(tau) - down(tau))
}
