//! HT40 rows: the real capture's header and layout, the same channel as HT20 on the
//! primary's LLTF, and the channel at its own frequency over the whole 40 MHz.
use super::*;
use crate::csi::subcarriers::{ht40_entries, SecondaryChannel, HT40_ENTRIES};

/// The real ESP32-CSI-Tool HT40 capture (LLTF-only build: 128 values under `len` 384).
const REAL_HT40: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/real/esp32_csi/example_csi.csv"
);

fn ht40_config(side: SecondaryChannel, impairments: Impairments) -> CsiConfig {
    CsiConfig {
        bandwidth: CsiBandwidth::Ht40(side),
        ..config(impairments)
    }
}

fn real_rows() -> Vec<CsiRow> {
    let bytes = std::fs::read(REAL_HT40).unwrap_or_else(|e| panic!("{REAL_HT40}: {e}"));
    decode_rows(&bytes)
}

/// The LLTF entries (0..64) every real row reports as exactly 0.
fn real_null_entries(rows: &[CsiRow]) -> Vec<usize> {
    (0..BINS)
        .filter(|&i| rows.iter().all(|r| r.csi[i] == Iq::default()))
        .collect()
}

#[test]
fn ht40_rows_carry_the_real_captures_header_and_lltf_layout() {
    let real = real_rows();
    assert!(real.len() >= 10, "{} real rows", real.len());
    let reference = &real[0].rx_ctrl;
    let real_nulls = real_null_entries(&real);
    assert_eq!(
        real_nulls,
        [2, 3, 4, 60, 61, 62, 63],
        "the fixture's guard nulls"
    );
    let room = office();
    let mut r = CsiRenderer::new(
        ht40_config(SecondaryChannel::Above, Impairments::default()),
        3,
    );
    let mut rows = Vec::new();
    for i in 0..20 {
        let t = f64::from(i) * 0.01;
        rows.extend(packet(&mut r, &room, 1, &person(2.0, 3.0), t));
    }
    assert_eq!(rows.len(), 60, "one row per antenna");
    for row in &rows {
        let rx = &row.rx_ctrl;
        assert_eq!(
            (rx.sig_mode, rx.bandwidth, rx.secondary_channel, row.len),
            (
                reference.sig_mode,
                reference.bandwidth,
                reference.secondary_channel,
                real[0].len
            ),
            "sig_mode, cwb, secondary, len as the real capture"
        );
        assert_eq!(row.len, ESP32_HT40_BUFFER_LEN);
        assert_eq!(
            row.csi.len() * 2,
            usize::from(row.len),
            "the whole buffer is printed"
        );
        // The real rows' LLTF nulls are nulls here too, and so is the primary's DC.
        for &i in real_nulls.iter().chain(&[32]) {
            assert_eq!(row.csi[i], Iq::default(), "entry {i}");
        }
    }
    // Every LLTF entry the fixture fills with an estimate in all its rows carries one here
    // in nearly all rows (a deep fade may quantize to 0 now and then).
    let real_filled: Vec<usize> = (6..59)
        .filter(|&i| i != 32 && real.iter().all(|r| r.csi[i] != Iq::default()))
        .collect();
    assert!(real_filled.len() >= 50, "{real_filled:?}");
    for i in real_filled {
        let zeros = rows.iter().filter(|r| r.csi[i] == Iq::default()).count();
        assert!(zeros <= 2, "entry {i}: {zeros} of 60 rows are 0");
    }
}

#[test]
fn ht_ltf_entries_are_zero_exactly_outside_the_114_used_subcarriers() {
    let room = office();
    for side in [SecondaryChannel::Above, SecondaryChannel::Below] {
        let layout: Vec<_> = ht40_entries(side).collect();
        let mut r = CsiRenderer::new(ht40_config(side, noiseless()), 5);
        let rows = packet(&mut r, &room, 0, &person(2.5, 2.0), 0.0);
        for row in &rows {
            assert_eq!(row.rx_ctrl.secondary_channel, side.wire_value());
            let mut used_nonzero = 0;
            for (i, (entry, iq)) in layout.iter().zip(&row.csi).enumerate() {
                if entry.used {
                    used_nonzero += usize::from(*iq != Iq::default());
                } else {
                    assert_eq!(*iq, Iq::default(), "{side:?} entry {i} is not used");
                }
            }
            assert!(
                used_nonzero >= 160,
                "{side:?}: {used_nonzero} of 166 used are 0"
            );
        }
    }
}

/// Where the HT-LTF and the LLTF hold the same frequency, a noiseless packet reports the same
/// value in both: one channel, one gain, one phase per frequency. (The channel filter is
/// off here: it smooths each field over its own used neighbours, which differ beside the
/// LLTF's DC and band edges.)
#[test]
fn ht_ltf_and_lltf_agree_where_their_frequencies_coincide() {
    let room = office();
    let unfiltered = Impairments {
        channel_filter: false,
        ..noiseless()
    };
    for side in [SecondaryChannel::Above, SecondaryChannel::Below] {
        let layout: Vec<_> = ht40_entries(side).collect();
        let mut r = CsiRenderer::new(ht40_config(side, unfiltered.clone()), 8);
        let row = &packet(&mut r, &room, 2, &person(1.5, 3.5), 0.2)[1];
        let mut shared = 0;
        for (i, entry) in layout.iter().enumerate().skip(BINS).filter(|(_, e)| e.used) {
            let lltf = (entry.offset + 32) as usize;
            if (0..BINS).contains(&lltf) && layout[lltf].used {
                assert_eq!(
                    row.csi[i], row.csi[lltf],
                    "{side:?} offset {}",
                    entry.offset
                );
                shared += 1;
            }
        }
        // The LLTF's ±1..=±26 on the primary's side of the 40 MHz centre, minus its nulls.
        assert!(shared >= 24, "{side:?}: {shared} shared frequencies");
    }
}

/// A line-of-sight-only channel has one delay, so its phase falls linearly over the whole
/// 40 MHz, across the seam between the primary's bins and the secondary's.
#[test]
fn los_phase_slope_runs_straight_across_the_40_mhz() {
    let mut room = office();
    room.statics.clear();
    room.multipath = 0.0;
    let tau = room.wifi[2].tx.distance(room.wifi[2].rx[0]) / C;
    let slope = -2.0 * PI * SPACING_HZ * tau;
    for side in [SecondaryChannel::Above, SecondaryChannel::Below] {
        let layout: Vec<_> = ht40_entries(side).collect();
        let mut r = CsiRenderer::new(ht40_config(side, Impairments::none()), 10);
        let row = &packet(&mut r, &room, 2, &[], 0.0)[0];
        let mut by_offset: Vec<(i32, Complex)> = layout
            .iter()
            .zip(&row.csi)
            .skip(BINS)
            .filter(|(e, _)| e.used)
            .map(|(e, iq)| (e.offset, z(*iq)))
            .collect();
        by_offset.sort_by_key(|(m, _)| *m);
        let mut steps = 0;
        for w in by_offset.windows(2) {
            if w[1].0 == w[0].0 + 1 {
                let step = wrap(w[1].1.arg() - w[0].1.arg());
                assert!(
                    wrap(step - slope).abs() < 0.03,
                    "{side:?} offset {}",
                    w[0].0
                );
                steps += 1;
            }
        }
        assert_eq!(steps, 112, "{side:?}: two 56-subcarrier halves");
        let span = by_offset.last().unwrap().0 - by_offset[0].0;
        assert_eq!(span, 116, "{side:?}: ±58 around the 40 MHz centre");
    }
}

/// RMS-normalized used LLTF entries of a row.
fn lltf_normalized(row: &CsiRow, lltf: impl Fn(usize) -> usize) -> Vec<Complex> {
    let v: Vec<Complex> = (0..BINS)
        .filter(|&b| Occupancy::LegacyLtf.bin_is_used(b))
        .map(|b| z(row.csi[lltf(b)]))
        .collect();
    normalised(&v)
}

/// The room with every link moved to WiFi channel `channel`.
fn on_channel(room: &Room, channel: u8) -> Room {
    let mut room = room.clone();
    for link in &mut room.wifi {
        link.channel = channel;
    }
    room
}

/// An HT40 row is the channel at each entry's frequency: its LLTF is what an HT20 receiver
/// on the primary (channel 6) reports, and the secondary half of its HT-LTF is what an HT20
/// receiver on channel 10 (20 MHz up) reports, both to within the gain normalization and the
/// int8 rounding (RMS-normalized, ideal receivers). Channels 6 and 10 themselves differ
/// (the multipath is frequency selective), so the comparison can fail.
#[test]
fn ht40_entries_carry_the_ht20_channel_of_their_own_frequency() {
    let room = office();
    let upper = on_channel(&room, 10);
    let ideal = Impairments::none;
    let mut ht40 = CsiRenderer::new(ht40_config(SecondaryChannel::Above, ideal()), 4);
    let mut primary = CsiRenderer::new(config(ideal()), 4);
    let mut secondary = CsiRenderer::new(config(ideal()), 4);
    let layout: Vec<_> = ht40_entries(SecondaryChannel::Above).collect();
    // HT-LTF entry of frequency offset m (from the primary centre), if used.
    let ht_entry = |m: i32| (BINS..HT40_ENTRIES).find(|&i| layout[i].offset == m);
    let (mut lltf_gap, mut upper_gap, mut channels_gap): (f64, f64, f64) = (0.0, 0.0, 9.0);
    for i in 0..10 {
        let t = 0.1 * f64::from(i);
        let body = person(2.2 + 0.1 * t, 2.8);
        for link in 0..3 {
            let wide = packet(&mut ht40, &room, link, &body, t);
            let low = packet(&mut primary, &room, link, &body, t);
            let high = packet(&mut secondary, &upper, link, &body, t);
            for ((w, l), h) in wide.iter().zip(&low).zip(&high) {
                assert_eq!(w.rx_ctrl.rssi, l.rx_ctrl.rssi, "RSSI from the same LLTF");
                let nl = lltf_normalized(l, |b| b);
                let nh = lltf_normalized(h, |b| b);
                // HT40's LLTF is in ascending order: entry k + 32 holds subcarrier k.
                let wl = lltf_normalized(w, |b| (subcarrier_of_bin(b) + 32) as usize);
                let wh = lltf_normalized(w, |b| {
                    ht_entry(subcarrier_of_bin(b) + 64).expect("used in the HT-LTF")
                });
                lltf_gap = lltf_gap.max(distance(&nl, &wl));
                upper_gap = upper_gap.max(distance(&nh, &wh));
                channels_gap = channels_gap.min(distance(&nl, &nh));
            }
        }
    }
    // Vector distance over 52 subcarriers of unit total norm: rounding (±0.5 of values
    // ~20-90) gives at most ~0.02 (measured: 0 on the LLTF, whose gain equals HT20's here).
    // The secondary half also takes its paths' amplitudes and shadowing at the primary's
    // wavelength (channel.rs, 1.6 % off at +20 MHz) where the channel-10 receiver takes them
    // at its own: measured 0.041; distinct channels are ~1 apart (measured 1.06).
    assert!(lltf_gap < 0.03, "LLTF vs HT20 on channel 6: {lltf_gap}");
    assert!(
        upper_gap < 0.08,
        "secondary HT-LTF vs HT20 on channel 10: {upper_gap}"
    );
    assert!(
        channels_gap > 0.1,
        "channels 6 and 10 should differ: {channels_gap}"
    );
}

/// With every impairment on, an HT40 renderer's LLTF takes the same phase, gain and noise
/// draws as the HT20 renderer of the same seed (its HT-LTF noise is a stream of its own),
/// and the same gain (both measure the primary's LLTF): the LLTFs are equal value for value.
/// Another seed's noise and phases differ far more.
#[test]
fn ht40_lltf_takes_the_same_draws_as_ht20_of_the_same_seed() {
    let room = office();
    let mut ht20 = CsiRenderer::new(config(Impairments::default()), 21);
    let mut ht40 = CsiRenderer::new(
        ht40_config(SecondaryChannel::Above, Impairments::default()),
        21,
    );
    let mut other = CsiRenderer::new(config(Impairments::default()), 22);
    let (mut same, mut differ, mut rows): (f64, f64, f64) = (0.0, 0.0, 0.0);
    for i in 0..200 {
        let t = 0.01 * f64::from(i);
        let body = person(2.0 + 0.5 * t, 3.0);
        for link in 0..3 {
            let a = packet(&mut ht20, &room, link, &body, t);
            let b = packet(&mut ht40, &room, link, &body, t);
            let c = packet(&mut other, &room, link, &body, t);
            for ((x, y), w) in a.iter().zip(&b).zip(&c) {
                let nx = lltf_normalized(x, |b| b);
                let ny = lltf_normalized(y, |b| (subcarrier_of_bin(b) + 32) as usize);
                same = same.max(distance(&nx, &ny));
                differ += distance(&lltf_normalized(w, |b| b), &nx);
                rows += 1.0;
            }
        }
    }
    // Another seed's random phases: measured mean 1.37.
    assert_eq!(same, 0.0, "HT40 vs HT20 LLTF, same seed");
    let differ = differ / rows;
    eprintln!("same seed at most {same}, another seed on average {differ}");
    assert!(differ > 0.5, "another seed: {differ}");
}

#[test]
fn ht40_same_seed_renders_identical_bytes_and_differs_from_ht20() {
    let room = office();
    let render = |config: CsiConfig| {
        let mut r = CsiRenderer::new(config, 11);
        let mut out = Vec::new();
        for i in 0..20 {
            let t = f64::from(i) * 0.01;
            r.render_packet(&room, 0, &person(2.0 + t, 3.0), t, i * 10_000, &mut out)
                .unwrap();
        }
        out
    };
    let ht40 = || ht40_config(SecondaryChannel::Above, Impairments::default());
    assert_eq!(render(ht40()), render(ht40()));
    assert_ne!(render(ht40()), render(CsiConfig::default()));
}
