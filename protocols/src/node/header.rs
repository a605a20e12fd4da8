//! The 20-byte header every node frame starts with, and the CRC-32C trailer that ends it.
//!
//! | offset | type | field          | notes                                             |
//! |-------:|------|----------------|---------------------------------------------------|
//! | 0      | u8   | version        | major in the high nibble, minor in the low nibble |
//! | 1      | u8   | kind           | payload kind ([`Kind`])                           |
//! | 2      | u16  | node           | node id; 0 = unassigned, 0xFFFF = broadcast       |
//! | 4      | u8   | stream         | stream id on that node; 0xFF = control stream     |
//! | 5      | u8   | modality       | [`Modality`]                                      |
//! | 6      | u16  | payload_len    | bytes of payload, at most 1024                    |
//! | 8      | u32  | seq            | per-(node, stream) frame counter, wraps           |
//! | 12     | u64  | timestamp_us   | sender's monotonic µs clock                       |
//! | 20     | ..   | payload        | `payload_len` bytes                               |
//! | 20+len | u32  | crc            | CRC-32C over bytes `0 .. 20+len`                  |
//!
//! All multi-byte fields are little-endian.
use core::fmt;

use super::crc::crc32c;
use super::{le, CRC_LEN, HEADER_LEN, MAX_PAYLOAD_LEN, VERSION_MAJOR, VERSION_MINOR};
use crate::error::{Error, Result};

/// Byte ranges of the header fields, readable side by side with SPEC.md.
pub mod field {
    use core::ops::Range;
    /// Version byte: major << 4 | minor.
    pub const VERSION: usize = 0;
    /// Payload kind.
    pub const KIND: usize = 1;
    /// Node id, u16.
    pub const NODE: Range<usize> = 2..4;
    /// Stream id.
    pub const STREAM: usize = 4;
    /// Modality code.
    pub const MODALITY: usize = 5;
    /// Payload length, u16.
    pub const PAYLOAD_LEN: Range<usize> = 6..8;
    /// Sequence number, u32.
    pub const SEQ: Range<usize> = 8..12;
    /// Device timestamp in µs, u64.
    pub const TIMESTAMP_US: Range<usize> = 12..20;
    /// First payload byte.
    pub const PAYLOAD: usize = 20;
}

/// What a frame's payload is; unknown codes are kept as [`Kind::Unknown`] so that frames
/// of a newer minor version still decode (header plus raw payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 0x01: one WiFi CSI packet.
    Csi,
    /// 0x02: points of one radar frame.
    Radar,
    /// 0x03: a batch of UHF RFID tag reads.
    Rfid,
    /// 0x10: node health counters.
    Heartbeat,
    /// 0x11: host asks for the node's clock (host → node).
    TimeSyncRequest,
    /// 0x12: node's receive/transmit times for a request (node → host).
    TimeSyncResponse,
    /// 0x20: configuration command (host → node).
    Command,
    /// 0x21: acknowledgement of a command, with a status code (node → host).
    Ack,
    /// A code this version does not define.
    Unknown(u8),
}

impl Kind {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            Kind::Csi => 0x01,
            Kind::Radar => 0x02,
            Kind::Rfid => 0x03,
            Kind::Heartbeat => 0x10,
            Kind::TimeSyncRequest => 0x11,
            Kind::TimeSyncResponse => 0x12,
            Kind::Command => 0x20,
            Kind::Ack => 0x21,
            Kind::Unknown(code) => code,
        }
    }

    /// The kind a wire code stands for.
    pub const fn from_code(code: u8) -> Kind {
        match code {
            0x01 => Kind::Csi,
            0x02 => Kind::Radar,
            0x03 => Kind::Rfid,
            0x10 => Kind::Heartbeat,
            0x11 => Kind::TimeSyncRequest,
            0x12 => Kind::TimeSyncResponse,
            0x20 => Kind::Command,
            0x21 => Kind::Ack,
            other => Kind::Unknown(other),
        }
    }

    /// The name used in JSON output and summaries.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Csi => "csi",
            Kind::Radar => "radar",
            Kind::Rfid => "rfid",
            Kind::Heartbeat => "heartbeat",
            Kind::TimeSyncRequest => "time_sync_request",
            Kind::TimeSyncResponse => "time_sync_response",
            Kind::Command => "command",
            Kind::Ack => "ack",
            Kind::Unknown(_) => "unknown",
        }
    }
}

/// Which sensor family a stream carries, so the host can route frames without looking
/// at payloads (heartbeats of a radar node say `Mmwave`, control traffic says `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modality {
    /// 0: control and health traffic, no sensor data.
    None,
    /// 1: mmWave radar.
    Mmwave,
    /// 2: WiFi CSI.
    Wifi,
    /// 3: UHF RFID.
    Rfid,
    /// A code this version does not define.
    Unknown(u8),
}

impl Modality {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            Modality::None => 0,
            Modality::Mmwave => 1,
            Modality::Wifi => 2,
            Modality::Rfid => 3,
            Modality::Unknown(code) => code,
        }
    }

    /// The modality a wire code stands for.
    pub const fn from_code(code: u8) -> Modality {
        match code {
            0 => Modality::None,
            1 => Modality::Mmwave,
            2 => Modality::Wifi,
            3 => Modality::Rfid,
            other => Modality::Unknown(other),
        }
    }

    /// The name used in JSON output (DESIGN.md's modality names).
    pub const fn name(self) -> &'static str {
        match self {
            Modality::None => "none",
            Modality::Mmwave => "mmwave",
            Modality::Wifi => "wifi",
            Modality::Rfid => "rfid",
            Modality::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for Modality {
    /// The name, or `unknown(code)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Modality::Unknown(code) => write!(f, "unknown({code})"),
            known => f.write_str(known.name()),
        }
    }
}

/// A typed view of one decoded (un-COBSed) frame: header, payload and CRC trailer.
#[derive(Debug, Clone)]
pub struct FrameHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FrameHeader<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        FrameHeader { buffer }
    }

    /// Wraps a buffer, checking it holds the header, the payload it announces and the CRC.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let view = Self::new_unchecked(buffer);
        view.check_len()?;
        Ok(view)
    }

    /// [`Error::Truncated`] unless header, announced payload and CRC all fit.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN + CRC_LEN || len < self.frame_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The raw version byte.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    /// Major version (high nibble): a different major means an incompatible layout.
    pub fn version_major(&self) -> u8 {
        self.version() >> 4
    }

    /// Minor version (low nibble): newer minors only add kinds or append fields.
    pub fn version_minor(&self) -> u8 {
        self.version() & 0x0F
    }

    /// The payload kind.
    pub fn kind(&self) -> Kind {
        Kind::from_code(self.buffer.as_ref()[field::KIND])
    }

    /// The sending (or addressed) node's id.
    pub fn node(&self) -> u16 {
        le::u16(self.buffer.as_ref(), field::NODE.start)
    }

    /// The stream id on that node.
    pub fn stream(&self) -> u8 {
        self.buffer.as_ref()[field::STREAM]
    }

    /// The stream's modality.
    pub fn modality(&self) -> Modality {
        Modality::from_code(self.buffer.as_ref()[field::MODALITY])
    }

    /// Payload length announced by the header.
    pub fn payload_len(&self) -> u16 {
        le::u16(self.buffer.as_ref(), field::PAYLOAD_LEN.start)
    }

    /// Sequence number of this frame on its (node, stream).
    pub fn seq(&self) -> u32 {
        le::u32(self.buffer.as_ref(), field::SEQ.start)
    }

    /// Sender's timestamp in µs.
    pub fn timestamp_us(&self) -> u64 {
        le::u64(self.buffer.as_ref(), field::TIMESTAMP_US.start)
    }

    /// Header + payload + CRC length this header announces.
    pub fn frame_len(&self) -> usize {
        HEADER_LEN + usize::from(self.payload_len()) + CRC_LEN
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        let end = field::PAYLOAD + usize::from(self.payload_len());
        &self.buffer.as_ref()[field::PAYLOAD..end]
    }

    /// The CRC-32C trailer as sent.
    pub fn crc(&self) -> u32 {
        le::u32(self.buffer.as_ref(), self.frame_len() - CRC_LEN)
    }

    /// The CRC-32C of header and payload as received.
    pub fn compute_crc(&self) -> u32 {
        crc32c(&self.buffer.as_ref()[..self.frame_len() - CRC_LEN])
    }

    /// True when the trailer matches the content.
    pub fn verify_crc(&self) -> bool {
        self.crc() == self.compute_crc()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> FrameHeader<T> {
    /// Sets the version byte from major and minor (each 0..=15).
    pub fn set_version(&mut self, major: u8, minor: u8) {
        self.buffer.as_mut()[field::VERSION] = (major << 4) | (minor & 0x0F);
    }

    /// Sets the payload kind.
    pub fn set_kind(&mut self, kind: Kind) {
        self.buffer.as_mut()[field::KIND] = kind.code();
    }

    /// Sets the node id.
    pub fn set_node(&mut self, node: u16) {
        le::put_u16(self.buffer.as_mut(), field::NODE.start, node);
    }

    /// Sets the stream id.
    pub fn set_stream(&mut self, stream: u8) {
        self.buffer.as_mut()[field::STREAM] = stream;
    }

    /// Sets the modality.
    pub fn set_modality(&mut self, modality: Modality) {
        self.buffer.as_mut()[field::MODALITY] = modality.code();
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, len: u16) {
        le::put_u16(self.buffer.as_mut(), field::PAYLOAD_LEN.start, len);
    }

    /// Sets the sequence number.
    pub fn set_seq(&mut self, seq: u32) {
        le::put_u32(self.buffer.as_mut(), field::SEQ.start, seq);
    }

    /// Sets the timestamp.
    pub fn set_timestamp_us(&mut self, ts: u64) {
        le::put_u64(self.buffer.as_mut(), field::TIMESTAMP_US.start, ts);
    }

    /// The payload bytes, for writing.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = field::PAYLOAD + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[field::PAYLOAD..end]
    }

    /// Computes the CRC over header and payload and writes the trailer.
    pub fn fill_crc(&mut self) {
        let crc = self.compute_crc();
        let at = self.frame_len() - CRC_LEN;
        le::put_u32(self.buffer.as_mut(), at, crc);
    }
}

/// The header's values, independent of any buffer. `kind` and `payload_len` are not here:
/// they follow from the payload the header travels with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderRepr {
    /// Minor version the sender speaks (major is always [`VERSION_MAJOR`]).
    pub version_minor: u8,
    /// Node id.
    pub node: u16,
    /// Stream id.
    pub stream: u8,
    /// Modality of the stream.
    pub modality: Modality,
    /// Per-(node, stream) sequence number.
    pub seq: u32,
    /// Sender's timestamp in µs.
    pub timestamp_us: u64,
}

impl HeaderRepr {
    /// A header at this code's version.
    pub const fn new(node: u16, stream: u8, modality: Modality, seq: u32, ts: u64) -> Self {
        HeaderRepr {
            version_minor: VERSION_MINOR,
            node,
            stream,
            modality,
            seq,
            timestamp_us: ts,
        }
    }

    /// Reads the header of a length-checked frame view; rejects another major version
    /// ([`Error::Unsupported`]) and oversize payload lengths ([`Error::TooLong`]).
    pub fn parse<T: AsRef<[u8]>>(view: &FrameHeader<T>) -> Result<Self> {
        if view.version_major() != VERSION_MAJOR {
            return Err(Error::Unsupported("node protocol major version"));
        }
        let claimed = usize::from(view.payload_len());
        if claimed > MAX_PAYLOAD_LEN {
            return Err(Error::TooLong {
                claimed,
                limit: MAX_PAYLOAD_LEN,
            });
        }
        Ok(HeaderRepr {
            version_minor: view.version_minor(),
            node: view.node(),
            stream: view.stream(),
            modality: view.modality(),
            seq: view.seq(),
            timestamp_us: view.timestamp_us(),
        })
    }

    /// Writes every header field but `kind` and `payload_len`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut FrameHeader<T>) {
        view.set_version(VERSION_MAJOR, self.version_minor);
        view.set_node(self.node);
        view.set_stream(self.stream);
        view.set_modality(self.modality);
        view.set_seq(self.seq);
        view.set_timestamp_us(self.timestamp_us);
    }

    /// Bytes of the header on the wire.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
}

impl fmt::Display for HeaderRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} stream {} ({}) seq {} t={}µs",
            self.node, self.stream, self.modality, self.seq, self.timestamp_us
        )
    }
}
