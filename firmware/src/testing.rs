//! Test doubles shared by the unit tests: a link that records, a clock that is set by hand.
extern crate std;
use core::cell::Cell;
use std::vec::Vec;

use dagr_protocols::node::{Frame, FrameDecoder};
use dagr_protocols::stream::{decode_all, StreamDecoder};

use crate::port::{Clock, Link, LinkError};

/// Records every byte written; can be told to fail after a number of bytes.
#[derive(Debug, Default)]
pub struct RecordingLink {
    pub bytes: Vec<u8>,
    pub fail_after: Option<usize>,
}

impl Link for RecordingLink {
    fn write(&mut self, bytes: &[u8]) -> Result<usize, LinkError> {
        match self.fail_after {
            Some(0) => Err(LinkError::Disconnected),
            Some(left) => {
                let n = left.min(bytes.len());
                self.bytes.extend_from_slice(&bytes[..n]);
                self.fail_after = Some(left - n);
                Ok(n)
            }
            None => {
                self.bytes.extend_from_slice(bytes);
                Ok(bytes.len())
            }
        }
    }
}

/// A clock that reads what the test set, and advances by `step` on every read (so
/// consecutive reads differ, as on hardware).
#[derive(Debug, Default)]
pub struct FakeClock {
    pub now: Cell<u64>,
    pub step: u64,
}

impl Clock for FakeClock {
    fn now_us(&self) -> u64 {
        let now = self.now.get();
        self.now.set(now + self.step);
        now
    }
}

/// Decodes a recorded byte stream with the host's decoder; panics on any rejected frame.
pub fn decode(bytes: &[u8]) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new();
    let mut frames = Vec::new();
    decode_all(&mut decoder, bytes, |f| frames.push(f));
    assert_eq!(decoder.stats().frames_rejected, 0, "{:?}", decoder.stats());
    frames
}

/// The same wire frame with its CRC damaged (content intact, COBS valid).
pub fn with_bad_crc(wire: &[u8]) -> Vec<u8> {
    use dagr_protocols::node::cobs;
    let body = wire.iter().position(|&b| b != 0).unwrap_or(0);
    let end = wire.len() - 1;
    let mut frame = std::vec![0u8; end - body];
    let n = cobs::decode(&wire[body..end], &mut frame).unwrap();
    frame[n - 1] ^= 0x01;
    let mut out = std::vec![0u8; cobs::max_encoded_len(n) + 1];
    let m = cobs::encode(&frame[..n], &mut out).unwrap();
    out.truncate(m);
    out.push(0);
    [&wire[..body], &out[..]].concat()
}
