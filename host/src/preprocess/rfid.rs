//! RFID tag reads to `[46, T]`: two rows per tag (up to 23 tags, see below which tag takes
//! which rows; zero rows for the others): row `2·tag` the tag's phase track, row
//! `2·tag + 1` its RSSI, each on a uniform grid with its window mean removed.
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
//! 0 at the tag's first read, is divided by [`RFID_PHASE_SCALE`]
//! and has its window mean removed: what is left is how the paths to the tag changed (a
//! person moving near its line of sight, or the tag itself moving on a cup or a phone).
//!
//! # RSSI
//! The read's Impinj peak RSSI (or the LLRP PeakRSSI when that is all there is), dB, minus
//! its window mean, divided by [`RFID_RSSI_SCALE_DB`]: a body
//! blocking the tag's line of sight lowers it by several dB.
//!
//! # Which tag is which row
//! By default the first 23 tags in EPC byte order among those read in the window (a tag
//! missing from a window shifts the rows after it, as the reference model was trained);
//! with a [`TagOrder`] list from the gateway config, each listed tag keeps its rows and an
//! unread one leaves them zero. Reads of tags that get no row are unused and counted.
//!
//! # When a read was
//! Every RFID format gives its reads as tag reads (an LLRP tag report one per record, a
//! node-link payload a batch). A read's time is its record's (the device time mapped by
//! the source's clock model) shifted by the read's `seen_offset_s` (a node's batch keeps
//! its reads' spacing this way; a shift longer than the window is taken as a bad clock and
//! ignored).
//!
//! A read without a phase (a reader without Impinj extensions) still gives its RSSI; its
//! phase track holds. A read with neither is unused.
use super::grid::{grid_times_into, wrap_pi, Series};
use super::tag_order::TagOrder;
use super::{
    seconds_into, PreprocessSpec, RFID_PHASE_SCALE, RFID_ROWS_PER_TAG, RFID_RSSI_SCALE_DB,
    RFID_TAGS,
};
use crate::record::{Modality, Payload};
use crate::sync::{TimedRecord, Window};

/// Longest time between two reads on one antenna and channel that still gives a phase
/// step, s (beyond it a moving tag may have turned by more than π).
pub const MAX_PAIR_GAP_S: f64 = 0.5;

/// One tag read: when, which phase, and the (channel, antenna) it is comparable on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseRead {
    /// Seconds from the window's start.
    pub t: f64,
    /// Phase, rad, as reported (wrapped); `None` when the reader sent none.
    pub phase: Option<f64>,
    /// Channel index and antenna id (`0` when not reported).
    pub link: (u16, u16),
    /// RSSI, dBm, when reported.
    pub rssi: Option<f64>,
}

/// One tag's reads in a window.
#[derive(Debug, Clone, Default)]
struct TagReads {
    epc: Vec<u8>,
    /// [`fingerprint`] of `epc`: a window files hundreds of reads among a few dozen tags,
    /// and comparing words first leaves a full EPC comparison to the one tag that matches.
    key: u64,
    reads: Vec<PhaseRead>,
}

/// A word that differs between most EPCs: their length and bytes folded (FNV-1a).
fn fingerprint(epc: &[u8]) -> u64 {
    epc.iter()
        .fold(0xcbf2_9ce4_8422_2325 ^ epc.len() as u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// The buffers the RFID tensor is built in, kept between windows so that a steady stream
/// of windows allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct RfidScratch {
    /// Tag slots; the first `used` hold this window's tags.
    tags: Vec<TagReads>,
    used: usize,
    /// (row, tag slot) of the tags that get rows.
    rows: Vec<(usize, usize)>,
    track: Vec<f64>,
    last_on: Vec<((u16, u16), usize)>,
    phase: Series,
    rssi: Series,
    grid: Vec<f64>,
}

impl RfidScratch {
    /// Files `read` under `epc` (unless `order` lists other tags only); false when unused.
    fn add(&mut self, order: &TagOrder, epc: &[u8], read: PhaseRead) -> bool {
        if (read.phase.is_none() && read.rssi.is_none())
            || (order.is_listed() && order.row_of(epc).is_none())
        {
            return false;
        }
        let key = fingerprint(epc);
        let same = |t: &TagReads| t.key == key && t.epc == epc;
        let slot = match self.tags[..self.used].iter().position(same) {
            Some(slot) => slot,
            None => {
                if self.used == self.tags.len() {
                    self.tags.push(TagReads::default());
                }
                let tag = &mut self.tags[self.used];
                tag.epc.clear();
                tag.epc.extend_from_slice(epc);
                tag.key = key;
                tag.reads.clear();
                self.used += 1;
                self.used - 1
            }
        };
        self.tags[slot].reads.push(read);
        true
    }

    /// Picks the tags that get rows per `order`; returns the reads of those that do not.
    fn assign_rows(&mut self, order: &TagOrder) -> usize {
        self.rows.clear();
        let tags = &self.tags[..self.used];
        if order.is_listed() {
            let listed = tags.iter().enumerate();
            self.rows
                .extend(listed.filter_map(|(i, t)| Some((order.row_of(&t.epc)?, i))));
            return 0;
        }
        self.rows.extend((0..self.used).map(|i| (0, i)));
        self.rows
            .sort_unstable_by(|a, b| tags[a.1].epc.cmp(&tags[b.1].epc));
        let dropped = self.rows.iter().skip(RFID_TAGS);
        let unused = dropped.map(|&(_, i)| tags[i].reads.len()).sum();
        self.rows.truncate(RFID_TAGS);
        for (row, entry) in self.rows.iter_mut().enumerate() {
            entry.0 = row;
        }
        unused
    }
}

/// Fills `out` (`[46, T]`, any previous content overwritten) with the RFID tensor of
/// `window` (see the [module doc](self)), tags in `order`; returns the unused reads.
pub fn tensor_into(
    window: &Window,
    spec: &PreprocessSpec,
    order: &TagOrder,
    scratch: &mut RfidScratch,
    out: &mut [f32],
) -> usize {
    let steps = spec.rfid_steps;
    out.fill(0.0);
    scratch.used = 0;
    let mut unused = 0;
    for r in window.records_of(Modality::Rfid) {
        unused += collect_reads(window, spec, r, order, scratch);
    }
    unused += scratch.assign_rows(order);
    grid_times_into(spec.window_s, steps, &mut scratch.grid);
    let s = &mut *scratch;
    for &(row, slot) in &s.rows {
        let reads = &mut s.tags[slot].reads;
        if !reads.is_sorted_by(|a, b| a.t <= b.t) {
            reads.sort_unstable_by(|a, b| a.t.total_cmp(&b.t));
        }
        phase_track_into(reads, &mut s.track, &mut s.last_on);
        s.phase.clear();
        s.rssi.clear();
        for (read, &value) in reads.iter().zip(&s.track) {
            s.phase.push(read.t, &[(value as f32) / RFID_PHASE_SCALE]);
            if let Some(dbm) = read.rssi {
                s.rssi.push(read.t, &[dbm as f32 / RFID_RSSI_SCALE_DB]);
            }
        }
        for (k, series) in [&s.phase, &s.rssi].into_iter().enumerate() {
            let at = (row * RFID_ROWS_PER_TAG + k) * steps;
            let cells = &mut out[at..at + steps];
            series.resample_into(&s.grid, cells);
            if !series.is_empty() {
                let mean = cells.iter().sum::<f32>() / steps as f32;
                cells.iter_mut().for_each(|x| *x -= mean);
            }
        }
    }
    unused
}

/// Files the reads of one RFID record; returns how many of them (or the record, when it
/// holds no reads) are unused.
fn collect_reads(
    window: &Window,
    spec: &PreprocessSpec,
    r: &TimedRecord,
    order: &TagOrder,
    scratch: &mut RfidScratch,
) -> usize {
    let t = seconds_into(window, r.t_ns);
    let Payload::Tags(reads) = &r.record.payload else {
        return 1;
    };
    let unused = reads.iter().filter(|read| {
        let shift = read.seen_offset_s;
        let shift = if shift.abs() <= spec.window_s {
            shift
        } else {
            0.0
        };
        let phase_read = PhaseRead {
            t: t + shift,
            phase: read.phase_rad,
            link: (read.channel, read.antenna),
            rssi: read.rssi_dbm,
        };
        !scratch.add(order, &read.epc, phase_read)
    });
    unused.count()
}

/// The phase track of one tag's reads (in time order), rad, starting at 0 (see the
/// [module doc](self)).
pub fn phase_track(reads: &[PhaseRead]) -> Vec<f64> {
    let mut track = Vec::with_capacity(reads.len());
    phase_track_into(reads, &mut track, &mut Vec::new());
    track
}

/// [`phase_track`] into `track`, with `last_on` as scratch (both overwritten).
fn phase_track_into(
    reads: &[PhaseRead],
    track: &mut Vec<f64>,
    last_on: &mut Vec<((u16, u16), usize)>,
) {
    track.clear();
    last_on.clear();
    let mut level = 0.0;
    for (i, read) in reads.iter().enumerate() {
        let Some(phase) = read.phase else {
            track.push(level);
            continue;
        };
        let partner = last_on
            .iter()
            .find(|(link, _)| *link == read.link)
            .map(|&(_, j)| &reads[j])
            .filter(|p| read.t - p.t <= MAX_PAIR_GAP_S && read.t > p.t);
        if let Some((p, earlier)) = partner.and_then(|p| Some((p, p.phase?))) {
            let rate = wrap_pi(phase - earlier) / (read.t - p.t);
            level += rate * (read.t - reads[i - 1].t);
        }
        match last_on.iter_mut().find(|(link, _)| *link == read.link) {
            Some(entry) => entry.1 = i,
            None => last_on.push((read.link, i)),
        }
        track.push(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    fn read(t: f64, phase: f64, channel: u16) -> PhaseRead {
        PhaseRead {
            t,
            phase: Some(phase.rem_euclid(TAU)),
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
                    phase: Some((0.1 * i as f64 + offset).rem_euclid(TAU)),
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
