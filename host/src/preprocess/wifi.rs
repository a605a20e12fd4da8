//! WiFi CSI to `[270, T]`: per link (WiFi source, in name order), receive antenna and
//! picked subcarrier, the per-packet RMS-normalized amplitude on a uniform time grid.
//!
//! Rows: `(link · 3 + antenna) · 30 + s`. A link or antenna that sent nothing in the
//! window stays zero. ESP32-CSI-Tool rows are read by buffer position (`k = 0..=31` then
//! `−32..=−1`); rows with fewer than 64 entries, an antenna number above 2 or all-zero
//! picked subcarriers are skipped. Other CSI formats (esp-csi, Intel 5300, node frames)
//! are not read yet and leave the tensor zero.
use std::collections::HashMap;
use std::sync::Arc;

use dagr_protocols::csi::Iq;

use super::grid::{grid_times, Series};
use super::{
    seconds_into, PreprocessSpec, WIFI_AMPLITUDE_CENTER, WIFI_AMPLITUDE_SCALE, WIFI_ANTENNAS,
    WIFI_LINKS, WIFI_SUBCARRIERS,
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

/// The WiFi tensor of `window` (see the [module doc](self)).
pub fn tensor(window: &Window, spec: &PreprocessSpec) -> Vec<f32> {
    let steps = spec.wifi_steps;
    let mut out = vec![0.0; WIFI_LINKS * WIFI_ANTENNAS * WIFI_SUBCARRIERS * steps];
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
    let mut series = vec![Series::default(); WIFI_LINKS * WIFI_ANTENNAS];
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
        if let Some(amplitudes) = normalized_amplitudes(&row.csi, &bins) {
            series[link * WIFI_ANTENNAS + antenna].push(seconds_into(window, r.t_ns), &amplitudes);
        }
    }
    let grid = grid_times(spec.window_s, steps);
    let block = WIFI_SUBCARRIERS * steps;
    for (channel, s) in series.iter().enumerate() {
        s.resample_into(&grid, &mut out[channel * block..(channel + 1) * block]);
    }
    out
}

/// `(|H_k| / rms − center) / scale` over the picked `bins`; `None` when they are all zero.
fn normalized_amplitudes(
    csi: &[Iq],
    bins: &[usize; WIFI_SUBCARRIERS],
) -> Option<[f32; WIFI_SUBCARRIERS]> {
    let amplitude = |iq: Iq| f32::from(iq.re).hypot(f32::from(iq.im));
    let a: [f32; WIFI_SUBCARRIERS] = bins.map(|b| amplitude(csi[b]));
    let rms = (a.iter().map(|x| x * x).sum::<f32>() / WIFI_SUBCARRIERS as f32).sqrt();
    (rms > 0.0).then(|| a.map(|x| (x / rms - WIFI_AMPLITUDE_CENTER) / WIFI_AMPLITUDE_SCALE))
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
    fn amplitude_normalization_cancels_a_gain_change() {
        let bins = picked_subcarriers().map(bin_of);
        let csi = |gain: i8| -> Vec<Iq> {
            (0..64)
                .map(|b| Iq {
                    re: gain * (1 + (b % 5) as i8),
                    im: gain,
                })
                .collect()
        };
        let low = normalized_amplitudes(&csi(2), &bins).unwrap();
        let high = normalized_amplitudes(&csi(6), &bins).unwrap();
        for (l, h) in low.iter().zip(&high) {
            assert!((l - h).abs() < 1e-5);
        }
        assert!(normalized_amplitudes(&[Iq { re: 0, im: 0 }; 64], &bins).is_none());
    }
}
