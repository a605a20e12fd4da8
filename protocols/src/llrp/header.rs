//! The 10-byte header that starts every LLRP message.
//!
//! ```text
//! bits: 3 reserved | 3 version | 10 message type,  u32 length (whole message), u32 message ID
//! ```
//! All big-endian. There is no magic word: the streaming decoder recognises a header by
//! its version, type and length (see [`Header::is_plausible`]).
use crate::error::{Error, Result};

/// Byte ranges of the header fields.
mod field {
    use core::ops::Range;
    /// Reserved bits, version and message type.
    pub const TYPE: Range<usize> = 0..2;
    /// Length of the whole message, header included.
    pub const LENGTH: Range<usize> = 2..6;
    /// Message ID (responses echo the request's).
    pub const ID: Range<usize> = 6..10;
}

/// Size of the message header.
pub const HEADER_LEN: usize = field::ID.end;

/// The protocol version this codec speaks (LLRP 1.0.1).
pub const VERSION: u8 = 1;

/// A read/write view over one LLRP message (header plus body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        Header { buffer }
    }

    /// Wraps a buffer that holds at least a header; the body may be incomplete.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the buffer holds a whole header.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Releases the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn type_word(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::TYPE];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The three reserved bits (0 on the wire).
    pub fn reserved(&self) -> u8 {
        (self.type_word() >> 13) as u8
    }

    /// Protocol version (1 = LLRP 1.0.1).
    pub fn version(&self) -> u8 {
        ((self.type_word() >> 10) & 0x7) as u8
    }

    /// Message type number (10 bits).
    pub fn message_type(&self) -> u16 {
        self.type_word() & 0x3ff
    }

    /// Length of the whole message in bytes, header included.
    pub fn length(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::LENGTH];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Message ID.
    pub fn message_id(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::ID];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// True when the header could start a message of at most `limit` bytes: reserved bits
    /// zero, version 1, a type the LLRP 1.0.1 message table defines, and a length between
    /// the header size and `limit`. This is the resync heuristic of the streaming decoder.
    pub fn is_plausible(&self, limit: usize) -> bool {
        let len = self.length() as usize;
        self.reserved() == 0
            && self.version() == VERSION
            && super::message_type::is_defined(self.message_type())
            && len >= HEADER_LEN
            && len <= limit
    }

    /// The body, when the buffer holds the whole message the length field claims.
    pub fn body(&self) -> Result<&[u8]> {
        let len = self.length() as usize;
        if len < HEADER_LEN {
            return Err(Error::Malformed("message length shorter than its header"));
        }
        self.buffer
            .as_ref()
            .get(HEADER_LEN..len)
            .ok_or(Error::Truncated)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    fn set_type_word(&mut self, value: u16) {
        self.buffer.as_mut()[field::TYPE].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets version and message type (reserved bits cleared).
    pub fn set_version_and_type(&mut self, version: u8, message_type: u16) {
        self.set_type_word((u16::from(version & 0x7) << 10) | (message_type & 0x3ff));
    }

    /// Sets the length of the whole message.
    pub fn set_length(&mut self, value: u32) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the message ID.
    pub fn set_message_id(&mut self, value: u32) {
        self.buffer.as_mut()[field::ID].copy_from_slice(&value.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // KEEPALIVE_ACK with ID 98, from the spec's connection log.
    static KEEPALIVE_ACK: [u8; 10] = [0x04, 0x48, 0, 0, 0, 0x0a, 0, 0, 0, 0x62];

    #[test]
    fn deconstruct_reads_type_length_and_id() {
        let h = Header::new_checked(&KEEPALIVE_ACK[..]).unwrap();
        assert_eq!(h.reserved(), 0);
        assert_eq!(h.version(), 1);
        assert_eq!(h.message_type(), 72);
        assert_eq!(h.length(), 10);
        assert_eq!(h.message_id(), 98);
        assert_eq!(h.body().unwrap(), &[] as &[u8]);
        assert!(h.is_plausible(1 << 20));
    }

    #[test]
    fn construct_writes_spec_bytes() {
        let mut buf = [0u8; 10];
        let mut h = Header::new_unchecked(&mut buf[..]);
        h.set_version_and_type(1, 72);
        h.set_length(10);
        h.set_message_id(98);
        assert_eq!(buf, KEEPALIVE_ACK);
    }

    #[test]
    fn short_buffer_is_truncated_and_long_claim_is_implausible() {
        assert_eq!(
            Header::new_checked(&KEEPALIVE_ACK[..9]),
            Err(Error::Truncated)
        );
        let mut buf = KEEPALIVE_ACK;
        buf[5] = 0x20;
        let h = Header::new_checked(&buf[..]).unwrap();
        assert_eq!(h.body(), Err(Error::Truncated));
        assert!(!h.is_plausible(16));
        buf[0] = 0x08; // version 2
        assert!(!Header::new_checked(&buf[..]).unwrap().is_plausible(1 << 20));
    }
}
