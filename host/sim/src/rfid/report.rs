//! From a simulated read to the bytes an Impinj reader sends: TagReportData with the
//! standard fields and the Impinj phase/RSSI/Doppler customs, in RO_ACCESS_REPORT messages.
//!
//! Quantisation is the reader's: PeakRSSI (TV 6) is whole dBm (s8), ImpinjPeakRSSI is
//! dBm×100 (s16), ImpinjRFPhaseAngle is 4096 steps per turn (u16 0..4095, rounded to the
//! nearest step), ImpinjRFDopplerFrequency is Hz×16 (s16). Values out of a field's range
//! saturate.
use dagr_protocols::llrp::{Epc, Message, TagReport};
use dagr_protocols::Result;
use std::f64::consts::TAU;

use super::TagRead;

/// Steps per turn of ImpinjRFPhaseAngle.
pub const PHASE_STEPS: f64 = 4096.0;

/// The Impinj phase word for a phase in radians (any value; wrapped into one turn).
pub fn quantize_phase(phase_rad: f64) -> u16 {
    let steps = (phase_rad.rem_euclid(TAU) / TAU * PHASE_STEPS).round();
    (steps as u32 % PHASE_STEPS as u32) as u16
}

/// The TagReportData a reader sends for `read` of the tag `epc`, seen at reader UTC time
/// `utc_us` (µs since the Unix epoch).
pub fn tag_report(read: &TagRead, epc: [u8; 12], utc_us: u64) -> TagReport {
    TagReport {
        epc: Epc::Epc96(epc),
        antenna_id: Some(read.antenna_id),
        peak_rssi: Some(read.rssi_dbm.round().clamp(-128.0, 127.0) as i8),
        channel_index: Some(read.channel_index),
        first_seen_utc_us: Some(utc_us),
        last_seen_utc_us: Some(utc_us),
        tag_seen_count: Some(1),
        impinj_peak_rssi: Some(saturate_i16(read.rssi_dbm * 100.0)),
        impinj_phase: Some(quantize_phase(read.phase_rad)),
        impinj_doppler: Some(saturate_i16(read.doppler_hz * 16.0)),
        ..TagReport::default()
    }
}

fn saturate_i16(v: f64) -> i16 {
    v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
}

/// Groups tag reports into RO_ACCESS_REPORT messages of `per_message` reports each (the
/// ROReportSpec's N; the llrpkit emulator and many deployments use N = 1), numbering
/// messages 1, 2, 3… like a reader's own counter.
#[derive(Debug, Clone)]
pub struct ReportBatcher {
    per_message: usize,
    pending: Vec<TagReport>,
    next_id: u32,
}

impl ReportBatcher {
    /// A batcher emitting a message every `per_message` reports (at least 1).
    pub fn new(per_message: usize) -> Self {
        ReportBatcher {
            per_message: per_message.max(1),
            pending: Vec::new(),
            next_id: 1,
        }
    }

    /// Adds a report; when it completes a batch, appends the message to `out` and
    /// returns true.
    pub fn push(&mut self, report: TagReport, out: &mut Vec<u8>) -> Result<bool> {
        self.pending.push(report);
        if self.pending.len() < self.per_message {
            return Ok(false);
        }
        self.flush(out)?;
        Ok(true)
    }

    /// Appends a message with the reports still pending, if any (end of a run).
    pub fn flush(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let tags = std::mem::take(&mut self.pending);
        let message = Message::ro_access_report(self.next_id, tags);
        self.next_id = self.next_id.wrapping_add(1);
        let start = out.len();
        out.resize(start + message.buffer_len()?, 0);
        message.emit(&mut out[start..])?;
        Ok(())
    }

    /// Reports waiting for their batch to fill.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagr_protocols::llrp::MessageDecoder;
    use dagr_protocols::stream::{decode_chunk, StreamDecoder};

    fn read() -> TagRead {
        TagRead {
            t_s: 1.0,
            tag: 0,
            antenna_id: 2,
            channel_index: 27,
            frequency_hz: 915.75e6,
            phase_rad: 819.0 * TAU / 4096.0,
            rssi_dbm: -45.23,
            doppler_hz: -6.0,
            distance_m: 2.0,
        }
    }

    const EPC: [u8; 12] = [
        0xe2, 0x00, 0x00, 0x17, 0x01, 0x0b, 0x01, 0x62, 0x10, 0x00, 0x00, 0x01,
    ];

    #[test]
    fn a_read_encodes_to_the_llrpkit_golden_tag_report_data() {
        // wire-formats.md §3.6 golden vector (llrpkit encoder), minus its message header.
        let golden = "00f000588de2000017010b016210000001810002 86d3 87001b \
            8200060a2418202240 8400060a2418202240 880001 \
            03ff000e0000651a00000039ee55 03ff000e0000651a000000380333 \
            03ff000e0000651a00000044ffa0";
        let golden: Vec<u8> = golden
            .split_whitespace()
            .collect::<String>()
            .as_bytes()
            .chunks(2)
            .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap())
            .collect();
        let mut out = Vec::new();
        let mut batcher = ReportBatcher::new(1);
        let report = tag_report(&read(), EPC, 1_700_000_000_123_456);
        assert!(batcher.push(report, &mut out).unwrap());
        assert_eq!(&out[10..], &golden[..]);
        assert_eq!(&out[..2], &[0x04, 0x3d]);
    }

    #[test]
    fn phase_wraps_and_rounds_to_4096_steps() {
        assert_eq!(quantize_phase(0.0), 0);
        assert_eq!(quantize_phase(TAU), 0);
        assert_eq!(quantize_phase(-TAU / 4096.0), 4095);
        assert_eq!(quantize_phase(TAU - 0.4 * TAU / 4096.0), 0);
        assert_eq!(quantize_phase(std::f64::consts::PI), 2048);
    }

    #[test]
    fn batches_of_three_decode_back_in_order_and_the_rest_is_flushed() {
        let mut batcher = ReportBatcher::new(3);
        let mut out = Vec::new();
        let mut sent = Vec::new();
        for i in 0..7u16 {
            let mut r = read();
            r.channel_index = i + 1;
            let report = tag_report(&r, EPC, u64::from(i));
            sent.push(report.clone());
            batcher.push(report, &mut out).unwrap();
        }
        assert_eq!(batcher.pending(), 1);
        batcher.flush(&mut out).unwrap();
        let mut decoder = MessageDecoder::new();
        let mut messages = Vec::new();
        decode_chunk(&mut decoder, &out, |m| messages.push(m));
        assert_eq!(decoder.stats().bytes_skipped, 0);
        let sizes: Vec<usize> = messages.iter().map(|m| m.tags().len()).collect();
        assert_eq!(sizes, [3, 3, 1]);
        let ids: Vec<u32> = messages.iter().map(|m| m.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        let got: Vec<TagReport> = messages.iter().flat_map(|m| m.tags().to_vec()).collect();
        assert_eq!(got, sent);
    }

    #[test]
    fn out_of_range_values_saturate() {
        let mut r = read();
        r.rssi_dbm = -400.0;
        r.doppler_hz = 5000.0;
        let rep = tag_report(&r, EPC, 0);
        assert_eq!(rep.peak_rssi, Some(-128));
        assert_eq!(rep.impinj_peak_rssi, Some(-32768));
        assert_eq!(rep.impinj_doppler, Some(i16::MAX));
    }
}
