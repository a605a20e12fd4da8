//! WiFi CSI to `[270, T]`: per link (WiFi source, in name order) three blocks of 30 rows,
//! one row per picked subcarrier, on a uniform time grid:
//!
//! - block 0, **amplitude**: `10·log10` of the subcarrier's power, each antenna's row first
//!   normalized by its RMS over the picked subcarriers (cancels AGC gain and transmit power),
//!   averaged over the link's antennas; in units of [`WIFI_AMPLITUDE_SCALE_DB`];
//! - blocks 1 and 2, **phase differences** between antennas 1 and 0, and 2 and 1, of one
//!   packet: `arg(H₁ · conj(H₀))`. The antennas of one receiver share its oscillator and
//!   sampling clock, so the per-packet carrier-frequency and timing offsets (which make raw
//!   CSI phase random) cancel, and what is left turns with the paths' geometry: a body's
//!   reflection or shadow moves it, breathing shows at the breathing rate. Unwrapped along
//!   time, in units of [`WIFI_PHASE_SCALE_RAD`].
//!
//! Every row then has its mean over the window subtracted: the static channel (which
//! depends on the room, the furniture and where the devices hang) is dropped and what the
//! person changes during the window is kept. Rows: `(link · 3 + block) · 30 + s`. A link
//! or antenna pair that sent nothing in the window stays zero (a single-antenna receiver
//! fills block 0 only). ESP32-CSI-Tool rows are read by buffer position (`k = 0..=31` then
//! `−32..=−1`); rows of one packet are those of one link with the same time; rows with
//! fewer than 64 entries, an antenna number above 2 or all-zero picked subcarriers are
//! skipped. Other CSI formats (esp-csi, Intel 5300, node frames) are not read yet and leave
//! the tensor zero.
use std::collections::HashMap;
use std::sync::Arc;

use dagr_protocols::csi::Iq;

use super::grid::{grid_times, wrap_pi, Series};
use super::{
    seconds_into, PreprocessSpec, WIFI_AMPLITUDE_SCALE_DB, WIFI_ANTENNAS, WIFI_BLOCKS, WIFI_LINKS,
    WIFI_PHASE_SCALE_RAD, WIFI_SUBCARRIERS,
};
use crate::record::{Modality, Payload};
use crate::sync::Window;

/// FFT bins of a 20 MHz ESP32 CSI buffer.
const BINS: usize = 64;
/// Highest subcarrier index the legacy LTF fills (`±1..=±26`: 52 used subcarriers).
const LLTF_EDGE: i32 = 26;

/// The 30 subcarriers (802.11 index `k`) read per antenna: evenly spread over the 52 used
/// LLTF subcarriers `−26..=−1, 1..=26` (positions `round(i · 51 / 29)`), standing in for the
/// Intel 5300's 30 grouped subcarriers that XRF55 records.
pub fn picked_subcarriers() -> [i32; WIFI_SUBCARRIERS] {
    let used: Vec<i32> = (-LLTF_EDGE..=LLTF_EDGE).filter(|&k| k != 0).collect();
    let last = (used.len() - 1) as f64;
    let spread = (WIFI_SUBCARRIERS - 1) as f64;
    std::array::from_fn(|i| used[(i as f64 * last / spread).round() as usize])
}

/// ESP32 buffer position of subcarrier `k`.
fn bin_of(k: i32) -> usize {
    k.rem_euclid(BINS as i32) as usize
}

/// One packet's picked subcarriers per antenna (`None`: that antenna sent no usable row).
type Packet = [Option<[(f32, f32); WIFI_SUBCARRIERS]>; WIFI_ANTENNAS];

/// The WiFi tensor of `window` (see the [module doc](self)).
pub fn tensor(window: &Window, spec: &PreprocessSpec) -> Vec<f32> {
    let steps = spec.wifi_steps;
    let mut out = vec![0.0; WIFI_LINKS * WIFI_BLOCKS * WIFI_SUBCARRIERS * steps];
    let links: HashMap<&Arc<str>, usize> = window
        .sources
        .iter()
        .filter(|s| s.modality == Modality::Wifi)
        .map(|s| &s.source)
        .take(WIFI_LINKS)
        .enumerate()
        .map(|(i, name)| (name, i))
        .collect();
    let bins = spec.wifi_subcarriers.map(bin_of);
    let mut series = vec![Series::default(); WIFI_LINKS * WIFI_BLOCKS];
    let mut pending: Vec<Option<(f64, Packet)>> = vec![None; WIFI_LINKS];
    for r in window.records_of(Modality::Wifi) {
        let (Payload::Esp32Csi(row), Some(&link)) =
            (&r.record.payload, links.get(&r.record.source))
        else {
            continue;
        };
        let antenna = usize::from(row.rx_ctrl.ant);
        if antenna >= WIFI_ANTENNAS || row.csi.len() < BINS {
            continue;
        }
        let Some(normalized) = normalized(&row.csi, &bins) else {
            continue;
        };
        let t = seconds_into(window, r.t_ns);
        let slot = &mut pending[link];
        if slot.as_ref().is_some_and(|(at, _)| *at != t) {
            if let Some((at, packet)) = slot.take() {
                push_packet(&mut series[link * WIFI_BLOCKS..], at, &packet);
            }
        }
        slot.get_or_insert((t, [None; WIFI_ANTENNAS])).1[antenna] = Some(normalized);
    }
    for (link, slot) in pending.into_iter().enumerate() {
        if let Some((at, packet)) = slot {
            push_packet(&mut series[link * WIFI_BLOCKS..], at, &packet);
        }
    }
    let grid = grid_times(spec.window_s, steps);
    let block = WIFI_SUBCARRIERS * steps;
    for (channel, s) in series.iter_mut().enumerate() {
        let scale = if channel % WIFI_BLOCKS == 0 {
            WIFI_AMPLITUDE_SCALE_DB
        } else {
            unwrap_columns(s);
            WIFI_PHASE_SCALE_RAD
        };
        let rows = &mut out[channel * block..(channel + 1) * block];
        s.resample_into(&grid, rows);
        if !s.is_empty() {
            centre_rows(rows, steps, scale);
        }
    }
    out
}

/// Appends one packet to its link's three series: antenna-averaged power in dB, and the
/// two neighbouring antennas' phase differences.
fn push_packet(series: &mut [Series], t: f64, packet: &Packet) {
    let present: Vec<&[(f32, f32); WIFI_SUBCARRIERS]> = packet.iter().flatten().collect();
    if present.is_empty() {
        return;
    }
    let power: [f32; WIFI_SUBCARRIERS] = std::array::from_fn(|s| {
        let p: f32 = present
            .iter()
            .map(|a| a[s].0 * a[s].0 + a[s].1 * a[s].1)
            .sum();
        10.0 * (p / present.len() as f32).max(1e-6).log10()
    });
    series[0].push(t, &power);
    for pair in 0..WIFI_ANTENNAS - 1 {
        if let (Some(a), Some(b)) = (&packet[pair], &packet[pair + 1]) {
            let diff: [f32; WIFI_SUBCARRIERS] = std::array::from_fn(|s| {
                let (ar, ai, br, bi) = (a[s].0, a[s].1, b[s].0, b[s].1);
                // arg(b · conj(a))
                (bi * ar - br * ai).atan2(br * ar + bi * ai)
            });
            series[1 + pair].push(t, &diff);
        }
    }
}

/// Unwraps every column of `series` along time.
fn unwrap_columns(series: &mut Series) {
    let n = series.len();
    if n < 2 {
        return;
    }
    let width = series.values.len() / n;
    for j in 0..width {
        let mut level = f64::from(series.values[j]);
        for i in 1..n {
            let prev = f64::from(series.values[(i - 1) * width + j]);
            let now = f64::from(series.values[i * width + j]);
            let wrapped_prev = wrap_pi(prev);
            level += wrap_pi(now - wrapped_prev);
            series.values[i * width + j] = level as f32;
        }
    }
}

/// Subtracts each row's mean (rows of `steps` values) and divides by `scale`.
fn centre_rows(rows: &mut [f32], steps: usize, scale: f32) {
    for row in rows.chunks_exact_mut(steps) {
        let mean = row.iter().sum::<f32>() / steps as f32;
        for x in row.iter_mut() {
            *x = (*x - mean) / scale;
        }
    }
}

/// The picked `bins` of one antenna's row divided by their RMS, as (re, im); `None` when
/// they are all zero.
fn normalized(
    csi: &[Iq],
    bins: &[usize; WIFI_SUBCARRIERS],
) -> Option<[(f32, f32); WIFI_SUBCARRIERS]> {
    let h: [(f32, f32); WIFI_SUBCARRIERS] =
        bins.map(|b| (f32::from(csi[b].re), f32::from(csi[b].im)));
    let power = h.iter().map(|(r, i)| r * r + i * i).sum::<f32>() / WIFI_SUBCARRIERS as f32;
    let rms = power.sqrt();
    (rms > 0.0).then(|| h.map(|(r, i)| (r / rms, i / rms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_distinct_used_subcarriers_span_the_band() {
        let k = picked_subcarriers();
        assert!(k.windows(2).all(|w| w[0] < w[1]));
        assert!(k.iter().all(|&k| k != 0 && k.abs() <= 26));
        assert_eq!((k[0], k[29]), (-26, 26));
    }

    #[test]
    fn normalization_cancels_a_gain_change_and_keeps_the_phase() {
        let bins = picked_subcarriers().map(bin_of);
        let csi = |gain: i8| -> Vec<Iq> {
            (0..64)
                .map(|b| Iq {
                    re: gain * (1 + (b % 5) as i8),
                    im: gain,
                })
                .collect()
        };
        let low = normalized(&csi(2), &bins).unwrap();
        let high = normalized(&csi(6), &bins).unwrap();
        for (l, h) in low.iter().zip(&high) {
            assert!((l.0 - h.0).abs() < 1e-5 && (l.1 - h.1).abs() < 1e-5);
        }
        assert!(normalized(&[Iq { re: 0, im: 0 }; 64], &bins).is_none());
    }

    #[test]
    fn phase_columns_unwrap_through_several_turns() {
        let mut s = Series::default();
        for i in 0..100 {
            let p = wrap_pi(0.4 * f64::from(i)) as f32;
            s.push(f64::from(i), &[p, -p]);
        }
        unwrap_columns(&mut s);
        let last = &s.values[198..200];
        assert!((f64::from(last[0]) - 0.4 * 99.0).abs() < 1e-3, "{last:?}");
        assert!((f64::from(last[1]) + 0.4 * 99.0).abs() < 1e-3, "{last:?}");
    }
}
