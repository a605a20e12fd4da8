//! The streaming decoder: bytes off a serial port in, [`Frame`]s out.
//!
//! It splits the input on `0x00`, COBS-decodes and verifies each run, and keeps every byte
//! accounted for in [`StreamStats`]:
//!
//! - a run that decodes is `bytes_consumed` (with its delimiter) and `frames_ok`;
//! - a run that fails (bad COBS, CRC, length, version, payload) is `bytes_consumed` and
//!   `frames_rejected`, with the [`Error`] in `last_error`;
//! - the run before the first delimiter after start-up is a partial frame when the decoder
//!   attached mid-stream: if it does not verify it is `bytes_skipped`, not rejected (a
//!   stream that starts exactly on a frame boundary still yields its first frame);
//! - a run longer than the largest encoded frame ([`MAX_ENCODED_LEN`]) or than the buffer
//!   is rejected once with [`Error::TooLong`] when the bound is crossed, and its remaining
//!   bytes up to the next delimiter are `bytes_skipped`;
//! - empty runs (back-to-back delimiters, idle fill) are `bytes_consumed` with no frame;
//! - after [`finish`](StreamDecoder::finish), a final run without delimiter is decoded if it
//!   verifies and skipped otherwise (a capture cut mid-frame).
use super::cobs;
use super::frame::Frame;
use super::{DELIMITER, MAX_ENCODED_LEN, MAX_FRAME_LEN};
use crate::error::Error;
use crate::stream::{ByteBuf, StreamDecoder, StreamStats};

/// Default buffer bound: four largest wire frames, so a fast producer can run ahead a bit.
pub const DEFAULT_LIMIT: usize = 4 * super::MAX_WIRE_LEN;

/// Streaming decoder for the node link protocol.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: ByteBuf,
    stats: StreamStats,
    /// A delimiter has been seen, so runs start on frame boundaries.
    synced: bool,
    /// Inside an oversize run: drop bytes up to the next delimiter.
    discarding: bool,
    /// `finish` was called: the last unterminated run is final.
    finished: bool,
    /// Scratch for COBS decoding, reused across frames.
    scratch: [u8; MAX_FRAME_LEN],
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// What to do with the run at the front of the buffer.
enum Step {
    /// Need more bytes.
    Wait,
    /// Bytes were accounted for; look again.
    Again,
    /// A frame was decoded.
    Yield(Frame),
}

impl FrameDecoder {
    /// A decoder buffering at most [`DEFAULT_LIMIT`] bytes.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }

    /// A decoder buffering at most `limit` bytes. Runs longer than `limit - 1` bytes can
    /// never be decoded and are rejected as [`Error::TooLong`]; `limit >= MAX_WIRE_LEN`
    /// decodes every legal frame.
    pub fn with_limit(limit: usize) -> Self {
        FrameDecoder {
            buf: ByteBuf::with_limit(limit.max(2)),
            stats: StreamStats::default(),
            synced: false,
            discarding: false,
            finished: false,
            scratch: [0; MAX_FRAME_LEN],
        }
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Longest run (without delimiter) this decoder can hold.
    fn max_run(&self) -> usize {
        MAX_ENCODED_LEN.min(self.buf.limit() - 1)
    }

    fn step(&mut self) -> Step {
        if self.discarding {
            return self.discard_oversize();
        }
        let data = self.buf.as_slice();
        match data.iter().position(|&b| b == DELIMITER) {
            Some(run) => self.take_run(run, run + 1),
            None if data.len() > self.max_run() || self.buf.is_full() => self.begin_discard(),
            None if self.finished && !data.is_empty() => self.take_last_run(),
            None => Step::Wait,
        }
    }

    /// Handles the run `buf[..run]` followed by a delimiter (`total` = run + 1).
    fn take_run(&mut self, run: usize, total: usize) -> Step {
        if run == 0 {
            self.stats.bytes_consumed += 1;
            self.buf.consume(1);
            self.synced = true;
            return Step::Again;
        }
        let result = self.decode_run(run);
        let first = !self.synced;
        self.synced = true;
        self.buf.consume(total);
        match result {
            Ok(frame) => {
                self.stats.accept(total);
                Step::Yield(frame)
            }
            Err(_) if first => {
                self.stats.skip(total);
                Step::Again
            }
            Err(e) => {
                self.stats.reject(total, e);
                Step::Again
            }
        }
    }

    /// After `finish`: the unterminated tail is a frame only if it verifies.
    fn take_last_run(&mut self) -> Step {
        let run = self.buf.len();
        let result = self.decode_run(run);
        self.buf.consume(run);
        match result {
            Ok(frame) => {
                self.stats.accept(run);
                Step::Yield(frame)
            }
            Err(_) => {
                self.stats.skip(run);
                Step::Again
            }
        }
    }

    fn decode_run(&mut self, run: usize) -> Result<Frame, Error> {
        if run > MAX_ENCODED_LEN {
            return Err(Error::TooLong {
                claimed: run,
                limit: MAX_ENCODED_LEN,
            });
        }
        let encoded = &self.buf.as_slice()[..run];
        let len = cobs::decode(encoded, &mut self.scratch)?;
        Frame::parse(&self.scratch[..len])
    }

    /// The run at the front has no delimiter and can no longer fit: reject it (or skip it,
    /// before the first delimiter) and drop the rest of it as it arrives.
    fn begin_discard(&mut self) -> Step {
        let len = self.buf.len();
        if self.synced {
            let limit = self.max_run();
            self.stats.reject(
                len,
                Error::TooLong {
                    claimed: len,
                    limit,
                },
            );
        } else {
            self.stats.skip(len);
        }
        self.buf.consume(len);
        self.discarding = true;
        Step::Again
    }

    fn discard_oversize(&mut self) -> Step {
        let data = self.buf.as_slice();
        match data.iter().position(|&b| b == DELIMITER) {
            Some(at) => {
                self.stats.skip(at + 1);
                self.buf.consume(at + 1);
                self.discarding = false;
                self.synced = true;
                Step::Again
            }
            None => {
                let len = data.len();
                self.stats.skip(len);
                self.buf.consume(len);
                Step::Wait
            }
        }
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
        loop {
            match self.step() {
                Step::Wait => return None,
                Step::Again => continue,
                Step::Yield(frame) => return Some(frame),
            }
        }
    }

    fn finish(&mut self) {
        self.finished = true;
    }

    fn stats(&self) -> &StreamStats {
        &self.stats
    }
}

/// Frames covering every payload kind: the committed test vectors and the test corpus.
#[cfg(test)]
pub(crate) mod samples {
    use alloc::vec;
    use alloc::vec::Vec;

    use crate::csi::Iq;
    use crate::node::*;

    fn header(node: u16, stream: u8, modality: Modality, seq: u32, ts: u64) -> HeaderRepr {
        HeaderRepr::new(node, stream, modality, seq, ts)
    }

    /// One frame of each kind, plus a nack and a kind from a newer minor version.
    pub fn frames() -> Vec<Frame> {
        let iq = (0..8i8)
            .map(|i| Iq {
                re: i * 3 - 10,
                im: 7 - i * 2,
            })
            .collect();
        let epc12 = Epc::new(&[
            0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x05, 0x2A, 0x44, 0x12, 0x9F,
        ]);
        let reads = vec![
            RfidRead {
                antenna: 1,
                peak_rssi_cdbm: -5825,
                channel: 7,
                phase: 2048,
                doppler: -40,
                first_seen_us: 3_000_001,
                epc: epc12.unwrap(),
            },
            RfidRead {
                antenna: 2,
                peak_rssi_cdbm: -7100,
                channel: 7,
                phase: 1,
                doppler: 16,
                first_seen_us: 3_000_950,
                epc: Epc::new(&[0x30, 0x08, 0x33, 0xB2]).unwrap(),
            },
        ];
        let mut unknown_header = header(1, 9, Modality::Unknown(9), 0, 4_000_000);
        unknown_header.version_minor = 1;
        vec![
            Frame {
                header: header(1, 0, Modality::Wifi, 100, 1_000_000),
                payload: Payload::Csi(Csi {
                    rssi: -47,
                    noise_floor: -93,
                    channel: 6,
                    antenna: 0,
                    bandwidth_mhz: 20,
                    iq,
                }),
            },
            Frame {
                header: header(2, 0, Modality::Mmwave, 5, 1_000_250),
                payload: Payload::Radar(Radar {
                    frame_number: 812,
                    points: vec![
                        RadarPoint {
                            x: 0.25,
                            y: 1.5,
                            z: -0.125,
                            v: 0.0,
                            snr: 221,
                            noise: 80,
                        },
                        RadarPoint {
                            x: -0.5,
                            y: 2.75,
                            z: 0.5,
                            v: -1.25,
                            snr: 150,
                            noise: 92,
                        },
                    ],
                }),
            },
            Frame {
                header: header(3, 0, Modality::Rfid, 77, 3_001_000),
                payload: Payload::Rfid(reads),
            },
            Frame {
                header: header(1, 0xFF, Modality::Wifi, 12, 2_000_000),
                payload: Payload::Heartbeat(Heartbeat {
                    uptime_us: 2_000_000,
                    samples_produced: 1_980,
                    frames_sent: 2_001,
                    dropped_backpressure: 3,
                    link_errors: 1,
                    crc_errors: 0,
                    ring_high_water: 17,
                    ring_capacity: 64,
                }),
            },
            Frame {
                header: header(7, 0xFF, Modality::None, 41, 5_000_000),
                payload: Payload::TimeSyncRequest(TimeSyncRequest { t1: 5_000_000 }),
            },
            Frame {
                header: header(7, 0xFF, Modality::None, 42, 1_234_617),
                payload: Payload::TimeSyncResponse(TimeSyncResponse {
                    t1: 5_000_000,
                    t2: 1_234_567,
                    t3: 1_234_617,
                }),
            },
            Frame {
                header: header(2, 0xFF, Modality::None, 43, 5_100_000),
                payload: Payload::Command(Command {
                    opcode: Opcode::SetRate,
                    stream: 0,
                    arg: 20_000,
                }),
            },
            Frame {
                header: header(2, 0xFF, Modality::None, 13, 1_100_300),
                payload: Payload::Ack(Ack {
                    command_seq: 43,
                    opcode: Opcode::SetRate,
                    status: AckStatus::Ok,
                }),
            },
            Frame {
                header: header(2, 0xFF, Modality::None, 14, 1_100_900),
                payload: Payload::Ack(Ack {
                    command_seq: 44,
                    opcode: Opcode::SetNodeId,
                    status: AckStatus::BadArgument,
                }),
            },
            Frame {
                header: unknown_header,
                payload: Payload::Unknown {
                    kind: 0x7E,
                    bytes: vec![0xDE, 0xAD, 0x00, 0xBE, 0xEF],
                },
            },
        ]
    }

    /// The frames as a wire stream, opened with the boot-time delimiter.
    pub fn stream(frames: &[Frame]) -> Vec<u8> {
        let mut out = vec![DELIMITER];
        for f in frames {
            out.extend_from_slice(&f.to_wire().unwrap());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;
    use std::format;

    use proptest::prelude::*;

    use super::samples;
    use super::*;
    use crate::csi::Iq;
    use crate::node::*;
    use crate::stream::{decode_all, decode_chunk};

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/node");

    fn decode(bytes: &[u8]) -> (Vec<Frame>, StreamStats) {
        let mut d = FrameDecoder::new();
        let mut out = Vec::new();
        decode_all(&mut d, bytes, |f| out.push(f));
        (out, *d.stats())
    }

    fn assert_accounted(s: &StreamStats) {
        assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped, "{s:?}");
    }

    #[test]
    fn decodes_every_payload_kind_from_one_stream() {
        let frames = samples::frames();
        let (out, s) = decode(&samples::stream(&frames));
        assert_eq!(out, frames);
        assert_eq!(s.frames_ok, frames.len() as u64);
        assert_eq!((s.frames_rejected, s.bytes_skipped), (0, 0));
        assert_accounted(&s);
    }

    #[test]
    fn committed_test_vectors_match_the_encoder_and_decode_to_the_listing() {
        let frames = samples::frames();
        let bytes = samples::stream(&frames);
        let listing: Vec<_> = frames.iter().map(|f| f.to_string()).collect();
        let listing = listing.join("\n") + "\n";
        let bin = format!("{VECTORS}/stream.bin");
        let txt = format!("{VECTORS}/stream.txt");
        if std::env::var_os("DAGR_BLESS").is_some() {
            std::fs::write(&bin, &bytes).unwrap();
            std::fs::write(&txt, &listing).unwrap();
        }
        let committed = std::fs::read(&bin).expect("run with DAGR_BLESS=1 to create vectors");
        assert_eq!(committed, bytes, "stream.bin drifted from the encoder");
        assert_eq!(std::fs::read_to_string(&txt).unwrap(), listing);
        let (decoded, s) = decode(&committed);
        assert_eq!(decoded, frames);
        assert_eq!(s.frames_ok, 10);
    }

    #[test]
    fn stream_without_leading_delimiter_still_yields_its_first_frame() {
        let frames = samples::frames();
        let bytes = samples::stream(&frames);
        let (out, s) = decode(&bytes[1..]);
        assert_eq!(out, frames);
        assert_eq!(s.bytes_skipped, 0);
    }

    #[test]
    fn mid_frame_attach_skips_the_partial_run_without_rejecting() {
        let frames = samples::frames();
        let bytes = samples::stream(&frames);
        let first_len = frames[0].to_wire().unwrap().len();
        let cut = 1 + first_len / 2;
        let (out, s) = decode(&bytes[cut..]);
        assert_eq!(out, frames[1..]);
        assert_eq!(s.bytes_skipped, (1 + first_len - cut) as u64);
        assert_eq!(s.frames_rejected, 0);
        assert_accounted(&s);
    }

    #[test]
    fn idle_delimiters_are_consumed_without_frames_or_skips() {
        let frames = samples::frames();
        let mut bytes = vec![0u8; 5];
        bytes.extend(samples::stream(&frames[..2]));
        bytes.extend([0, 0, 0]);
        let (out, s) = decode(&bytes);
        assert_eq!(out, frames[..2]);
        assert_eq!((s.bytes_skipped, s.frames_rejected), (0, 0));
        assert_accounted(&s);
    }

    #[test]
    fn corrupted_frame_is_rejected_with_checksum_and_the_next_decodes() {
        let frames = samples::frames();
        let mut bytes = samples::stream(&frames[..3]);
        bytes[10] ^= 0x01; // inside the CSI frame's I/Q data, stays non-zero
        assert_ne!(bytes[10], 0);
        let (out, s) = decode(&bytes);
        assert_eq!(out, frames[1..3]);
        assert_eq!(s.frames_rejected, 1);
        assert_eq!(s.last_error, Some(Error::Checksum));
        assert_accounted(&s);
    }

    #[test]
    fn oversize_run_is_rejected_once_and_discarded_to_the_next_delimiter() {
        let frames = samples::frames();
        let mut bytes = vec![0u8];
        bytes.extend(core::iter::repeat_n(0x55u8, 3 * MAX_WIRE_LEN));
        bytes.push(0);
        bytes.extend(samples::stream(&frames[..2]));
        for chunk in [1, 7, 4096] {
            let mut d = FrameDecoder::new();
            let mut out = Vec::new();
            for piece in bytes.chunks(chunk) {
                decode_chunk(&mut d, piece, |f| out.push(f));
            }
            d.finish();
            while let Some(f) = d.next_item() {
                out.push(f);
            }
            let s = d.stats();
            assert_eq!(out, frames[..2], "chunk {chunk}");
            assert_eq!(s.frames_rejected, 1);
            assert!(matches!(s.last_error, Some(Error::TooLong { .. })));
            assert!(d.buffered() == 0);
            assert_accounted(s);
        }
    }

    #[test]
    fn small_limit_rejects_frames_it_cannot_hold_but_keeps_progressing() {
        let frames = samples::frames();
        let bytes = samples::stream(&frames);
        let mut d = FrameDecoder::with_limit(64);
        let mut out = Vec::new();
        decode_all(&mut d, &bytes, |f| out.push(f));
        let s = d.stats();
        // Only the frames whose encoding fits 63 bytes survive: the small control frames.
        let small: Vec<_> = frames
            .iter()
            .filter(|f| f.to_wire().unwrap().len() <= 64)
            .cloned()
            .collect();
        assert_eq!(out, small);
        assert_eq!(s.frames_rejected as usize, frames.len() - small.len());
        assert_accounted(s);
    }

    #[test]
    fn finish_decodes_an_unterminated_last_frame_and_skips_a_cut_one() {
        let frames = samples::frames();
        let bytes = samples::stream(&frames[..2]);
        let (out, s) = decode(&bytes[..bytes.len() - 1]);
        assert_eq!(out, frames[..2]);
        assert_eq!(s.bytes_skipped, 0);
        let (out, s) = decode(&bytes[..bytes.len() - 10]);
        assert_eq!(out, frames[..1]);
        assert_eq!(
            s.bytes_skipped,
            (frames[1].to_wire().unwrap().len() - 10) as u64
        );
        assert_accounted(&s);
    }

    #[test]
    fn unknown_kind_keeps_header_and_raw_payload() {
        let frames = samples::frames();
        let last = frames.last().unwrap();
        let (out, _) = decode(&last.to_wire().unwrap());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].header.version_minor, 1);
        assert_eq!(out[0].payload.kind(), Kind::Unknown(0x7E));
        assert_eq!(
            out[0].payload,
            Payload::Unknown {
                kind: 0x7E,
                bytes: vec![0xDE, 0xAD, 0x00, 0xBE, 0xEF]
            }
        );
    }

    /// Re-encodes `raw` (an un-stuffed frame with any CRC) with a fresh CRC.
    fn wire_of_raw(raw: &mut [u8]) -> Vec<u8> {
        let n = raw.len();
        let crc = crc::crc32c(&raw[..n - CRC_LEN]);
        raw[n - CRC_LEN..].copy_from_slice(&crc.to_le_bytes());
        // Leading delimiter: a synced decoder counts a bad frame as rejected, not skipped.
        let mut wire = vec![0u8; cobs::max_encoded_len(n) + 2];
        let len = cobs::encode(raw, &mut wire[1..]).unwrap();
        wire.truncate(len + 2);
        wire
    }

    #[test]
    fn unknown_major_version_is_rejected_and_counted() {
        let frames = samples::frames();
        let mut raw = vec![0u8; frames[3].buffer_len()];
        frames[3].emit(&mut raw).unwrap();
        raw[0] = 0x20;
        let mut bytes = wire_of_raw(&mut raw);
        bytes.extend(frames[4].to_wire().unwrap());
        let (out, s) = decode(&bytes);
        assert_eq!(out, frames[4..5]);
        assert_eq!(s.frames_rejected, 1);
        assert!(matches!(s.last_error, Some(Error::Unsupported(_))));
    }

    #[test]
    fn newer_minor_may_append_fields_to_a_known_kind() {
        let frames = samples::frames();
        let hb = &frames[3];
        let mut raw = vec![0u8; hb.buffer_len() + 4];
        let n = hb.emit(&mut raw).unwrap();
        // Grow the payload by 4 bytes: payload_len + 4, trailer moved.
        raw.truncate(n - CRC_LEN);
        raw.extend([9, 9, 9, 9, 0, 0, 0, 0]);
        let len = raw[6] as usize + 4;
        raw[6] = len as u8;
        let same_minor = wire_of_raw(&mut raw.clone());
        raw[0] = 0x11;
        let newer_minor = wire_of_raw(&mut raw);
        let (out, s) = decode(&same_minor);
        assert!(out.is_empty());
        assert!(matches!(s.last_error, Some(Error::Malformed(_))));
        let (out, _) = decode(&newer_minor);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].payload, hb.payload);
        assert_eq!(out[0].header.version_minor, 1);
    }

    // ------------------------------------------------------------------ property tests

    fn arb_header() -> impl Strategy<Value = HeaderRepr> {
        (
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            any::<u64>(),
        )
            .prop_map(|(node, stream, modality, seq, ts)| {
                HeaderRepr::new(node, stream, Modality::from_code(modality), seq, ts)
            })
    }

    fn arb_point() -> impl Strategy<Value = RadarPoint> {
        let f = -100.0f32..100.0;
        (
            f.clone(),
            f.clone(),
            f.clone(),
            f,
            any::<i16>(),
            any::<i16>(),
        )
            .prop_map(|(x, y, z, v, snr, noise)| RadarPoint {
                x,
                y,
                z,
                v,
                snr,
                noise,
            })
    }

    fn arb_read() -> impl Strategy<Value = RfidRead> {
        (
            any::<u8>(),
            any::<i16>(),
            any::<u16>(),
            0..4096u16,
            any::<i16>(),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..=62),
        )
            .prop_map(
                |(antenna, rssi, channel, phase, doppler, seen, epc)| RfidRead {
                    antenna,
                    peak_rssi_cdbm: rssi,
                    channel,
                    phase,
                    doppler,
                    first_seen_us: seen,
                    epc: Epc::new(&epc).unwrap(),
                },
            )
    }

    fn arb_payload() -> impl Strategy<Value = Payload> {
        let iq = proptest::collection::vec(
            (any::<i8>(), any::<i8>()).prop_map(|(re, im)| Iq { re, im }),
            0..=csi::MAX_SUBCARRIERS,
        );
        prop_oneof![
            (any::<(i8, i8, u8, u8, u16)>(), iq).prop_map(|((r, n, c, a, b), iq)| {
                Payload::Csi(Csi {
                    rssi: r,
                    noise_floor: n,
                    channel: c,
                    antenna: a,
                    bandwidth_mhz: b,
                    iq,
                })
            }),
            (
                any::<u32>(),
                proptest::collection::vec(arb_point(), 0..=radar::MAX_POINTS)
            )
                .prop_map(|(frame_number, points)| Payload::Radar(Radar {
                    frame_number,
                    points
                })),
            // 12 reads of the longest EPC (80 bytes each) still fit 1024 bytes.
            proptest::collection::vec(arb_read(), 0..=12).prop_map(Payload::Rfid),
            any::<(u64, u64, u64, u32, u32, u32, u32, u32)>().prop_map(|t| {
                Payload::Heartbeat(Heartbeat {
                    uptime_us: t.0,
                    samples_produced: t.1,
                    frames_sent: t.2,
                    dropped_backpressure: t.3,
                    link_errors: t.4,
                    crc_errors: t.5,
                    ring_high_water: t.6,
                    ring_capacity: t.7,
                })
            }),
            any::<u64>().prop_map(|t1| Payload::TimeSyncRequest(TimeSyncRequest { t1 })),
            any::<(u64, u64, u64)>().prop_map(|(t1, t2, t3)| Payload::TimeSyncResponse(
                TimeSyncResponse { t1, t2, t3 }
            )),
            any::<(u8, u8, u32)>().prop_map(|(o, stream, arg)| {
                Payload::Command(Command {
                    opcode: Opcode::from_code(o),
                    stream,
                    arg,
                })
            }),
            any::<(u32, u8, u8)>().prop_map(|(seq, o, s)| {
                Payload::Ack(Ack {
                    command_seq: seq,
                    opcode: Opcode::from_code(o),
                    status: AckStatus::from_code(s),
                })
            }),
            (
                0x80u8..=0xFF,
                proptest::collection::vec(any::<u8>(), 0..=MAX_PAYLOAD_LEN)
            )
                .prop_map(|(kind, bytes)| Payload::Unknown { kind, bytes }),
        ]
    }

    fn arb_frame() -> impl Strategy<Value = Frame> {
        (arb_header(), arb_payload()).prop_map(|(header, payload)| Frame { header, payload })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn every_payload_kind_round_trips(frame in arb_frame()) {
            let mut raw = [0u8; MAX_FRAME_LEN];
            let n = frame.emit(&mut raw).unwrap();
            prop_assert_eq!(n, frame.buffer_len());
            prop_assert_eq!(&Frame::parse(&raw[..n]).unwrap(), &frame);
            let wire = frame.to_wire().unwrap();
            prop_assert!(wire.len() <= MAX_WIRE_LEN);
            let (out, s) = decode(&wire);
            prop_assert_eq!(out, vec![frame]);
            prop_assert_eq!(s.bytes_consumed, wire.len() as u64);
        }

        #[test]
        fn random_chunking_equals_one_shot_decode(
            frames in proptest::collection::vec(arb_frame(), 1..6),
            cuts in proptest::collection::vec(1usize..300, 1..40),
        ) {
            let bytes = samples::stream(&frames);
            let mut d = FrameDecoder::new();
            let mut out = Vec::new();
            let mut rest = &bytes[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() { break; }
                let (piece, tail) = rest.split_at((*cut).min(rest.len()));
                decode_chunk(&mut d, piece, |f| out.push(f));
                rest = tail;
            }
            d.finish();
            while let Some(f) = d.next_item() { out.push(f); }
            prop_assert_eq!(out, frames);
            assert_accounted(d.stats());
        }

        #[test]
        fn garbage_between_frames_costs_at_most_the_next_frame(
            frames in proptest::collection::vec(arb_frame(), 2..6),
            at in any::<prop::sample::Index>(),
            garbage in proptest::collection::vec(any::<u8>(), 1..200),
        ) {
            let i = at.index(frames.len() - 1);
            let mut bytes = samples::stream(&frames[..=i]);
            bytes.extend(&garbage);
            bytes.extend(samples::stream(&frames[i + 1..]).split_off(1));
            let (out, s) = decode(&bytes);
            let mut expected: Vec<Frame> = frames.clone();
            if out.len() < frames.len() {
                expected.remove(i + 1); // glued to the garbage's last run
            }
            prop_assert_eq!(&out, &expected);
            prop_assert!(s.frames_rejected + s.bytes_skipped > 0 || garbage.ends_with(&[0]) && garbage.iter().all(|&b| b == 0));
            assert_accounted(&s);
        }

        #[test]
        fn flipped_bit_loses_at_most_two_frames_and_never_yields_a_wrong_one(
            frames in proptest::collection::vec(arb_frame(), 3..6),
            at in any::<prop::sample::Index>(),
        ) {
            let bytes = samples::stream(&frames);
            let bit = at.index((bytes.len() - 1) * 8) + 8; // keep the leading delimiter
            let mut noisy = bytes.clone();
            noisy[bit / 8] ^= 1 << (bit % 8);
            let (out, s) = decode(&noisy);
            // Every decoded frame is one of the originals, in order...
            let mut originals = frames.iter();
            for f in &out {
                prop_assert!(originals.any(|o| o == f), "unexpected frame {}", f);
            }
            // ...and at most two (the hit one and, if a delimiter was hit, its neighbour) are lost.
            prop_assert!(out.len() + 2 >= frames.len());
            prop_assert!(out.len() < frames.len());
            // A hit delimiter at the very end leaves a cut tail, which is skipped.
            prop_assert!(s.frames_rejected > 0 || s.bytes_skipped > 0);
            assert_accounted(&s);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_accounted(
            bytes in proptest::collection::vec(any::<u8>(), 0..3000),
            chunk in 1usize..64,
        ) {
            let mut d = FrameDecoder::with_limit(512);
            for piece in bytes.chunks(chunk) {
                decode_chunk(&mut d, piece, |_| {});
                prop_assert!(d.buffered() <= 512);
            }
            d.finish();
            while d.next_item().is_some() {}
            prop_assert_eq!(d.buffered(), 0);
            assert_accounted(d.stats());
        }
    }
}
