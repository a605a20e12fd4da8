//! The realism table: figures of the simulated devices next to the same figures of the real
//! recordings in `shared/fixtures/real/` (a TI IWR1642 running the OOB demo with clutter
//! removal off, an ESP32-CSI-Tool capture, an Impinj reader's reports).
//!
//! `cargo test -p dagr-host --test integration sim_realism -- --nocapture` prints the table that
//! `host/sim/CALIBRATION.md` quotes; the test fails when a simulated figure leaves a
//! broad band around the real one (the bands are stated next to each check).
use dagr_protocols::csi::esp32_csi_tool::{CsiRow, RowDecoder};
use dagr_protocols::llrp::MessageDecoder;
use dagr_protocols::stream::decode_all;
use dagr_protocols::ti_mmwave::{Frame, FrameDecoder};
use dagr_sim::activity::Activity;
use dagr_sim::body::Subject;
use dagr_sim::csi::{CsiBandwidth, CsiConfig, CsiRenderer, SecondaryChannel};
use dagr_sim::radar::{RadarConfig, RadarRenderer};
use dagr_sim::rfid::{RfidConfig, RfidRenderer};
use dagr_sim::scenario::{Schedule, Scheduled};
use dagr_sim::world::World;
use dagr_sim::Room;
use dagr_sim::Scene;

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/real/");

/// Figures of one device, real or simulated.
#[derive(Debug, Default)]
struct Radar {
    points_per_frame: f64,
    snr_median_db: f64,
    speed_median: f64,
    speed_p90: f64,
    zero_velocity_share: f64,
}

#[derive(Debug, Default)]
struct Csi {
    /// Mean over rows of std/mean of |H| over the used subcarriers.
    amplitude_cv: f64,
    /// Mean |H| over used subcarriers, int8 units.
    amplitude_mean: f64,
    rssi_median: f64,
    /// Median of the rows' `noise_floor`, dBm.
    noise_floor_median: f64,
    /// Median over rows of 10·log10(mean |H|² / noise), the noise estimated from the
    /// second differences across subcarriers `k = 1..=26` on each side (a smooth channel's
    /// second difference is small; white noise's has 6× its variance).
    snr_db_median: f64,
}

#[derive(Debug, Default)]
struct Rfid {
    rssi_min: f64,
    rssi_median: f64,
    rssi_max: f64,
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}

fn radar_figures(frames: &[Frame]) -> Radar {
    let points: Vec<_> = frames.iter().flat_map(|f| f.points.iter()).collect();
    let mut snr: Vec<f64> = points
        .iter()
        .filter_map(|p| p.snr.map(|s| f64::from(s) / 10.0))
        .collect();
    let mut speed: Vec<f64> = points.iter().map(|p| f64::from(p.v.abs())).collect();
    Radar {
        points_per_frame: points.len() as f64 / frames.len() as f64,
        snr_median_db: quantile(&mut snr, 0.5),
        speed_median: quantile(&mut speed, 0.5),
        speed_p90: quantile(&mut speed, 0.9),
        zero_velocity_share: points.iter().filter(|p| p.v == 0.0).count() as f64
            / points.len() as f64,
    }
}

/// CSI figures over the data subcarriers `k = ±1..=±26` of each row; `k_of(i)` is the
/// subcarrier index of buffer position `i` (the real capture, with a secondary channel,
/// lists `k = −32..=31`; the simulated rows the ESP32 default `0..=31, −32..=−1`).
fn csi_figures(rows: &[CsiRow], k_of: impl Fn(usize) -> i32) -> Csi {
    let (mut cv, mut level) = (0.0, 0.0);
    let mut snr = Vec::new();
    for row in rows {
        snr.push(second_difference_snr_db(row, &k_of));
        let a: Vec<f64> = row
            .csi
            .iter()
            .enumerate()
            .filter(|(i, _)| (1..=26).contains(&k_of(*i).abs()))
            .map(|(_, iq)| f64::from(iq.re).hypot(f64::from(iq.im)))
            .collect();
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / a.len() as f64;
        cv += var.sqrt() / mean;
        level += mean;
    }
    let mut rssi: Vec<f64> = rows.iter().map(|r| f64::from(r.rx_ctrl.rssi)).collect();
    let mut floor: Vec<f64> = rows
        .iter()
        .map(|r| f64::from(r.rx_ctrl.noise_floor))
        .collect();
    Csi {
        amplitude_cv: cv / rows.len() as f64,
        amplitude_mean: level / rows.len() as f64,
        rssi_median: quantile(&mut rssi, 0.5),
        noise_floor_median: quantile(&mut floor, 0.5),
        snr_db_median: quantile(&mut snr, 0.5),
    }
}

/// A row's SNR from its subcarriers' second differences (see [`Csi::snr_db_median`]).
fn second_difference_snr_db(row: &CsiRow, k_of: impl Fn(usize) -> i32) -> f64 {
    let mut by_k = [(0.0, 0.0); 53];
    for (i, iq) in row.csi.iter().enumerate() {
        let k = k_of(i);
        if (1..=26).contains(&k.abs()) {
            by_k[(k + 26) as usize] = (f64::from(iq.re), f64::from(iq.im));
        }
    }
    let (mut signal, mut noise, mut n) = (0.0, 0.0, 0.0);
    for side in [-1, 1] {
        let at = |k: i32| by_k[(side * k + 26) as usize];
        for k in 2..=25 {
            let (a, b, c) = (at(k - 1), at(k), at(k + 1));
            let (re, im) = (a.0 - 2.0 * b.0 + c.0, a.1 - 2.0 * b.1 + c.1);
            noise += (re * re + im * im) / 6.0;
            signal += b.0 * b.0 + b.1 * b.1;
            n += 1.0;
        }
    }
    10.0 * (signal / n / (noise / n)).log10()
}

fn rfid_figures(rssi: &mut [f64]) -> Rfid {
    Rfid {
        rssi_min: quantile(rssi, 0.0),
        rssi_median: quantile(rssi, 0.5),
        rssi_max: quantile(rssi, 1.0),
    }
}

fn real_radar() -> Radar {
    let mut frames = Vec::new();
    for name in [
        "xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat",
        "xwr16xx_processed_stream_2020_06_26T15_06_28_775.dat",
    ] {
        let bytes = std::fs::read(format!("{REAL}ti_mmwave/{name}")).unwrap();
        decode_all(&mut FrameDecoder::new(), &bytes, |f| frames.push(f));
    }
    radar_figures(&frames)
}

fn real_csi() -> Csi {
    let bytes = std::fs::read(format!("{REAL}esp32_csi/example_csi.csv")).unwrap();
    let mut rows = Vec::new();
    decode_all(&mut RowDecoder::new(), &bytes, |r| rows.push(r));
    csi_figures(&rows, |i| i as i32 - 32)
}

fn real_rfid() -> Rfid {
    let bytes = std::fs::read(format!("{REAL}llrp/impinj_ro_access_reports.bin")).unwrap();
    let mut rssi = Vec::new();
    decode_all(&mut MessageDecoder::new(), &bytes, |m| {
        for t in m.tags() {
            if let Some(dbm) = t.impinj_peak_rssi_dbm().or(t.peak_rssi.map(f64::from)) {
                rssi.push(dbm);
            }
        }
    });
    rfid_figures(&mut rssi)
}

/// A person walking then standing in room `k` (10 s).
fn world(k: u32) -> World {
    let item = |start, end, activity| Scheduled {
        start,
        end,
        activity,
    };
    let schedule = Schedule {
        items: vec![
            item(0.5, 5.0, Activity::Walking),
            item(6.0, 9.5, Activity::PhoneCall),
        ],
    };
    World::new(
        Room::generate(k),
        Subject::generate(k),
        schedule,
        u64::from(k),
    )
}

fn sim_radar(clutter_removal: bool) -> Radar {
    let mut frames = Vec::new();
    let mut body = Vec::new();
    for k in 1..=4 {
        let w = world(k);
        let config = RadarConfig {
            clutter_removal,
            ..RadarConfig::default()
        };
        let mut r = RadarRenderer::new(config, u64::from(k)).unwrap();
        for f in 0..200 {
            let t = f64::from(f) * 0.05;
            body.clear();
            w.body_at(t, &mut body);
            frames.push(r.render_frame(w.room(), &body, t, f));
        }
    }
    radar_figures(&frames)
}

/// The simulated ESP32's figures at `bandwidth`, on the LLTF as the real capture's (an HT40
/// row's entries from 64 on are its HT-LTF, left out).
fn sim_csi(bandwidth: CsiBandwidth) -> Csi {
    sim_csi_filtered(bandwidth, false)
}

/// As [`sim_csi`], with the receivers' channel filter on or off.
fn sim_csi_filtered(bandwidth: CsiBandwidth, channel_filter: bool) -> Csi {
    let mut rows = Vec::new();
    let mut body = Vec::new();
    for k in 1..=4 {
        let w = world(k);
        let mut config = CsiConfig {
            bandwidth,
            ..CsiConfig::default()
        };
        config.impairments.channel_filter = channel_filter;
        let mut r = CsiRenderer::new(config, u64::from(k));
        let mut bytes = Vec::new();
        for i in 0..100 {
            let t = f64::from(i) * 0.1;
            body.clear();
            w.body_at(t, &mut body);
            for link in 0..w.room().wifi.len() {
                r.render_packet(w.room(), link, &body, t, i * 100_000, &mut bytes)
                    .unwrap();
            }
        }
        decode_all(&mut RowDecoder::new(), &bytes, |row| rows.push(row));
    }
    match bandwidth {
        CsiBandwidth::Ht20 => csi_figures(&rows, |i| if i < 32 { i as i32 } else { i as i32 - 64 }),
        CsiBandwidth::Ht40(_) => csi_figures(&rows, |i| if i < 64 { i as i32 - 32 } else { 0 }),
    }
}

fn sim_rfid() -> Rfid {
    let mut rssi = Vec::new();
    for k in 1..=4 {
        let w = world(k);
        let mut r = RfidRenderer::new(RfidConfig {
            seed: u64::from(k),
            ..RfidConfig::default()
        });
        while let Some(read) = r.next_read(w.room(), |t, b| w.body_at(t, b), 10.0) {
            rssi.push(read.rssi_dbm);
        }
    }
    rfid_figures(&mut rssi)
}

#[test]
fn simulated_devices_look_like_the_real_recordings() {
    let (real_r, sim_on, sim_off) = (real_radar(), sim_radar(true), sim_radar(false));
    let (real_c, sim_c) = (real_csi(), sim_csi(CsiBandwidth::Ht20));
    let sim_c40 = sim_csi(CsiBandwidth::Ht40(SecondaryChannel::Above));
    let sim_cf = sim_csi_filtered(CsiBandwidth::Ht20, true);
    let sim_cf40 = sim_csi_filtered(CsiBandwidth::Ht40(SecondaryChannel::Above), true);
    let (real_t, sim_t) = (real_rfid(), sim_rfid());
    let row = |name: &str, real: f64, sim: String| println!("| {name} | {real:.2} | {sim} |");
    println!("| figure | real | simulated |");
    println!("|---|---:|---:|");
    let both = |a: f64, b: f64| format!("{a:.2} (clutter removal on) / {b:.2} (off)");
    row(
        "radar points per frame",
        real_r.points_per_frame,
        both(sim_on.points_per_frame, sim_off.points_per_frame),
    );
    row(
        "radar point SNR, median dB",
        real_r.snr_median_db,
        both(sim_on.snr_median_db, sim_off.snr_median_db),
    );
    row(
        "radar speed (abs v) median, m/s",
        real_r.speed_median,
        both(sim_on.speed_median, sim_off.speed_median),
    );
    row(
        "radar speed (abs v) 90th percentile, m/s",
        real_r.speed_p90,
        both(sim_on.speed_p90, sim_off.speed_p90),
    );
    row(
        "radar share of v = 0 points",
        real_r.zero_velocity_share,
        both(sim_on.zero_velocity_share, sim_off.zero_velocity_share),
    );
    let widths = |a: f64, b: f64| format!("{a:.2} (HT20) / {b:.2} (HT40)");
    row(
        "CSI amplitude CV across LLTF subcarriers",
        real_c.amplitude_cv,
        widths(sim_c.amplitude_cv, sim_c40.amplitude_cv),
    );
    row(
        "CSI mean LLTF amplitude, int8 units",
        real_c.amplitude_mean,
        widths(sim_c.amplitude_mean, sim_c40.amplitude_mean),
    );
    row(
        "CSI RSSI median, dBm",
        real_c.rssi_median,
        widths(sim_c.rssi_median, sim_c40.rssi_median),
    );
    row(
        "CSI noise floor (rows' noise_floor) median, dBm",
        real_c.noise_floor_median,
        widths(sim_c.noise_floor_median, sim_c40.noise_floor_median),
    );
    row(
        "CSI SNR from subcarrier second differences, median dB",
        real_c.snr_db_median,
        widths(sim_c.snr_db_median, sim_c40.snr_db_median),
    );
    row(
        "CSI SNR as above, HT20 with the channel filter on, median dB",
        real_c.snr_db_median,
        format!("{:.2}", sim_cf.snr_db_median),
    );
    row(
        "RFID RSSI min, dBm",
        real_t.rssi_min,
        format!("{:.2}", sim_t.rssi_min),
    );
    row(
        "RFID RSSI median, dBm",
        real_t.rssi_median,
        format!("{:.2}", sim_t.rssi_median),
    );
    row(
        "RFID RSSI max, dBm",
        real_t.rssi_max,
        format!("{:.2}", sim_t.rssi_max),
    );
    // Clutter removal off keeps static reflectors at zero Doppler, as the real recording
    // shows; with it on, the zero bin is empty.
    assert!(sim_off.zero_velocity_share > 0.2, "{sim_off:?}");
    assert!(sim_on.zero_velocity_share < 0.05, "{sim_on:?}");
    // Frequency selectivity within a factor of two of the real capture's, at both widths.
    for sim in [&sim_c, &sim_c40] {
        let ratio = sim.amplitude_cv / real_c.amplitude_cv;
        assert!((0.5..2.0).contains(&ratio), "CSI CV {sim:?} vs {real_c:?}");
    }
    // The receiver's channel filter (off by default) brings the estimate's
    // second-difference SNR to within 3 dB of the capture's, from ~9 dB below it, at both
    // widths (HT40: its LLTF part, as the capture's figures).
    for (filtered, plain) in [(&sim_cf, &sim_c), (&sim_cf40, &sim_c40)] {
        assert!(
            (filtered.snr_db_median - real_c.snr_db_median).abs() <= 3.0,
            "filtered CSI SNR {filtered:?} vs {real_c:?}"
        );
        assert!(
            filtered.snr_db_median > plain.snr_db_median + 5.0,
            "{filtered:?} vs {plain:?}"
        );
    }
    // HT40 rows are the same packets as HT20 ones: the same RSSI.
    assert_eq!(sim_c40.rssi_median, sim_c.rssi_median);
    // The levels of the real capture (host/sim/src/csi/levels.rs): RSSI median within
    // 3 dB (the link budget over the rooms' 4-12 m links spans about ±5 dB around it), the
    // LLTF's mean amplitude within 15 % (the gain control's target is the capture's RMS;
    // the channel's shape, the noise and the gain's jitter and jumps move the mean), and
    // the same noise floor, so RSSI − noise floor (the SNR) is the capture's too.
    for sim in [&sim_c, &sim_c40] {
        assert!(
            (sim.rssi_median - real_c.rssi_median).abs() <= 3.0,
            "CSI RSSI {sim:?} vs {real_c:?}"
        );
        let ratio = sim.amplitude_mean / real_c.amplitude_mean;
        assert!(
            (0.85..=1.15).contains(&ratio),
            "CSI level {sim:?} vs {real_c:?}"
        );
        assert_eq!(sim.noise_floor_median, real_c.noise_floor_median);
    }
    // Reader RSSI in the same indoor range (median within 15 dB, nothing above -25 dBm).
    assert!(
        (sim_t.rssi_median - real_t.rssi_median).abs() < 15.0,
        "{sim_t:?} vs {real_t:?}"
    );
    assert!(sim_t.rssi_max < -25.0, "{sim_t:?}");
}
