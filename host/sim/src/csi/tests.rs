//! Checks of the whole renderer through the bytes it emits, decoded by the gateway's own
//! decoders.
use std::f64::consts::PI;

use dagr_protocols::csi::esp32_csi_tool::{CsiRow, RowDecoder};
use dagr_protocols::csi::intel5300::{Bfee, BfeeDecoder};
use dagr_protocols::stream::{decode_all, StreamDecoder};

use super::channel::Complex;
use super::subcarriers::{subcarrier_of_bin, SPACING_HZ};
use super::*;
use crate::scene::{RadarMount, RfidSetup};
use crate::Vec3;

/// Half a wavelength at channel 6: the usual antenna spacing of an array.
const SPACING_M: f64 = 0.0615;

fn link(i: u8, tx: Vec3, rx0: Vec3) -> WifiLink {
    WifiLink {
        tx,
        rx: (0..3)
            .map(|a| rx0 + Vec3::new(SPACING_M * f64::from(a), 0.0, 0.0))
            .collect(),
        channel: 6,
        mac: [0x24, 0x0A, 0xC4, 0x00, 0x00, i],
    }
}

/// A 5 × 6 × 3 m office with three links of three antennas and ten statics.
fn office() -> Room {
    let statics = (0..10)
        .map(|i| Scatterer {
            pos: Vec3::new(0.4 + 0.45 * f64::from(i), 5.5 - 0.3 * f64::from(i % 3), 0.8),
            vel: Vec3::ZERO,
            amplitude: 0.5,
        })
        .collect();
    Room {
        id: 7,
        size: Vec3::new(5.0, 6.0, 3.0),
        statics,
        multipath: 0.3,
        clutter_per_frame: 0.0,
        radar: RadarMount {
            pos: Vec3::new(2.5, 0.1, 1.0),
            yaw: 0.0,
        },
        wifi: vec![
            link(0, Vec3::new(0.3, 0.3, 1.2), Vec3::new(4.5, 5.5, 1.0)),
            link(1, Vec3::new(4.7, 0.3, 1.2), Vec3::new(0.3, 5.5, 1.0)),
            link(2, Vec3::new(0.3, 3.0, 1.2), Vec3::new(4.6, 3.0, 1.0)),
        ],
        rfid: RfidSetup {
            antennas: Vec::new(),
            tags: Vec::new(),
        },
    }
}

fn scatterer(pos: Vec3, amplitude: f64) -> Scatterer {
    Scatterer {
        pos,
        vel: Vec3::ZERO,
        amplitude,
    }
}

/// An 18-point standing person centred at (`x`, `y`).
fn person(x: f64, y: f64) -> Vec<Scatterer> {
    (0..18)
        .map(|i| {
            let angle = f64::from(i) * 0.35;
            let z = 0.1 + 0.1 * f64::from(i);
            let pos = Vec3::new(x + 0.15 * angle.cos(), y + 0.12 * angle.sin(), z);
            scatterer(pos, if (6..12).contains(&i) { 0.6 } else { 0.15 })
        })
        .collect()
}

/// int8 RMS of the checks of phase and geometry below: about what the first twin's gain
/// control gave (its strongest subcarrier at 90), so int8 rounding (±0.5) stays far below
/// the phase differences they resolve; the real capture's level ([`levels::ESP32_AGC_RMS`],
/// 20.2) is checked by the tests of levels, through [`at_real_levels`].
const FINE_RMS: f64 = 64.0;

/// The default renderer with `impairments`, reporting at [`FINE_RMS`].
fn config(impairments: Impairments) -> CsiConfig {
    CsiConfig {
        esp32_agc_rms: FINE_RMS,
        ..at_real_levels(impairments)
    }
}

/// The default renderer (the real capture's levels) with `impairments`.
fn at_real_levels(impairments: Impairments) -> CsiConfig {
    CsiConfig {
        impairments,
        ..CsiConfig::default()
    }
}

/// Impairments with the random phase, slope and gain, but without noise.
fn noiseless() -> Impairments {
    Impairments {
        thermal_noise: false,
        estimation_snr_db: f64::INFINITY,
        ..Impairments::default()
    }
}

fn decode_rows(bytes: &[u8]) -> Vec<CsiRow> {
    let mut decoder = RowDecoder::new();
    let mut rows = Vec::new();
    decode_all(&mut decoder, bytes, |r| rows.push(r));
    let stats = decoder.stats();
    assert_eq!((stats.frames_rejected, stats.bytes_skipped), (0, 0));
    rows
}

/// One packet of link `link` as decoded rows.
fn packet(
    r: &mut CsiRenderer,
    room: &Room,
    link: usize,
    body: &[Scatterer],
    t: f64,
) -> Vec<CsiRow> {
    let mut out = Vec::new();
    r.render_packet(room, link, body, t, (t * 1e6) as u32, &mut out)
        .unwrap();
    decode_rows(&out)
}

fn z(iq: Iq) -> Complex {
    Complex::new(f64::from(iq.re), f64::from(iq.im))
}

fn wrap(phase: f64) -> f64 {
    let w = phase.rem_euclid(2.0 * PI);
    if w > PI {
        w - 2.0 * PI
    } else {
        w
    }
}

fn used_bins() -> impl Iterator<Item = usize> {
    (0..BINS).filter(|&b| Occupancy::LegacyLtf.bin_is_used(b))
}

/// Bins where both antennas are strong enough for a quantized phase to mean something.
fn strong_bins(a: &CsiRow, b: &CsiRow, min: f64) -> Vec<usize> {
    used_bins()
        .filter(|&k| z(a.csi[k]).abs() >= min && z(b.csi[k]).abs() >= min)
        .collect()
}

/// `a · conj(b)` on one bin: the antenna ratio's phase carrier.
fn cross(a: &CsiRow, b: &CsiRow, bin: usize) -> Complex {
    z(a.csi[bin]) * z(b.csi[bin]).conj()
}

#[test]
fn rows_round_trip_through_the_esp32_decoder_one_per_antenna() {
    let room = office();
    let mut r = CsiRenderer::new(CsiConfig::default(), 1);
    let mut out = Vec::new();
    r.render_packet(&room, 1, &person(2.5, 3.0), 1.5, 1_500_123, &mut out)
        .unwrap();
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 3);
    let rows = decode_rows(&out);
    assert_eq!(rows.len(), 3);
    for (a, row) in rows.iter().enumerate() {
        let rx = &row.rx_ctrl;
        assert_eq!(rx.ant as usize, a);
        assert_eq!(row.mac, room.wifi[1].mac);
        assert_eq!(rx.channel, 6);
        assert_eq!(rx.local_timestamp, 1_500_123);
        assert_eq!(row.real_timestamp, 1.500123);
        assert_eq!((rx.sig_mode, rx.bandwidth, rx.secondary_channel), (1, 0, 0));
        assert_eq!((rx.noise_floor, row.len, row.csi.len()), (-93, 256, 64));
        // A 6.9 m link at the levels of `levels`: −74 dBm on the line of sight alone; the
        // person stands on it (up to ~10 dB of shadow), the walls add a few dB.
        assert!((-90..=-60).contains(&rx.rssi), "rssi {}", rx.rssi);
        assert_eq!(row, &CsiRow::parse_line(&row.to_line()).unwrap());
    }
}

#[test]
fn dc_and_guard_bins_are_zero_and_used_bins_are_not() {
    let room = office();
    let mut r = CsiRenderer::new(CsiConfig::default(), 2);
    for row in packet(&mut r, &room, 0, &person(2.0, 2.0), 0.0) {
        for (bin, iq) in row.csi.iter().enumerate() {
            let used = Occupancy::LegacyLtf.bin_is_used(bin);
            assert_eq!(*iq == Iq::default(), !used, "bin {bin}: {iq:?}");
        }
    }
}

/// RMS of the rows' used subcarriers, over all of them.
fn rms(rows: &[CsiRow]) -> f64 {
    let (sum, n) = rows.iter().fold((0.0, 0), |(s, n), row| {
        let p: f64 = used_bins().map(|b| z(row.csi[b]).abs().powi(2)).sum();
        (s + p, n + used_bins().count())
    });
    (sum / n as f64).sqrt()
}

#[test]
fn the_received_band_lands_at_the_agc_rms() {
    let room = office();
    let mut r = CsiRenderer::new(at_real_levels(Impairments::none()), 3);
    let rows = packet(&mut r, &room, 2, &person(2.5, 2.5), 0.0);
    // Rounding adds 1/6 int8² of variance per value to the 20.2² the gain control aims at.
    let level = rms(&rows);
    assert!((level - levels::ESP32_AGC_RMS).abs() < 0.1, "RMS {level}");
}

/// The gain control keeps the reported level whatever the link budget: 20 dB more
/// transmit power changes the RSSI by 20 dB and the CSI's RMS by the noise's share only.
#[test]
fn the_reported_level_does_not_follow_the_rssi() {
    let room = office();
    let levels_at = |tx_power_dbm: f64| {
        let mut r = CsiRenderer::new(
            CsiConfig {
                tx_power_dbm,
                ..CsiConfig::default()
            },
            30,
        );
        let rows: Vec<CsiRow> = (0..50)
            .flat_map(|i| packet(&mut r, &room, 0, &[], f64::from(i) * 0.01))
            .collect();
        (f64::from(rows[0].rx_ctrl.rssi), rms(&rows))
    };
    let (weak_rssi, weak) = levels_at(levels::ESP32_TX_POWER_DBM);
    let (strong_rssi, strong) = levels_at(levels::ESP32_TX_POWER_DBM + 20.0);
    assert!(
        (strong_rssi - weak_rssi - 20.0).abs() <= 1.0,
        "{weak_rssi} {strong_rssi}"
    );
    for level in [weak, strong] {
        assert!(
            (level / levels::ESP32_AGC_RMS - 1.0).abs() < 0.05,
            "{weak} {strong}"
        );
    }
}

/// The CSI's noise is the noise floor against the received power: with only thermal
/// noise, the reported channel's SNR per subcarrier is the row's RSSI minus its noise
/// floor, plus 3 dB for the legacy LTF's two averaged symbols.
#[test]
fn csi_noise_matches_the_rssi_and_the_noise_floor() {
    let room = office();
    let thermal_only = Impairments {
        thermal_noise: true,
        ..Impairments::none()
    };
    let mut r = CsiRenderer::new(at_real_levels(thermal_only), 31);
    let packets: Vec<Vec<CsiRow>> = (0..400)
        .map(|i| packet(&mut r, &room, 1, &[], f64::from(i) * 0.01))
        .collect();
    let rx = &packets[0][0].rx_ctrl;
    let expected_db = f64::from(rx.rssi) - f64::from(rx.noise_floor) + 10.0 * 2f64.log10();
    let n = packets.len() as f64;
    let (mut signal, mut noise) = (0.0, 0.0);
    for b in used_bins() {
        let mean = packets
            .iter()
            .fold(Complex::ZERO, |s, p| s + z(p[0].csi[b]))
            .scale(1.0 / n);
        signal += mean.norm_sqr();
        noise += packets
            .iter()
            .map(|p| (z(p[0].csi[b]) - mean).norm_sqr())
            .sum::<f64>()
            / (n - 1.0);
    }
    let snr_db = 10.0 * (signal / noise).log10();
    // The RSSI is rounded to 1 dB; int8 rounding at this level is ~14 dB below the noise.
    assert!(
        (snr_db - expected_db).abs() < 1.0,
        "{snr_db} dB vs {expected_db} dB"
    );
    assert!((15.0..30.0).contains(&expected_db), "{expected_db}");
}

/// A person crossing a link's line of sight shadows it: the RSSI drops, as it does on real
/// links (the RSSI is measured before the gain control, which would hide it). The body is
/// a generated subject's, moved from the line of sight sideways in 0.1 m steps. Measured
/// (multipath 0.3): clear −65 dBm; −66, −66, −67, −68, −69 dBm at 0–0.4 m off the line;
/// then −63 to −67 dBm as its reflections beat with the line of sight. Squarely on the
/// line the shadow is only 1 dB deep: the body's scatterers there add their forward paths
/// (no excess delay) in phase with the shadowed line of sight (see the report of issue 9).
#[test]
fn a_body_near_the_line_of_sight_lowers_the_rssi() {
    use crate::Scene;
    let mut room = office();
    room.statics.clear();
    room.wifi = vec![link(0, Vec3::new(1.0, 1.0, 1.0), Vec3::new(1.0, 5.0, 1.0))];
    let mut body = Vec::new();
    still_person(1).body_at(0.5, &mut body);
    let n = body.len() as f64;
    let centre = body.iter().fold(Vec3::ZERO, |c, s| c + s.pos) * (1.0 / n);
    let placed = |x: f64| -> Vec<Scatterer> {
        let shift = Vec3::new(x - centre.x, 3.0 - centre.y, 0.0);
        body.iter()
            .map(|s| Scatterer {
                pos: s.pos + shift,
                ..*s
            })
            .collect()
    };
    let mut r = CsiRenderer::new(at_real_levels(Impairments::none()), 32);
    let rssi =
        |r: &mut CsiRenderer, body: &[Scatterer]| packet(r, &room, 0, body, 0.0)[0].rx_ctrl.rssi;
    let clear = rssi(&mut r, &[]);
    let near: Vec<i8> = (0..=5)
        .map(|i| rssi(&mut r, &placed(1.0 + 0.1 * f64::from(i))))
        .collect();
    let deepest = near.iter().copied().min().unwrap_or(clear);
    let away = rssi(&mut r, &placed(3.4));
    assert!(
        clear - deepest >= 3,
        "clear {clear}, near the line {near:?}"
    );
    assert!(
        away - deepest >= 2,
        "2.4 m away {away}, near the line {near:?}"
    );
}

#[test]
fn rssi_falls_with_distance() {
    let mut room = office();
    room.statics.clear();
    room.multipath = 0.0;
    room.wifi = vec![
        link(0, Vec3::new(1.0, 1.0, 1.0), Vec3::new(2.0, 1.0, 1.0)),
        link(1, Vec3::new(1.0, 1.0, 1.0), Vec3::new(1.0, 5.0, 1.0)),
    ];
    let mut r = CsiRenderer::new(config(Impairments::none()), 4);
    let near = packet(&mut r, &room, 0, &[], 0.0)[0].rx_ctrl.rssi;
    let far = packet(&mut r, &room, 1, &[], 0.0)[0].rx_ctrl.rssi;
    // Friis: 4× the distance is 12 dB less; at 1 m and 2.437 GHz the path loses 40.2 dB,
    // so 2 dBm through antennas of −19 dB arrives at −57.2 dBm.
    assert!((near - far - 12).abs() <= 1, "near {near} far {far}");
    assert!((near + 57).abs() <= 1, "near {near}");
}

#[test]
fn common_phase_changes_per_packet_but_cancels_in_the_antenna_ratio() {
    let room = office();
    let body = person(2.5, 3.5);
    let mut r = CsiRenderer::new(config(noiseless()), 5);
    let p1 = packet(&mut r, &room, 0, &body, 0.0);
    let p2 = packet(&mut r, &room, 0, &body, 0.0);
    let bins = strong_bins(&p1[0], &p1[1], 20.0);
    assert!(bins.len() > 20, "{} strong bins", bins.len());
    let mean_abs = |f: &dyn Fn(usize) -> f64| {
        bins.iter().map(|&b| f(b).abs()).sum::<f64>() / bins.len() as f64
    };
    let raw = mean_abs(&|b| wrap(z(p2[0].csi[b]).arg() - z(p1[0].csi[b]).arg()));
    assert!(raw > 0.3, "the packets' phases differ: {raw}");
    let ratio =
        mean_abs(&|b| wrap(cross(&p2[0], &p2[1], b).arg() - cross(&p1[0], &p1[1], b).arg()));
    assert!(ratio < 0.05, "the antenna ratio does not: {ratio}");
}

/// A complex vector scaled to unit length: the shape the AGC's positive gain cannot change.
fn normalised(v: &[Complex]) -> Vec<Complex> {
    let norm = v.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    v.iter().map(|z| z.scale(1.0 / norm)).collect()
}

fn distance(a: &[Complex], b: &[Complex]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x - *y).norm_sqr())
        .sum::<f64>()
        .sqrt()
}

/// The random phase, slope and gain of each packet cancel in `Ĥ_0 · conj(Ĥ_1)`: it equals the
/// true `H_0 · conj(H_1)` up to a positive scale, so the change a moving body makes to the true
/// channel (its paths' phase rotation) is what the rows show.
#[test]
fn antenna_ratio_preserves_the_body_path_phase_change() {
    let mut room = office();
    room.statics.clear();
    let body1 = [scatterer(Vec3::new(3.3, 5.3, 1.0), 1.0)];
    let body2 = [scatterer(Vec3::new(3.3, 5.25, 1.0), 1.0)];
    let mut r = CsiRenderer::new(config(noiseless()), 6);
    let bins: Vec<usize> = used_bins().collect();
    let truth = |r: &mut CsiRenderer, body: &[Scatterer]| {
        let h = r.channel(&room, 0, body).unwrap();
        let cross: Vec<_> = bins.iter().map(|&b| h[0][b] * h[1][b].conj()).collect();
        normalised(&cross)
    };
    let seen = |p: &[CsiRow]| {
        let cross: Vec<_> = bins.iter().map(|&b| cross(&p[0], &p[1], b)).collect();
        normalised(&cross)
    };
    let (true1, true2) = (truth(&mut r, &body1), truth(&mut r, &body2));
    let p1 = packet(&mut r, &room, 0, &body1, 0.0);
    let p2 = packet(&mut r, &room, 0, &body2, 0.01);
    let raw_shift = wrap(z(p2[0].csi[1]).arg() - z(p1[0].csi[1]).arg());
    let error = distance(&seen(&p1), &true1).max(distance(&seen(&p2), &true2));
    let motion = distance(&true1, &true2);
    assert!(error < 0.03, "conjugate product off the truth by {error}");
    assert!(motion > 5.0 * error, "motion {motion} vs error {error}");
    assert!(
        raw_shift.abs() > 0.3,
        "raw phases are scrambled: {raw_shift}"
    );
}

#[test]
fn agc_jumps_change_magnitude_not_the_antenna_ratio() {
    let room = office();
    let body = person(2.0, 3.0);
    let imp = Impairments {
        agc_jump_rate_hz: 20.0,
        agc_jump_min_db: 1.0,
        agc_jump_max_db: 3.0,
        ..Impairments::none()
    };
    let mut r = CsiRenderer::new(
        CsiConfig {
            esp32_agc_rms: 40.0,
            ..config(imp)
        },
        7,
    );
    let packets: Vec<_> = (0..40)
        .map(|i| packet(&mut r, &room, 2, &body, f64::from(i) * 0.01))
        .collect();
    let peak = |p: &[CsiRow]| {
        p.iter()
            .flat_map(|row| row.csi.iter().map(|&iq| z(iq).abs()))
            .fold(0.0, f64::max)
    };
    let mut jumps = 0;
    for pair in packets.windows(2) {
        let step_db = 20.0 * (peak(&pair[1]) / peak(&pair[0])).log10();
        if step_db.abs() < 0.9 {
            continue;
        }
        jumps += 1;
        for b in strong_bins(&pair[0][0], &pair[0][1], 12.0) {
            let ratio = |p: &[CsiRow]| z(p[0].csi[b]).abs() / z(p[1].csi[b]).abs();
            let (r0, r1) = (ratio(&pair[0]), ratio(&pair[1]));
            assert!((r1 / r0 - 1.0).abs() < 0.15, "bin {b}: {r0} vs {r1}");
        }
    }
    assert!(jumps >= 2, "{jumps} gain jumps seen");
}

#[test]
fn int8_clipping_saturates_with_the_right_sign() {
    let room = office();
    let body = person(2.5, 3.0);
    let mut r = CsiRenderer::new(
        CsiConfig {
            esp32_agc_rms: 1000.0,
            ..config(Impairments::none())
        },
        8,
    );
    let truth = r.channel(&room, 0, &body).unwrap()[0];
    let rows = packet(&mut r, &room, 0, &body, 0.0);
    let mut rails = 0;
    for b in used_bins() {
        let (iq, h) = (rows[0].csi[b], truth[b]);
        for (v, t) in [(iq.re, h.re), (iq.im, h.im)] {
            if v == i8::MAX || v == i8::MIN {
                rails += 1;
            }
            if v != 0 {
                assert_eq!(v > 0, t > 0.0, "bin {b}: {v} vs {t}");
            }
        }
    }
    assert!(rails > 20, "{rails} values at the rails");
}

#[test]
fn bfee_round_trips_through_the_intel_decoder_and_matches_the_esp32_channel() {
    let room = office();
    let body = person(2.5, 3.0);
    let mut r = CsiRenderer::new(config(Impairments::none()), 9);
    let mut out = Vec::new();
    r.render_intel(&room, 1, &body, 0.0, 42, &mut out).unwrap();
    r.render_intel(&room, 1, &body, 0.01, 10_042, &mut out)
        .unwrap();
    let mut decoder = BfeeDecoder::new();
    let mut records: Vec<Bfee> = Vec::new();
    decode_all(&mut decoder, &out, |b| records.push(b));
    assert_eq!(records.len(), 2);
    assert_eq!(decoder.stats().frames_rejected, 0);
    let bfee = &records[0];
    assert_eq!((bfee.nrx, bfee.ntx, bfee.csi.len()), (3, 1, 90));
    assert_eq!((bfee.timestamp_low, records[1].timestamp_low), (42, 10_042));
    assert_eq!(records[1].bfee_count, bfee.bfee_count.wrapping_add(1));
    assert_eq!(bfee.noise, -93);
    assert!(bfee.rssi_a > 20 && bfee.rssi_b > 20 && bfee.rssi_c > 20);
    assert_eq!(bfee.perm(), [0, 1, 2]);
    let esp32 = packet(&mut r, &room, 1, &body, 0.0);
    for (s, &k) in INTEL5300_SUBCARRIERS.iter().enumerate() {
        if !Occupancy::LegacyLtf.is_used(k) {
            continue;
        }
        for rx in 0..3u8 {
            let intel = z(bfee.csi_at(0, rx, s).unwrap());
            let esp = z(esp32[usize::from(rx)].csi[bin_of_subcarrier(k)]);
            if intel.abs() > 8.0 {
                assert!(wrap(intel.arg() - esp.arg()).abs() < 0.15, "k {k} rx {rx}");
            }
        }
    }
}

#[test]
fn los_phase_slope_survives_into_the_rows_without_impairments() {
    let mut room = office();
    room.statics.clear();
    room.multipath = 0.0;
    let mut r = CsiRenderer::new(config(Impairments::none()), 10);
    let row = &packet(&mut r, &room, 2, &[], 0.0)[0];
    let tau = room.wifi[2].tx.distance(room.wifi[2].rx[0]) / C;
    let slope = -2.0 * PI * SPACING_HZ * tau;
    for b in used_bins() {
        let next = bin_of_subcarrier(subcarrier_of_bin(b) + 1);
        if Occupancy::LegacyLtf.bin_is_used(next) {
            let step = wrap(z(row.csi[next]).arg() - z(row.csi[b]).arg());
            assert!(
                wrap(step - slope).abs() < 0.03,
                "bin {b}: {step} vs {slope}"
            );
        }
    }
}

#[test]
fn same_seed_renders_identical_bytes() {
    let room = office();
    let render = |seed| {
        let mut r = CsiRenderer::new(CsiConfig::default(), seed);
        let mut out = Vec::new();
        for i in 0..50 {
            let t = f64::from(i) * 0.01;
            let body = person(2.0 + t, 3.0);
            for link in 0..3 {
                r.render_packet(&room, link, &body, t, i * 10_000, &mut out)
                    .unwrap();
            }
            r.render_intel(&room, 0, &body, t, i * 10_000, &mut out)
                .unwrap();
        }
        out
    };
    assert_eq!(render(11), render(11));
    assert_ne!(render(11), render(12));
}

#[test]
fn unknown_link_and_link_without_antennas_are_errors() {
    let mut room = office();
    room.wifi[1].rx.clear();
    let mut r = CsiRenderer::new(CsiConfig::default(), 13);
    let mut out = Vec::new();
    assert_eq!(
        r.render_packet(&room, 3, &[], 0.0, 0, &mut out),
        Err(CsiError::NoSuchLink { link: 3, links: 3 })
    );
    assert_eq!(
        r.render_intel(&room, 1, &[], 0.0, 0, &mut out),
        Err(CsiError::NoAntennas { link: 1 })
    );
    assert!(out.is_empty());
    assert_eq!(
        CsiError::NoSuchLink { link: 3, links: 3 }.to_string(),
        "csi: room has 3 WiFi link(s), no link index 3"
    );
}

/// Speed check, run by hand:
/// `cargo test --release -p dagr-sim render_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn render_speed_three_links_three_antennas_eighteen_scatterers() {
    render_speed(CsiBandwidth::Ht20);
}

/// The same with HT40 frames (192 entries a row, as the real capture).
#[test]
#[ignore]
fn render_speed_ht40_three_links_three_antennas_eighteen_scatterers() {
    render_speed(CsiBandwidth::Ht40(SecondaryChannel::Above));
}

/// Renders 20 000 packets on each of 3 links and asserts 50x real time at 100 packets/s.
fn render_speed(bandwidth: CsiBandwidth) {
    let room = office();
    let config = CsiConfig {
        bandwidth,
        ..CsiConfig::default()
    };
    let mut r = CsiRenderer::new(config, 14);
    let mut out = Vec::with_capacity(1 << 20);
    let packets_per_link = 20_000u32;
    let start = std::time::Instant::now();
    let mut bytes = 0;
    for i in 0..packets_per_link {
        let t = f64::from(i) * 0.01;
        let body = person(1.5 + (t * 0.3).sin(), 3.0);
        for link in 0..3 {
            r.render_packet(&room, link, &body, t, i * 10_000, &mut out)
                .unwrap();
        }
        bytes += out.len();
        out.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    let packets = f64::from(packets_per_link) * 3.0;
    let rate = packets / secs;
    println!(
        "{bandwidth:?}: {packets} packets (3 links x 3 antennas, 18 scatterers, 10 statics) in \
         {secs:.3} s: {rate:.0} packets/s = {:.0}x real time at 3 x 100 packets/s; {:.1} MB/s \
         of rows",
        rate / 300.0,
        bytes as f64 / secs / 1e6
    );
    assert!(rate >= 300.0 * 50.0, "{rate} packets/s");
}

#[test]
fn a_changed_room_is_not_served_from_the_static_cache() {
    let mut room = office();
    let body = person(2.0, 3.0);
    let mut r = CsiRenderer::new(CsiConfig::default(), 15);
    let before = r.channel(&room, 0, &body).unwrap()[0];
    room.multipath = 0.6;
    room.statics.pop();
    let after = r.channel(&room, 0, &body).unwrap()[0];
    let fresh = CsiRenderer::new(CsiConfig::default(), 15)
        .channel(&room, 0, &body)
        .unwrap()[0];
    assert_eq!(after, fresh);
    assert_ne!(after, before);
}

/// A person standing still (no micro-motion) in room `k`: only breathing moves them.
fn still_person(k: u32) -> crate::world::World {
    use crate::activity::Activity;
    use crate::scenario::{Schedule, Scheduled};
    let schedule = Schedule {
        items: vec![Scheduled {
            start: 0.0,
            end: 1.0,
            activity: Activity::Waving,
        }],
    };
    crate::world::World::new(
        Room::generate(k),
        crate::body::Subject::generate(k),
        schedule,
        u64::from(k),
    )
    .without_micro_motion()
}

#[test]
fn breathing_shows_at_its_rate_in_the_antenna_phase_difference() {
    use crate::Scene;
    let (rate, seconds) = (10.0, 51.2);
    let n = (rate * seconds) as usize;
    let mut hits = 0;
    for k in 0..4 {
        let world = still_person(k);
        let breathing = world.subject().breathing_hz;
        let mut renderer = CsiRenderer::new(CsiConfig::default(), 1);
        // Per link and subcarrier, the phase difference of antennas 1 and 0 over time.
        let mut series = vec![vec![0.0; n]; 3 * BINS];
        let mut body = Vec::new();
        for i in 0..n {
            let t = 5.0 + i as f64 / rate;
            body.clear();
            world.body_at(t, &mut body);
            for link in 0..3 {
                let h = renderer.channel(world.room(), link, &body).unwrap();
                let rows = &mut series[link * BINS..(link + 1) * BINS];
                for (b, row) in rows.iter_mut().enumerate() {
                    row[i] = (h[1][b] * h[0][b].conj()).arg();
                }
            }
        }
        // Power spectrum summed over links and subcarriers, detrended.
        let mut power = vec![0.0; n / 2];
        for s in series
            .iter()
            .step_by(8)
            .filter(|s| s.iter().any(|&x| x != 0.0))
        {
            let mean = s.iter().sum::<f64>() / n as f64;
            for (f, p) in power.iter_mut().enumerate().skip(1) {
                let (mut re, mut im) = (0.0, 0.0);
                for (i, x) in s.iter().enumerate() {
                    let a = -2.0 * PI * f as f64 * i as f64 / n as f64;
                    re += (x - mean) * a.cos();
                    im += (x - mean) * a.sin();
                }
                *p += re * re + im * im;
            }
        }
        let resolution = rate / n as f64;
        let band = (0.1 / resolution) as usize..(1.0 / resolution) as usize;
        let peak = band
            .clone()
            .max_by(|&a, &b| power[a].total_cmp(&power[b]))
            .unwrap();
        let peak_hz = peak as f64 * resolution;
        if (peak_hz - breathing).abs() <= 1.5 * resolution {
            hits += 1;
        }
    }
    assert!(hits >= 3, "breathing found in {hits} of 4 rooms");
}

mod ht40;
