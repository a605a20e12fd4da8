//! The person: who they are ([`Subject`], `--subject K`), how they stand ([`Pose`]: a small
//! kinematic skeleton of joint angles) and what a radio sees of them ([`scatterers`]: 17
//! point reflectors at the head, neck, chest, abdomen, pelvis, shoulders, elbows, hands,
//! hips, knees and feet).
//!
//! Segment lengths are fractions of body height after Winter's anthropometric table
//! (shoulder height 0.818 H, hip joint 0.53 H, upper arm 0.186 H, forearm + half hand
//! 0.2 H, thigh 0.245 H, shank 0.246 H, ankle 0.039 H), scaled by the subject's build.
//! Reflection amplitudes (√RCS, m) follow the body part's size: chest 1.0, abdomen 0.8,
//! pelvis 0.7, head 0.35, hips 0.35, knees 0.3, shoulders 0.3, neck 0.2, elbows, hands and
//! feet 0.2, times the build factor. A limb point stands for its whole segment (the hand
//! point for forearm and hand, the knee for the thigh, the foot for shank and foot): a
//! 30–40 cm limb cylinder seen broadside has an RCS of a few hundredths of a m² at 2.4 GHz
//! to 60 GHz, √RCS ≈ 0.15–0.3 m. Not modelled: the body's extent (each part is
//! one point), shadowing of one part by another, clothing.
use super::draw::{seeded, uniform, Stream};
use super::geometry::Vec3;
use super::scene::Scatterer;

/// Scatterers per body.
pub const SCATTERERS: usize = 17;

/// A person: the same `k` always the same person.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// `--subject K`.
    pub id: u32,
    /// Standing height, m (1.5–1.95).
    pub height: f64,
    /// Build factor (0.85 slim – 1.2 broad): scales widths and reflection amplitudes.
    pub build: f64,
    /// Shoulder width (biacromial), m.
    pub shoulder_width: f64,
    /// Limb length factor around the anthropometric mean (0.95–1.05).
    pub limb_scale: f64,
    /// Preferred walking speed, m/s (0.9–1.5).
    pub walking_speed: f64,
    /// Movement vigour: scales amplitudes and rates of gestures (0.8–1.2).
    pub vigour: f64,
    /// Right-handed (waves, drinks, phones with the right hand) or not.
    pub right_handed: bool,
    /// Preferred facing relative to facing the radar, radians (−0.8..0.8): habits differ.
    pub facing_habit: f64,
    /// Where in the activity area the person tends to stand, as fractions (0..1, 0..1).
    pub spot_habit: (f64, f64),
    /// Breathing rate, Hz (0.2–0.35).
    pub breathing_hz: f64,
}

impl Subject {
    /// Subject `k`: deterministic in `k`.
    pub fn generate(k: u32) -> Subject {
        let mut rng = seeded(Stream::Subject, 0, u64::from(k));
        let height = uniform(&mut rng, 1.5, 1.95);
        let build = uniform(&mut rng, 0.85, 1.2);
        Subject {
            id: k,
            height,
            build,
            shoulder_width: 0.259 * height * build.sqrt(),
            limb_scale: uniform(&mut rng, 0.95, 1.05),
            walking_speed: uniform(&mut rng, 0.9, 1.5),
            vigour: uniform(&mut rng, 0.8, 1.2),
            right_handed: uniform(&mut rng, 0.0, 1.0) < 0.85,
            facing_habit: uniform(&mut rng, -0.8, 0.8),
            spot_habit: (uniform(&mut rng, 0.0, 1.0), uniform(&mut rng, 0.0, 1.0)),
            breathing_hz: uniform(&mut rng, 0.2, 0.35),
        }
    }

    /// Segment lengths of this subject.
    pub fn segments(&self) -> Segments {
        let h = self.height;
        let limb = h * self.limb_scale;
        Segments {
            spine: 0.288 * h,
            neck: 0.04 * h,
            head: 0.112 * h,
            shoulder_width: self.shoulder_width,
            hip_width: 0.191 * h * self.build.sqrt() * 0.5,
            upper_arm: 0.186 * limb,
            forearm: 0.2 * limb,
            thigh: 0.245 * limb,
            shank: 0.246 * limb,
            ankle: 0.039 * h,
            foot: 0.05 * h,
        }
    }
}

/// A subject's segment lengths, m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segments {
    /// Pelvis to the middle of the shoulder line.
    pub spine: f64,
    /// Shoulder line to neck.
    pub neck: f64,
    /// Shoulder line to head centre.
    pub head: f64,
    /// Between the shoulder joints.
    pub shoulder_width: f64,
    /// Between the hip joints.
    pub hip_width: f64,
    /// Shoulder to elbow.
    pub upper_arm: f64,
    /// Elbow to the middle of the hand.
    pub forearm: f64,
    /// Hip to knee.
    pub thigh: f64,
    /// Knee to ankle.
    pub shank: f64,
    /// Ankle joint above the sole.
    pub ankle: f64,
    /// Ankle to the middle of the foot, forward.
    pub foot: f64,
}

/// One arm's joint angles, radians.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ArmPose {
    /// Raise forward (0 hanging, π/2 pointing forward, π up).
    pub flexion: f64,
    /// Raise sideways (0 hanging, π/2 pointing out to the side).
    pub abduction: f64,
    /// Elbow bend (0 straight); the forearm folds forward/up.
    pub elbow: f64,
}

/// One leg's joint angles, radians.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LegPose {
    /// Thigh forward from vertical (negative: backward).
    pub hip: f64,
    /// Knee bend (0 straight, positive folds the shank backward).
    pub knee: f64,
}

/// Which side; arrays of limbs are indexed `[LEFT, RIGHT]`.
pub const LEFT: usize = 0;
/// See [`LEFT`].
pub const RIGHT: usize = 1;

/// The skeleton at one instant.
///
/// Body frame: forward +y, right +x, up +z, origin at the pelvis centre; the room frame is
/// the body frame turned by `yaw` about z and moved to `root`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose {
    /// Pelvis centre in the room, m.
    pub root: Vec3,
    /// Facing: body forward is room +y turned by `yaw` (counter-clockwise from above).
    pub yaw: f64,
    /// Trunk lean forward from vertical, radians (π/2 lying face down).
    pub trunk_pitch: f64,
    /// Trunk lean to the right, radians.
    pub trunk_roll: f64,
    /// Arms, `[LEFT, RIGHT]`.
    pub arms: [ArmPose; 2],
    /// Legs, `[LEFT, RIGHT]`.
    pub legs: [LegPose; 2],
}

/// Reflection amplitude of each scatterer before the build factor, in [`Joints`] order.
const AMPLITUDES: [f64; SCATTERERS] = [
    0.35, 0.2, 1.0, 0.8, 0.7, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2, 0.35, 0.35, 0.3, 0.3, 0.2, 0.2,
];

/// Index of each body point in [`Joints::points`] and in the scatterer list.
pub mod part {
    /// Head centre.
    pub const HEAD: usize = 0;
    /// Neck.
    pub const NECK: usize = 1;
    /// Chest (sternum).
    pub const CHEST: usize = 2;
    /// Abdomen.
    pub const ABDOMEN: usize = 3;
    /// Pelvis centre.
    pub const PELVIS: usize = 4;
    /// Shoulders `[left, right]`.
    pub const SHOULDER: [usize; 2] = [5, 6];
    /// Elbows.
    pub const ELBOW: [usize; 2] = [7, 8];
    /// Hands.
    pub const HAND: [usize; 2] = [9, 10];
    /// Hip joints.
    pub const HIP: [usize; 2] = [11, 12];
    /// Knees.
    pub const KNEE: [usize; 2] = [13, 14];
    /// Feet (middle of the sole).
    pub const FOOT: [usize; 2] = [15, 16];
}

/// Positions of the body points in the room, m, indexed by [`part`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Joints {
    /// The points.
    pub points: [Vec3; SCATTERERS],
}

impl Pose {
    /// Forward kinematics: where every body point is.
    pub fn joints(&self, seg: &Segments) -> Joints {
        let mut p = self.body_frame_joints(seg);
        for q in &mut p {
            *q = q.rotate_z(self.yaw) + self.root;
        }
        Joints { points: p }
    }

    /// The body points relative to the pelvis, body frame.
    fn body_frame_joints(&self, seg: &Segments) -> [Vec3; SCATTERERS] {
        let (sp, cp) = self.trunk_pitch.sin_cos();
        let (sr, cr) = self.trunk_roll.sin_cos();
        // Trunk axes: up along the spine, forward out of the chest, right.
        let up = Vec3::new(sr * cp, sp, cr * cp);
        let forward = Vec3::new(0.0, cp, -sp);
        let right = Vec3::new(cr, 0.0, -sr);
        let along = |d: f64| up * d;
        let shoulder_mid = along(seg.spine);
        let mut p = [Vec3::ZERO; SCATTERERS];
        p[part::HEAD] = along(seg.spine + seg.head);
        p[part::NECK] = along(seg.spine + seg.neck);
        p[part::CHEST] = along(0.22 / 0.288 * seg.spine) + forward * 0.08;
        p[part::ABDOMEN] = along(0.1 / 0.288 * seg.spine) + forward * 0.1;
        p[part::PELVIS] = Vec3::ZERO;
        for (side, s) in [(LEFT, -1.0), (RIGHT, 1.0)] {
            let shoulder = shoulder_mid + right * (s * seg.shoulder_width / 2.0);
            let arm = self.arms[side];
            let (sa, ca) = arm.flexion.sin_cos();
            let (sb, cb) = arm.abduction.sin_cos();
            let upper = right * (s * sb) + forward * (sa * cb) - up * (ca * cb);
            let elbow = shoulder + upper * seg.upper_arm;
            // The forearm folds forward, up and in towards the body's midline.
            let fold = forward + up * 0.5 - right * (s * 0.6);
            let bend_towards = (fold - upper * fold.dot(upper)).unit();
            let (se, ce) = arm.elbow.sin_cos();
            let hand = elbow + (upper * ce + bend_towards * se) * seg.forearm;
            p[part::SHOULDER[side]] = shoulder;
            p[part::ELBOW[side]] = elbow;
            p[part::HAND[side]] = hand;

            let hip = Vec3::new(s * seg.hip_width / 2.0, 0.0, 0.0);
            let leg = self.legs[side];
            let thigh = Vec3::new(0.0, leg.hip.sin(), -leg.hip.cos());
            let knee = hip + thigh * seg.thigh;
            let shank_angle = leg.hip - leg.knee;
            let ankle = knee + Vec3::new(0.0, shank_angle.sin(), -shank_angle.cos()) * seg.shank;
            // The foot points forward, perpendicular to the shank (flat when standing).
            let foot = ankle
                + Vec3::new(0.0, shank_angle.cos(), shank_angle.sin()) * seg.foot
                + Vec3::new(0.0, -shank_angle.sin(), shank_angle.cos()) * (-seg.ankle * 0.6);
            p[part::HIP[side]] = hip;
            p[part::KNEE[side]] = knee;
            p[part::FOOT[side]] = foot;
        }
        p
    }
}

/// Height of the pelvis above the floor when a foot of `legs` rests on the floor: foot
/// `support`, or the lower one when `None` (the legs hang from the pelvis, whatever the
/// trunk does).
pub fn grounded_pelvis_height(legs: &[LegPose; 2], seg: &Segments, support: Option<usize>) -> f64 {
    let probe = Pose {
        legs: *legs,
        ..Pose::default()
    };
    let p = probe.body_frame_joints(seg);
    let (left, right) = (p[part::FOOT[LEFT]].z, p[part::FOOT[RIGHT]].z);
    let lowest = match support {
        Some(side) => p[part::FOOT[side]].z,
        None => left.min(right),
    };
    // Feet points sit 0.4 ankle heights above the sole.
    -lowest + 0.4 * seg.ankle
}

/// Least height above the floor of any body point other than the feet, m: a body lying
/// or propped on its hands rests on its lowest point.
pub const FLOOR_CLEARANCE: f64 = 0.05;

/// How far `joints` must be raised so that no point but the feet is below
/// [`FLOOR_CLEARANCE`].
pub fn floor_deficit(joints: &Joints) -> f64 {
    let lowest = joints
        .points
        .iter()
        .enumerate()
        .filter(|(i, _)| !part::FOOT.contains(i))
        .map(|(_, p)| p.z)
        .fold(f64::INFINITY, f64::min);
    (FLOOR_CLEARANCE - lowest).max(0.0)
}

/// Appends the body's scatterers: positions from `now`, velocities by central difference
/// between `before` and `after`, poses `2 h` seconds apart.
pub fn scatterers(
    subject: &Subject,
    before: &Joints,
    now: &Joints,
    after: &Joints,
    h: f64,
    out: &mut Vec<Scatterer>,
) {
    let parts = before.points.iter().zip(&now.points).zip(&after.points);
    for (((&b, &n), &a), amplitude) in parts.zip(AMPLITUDES) {
        out.push(Scatterer {
            pos: n,
            vel: (a - b) * (0.5 / h),
            amplitude: amplitude * subject.build,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(subject: &Subject) -> (Pose, Segments) {
        let seg = subject.segments();
        let legs = [LegPose::default(); 2];
        let pose = Pose {
            root: Vec3::new(2.0, 3.0, grounded_pelvis_height(&legs, &seg, None)),
            ..Pose::default()
        };
        (pose, seg)
    }

    #[test]
    fn subjects_are_deterministic_and_within_their_ranges() {
        for k in 0..200 {
            let s = Subject::generate(k);
            assert_eq!(s, Subject::generate(k));
            assert!((1.5..=1.95).contains(&s.height));
            assert!((0.9..=1.5).contains(&s.walking_speed));
        }
        assert_ne!(Subject::generate(1), Subject::generate(2));
    }

    #[test]
    fn a_standing_person_has_head_on_top_and_feet_on_the_floor() {
        let subject = Subject::generate(3);
        let (pose, seg) = standing(&subject);
        let j = pose.joints(&seg).points;
        let h = subject.height;
        assert!(
            (j[part::HEAD].z - 0.93 * h).abs() < 0.02 * h,
            "{}",
            j[part::HEAD].z
        );
        assert!((j[part::PELVIS].z - 0.53 * h).abs() < 0.03 * h);
        for side in [LEFT, RIGHT] {
            assert!(
                j[part::FOOT[side]].z.abs() < 0.05,
                "{}",
                j[part::FOOT[side]].z
            );
            assert!(j[part::HAND[side]].z < j[part::PELVIS].z);
        }
        assert!(j[part::SHOULDER[RIGHT]].x > j[part::SHOULDER[LEFT]].x);
    }

    #[test]
    fn raising_an_arm_forward_puts_the_hand_in_front_at_shoulder_height() {
        let subject = Subject::generate(3);
        let (mut pose, seg) = standing(&subject);
        pose.arms[RIGHT].flexion = std::f64::consts::FRAC_PI_2;
        let j = pose.joints(&seg).points;
        let (hand, shoulder) = (j[part::HAND[RIGHT]], j[part::SHOULDER[RIGHT]]);
        assert!((hand.z - shoulder.z).abs() < 0.01);
        assert!((hand.y - shoulder.y - seg.upper_arm - seg.forearm).abs() < 0.01);
    }

    #[test]
    fn yaw_turns_the_body_about_the_pelvis() {
        let subject = Subject::generate(3);
        let (mut pose, seg) = standing(&subject);
        pose.arms[RIGHT].flexion = std::f64::consts::FRAC_PI_2;
        pose.yaw = std::f64::consts::PI;
        let j = pose.joints(&seg).points;
        assert!(
            j[part::HAND[RIGHT]].y < pose.root.y - 0.3,
            "hand should point to -y"
        );
        assert!(j[part::SHOULDER[RIGHT]].x < pose.root.x);
    }

    #[test]
    fn bent_legs_lower_the_grounded_pelvis() {
        let seg = Subject::generate(0).segments();
        let straight = grounded_pelvis_height(&[LegPose::default(); 2], &seg, None);
        let crouch = [LegPose {
            hip: 0.8,
            knee: 1.6,
        }; 2];
        assert!(grounded_pelvis_height(&crouch, &seg, None) < straight - 0.15);
    }
}
