//! Big-endian field readers and writers shared by every LLRP structure.
//!
//! [`FieldReader`] walks the fixed fields at the start of a parameter or message body;
//! [`Writer`] emits messages and nested TLV parameters into a caller's buffer, patching
//! each TLV's length when it is closed, and can run in a measuring mode that only counts
//! bytes (how `buffer_len` is computed without a second implementation).
use crate::error::{Error, Result};

/// Reads big-endian fields from the front of a byte slice; a short slice is
/// [`Error::Truncated`].
#[derive(Debug, Clone, Copy)]
pub struct FieldReader<'a> {
    rest: &'a [u8],
}

impl<'a> FieldReader<'a> {
    /// Starts reading at the beginning of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        FieldReader { rest: bytes }
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(Error::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// Reads a u8.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads an LLRP `utf8v`: u16 byte count then UTF-8 bytes.
    pub fn utf8v(&mut self) -> Result<&'a str> {
        let n = self.u16()? as usize;
        core::str::from_utf8(self.bytes(n)?).map_err(|_| Error::Malformed("string is not UTF-8"))
    }

    /// Reads an LLRP `u1v` bit array: u16 bit count then ceil(bits/8) bytes.
    pub fn u1v(&mut self) -> Result<(u16, &'a [u8])> {
        let bits = self.u16()?;
        let bytes = self.bytes(usize::from(bits).div_ceil(8))?;
        Ok((bits, bytes))
    }

    /// What has not been read yet (typically the sub-parameter list).
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// Writes big-endian fields into a caller's buffer, or only counts them.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    measuring: bool,
}

impl<'a> Writer<'a> {
    /// Writes into `buf`; running out of room is [`Error::BufferTooSmall`].
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            pos: 0,
            measuring: false,
        }
    }

    /// Bytes written (or counted) so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, data: &[u8]) -> Result<()> {
        let end = self
            .pos
            .checked_add(data.len())
            .ok_or(Error::BufferTooSmall)?;
        if !self.measuring {
            self.buf
                .get_mut(self.pos..end)
                .ok_or(Error::BufferTooSmall)?
                .copy_from_slice(data);
        }
        self.pos = end;
        Ok(())
    }

    /// Appends a u8.
    pub fn u8(&mut self, v: u8) -> Result<()> {
        self.bytes(&[v])
    }

    /// Appends a big-endian u16.
    pub fn u16(&mut self, v: u16) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian u32.
    pub fn u32(&mut self, v: u32) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian u64.
    pub fn u64(&mut self, v: u64) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends an LLRP `utf8v` string.
    pub fn utf8v(&mut self, s: &str) -> Result<()> {
        let n = u16::try_from(s.len()).map_err(|_| Error::Malformed("string longer than 65535"))?;
        self.u16(n)?;
        self.bytes(s.as_bytes())
    }

    /// Overwrites a big-endian u16 at `at` (a length written after its content).
    fn patch_u16(&mut self, at: usize, v: u16) -> Result<()> {
        if !self.measuring {
            self.buf
                .get_mut(at..at + 2)
                .ok_or(Error::BufferTooSmall)?
                .copy_from_slice(&v.to_be_bytes());
        }
        Ok(())
    }

    /// Overwrites a big-endian u32 at `at`.
    fn patch_u32(&mut self, at: usize, v: u32) -> Result<()> {
        if !self.measuring {
            self.buf
                .get_mut(at..at + 4)
                .ok_or(Error::BufferTooSmall)?
                .copy_from_slice(&v.to_be_bytes());
        }
        Ok(())
    }

    /// Opens a TLV parameter of `param_type`; close it with [`end_tlv`](Self::end_tlv).
    pub fn begin_tlv(&mut self, param_type: u16) -> Result<usize> {
        let start = self.pos;
        self.u16(param_type & 0x3ff)?;
        self.u16(0)?;
        Ok(start)
    }

    /// Closes the TLV opened at `start`, writing its length.
    pub fn end_tlv(&mut self, start: usize) -> Result<()> {
        let len = u16::try_from(self.pos - start)
            .map_err(|_| Error::Malformed("parameter longer than 65535 bytes"))?;
        self.patch_u16(start + 2, len)
    }

    /// Opens a message of `message_type` with `id`; close it with
    /// [`end_message`](Self::end_message).
    pub fn begin_message(&mut self, message_type: u16, id: u32) -> Result<usize> {
        let start = self.pos;
        self.u16((u16::from(super::VERSION) << 10) | (message_type & 0x3ff))?;
        self.u32(0)?;
        self.u32(id)?;
        Ok(start)
    }

    /// Closes the message opened at `start`, writing its length.
    pub fn end_message(&mut self, start: usize) -> Result<()> {
        let len = u32::try_from(self.pos - start)
            .map_err(|_| Error::Malformed("message longer than 4 GiB"))?;
        self.patch_u32(start + 2, len)
    }
}

impl Writer<'static> {
    /// A writer that stores nothing and only counts: `position()` is then the size
    /// the same calls would need.
    pub fn measuring() -> Self {
        Writer {
            buf: &mut [],
            pos: 0,
            measuring: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reads_big_endian_and_reports_truncation() {
        let mut r = FieldReader::new(&[0x01, 0x02, 0x03, 0x00, 0x02, b'h', b'i', 0xff]);
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert_eq!(r.u8().unwrap(), 3);
        assert_eq!(r.utf8v().unwrap(), "hi");
        assert_eq!(r.u16(), Err(Error::Truncated));
    }

    #[test]
    fn writer_patches_tlv_length_and_measures() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        let t = w.begin_tlv(220).unwrap();
        w.u8(1).unwrap();
        w.end_tlv(t).unwrap();
        assert_eq!(&buf[..5], &[0x00, 0xdc, 0x00, 0x05, 0x01]);
        let mut m = Writer::measuring();
        m.u64(0).unwrap();
        assert_eq!(m.position(), 8);
        let mut small = [0u8; 1];
        assert_eq!(Writer::new(&mut small).u16(1), Err(Error::BufferTooSmall));
    }
}
