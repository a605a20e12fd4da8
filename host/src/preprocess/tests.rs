//! [`preprocess`] on hand-built windows: shapes, presence, tag order, time grid, and a
//! moving reflector seen in the WiFi tensor.
use std::f64::consts::{PI, TAU};
use std::sync::Arc;

use dagr_protocols::csi::esp32_csi_tool::{CsiRow, Role};
use dagr_protocols::csi::{Iq, RxCtrl};
use dagr_protocols::llrp::{Epc, Message, TagReport};
use dagr_protocols::ti_mmwave::{Frame, Point};

use super::*;
use crate::format::{Decoded, Unit};
use crate::record::{DeviceTime, Payload, Record};
use crate::sync::{ModalityCoverage, SourceCount, TimedRecord, Window};

pub(super) const START_NS: u64 = 10_000_000_000;

pub(super) fn record(
    source: &str,
    modality: Modality,
    t_s: f64,
    payload: Payload,
) -> Arc<TimedRecord> {
    Arc::new(TimedRecord {
        t_ns: START_NS + (t_s * 1e9) as u64,
        record: Record {
            source: source.into(),
            modality,
            device_time: DeviceTime::MicrosU32(0),
            arrival_ns: 0,
            wire_bytes: 0,
            payload,
        },
    })
}

/// A 2 s window holding `records`, each modality present iff `present` says so.
pub(super) fn window(mut records: Vec<Arc<TimedRecord>>, present: [bool; 3]) -> Window {
    records.sort_by_key(|r| r.t_ns);
    let mut sources: Vec<SourceCount> = Vec::new();
    for r in &records {
        match sources.iter_mut().find(|s| s.source == r.record.source) {
            Some(s) => s.records += 1,
            None => sources.push(SourceCount {
                source: r.record.source.clone(),
                modality: r.record.modality,
                records: 1,
            }),
        }
    }
    sources.sort_by(|a, b| a.source.cmp(&b.source));
    let mut window = Window::empty();
    window.start_ns = START_NS;
    window.end_ns = START_NS + 2_000_000_000;
    window.modalities = present.map(|present| ModalityCoverage {
        present,
        coverage: if present { 1.0 } else { 0.0 },
        records: 0,
    });
    window.sources = sources;
    window.records = records;
    window.index_modalities();
    window
}

/// The payload of the record `unit` decodes to, made by its format's glue in `format/`
/// (so these tests read the formats' units as the gateway does).
pub(super) fn payload_of(unit: impl Unit) -> Payload {
    let mut payload = None;
    unit.into_decoded(&Arc::from("test"), 0, &mut |decoded| {
        if let Decoded::Record(record) = decoded {
            payload.get_or_insert(record.payload);
        }
    });
    payload.expect("the unit decodes to a record")
}

/// The payload of an LLRP tag report.
pub(super) fn tag_payload(report: TagReport) -> Payload {
    payload_of(Message::ro_access_report(1, vec![report]))
}

pub(super) fn csi_row(ant: u8, csi: Vec<Iq>) -> Payload {
    let rx_ctrl = RxCtrl {
        rssi: -40,
        ant,
        sig_len: 100,
        ..RxCtrl::ht20(6)
    };
    payload_of(CsiRow {
        len: 128,
        ..CsiRow::new(Role::Sta, [0; 6], rx_ctrl, csi)
    })
}

/// CSI of a direct path plus a reflector `delay_ns` longer on channel 6 (2.437 GHz), in
/// ESP32 buffer order.
pub(super) fn two_path_csi(delay_ns: f64) -> Vec<Iq> {
    (0..64)
        .map(|b| {
            let k = if b < 32 { b as f64 } else { b as f64 - 64.0 };
            let angle = -TAU * (2.437e9 + k * 312_500.0) * delay_ns * 1e-9;
            let (re, im) = (60.0 + 40.0 * angle.cos(), 40.0 * angle.sin());
            Iq {
                re: re.round() as i8,
                im: im.round() as i8,
            }
        })
        .collect()
}

pub(super) fn tag(epc_last: u8, phase: f64, channel: u16) -> Payload {
    tag_payload(tag_report(epc_last, phase, channel))
}

fn tag_report(epc_last: u8, phase: f64, channel: u16) -> TagReport {
    let mut epc = [0u8; 12];
    epc[11] = epc_last;
    TagReport {
        epc: Epc::Epc96(epc),
        antenna_id: Some(1),
        channel_index: Some(channel),
        impinj_phase: Some((phase.rem_euclid(TAU) / TAU * 4096.0).round() as u16 % 4096),
        ..TagReport::default()
    }
}

pub(super) fn radar(points: Vec<Point>) -> Payload {
    payload_of(Frame {
        points,
        ..Frame::default()
    })
}

pub(super) fn point(x: f32, snr: i16) -> Point {
    Point {
        x,
        y: 2.0,
        z: 1.0,
        v: -0.5,
        snr: Some(snr),
        ..Point::default()
    }
}

pub(super) fn spec() -> PreprocessSpec {
    PreprocessSpec::default()
}

#[test]
fn default_spec_has_xrf55_channel_axes_and_native_rate_grids() {
    let s = spec().shapes;
    assert_eq!(s.wifi, [270, 200]);
    assert_eq!(s.rfid, [46, 60]);
    assert_eq!(s.mmwave, [40, 64, 5]);
    assert_eq!(s.present, [3]);
    let json = serde_json::to_value(spec()).unwrap();
    assert_eq!(json["shapes"]["wifi"], serde_json::json!([270, 200]));
    assert_eq!(json["normalization"]["mmwave_position_scale_m"], 5.0);
}

#[test]
fn an_empty_window_gives_zero_tensors_of_the_spec_shapes_and_no_presence() {
    let t = preprocess(&window(vec![], [false; 3]), &spec());
    assert_eq!(t.wifi.len(), 270 * 200);
    assert_eq!(t.rfid.len(), 46 * 60);
    assert_eq!(t.mmwave.len(), 40 * 64 * 5);
    assert_eq!(t.present, [0.0; 3]);
    assert!(t
        .wifi
        .iter()
        .chain(&t.rfid)
        .chain(&t.mmwave)
        .all(|&x| x == 0.0));
}

#[test]
fn an_absent_modality_is_zero_even_with_records_and_presence_follows_the_window() {
    let records = vec![
        record("radar", Modality::Mmwave, 0.5, radar(vec![point(1.0, 200)])),
        record(
            "wifi-a",
            Modality::Wifi,
            0.5,
            csi_row(0, two_path_csi(10.0)),
        ),
    ];
    let t = preprocess(&window(records, [true, false, false]), &spec());
    assert_eq!(t.present, [1.0, 0.0, 0.0]);
    assert!(t.mmwave.iter().any(|&x| x != 0.0));
    assert!(t.wifi.iter().all(|&x| x == 0.0));
}

/// Reads of tags `(epc_last, total turn)` every 0.1 s over the window, interleaved, the
/// phase turning steadily to its total, on one antenna and channel.
fn turning_tags(turns: &[(u8, f64)]) -> Vec<Arc<TimedRecord>> {
    (0..20)
        .flat_map(|i| {
            turns.iter().enumerate().map(move |(j, &(epc, turn))| {
                let t = 0.05 + 0.1 * i as f64 + 0.01 * j as f64;
                record(
                    "reader",
                    Modality::Rfid,
                    t,
                    tag(epc, turn * i as f64 / 19.0, 1),
                )
            })
        })
        .collect()
}

#[test]
fn rfid_rows_follow_epc_order_whatever_the_read_order() {
    // Tag 5 turns by +1 rad, tag 9 by −1 rad, tag 2 stays.
    let records = turning_tags(&[(9, -1.0), (2, 0.0), (5, 1.0)]);
    let t = preprocess(&window(records, [false, false, true]), &spec());
    let turned = |tag_row: usize| {
        let row = &t.rfid[2 * tag_row * 60..(2 * tag_row + 1) * 60];
        (row[59] - row[0]) * RFID_PHASE_SCALE
    };
    assert!(turned(0).abs() < 0.01, "tag 2 first: {}", turned(0));
    assert!(
        (turned(1) - 1.0).abs() < 0.05,
        "tag 5 second: {}",
        turned(1)
    );
    assert!((turned(2) + 1.0).abs() < 0.05, "tag 9 third: {}", turned(2));
    assert!(t.rfid[6 * 60..].iter().all(|&x| x == 0.0), "padding rows");
}

#[test]
fn rfid_phase_is_unwrapped_and_resampled_onto_the_grid() {
    // One tag turning 4 rad/s, read every 40 ms over the window: the track is a ramp.
    let records = (0..50)
        .map(|i| {
            let t = 0.02 + 0.04 * i as f64;
            record("reader", Modality::Rfid, t, tag(1, 4.0 * t, 1))
        })
        .collect();
    let t = preprocess(&window(records, [false, false, true]), &spec());
    let grid = grid::grid_times(2.0, 60);
    let ramp = |g: f64| (4.0 * (g.clamp(0.02, 1.98) - 0.02)) as f32;
    for (k, &g) in grid.iter().enumerate() {
        let expected = ramp(g) - ramp(grid[0]);
        let got = (t.rfid[k] - t.rfid[0]) * RFID_PHASE_SCALE;
        assert!(
            (got - expected).abs() < 0.01,
            "step {k}: {got} vs {expected}"
        );
    }
    assert!(
        (t.rfid[59] - t.rfid[0]) * RFID_PHASE_SCALE > 2.0 * PI as f32,
        "beyond one turn"
    );
    let mean = t.rfid[..60].iter().sum::<f32>() / 60.0;
    assert!(mean.abs() < 1e-5, "window mean removed: {mean}");
}

#[test]
fn rfid_rssi_row_follows_a_blocked_tag_down() {
    let records = (0..40)
        .map(|i| {
            let t = 0.025 + 0.05 * i as f64;
            let mut report = tag_report(3, 0.0, 1);
            // −50 dBm, then −60 dBm from 1 s on (a body in the way), in Impinj 0.01 dB.
            report.impinj_peak_rssi = Some(if t < 1.0 { -5000 } else { -6000 });
            record("reader", Modality::Rfid, t, tag_payload(report))
        })
        .collect();
    let t = preprocess(&window(records, [false, false, true]), &spec());
    let rssi = &t.rfid[60..120];
    let drop = (rssi[5] - rssi[55]) * RFID_RSSI_SCALE_DB;
    assert!((drop - 10.0).abs() < 1e-3, "{drop} dB");
    assert!(rssi.iter().sum::<f32>().abs() < 1e-3, "centred");
}

#[test]
fn radar_frames_land_in_their_time_slots_strongest_point_first() {
    let records = vec![
        record(
            "radar",
            Modality::Mmwave,
            0.01,
            radar(vec![point(1.0, 100), point(2.0, 300)]),
        ),
        record(
            "radar",
            Modality::Mmwave,
            1.01,
            radar(vec![point(-1.0, 50)]),
        ),
    ];
    let t = preprocess(&window(records, [true, false, false]), &spec());
    let at = |slot: usize, p: usize, f: usize| t.mmwave[(slot * 64 + p) * 5 + f];
    assert_eq!(
        at(0, 0, 0),
        2.0 / MMWAVE_POSITION_SCALE_M,
        "strongest first"
    );
    assert_eq!(at(0, 0, 4), 30.0 / MMWAVE_SNR_SCALE_DB);
    assert_eq!(at(0, 1, 0), 1.0 / MMWAVE_POSITION_SCALE_M);
    assert_eq!(at(0, 1, 3), -0.5 / MMWAVE_VELOCITY_SCALE_MPS);
    assert_eq!(
        at(20, 0, 0),
        -1.0 / MMWAVE_POSITION_SCALE_M,
        "1.01 s is slot 20 of 40"
    );
    assert!((0..5).all(|f| at(0, 2, f) == 0.0), "padding points");
    assert!(
        t.mmwave[5 * 64 * 5..20 * 64 * 5].iter().all(|&x| x == 0.0),
        "empty slots"
    );
}

#[test]
fn a_moving_reflector_changes_the_wifi_tensor_over_time_and_a_still_one_does_not() {
    let packets = |delay: &dyn Fn(f64) -> f64| -> Vec<Arc<TimedRecord>> {
        (0..200)
            .flat_map(|i| {
                let t = 0.005 + 0.01 * i as f64;
                (0..3).map(move |ant| (t, ant))
            })
            .map(|(t, ant)| {
                record(
                    "wifi-a",
                    Modality::Wifi,
                    t,
                    csi_row(ant, two_path_csi(delay(t))),
                )
            })
            .collect()
    };
    let change = |tensor: &[f32]| -> f32 {
        // Row block of link 0, antenna 0: mean |first step − last step| over subcarriers.
        (0..30)
            .map(|s| (tensor[s * 200] - tensor[s * 200 + 199]).abs())
            .sum::<f32>()
            / 30.0
    };
    let still = preprocess(&window(packets(&|_| 20.0), [false, true, false]), &spec());
    assert!(
        still.wifi.iter().all(|&x| x.abs() < 1e-5),
        "a still channel is all zero"
    );
    // The reflector's extra path grows by 1.2 m over the window (walking at 0.6 m/s).
    let moving = preprocess(
        &window(packets(&|t| 20.0 + 2.0 * t), [false, true, false]),
        &spec(),
    );
    assert_eq!(still.present, [0.0, 1.0, 0.0]);
    assert!(change(&still.wifi) < 1e-6, "still: {}", change(&still.wifi));
    assert!(
        change(&moving.wifi) > 0.1,
        "moving: {}",
        change(&moving.wifi)
    );
    assert!(
        moving.wifi[3 * 30 * 200..].iter().all(|&x| x == 0.0),
        "links 1, 2 silent"
    );
}

#[test]
fn antenna_phase_differences_cancel_the_receivers_per_packet_offsets() {
    // Antenna a sees the reflector's path 0.3·a ns later; each packet is rotated by a random
    // common phase and timing slope (CFO, detection delay), the same on all three antennas.
    let mut state = 7u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut records = Vec::new();
    for i in 0..200 {
        let t = 0.005 + 0.01 * i as f64;
        let (phi0, delta_ns) = (TAU * next(), 100.0 * next());
        for ant in 0..3u8 {
            let clean = two_path_csi(20.0 + 0.3 * f64::from(ant));
            let csi = clean
                .iter()
                .enumerate()
                .map(|(b, iq)| {
                    let k = if b < 32 { b as f64 } else { b as f64 - 64.0 };
                    let rot = phi0 - TAU * k * 312_500.0 * delta_ns * 1e-9;
                    let (s, c) = rot.sin_cos();
                    let (re, im) = (f64::from(iq.re), f64::from(iq.im));
                    Iq {
                        re: (re * c - im * s).round().clamp(-128.0, 127.0) as i8,
                        im: (re * s + im * c).round().clamp(-128.0, 127.0) as i8,
                    }
                })
                .collect();
            records.push(record("wifi-a", Modality::Wifi, t, csi_row(ant, csi)));
        }
    }
    let t = preprocess(&window(records, [false, true, false]), &spec());
    // Blocks 1 and 2 of link 0: the differences stay put although every packet's raw phase
    // is random (only int8 rounding moves them).
    let diffs = &t.wifi[30 * 200..3 * 30 * 200];
    let worst = diffs.iter().fold(0.0f32, |m, &x| m.max(x.abs())) * WIFI_PHASE_SCALE_RAD;
    assert!(worst < 0.15, "phase differences wander by {worst} rad");
}

#[test]
fn a_phase_slip_through_a_fade_does_not_wind_up_a_phase_row() {
    // Antenna 1 leads antenna 0 by 3.1 rad (next to ±π) on every subcarrier; during a
    // fade (packets 100-102) the difference walks on by 2, 4, 6 rad, so the time unwrap
    // climbs a whole turn and stays there. Antenna 2 equals antenna 1.
    let iq = |angle: f64| {
        let (s, c) = angle.sin_cos();
        Iq {
            re: (100.0 * c).round() as i8,
            im: (100.0 * s).round() as i8,
        }
    };
    let mut records = Vec::new();
    for i in 0..200 {
        let t = 0.005 + 0.01 * i as f64;
        let lead = match i {
            100..=102 => 3.1 + 2.0 * (i - 99) as f64,
            _ => 3.1,
        };
        for (ant, angle) in [(0u8, 0.0), (1, lead), (2, lead)] {
            records.push(record(
                "wifi-a",
                Modality::Wifi,
                t,
                csi_row(ant, vec![iq(angle); 64]),
            ));
        }
    }
    let t = preprocess(&window(records, [false, true, false]), &spec());
    let block1 = &t.wifi[30 * 200..60 * 200];
    let bound = std::f32::consts::PI / WIFI_PHASE_SCALE_RAD + 1e-6;
    assert!(block1.iter().all(|x| x.abs() <= bound), "wrapped to ±π");
    // Away from the fade every step is back at the row's centre on both sides of it (an
    // unwrapped and mean-centred row would sit about half a turn off either side).
    for row in block1.chunks_exact(200) {
        let off = (0..200)
            .filter(|k| !(95..=108).contains(k))
            .map(|k| row[k].abs() * WIFI_PHASE_SCALE_RAD)
            .fold(0.0f32, f32::max);
        assert!(off < 0.1, "steady part off centre by {off} rad");
    }
    let block2 = &t.wifi[60 * 200..90 * 200];
    assert!(
        block2.iter().all(|x| x.abs() < 1e-6),
        "antennas 2 and 1 agree"
    );
}

#[test]
fn wifi_links_are_the_wifi_sources_in_name_order() {
    // wifi-a's channel changes between its two packets, wifi-b's does not.
    let records = vec![
        record(
            "wifi-b",
            Modality::Wifi,
            0.5,
            csi_row(0, two_path_csi(20.0)),
        ),
        record(
            "wifi-a",
            Modality::Wifi,
            0.5,
            csi_row(0, two_path_csi(20.0)),
        ),
        record(
            "wifi-b",
            Modality::Wifi,
            1.5,
            csi_row(0, two_path_csi(20.0)),
        ),
        record(
            "wifi-a",
            Modality::Wifi,
            1.5,
            csi_row(0, two_path_csi(23.0)),
        ),
    ];
    let t = preprocess(&window(records, [false, true, false]), &spec());
    let block = |link: usize, b: usize| {
        let from = (link * 3 + b) * 30 * 200;
        &t.wifi[from..from + 30 * 200]
    };
    assert!(block(0, 0).iter().any(|&x| x.abs() > 0.01), "wifi-a power");
    assert!(block(1, 0).iter().all(|&x| x.abs() < 1e-5), "wifi-b still");
    assert!(
        block(0, 1).iter().all(|&x| x == 0.0),
        "one antenna: no difference"
    );
}

#[test]
fn a_reused_preprocessor_leaves_nothing_of_an_earlier_window_behind() {
    let busy = window(
        vec![
            record("radar", Modality::Mmwave, 0.5, radar(vec![point(1.0, 200)])),
            record(
                "wifi-a",
                Modality::Wifi,
                0.5,
                csi_row(0, two_path_csi(10.0)),
            ),
            record(
                "wifi-a",
                Modality::Wifi,
                1.5,
                csi_row(0, two_path_csi(14.0)),
            ),
        ]
        .into_iter()
        .chain(turning_tags(&[(4, 1.0), (8, -1.0)]))
        .collect(),
        [true; 3],
    );
    let quiet = window(
        vec![record(
            "radar",
            Modality::Mmwave,
            1.0,
            radar(vec![point(-2.0, 90)]),
        )],
        [true, false, true],
    );
    let (mut pre, mut out) = (Preprocessor::new(), Tensors::zeros(&spec()));
    preprocess_into(&busy, &spec(), &mut pre, &mut out);
    assert_eq!(out, preprocess(&busy, &spec()));
    assert!(out.wifi.iter().any(|&x| x != 0.0) && out.rfid.iter().any(|&x| x != 0.0));
    preprocess_into(&quiet, &spec(), &mut pre, &mut out);
    assert_eq!(out, preprocess(&quiet, &spec()));
    assert!(out.wifi.iter().chain(&out.rfid).all(|&x| x == 0.0));
    assert_eq!(out.mmwave.iter().filter(|&&x| x != 0.0).count(), 5);
    assert_eq!(pre.unused(), Unused::default());
}
