//! LLRPStatus (TLV 287): the result every *_RESPONSE and ERROR_MESSAGE carries.
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::cursor::{FieldReader, Writer};
use super::param::{Param, Params, RawParam};
use crate::error::{Error, Result};

/// TLV type of LLRPStatus.
pub const LLRP_STATUS: u16 = 287;

/// Status codes a client acts on (LLRP 1.0.1 §14.2.2; others are kept as numbers).
pub mod code {
    /// M_Success.
    pub const SUCCESS: u16 = 0;
    /// M_ParameterError.
    pub const PARAMETER_ERROR: u16 = 100;
    /// M_FieldError.
    pub const FIELD_ERROR: u16 = 101;
    /// M_UnsupportedMessage.
    pub const UNSUPPORTED_MESSAGE: u16 = 109;
    /// M_UnsupportedVersion.
    pub const UNSUPPORTED_VERSION: u16 = 110;
}

/// A reader's answer to a request: a status code and a human description, with the
/// optional FieldError/ParameterError sub-parameters kept raw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Status {
    /// StatusCode (0 = M_Success).
    pub code: u16,
    /// ErrorDescription (empty on success).
    pub description: String,
    /// FieldError / ParameterError sub-parameters, raw.
    pub details: Vec<RawParam>,
}

impl Status {
    /// The M_Success status a reader sends when a request worked.
    pub fn success() -> Self {
        Status::default()
    }

    /// True for M_Success.
    pub fn is_success(&self) -> bool {
        self.code == code::SUCCESS
    }

    /// Parses the value of an LLRPStatus parameter.
    pub fn parse(value: &[u8]) -> Result<Self> {
        let mut r = FieldReader::new(value);
        let code = r.u16()?;
        let description = String::from(r.utf8v()?);
        let mut details = Vec::new();
        for param in Params::new(r.rest()) {
            details.push(RawParam::from_param(&param?));
        }
        Ok(Status {
            code,
            description,
            details,
        })
    }

    /// Finds and parses the LLRPStatus in a parameter list.
    pub fn find_in(list: &[u8]) -> Result<Self> {
        for param in Params::new(list) {
            if let Param::Tlv {
                param_type: LLRP_STATUS,
                value,
                ..
            } = param?
            {
                return Status::parse(value);
            }
        }
        Err(Error::Malformed("response without LLRPStatus"))
    }

    /// Emits the whole LLRPStatus parameter.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let t = w.begin_tlv(LLRP_STATUS)?;
        w.u16(self.code)?;
        w.utf8v(&self.description)?;
        for raw in &self.details {
            raw.emit(w)?;
        }
        w.end_tlv(t)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_success() {
            write!(f, "Success")
        } else {
            write!(f, "error {} \"{}\"", self.code, self.description)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static OK: [u8; 8] = [0x01, 0x1f, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00];

    #[test]
    fn ok_status_parses_and_emits_spec_bytes() {
        assert_eq!(Status::find_in(&OK).unwrap(), Status::success());
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        Status::success().emit(&mut w).unwrap();
        assert_eq!(buf, OK);
    }

    #[test]
    fn error_status_keeps_code_and_description() {
        let bytes = [
            0x01, 0x1f, 0x00, 0x0b, 0x00, 0x64, 0x00, 0x03, b'b', b'a', b'd',
        ];
        let s = Status::find_in(&bytes).unwrap();
        assert_eq!(
            (s.code, s.description.as_str()),
            (code::PARAMETER_ERROR, "bad")
        );
    }
}
