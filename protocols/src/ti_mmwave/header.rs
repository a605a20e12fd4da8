//! The frame header `MmwDemo_output_message_header` that starts every data-port packet.
//!
//! SDK 3.x writes 40 bytes ending in `subFrameNumber`; the SDK 1.x/2.x xwr14xx demos (and
//! SDK 1.0-1.2 on any chip) write 36 bytes without it. Which layout a packet uses is decided
//! from the `version` and `platform` fields, which sit at the same offsets in both (see
//! [`HeaderLayout::of`]).
use core::fmt;

use super::le::{put, u32_at};
use crate::error::{Error, Result};

/// The 8 bytes every packet starts with: `u16[4] {0x0102, 0x0304, 0x0506, 0x0708}` in LE.
pub const MAGIC: [u8; 8] = [0x02, 0x01, 0x04, 0x03, 0x06, 0x05, 0x08, 0x07];

/// Length of the SDK 3.x header (with `subFrameNumber`).
pub const HEADER_LEN: usize = 40;
/// Length of the SDK 1.x/2.x xwr14xx header (no `subFrameNumber`).
pub const LEGACY_HEADER_LEN: usize = 36;
/// Bytes needed before the layout and `totalPacketLen` are known (through `platform`).
pub const PREFIX_LEN: usize = field::PLATFORM.end;
/// Firmware pads every packet to a multiple of this (`MMWDEMO_OUTPUT_MSG_SEGMENT_LEN`).
pub const SEGMENT_LEN: usize = 32;

/// `platform` value of the xwr14xx (IWR1443/AWR1443) demos.
pub const PLATFORM_XWR14XX: u32 = 0xA1443;
/// `platform` value of the xwr16xx (IWR1642/AWR1642) demos.
pub const PLATFORM_XWR16XX: u32 = 0xA1642;

/// Byte ranges of the header fields, as in the spec's table.
pub mod field {
    use core::ops::Range;
    /// `magicWord`.
    pub const MAGIC: Range<usize> = 0..8;
    /// `version`: Major<<24 | Minor<<16 | Bugfix<<8 | Build.
    pub const VERSION: Range<usize> = 8..12;
    /// `totalPacketLen`: header + TLVs + padding.
    pub const TOTAL_PACKET_LEN: Range<usize> = 12..16;
    /// `platform`, e.g. 0xA1642.
    pub const PLATFORM: Range<usize> = 16..20;
    /// `frameNumber`.
    pub const FRAME_NUMBER: Range<usize> = 20..24;
    /// `timeCpuCycles`.
    pub const TIME_CPU_CYCLES: Range<usize> = 24..28;
    /// `numDetectedObj`.
    pub const NUM_DETECTED_OBJ: Range<usize> = 28..32;
    /// `numTLVs`.
    pub const NUM_TLVS: Range<usize> = 32..36;
    /// `subFrameNumber` (SDK 3.x layout only).
    pub const SUBFRAME_NUMBER: Range<usize> = 36..40;
}

/// Which header layout and TLV 1 encoding a packet uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderLayout {
    /// SDK 3.x: 40-byte header, TLV 1 holds float points.
    Sdk3,
    /// SDK 1.x/2.x with `subFrameNumber` (e.g. xwr16xx SDK 2.x): 40-byte header, TLV 1 holds
    /// a Q-format descriptor and 12-byte objects.
    Legacy,
    /// SDK 1.x/2.x xwr14xx, and SDK 1.0-1.2 on any chip: 36-byte header, Q-format TLV 1.
    LegacyShort,
}

impl HeaderLayout {
    /// Decides the layout from `version` and `platform`.
    ///
    /// Major version 3 or more is SDK 3.x. Below that the TLV 1 is Q-format; the header
    /// lacks `subFrameNumber` on xwr14xx (TI's IWR1443 SDK 1.x reader, spec 1.3) and on
    /// SDK <= 1.2 (openradar reads `subFrameNumber` only when `sdk_version > 1.2`).
    pub fn of(version: u32, platform: u32) -> HeaderLayout {
        let major = version >> 24;
        let minor = (version >> 16) & 0xff;
        if major >= 3 {
            HeaderLayout::Sdk3
        } else if platform == PLATFORM_XWR14XX || (major <= 1 && minor <= 2) {
            HeaderLayout::LegacyShort
        } else {
            HeaderLayout::Legacy
        }
    }

    /// Header length in bytes for this layout.
    pub fn header_len(self) -> usize {
        match self {
            HeaderLayout::LegacyShort => LEGACY_HEADER_LEN,
            _ => HEADER_LEN,
        }
    }

    /// True when TLV 1 holds SDK 1.x/2.x Q-format objects.
    pub fn has_q_format_points(self) -> bool {
        self != HeaderLayout::Sdk3
    }
}

/// A typed view over a packet: the header fields, then the TLV area.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking it holds a whole header with the right magic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        if packet.magic() != MAGIC {
            return Err(Error::Malformed("magicWord"));
        }
        Ok(packet)
    }

    /// Checks the buffer holds the header this packet's layout needs.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < PREFIX_LEN || len < self.header_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The whole underlying buffer.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn u32_field(&self, range: core::ops::Range<usize>) -> u32 {
        u32_at(self.buffer.as_ref(), range.start)
    }

    /// `magicWord` bytes.
    pub fn magic(&self) -> [u8; 8] {
        let mut magic = [0u8; 8];
        if let Some(src) = self.buffer.as_ref().get(field::MAGIC) {
            magic.copy_from_slice(src);
        }
        magic
    }

    /// `version` (e.g. 0x03040003 = 3.4.0.3).
    pub fn version(&self) -> u32 {
        self.u32_field(field::VERSION)
    }

    /// `totalPacketLen`: header, TLVs and padding.
    pub fn total_packet_len(&self) -> u32 {
        self.u32_field(field::TOTAL_PACKET_LEN)
    }

    /// `platform` (e.g. 0xA1642).
    pub fn platform(&self) -> u32 {
        self.u32_field(field::PLATFORM)
    }

    /// `frameNumber`.
    pub fn frame_number(&self) -> u32 {
        self.u32_field(field::FRAME_NUMBER)
    }

    /// `timeCpuCycles`.
    pub fn time_cpu_cycles(&self) -> u32 {
        self.u32_field(field::TIME_CPU_CYCLES)
    }

    /// `numDetectedObj`.
    pub fn num_detected_obj(&self) -> u32 {
        self.u32_field(field::NUM_DETECTED_OBJ)
    }

    /// `numTLVs`.
    pub fn num_tlvs(&self) -> u32 {
        self.u32_field(field::NUM_TLVS)
    }

    /// `subFrameNumber`, or `None` for a 36-byte header.
    pub fn subframe_number(&self) -> Option<u32> {
        match self.layout() {
            HeaderLayout::LegacyShort => None,
            _ => Some(self.u32_field(field::SUBFRAME_NUMBER)),
        }
    }

    /// The layout `version` and `platform` select.
    pub fn layout(&self) -> HeaderLayout {
        HeaderLayout::of(self.version(), self.platform())
    }

    /// Header length in bytes (36 or 40).
    pub fn header_len(&self) -> usize {
        self.layout().header_len()
    }

    /// The TLV area: from the end of the header to `totalPacketLen` (clamped to the buffer).
    pub fn tlv_area(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        let end = usize::try_from(self.total_packet_len())
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        bytes.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u32_field(&mut self, range: core::ops::Range<usize>, value: u32) {
        put(self.buffer.as_mut(), range.start, &value.to_le_bytes());
    }

    /// Writes `magicWord`.
    pub fn set_magic(&mut self) {
        put(self.buffer.as_mut(), field::MAGIC.start, &MAGIC);
    }

    /// Sets `version`.
    pub fn set_version(&mut self, value: u32) {
        self.set_u32_field(field::VERSION, value);
    }

    /// Sets `totalPacketLen`.
    pub fn set_total_packet_len(&mut self, value: u32) {
        self.set_u32_field(field::TOTAL_PACKET_LEN, value);
    }

    /// Sets `platform`.
    pub fn set_platform(&mut self, value: u32) {
        self.set_u32_field(field::PLATFORM, value);
    }

    /// Sets `frameNumber`.
    pub fn set_frame_number(&mut self, value: u32) {
        self.set_u32_field(field::FRAME_NUMBER, value);
    }

    /// Sets `timeCpuCycles`.
    pub fn set_time_cpu_cycles(&mut self, value: u32) {
        self.set_u32_field(field::TIME_CPU_CYCLES, value);
    }

    /// Sets `numDetectedObj`.
    pub fn set_num_detected_obj(&mut self, value: u32) {
        self.set_u32_field(field::NUM_DETECTED_OBJ, value);
    }

    /// Sets `numTLVs`.
    pub fn set_num_tlvs(&mut self, value: u32) {
        self.set_u32_field(field::NUM_TLVS, value);
    }

    /// Sets `subFrameNumber` (ignored by 36-byte layouts, which have no such field).
    pub fn set_subframe_number(&mut self, value: u32) {
        if self.layout() != HeaderLayout::LegacyShort {
            self.set_u32_field(field::SUBFRAME_NUMBER, value);
        }
    }

    /// The TLV area, writable.
    pub fn tlv_area_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        let total = usize::try_from(self.total_packet_len()).unwrap_or(usize::MAX);
        let bytes = self.buffer.as_mut();
        let end = total.min(bytes.len());
        bytes.get_mut(start..end).unwrap_or(&mut [])
    }
}

/// The header as plain values: what [`Packet`] holds, without the magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRepr {
    /// `version`.
    pub version: u32,
    /// `totalPacketLen`.
    pub total_packet_len: u32,
    /// `platform`.
    pub platform: u32,
    /// `frameNumber`.
    pub frame_number: u32,
    /// `timeCpuCycles`.
    pub time_cpu_cycles: u32,
    /// `numDetectedObj`.
    pub num_detected_obj: u32,
    /// `numTLVs`.
    pub num_tlvs: u32,
    /// `subFrameNumber`; `None` for 36-byte headers.
    pub subframe_number: Option<u32>,
}

impl HeaderRepr {
    /// Reads the header fields; `totalPacketLen` must cover at least the header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<HeaderRepr> {
        packet.check_len()?;
        if packet.magic() != MAGIC {
            return Err(Error::Malformed("magicWord"));
        }
        let total = usize::try_from(packet.total_packet_len()).unwrap_or(usize::MAX);
        if total < packet.header_len() {
            return Err(Error::Malformed("totalPacketLen shorter than the header"));
        }
        Ok(HeaderRepr {
            version: packet.version(),
            total_packet_len: packet.total_packet_len(),
            platform: packet.platform(),
            frame_number: packet.frame_number(),
            time_cpu_cycles: packet.time_cpu_cycles(),
            num_detected_obj: packet.num_detected_obj(),
            num_tlvs: packet.num_tlvs(),
            subframe_number: packet.subframe_number(),
        })
    }

    /// The layout `version` and `platform` select.
    pub fn layout(&self) -> HeaderLayout {
        HeaderLayout::of(self.version, self.platform)
    }

    /// Bytes the header occupies (36 or 40).
    pub fn buffer_len(&self) -> usize {
        self.layout().header_len()
    }

    /// Writes the header (magic included) into `packet`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if packet.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        packet.set_magic();
        packet.set_version(self.version);
        packet.set_total_packet_len(self.total_packet_len);
        packet.set_platform(self.platform);
        packet.set_frame_number(self.frame_number);
        packet.set_time_cpu_cycles(self.time_cpu_cycles);
        packet.set_num_detected_obj(self.num_detected_obj);
        packet.set_num_tlvs(self.num_tlvs);
        packet.set_subframe_number(self.subframe_number.unwrap_or(0));
        Ok(())
    }
}

impl fmt::Display for HeaderRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TI mmWave v{}.{}.{}.{} platform {:#x} frame {} objs {} tlvs {} len {}",
            self.version >> 24,
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
            self.platform,
            self.frame_number,
            self.num_detected_obj,
            self.num_tlvs,
            self.total_packet_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 40 bytes of the first real recording, as shared/reference/wire-formats.md
    /// §1.5 dumps and decodes them (frame 370 of the xwr16xx recording ..._14_00_37_341).
    static HEADER_BYTES: [u8; 40] = [
        0x02, 0x01, 0x04, 0x03, 0x06, 0x05, 0x08, 0x07, 0x03, 0x00, 0x04, 0x03, 0xe0, 0x02, 0x00,
        0x00, 0x42, 0x16, 0x0a, 0x00, 0x72, 0x01, 0x00, 0x00, 0x4f, 0x83, 0xc3, 0x94, 0x04, 0x00,
        0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    fn real_repr() -> HeaderRepr {
        HeaderRepr {
            version: 0x0304_0003,
            total_packet_len: 736,
            platform: 0xA1642,
            frame_number: 370,
            time_cpu_cycles: 0x94c3_834f,
            num_detected_obj: 4,
            num_tlvs: 5,
            subframe_number: Some(0),
        }
    }

    #[test]
    fn deconstruct_reads_the_real_header_fields() {
        let packet = Packet::new_checked(&HEADER_BYTES[..]).unwrap();
        assert_eq!(packet.version(), 0x0304_0003);
        assert_eq!(packet.total_packet_len(), 736);
        assert_eq!(packet.platform(), PLATFORM_XWR16XX);
        assert_eq!(packet.frame_number(), 370);
        assert_eq!(packet.num_detected_obj(), 4);
        assert_eq!(packet.num_tlvs(), 5);
        assert_eq!(packet.subframe_number(), Some(0));
        assert_eq!(packet.layout(), HeaderLayout::Sdk3);
        assert_eq!(packet.header_len(), 40);
    }

    #[test]
    fn construct_writes_the_real_header_bytes() {
        let mut bytes = [0u8; 40];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_magic();
        packet.set_version(0x0304_0003);
        packet.set_total_packet_len(736);
        packet.set_platform(0xA1642);
        packet.set_frame_number(370);
        packet.set_time_cpu_cycles(0x94c3_834f);
        packet.set_num_detected_obj(4);
        packet.set_num_tlvs(5);
        packet.set_subframe_number(0);
        assert_eq!(bytes, HEADER_BYTES);
    }

    #[test]
    fn parse_gives_the_spec_values() {
        let repr = HeaderRepr::parse(&Packet::new_unchecked(&HEADER_BYTES[..])).unwrap();
        assert_eq!(repr, real_repr());
        assert_eq!(repr.buffer_len(), 40);
    }

    #[test]
    fn emit_reproduces_the_real_header() {
        let mut bytes = [0xAAu8; 40];
        real_repr()
            .emit(&mut Packet::new_unchecked(&mut bytes[..]))
            .unwrap();
        assert_eq!(bytes, HEADER_BYTES);
    }

    #[test]
    fn layout_is_short_for_xwr14xx_below_sdk3_only() {
        assert_eq!(
            HeaderLayout::of(0x0201_0004, PLATFORM_XWR14XX),
            HeaderLayout::LegacyShort
        );
        assert_eq!(
            HeaderLayout::of(0x0102_0000, PLATFORM_XWR16XX),
            HeaderLayout::LegacyShort
        );
        assert_eq!(
            HeaderLayout::of(0x0201_0004, PLATFORM_XWR16XX),
            HeaderLayout::Legacy
        );
        assert_eq!(
            HeaderLayout::of(0x0302_0000, PLATFORM_XWR14XX),
            HeaderLayout::Sdk3
        );
    }

    #[test]
    fn short_buffer_and_bad_magic_are_errors() {
        assert_eq!(
            Packet::new_checked(&HEADER_BYTES[..39]).unwrap_err(),
            Error::Truncated
        );
        let mut bad = HEADER_BYTES;
        bad[0] = 0;
        assert!(matches!(
            Packet::new_checked(&bad[..]),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn total_len_below_header_is_malformed() {
        let mut bytes = HEADER_BYTES;
        bytes[12] = 39;
        bytes[13] = 0;
        let err = HeaderRepr::parse(&Packet::new_unchecked(&bytes[..])).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)));
    }
}
