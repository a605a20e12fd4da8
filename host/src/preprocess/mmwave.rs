//! Radar point clouds to `[F, P, 5]`: the window cut into `F` equal slots (the radar's
//! frame period at the default spec), each holding the latest frame that fell in it, as its
//! `P` strongest points (by SNR, ties in frame order) of `(x, y, z, v, snr)`.
//!
//! Values: x, y, z divided by [`MMWAVE_POSITION_SCALE_M`](super::MMWAVE_POSITION_SCALE_M),
//! radial velocity by [`MMWAVE_VELOCITY_SCALE_MPS`](super::MMWAVE_VELOCITY_SCALE_MPS) (0 when
//! the frame did not carry it), SNR (TLV 7, 0.1 dB) in dB divided by
//! [`MMWAVE_SNR_SCALE_DB`](super::MMWAVE_SNR_SCALE_DB) (0 without TLV 7). Slots without a
//! frame and points beyond a frame's count stay zero. Node-link radar frames are not read
//! yet.
use dagr_protocols::ti_mmwave::{Frame, Point};

use super::{
    seconds_into, PreprocessSpec, MMWAVE_FEATURES, MMWAVE_POSITION_SCALE_M, MMWAVE_SNR_SCALE_DB,
    MMWAVE_VELOCITY_SCALE_MPS,
};
use crate::record::{Modality, Payload};
use crate::sync::Window;

/// The radar tensor of `window` (see the [module doc](self)).
pub fn tensor(window: &Window, spec: &PreprocessSpec) -> Vec<f32> {
    let (frames, points) = (spec.mmwave_frames, spec.mmwave_points);
    let mut slots: Vec<Option<&Frame>> = vec![None; frames];
    for r in window.records_of(Modality::Mmwave) {
        let Payload::Radar(frame) = &r.record.payload else {
            continue;
        };
        let at = seconds_into(window, r.t_ns) / spec.window_s * frames as f64;
        if (0.0..frames as f64).contains(&at) {
            slots[at as usize] = Some(frame);
        }
    }
    let mut out = vec![0.0; frames * points * MMWAVE_FEATURES];
    let slot_len = points * MMWAVE_FEATURES;
    for (slot, frame) in slots.iter().enumerate() {
        if let Some(frame) = frame {
            write_frame(frame, &mut out[slot * slot_len..(slot + 1) * slot_len]);
        }
    }
    out
}

/// Writes the strongest points of `frame` into `out` (`[P, 5]`).
fn write_frame(frame: &Frame, out: &mut [f32]) {
    let mut strongest: Vec<&Point> = frame.points.iter().collect();
    strongest.sort_by_key(|p| std::cmp::Reverse(p.snr.unwrap_or(i16::MIN)));
    for (point, slot) in strongest.iter().zip(out.chunks_exact_mut(MMWAVE_FEATURES)) {
        slot.copy_from_slice(&features(point));
    }
}

/// A point's normalized `(x, y, z, v, snr)`.
pub fn features(p: &Point) -> [f32; MMWAVE_FEATURES] {
    let finite = |x: f32| if x.is_finite() { x } else { 0.0 };
    [
        finite(p.x) / MMWAVE_POSITION_SCALE_M,
        finite(p.y) / MMWAVE_POSITION_SCALE_M,
        finite(p.z) / MMWAVE_POSITION_SCALE_M,
        finite(p.v) / MMWAVE_VELOCITY_SCALE_MPS,
        p.snr.map_or(0.0, |s| f32::from(s) / 10.0) / MMWAVE_SNR_SCALE_DB,
    ]
}
