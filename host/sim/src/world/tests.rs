//! The world's body: velocities consistent with positions, each activity moving the body
//! part it should, idle gaps still, and labels from the schedule.
use super::*;
use crate::body::{LEFT, RIGHT, SCATTERERS};
use crate::scenario::{Schedule, Scheduled};

/// A world doing only `activity` from 1 s to 1 s + `duration`.
fn world_doing(activity: Activity, duration: f64, room: u32, subject: u32, seed: u64) -> World {
    let schedule = Schedule {
        items: vec![Scheduled {
            start: 1.0,
            end: 1.0 + duration,
            activity,
        }],
    };
    World::new(
        Room::generate(room),
        Subject::generate(subject),
        schedule,
        seed,
    )
}

fn body(world: &World, t: f64) -> Vec<Scatterer> {
    let mut out = Vec::new();
    world.body_at(t, &mut out);
    out
}

/// Samples over the activity (1 s .. 1 s + duration) every `dt`.
fn samples(world: &World, duration: f64, dt: f64) -> Vec<(f64, Vec<Scatterer>)> {
    let n = (duration / dt) as usize;
    (0..=n)
        .map(|i| {
            let t = 1.0 + i as f64 * dt;
            (t, body(world, t))
        })
        .collect()
}

fn peak_speed(samples: &[(f64, Vec<Scatterer>)], index: usize) -> f64 {
    samples
        .iter()
        .map(|(_, b)| b[index].vel.norm())
        .fold(0.0, f64::max)
}

/// Worlds over a few rooms, subjects and seeds.
fn variants(activity: Activity, duration: f64) -> impl Iterator<Item = World> {
    (0..6).map(move |k| world_doing(activity, duration, k, k + 10, u64::from(k)))
}

#[test]
fn velocities_equal_the_numeric_derivative_of_positions() {
    let step = 1e-4;
    for activity in Activity::ALL.into_iter().skip(1) {
        for world in variants(activity, 3.0) {
            let (mut checked, mut agreed) = (0, 0);
            for i in 0..300 {
                let t = 1.0 + 0.00731 + i as f64 * 0.01;
                let (before, now, after) = (
                    body(&world, t - step),
                    body(&world, t),
                    body(&world, t + step),
                );
                for k in 0..SCATTERERS {
                    let numeric = (after[k].pos - before[k].pos) * (0.5 / step);
                    checked += 1;
                    if (numeric - now[k].vel).norm() <= 0.01 + 0.01 * numeric.norm() {
                        agreed += 1;
                    }
                }
            }
            // Only the instants within a millisecond of a kink (a fall's impact, a
            // landing) may differ.
            assert!(
                agreed as f64 >= 0.99 * checked as f64,
                "{activity}: {agreed}/{checked}"
            );
        }
    }
}

#[test]
fn every_present_body_has_17_scatterers_above_the_floor_inside_the_room() {
    for activity in Activity::ALL.into_iter().skip(1) {
        for world in variants(activity, 3.0) {
            let size = world.room().size;
            for (t, b) in samples(&world, 3.0, 0.05) {
                assert_eq!(b.len(), SCATTERERS);
                for s in &b {
                    let p = s.pos;
                    assert!(p.z > -0.02, "{activity} at {t}: below the floor {p:?}");
                    assert!(
                        p.x > 0.0 && p.x < size.x && p.y > 0.0 && p.y < size.y,
                        "{activity}: {p:?}"
                    );
                    assert!(s.vel.norm() < 15.0, "{activity} at {t}: {:?}", s.vel);
                }
            }
        }
    }
}

#[test]
fn empty_room_has_no_scatterers() {
    let world = world_doing(Activity::EmptyRoom, 3.0, 0, 0, 0);
    for (_, b) in samples(&world, 3.0, 0.1) {
        assert!(b.is_empty());
    }
    // Nothing scheduled at all: nobody there.
    let nobody = World::new(
        Room::generate(0),
        Subject::generate(0),
        Schedule::default(),
        0,
    );
    assert!(body(&nobody, 1.0).is_empty());
}

#[test]
fn waving_moves_a_hand_far_faster_than_the_feet() {
    for world in variants(Activity::Waving, 3.0) {
        let s = samples(&world, 3.0, 0.01);
        let hand = peak_speed(&s, part::HAND[LEFT]).max(peak_speed(&s, part::HAND[RIGHT]));
        let feet = peak_speed(&s, part::FOOT[LEFT]).max(peak_speed(&s, part::FOOT[RIGHT]));
        assert!(hand > 1.0 && hand > 5.0 * feet, "hand {hand} feet {feet}");
    }
}

#[test]
fn walking_moves_the_pelvis_at_the_subjects_speed() {
    for world in variants(Activity::Walking, 5.0) {
        let speed = world.subject().walking_speed;
        let s = samples(&world, 5.0, 0.01);
        let middle = &s[60..440]; // away from the 0.5 s ramps
        let path: f64 = middle
            .windows(2)
            .map(|w| {
                let d = w[1].1[part::PELVIS].pos - w[0].1[part::PELVIS].pos;
                Vec3::new(d.x, d.y, 0.0).norm()
            })
            .sum();
        let mean = path / (middle.last().unwrap().0 - middle[0].0);
        assert!(
            (mean / speed - 1.0).abs() < 0.15,
            "walked {mean} m/s, subject {speed}"
        );
        let area = world.room().activity_area();
        assert!(s
            .iter()
            .all(|(_, b)| area.contains(b[part::PELVIS].pos, 0.05)));
    }
}

#[test]
fn falling_brings_the_head_below_60_cm() {
    for world in variants(Activity::Falling, 3.0) {
        let start = body(&world, 1.0)[part::HEAD].pos.z;
        let end = body(&world, 3.9)[part::HEAD].pos.z;
        assert!(start > 1.3 && end < 0.6, "head from {start} to {end}");
    }
}

#[test]
fn jumping_lifts_both_feet_off_the_floor() {
    for world in variants(Activity::Jumping, 2.0) {
        let s = samples(&world, 2.0, 0.005);
        let feet_low =
            |b: &Vec<Scatterer>| b[part::FOOT[LEFT]].pos.z.min(b[part::FOOT[RIGHT]].pos.z);
        let highest = s.iter().map(|(_, b)| feet_low(b)).fold(0.0, f64::max);
        assert!(highest > 0.1, "feet rose only {highest} m");
        assert!(feet_low(&s[0].1) < 0.05);
    }
}

#[test]
fn sitting_down_lowers_the_pelvis_and_standing_up_raises_it() {
    for world in variants(Activity::SittingDown, 3.0) {
        let (start, end) = (body(&world, 1.0), body(&world, 4.0));
        let drop = start[part::PELVIS].pos.z - end[part::PELVIS].pos.z;
        assert!(drop > 0.15, "pelvis dropped {drop} m");
        let feet_moved = start[part::FOOT[LEFT]]
            .pos
            .distance(end[part::FOOT[LEFT]].pos);
        assert!(feet_moved < 0.05, "feet slid {feet_moved} m");
    }
    for world in variants(Activity::StandingUp, 3.0) {
        let rise = body(&world, 4.0)[part::PELVIS].pos.z - body(&world, 1.0)[part::PELVIS].pos.z;
        assert!(rise > 0.15, "pelvis rose {rise} m");
    }
}

#[test]
fn clapping_brings_the_hands_together_and_apart() {
    for world in variants(Activity::Clapping, 3.0) {
        let gaps: Vec<f64> = samples(&world, 3.0, 0.01)[60..240]
            .iter()
            .map(|(_, b)| b[part::HAND[LEFT]].pos.distance(b[part::HAND[RIGHT]].pos))
            .collect();
        let (closest, widest) = (
            gaps.iter().cloned().fold(9.0, f64::min),
            gaps.iter().cloned().fold(0.0, f64::max),
        );
        assert!(
            closest < 0.15 && widest > 0.3,
            "hands {closest}..{widest} m apart"
        );
    }
}

#[test]
fn kicking_raises_one_foot_while_the_other_stays_down() {
    for world in variants(Activity::Kicking, 2.0) {
        let s = samples(&world, 2.0, 0.01);
        let top = |side: usize| {
            s.iter()
                .map(|(_, b)| b[part::FOOT[side]].pos.z)
                .fold(0.0, f64::max)
        };
        let (high, low) = (top(LEFT).max(top(RIGHT)), top(LEFT).min(top(RIGHT)));
        assert!(
            high > 0.3 && low < 0.08,
            "feet peaked at {high} and {low} m"
        );
    }
}

#[test]
fn bending_lowers_the_head_with_the_feet_in_place() {
    for world in variants(Activity::Bending, 3.0) {
        let s = samples(&world, 3.0, 0.01);
        let head: Vec<f64> = s.iter().map(|(_, b)| b[part::HEAD].pos.z).collect();
        let lowest = head.iter().cloned().fold(9.0, f64::min);
        assert!(
            head[0] - lowest > 0.3,
            "head went down only {}",
            head[0] - lowest
        );
        let foot = |i: usize| s[i].1[part::FOOT[LEFT]].pos;
        assert!(foot(0).distance(foot(150)) < 0.05);
    }
}

#[test]
fn turning_changes_facing_by_at_least_a_quarter_turn_on_the_spot() {
    for world in variants(Activity::Turning, 2.5) {
        let (a, b) = (world.pose_at(1.0).unwrap(), world.pose_at(3.5).unwrap());
        assert!((b.yaw - a.yaw).abs() >= std::f64::consts::FRAC_PI_2 - 1e-9);
        assert!(a.root.distance(b.root) < 0.3);
    }
}

#[test]
fn drinking_and_phoning_bring_a_hand_to_the_head() {
    for (activity, duration) in [(Activity::Drinking, 3.0), (Activity::PhoneCall, 4.0)] {
        for world in variants(activity, duration) {
            let b = body(&world, 1.0 + duration / 2.0);
            let head = b[part::HEAD].pos;
            let near = [LEFT, RIGHT].map(|side| b[part::HAND[side]].pos.distance(head));
            assert!(
                near[0].min(near[1]) < 0.25,
                "{activity}: hands {near:?} m from the head"
            );
        }
    }
}

#[test]
fn in_an_idle_gap_the_person_moves_continuously_to_the_next_start() {
    let schedule = Schedule {
        items: vec![
            Scheduled {
                start: 0.0,
                end: 3.0,
                activity: Activity::SittingDown,
            },
            Scheduled {
                start: 5.0,
                end: 8.0,
                activity: Activity::Waving,
            },
        ],
    };
    let world =
        World::new(Room::generate(1), Subject::generate(1), schedule, 4).without_micro_motion();
    let pelvis = |t: f64| body(&world, t)[part::PELVIS].pos;
    let mut worst_step: f64 = 0.0;
    for i in 0..=400 {
        let t = 2.9 + 0.005 * f64::from(i);
        worst_step = worst_step.max(pelvis(t).distance(pelvis(t + 0.005)));
    }
    assert!(worst_step < 0.02, "a jump of {worst_step} m in 5 ms");
    assert!(
        pelvis(3.0).z < pelvis(5.0).z - 0.1,
        "seated, then standing for the wave"
    );
    let moving = body(&world, 4.0)
        .iter()
        .map(|s| s.vel.norm())
        .fold(0.0, f64::max);
    assert!(moving > 0.1, "getting up moves the body: {moving} m/s");
    assert_eq!(world.label_at(4.0), None);
    assert_eq!(world.label_at(6.0), Some(Activity::Waving));
}

#[test]
fn standing_up_happens_at_the_chair_and_the_next_start_is_within_walking_reach() {
    for seed in 0..6 {
        let world = World::new(
            Room::generate(seed),
            Subject::generate(seed),
            Schedule::random(u64::from(seed), 200.0),
            u64::from(seed),
        )
        .without_micro_motion();
        let items: Vec<_> = world.activities().draw().collect();
        for pair in items.windows(2) {
            let (Some(end), Some(start)) =
                (world.pose_at(pair[0].end), world.pose_at(pair[1].start))
            else {
                continue;
            };
            let gap = pair[1].start - pair[0].end;
            let travel = Vec3::new(start.root.x - end.root.x, start.root.y - end.root.y, 0.0);
            let reach = world.subject().walking_speed * gap;
            if pair[1].activity == Activity::StandingUp {
                assert!(
                    travel.norm() < 0.05,
                    "stood up {} m from the chair",
                    travel.norm()
                );
            } else if pair[0].activity != Activity::Falling {
                assert!(
                    travel.norm() <= reach + 0.3,
                    "{} m in {gap} s",
                    travel.norm()
                );
            }
        }
    }
}

#[test]
fn the_phone_is_in_the_pocket_at_the_ear_during_a_call_and_gone_with_the_person() {
    let schedule = Schedule {
        items: vec![
            Scheduled {
                start: 1.0,
                end: 5.0,
                activity: Activity::PhoneCall,
            },
            Scheduled {
                start: 6.0,
                end: 9.0,
                activity: Activity::EmptyRoom,
            },
        ],
    };
    let world = World::new(Room::generate(3), Subject::generate(3), schedule, 1);
    let phone = world
        .room()
        .rfid
        .tags
        .iter()
        .position(|t| t.object == Some(crate::Object::Phone))
        .unwrap();
    let at = |t: f64| {
        let (mut b, mut moved) = (Vec::new(), Vec::new());
        world.body_at(t, &mut b);
        world.moved_tags(t, &b, &mut moved);
        let pose = moved.iter().find(|m| m.tag == phone).map(|m| m.pose);
        (b, pose)
    };
    let (b, pose) = at(3.0);
    let (pos, _) = pose.flatten().expect("phone with the person");
    assert!(pos.distance(b[part::HEAD].pos) < 0.3, "at the ear");
    let (b, pose) = at(0.5);
    let (pos, _) = pose.flatten().expect("phone with the person");
    assert!(
        pos.z < 1.2 && pos.distance(b[part::PELVIS].pos) < 0.35,
        "in the pocket"
    );
    let (_, pose) = at(7.5);
    assert_eq!(pose, Some(None), "gone with the person");
}

#[test]
fn a_still_person_breathes() {
    let world = world_doing(Activity::Waving, 3.0, 0, 0, 0).without_micro_motion();
    let chest: Vec<Vec3> = (0..50)
        .map(|i| body(&world, 0.1 * f64::from(i))[part::CHEST].pos)
        .collect();
    // The chest moves along the facing, which may be any direction on the floor.
    let swing = chest
        .iter()
        .flat_map(|a| {
            chest
                .iter()
                .map(move |b| Vec3::new(a.x - b.x, a.y - b.y, 0.0).norm())
        })
        .fold(0.0, f64::max);
    assert!(swing > 0.003 && swing < 0.02, "chest moved {swing} m");
}

#[test]
fn labels_are_the_schedule() {
    let world = World::new(
        Room::generate(0),
        Subject::generate(0),
        Schedule::random(3, 30.0),
        3,
    );
    let labels = world.labels();
    let items = Schedule::random(3, 30.0).items;
    assert_eq!(labels.len(), items.len());
    for (label, item) in labels.iter().zip(&items) {
        assert_eq!(
            (label.start, label.end, label.class.as_str()),
            (item.start, item.end, item.activity.name())
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_body_and_another_seed_another() {
    let a = World::new(
        Room::generate(2),
        Subject::generate(2),
        Schedule::random(1, 20.0),
        1,
    );
    let b = World::new(
        Room::generate(2),
        Subject::generate(2),
        Schedule::random(1, 20.0),
        1,
    );
    let c = World::new(
        Room::generate(2),
        Subject::generate(2),
        Schedule::random(1, 20.0),
        2,
    );
    let t = Schedule::random(1, 20.0).items[1].start + 0.5;
    assert_eq!(body(&a, t), body(&b, t));
    assert_ne!(body(&a, t), body(&c, t));
}

#[test]
fn a_random_world_drawn_as_it_plays_is_the_world_of_the_whole_schedule() {
    let (seed, duration) = (5, 900.0);
    let whole = World::new(
        Room::generate(4),
        Subject::generate(4),
        Schedule::random(seed, duration),
        seed,
    );
    let drawn = World::new(
        Room::generate(4),
        Subject::generate(4),
        Activities::random(seed, duration),
        seed,
    );
    assert_eq!(drawn.plan_end(), whole.plan_end());
    let mut moved = (Vec::new(), Vec::new());
    let mut check = |t: f64| {
        let (a, b) = (body(&whole, t), body(&drawn, t));
        assert_eq!(a, b, "t {t}");
        assert_eq!(whole.label_at(t), drawn.label_at(t), "t {t}");
        moved.0.clear();
        moved.1.clear();
        whole.moved_tags(t, &a, &mut moved.0);
        drawn.moved_tags(t, &b, &mut moved.1);
        assert_eq!(moved.0, moved.1, "t {t}");
    };
    // In time order, as a run asks (past the schedule's end too), then looking back a
    // little and a lot.
    for i in 0..9300 {
        check(f64::from(i) * 0.1 + 0.013);
    }
    for t in [905.0, 899.5, 880.0, 2.0, 450.25, 449.0, 12.5, 700.0] {
        check(t);
    }
    assert_eq!(drawn.labels(), whole.labels());
}

#[test]
fn a_long_run_holds_a_few_activities_and_events_not_the_whole_plan() {
    let world = World::new(
        Room::generate(1),
        Subject::generate(2),
        Activities::random(7, 1e6),
        7,
    );
    let mut most = (0, 0);
    for i in 0..20_000 {
        body(&world, f64::from(i) * 0.5);
        let plan = world.plan.borrow();
        most = (
            most.0.max(plan.items.len()),
            most.1.max(plan.micro.held().0),
        );
    }
    let plan = world.plan.borrow();
    assert!(plan.first > 1000, "{} activities played", plan.first);
    assert!(most.0 <= 12, "{} activities held at once", most.0);
    assert!(most.1 <= 12, "{} micro-motion events held at once", most.1);
    // A jump far ahead draws what lies between without holding it.
    let jumper = World::new(
        Room::generate(1),
        Subject::generate(2),
        Activities::random(7, 1e6),
        7,
    );
    body(&jumper, 5e5);
    let plan = jumper.plan.borrow();
    assert!(plan.first > 50_000, "{} activities passed", plan.first);
    assert!(plan.items.capacity() <= 64, "{}", plan.items.capacity());
    assert!(plan.micro.held().1 <= 64, "{:?}", plan.micro.held());
}

/// Speed of the scene model, run by hand: `cargo test --release -p dagr-sim body_at_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn body_at_speed() {
    let world = World::new(
        Room::generate(0),
        Subject::generate(0),
        Schedule::random(0, 600.0),
        0,
    );
    let mut out = Vec::with_capacity(SCATTERERS);
    let n = 1_000_000;
    let started = std::time::Instant::now();
    let mut sink = 0.0;
    for i in 0..n {
        out.clear();
        world.body_at(i as f64 * 6e-4, &mut out);
        sink += out.first().map_or(0.0, |s| s.pos.x);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!("body_at: {rate:.0} calls/s ({sink:.1})");
    // A simulated second asks for the body ~800 times (20 radar frames, 3 x 100 CSI
    // packets, ~480 RFID read attempts): 50x real time needs 40 000 calls/s.
    assert!(rate >= 40_000.0, "body_at at {rate:.0} calls/s");
}
