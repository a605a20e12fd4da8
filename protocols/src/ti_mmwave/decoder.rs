//! The streaming decoder for the data port: magic-word scan, whole-packet buffering, resync.
use alloc::vec::Vec;

use super::frame::Frame;
use super::header::{Packet, MAGIC, PREFIX_LEN};
use super::tlv::TlvIter;
use crate::error::Error;
use crate::stream::{ByteBuf, StreamDecoder, StreamStats};

/// Default bound on buffered bytes, and so on `totalPacketLen`: 256 KiB holds every OOB
/// packet (the largest, a full range-Doppler heatmap, is 256 x 256 x 2 B = 128 KiB + TLVs).
pub const DEFAULT_LIMIT: usize = 256 * 1024;
/// The smallest limit [`FrameDecoder::with_limit`] accepts: one 40-byte header.
pub const MIN_LIMIT: usize = 64;

/// Decodes a data-port byte stream into [`Frame`]s.
///
/// It scans for the 8 magic bytes, reads `version`/`platform` (header length 36 or 40, see
/// [`HeaderLayout::of`](super::header::HeaderLayout::of)) and `totalPacketLen`, waits for the whole packet and decodes it.
///
/// * `totalPacketLen` shorter than the header or above the limit: not a packet; the
///   candidate is skipped one byte (counted in [`StreamStats::bytes_skipped`]) and the scan
///   resumes. An over-limit length also records [`Error::TooLong`] in `last_error`.
/// * TLVs overrunning the packet, a malformed known TLV, or a magic word inside the padding
///   (a corrupt, too-large length): the frame is rejected (`frames_rejected`, its 8 magic
///   bytes count as consumed) and the scan resumes right after the magic word, so real
///   frames behind a corrupt one are still found.
/// * Garbage before and between frames, and a partial frame at [`finish`], are skipped
///   and counted.
///
/// [`finish`]: StreamDecoder::finish
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: ByteBuf,
    stats: StreamStats,
    finished: bool,
}

/// What the front of the buffer holds after the garbage before a magic word is dropped.
enum Head {
    /// A whole candidate packet of this many bytes.
    Packet(usize),
    /// Not enough bytes yet to decide.
    NeedMore,
    /// A magic word whose length field cannot be a packet (reason given when worth recording).
    BadLength(Option<Error>),
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// A decoder that buffers at most [`DEFAULT_LIMIT`] bytes.
    pub fn new() -> FrameDecoder {
        FrameDecoder::with_limit(DEFAULT_LIMIT)
    }

    /// A decoder that buffers at most `limit` bytes (at least [`MIN_LIMIT`]); packets whose
    /// `totalPacketLen` exceeds it are skipped.
    pub fn with_limit(limit: usize) -> FrameDecoder {
        FrameDecoder {
            buf: ByteBuf::with_limit(limit.max(MIN_LIMIT)),
            stats: StreamStats::default(),
            finished: false,
        }
    }

    /// The bound on buffered bytes and on `totalPacketLen`.
    pub fn limit(&self) -> usize {
        self.buf.limit()
    }

    /// Bytes buffered and not yet decoded or skipped.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops bytes up to the first possible magic word; true when one is at the front.
    fn seek_magic(&mut self) -> bool {
        let bytes = self.buf.as_slice();
        match find_magic(bytes) {
            Some(0) => true,
            Some(at) => {
                self.skip(at);
                true
            }
            None => {
                // Keep a tail that may be the start of a magic word still arriving.
                let keep = if self.finished {
                    0
                } else {
                    magic_prefix_len(bytes)
                };
                self.skip(bytes.len() - keep);
                false
            }
        }
    }

    fn skip(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.stats.skip(n);
        self.buf.consume(n);
    }

    /// Classifies the candidate packet at the front of the buffer (magic at offset 0).
    fn head(&self) -> Head {
        let bytes = self.buf.as_slice();
        if bytes.len() < PREFIX_LEN {
            return Head::NeedMore;
        }
        // The prefix (magic through `platform`) is all this reads, and it is there.
        let prefix = Packet::new_unchecked(&bytes[..PREFIX_LEN]);
        let total = usize::try_from(prefix.total_packet_len()).unwrap_or(usize::MAX);
        if total < prefix.header_len() {
            return Head::BadLength(None);
        }
        if total > self.buf.limit() {
            return Head::BadLength(Some(Error::TooLong {
                claimed: total,
                limit: self.buf.limit(),
            }));
        }
        if bytes.len() < total {
            return Head::NeedMore;
        }
        Head::Packet(total)
    }

    /// After `finish`, a candidate that can never complete: drop up to the next magic word.
    fn drop_partial(&mut self) {
        let next = self
            .buf
            .as_slice()
            .get(1..)
            .and_then(find_magic)
            .map_or(self.buf.len(), |at| at + 1);
        self.skip(next);
    }
}

impl StreamDecoder for FrameDecoder {
    type Item = Frame;

    fn push(&mut self, input: &[u8]) -> usize {
        let taken = self.buf.push(input);
        self.stats.bytes_in += taken as u64;
        taken
    }

    fn next_item(&mut self) -> Option<Frame> {
        while self.seek_magic() {
            match self.head() {
                Head::Packet(len) => {
                    let parsed = decode_packet(self.buf.as_slice().get(..len).unwrap_or(&[]));
                    match parsed {
                        Ok(frame) => {
                            self.stats.accept(len);
                            self.buf.consume(len);
                            return Some(frame);
                        }
                        Err(err) => {
                            self.stats.reject(MAGIC.len(), err);
                            self.buf.consume(MAGIC.len());
                        }
                    }
                }
                Head::BadLength(err) => {
                    if let Some(err) = err {
                        self.stats.last_error = Some(err);
                    }
                    self.skip(1);
                }
                Head::NeedMore if self.finished => self.drop_partial(),
                Head::NeedMore => return None,
            }
        }
        None
    }

    fn finish(&mut self) {
        self.finished = true;
    }

    fn stats(&self) -> &StreamStats {
        &self.stats
    }
}

/// Decodes one whole candidate packet. Besides [`Frame::parse`], it checks that the padding
/// (after the last TLV, up to `totalPacketLen`) holds no magic word: real padding is under
/// 32 bytes of junk, so a magic word there means a corrupt, too-large `totalPacketLen` that
/// would otherwise swallow the frames that follow.
fn decode_packet(bytes: &[u8]) -> Result<Frame, Error> {
    let packet = Packet::new_checked(bytes)?;
    let mut end = packet.header_len();
    for tlv in TlvIter::new(packet.tlv_area(), packet.num_tlvs()) {
        end = end.saturating_add(tlv?.total_len().unwrap_or(usize::MAX));
    }
    if find_magic(bytes.get(end..).unwrap_or(&[])).is_some() {
        return Err(Error::Malformed(
            "magic word inside the padding (totalPacketLen too large)",
        ));
    }
    Frame::parse(&packet)
}

/// Offset of the first whole magic word in `bytes`: a fast scan for its first byte, then a
/// check of the other seven.
pub fn find_magic(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let rest = bytes.get(from..)?;
        let at = from + rest.iter().position(|&b| b == MAGIC[0])?;
        if bytes.get(at..)?.starts_with(&MAGIC) {
            return Some(at);
        }
        from = at + 1;
    }
}

/// Length of the longest suffix of `bytes` that is a proper prefix of the magic word.
fn magic_prefix_len(bytes: &[u8]) -> usize {
    (1..MAGIC.len())
        .rev()
        .find(|&n| bytes.len() >= n && bytes.ends_with(&MAGIC[..n]))
        .unwrap_or(0)
}

/// Decodes a whole byte slice at once: the frames, and the counters.
pub fn decode_bytes(bytes: &[u8]) -> (Vec<Frame>, StreamStats) {
    let mut decoder = FrameDecoder::new();
    let mut frames = Vec::new();
    crate::stream::decode_all(&mut decoder, bytes, |f| frames.push(f));
    (frames, *decoder.stats())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::decode_all;
    use crate::ti_mmwave::frame::tests::arb_sdk3_frame;
    use crate::ti_mmwave::header::field;
    use proptest::prelude::*;
    use std::string::String;

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/real/ti_mmwave/"
    );
    const FIRST: &str = "xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat";
    const SECOND: &str = "xwr16xx_processed_stream_2020_06_26T15_06_28_775.dat";

    fn recording(name: &str) -> Vec<u8> {
        std::fs::read(String::from(DIR) + name).expect("real TI recording")
    }

    /// Frame offsets of a clean recording (every packet's `totalPacketLen`).
    fn frame_spans(data: &[u8]) -> Vec<core::ops::Range<usize>> {
        let mut spans = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let len = Packet::new_unchecked(&data[at..]).total_packet_len() as usize;
            spans.push(at..at + len);
            at += len;
        }
        spans
    }

    fn decode_in_chunks(data: &[u8], sizes: &[usize]) -> (Vec<Frame>, StreamStats) {
        let mut decoder = FrameDecoder::new();
        let mut frames = Vec::new();
        let mut rest = data;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes
                .get(i % sizes.len().max(1))
                .copied()
                .unwrap_or(1)
                .clamp(1, rest.len());
            i += 1;
            crate::stream::decode_chunk(&mut decoder, &rest[..n], |f| frames.push(f));
            rest = &rest[n..];
        }
        decoder.finish();
        while let Some(f) = decoder.next_item() {
            frames.push(f);
        }
        (frames, *decoder.stats())
    }

    fn assert_invariant(stats: &StreamStats, buffered: usize) {
        assert_eq!(
            stats.bytes_in,
            stats.bytes_consumed + stats.bytes_skipped + buffered as u64
        );
    }

    #[test]
    fn both_recordings_decode_completely() {
        for name in [FIRST, SECOND] {
            let data = recording(name);
            let (frames, stats) = decode_bytes(&data);
            assert_eq!(frames.len(), 101, "{name}");
            assert_eq!(stats.frames_ok, 101);
            assert_eq!(stats.bytes_skipped, 0);
            assert_eq!(stats.frames_rejected, 0);
            assert_eq!(stats.bytes_consumed, data.len() as u64);
            let numbers: Vec<u32> = frames.iter().map(|f| f.frame_number).collect();
            assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
        }
    }

    #[test]
    fn first_recording_starts_with_the_spec_frame() {
        // Where these values come from: shared/reference/wire-formats.md §1.5 hex-dumps the
        // first 128 bytes of this recording and decodes them field by field (a script there, and
        // pymmWave, give the same points). TI's own visualizer CSV (`tlv_TI_demo_mmw.csv`)
        // covers the *second* recording, frames 316..=416, and is checked point by point in
        // protocols' `every_point_of_the_second_recording_matches_the_csv`; its "frame 370" is
        // that recording's frame, not this one.
        let (frames, _) = decode_bytes(&recording(FIRST));
        let f = &frames[0];
        assert_eq!((f.frame_number, f.points.len()), (370, 4));
        let snr_noise: Vec<_> = f.points.iter().map(|p| (p.snr, p.noise)).collect();
        assert_eq!(
            snr_noise,
            [
                (Some(247), Some(898)),
                (Some(303), Some(721)),
                (Some(281), Some(589)),
                (Some(212), Some(504))
            ]
        );
        assert_eq!(f.range_profile.as_ref().map(Vec::len), Some(256));
        assert!(f.stats.is_some() && f.temperature.is_some());
    }

    /// One CSV row: ([x, y, z, v], snr, noise).
    type CsvPoint = ([f32; 4], i16, i16);

    /// Rows of `tlv_TI_demo_mmw.csv` grouped by frame number.
    fn csv_frames() -> Vec<(u32, Vec<CsvPoint>)> {
        let text = String::from_utf8(recording("tlv_TI_demo_mmw.csv")).unwrap();
        let mut frames: Vec<(u32, Vec<_>)> = Vec::new();
        for line in text.lines().skip(1) {
            if let Some(rest) = line.strip_prefix("# Frame ") {
                let number = rest.split(':').next().unwrap().trim().parse().unwrap();
                frames.push((number, Vec::new()));
                continue;
            }
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            assert_eq!(cols.len(), 8, "{line}");
            let number: u32 = cols[0].parse().unwrap();
            let f = |i: usize| cols[i].parse::<f32>().unwrap();
            let row = (
                [f(2), f(3), f(4), f(5)],
                cols[6].parse().unwrap(),
                cols[7].parse().unwrap(),
            );
            let last = frames.last_mut().unwrap();
            assert_eq!(last.0, number);
            last.1.push(row);
        }
        frames
    }

    #[test]
    fn every_point_of_the_second_recording_matches_the_csv() {
        let (frames, _) = decode_bytes(&recording(SECOND));
        let expected = csv_frames();
        assert_eq!(expected.len(), 101);
        assert_eq!(frames.len(), expected.len());
        for (frame, (number, rows)) in frames.iter().zip(&expected) {
            assert_eq!(frame.frame_number, *number);
            assert_eq!(frame.points.len(), rows.len(), "frame {number}");
            for (p, (xyzv, snr, noise)) in frame.points.iter().zip(rows) {
                for (got, want) in [p.x, p.y, p.z, p.v].into_iter().zip(xyzv) {
                    assert!(
                        (got - want).abs() <= 1e-4,
                        "frame {number}: {p:?} vs {xyzv:?}"
                    );
                }
                assert_eq!(
                    (p.snr, p.noise),
                    (Some(*snr), Some(*noise)),
                    "frame {number}"
                );
            }
        }
    }

    #[test]
    fn byte_at_a_time_gives_the_same_frames() {
        let data = recording(SECOND);
        let (whole, _) = decode_bytes(&data);
        let (bytewise, stats) = decode_in_chunks(&data, &[1]);
        assert_eq!(bytewise, whole);
        assert_eq!(stats.bytes_skipped, 0);
        assert_invariant(&stats, 0);
    }

    #[test]
    fn garbage_between_real_frames_is_skipped_and_counted_exactly() {
        let data = recording(FIRST);
        let mut dirty = Vec::new();
        let mut garbage_len = 0;
        for (i, span) in frame_spans(&data).into_iter().enumerate() {
            // Garbage that looks like a frame start: magic prefixes and stray 0x02 bytes.
            let garbage: &[u8] = match i % 3 {
                0 => b"\x02\x01\x04\x03\x06garbage\r\n",
                1 => &MAGIC[..7],
                _ => &[],
            };
            dirty.extend_from_slice(garbage);
            garbage_len += garbage.len();
            dirty.extend_from_slice(&data[span]);
        }
        let (frames, stats) = decode_bytes(&dirty);
        assert_eq!(frames.len(), 101);
        assert_eq!(stats.bytes_skipped, garbage_len as u64);
        assert_eq!(stats.frames_rejected, 0);
        assert_invariant(&stats, 0);
    }

    #[test]
    fn truncated_tail_is_counted_as_skipped() {
        let mut data = recording(FIRST);
        let head = data[..100].to_vec();
        data.extend_from_slice(&head); // a frame cut off after 100 bytes
        let (frames, stats) = decode_bytes(&data);
        assert_eq!(frames.len(), 101);
        assert_eq!(stats.frames_rejected, 0);
        assert_eq!(stats.bytes_consumed, 101 * 736);
        assert_eq!(stats.bytes_skipped, 100);
        assert_invariant(&stats, 0);
    }

    #[test]
    fn partial_trailing_frame_is_skipped_on_finish() {
        let mut data = recording(FIRST);
        data.truncate(736 * 3 + 500);
        let (frames, stats) = decode_bytes(&data);
        assert_eq!(frames.len(), 3);
        assert_eq!(stats.bytes_skipped, 500);
        assert_invariant(&stats, 0);
    }

    #[test]
    fn tlv_overrun_rejects_the_frame_and_the_next_one_decodes() {
        let mut data = recording(FIRST)[..736 * 3].to_vec();
        data[736 + 32] = 9; // frame 2 claims 9 TLVs: the walk runs into the padding
        data[736 + 724..736 * 2].fill(0xee);
        let (frames, stats) = decode_bytes(&data);
        assert_eq!(frames.len(), 2);
        assert_eq!(stats.frames_rejected, 1);
        assert!(matches!(stats.last_error, Some(Error::Malformed(_))));
        assert_eq!(stats.bytes_consumed, 736 * 2 + 8);
        assert_eq!(stats.bytes_skipped, 736 - 8);
        assert_invariant(&stats, 0);
    }

    #[test]
    fn bad_lengths_are_skipped_one_byte_at_a_time() {
        let data = recording(FIRST)[..736 * 2].to_vec();
        let mut short = data.clone();
        short[field::TOTAL_PACKET_LEN].copy_from_slice(&16u32.to_le_bytes());
        let (frames, stats) = decode_bytes(&short);
        assert_eq!((frames.len(), stats.bytes_skipped), (1, 736));

        let mut long = data.clone();
        long[field::TOTAL_PACKET_LEN].copy_from_slice(&u32::MAX.to_le_bytes());
        let (frames, stats) = decode_bytes(&long);
        assert_eq!((frames.len(), stats.bytes_skipped), (1, 736));
        assert!(matches!(stats.last_error, Some(Error::TooLong { .. })));
    }

    #[test]
    fn frame_within_limit_but_never_completed_does_not_hide_later_frames() {
        let data = recording(FIRST)[..736 * 3].to_vec();
        let mut lying = data.clone();
        lying[field::TOTAL_PACKET_LEN].copy_from_slice(&(200_000u32).to_le_bytes());
        let (frames, stats) = decode_bytes(&lying);
        assert_eq!(frames.len(), 2, "found after finish by rescanning");
        assert_eq!(stats.bytes_skipped, 736);
    }

    #[test]
    fn too_large_length_within_limit_does_not_swallow_following_frames() {
        let mut data = recording(FIRST)[..736 * 5].to_vec();
        data[736 + 12..736 + 16].copy_from_slice(&(736u32 * 3).to_le_bytes());
        let (frames, stats) = decode_bytes(&data);
        let numbers: Vec<u32> = frames.iter().map(|f| f.frame_number).collect();
        assert_eq!(numbers, [370, 372, 373, 374]);
        assert_eq!(stats.frames_rejected, 1);
        assert_eq!(stats.bytes_skipped, 736 - 8);
        assert_invariant(&stats, 0);
    }

    #[test]
    fn full_buffer_without_magic_still_makes_progress() {
        let mut decoder = FrameDecoder::with_limit(64);
        let noise = [0x55u8; 1000];
        let mut rest = &noise[..];
        while !rest.is_empty() {
            let taken = decoder.push(rest);
            assert!(taken > 0 || decoder.next_item().is_none());
            rest = &rest[taken..];
            while decoder.next_item().is_some() {}
        }
        decoder.finish();
        assert!(decoder.next_item().is_none());
        assert_eq!(decoder.stats().bytes_skipped, 1000);
    }

    #[test]
    fn limit_bounds_the_buffer_and_oversized_frames() {
        let data = recording(FIRST);
        let mut decoder = FrameDecoder::with_limit(700);
        let mut frames = 0;
        decode_all(&mut decoder, &data, |_| frames += 1);
        assert_eq!(frames, 0, "736-byte frames exceed a 700-byte limit");
        assert!(decoder.buffered() <= 700);
        assert_eq!(decoder.stats().bytes_skipped, data.len() as u64);
        assert!(matches!(
            decoder.stats().last_error,
            Some(Error::TooLong {
                claimed: 736,
                limit: 700
            })
        ));
    }

    #[test]
    fn find_magic_checks_all_eight_bytes() {
        assert_eq!(find_magic(b"\x02\x01\x04\x03\x06\x05\x08\x00xx"), None);
        let mut b = Vec::from(&b"ab\x02"[..]);
        b.extend_from_slice(&MAGIC);
        assert_eq!(find_magic(&b), Some(3));
        assert_eq!(magic_prefix_len(&[9, 2, 1, 4]), 3);
        assert_eq!(magic_prefix_len(&[9, 2, 1, 5]), 0);
    }

    proptest! {
        #[test]
        fn random_chunking_equals_one_shot_decode(
            sizes in proptest::collection::vec(1usize..3000, 1..20)
        ) {
            let data = recording(SECOND);
            let (whole, _) = decode_bytes(&data);
            let (chunked, stats) = decode_in_chunks(&data, &sizes);
            prop_assert_eq!(chunked, whole);
            prop_assert_eq!(stats.bytes_skipped, 0);
        }

        #[test]
        fn random_garbage_between_frames_is_counted_and_frames_survive(
            garbage in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 101)
        ) {
            let data = recording(FIRST);
            let (clean, _) = decode_bytes(&data);
            let mut dirty = Vec::new();
            let mut total = 0u64;
            for (span, junk) in frame_spans(&data).into_iter().zip(&garbage) {
                prop_assume!(find_magic(junk).is_none());
                dirty.extend_from_slice(junk);
                total += junk.len() as u64;
                dirty.extend_from_slice(&data[span]);
            }
            let (frames, stats) = decode_bytes(&dirty);
            prop_assert_eq!(frames, clean);
            prop_assert_eq!(stats.bytes_skipped, total);
            prop_assert_eq!(stats.frames_rejected, 0);
        }

        #[test]
        fn encoded_frames_stream_back_unchanged(frames in proptest::collection::vec(arb_sdk3_frame(), 1..6)) {
            let mut stream = Vec::new();
            for f in &frames {
                stream.extend_from_slice(&f.encode().unwrap());
            }
            let (decoded, stats) = decode_bytes(&stream);
            prop_assert_eq!(decoded, frames);
            prop_assert_eq!(stats.bytes_skipped, 0);
        }

        #[test]
        fn arbitrary_bytes_keep_the_accounting_invariant(
            bytes in proptest::collection::vec(any::<u8>(), 0..4000),
            chunk in 1usize..500,
        ) {
            let mut decoder = FrameDecoder::with_limit(1024);
            for piece in bytes.chunks(chunk) {
                crate::stream::decode_chunk(&mut decoder, piece, |_| {});
                let s = decoder.stats();
                prop_assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped + decoder.buffered() as u64);
            }
            decoder.finish();
            while decoder.next_item().is_some() {}
            let s = decoder.stats();
            prop_assert_eq!(decoder.buffered(), 0);
            prop_assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
        }
    }
}
