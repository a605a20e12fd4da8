//! Physics and protocol checks of the whole reader: rendered bytes decoded back.
use std::f64::consts::{PI, TAU};

use dagr_protocols::llrp::{Message, MessageDecoder, TagReport};
use dagr_protocols::stream::{decode_chunk, StreamDecoder};

use super::channels::{frequency_hz, wavelength_m};
use super::link::{Surroundings, TagPose};
use super::report::{quantize_phase, tag_report};
use super::*;
use crate::{RadarMount, RfidSetup, Tag, C};

const ONE_STEP: f64 = TAU / 4096.0;
const EPOCH_US: u64 = 1_700_000_000_000_000;

fn clock(t: f64) -> u64 {
    EPOCH_US + (t * 1e6).round() as u64
}

fn epc(i: usize) -> [u8; 12] {
    let mut e = [0xe2, 0, 0, 0x17, 1, 0x0b, 1, 0x62, 0x10, 0, 0, 0];
    e[11] = i as u8;
    e
}

fn room(antennas: Vec<Vec3>, tags: Vec<Vec3>) -> Room {
    Room {
        id: 0,
        size: Vec3::new(6.0, 6.0, 3.0),
        statics: Vec::new(),
        multipath: 0.0,
        clutter_per_frame: 0.0,
        radar: RadarMount {
            pos: Vec3::ZERO,
            yaw: 0.0,
        },
        wifi: Vec::new(),
        rfid: RfidSetup {
            antennas,
            tags: tags
                .into_iter()
                .enumerate()
                .map(|(i, pos)| Tag {
                    epc: epc(i),
                    pos,
                    object: None,
                })
                .collect(),
        },
    }
}

/// Twelve tags around a 6 m room, four antennas on the walls, ten static reflectors.
fn office() -> Room {
    let antennas = vec![
        Vec3::new(0.1, 3.0, 1.5),
        Vec3::new(5.9, 3.0, 1.5),
        Vec3::new(3.0, 0.1, 1.5),
        Vec3::new(3.0, 5.9, 1.5),
    ];
    let tags = (0..12)
        .map(|i| {
            let a = i as f64 * TAU / 12.0;
            Vec3::new(
                3.0 + 2.2 * a.cos(),
                3.0 + 2.2 * a.sin(),
                0.8 + 0.1 * i as f64,
            )
        })
        .collect();
    let mut r = room(antennas, tags);
    r.multipath = 0.3;
    r.statics = (0..10)
        .map(|i| Scatterer {
            pos: Vec3::new(
                0.5 * i as f64 + 0.5,
                if i % 2 == 0 { 0.3 } else { 5.7 },
                1.0,
            ),
            vel: Vec3::ZERO,
            amplitude: 0.5,
        })
        .collect();
    r
}

/// A person of 18 scatterers around `centre` (a torso of four 0.25 points, limbs and head
/// of 0.07), all moving at `vel`.
fn person(centre: Vec3, vel: Vec3, out: &mut Vec<Scatterer>) {
    for k in 0..18 {
        let a = k as f64 * TAU / 18.0;
        let offset = Vec3::new(0.15 * a.cos(), 0.15 * a.sin(), 0.1 * (k % 9) as f64 - 0.4);
        out.push(Scatterer {
            pos: centre + offset,
            vel,
            amplitude: if k < 4 { 0.25 } else { 0.07 },
        });
    }
}

fn noiseless() -> RfidConfig {
    RfidConfig {
        phase_noise_deg: 0.0,
        rssi_noise_db: 0.0,
        doppler_noise_hz: 0.0,
        ..RfidConfig::default()
    }
}

fn no_body(_: f64, _: &mut Vec<Scatterer>) {}

fn reads(renderer: &mut RfidRenderer, room: &Room, t_to: f64) -> Vec<TagRead> {
    std::iter::from_fn(|| renderer.next_read(room, no_body, t_to)).collect()
}

fn decode(bytes: &[u8]) -> Vec<Message> {
    let mut decoder = MessageDecoder::new();
    let mut messages = Vec::new();
    decode_chunk(&mut decoder, bytes, |m| messages.push(m));
    assert_eq!(decoder.stats().bytes_skipped, 0);
    assert_eq!(decoder.stats().frames_rejected, 0);
    messages
}

/// `a − b` wrapped into (−π, π].
fn wrapped(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(TAU);
    if d > PI {
        d - TAU
    } else {
        d
    }
}

#[test]
fn free_space_phase_is_4_pi_d_over_lambda_plus_the_offsets_to_one_step() {
    let r = room(
        vec![Vec3::new(0.0, 0.0, 1.0), Vec3::new(4.0, 0.0, 1.0)],
        vec![Vec3::new(1.0, 2.0, 1.2), Vec3::new(3.3, 2.7, 0.4)],
    );
    let mut reader = RfidRenderer::new(noiseless());
    let mut bytes = Vec::new();
    reader
        .render_until(&r, no_body, 5.0, clock, &mut bytes)
        .unwrap();
    let messages = decode(&bytes);
    assert!(messages.len() > 200);
    for report in messages.iter().flat_map(|m| m.tags()) {
        let tag = usize::from(report.epc.as_bytes()[11]);
        let ant = usize::from(report.antenna_id.unwrap() - 1);
        let ch = report.channel_index.unwrap();
        let d = r.rfid.antennas[ant].distance(r.rfid.tags[tag].pos);
        let offset = reader.phase_offset(&epc(tag), ant, ch);
        let expected = 4.0 * PI * d / wavelength_m(ch) + offset;
        let err = wrapped(report.phase_rad().unwrap(), expected);
        assert!(err.abs() <= 0.5 * ONE_STEP + 1e-9, "error {err} rad");
    }
}

#[test]
fn moving_a_tag_a_quarter_wavelength_away_turns_its_phase_by_pi() {
    let config = RfidConfig {
        hop_dwell_s: (100.0, 100.0),
        ..noiseless()
    };
    let antenna = Vec3::new(0.0, 0.0, 1.0);
    let tag = Vec3::new(1.2, 1.6, 1.0);
    let mut probe = RfidRenderer::new(config.clone());
    let first = probe
        .next_read(&room(vec![antenna], vec![tag]), no_body, 1.0)
        .unwrap();
    let quarter = wavelength_m(first.channel_index) / 4.0;
    let moved = tag + (tag - antenna).unit() * quarter;

    let near = reads(
        &mut RfidRenderer::new(config.clone()),
        &room(vec![antenna], vec![tag]),
        1.0,
    );
    let far = reads(
        &mut RfidRenderer::new(config),
        &room(vec![antenna], vec![moved]),
        1.0,
    );
    assert_eq!(near.len(), far.len());
    assert!(near.len() > 10);
    for (a, b) in near.iter().zip(&far) {
        assert_eq!(a.channel_index, first.channel_index);
        let turn = wrapped(b.phase_rad, a.phase_rad);
        assert!((turn.abs() - PI).abs() < 1e-9, "turn {turn}");
        let (qa, qb) = (quantize_phase(a.phase_rad), quantize_phase(b.phase_rad));
        let steps = (i32::from(qb) - i32::from(qa)).rem_euclid(4096);
        assert!(steps.abs_diff(2048) <= 1, "{steps} steps");
    }
}

#[test]
fn phase_difference_between_channels_is_4_pi_d_delta_f_over_c() {
    let antenna = Vec3::new(0.0, 0.0, 1.0);
    let r = room(vec![antenna], vec![Vec3::new(2.0, 1.5, 0.5)]);
    let d = antenna.distance(r.rfid.tags[0].pos);
    let mut reader = RfidRenderer::new(noiseless());
    let mut bytes = Vec::new();
    reader
        .render_until(&r, no_body, 20.0, clock, &mut bytes)
        .unwrap();
    // One calibrated phase per channel: reported phase minus the fixed offsets.
    let mut calibrated = std::collections::BTreeMap::new();
    for report in decode(&bytes).iter().flat_map(|m| m.tags()) {
        let ch = report.channel_index.unwrap();
        let phase = report.phase_rad().unwrap() - reader.phase_offset(&epc(0), 0, ch);
        calibrated.insert(ch, phase);
    }
    assert!(calibrated.len() >= 30, "{} channels", calibrated.len());
    let (&low, &low_phase) = calibrated.iter().next().unwrap();
    for (&ch, &phase) in &calibrated {
        let delta_f = frequency_hz(ch) - frequency_hz(low);
        let expected = 4.0 * PI * d * delta_f / C;
        let err = wrapped(phase - low_phase, expected);
        assert!(
            err.abs() <= ONE_STEP + 1e-9,
            "channel {ch}: error {err} rad"
        );
    }
}

#[test]
fn rssi_falls_12_db_per_doubling_of_distance() {
    let antenna = Vec3::new(0.0, 0.0, 1.0);
    let dir = Vec3::new(0.6, 0.8, 0.0);
    let r = room(
        vec![antenna],
        vec![antenna + dir * 1.5, antenna + dir * 3.0],
    );
    let config = RfidConfig {
        hop_dwell_s: (100.0, 100.0),
        ..noiseless()
    };
    let mut bytes = Vec::new();
    RfidRenderer::new(config)
        .render_until(&r, no_body, 2.0, clock, &mut bytes)
        .unwrap();
    let mean_rssi = |tag: u8| {
        let values: Vec<f64> = decode(&bytes)
            .iter()
            .flat_map(|m| m.tags().to_vec())
            .filter(|t| t.epc.as_bytes()[11] == tag)
            .map(|t| t.impinj_peak_rssi_dbm().unwrap())
            .collect();
        assert!(values.len() > 20);
        values.iter().sum::<f64>() / values.len() as f64
    };
    let seed = RfidConfig::default().seed;
    let orientation = |tag: usize| 2.0 * super::tag_gain_db(seed, &r.rfid.tags[tag].epc);
    let drop = (mean_rssi(0) - orientation(0)) - (mean_rssi(1) - orientation(1));
    assert!((drop - 40.0 * 2f64.log10()).abs() < 0.01, "drop {drop} dB");
}

/// Largest |phase − free-space phase| over a tag's reads while the person walks by.
fn worst_phase_disturbance(room: &Room, tag: usize, walk: impl Fn(f64) -> Vec3) -> f64 {
    let mut reader = RfidRenderer::new(noiseless());
    let velocity = Vec3::new(0.0, 0.5, 0.0);
    let mut worst: f64 = 0.0;
    let mut count = 0;
    while let Some(read) = reader.next_read(room, |t, b| person(walk(t), velocity, b), 4.0) {
        if read.tag != tag {
            continue;
        }
        let ant = usize::from(read.antenna_id - 1);
        let d = room.rfid.antennas[ant].distance(room.rfid.tags[tag].pos);
        let clean = 4.0 * PI * d / wavelength_m(read.channel_index)
            + reader.phase_offset(&epc(tag), ant, read.channel_index);
        worst = worst.max(wrapped(read.phase_rad, clean).abs());
        count += 1;
    }
    assert!(count > 50);
    worst
}

#[test]
fn a_person_passing_close_to_a_tag_disturbs_its_phase_while_a_far_tag_barely_moves() {
    let antenna = Vec3::new(3.0, 0.0, 1.2);
    let near_tag = Vec3::new(1.0, 2.0, 1.0);
    let far_tag = Vec3::new(4.5, 0.6, 1.0);
    let r = room(vec![antenna], vec![near_tag, far_tag]);
    // Walks along y at x = 1.3, passing 0.3 m from the near tag, > 3 m from the far one.
    let walk = |t: f64| Vec3::new(1.3, 1.0 + 0.5 * t, 1.1);
    let near = worst_phase_disturbance(&r, 0, walk);
    let far = worst_phase_disturbance(&r, 1, walk);
    assert!(
        near > 20f64.to_radians(),
        "near tag: {} deg",
        near.to_degrees()
    );
    assert!(far < 5f64.to_radians(), "far tag: {} deg", far.to_degrees());
}

#[test]
fn each_tag_is_read_about_30_times_a_second_over_10_s() {
    let r = office();
    let mut reader = RfidRenderer::new(RfidConfig {
        seed: 11,
        ..RfidConfig::default()
    });
    let mut per_tag = [0usize; 12];
    for read in reads(&mut reader, &r, 10.0) {
        per_tag[read.tag] += 1;
    }
    // 30 attempts/s, of which `miss_probability` fail even for a strong tag.
    let expected = 30.0 * (1.0 - RfidConfig::default().miss_probability);
    let mean = per_tag.iter().sum::<usize>() as f64 / 12.0 / 10.0;
    assert!((mean - expected).abs() < 1.5, "mean {mean} reads/s per tag");
    for (tag, &n) in per_tag.iter().enumerate() {
        assert!((190..330).contains(&n), "tag {tag}: {n} reads in 10 s");
    }
}

#[test]
fn rssi_of_generated_rooms_stays_in_the_impinj_indoor_range_and_some_reads_miss() {
    let (mut all, mut attempts_per_s) = (Vec::new(), 0.0);
    for k in 0..8 {
        let r = Room::generate(k);
        let mut reader = RfidRenderer::new(RfidConfig {
            seed: u64::from(k),
            ..RfidConfig::default()
        });
        all.extend(reads(&mut reader, &r, 5.0));
        attempts_per_s += 30.0 * r.rfid.tags.len() as f64;
    }
    let rssi: Vec<f64> = all.iter().map(|r| r.rssi_dbm).collect();
    let share = |keep: &dyn Fn(f64) -> bool| {
        rssi.iter().filter(|&&x| keep(x)).count() as f64 / rssi.len() as f64
    };
    let mut sorted = rssi.clone();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    let quantiles = [q(0.0), q(0.05), q(0.5), q(0.95), q(1.0)];
    assert!(
        share(&|x| (-75.0..=-35.0).contains(&x)) > 0.9,
        "RSSI quantiles 0/5/50/95/100 %: {quantiles:?}"
    );
    assert!(
        rssi.iter().all(|&x| (-86.0..-25.0).contains(&x)),
        "{quantiles:?}"
    );
    let read_rate = all.len() as f64 / (attempts_per_s * 5.0);
    assert!(
        (0.6..0.88).contains(&read_rate),
        "{read_rate} of attempts read"
    );
}

#[test]
fn channel_index_hops_within_1_to_50_and_antennas_take_turns() {
    let r = office();
    let mut reader = RfidRenderer::new(RfidConfig::default());
    let all = reads(&mut reader, &r, 10.0);
    let mut channels: Vec<u16> = all.iter().map(|r| r.channel_index).collect();
    assert!(channels.iter().all(|c| (1..=50).contains(c)));
    channels.dedup();
    // 10 s of 0.2–0.4 s dwells: 25 to 50 hops.
    assert!(
        (24..=51).contains(&channels.len()),
        "{} hops",
        channels.len()
    );
    for read in &all {
        let slot = (read.t_s / 0.05).floor() as u64 % 4;
        assert_eq!(u64::from(read.antenna_id), slot + 1);
    }
    let antennas: std::collections::BTreeSet<u16> = all.iter().map(|r| r.antenna_id).collect();
    assert_eq!(antennas.len(), 4);
}

#[test]
fn reported_doppler_follows_the_phase_trend_of_a_person_walking_by() {
    // Doppler sign check end to end: f_D = −(1/2π)·dφ/dt, so a phase that grows (paths
    // lengthening) must come with a negative Doppler and vice versa.
    let antenna = Vec3::new(3.0, 0.0, 1.2);
    let r = room(vec![antenna], vec![Vec3::new(1.0, 2.0, 1.0)]);
    let velocity = Vec3::new(0.3, 0.8, 0.0);
    let centre = |t: f64| Vec3::new(0.4, 1.0, 1.1) + velocity * t;
    let config = RfidConfig {
        hop_dwell_s: (100.0, 100.0),
        ..noiseless()
    };
    let link = config.link;
    let mut reader = RfidRenderer::new(config);
    let phase_at = |t: f64, lambda: f64| {
        let mut body = Vec::new();
        person(centre(t), velocity, &mut body);
        let around = Surroundings {
            body: &body,
            statics: &[],
            multipath: 0.0,
        };
        let tag = TagPose {
            pos: r.rfid.tags[0].pos,
            vel: Vec3::ZERO,
        };
        link.backscatter(antenna, tag, lambda, around).phase_rad
    };
    let (mut positive, mut negative) = (0, 0);
    while let Some(read) = reader.next_read(&r, |t, b| person(centre(t), velocity, b), 2.0) {
        let lambda = wavelength_m(read.channel_index);
        let h = 1e-5;
        let rate = wrapped(
            phase_at(read.t_s + h, lambda),
            phase_at(read.t_s - h, lambda),
        ) / (2.0 * h);
        let numeric = -rate / TAU;
        let tolerance = 1e-3 * numeric.abs() + 1e-3;
        assert!(
            (read.doppler_hz - numeric).abs() < tolerance,
            "{} vs {numeric}",
            read.doppler_hz
        );
        if numeric > 0.5 {
            positive += 1;
        } else if numeric < -0.5 {
            negative += 1;
        }
    }
    assert!(
        positive > 3 && negative > 3,
        "{positive} positive, {negative} negative"
    );
}

#[test]
fn default_noise_scatters_a_still_tags_phase_by_a_few_degrees() {
    let antenna = Vec3::new(0.0, 0.0, 1.0);
    let r = room(vec![antenna], vec![Vec3::new(1.5, 2.0, 1.0)]);
    let config = RfidConfig {
        hop_dwell_s: (100.0, 100.0),
        ..RfidConfig::default()
    };
    let all = reads(&mut RfidRenderer::new(config), &r, 10.0);
    let reference = all[0].phase_rad;
    let deviations: Vec<f64> = all
        .iter()
        .map(|x| wrapped(x.phase_rad, reference))
        .collect();
    let mean = deviations.iter().sum::<f64>() / deviations.len() as f64;
    let var = deviations.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / deviations.len() as f64;
    let sigma_deg = var.sqrt().to_degrees();
    assert!(
        (2.7..3.3).contains(&sigma_deg),
        "phase noise {sigma_deg} deg"
    );
}

#[test]
fn a_tag_too_far_to_wake_up_is_never_read() {
    let antenna = Vec3::new(0.0, 0.0, 1.0);
    let r = room(
        vec![antenna],
        vec![Vec3::new(2.0, 0.0, 1.0), Vec3::new(40.0, 0.0, 1.0)],
    );
    let all = reads(&mut RfidRenderer::new(RfidConfig::default()), &r, 5.0);
    assert!(all.iter().any(|r| r.tag == 0));
    assert!(all.iter().all(|r| r.tag == 0));
}

#[test]
fn rendered_bytes_decode_to_the_reads_reported_values() {
    let r = office();
    let body = |t: f64, b: &mut Vec<Scatterer>| {
        person(
            Vec3::new(3.0, 1.0 + 0.4 * t, 1.0),
            Vec3::new(0.0, 0.4, 0.0),
            b,
        )
    };
    let config = RfidConfig {
        reads_per_report: 4,
        ..RfidConfig::default()
    };
    let mut reader = RfidRenderer::new(config);
    let mut twin = reader.clone();
    let mut bytes = Vec::new();
    let count = reader
        .render_until(&r, body, 3.0, clock, &mut bytes)
        .unwrap();
    reader.finish(&mut bytes).unwrap();
    let expected: Vec<TagReport> = std::iter::from_fn(|| twin.next_read(&r, body, 3.0))
        .map(|read| tag_report(&read, epc(read.tag), clock(read.t_s)))
        .collect();
    let messages = decode(&bytes);
    assert_eq!(messages.len(), count.div_ceil(4));
    let decoded: Vec<TagReport> = messages.iter().flat_map(|m| m.tags().to_vec()).collect();
    assert_eq!(decoded.len(), count);
    assert_eq!(decoded, expected);
    let first = &decoded[0];
    assert!(first.impinj_phase.unwrap() < 4096);
    assert_eq!(first.first_seen_utc_us, first.last_seen_utc_us);
    assert_eq!(first.tag_seen_count, Some(1));
}

#[test]
fn same_seed_gives_the_same_bytes_however_time_is_split_and_another_seed_differs() {
    let r = office();
    let body = |t: f64, b: &mut Vec<Scatterer>| {
        person(
            Vec3::new(2.0 + 0.3 * t, 3.0, 1.0),
            Vec3::new(0.3, 0.0, 0.0),
            b,
        )
    };
    let render = |seed: u64, steps: &[f64]| {
        let mut reader = RfidRenderer::new(RfidConfig {
            seed,
            ..RfidConfig::default()
        });
        let mut bytes = Vec::new();
        for &t in steps {
            reader.render_until(&r, body, t, clock, &mut bytes).unwrap();
        }
        bytes
    };
    let whole = render(5, &[3.0]);
    assert!(!whole.is_empty());
    assert_eq!(whole, render(5, &[0.01, 0.7, 0.7, 2.2, 3.0]));
    assert_ne!(whole, render(6, &[3.0]));
}

#[test]
fn a_room_without_tags_or_antennas_renders_nothing() {
    let mut bytes = Vec::new();
    let empty = room(Vec::new(), vec![Vec3::new(1.0, 1.0, 1.0)]);
    let mut reader = RfidRenderer::new(RfidConfig::default());
    assert_eq!(
        reader
            .render_until(&empty, no_body, 5.0, clock, &mut bytes)
            .unwrap(),
        0
    );
    let no_tags = room(vec![Vec3::ZERO], Vec::new());
    assert_eq!(
        reader
            .render_until(&no_tags, no_body, 5.0, clock, &mut bytes)
            .unwrap(),
        0
    );
    assert!(bytes.is_empty());
}

/// Speed check, run by hand:
/// `cargo test -p dagr-sim --release rfid_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn rfid_speed() {
    let r = office();
    let body = |t: f64, b: &mut Vec<Scatterer>| {
        person(
            Vec3::new(3.0, 1.0 + 0.1 * t, 1.0),
            Vec3::new(0.0, 0.1, 0.0),
            b,
        )
    };
    let mut reader = RfidRenderer::new(RfidConfig::default());
    let mut bytes = Vec::with_capacity(1 << 20);
    let simulated_s = 600.0;
    let start = std::time::Instant::now();
    let mut total = 0;
    let mut t = 0.0;
    while t < simulated_s {
        t += 0.05;
        bytes.clear();
        total += reader.render_until(&r, body, t, clock, &mut bytes).unwrap();
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "rfid: {total} reads of 12 tags in {simulated_s} s simulated, {wall:.3} s wall: \
         {:.0} reads/s, {:.0}x real time",
        total as f64 / wall,
        simulated_s / wall
    );
    let real_time = simulated_s / wall;
    assert!(
        real_time >= 50.0,
        "RFID at {real_time:.0}x real time (target >= 50x)"
    );
}
