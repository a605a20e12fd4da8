//! Radar point clouds to `[F, P, 5]`: the window cut into `F` equal slots (the radar's
//! frame period at the default spec), each holding the latest frame that fell in it, as its
//! `P` strongest points (by SNR, ties in frame order) of `(x, y, z, v, snr)`.
//!
//! Values: x, y, z divided by [`MMWAVE_POSITION_SCALE_M`],
//! radial velocity by [`MMWAVE_VELOCITY_SCALE_MPS`] (0 when
//! the frame did not carry it), SNR (TLV 7, 0.1 dB) in dB divided by
//! [`MMWAVE_SNR_SCALE_DB`] (0 without TLV 7); a non-finite
//! coordinate is 0. Slots without a frame and points beyond a frame's count stay zero.
//!
//! Every radar format gives its frames as point clouds in these units (TI out-of-box demo
//! packets one record per frame, node-link radar payloads parts of frames). A record that
//! is part of a frame (a node sends a frame of more than 50 points as several payloads
//! with the same frame number) is merged with the consecutive parts of one source with the
//! same frame number in one slot (their points ranked together, ties in arrival order).
use super::{
    seconds_into, PreprocessSpec, MMWAVE_FEATURES, MMWAVE_POSITION_SCALE_M, MMWAVE_SNR_SCALE_DB,
    MMWAVE_VELOCITY_SCALE_MPS,
};
use crate::record::{Modality, Payload, RadarPoint, Record};
use crate::sync::Window;

/// One point ready to rank: SNR (`i16::MIN` without one), arrival order, features.
type Ranked = (i16, u32, [f32; MMWAVE_FEATURES]);

/// The buffer a slot's points are ranked in, kept between windows so that a steady
/// stream of windows allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct MmwaveScratch {
    points: Vec<Ranked>,
}

/// The frame a slot holds so far: its slot, and for a node frame its source and number
/// (a later payload with both continues it).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Holding<'w> {
    slot: usize,
    node_frame: Option<(&'w str, u32)>,
}

/// Fills `out` (`[F, P, 5]`, any previous content overwritten) with the radar tensor of
/// `window` (see the [module doc](self)); returns how many radar records were unused.
pub fn tensor_into(
    window: &Window,
    spec: &PreprocessSpec,
    scratch: &mut MmwaveScratch,
    out: &mut [f32],
) -> usize {
    out.fill(0.0);
    let frames = spec.mmwave_frames;
    let slot_len = spec.mmwave_points * MMWAVE_FEATURES;
    let points = &mut scratch.points;
    points.clear();
    let mut holding: Option<Holding> = None;
    let mut unused = 0;
    for r in window.records_of(Modality::Mmwave) {
        let Some(node_frame) = radar_frame(&r.record) else {
            unused += 1;
            continue;
        };
        let at = seconds_into(window, r.t_ns) / spec.window_s * frames as f64;
        if !(0.0..frames as f64).contains(&at) {
            continue;
        }
        let here = Holding {
            slot: at as usize,
            node_frame,
        };
        let continues = node_frame.is_some() && holding == Some(here);
        if !continues {
            if let Some(done) = holding.filter(|h| h.slot != here.slot) {
                write_slot(points, &mut out[done.slot * slot_len..][..slot_len]);
            }
            points.clear();
        }
        holding = Some(here);
        rank_points(&r.record.payload, points);
    }
    if let Some(done) = holding {
        write_slot(points, &mut out[done.slot * slot_len..][..slot_len]);
    }
    unused
}

/// `None` when `record` holds no point cloud; else, for a part of a frame, its source and
/// frame number (`Some(None)` for a whole frame).
fn radar_frame(record: &Record) -> Option<Option<(&str, u32)>> {
    match &record.payload {
        Payload::Radar(cloud) => Some(cloud.part_of_frame.map(|n| (&*record.source, n))),
        _ => None,
    }
}

/// Appends the points of a radar payload to `points`, in arrival order.
fn rank_points(payload: &Payload, points: &mut Vec<Ranked>) {
    let next = points.len() as u32;
    if let Payload::Radar(cloud) = payload {
        points.extend(
            (cloud.points.iter().zip(next..))
                .map(|(p, i)| (p.snr.unwrap_or(i16::MIN), i, features(p))),
        );
    }
}

/// Writes the strongest of `points` into one slot (`[P, 5]`), strongest first.
fn write_slot(points: &mut [Ranked], out: &mut [f32]) {
    points.sort_unstable_by_key(|&(snr, order, _)| (std::cmp::Reverse(snr), order));
    for ((_, _, f), cell) in points.iter().zip(out.chunks_exact_mut(MMWAVE_FEATURES)) {
        cell.copy_from_slice(f);
    }
}

/// A point's normalized `(x, y, z, v, snr)` (metres, m/s and TLV 7 SNR units in).
pub fn features(p: &RadarPoint) -> [f32; MMWAVE_FEATURES] {
    let finite = |x: f32| if x.is_finite() { x } else { 0.0 };
    [
        finite(p.x) / MMWAVE_POSITION_SCALE_M,
        finite(p.y) / MMWAVE_POSITION_SCALE_M,
        finite(p.z) / MMWAVE_POSITION_SCALE_M,
        finite(p.v) / MMWAVE_VELOCITY_SCALE_MPS,
        p.snr.map_or(0.0, |s| f32::from(s) / 10.0) / MMWAVE_SNR_SCALE_DB,
    ]
}
