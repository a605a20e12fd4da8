//! GET_READER_CAPABILITIES_RESPONSE: who made the reader and what it can do.
//! Only GeneralDeviceCapabilities' identity fields are interpreted; the other
//! capability parameters are kept raw.
use alloc::string::String;
use alloc::vec::Vec;

use super::cursor::{FieldReader, Writer};
use super::param::{Params, RawParam};
use super::status::{Status, LLRP_STATUS};
use crate::error::{Error, Result};

/// TLV type of GeneralDeviceCapabilities.
pub const GENERAL_DEVICE_CAPABILITIES: u16 = 137;

/// GeneralDeviceCapabilities: the identity fields, its sub-parameters (sensitivity
/// table, GPIO, per-antenna protocols) kept raw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DeviceCapabilities {
    /// MaxNumberOfAntennaSupported.
    pub max_antennas: u16,
    /// CanSetAntennaProperties (bit 15) and HasUTCClockCapability (bit 14).
    pub flags: u16,
    /// DeviceManufacturerName: the vendor's IANA PEN (25882 = Impinj).
    pub manufacturer: u32,
    /// ModelName: vendor-defined model number.
    pub model: u32,
    /// ReaderFirmwareVersion.
    pub firmware_version: String,
    /// The sub-parameters, raw, in order.
    pub sub_params: Vec<RawParam>,
}

impl DeviceCapabilities {
    /// Parses the value of a GeneralDeviceCapabilities parameter.
    pub fn parse(value: &[u8]) -> Result<Self> {
        let mut r = FieldReader::new(value);
        let mut caps = DeviceCapabilities {
            max_antennas: r.u16()?,
            flags: r.u16()?,
            manufacturer: r.u32()?,
            model: r.u32()?,
            firmware_version: String::from(r.utf8v()?),
            sub_params: Vec::new(),
        };
        for param in Params::new(r.rest()) {
            caps.sub_params.push(RawParam::from_param(&param?));
        }
        Ok(caps)
    }
}

/// A GET_READER_CAPABILITIES_RESPONSE body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// LLRPStatus.
    pub status: Status,
    /// GeneralDeviceCapabilities, when sent.
    pub general: Option<DeviceCapabilities>,
    /// Other capability parameters (LLRP, regulatory, air protocol, customs), raw.
    pub other: Vec<RawParam>,
}

impl Capabilities {
    /// Parses a GET_READER_CAPABILITIES_RESPONSE body.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let mut caps = Capabilities::default();
        let mut status = None;
        for param in Params::new(body) {
            let param = param?;
            match param.param_type() {
                LLRP_STATUS => status = Some(Status::parse(param.value())?),
                GENERAL_DEVICE_CAPABILITIES => {
                    caps.general = Some(DeviceCapabilities::parse(param.value())?);
                }
                _ => caps.other.push(RawParam::from_param(&param)),
            }
        }
        caps.status = status.ok_or(Error::Malformed("capabilities without LLRPStatus"))?;
        Ok(caps)
    }

    /// Emits the body: status, GeneralDeviceCapabilities, raw parameters.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        self.status.emit(w)?;
        if let Some(g) = &self.general {
            let t = w.begin_tlv(GENERAL_DEVICE_CAPABILITIES)?;
            w.u16(g.max_antennas)?;
            w.u16(g.flags)?;
            w.u32(g.manufacturer)?;
            w.u32(g.model)?;
            w.utf8v(&g.firmware_version)?;
            for raw in &g.sub_params {
                raw.emit(w)?;
            }
            w.end_tlv(t)?;
        }
        for raw in &self.other {
            raw.emit(w)?;
        }
        Ok(())
    }
}
