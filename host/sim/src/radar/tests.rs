//! Physics checks of the whole renderer, on small hand-made rooms.
use std::f64::consts::PI;

use dagr_protocols::stream::decode_all;
use dagr_protocols::ti_mmwave::{Frame, FrameDecoder, Point};

use super::*;
use crate::geometry::Vec3;
use crate::scene::{RadarMount, RfidSetup};

/// Radar position in the test rooms: middle of the y = 0 wall, 1 m up, looking along +y.
const RADAR: Vec3 = Vec3::new(2.0, 0.0, 1.0);

/// An empty room of `size` with the radar on its y = 0 wall.
pub(super) fn room(size: Vec3, multipath: f64) -> Room {
    Room {
        id: 0,
        size,
        statics: Vec::new(),
        multipath,
        clutter_per_frame: 0.0,
        radar: RadarMount {
            pos: RADAR,
            yaw: 0.0,
        },
        wifi: Vec::new(),
        rfid: RfidSetup {
            antennas: Vec::new(),
            tags: Vec::new(),
        },
    }
}

fn quiet_room() -> Room {
    room(Vec3::new(4.0, 6.0, 3.0), 0.0)
}

fn point_targets() -> RadarConfig {
    RadarConfig {
        target_extent_m: 0.0,
        ..RadarConfig::default()
    }
}

fn renderer(config: RadarConfig) -> RadarRenderer {
    RadarRenderer::new(config, 7).expect("valid config")
}

fn scatterer(pos: Vec3, vel: Vec3, amplitude: f64) -> Scatterer {
    Scatterer {
        pos,
        vel,
        amplitude,
    }
}

/// Points of `frames` consecutive frames of a scene whose body is `body(t)`.
fn render_points(
    r: &mut RadarRenderer,
    room: &Room,
    frames: u32,
    body: impl Fn(f64) -> Vec<Scatterer>,
) -> Vec<Vec<Point>> {
    (0..frames)
        .map(|n| {
            let t = r.frame_time(n);
            r.render_frame(room, &body(t), t, n).points
        })
        .collect()
}

fn mean_count(frames: &[Vec<Point>]) -> f64 {
    frames.iter().map(Vec::len).sum::<usize>() as f64 / frames.len() as f64
}

/// An 18-scatterer person at (x0, y0(t)), walking at `speed` along −y (toward the radar)
/// with arms and legs swinging at 1 Hz.
fn person(t: f64, y0: f64, speed: f64) -> Vec<Scatterer> {
    // (lateral offset, height, amplitude, swing amplitude m/s, swing phase)
    const PARTS: [(f64, f64, f64, f64, f64); 18] = [
        (0.0, 1.65, 0.3, 0.0, 0.0),   // head
        (0.0, 1.45, 0.8, 0.0, 0.0),   // chest
        (0.0, 1.2, 1.0, 0.0, 0.0),    // belly
        (0.0, 0.95, 0.7, 0.0, 0.0),   // pelvis
        (-0.2, 1.45, 0.3, 0.1, 0.0),  // shoulders
        (0.2, 1.45, 0.3, 0.1, PI),    //
        (-0.25, 1.25, 0.25, 0.5, PI), // upper arms
        (0.25, 1.25, 0.25, 0.5, 0.0), //
        (-0.25, 1.0, 0.15, 1.0, PI),  // forearms
        (0.25, 1.0, 0.15, 1.0, 0.0),  //
        (-0.25, 0.85, 0.1, 1.4, PI),  // hands
        (0.25, 0.85, 0.1, 1.4, 0.0),  //
        (-0.1, 0.7, 0.4, 0.6, 0.0),   // thighs
        (0.1, 0.7, 0.4, 0.6, PI),     //
        (-0.1, 0.35, 0.25, 1.2, 0.0), // shins
        (0.1, 0.35, 0.25, 1.2, PI),   //
        (-0.1, 0.05, 0.15, 1.6, 0.0), // feet
        (0.1, 0.05, 0.15, 1.6, PI),   //
    ];
    let y = y0 - speed * t;
    PARTS
        .iter()
        .map(|&(dx, z, amplitude, swing, phase)| {
            let vy = -speed + swing * (2.0 * PI * t + phase).sin();
            scatterer(
                Vec3::new(2.0 + dx, y, z),
                Vec3::new(0.0, vy, 0.0),
                amplitude,
            )
        })
        .collect()
}

/// Ten pieces of furniture and wall features, 1.5-5 m from the radar.
fn furniture() -> Vec<Scatterer> {
    (0..10)
        .map(|i| {
            let i = f64::from(i);
            let pos = Vec3::new(0.5 + 0.33 * i, 1.5 + 0.35 * i, 0.4 + 0.1 * i);
            scatterer(pos, Vec3::ZERO, 1.0 + 0.2 * i)
        })
        .collect()
}

#[test]
fn a_scatterer_moving_away_has_positive_doppler_and_one_approaching_negative() {
    let room = quiet_room();
    let pos = Vec3::new(2.5, 3.0, 1.2);
    let los = (pos - RADAR).unit();
    for (sign, label) in [(1.0, "away"), (-1.0, "toward")] {
        let mut r = renderer(RadarConfig::default());
        let frames = render_points(&mut r, &room, 40, |t| {
            vec![scatterer(pos + los * (sign * t), los * sign, 1.0)]
        });
        let points: Vec<&Point> = frames.iter().flatten().collect();
        assert!(points.len() >= 40, "{label}: only {} points", points.len());
        for p in &points {
            assert!(p.v * sign as f32 > 0.0, "{label}: v = {}", p.v);
        }
        let mean = points.iter().map(|p| f64::from(p.v)).sum::<f64>() / points.len() as f64;
        assert!((mean - sign).abs() < 0.1, "{label}: mean v = {mean}");
    }
}

#[test]
fn a_lone_point_reflector_is_reported_within_the_resolution_of_its_position() {
    let mut room = quiet_room();
    room.radar.yaw = 0.4;
    let truth_radar = Vec3::new(0.6, 3.0, 0.3);
    let pos = room.radar.pos + truth_radar.rotate_z(room.radar.yaw);
    assert!(room.radar.to_radar_frame(pos).distance(truth_radar) < 1e-12);
    let vel = (pos - room.radar.pos).unit() * 0.8;
    let mut r = renderer(point_targets());
    let frames = render_points(&mut r, &room, 50, |_| vec![scatterer(pos, vel, 1.0)]);
    let config = r.config().clone();
    let points: Vec<&Point> = frames.iter().flatten().collect();
    assert!(
        points.len() >= 45,
        "{} detections in 50 frames",
        points.len()
    );
    let truth = truth_radar * (1.0 / truth_radar.norm());
    let grid = 2.0 / f64::from(config.angle_fft_size);
    for p in points {
        let reported = Vec3::new(p.x.into(), p.y.into(), p.z.into());
        let range_error = reported.norm() - truth_radar.norm();
        assert!(
            range_error.abs() <= config.range_resolution_m / 2.0 + 1e-6,
            "{range_error}"
        );
        // Direction cosines: within 4σ of the angle estimate at this point's SNR (plus the
        // FFT grid), itself well inside the resolution 2/N.
        let snr = 10f64.powf(f64::from(p.snr.unwrap()) / 100.0);
        let dir = reported * (1.0 / reported.norm());
        for (axis, error, antennas) in [
            ("azimuth", dir.x - truth.x, config.azimuth_antennas),
            ("elevation", dir.z - truth.z, config.elevation_antennas),
        ] {
            let resolution = 2.0 / f64::from(antennas);
            let bound = 4.0 * resolution / (2.0 * snr).sqrt() + grid / 2.0 + 1e-6;
            assert!(bound < resolution);
            assert!(
                error.abs() <= bound,
                "{axis} error {error} > {bound} in {p:?}"
            );
        }
    }
}

#[test]
fn a_scatterer_outside_the_field_of_view_is_never_detected() {
    let room = quiet_room();
    let at = |az_deg: f64, el_deg: f64| {
        let (az, el) = (f64::to_radians(az_deg), f64::to_radians(el_deg));
        RADAR + Vec3::new(el.cos() * az.sin(), el.cos() * az.cos(), el.sin()) * 2.5
    };
    let outside = [at(75.0, 0.0), at(-70.0, 0.0), at(0.0, 35.0), at(180.0, 0.0)];
    let vel = Vec3::new(0.0, 1.0, 0.0);
    // Point reflectors: an extended one straddling the edge is partly inside.
    let mut r = renderer(point_targets());
    let frames = render_points(&mut r, &room, 50, |_| {
        outside.iter().map(|&p| scatterer(p, vel, 3.0)).collect()
    });
    assert_eq!(
        mean_count(&frames),
        0.0,
        "{:?}",
        frames.iter().flatten().collect::<Vec<_>>()
    );
    let inside = render_points(&mut r, &room, 50, |_| {
        vec![scatterer(at(30.0, 5.0), vel, 3.0)]
    });
    assert!(mean_count(&inside) >= 0.9, "{}", mean_count(&inside));
}

#[test]
fn static_reflectors_vanish_with_clutter_removal_and_appear_without() {
    let mut room = quiet_room();
    room.statics = furniture();
    let mut on = renderer(RadarConfig::default());
    let with_removal = mean_count(&render_points(&mut on, &room, 100, |_| Vec::new()));
    let mut off = renderer(RadarConfig {
        clutter_removal: false,
        ..RadarConfig::default()
    });
    let without = render_points(&mut off, &room, 100, |_| Vec::new());
    assert!(with_removal < 0.2, "{with_removal} static points per frame");
    assert!(mean_count(&without) > 5.0, "{}", mean_count(&without));
    assert!(without.iter().flatten().all(|p| p.v == 0.0));
}

#[test]
fn reported_snr_falls_with_range() {
    let room = quiet_room();
    let mean_snr_db = |distance: f64| {
        let mut r = renderer(point_targets());
        let pos = RADAR + Vec3::new(0.0, distance, 0.0);
        let vel = Vec3::new(0.0, 1.0, 0.0);
        let frames = render_points(&mut r, &room, 200, |_| vec![scatterer(pos, vel, 1.0)]);
        let snrs: Vec<f64> = frames
            .iter()
            .flatten()
            .filter_map(|p| p.snr)
            .map(f64::from)
            .collect();
        snrs.iter().sum::<f64>() / snrs.len() as f64 / 10.0
    };
    let (near, far) = (mean_snr_db(2.0), mean_snr_db(5.0));
    // 40·log10(5/2) = 15.9 dB on average; detection favours the lucky far frames.
    assert!(near - far > 10.0, "near {near} dB, far {far} dB");
}

#[test]
fn two_scatterers_in_one_cell_merge_and_in_different_cells_stay_apart() {
    let room = quiet_room();
    let a = RADAR + Vec3::new(0.0, 3.0, 0.0);
    let away = Vec3::new(0.0, 1.0, 0.0);
    let pairs = [
        ("same cell", a + Vec3::new(0.005, 0.005, 0.0), away, 1usize),
        ("one metre further", a + Vec3::new(0.0, 1.0, 0.0), away, 2),
        ("faster", a, Vec3::new(0.0, 2.0, 0.0), 2),
    ];
    for (label, b, b_vel, expected) in pairs {
        let mut r = renderer(point_targets());
        let frames = render_points(&mut r, &room, 40, |_| {
            vec![scatterer(a, away, 2.0), scatterer(b, b_vel, 2.0)]
        });
        let hits = frames.iter().filter(|f| f.len() == expected).count();
        assert!(frames.iter().all(|f| f.len() <= expected), "{label}");
        assert!(
            hits >= 36,
            "{label}: {hits} of 40 frames had {expected} points"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_differs() {
    let mut room = quiet_room();
    room.statics = furniture();
    room.multipath = 0.4;
    room.clutter_per_frame = 1.5;
    let bytes = |seed: u64| {
        let mut r = RadarRenderer::new(RadarConfig::default(), seed).unwrap();
        (0..20)
            .map(|n| {
                let t = r.frame_time(n);
                r.render_bytes(&room, &person(t, 4.0, 1.0), t, n).unwrap()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(bytes(3), bytes(3));
    assert_ne!(bytes(3), bytes(4));
    // A frame does not depend on what was rendered before it.
    let mut r = RadarRenderer::new(RadarConfig::default(), 3).unwrap();
    let t = r.frame_time(5);
    let alone = r.render_bytes(&room, &person(t, 4.0, 1.0), t, 5).unwrap();
    assert_eq!(alone, bytes(3)[5]);
}

#[test]
fn encoded_frames_decode_to_the_same_frames() {
    let mut room = quiet_room();
    room.clutter_per_frame = 1.0;
    let mut r = renderer(RadarConfig::default());
    let mut stream = Vec::new();
    let mut rendered = Vec::new();
    for n in 0..30 {
        let t = r.frame_time(n);
        let frame = r.render_frame(&room, &person(t, 4.0, 1.0), t, n);
        stream.extend(frame.encode().unwrap());
        rendered.push(frame);
    }
    let mut decoded: Vec<Frame> = Vec::new();
    let mut decoder = FrameDecoder::new();
    decode_all(&mut decoder, &stream, |f| decoded.push(f));
    assert_eq!(decoded, rendered);
    let with_points = decoded.iter().find(|f| !f.points.is_empty()).unwrap();
    assert_eq!(with_points.version, 0x0304_0003);
    assert_eq!(with_points.platform, 0xA6843);
    assert_eq!(with_points.tlv_types().collect::<Vec<_>>(), [1, 7, 2, 6, 9]);
    assert!(decoded
        .iter()
        .flat_map(|f| &f.points)
        .all(|p| p.snr.is_some_and(|s| s >= 130) && p.noise.is_some()));
}

#[test]
fn a_walking_person_gives_a_varying_handful_of_points() {
    let room = quiet_room();
    let mut r = renderer(RadarConfig::default());
    let frames = render_points(&mut r, &room, 60, |t| person(t, 4.5, 0.8));
    let counts: Vec<f64> = frames.iter().map(|f| f.len() as f64).collect();
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
    assert!((5.0..=30.0).contains(&mean), "mean {mean} points per frame");
    assert!(var.sqrt() > 1.0, "counts barely vary: {counts:?}");
}

#[test]
fn a_still_person_is_sparse_with_clutter_removal() {
    let room = quiet_room();
    let breathing = |t: f64| {
        let mut body = person(0.0, 3.0, 0.0);
        for s in &mut body {
            s.vel = Vec3::new(0.0, 0.01 * (2.0 * PI * 0.25 * t).sin(), 0.0);
        }
        body
    };
    let mut r = renderer(RadarConfig::default());
    let still = mean_count(&render_points(&mut r, &room, 100, breathing));
    let walking = mean_count(&render_points(&mut r, &room, 100, |t| person(t, 4.5, 0.8)));
    assert!(still < walking / 3.0, "still {still}, walking {walking}");
}

#[test]
fn clutter_false_alarms_come_at_the_rooms_rate() {
    let mut room = quiet_room();
    room.clutter_per_frame = 2.0;
    let mut r = renderer(RadarConfig::default());
    let frames = render_points(&mut r, &room, 300, |_| Vec::new());
    let mean = mean_count(&frames);
    assert!((1.7..=2.3).contains(&mean), "{mean} false alarms per frame");
    assert!(frames.iter().flatten().all(|p| p.v != 0.0));
}

#[test]
fn multipath_ghosts_appear_beyond_the_walls_only_in_reflective_rooms() {
    let ghosts = |multipath: f64| {
        let room = room(Vec3::new(4.0, 6.0, 3.0), multipath);
        let near_wall = RADAR + Vec3::new(1.5, 2.0, 0.0);
        let vel = Vec3::new(0.7, 0.5, 0.0);
        let mut r = renderer(RadarConfig::default());
        let frames = render_points(&mut r, &room, 200, |_| vec![scatterer(near_wall, vel, 1.5)]);
        let beyond = |p: &&Point| f64::from(p.x) + RADAR.x > room.size.x + 0.2;
        frames.iter().flatten().filter(beyond).count()
    };
    assert_eq!(ghosts(0.0), 0);
    let seen = ghosts(0.6);
    assert!(
        (5..200).contains(&seen),
        "{seen} ghost points in 200 frames"
    );
}

#[test]
fn points_are_capped_at_the_configured_maximum() {
    let room = quiet_room();
    let crowd: Vec<Scatterer> = (0..400)
        .map(|i| {
            let i = f64::from(i);
            let pos = RADAR + Vec3::new((i * 0.37).sin() * 1.5, 1.0 + i * 0.015, 0.0);
            scatterer(pos, Vec3::new(0.0, 0.3 + (i * 0.11).sin(), 0.0), 2.0)
        })
        .collect();
    let config = RadarConfig {
        max_points: 20,
        ..RadarConfig::default()
    };
    let mut r = renderer(config);
    let frame = r.render_frame(&room, &crowd, 0.0, 0);
    assert_eq!(frame.points.len(), 20);
    assert_eq!(frame.num_detected_obj, 20);
    let ranges: Vec<f32> = frame
        .points
        .iter()
        .map(|p| p.x.hypot(p.y).hypot(p.z))
        .collect();
    assert!(ranges.windows(2).all(|w| w[0] <= w[1] + 1e-3), "{ranges:?}");
}

#[test]
fn an_empty_room_sends_only_the_housekeeping_tlvs() {
    let mut r = renderer(RadarConfig::default());
    let frame = r.render_frame(&quiet_room(), &[], 1.0, 20);
    assert_eq!(frame.tlv_types().collect::<Vec<_>>(), [2, 6, 9]);
    let bytes = frame.encode().unwrap();
    assert_eq!(bytes.len() % 32, 0);
    assert_eq!(Frame::parse_bytes(&bytes).unwrap(), frame);
}

#[test]
fn an_invalid_config_is_refused() {
    let config = RadarConfig {
        frame_rate_hz: 0.0,
        ..RadarConfig::default()
    };
    let err = RadarRenderer::new(config, 1).unwrap_err();
    assert_eq!(err.field, "frame_rate_hz");
}

/// Speed figure for the report: `cargo test --release -p dagr-sim radar_render_speed --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn radar_render_speed() {
    let mut room = room(Vec3::new(4.0, 6.0, 3.0), 0.3);
    room.statics = furniture();
    room.clutter_per_frame = 1.0;
    let mut r = renderer(RadarConfig::default());
    let frames = 20_000u32;
    let start = std::time::Instant::now();
    let mut bytes = 0usize;
    let mut points = 0usize;
    for n in 0..frames {
        let t = r.frame_time(n % 100);
        let frame = r.render_frame(&room, &person(t, 4.5, 0.8), t, n);
        points += frame.points.len();
        bytes += frame.encode().unwrap().len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.0} frames/s ({:.0}x real time at 20 Hz), {:.1} points/frame, {} bytes",
        f64::from(frames) / secs,
        f64::from(frames) / secs / 20.0,
        points as f64 / f64::from(frames),
        bytes
    );
    let real_time = f64::from(frames) / secs / 20.0;
    assert!(
        real_time >= 50.0,
        "radar at {real_time:.0}x real time (target >= 50x)"
    );
}

/// Points per frame within 1 m of a still person (only breathing moves them) in room `k`,
/// with clutter removal on or off; the room's false alarms are left out.
fn points_on_a_still_person(k: u32, clutter_removal: bool) -> f64 {
    use crate::activity::Activity;
    use crate::scenario::{Schedule, Scheduled};
    use crate::Scene;
    let schedule = Schedule {
        items: vec![Scheduled {
            start: 0.0,
            end: 1.0,
            activity: Activity::PhoneCall,
        }],
    };
    let mut room = Room::generate(k);
    room.clutter_per_frame = 0.0;
    let world = crate::world::World::new(room, crate::body::Subject::generate(k), schedule, 1)
        .without_micro_motion();
    let config = RadarConfig {
        clutter_removal,
        ..RadarConfig::default()
    };
    let mut r = RadarRenderer::new(config, 5).unwrap();
    let mut body = Vec::new();
    let mut near = 0usize;
    let frames = 100;
    for f in 0..frames {
        let t = 3.0 + f64::from(f) * 0.05;
        body.clear();
        world.body_at(t, &mut body);
        let chest = world
            .room()
            .radar
            .to_radar_frame(body[crate::body::part::CHEST].pos);
        let frame = r.render_frame(world.room(), &body, t, f);
        near += frame
            .points
            .iter()
            .filter(|p| {
                let p = Vec3::new(f64::from(p.x), f64::from(p.y), f64::from(p.z));
                p.distance(chest) < 1.0
            })
            .count();
    }
    near as f64 / f64::from(frames)
}

#[test]
fn a_still_person_is_seen_with_clutter_removal_off_and_mostly_not_with_it_on() {
    for k in [1, 2, 3] {
        let off = points_on_a_still_person(k, false);
        let on = points_on_a_still_person(k, true);
        assert!(
            off >= 2.0,
            "room {k}: {off} points per frame without clutter removal"
        );
        assert!(
            on < 0.5 * off,
            "room {k}: {on} points with clutter removal, {off} without"
        );
    }
}
