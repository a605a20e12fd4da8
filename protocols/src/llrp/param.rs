//! Parameters: the TLV and TV encodings and a zero-allocation walk over a parameter list.
//!
//! ```text
//! TLV: bits 6 reserved | 10 type, u16 length (header included), fields, sub-parameters
//! TV:  bit7 = 1 | 7-bit type, fixed-size value (size known only from the type table)
//! Custom (TLV 1023): u32 vendor PEN, u32 subtype, vendor payload
//! ```
//! An unknown TLV is skipped by its length. An unknown TV cannot be skipped (its size is
//! not on the wire), so it ends the walk with an error.
use crate::error::{Error, Result};

/// TLV type of a vendor custom parameter.
pub const CUSTOM_PARAMETER: u16 = 1023;

/// TV parameter type numbers (7 bits) as LLRP 1.0.1 (and 1.1 for XPC) defines them.
pub mod tv {
    /// AntennaID: u16.
    pub const ANTENNA_ID: u8 = 1;
    /// FirstSeenTimestampUTC: u64 microseconds since the Unix epoch.
    pub const FIRST_SEEN_UTC: u8 = 2;
    /// FirstSeenTimestampUptime: u64 microseconds since reader boot.
    pub const FIRST_SEEN_UPTIME: u8 = 3;
    /// LastSeenTimestampUTC: u64 microseconds.
    pub const LAST_SEEN_UTC: u8 = 4;
    /// LastSeenTimestampUptime: u64 microseconds.
    pub const LAST_SEEN_UPTIME: u8 = 5;
    /// PeakRSSI: s8 dBm.
    pub const PEAK_RSSI: u8 = 6;
    /// ChannelIndex: u16, 1-based index into the hop table.
    pub const CHANNEL_INDEX: u8 = 7;
    /// TagSeenCount: u16.
    pub const TAG_SEEN_COUNT: u8 = 8;
    /// ROSpecID: u32.
    pub const RO_SPEC_ID: u8 = 9;
    /// InventoryParameterSpecID: u16.
    pub const INVENTORY_PARAMETER_SPEC_ID: u8 = 10;
    /// C1G2_CRC: u16.
    pub const C1G2_CRC: u8 = 11;
    /// C1G2_PC: u16.
    pub const C1G2_PC: u8 = 12;
    /// EPC-96: 12 bytes.
    pub const EPC_96: u8 = 13;
    /// SpecIndex: u16.
    pub const SPEC_INDEX: u8 = 14;
    /// ClientRequestOpSpecResult: u16.
    pub const CLIENT_REQUEST_OP_SPEC_RESULT: u8 = 15;
    /// AccessSpecID: u32.
    pub const ACCESS_SPEC_ID: u8 = 16;
    /// OpSpecID: u16.
    pub const OP_SPEC_ID: u8 = 17;
    /// C1G2SingulationDetails: u16 + u16.
    pub const C1G2_SINGULATION_DETAILS: u8 = 18;
    /// C1G2XPCW1 (LLRP 1.1): u16.
    pub const C1G2_XPC_W1: u8 = 19;
    /// C1G2XPCW2 (LLRP 1.1): u16.
    pub const C1G2_XPC_W2: u8 = 20;

    /// Value size in bytes of a TV parameter type, or `None` for a type this table does
    /// not know (the walk cannot continue past it).
    pub const fn value_len(tv_type: u8) -> Option<usize> {
        Some(match tv_type {
            ANTENNA_ID => 2,
            FIRST_SEEN_UTC | FIRST_SEEN_UPTIME | LAST_SEEN_UTC | LAST_SEEN_UPTIME => 8,
            PEAK_RSSI => 1,
            CHANNEL_INDEX | TAG_SEEN_COUNT | INVENTORY_PARAMETER_SPEC_ID => 2,
            RO_SPEC_ID | ACCESS_SPEC_ID | C1G2_SINGULATION_DETAILS => 4,
            C1G2_CRC | C1G2_PC | SPEC_INDEX | CLIENT_REQUEST_OP_SPEC_RESULT | OP_SPEC_ID => 2,
            C1G2_XPC_W1 | C1G2_XPC_W2 => 2,
            EPC_96 => 12,
            _ => return None,
        })
    }
}

/// Byte ranges of a TLV parameter header.
mod field {
    use core::ops::Range;
    /// 6 reserved bits and the 10-bit type.
    pub const TYPE: Range<usize> = 0..2;
    /// Length of the parameter, header included.
    pub const LENGTH: Range<usize> = 2..4;
}

/// Size of a TLV parameter header.
pub const TLV_HEADER_LEN: usize = field::LENGTH.end;
/// Size of a custom parameter's header (TLV header, vendor, subtype).
pub const CUSTOM_HEADER_LEN: usize = TLV_HEADER_LEN + 8;

/// A read/write view over one TLV parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tlv<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        Tlv { buffer }
    }

    /// Wraps a buffer that holds the whole parameter its length field claims.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let tlv = Self::new_unchecked(buffer);
        tlv.check_len()?;
        Ok(tlv)
    }

    /// Checks the header is present and the claimed length fits the buffer.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < TLV_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let claimed = usize::from(self.length());
        if claimed < TLV_HEADER_LEN {
            return Err(Error::Malformed("TLV length shorter than its header"));
        }
        if claimed > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The 10-bit parameter type.
    pub fn param_type(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::TYPE];
        u16::from_be_bytes([b[0], b[1]]) & 0x3ff
    }

    /// Length of the parameter, header included.
    pub fn length(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The fields and sub-parameters after the header.
    pub fn value(&self) -> &[u8] {
        &self.buffer.as_ref()[TLV_HEADER_LEN..usize::from(self.length())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Tlv<T> {
    /// Sets the parameter type (reserved bits cleared).
    pub fn set_param_type(&mut self, value: u16) {
        self.buffer.as_mut()[field::TYPE].copy_from_slice(&(value & 0x3ff).to_be_bytes());
    }

    /// Sets the length, header included.
    pub fn set_length(&mut self, value: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&value.to_be_bytes());
    }
}

/// A read view over a custom parameter (TLV 1023): vendor, subtype, payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Custom<'a> {
    /// Vendor IANA Private Enterprise Number (25882 = Impinj).
    pub vendor: u32,
    /// Vendor-defined subtype.
    pub subtype: u32,
    /// The vendor's fields and sub-parameters.
    pub payload: &'a [u8],
}

impl<'a> Custom<'a> {
    /// Reads vendor and subtype from a custom parameter's value (after the TLV header).
    pub fn parse(value: &'a [u8]) -> Result<Self> {
        let mut r = super::cursor::FieldReader::new(value);
        let vendor = r.u32()?;
        let subtype = r.u32()?;
        Ok(Custom {
            vendor,
            subtype,
            payload: r.rest(),
        })
    }
}

/// One parameter of a list, borrowed from the message bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param<'a> {
    /// A TLV parameter: its type and value (fields + sub-parameters, header excluded).
    Tlv {
        /// 10-bit type.
        param_type: u16,
        /// Bytes after the 4-byte header.
        value: &'a [u8],
        /// The whole encoded parameter, header included.
        raw: &'a [u8],
    },
    /// A TV parameter: its 7-bit type and fixed-size value.
    Tv {
        /// 7-bit type.
        param_type: u8,
        /// Value bytes (size from [`tv::value_len`]).
        value: &'a [u8],
        /// The whole encoded parameter, type byte included.
        raw: &'a [u8],
    },
}

impl<'a> Param<'a> {
    /// The parameter type number (TV types are 1..=127, TLV types 128..=1023).
    pub fn param_type(&self) -> u16 {
        match self {
            Param::Tlv { param_type, .. } => *param_type,
            Param::Tv { param_type, .. } => u16::from(*param_type),
        }
    }

    /// The bytes after the type (TV) or header (TLV).
    pub fn value(&self) -> &'a [u8] {
        match self {
            Param::Tlv { value, .. } | Param::Tv { value, .. } => value,
        }
    }

    /// The whole encoded parameter.
    pub fn raw(&self) -> &'a [u8] {
        match self {
            Param::Tlv { raw, .. } | Param::Tv { raw, .. } => raw,
        }
    }

    /// The vendor fields, when this is a custom parameter (TLV 1023).
    pub fn custom(&self) -> Option<Result<Custom<'a>>> {
        match self {
            Param::Tlv {
                param_type: CUSTOM_PARAMETER,
                value,
                ..
            } => Some(Custom::parse(value)),
            _ => None,
        }
    }
}

/// Walks a parameter list without allocating. Yields `Err` once (then stops) on a
/// truncated parameter or a TV type of unknown size.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    rest: &'a [u8],
}

impl<'a> Params<'a> {
    /// Walks the parameters in `list` (e.g. a message body after its fixed fields).
    pub fn new(list: &'a [u8]) -> Self {
        Params { rest: list }
    }

    fn next_param(&mut self) -> Result<Param<'a>> {
        let first = self.rest[0];
        let (param, len) = if first & 0x80 != 0 {
            let param_type = first & 0x7f;
            let len = tv::value_len(param_type)
                .ok_or(Error::Unsupported("TV parameter of unknown size"))?
                + 1;
            let raw = self.rest.get(..len).ok_or(Error::Truncated)?;
            let value = &raw[1..];
            (
                Param::Tv {
                    param_type,
                    value,
                    raw,
                },
                len,
            )
        } else {
            let tlv = Tlv::new_checked(self.rest)?;
            let len = usize::from(tlv.length());
            let raw = &self.rest[..len];
            let param = Param::Tlv {
                param_type: tlv.param_type(),
                value: &raw[TLV_HEADER_LEN..],
                raw,
            };
            (param, len)
        };
        self.rest = &self.rest[len..];
        Ok(param)
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = self.next_param();
        if item.is_err() {
            self.rest = &[];
        }
        Some(item)
    }
}

/// A parameter this codec does not interpret, kept whole so nothing the reader sent is
/// lost and it can be re-emitted byte for byte.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawParam {
    /// Its type number (TV 1..=127 or TLV 128..=1023).
    pub param_type: u16,
    /// The whole encoded parameter (TV type byte or TLV header included).
    pub bytes: alloc::vec::Vec<u8>,
}

#[cfg(feature = "alloc")]
impl RawParam {
    /// Copies a borrowed parameter.
    pub fn from_param(param: &Param<'_>) -> Self {
        RawParam {
            param_type: param.param_type(),
            bytes: param.raw().to_vec(),
        }
    }

    /// Writes the parameter back unchanged.
    pub fn emit(&self, w: &mut super::cursor::Writer<'_>) -> Result<()> {
        w.bytes(&self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    // TagReportData body from the real Impinj capture: EPC-96, AntennaID, PeakRSSI,
    // FirstSeenTimestampUTC, TagSeenCount.
    static TAG_REPORT_DATA: [u8; 34] = [
        0x00, 0xf0, 0x00, 0x22, 0x8d, 0x30, 0x05, 0xfb, 0x63, 0xac, 0x1f, 0x38, 0x41, 0xec, 0x88,
        0x04, 0x67, 0x81, 0x00, 0x01, 0x86, 0xce, 0x82, 0x00, 0x04, 0xec, 0x2e, 0xa8, 0x35, 0x4c,
        0x09, 0x88, 0x00, 0x01,
    ];

    #[test]
    fn deconstruct_tlv_header() {
        let tlv = Tlv::new_checked(&TAG_REPORT_DATA[..]).unwrap();
        assert_eq!(tlv.param_type(), 240);
        assert_eq!(tlv.length(), 34);
        assert_eq!(tlv.value().len(), 30);
    }

    #[test]
    fn construct_tlv_header() {
        let mut buf = [0u8; 4];
        let mut tlv = Tlv::new_unchecked(&mut buf[..]);
        tlv.set_param_type(240);
        tlv.set_length(34);
        assert_eq!(buf, TAG_REPORT_DATA[..4]);
    }

    #[test]
    fn walk_yields_tv_types_in_order() {
        let tlv = Tlv::new_checked(&TAG_REPORT_DATA[..]).unwrap();
        let types: Vec<u16> = Params::new(tlv.value())
            .map(|p| p.unwrap().param_type())
            .collect();
        assert_eq!(types, [13, 1, 6, 2, 8]);
    }

    #[test]
    fn unknown_tv_ends_the_walk_with_an_error() {
        let list = [0x81, 0x00, 0x01, 0xff, 0x00, 0x86, 0xce];
        let mut walk = Params::new(&list);
        assert!(walk.next().unwrap().is_ok());
        assert_eq!(
            walk.next().unwrap(),
            Err(Error::Unsupported("TV parameter of unknown size"))
        );
        assert!(walk.next().is_none());
    }

    #[test]
    fn tlv_claiming_more_than_the_list_is_truncated() {
        let list = [0x00, 0xf0, 0x00, 0x40, 0x00];
        assert_eq!(Params::new(&list).next().unwrap(), Err(Error::Truncated));
        let short = [0x00, 0xf0, 0x00, 0x02];
        assert!(matches!(
            Params::new(&short).next().unwrap(),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn custom_parameter_exposes_vendor_and_subtype() {
        let p = [
            0x03, 0xff, 0x00, 0x0e, 0x00, 0x00, 0x65, 0x1a, 0x00, 0x00, 0x00, 0x39, 0xee, 0x55,
        ];
        let param = Params::new(&p).next().unwrap().unwrap();
        let c = param.custom().unwrap().unwrap();
        assert_eq!(
            (c.vendor, c.subtype, c.payload),
            (25882, 57, &[0xee, 0x55][..])
        );
    }
}
