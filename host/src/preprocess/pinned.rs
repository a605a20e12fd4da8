//! The committed reference model was trained on the tensors of ESP32-CSI-Tool rows, TI
//! frames and LLRP tag reports as this module computed them when the model was exported.
//! These tests pin that output bit for bit (an FNV-1a hash of every float's bits, plus a
//! few values) on one fixed, busy window, so no refactoring can change what the model sees.
//!
//! Changed once on purpose since the export: the WiFi phase differences are taken by
//! [`super::angle::atan2`] (correctly rounded) instead of libm's `atan2f`, which is one ulp
//! off on about a sixth of CSI angles, for 5 % of a replay's CPU. The WiFi hash and one
//! value moved; replaying a 600 s capture gave the same class on 1200 of 1200 windows and
//! class probabilities within 0.009 (BENCHMARKS.md, "WiFi phase angles without libm").
use std::f64::consts::TAU;
use std::sync::Arc;

use dagr_protocols::csi::Iq;
use dagr_protocols::llrp::{Epc, TagReport};
use dagr_protocols::ti_mmwave::Point;

use super::tests::{csi_row, radar, record, spec, tag_payload, two_path_csi, window};
use super::*;
use crate::sync::TimedRecord;

/// A deterministic stream of numbers in `[0, 1)` (a 64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// FNV-1a over the bits of `values`.
fn fnv1a(values: &[f32]) -> u64 {
    values
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Two links of three antennas (link b loses antenna 2 on every fourth packet), a
/// reflector moving on link a, per-packet random rotations (CFO, timing) on both.
fn wifi_records(rng: &mut Lcg) -> Vec<Arc<TimedRecord>> {
    let mut out = Vec::new();
    for (link, speed) in [("wifi-a", 2.0), ("wifi-b", 0.3)] {
        for i in 0..190 {
            let t = 0.004 + 0.0105 * i as f64 + 0.002 * rng.next();
            let (phi0, delta_ns) = (TAU * rng.next(), 80.0 * rng.next());
            for ant in 0..3u8 {
                if link == "wifi-b" && ant == 2 && i % 4 == 0 {
                    continue;
                }
                let clean = two_path_csi(15.0 + speed * t + 0.4 * f64::from(ant));
                let csi = rotate(&clean, phi0, delta_ns);
                out.push(record(link, Modality::Wifi, t, csi_row(ant, csi)));
            }
        }
    }
    out
}

/// `csi` turned by a common phase `phi0` and a timing slope of `delta_ns`.
fn rotate(csi: &[Iq], phi0: f64, delta_ns: f64) -> Vec<Iq> {
    csi.iter()
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
        .collect()
}

/// Six tags read in turn on two antennas with channel hops every 0.3 s, phases turning at
/// tag-dependent rates, Impinj RSSI on most reads and only LLRP PeakRSSI on the others.
fn rfid_records(rng: &mut Lcg) -> Vec<Arc<TimedRecord>> {
    let mut out = Vec::new();
    for i in 0..300 {
        let t = 0.003 + 0.0066 * i as f64;
        let tag = [7u8, 3, 250, 12, 3, 99][i % 6];
        let antenna = 1 + (i / 6 % 2) as u16;
        let channel = 1 + (t / 0.3) as u16 * 7 % 50;
        let phase = (f64::from(tag) * 0.37 * t + 0.9 * f64::from(antenna) + 0.2 * rng.next())
            .rem_euclid(TAU);
        let mut epc = [0u8; 12];
        epc[0] = if tag == 250 { 0xe2 } else { 0x30 };
        epc[11] = tag;
        let rssi_dbm = -50.0 - 5.0 * (t * 3.0 + f64::from(tag)).sin() + rng.next();
        let report = TagReport {
            epc: Epc::Epc96(epc),
            antenna_id: Some(antenna),
            channel_index: Some(channel),
            peak_rssi: Some(rssi_dbm.round() as i8),
            impinj_phase: Some((phase / TAU * 4096.0) as u16 % 4096),
            impinj_peak_rssi: (i % 5 != 0).then_some((rssi_dbm * 100.0).round() as i16),
            ..TagReport::default()
        };
        out.push(record("reader", Modality::Rfid, t, tag_payload(report)));
    }
    out
}

/// 38 radar frames (two slots stay empty, one gets two frames) of 0..=80 points with
/// repeated SNRs, a point without TLV 7 and non-finite coordinates.
fn radar_records(rng: &mut Lcg) -> Vec<Arc<TimedRecord>> {
    let mut out = Vec::new();
    for f in 0..40 {
        if f == 7 || f == 30 {
            continue;
        }
        let t = 0.01 + 0.05 * f as f64 + if f == 12 { 0.03 } else { 0.0 };
        let n = (rng.next() * 81.0) as usize;
        let points = (0..n)
            .map(|p| Point {
                x: if p == 3 {
                    f32::NAN
                } else {
                    (rng.next() * 6.0 - 3.0) as f32
                },
                y: (rng.next() * 5.0) as f32,
                z: if p == 4 {
                    f32::INFINITY
                } else {
                    (rng.next() * 2.0 - 1.0) as f32
                },
                v: (rng.next() * 4.0 - 2.0) as f32,
                snr: (p != 5).then_some(50 + 10 * (rng.next() * 20.0) as i16),
                ..Point::default()
            })
            .collect();
        out.push(record("radar", Modality::Mmwave, t, radar(points)));
    }
    out
}

/// The pinned window: every modality present, 2 s, the default spec.
fn busy_window() -> crate::sync::Window {
    let mut rng = Lcg(2026);
    let mut records = wifi_records(&mut rng);
    records.extend(rfid_records(&mut rng));
    records.extend(radar_records(&mut rng));
    window(records, [true; 3])
}

#[test]
fn esp32_ti_and_llrp_tensors_are_pinned_bit_for_bit() {
    let t = preprocess(&busy_window(), &spec());
    let hashes = [fnv1a(&t.wifi), fnv1a(&t.rfid), fnv1a(&t.mmwave)];
    let nonzero = |v: &[f32]| v.iter().filter(|x| **x != 0.0).count();
    assert_eq!(
        [nonzero(&t.wifi), nonzero(&t.rfid), nonzero(&t.mmwave)],
        [36_000, 600, 7_164],
        "links 0 and 1 filled, five tags, 38 frames"
    );
    assert_eq!(t.wifi[1], -1.590_330_2);
    assert_eq!(t.wifi[30 * 200 + 17], 6.311_062e-2);
    assert_eq!(t.rfid[1], -3.782_704e-1);
    assert_eq!(t.rfid[2 * 60 + 5], -4.660_954_8e-1);
    assert_eq!(t.mmwave[1], 9.397_422e-1);
    assert_eq!(t.mmwave[12 * 320 + 4], 0.8);
    assert_eq!(t.present, [1.0; 3]);
    assert_eq!(
        hashes,
        [0x52c3c7ab19a99a07, 0x5a97e73c18a0f4ad, 0x0d1311303a1f11a7]
    );
}

#[test]
fn the_default_spec_is_the_reference_models_spec() {
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../../models/reference/model.json"))
            .expect("models/reference/model.json parses");
    let ours: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&spec()).unwrap()).unwrap();
    assert_eq!(
        ours, committed["preprocess"],
        "model.json `preprocess` and this build's PreprocessSpec differ"
    );
}
