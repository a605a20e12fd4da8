//! Whole frames: the payload union, the no-alloc encoder and parser, and the owned record.
//!
//! Encoding is `header ‖ payload ‖ CRC-32C(header ‖ payload)`, COBS-stuffed, then `0x00`.
//! [`encode_frame`] does all of it inside one caller buffer (the firmware's static transmit
//! buffer of [`MAX_WIRE_LEN`](super::MAX_WIRE_LEN) bytes); [`decode_frame`] undoes it in place and hands back a
//! verified [`FrameRef`] whose payload the caller dispatches on `kind` with the payload
//! views. With `alloc`, [`Frame`] is the owned record the host's decoder yields.
use core::fmt;

use super::control::{
    Ack, AckPacket, Command, CommandPacket, Heartbeat, HeartbeatPacket, TimeSyncRequest,
    TimeSyncRequestPacket, TimeSyncResponse, TimeSyncResponsePacket,
};
use super::csi::{CsiPacket, CsiRepr};
use super::header::{FrameHeader, HeaderRepr, Kind};
use super::radar::{RadarPacket, RadarRepr};
use super::rfid::{RfidPacket, RfidRepr};
use super::{cobs, CRC_LEN, HEADER_LEN, MAX_FRAME_LEN, MAX_PAYLOAD_LEN, VERSION_MINOR};
use crate::error::{Error, Result};

/// A payload to send, borrowing its variable-length parts: what the encoder takes, so the
/// firmware emits from static arrays with no allocator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PayloadRepr<'a> {
    /// One CSI packet.
    Csi(CsiRepr<'a>),
    /// Points of a radar frame.
    Radar(RadarRepr<'a>),
    /// RFID reads.
    Rfid(RfidRepr<'a>),
    /// Health counters.
    Heartbeat(Heartbeat),
    /// Time-sync request (host → node).
    TimeSyncRequest(TimeSyncRequest),
    /// Time-sync response (node → host).
    TimeSyncResponse(TimeSyncResponse),
    /// Configuration command (host → node).
    Command(Command),
    /// Command acknowledgement (node → host).
    Ack(Ack),
    /// A kind this version does not know, forwarded byte for byte.
    Unknown {
        /// The kind code (must not be a known one).
        kind: u8,
        /// Raw payload bytes.
        bytes: &'a [u8],
    },
}

impl PayloadRepr<'_> {
    /// The kind written into the header.
    pub fn kind(&self) -> Kind {
        match self {
            PayloadRepr::Csi(_) => Kind::Csi,
            PayloadRepr::Radar(_) => Kind::Radar,
            PayloadRepr::Rfid(_) => Kind::Rfid,
            PayloadRepr::Heartbeat(_) => Kind::Heartbeat,
            PayloadRepr::TimeSyncRequest(_) => Kind::TimeSyncRequest,
            PayloadRepr::TimeSyncResponse(_) => Kind::TimeSyncResponse,
            PayloadRepr::Command(_) => Kind::Command,
            PayloadRepr::Ack(_) => Kind::Ack,
            PayloadRepr::Unknown { kind, .. } => Kind::Unknown(*kind),
        }
    }

    /// Payload bytes.
    pub fn buffer_len(&self) -> usize {
        match self {
            PayloadRepr::Csi(p) => p.buffer_len(),
            PayloadRepr::Radar(p) => p.buffer_len(),
            PayloadRepr::Rfid(p) => p.buffer_len(),
            PayloadRepr::Heartbeat(p) => p.buffer_len(),
            PayloadRepr::TimeSyncRequest(p) => p.buffer_len(),
            PayloadRepr::TimeSyncResponse(p) => p.buffer_len(),
            PayloadRepr::Command(p) => p.buffer_len(),
            PayloadRepr::Ack(p) => p.buffer_len(),
            PayloadRepr::Unknown { bytes, .. } => bytes.len(),
        }
    }

    /// Writes the payload into `buf` (exactly [`buffer_len`](Self::buffer_len) bytes).
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() < self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        match self {
            PayloadRepr::Csi(p) => p.emit(&mut CsiPacket::new_unchecked(buf))?,
            PayloadRepr::Radar(p) => p.emit(&mut RadarPacket::new_unchecked(buf))?,
            PayloadRepr::Rfid(p) => p.emit(&mut RfidPacket::new_unchecked(buf))?,
            PayloadRepr::Heartbeat(p) => p.emit(&mut HeartbeatPacket::new_unchecked(buf)),
            PayloadRepr::TimeSyncRequest(p) => {
                p.emit(&mut TimeSyncRequestPacket::new_unchecked(buf))
            }
            PayloadRepr::TimeSyncResponse(p) => {
                p.emit(&mut TimeSyncResponsePacket::new_unchecked(buf))
            }
            PayloadRepr::Command(p) => p.emit(&mut CommandPacket::new_unchecked(buf)),
            PayloadRepr::Ack(p) => p.emit(&mut AckPacket::new_unchecked(buf)),
            PayloadRepr::Unknown { kind, bytes } => {
                if !matches!(Kind::from_code(*kind), Kind::Unknown(_)) {
                    return Err(Error::Malformed("unknown payload with a known kind code"));
                }
                buf[..bytes.len()].copy_from_slice(bytes);
            }
        }
        Ok(())
    }
}

impl fmt::Display for PayloadRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadRepr::Csi(p) => write!(f, "{p}"),
            PayloadRepr::Radar(p) => write!(f, "{p}"),
            PayloadRepr::Rfid(p) => write!(f, "{p}"),
            PayloadRepr::Heartbeat(p) => write!(f, "{p}"),
            PayloadRepr::TimeSyncRequest(p) => write!(f, "time-sync request t1={}", p.t1),
            PayloadRepr::TimeSyncResponse(p) => {
                write!(f, "time-sync response t1={} t2={} t3={}", p.t1, p.t2, p.t3)
            }
            PayloadRepr::Command(p) => write!(
                f,
                "command {} stream {} arg {}",
                p.opcode.name(),
                p.stream,
                p.arg
            ),
            PayloadRepr::Ack(p) => write!(
                f,
                "{} {} for command seq {}",
                if p.status.code() == 0 { "ack" } else { "nack" },
                p.status.name(),
                p.command_seq
            ),
            PayloadRepr::Unknown { kind, bytes } => {
                write!(f, "unknown kind 0x{kind:02x}, {} bytes", bytes.len())
            }
        }
    }
}

/// Writes the un-stuffed frame (header, payload, CRC) into `out`; returns its length.
/// Fails with [`Error::TooLong`] above [`MAX_PAYLOAD_LEN`] and [`Error::BufferTooSmall`]
/// when `out` is short.
pub fn emit_frame(header: &HeaderRepr, payload: &PayloadRepr<'_>, out: &mut [u8]) -> Result<usize> {
    let payload_len = payload.buffer_len();
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(Error::TooLong {
            claimed: payload_len,
            limit: MAX_PAYLOAD_LEN,
        });
    }
    let frame_len = HEADER_LEN + payload_len + CRC_LEN;
    let out = out.get_mut(..frame_len).ok_or(Error::BufferTooSmall)?;
    let mut view = FrameHeader::new_unchecked(out);
    header.emit(&mut view);
    view.set_kind(payload.kind());
    // Bounded by MAX_PAYLOAD_LEN above.
    view.set_payload_len(payload_len as u16);
    payload.emit(view.payload_mut())?;
    view.fill_crc();
    Ok(frame_len)
}

/// Encodes a whole frame for the wire (COBS + trailing `0x00`) into `out`; returns the
/// number of bytes to transmit. Needs no allocator and no second buffer: `out` must hold
/// `cobs::max_encoded_len(frame) + 1` bytes, which [`MAX_WIRE_LEN`](super::MAX_WIRE_LEN)
/// always is.
pub fn encode_frame(
    header: &HeaderRepr,
    payload: &PayloadRepr<'_>,
    out: &mut [u8],
) -> Result<usize> {
    let frame_len = HEADER_LEN + payload.buffer_len() + CRC_LEN;
    let needed = cobs::max_encoded_len(frame_len) + 1;
    if frame_len > MAX_FRAME_LEN {
        return Err(Error::TooLong {
            claimed: payload.buffer_len(),
            limit: MAX_PAYLOAD_LEN,
        });
    }
    if out.len() < needed {
        return Err(Error::BufferTooSmall);
    }
    // Emit at the tail (keeping the last byte for the delimiter), then stuff forward.
    let body = &mut out[..needed - 1];
    let start = body.len() - frame_len;
    emit_frame(header, payload, &mut body[start..])?;
    let encoded = cobs::encode_within(body, start)?;
    out[encoded] = super::DELIMITER;
    Ok(encoded + 1)
}

/// A verified frame borrowed from a receive buffer: header values, kind and payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    /// Header values.
    pub header: HeaderRepr,
    /// Payload kind.
    pub kind: Kind,
    /// Payload bytes (dispatch on `kind` with the payload views).
    pub payload: &'a [u8],
}

/// Checks an un-stuffed frame: length bounds, CRC, major version, payload length.
///
/// The checks run in this order, so line noise is a [`Error::Checksum`] and only an intact
/// frame of another major version is [`Error::Unsupported`].
pub fn parse_frame_view(frame: &[u8]) -> Result<FrameRef<'_>> {
    if frame.len() > MAX_FRAME_LEN {
        return Err(Error::TooLong {
            claimed: frame.len(),
            limit: MAX_FRAME_LEN,
        });
    }
    if frame.len() < HEADER_LEN + CRC_LEN {
        return Err(Error::Truncated);
    }
    let (body, trailer) = frame.split_at(frame.len() - CRC_LEN);
    let sent = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    if sent != super::crc::crc32c(body) {
        return Err(Error::Checksum);
    }
    let view = FrameHeader::new_unchecked(frame);
    let header = HeaderRepr::parse(&view)?;
    if view.frame_len() != frame.len() {
        return Err(Error::Malformed(
            "payload_len disagrees with the frame length",
        ));
    }
    Ok(FrameRef {
        header,
        kind: view.kind(),
        payload: &frame[HEADER_LEN..frame.len() - CRC_LEN],
    })
}

/// COBS-decodes one frame in place (without its delimiter) and verifies it.
pub fn decode_frame(encoded: &mut [u8]) -> Result<FrameRef<'_>> {
    if encoded.len() > cobs::max_encoded_len(MAX_FRAME_LEN) {
        return Err(Error::TooLong {
            claimed: encoded.len(),
            limit: cobs::max_encoded_len(MAX_FRAME_LEN),
        });
    }
    let len = cobs::decode_in_place(encoded)?;
    parse_frame_view(&encoded[..len])
}

/// Rejects bytes after a known payload's layout, unless the sender speaks a newer minor
/// version (which may append fields this code does not know).
pub fn check_payload_end(used: usize, available: usize, version_minor: u8) -> Result<()> {
    let newer_sender = version_minor > VERSION_MINOR;
    if used < available && !newer_sender {
        return Err(Error::Malformed("payload longer than its kind's layout"));
    }
    Ok(())
}

#[cfg(feature = "alloc")]
pub use owned::{Frame, Payload};

#[cfg(feature = "alloc")]
mod owned {
    use alloc::vec::Vec;
    use core::fmt;

    use super::*;
    use crate::node::csi::Csi;
    use crate::node::radar::Radar;
    use crate::node::rfid::{parse_reads, RfidRead};
    use crate::node::MAX_WIRE_LEN;

    /// A decoded payload, owning its samples.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Payload {
        /// One CSI packet.
        Csi(Csi),
        /// Points of a radar frame.
        Radar(Radar),
        /// RFID reads.
        Rfid(Vec<RfidRead>),
        /// Health counters.
        Heartbeat(Heartbeat),
        /// Time-sync request.
        TimeSyncRequest(TimeSyncRequest),
        /// Time-sync response.
        TimeSyncResponse(TimeSyncResponse),
        /// Configuration command.
        Command(Command),
        /// Command acknowledgement.
        Ack(Ack),
        /// A kind from a newer version, kept raw (forward compatibility).
        Unknown {
            /// Kind code.
            kind: u8,
            /// Raw payload.
            bytes: Vec<u8>,
        },
    }

    impl Payload {
        /// Parses `bytes` as a payload of `kind` sent at minor version `version_minor`.
        pub fn parse(kind: Kind, bytes: &[u8], version_minor: u8) -> Result<Self> {
            let (payload, used) = match kind {
                Kind::Csi => {
                    let v = CsiPacket::new_checked(bytes)?;
                    (Payload::Csi(Csi::parse(&v)?), v.payload_len())
                }
                Kind::Radar => {
                    let v = RadarPacket::new_checked(bytes)?;
                    (Payload::Radar(Radar::parse(&v)?), v.payload_len())
                }
                Kind::Rfid => {
                    let v = RfidPacket::new_checked(bytes)?;
                    (Payload::Rfid(parse_reads(&v)?), v.checked_len()?)
                }
                Kind::Heartbeat => {
                    let v = HeartbeatPacket::new_checked(bytes)?;
                    (Payload::Heartbeat(Heartbeat::parse(&v)?), 44)
                }
                Kind::TimeSyncRequest => {
                    let v = TimeSyncRequestPacket::new_checked(bytes)?;
                    let p = Payload::TimeSyncRequest(TimeSyncRequest::parse(&v)?);
                    (p, 8)
                }
                Kind::TimeSyncResponse => {
                    let v = TimeSyncResponsePacket::new_checked(bytes)?;
                    let p = Payload::TimeSyncResponse(TimeSyncResponse::parse(&v)?);
                    (p, 24)
                }
                Kind::Command => {
                    let v = CommandPacket::new_checked(bytes)?;
                    (Payload::Command(Command::parse(&v)?), 6)
                }
                Kind::Ack => {
                    let v = AckPacket::new_checked(bytes)?;
                    (Payload::Ack(Ack::parse(&v)?), 6)
                }
                Kind::Unknown(kind) => {
                    let bytes = bytes.to_vec();
                    return Ok(Payload::Unknown { kind, bytes });
                }
            };
            check_payload_end(used, bytes.len(), version_minor)?;
            Ok(payload)
        }

        /// The borrowed form, for emitting and display.
        pub fn as_repr(&self) -> PayloadRepr<'_> {
            match self {
                Payload::Csi(p) => PayloadRepr::Csi(p.as_repr()),
                Payload::Radar(p) => PayloadRepr::Radar(p.as_repr()),
                Payload::Rfid(reads) => PayloadRepr::Rfid(RfidRepr { reads }),
                Payload::Heartbeat(p) => PayloadRepr::Heartbeat(*p),
                Payload::TimeSyncRequest(p) => PayloadRepr::TimeSyncRequest(*p),
                Payload::TimeSyncResponse(p) => PayloadRepr::TimeSyncResponse(*p),
                Payload::Command(p) => PayloadRepr::Command(*p),
                Payload::Ack(p) => PayloadRepr::Ack(*p),
                Payload::Unknown { kind, bytes } => PayloadRepr::Unknown { kind: *kind, bytes },
            }
        }

        /// The payload kind.
        pub fn kind(&self) -> Kind {
            self.as_repr().kind()
        }
    }

    /// One decoded node frame: what [`FrameDecoder`](crate::node::FrameDecoder) yields.
    /// `header.seq` lets the host count gaps per (node, stream).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Frame {
        /// Header values.
        pub header: HeaderRepr,
        /// The payload.
        pub payload: Payload,
    }

    impl Frame {
        /// Parses an un-stuffed frame (header, payload, CRC).
        pub fn parse(frame: &[u8]) -> Result<Self> {
            let view = parse_frame_view(frame)?;
            let payload = Payload::parse(view.kind, view.payload, view.header.version_minor)?;
            Ok(Frame {
                header: view.header,
                payload,
            })
        }

        /// Bytes of the un-stuffed frame.
        pub fn buffer_len(&self) -> usize {
            HEADER_LEN + self.payload.as_repr().buffer_len() + CRC_LEN
        }

        /// Writes the un-stuffed frame; returns its length.
        pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
            emit_frame(&self.header, &self.payload.as_repr(), out)
        }

        /// Encodes for the wire (COBS + delimiter) into `out`; see [`encode_frame`].
        pub fn encode(&self, out: &mut [u8]) -> Result<usize> {
            encode_frame(&self.header, &self.payload.as_repr(), out)
        }

        /// The wire bytes as a vector.
        pub fn to_wire(&self) -> Result<Vec<u8>> {
            let mut out = alloc::vec![0u8; MAX_WIRE_LEN];
            let n = self.encode(&mut out)?;
            out.truncate(n);
            Ok(out)
        }
    }

    impl fmt::Display for Frame {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: {}", self.header, self.payload.as_repr())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::header::Modality;
    use crate::node::{MAX_WIRE_LEN, VERSION_MAJOR};

    /// SPEC.md's worked example: node 7's time-sync response on the control stream.
    static FRAME: [u8; 48] = [
        0x10, 0x12, 0x07, 0x00, 0xFF, 0x00, 0x18, 0x00, 0x2A, 0x00, 0x00, 0x00, 0xB9, 0xD6, 0x12,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x4B, 0x4C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x87, 0xD6,
        0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0xB9, 0xD6, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0xD7,
        0x44, 0xBC, 0x64,
    ];
    static WIRE: [u8; 50] = [
        0x04, 0x10, 0x12, 0x07, 0x02, 0xFF, 0x02, 0x18, 0x02, 0x2A, 0x01, 0x01, 0x04, 0xB9, 0xD6,
        0x12, 0x01, 0x01, 0x01, 0x01, 0x04, 0x40, 0x4B, 0x4C, 0x01, 0x01, 0x01, 0x01, 0x04, 0x87,
        0xD6, 0x12, 0x01, 0x01, 0x01, 0x01, 0x04, 0xB9, 0xD6, 0x12, 0x01, 0x01, 0x01, 0x01, 0x05,
        0xD7, 0x44, 0xBC, 0x64, 0x00,
    ];
    const HEADER: HeaderRepr = HeaderRepr {
        version_minor: 0,
        node: 7,
        stream: 0xFF,
        modality: Modality::None,
        seq: 42,
        timestamp_us: 1_234_617,
    };
    const RESPONSE: TimeSyncResponse = TimeSyncResponse {
        t1: 5_000_000,
        t2: 1_234_567,
        t3: 1_234_617,
    };

    #[test]
    fn deconstruct_worked_example() {
        let v = FrameHeader::new_checked(&FRAME[..]).unwrap();
        assert_eq!(v.version_major(), VERSION_MAJOR);
        assert_eq!(v.version_minor(), 0);
        assert_eq!(v.kind(), Kind::TimeSyncResponse);
        assert_eq!(v.node(), 7);
        assert_eq!(v.stream(), 0xFF);
        assert_eq!(v.modality(), Modality::None);
        assert_eq!(v.payload_len(), 24);
        assert_eq!(v.seq(), 42);
        assert_eq!(v.timestamp_us(), 1_234_617);
        assert_eq!(v.crc(), 0x64BC_44D7);
        assert!(v.verify_crc());
        let p = TimeSyncResponsePacket::new_checked(v.payload()).unwrap();
        assert_eq!((p.t1(), p.t2(), p.t3()), (5_000_000, 1_234_567, 1_234_617));
    }

    #[test]
    fn construct_worked_example_with_setters() {
        let mut buf = [0u8; 48];
        let mut v = FrameHeader::new_unchecked(&mut buf[..]);
        v.set_version(1, 0);
        v.set_kind(Kind::TimeSyncResponse);
        v.set_node(7);
        v.set_stream(0xFF);
        v.set_modality(Modality::None);
        v.set_payload_len(24);
        v.set_seq(42);
        v.set_timestamp_us(1_234_617);
        let mut p = TimeSyncResponsePacket::new_unchecked(v.payload_mut());
        p.set_t1(5_000_000);
        p.set_t2(1_234_567);
        p.set_t3(1_234_617);
        v.fill_crc();
        assert_eq!(buf, FRAME);
    }

    #[test]
    fn parse_worked_example() {
        let f = parse_frame_view(&FRAME).unwrap();
        assert_eq!(f.header, HEADER);
        assert_eq!(f.kind, Kind::TimeSyncResponse);
        let p = TimeSyncResponsePacket::new_checked(f.payload).unwrap();
        assert_eq!(TimeSyncResponse::parse(&p).unwrap(), RESPONSE);
    }

    #[test]
    fn emit_and_encode_worked_example() {
        let payload = PayloadRepr::TimeSyncResponse(RESPONSE);
        let mut raw = [0u8; 64];
        assert_eq!(emit_frame(&HEADER, &payload, &mut raw), Ok(48));
        assert_eq!(&raw[..48], &FRAME[..]);
        let mut wire = [0u8; MAX_WIRE_LEN];
        assert_eq!(encode_frame(&HEADER, &payload, &mut wire), Ok(50));
        assert_eq!(&wire[..50], &WIRE[..]);
    }

    #[test]
    fn worked_example_time_sync_arithmetic_matches_the_spec() {
        let e = RESPONSE.estimate(5_000_400);
        assert_eq!(e.offset_us, -3_765_608);
        assert_eq!(e.delay_us, 350);
    }

    #[test]
    fn decode_frame_undoes_cobs_in_place() {
        let mut buf = WIRE;
        let f = decode_frame(&mut buf[..49]).unwrap();
        assert_eq!(f.header, HEADER);
        assert_eq!(f.payload.len(), 24);
    }

    #[test]
    fn encode_path_runs_on_stack_buffers_only() {
        // Everything here is the no-alloc API the firmware uses: borrowed reprs over
        // arrays and one fixed transmit buffer. This module's tests also pass under
        // `cargo test -p dagr-protocols --no-default-features --lib node` (no `alloc`).
        let iq = [crate::csi::Iq { re: 3, im: -4 }; 52];
        let csi = PayloadRepr::Csi(CsiRepr {
            rssi: -50,
            noise_floor: -92,
            channel: 11,
            antenna: 0,
            bandwidth_mhz: 20,
            iq: &iq,
        });
        let header = HeaderRepr::new(3, 0, Modality::Wifi, 9, 77);
        let mut tx = [0u8; MAX_WIRE_LEN];
        let n = encode_frame(&header, &csi, &mut tx).unwrap();
        assert_eq!(tx[n - 1], 0);
        assert!(!tx[..n - 1].contains(&0));
        let f = decode_frame(&mut tx[..n - 1]).unwrap();
        assert_eq!(f.header, header);
        let view = CsiPacket::new_checked(f.payload).unwrap();
        assert_eq!(view.n_subcarriers(), 52);
        assert!(view
            .iq_iter()
            .all(|s| s == crate::csi::Iq { re: 3, im: -4 }));
    }

    #[test]
    fn encoder_refuses_short_buffers_and_oversize_payloads() {
        let payload = PayloadRepr::TimeSyncResponse(RESPONSE);
        assert_eq!(
            encode_frame(&HEADER, &payload, &mut [0u8; 49]),
            Err(Error::BufferTooSmall)
        );
        let big = [1u8; MAX_PAYLOAD_LEN + 1];
        let unknown = PayloadRepr::Unknown {
            kind: 0x7F,
            bytes: &big,
        };
        assert!(matches!(
            encode_frame(&HEADER, &unknown, &mut [0u8; 2 * MAX_WIRE_LEN]),
            Err(Error::TooLong { .. })
        ));
        let known = PayloadRepr::Unknown {
            kind: 0x01,
            bytes: &[],
        };
        assert!(matches!(
            encode_frame(&HEADER, &known, &mut [0u8; MAX_WIRE_LEN]),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn every_flipped_bit_of_the_example_is_caught() {
        for bit in 0..FRAME.len() * 8 {
            let mut bad = FRAME;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(parse_frame_view(&bad).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn other_major_version_is_unsupported_and_bad_lengths_are_errors() {
        let mut v2 = FRAME;
        FrameHeader::new_unchecked(&mut v2[..]).set_version(2, 0);
        FrameHeader::new_unchecked(&mut v2[..]).fill_crc();
        assert!(matches!(parse_frame_view(&v2), Err(Error::Unsupported(_))));
        assert_eq!(parse_frame_view(&FRAME[..23]), Err(Error::Truncated));
        let mut short = FRAME;
        FrameHeader::new_unchecked(&mut short[..]).set_payload_len(20);
        let crc = crate::node::crc::crc32c(&short[..44]);
        short[44..48].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(parse_frame_view(&short), Err(Error::Malformed(_))));
    }
}
