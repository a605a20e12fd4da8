//! RFID tag reads to `[46, T]`: two rows per tag, in EPC byte order (the first 23 tags read
//! in the window, zero rows after them): row `2·tag` the tag's phase track, row `2·tag + 1`
//! its RSSI, each on a uniform grid with its window mean removed.
//!
//! # Phase track
//! A read's Impinj phase is `4π·d/λ(channel) mod 2π` plus the reader's per-channel and
//! per-antenna offsets, so phases are only comparable between reads on the same channel and
//! antenna. A reader hops channel every few hundred ms and cycles its antennas every few
//! tens, so consecutive reads of a tag rarely share both. The track therefore uses, for each
//! read, the latest earlier read of the same tag on the same antenna and channel (at most
//! [`MAX_PAIR_GAP_S`] before): their wrapped phase step `(−π, π]` over their time apart is
//! the phase's rate of change, and the track advances by that rate over the time since the
//! tag's previous read (by nothing when the read has no such partner). The track starts at
//! 0 at the tag's first read, is divided by [`RFID_PHASE_SCALE`](super::RFID_PHASE_SCALE)
//! and has its window mean removed: what is left is how the paths to the tag changed (a
//! person moving near its line of sight, or the tag itself moving on a cup or a phone).
//!
//! # RSSI
//! The read's Impinj peak RSSI (or the LLRP PeakRSSI when that is all there is), dB, minus
//! its window mean, divided by [`RFID_RSSI_SCALE_DB`](super::RFID_RSSI_SCALE_DB): a body
//! blocking the tag's line of sight lowers it by several dB.
//!
//! Rows are stable across windows as long as the same tags are read in each (every tag of
//! a room at ~30 reads/s is read many times in a 2 s window); a tag missing from a window
//! shifts the rows after it.
use std::collections::BTreeMap;

use super::grid::{grid_times, wrap_pi, Series};
use super::{
    seconds_into, PreprocessSpec, RFID_PHASE_SCALE, RFID_ROWS_PER_TAG, RFID_RSSI_SCALE_DB,
    RFID_TAGS,
};
use crate::record::{Modality, Payload};
use crate::sync::Window;

/// Longest time between two reads on one antenna and channel that still gives a phase
/// step, s (beyond it a moving tag may have turned by more than π).
pub const MAX_PAIR_GAP_S: f64 = 0.5;

/// One phase reading: when, which phase, and the (channel, antenna) it is comparable on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseRead {
    /// Seconds from the window's start.
    pub t: f64,
    /// Phase, rad, as reported (wrapped).
    pub phase: f64,
    /// Channel index and antenna id (`0` when not reported).
    pub link: (u16, u16),
    /// RSSI, dBm, when reported.
    pub rssi: Option<f64>,
}

/// The RFID tensor of `window` (see the [module doc](self)).
pub fn tensor(window: &Window, spec: &PreprocessSpec) -> Vec<f32> {
    let steps = spec.rfid_steps;
    let mut out = vec![0.0; RFID_TAGS * RFID_ROWS_PER_TAG * steps];
    let mut tags: BTreeMap<Vec<u8>, Vec<PhaseRead>> = BTreeMap::new();
    for r in window.records_of(Modality::Rfid) {
        let Payload::Tag(tag) = &r.record.payload else {
            continue;
        };
        let Some(phase) = tag.phase_rad() else {
            continue;
        };
        let rssi = tag.impinj_peak_rssi_dbm().or(tag.peak_rssi.map(f64::from));
        tags.entry(tag.epc.as_bytes().to_vec())
            .or_default()
            .push(PhaseRead {
                t: seconds_into(window, r.t_ns),
                phase,
                link: (tag.channel_index.unwrap_or(0), tag.antenna_id.unwrap_or(0)),
                rssi,
            });
    }
    let grid = grid_times(spec.window_s, steps);
    for (row, reads) in tags.values().take(RFID_TAGS).enumerate() {
        let (mut phase, mut rssi) = (Series::default(), Series::default());
        for (read, value) in reads.iter().zip(phase_track(reads)) {
            phase.push(read.t, &[(value as f32) / RFID_PHASE_SCALE]);
            if let Some(dbm) = read.rssi {
                rssi.push(read.t, &[dbm as f32 / RFID_RSSI_SCALE_DB]);
            }
        }
        for (k, series) in [phase, rssi].iter().enumerate() {
            let at = (row * RFID_ROWS_PER_TAG + k) * steps;
            let cells = &mut out[at..at + steps];
            series.resample_into(&grid, cells);
            if !series.is_empty() {
                let mean = cells.iter().sum::<f32>() / steps as f32;
                cells.iter_mut().for_each(|x| *x -= mean);
            }
        }
    }
    out
}

/// The phase track of one tag's reads (in time order), rad, starting at 0 (see the
/// [module doc](self)).
pub fn phase_track(reads: &[PhaseRead]) -> Vec<f64> {
    let mut track = Vec::with_capacity(reads.len());
    let mut last_on: BTreeMap<(u16, u16), usize> = BTreeMap::new();
    let mut level = 0.0;
    for (i, read) in reads.iter().enumerate() {
        if i > 0 {
            let partner = last_on
                .get(&read.link)
                .map(|&j| &reads[j])
                .filter(|p| read.t - p.t <= MAX_PAIR_GAP_S && read.t > p.t);
            if let Some(p) = partner {
                let rate = wrap_pi(read.phase - p.phase) / (read.t - p.t);
                level += rate * (read.t - reads[i - 1].t);
            }
        }
        last_on.insert(read.link, i);
        track.push(level);
    }
    track
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    fn read(t: f64, phase: f64, channel: u16) -> PhaseRead {
        PhaseRead {
            t,
            phase: phase.rem_euclid(TAU),
            link: (channel, 1),
            rssi: None,
        }
    }

    #[test]
    fn a_steadily_turning_phase_unwraps_through_several_turns() {
        let reads: Vec<PhaseRead> = (0..60)
            .map(|i| read(i as f64 * 0.03, 0.5 * i as f64, 3))
            .collect();
        let track = phase_track(&reads);
        assert!((track[59] - 0.5 * 59.0).abs() < 1e-9, "{}", track[59]);
    }

    #[test]
    fn alternating_antennas_with_their_own_offsets_still_give_the_ramp() {
        let reads: Vec<PhaseRead> = (0..80)
            .map(|i| {
                let antenna = 1 + (i % 2) as u16;
                let offset = if antenna == 1 { 0.3 } else { 2.9 };
                PhaseRead {
                    t: i as f64 * 0.02,
                    phase: (0.1 * i as f64 + offset).rem_euclid(TAU),
                    link: (5, antenna),
                    rssi: None,
                }
            })
            .collect();
        let track = phase_track(&reads);
        // Every read but the first two has a partner; the ramp is 0.1 rad per read.
        assert!((track[79] - 0.1 * 78.0).abs() < 1e-6, "{}", track[79]);
    }

    #[test]
    fn a_channel_hop_holds_the_track_instead_of_jumping() {
        let reads = [
            read(0.0, 1.0, 3),
            read(0.1, 1.2, 3),
            read(0.2, 4.0, 7),
            read(0.3, 4.1, 7),
        ];
        let track = phase_track(&reads);
        let expected = [0.0, 0.2, 0.2, 0.3];
        for (t, e) in track.iter().zip(expected) {
            assert!((t - e).abs() < 1e-9, "{track:?}");
        }
    }
}
