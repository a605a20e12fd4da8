//! Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999), by hand and without alloc.
//!
//! COBS removes every `0x00` from a frame so that `0x00` can mark frame ends on the wire:
//! after line noise a receiver resynchronizes at the next `0x00`, whatever the payload held.
//! The encoded form is a chain of blocks `code, data[code-1]`: a block with `code < 0xFF`
//! stands for its data followed by one zero (dropped after the last block), a block with
//! `code == 0xFF` for 254 non-zero bytes with no zero after them. The cost is at most one
//! byte per 254 bytes plus one ([`max_encoded_len`]).
use crate::error::{Error, Result};

/// The largest encoding of `len` bytes: `len + len / 254 + 1`.
pub const fn max_encoded_len(len: usize) -> usize {
    len + len / 254 + 1
}

/// Encodes `input` into `out` (no delimiter); returns the encoded length.
///
/// Fails with [`Error::BufferTooSmall`] when `out` is shorter than needed; size `out` with
/// [`max_encoded_len`] to never fail.
pub fn encode(input: &[u8], out: &mut [u8]) -> Result<usize> {
    let mut encoder = Encoder::new();
    for &byte in input {
        encoder.push(out, byte)?;
    }
    encoder.finish(out)
}

/// Encodes `buf[src..]` into the front of the same buffer, so a frame emitted at the tail
/// of a transmit buffer is stuffed without a second buffer. Safe (never overwrites a byte
/// not yet read) when `src >= 1 + (buf.len() - src) / 254`, which holds whenever
/// `buf.len() >= max_encoded_len(buf.len() - src)`; otherwise [`Error::BufferTooSmall`].
pub fn encode_within(buf: &mut [u8], src: usize) -> Result<usize> {
    let len = buf.len().checked_sub(src).ok_or(Error::BufferTooSmall)?;
    if src < 1 + len / 254 {
        return Err(Error::BufferTooSmall);
    }
    let mut encoder = Encoder::new();
    for i in src..buf.len() {
        let byte = buf[i];
        encoder.push(buf, byte)?;
    }
    encoder.finish(buf)
}

/// A byte-at-a-time COBS encoder writing into a caller's buffer: the building block of
/// [`encode`] and [`encode_within`], and usable on its own to stuff a frame as it is
/// produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoder {
    code_at: usize,
    write: usize,
    code: u8,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// An encoder that starts writing at `out[0]`.
    pub const fn new() -> Self {
        Encoder {
            code_at: 0,
            write: 1,
            code: 1,
        }
    }

    /// Encodes one more byte.
    pub fn push(&mut self, out: &mut [u8], byte: u8) -> Result<()> {
        if byte == 0 {
            return self.next_block(out);
        }
        *out.get_mut(self.write).ok_or(Error::BufferTooSmall)? = byte;
        self.write += 1;
        self.code += 1;
        if self.code == 0xFF {
            self.next_block(out)?;
        }
        Ok(())
    }

    /// Closes the last block; returns the encoded length.
    pub fn finish(self, out: &mut [u8]) -> Result<usize> {
        *out.get_mut(self.code_at).ok_or(Error::BufferTooSmall)? = self.code;
        Ok(self.write)
    }

    fn next_block(&mut self, out: &mut [u8]) -> Result<()> {
        *out.get_mut(self.code_at).ok_or(Error::BufferTooSmall)? = self.code;
        self.code_at = self.write;
        self.write += 1;
        self.code = 1;
        Ok(())
    }
}

/// Decodes one COBS frame (without its delimiter) from `input` into `out`; returns the
/// decoded length. `out` never needs to be longer than `input`.
///
/// Errors: [`Error::Truncated`] for an empty input or a block that runs past the end,
/// [`Error::Malformed`] for a `0x00` inside the frame, [`Error::BufferTooSmall`] when `out`
/// is too short.
pub fn decode(input: &[u8], out: &mut [u8]) -> Result<usize> {
    let end = decoded_len(input)?;
    let out = out.get_mut(..end).ok_or(Error::BufferTooSmall)?;
    let mut read = 0;
    let mut write = 0;
    while read < input.len() {
        let code = usize::from(input[read]);
        let data = &input[read + 1..read + code];
        out[write..write + data.len()].copy_from_slice(data);
        write += data.len();
        read += code;
        if code != 0xFF && read < input.len() {
            out[write] = 0;
            write += 1;
        }
    }
    Ok(write)
}

/// Decodes a COBS frame in place (the decoded bytes never overtake the encoded ones);
/// returns the decoded length, the frame being `buf[..len]`.
pub fn decode_in_place(buf: &mut [u8]) -> Result<usize> {
    decoded_len(buf)?;
    let mut read = 0;
    let mut write = 0;
    while read < buf.len() {
        let code = usize::from(buf[read]);
        buf.copy_within(read + 1..read + code, write);
        write += code - 1;
        read += code;
        if code != 0xFF && read < buf.len() {
            buf[write] = 0;
            write += 1;
        }
    }
    Ok(write)
}

/// Validates the block chain and returns the decoded length, so the copying loops above
/// index only inside checked bounds.
fn decoded_len(input: &[u8]) -> Result<usize> {
    if input.is_empty() {
        return Err(Error::Truncated);
    }
    let mut read = 0;
    let mut len = 0usize;
    while read < input.len() {
        let code = usize::from(input[read]);
        if code == 0 {
            return Err(Error::Malformed("COBS: zero byte inside a frame"));
        }
        let block = input.get(read + 1..read + code).ok_or(Error::Truncated)?;
        if block.contains(&0) {
            return Err(Error::Malformed("COBS: zero byte inside a frame"));
        }
        len += block.len();
        read += code;
        if code != 0xFF && read < input.len() {
            len += 1;
        }
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    // Linked explicitly so these tests also run with `--no-default-features`.
    extern crate std;

    use super::*;
    use proptest::prelude::*;

    fn round_trip(data: &[u8]) -> ([u8; 2048], usize) {
        let mut enc = [0u8; 2048];
        let n = encode(data, &mut enc).unwrap();
        assert!(n <= max_encoded_len(data.len()));
        assert!(!enc[..n].contains(&0), "encoding must hold no zero");
        let mut dec = [0u8; 2048];
        let m = decode(&enc[..n], &mut dec).unwrap();
        assert_eq!(&dec[..m], data);
        let mut inplace = enc;
        let k = decode_in_place(&mut inplace[..n]).unwrap();
        assert_eq!(&inplace[..k], data);
        (enc, n)
    }

    #[test]
    fn empty_input_encodes_to_single_code_byte() {
        let (enc, n) = round_trip(&[]);
        assert_eq!(&enc[..n], &[0x01]);
    }

    #[test]
    fn wikipedia_examples_encode_exactly() {
        let cases: [(&[u8], &[u8]); 5] = [
            (&[0x00], &[0x01, 0x01]),
            (&[0x00, 0x00], &[0x01, 0x01, 0x01]),
            (&[0x00, 0x11, 0x00], &[0x01, 0x02, 0x11, 0x01]),
            (&[0x11, 0x22, 0x00, 0x33], &[0x03, 0x11, 0x22, 0x02, 0x33]),
            (&[0x11, 0x00, 0x00, 0x00], &[0x02, 0x11, 0x01, 0x01, 0x01]),
        ];
        for (raw, expected) in cases {
            let (enc, n) = round_trip(raw);
            assert_eq!(&enc[..n], expected, "encoding {raw:02x?}");
        }
    }

    #[test]
    fn all_zeros_become_all_ones() {
        let (enc, n) = round_trip(&[0u8; 300]);
        assert_eq!(n, 301);
        assert!(enc[..n].iter().all(|&b| b == 0x01));
    }

    #[test]
    fn run_of_254_non_zero_bytes_takes_a_full_block_and_a_trailing_code() {
        let data: [u8; 254] = core::array::from_fn(|i| (i % 255 + 1) as u8);
        let (enc, n) = round_trip(&data);
        assert_eq!(n, 256);
        assert_eq!(enc[0], 0xFF);
        assert_eq!(enc[255], 0x01);
    }

    #[test]
    fn run_of_255_non_zero_bytes_splits_after_254() {
        let data = [0x42u8; 255];
        let (enc, n) = round_trip(&data);
        assert_eq!(n, 257);
        assert_eq!(enc[0], 0xFF);
        assert_eq!(&enc[255..257], &[0x02, 0x42]);
    }

    #[test]
    fn full_block_without_trailing_code_also_decodes() {
        let mut enc = [0x42u8; 255];
        enc[0] = 0xFF;
        let mut out = [0u8; 255];
        assert_eq!(decode(&enc, &mut out), Ok(254));
        assert!(out[..254].iter().all(|&b| b == 0x42));
    }

    #[test]
    fn bad_encodings_are_errors_not_panics() {
        let mut out = [0u8; 16];
        assert_eq!(decode(&[], &mut out), Err(Error::Truncated));
        assert_eq!(decode(&[0x05, 1, 2], &mut out), Err(Error::Truncated));
        assert!(matches!(
            decode(&[0x03, 1, 0], &mut out),
            Err(Error::Malformed(_))
        ));
        assert!(matches!(
            decode(&[0x00], &mut out),
            Err(Error::Malformed(_))
        ));
        assert_eq!(
            decode(&[0x03, 1, 2, 0x02, 3], &mut [0u8; 3]),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn encoder_reports_a_short_output_buffer() {
        assert_eq!(
            encode(&[1, 2, 3], &mut [0u8; 3]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(encode(&[1, 2, 3], &mut [0u8; 4]), Ok(4));
    }

    #[test]
    fn encode_within_matches_encode_into_a_separate_buffer() {
        let data: [u8; 600] = core::array::from_fn(|i| if i % 97 == 0 { 0 } else { i as u8 | 1 });
        let (enc, n) = round_trip(&data);
        let mut buf = [0xAAu8; 605];
        buf[5..].copy_from_slice(&data);
        assert_eq!(encode_within(&mut buf, 5), Ok(n));
        assert_eq!(&buf[..n], &enc[..n]);
        assert_eq!(encode_within(&mut buf, 1), Err(Error::BufferTooSmall));
    }

    proptest! {
        #[test]
        fn encode_within_equals_encode(data in proptest::collection::vec(any::<u8>(), 0..1100)) {
            let (enc, n) = round_trip(&data);
            let src = max_encoded_len(data.len()) - data.len();
            let mut buf = std::vec![0u8; src];
            buf.extend_from_slice(&data);
            prop_assert_eq!(encode_within(&mut buf, src), Ok(n));
            prop_assert_eq!(&buf[..n], &enc[..n]);
        }

        #[test]
        fn any_bytes_round_trip(data in proptest::collection::vec(any::<u8>(), 0..1100)) {
            round_trip(&data);
        }

        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut out = [0u8; 600];
            let _ = decode(&data, &mut out);
            let mut copy = data.clone();
            let _ = decode_in_place(&mut copy);
        }
    }
}
