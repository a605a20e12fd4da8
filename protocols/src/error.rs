//! The one error type every parser in this crate returns.
//!
//! Parsers never panic on input: a short buffer is [`Error::Truncated`], a field with an
//! impossible value is [`Error::Malformed`] naming the field, a failed integrity check is
//! [`Error::Checksum`], and a length field above the decoder's bound is
//! [`Error::TooLong`] (raised before anything is allocated).
use core::fmt;

/// Why a buffer could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer ends before the structure it claims to hold.
    Truncated,
    /// A field holds a value the format does not allow; the text names the field.
    Malformed(&'static str),
    /// An integrity check (CRC, magic word) failed.
    Checksum,
    /// A length field exceeds the bound the decoder was configured with.
    TooLong {
        /// Length the input claimed.
        claimed: usize,
        /// Largest length this decoder accepts.
        limit: usize,
    },
    /// A well-formed structure this codec does not implement (e.g. an unknown version).
    Unsupported(&'static str),
    /// The output buffer given to an `emit` is too small.
    BufferTooSmall,
}

/// Result alias used across the crate.
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => write!(f, "truncated: input ends inside a structure"),
            Error::Malformed(what) => write!(f, "malformed: {what}"),
            Error::Checksum => write!(f, "integrity check failed"),
            Error::TooLong { claimed, limit } => {
                write!(f, "length {claimed} exceeds the limit of {limit} bytes")
            }
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::BufferTooSmall => write!(f, "output buffer too small"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
