//! The TLV header `MmwDemo_output_message_tl` and the walk over a packet's TLV area.
//!
//! In the OOB demo `length` counts payload bytes only (not the 8-byte type/length header).
//! Zero-length TLVs are legal (the SDK 3.x `detectedObjects` precedence quirk emits one).
use core::fmt;

use super::le::{put, u32_at};
use crate::error::{Error, Result};

/// Bytes of the type/length header in front of every payload.
pub const TL_LEN: usize = 8;

/// Byte ranges of the TLV header fields.
pub mod field {
    use core::ops::Range;
    /// `type`.
    pub const TYPE: Range<usize> = 0..4;
    /// `length` (payload bytes).
    pub const LENGTH: Range<usize> = 4..8;
    /// Start of the payload.
    pub const PAYLOAD: usize = 8;
}

/// The TLV types of the SDK 3.x OOB demo (`MmwDemo_output_message_type_e`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlvType {
    /// 1: detected points (SDK 3.x float points, or SDK 1.x/2.x Q-format objects).
    DetectedPoints,
    /// 2: range profile, u16 per range bin.
    RangeProfile,
    /// 3: noise profile, u16 per range bin.
    NoiseProfile,
    /// 4: azimuth static heatmap, cmplx16ImRe per range bin and virtual antenna.
    AzimuthStaticHeatMap,
    /// 5: range-Doppler heatmap, u16 per range and Doppler bin.
    RangeDopplerHeatMap,
    /// 6: processing statistics, 6 x u32.
    Stats,
    /// 7: per-point side info {i16 snr, i16 noise}.
    DetectedPointsSideInfo,
    /// 8: azimuth/elevation static heatmap (xwr68xx AOP/ODS).
    AzimuthElevationStaticHeatMap,
    /// 9: temperature statistics.
    TemperatureStats,
    /// Any other value (lab demos, later SDKs): kept as raw bytes.
    Unknown(u32),
}

impl From<u32> for TlvType {
    fn from(value: u32) -> TlvType {
        match value {
            1 => TlvType::DetectedPoints,
            2 => TlvType::RangeProfile,
            3 => TlvType::NoiseProfile,
            4 => TlvType::AzimuthStaticHeatMap,
            5 => TlvType::RangeDopplerHeatMap,
            6 => TlvType::Stats,
            7 => TlvType::DetectedPointsSideInfo,
            8 => TlvType::AzimuthElevationStaticHeatMap,
            9 => TlvType::TemperatureStats,
            other => TlvType::Unknown(other),
        }
    }
}

impl From<TlvType> for u32 {
    fn from(value: TlvType) -> u32 {
        match value {
            TlvType::DetectedPoints => 1,
            TlvType::RangeProfile => 2,
            TlvType::NoiseProfile => 3,
            TlvType::AzimuthStaticHeatMap => 4,
            TlvType::RangeDopplerHeatMap => 5,
            TlvType::Stats => 6,
            TlvType::DetectedPointsSideInfo => 7,
            TlvType::AzimuthElevationStaticHeatMap => 8,
            TlvType::TemperatureStats => 9,
            TlvType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for TlvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", u32::from(*self))
    }
}

/// A typed view over one TLV: header then payload.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tlv<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub fn new_unchecked(buffer: T) -> Tlv<T> {
        Tlv { buffer }
    }

    /// Wraps a buffer after checking it holds the header and the whole payload.
    pub fn new_checked(buffer: T) -> Result<Tlv<T>> {
        let tlv = Tlv::new_unchecked(buffer);
        tlv.check_len()?;
        Ok(tlv)
    }

    /// Checks the buffer holds the header and `length` payload bytes.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < TL_LEN || len < self.total_len().unwrap_or(usize::MAX) {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// `type`, raw.
    pub fn raw_type(&self) -> u32 {
        u32_at(self.buffer.as_ref(), field::TYPE.start)
    }

    /// `type`, named.
    pub fn tlv_type(&self) -> TlvType {
        TlvType::from(self.raw_type())
    }

    /// `length`: payload bytes.
    pub fn length(&self) -> u32 {
        u32_at(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// Header plus payload bytes, or `None` if that overflows `usize`.
    pub fn total_len(&self) -> Option<usize> {
        usize::try_from(self.length()).ok()?.checked_add(TL_LEN)
    }

    /// The payload (clamped to the buffer).
    pub fn payload(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        let end = self.total_len().unwrap_or(usize::MAX).min(bytes.len());
        bytes.get(field::PAYLOAD..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Tlv<T> {
    /// Sets `type`.
    pub fn set_raw_type(&mut self, value: u32) {
        put(
            self.buffer.as_mut(),
            field::TYPE.start,
            &value.to_le_bytes(),
        );
    }

    /// Sets `length` (payload bytes).
    pub fn set_length(&mut self, value: u32) {
        put(
            self.buffer.as_mut(),
            field::LENGTH.start,
            &value.to_le_bytes(),
        );
    }

    /// The payload, writable (clamped to the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.total_len().unwrap_or(usize::MAX);
        let bytes = self.buffer.as_mut();
        let end = end.min(bytes.len());
        bytes.get_mut(field::PAYLOAD..end).unwrap_or(&mut [])
    }
}

/// Walks `numTLVs` TLVs in a packet's TLV area; bytes after the last one are padding.
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
    remaining: u32,
}

impl<'a> TlvIter<'a> {
    /// Walks `num_tlvs` TLVs laid end to end in `area`.
    pub fn new(area: &'a [u8], num_tlvs: u32) -> TlvIter<'a> {
        TlvIter {
            rest: area,
            remaining: num_tlvs,
        }
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<&'a [u8]>>;

    /// The next TLV, or an error (once, then the walk ends) when it overruns the packet.
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let tlv = Tlv::new_unchecked(self.rest);
        let end = match tlv.check_len().and(tlv.total_len().ok_or(Error::Truncated)) {
            Ok(end) => end,
            Err(_) => {
                self.remaining = 0;
                return Some(Err(Error::Malformed("TLV overruns totalPacketLen")));
            }
        };
        let (this, rest) = self.rest.split_at(end.min(self.rest.len()));
        self.rest = rest;
        Some(Ok(Tlv::new_unchecked(this)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// TLV 7 of the first real frame: type 7, length 16, four {snr, noise} pairs.
    static SIDE_INFO_TLV: [u8; 24] = [
        0x07, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0xf7, 0x00, 0x82, 0x03, 0x2f, 0x01, 0xd1,
        0x02, 0x19, 0x01, 0x4d, 0x02, 0xd4, 0x00, 0xf8, 0x01,
    ];

    #[test]
    fn deconstruct_reads_type_length_and_payload() {
        let tlv = Tlv::new_checked(&SIDE_INFO_TLV[..]).unwrap();
        assert_eq!(tlv.tlv_type(), TlvType::DetectedPointsSideInfo);
        assert_eq!(tlv.length(), 16);
        assert_eq!(tlv.payload(), &SIDE_INFO_TLV[8..]);
    }

    #[test]
    fn construct_writes_type_length_and_payload() {
        let mut bytes = [0u8; 24];
        let mut tlv = Tlv::new_unchecked(&mut bytes[..]);
        tlv.set_raw_type(TlvType::DetectedPointsSideInfo.into());
        tlv.set_length(16);
        tlv.payload_mut().copy_from_slice(&SIDE_INFO_TLV[8..]);
        assert_eq!(bytes, SIDE_INFO_TLV);
    }

    #[test]
    fn length_beyond_buffer_is_truncated() {
        assert_eq!(
            Tlv::new_checked(&SIDE_INFO_TLV[..23]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn walk_accepts_zero_length_tlvs_and_stops_at_num_tlvs() {
        let mut area = [0u8; 8 + 24 + 12];
        area[0] = 1; // type 1, length 0 (SDK 3.x quirk)
        area[8..32].copy_from_slice(&SIDE_INFO_TLV);
        let types: Vec<_> = TlvIter::new(&area, 2)
            .map(|t| t.unwrap().tlv_type())
            .collect();
        assert_eq!(
            types,
            [TlvType::DetectedPoints, TlvType::DetectedPointsSideInfo]
        );
    }

    #[test]
    fn walk_reports_overrun_once() {
        let mut it = TlvIter::new(&SIDE_INFO_TLV[..20], 3);
        assert!(matches!(it.next(), Some(Err(Error::Malformed(_)))));
        assert!(it.next().is_none());
    }

    #[test]
    fn unknown_types_keep_their_number() {
        assert_eq!(TlvType::from(1020), TlvType::Unknown(1020));
        assert_eq!(u32::from(TlvType::Unknown(1020)), 1020);
    }
}
