//! RFID tag reads to `[23, T]`: one row per tag, in EPC byte order (the first 23 tags read
//! in the window, zero rows after them), holding the tag's phase track on a uniform grid.
//!
//! # Phase track
//! A read's Impinj phase is `4π·d/λ(channel) mod 2π` plus the reader's per-channel and
//! per-antenna offsets, so phases are only comparable between reads on the same channel and
//! antenna. The track starts at 0 at the tag's first read in the window; each further read
//! adds its wrapped phase step `(−π, π]` from the previous read when both share channel and
//! antenna, and nothing when the reader hopped channel or switched antenna (the track holds
//! its level across the hop). The unwrapped track is divided by
//! [`RFID_PHASE_SCALE`](super::RFID_PHASE_SCALE). Reads without a phase are skipped.
//!
//! Rows are stable across windows as long as the same tags are read in each (every tag of
//! a room at ~30 reads/s is read many times in a 2 s window); a tag missing from a window
//! shifts the rows after it.
use std::collections::BTreeMap;

use super::grid::{grid_times, wrap_pi, Series};
use super::{seconds_into, PreprocessSpec, RFID_PHASE_SCALE, RFID_TAGS};
use crate::record::{Modality, Payload};
use crate::sync::Window;

/// One phase reading: when, which phase, and the (channel, antenna) it is comparable on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseRead {
    /// Seconds from the window's start.
    pub t: f64,
    /// Phase, rad, as reported (wrapped).
    pub phase: f64,
    /// Channel index and antenna id (`0` when not reported).
    pub link: (u16, u16),
}

/// The RFID tensor of `window` (see the [module doc](self)).
pub fn tensor(window: &Window, spec: &PreprocessSpec) -> Vec<f32> {
    let steps = spec.rfid_steps;
    let mut out = vec![0.0; RFID_TAGS * steps];
    let mut tags: BTreeMap<Vec<u8>, Vec<PhaseRead>> = BTreeMap::new();
    for r in window.records_of(Modality::Rfid) {
        let Payload::Tag(tag) = &r.record.payload else {
            continue;
        };
        let Some(phase) = tag.phase_rad() else {
            continue;
        };
        tags.entry(tag.epc.as_bytes().to_vec())
            .or_default()
            .push(PhaseRead {
                t: seconds_into(window, r.t_ns),
                phase,
                link: (tag.channel_index.unwrap_or(0), tag.antenna_id.unwrap_or(0)),
            });
    }
    let grid = grid_times(spec.window_s, steps);
    for (row, reads) in tags.values().take(RFID_TAGS).enumerate() {
        let mut series = Series::default();
        for (read, value) in reads.iter().zip(phase_track(reads)) {
            series.push(read.t, &[(value as f32) / RFID_PHASE_SCALE]);
        }
        series.resample_into(&grid, &mut out[row * steps..(row + 1) * steps]);
    }
    out
}

/// The unwrapped phase track of one tag's reads, rad, starting at 0 (see the
/// [module doc](self)).
pub fn phase_track(reads: &[PhaseRead]) -> Vec<f64> {
    let mut track = Vec::with_capacity(reads.len());
    let mut level = 0.0;
    for (i, read) in reads.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).map(|p| &reads[p]) {
            if prev.link == read.link {
                level += wrap_pi(read.phase - prev.phase);
            }
        }
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
