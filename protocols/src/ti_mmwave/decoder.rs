//! The streaming decoder for the data port: magic-word scan, whole-packet buffering, resync.
use alloc::vec::Vec;

use super::frame::Frame;
use super::header::{HeaderLayout, MAGIC, PREFIX_LEN};
use super::le::u32_at;
use crate::error::Error;
use crate::stream::{ByteBuf, StreamDecoder, StreamStats};

/// Default bound on buffered bytes, and so on `totalPacketLen`: 256 KiB holds every OOB
/// packet (the largest, a full range-Doppler heatmap, is 256 x 256 x 2 B = 128 KiB + TLVs).
pub const DEFAULT_LIMIT: usize = 256 * 1024;
/// The smallest limit [`FrameDecoder::with_limit`] accepts: one 40-byte header.
pub const MIN_LIMIT: usize = 64;

/// Decodes a data-port byte stream into [`Frame`]s.
///
/// It scans for the 8 magic bytes, reads `totalPacketLen` (which must cover the header and
/// not exceed the limit, else the candidate is skipped one byte at a time), waits for the
/// whole packet and decodes it. A packet whose TLVs overrun it is rejected and the scan
/// resumes right after its magic word, so a real frame hidden behind a corrupt one is found.
/// Bytes outside frames are counted in [`StreamStats::bytes_skipped`].
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: ByteBuf,
    stats: StreamStats,
    finished: bool,
}

/// What the front of the buffer holds after the garbage before a magic word is dropped.
enum Head {
    /// A whole candidate packet of this many bytes.
    Packet(usize),
    /// Not enough bytes yet to decide.
    NeedMore,
    /// A magic word whose length field cannot be a packet (reason given when worth recording).
    BadLength(Option<Error>),
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// A decoder that buffers at most [`DEFAULT_LIMIT`] bytes.
    pub fn new() -> FrameDecoder {
        FrameDecoder::with_limit(DEFAULT_LIMIT)
    }

    /// A decoder that buffers at most `limit` bytes (at least [`MIN_LIMIT`]); packets whose
    /// `totalPacketLen` exceeds it are skipped.
    pub fn with_limit(limit: usize) -> FrameDecoder {
        FrameDecoder {
            buf: ByteBuf::with_limit(limit.max(MIN_LIMIT)),
            stats: StreamStats::default(),
            finished: false,
        }
    }

    /// The bound on buffered bytes and on `totalPacketLen`.
    pub fn limit(&self) -> usize {
        self.buf.limit()
    }

    /// Bytes buffered and not yet decoded or skipped.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops bytes up to the first possible magic word; true when one is at the front.
    fn seek_magic(&mut self) -> bool {
        let bytes = self.buf.as_slice();
        match find_magic(bytes) {
            Some(0) => true,
            Some(at) => {
                self.skip(at);
                true
            }
            None => {
                // Keep a tail that may be the start of a magic word still arriving.
                let keep = if self.finished { 0 } else { magic_prefix_len(bytes) };
                self.skip(bytes.len() - keep);
                false
            }
        }
    }

    fn skip(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.stats.skip(n);
        self.buf.consume(n);
    }

    /// Classifies the candidate packet at the front of the buffer (magic at offset 0).
    fn head(&self) -> Head {
        let bytes = self.buf.as_slice();
        if bytes.len() < PREFIX_LEN {
            return Head::NeedMore;
        }
        let version = u32_at(bytes, 8);
        let platform = u32_at(bytes, 16);
        let total = usize::try_from(u32_at(bytes, 12)).unwrap_or(usize::MAX);
        if total < HeaderLayout::of(version, platform).header_len() {
            return Head::BadLength(None);
        }
        if total > self.buf.limit() {
            return Head::BadLength(Some(Error::TooLong {
                claimed: total,
                limit: self.buf.limit(),
            }));
        }
        if bytes.len() < total {
            return Head::NeedMore;
        }
        Head::Packet(total)
    }

    /// After `finish`, a candidate that can never complete: drop up to the next magic word.
    fn drop_partial(&mut self) {
        let next = self
            .buf
            .as_slice()
            .get(1..)
            .and_then(find_magic)
            .map_or(self.buf.len(), |at| at + 1);
        self.skip(next);
    }
}

impl StreamDecoder for FrameDecoder {
    type Item = Frame;

    fn push(&mut self, input: &[u8]) -> usize {
        let taken = self.buf.push(input);
        self.stats.bytes_in += taken as u64;
        taken
    }

    fn next_item(&mut self) -> Option<Frame> {
        while self.seek_magic() {
            match self.head() {
                Head::Packet(len) => {
                    let parsed = Frame::parse_bytes(self.buf.as_slice().get(..len).unwrap_or(&[]));
                    match parsed {
                        Ok(frame) => {
                            self.stats.accept(len);
                            self.buf.consume(len);
                            return Some(frame);
                        }
                        Err(err) => {
                            self.stats.reject(MAGIC.len(), err);
                            self.buf.consume(MAGIC.len());
                        }
                    }
                }
                Head::BadLength(err) => {
                    if let Some(err) = err {
                        self.stats.last_error = Some(err);
                    }
                    self.skip(1);
                }
                Head::NeedMore if self.finished => self.drop_partial(),
                Head::NeedMore => return None,
            }
        }
        None
    }

    fn finish(&mut self) {
        self.finished = true;
    }

    fn stats(&self) -> &StreamStats {
        &self.stats
    }
}

/// Offset of the first whole magic word in `bytes`: a fast scan for its first byte, then a
/// check of the other seven.
pub fn find_magic(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let rest = bytes.get(from..)?;
        let at = from + rest.iter().position(|&b| b == MAGIC[0])?;
        if bytes.get(at..)?.starts_with(&MAGIC) {
            return Some(at);
        }
        from = at + 1;
    }
}

/// Length of the longest suffix of `bytes` that is a proper prefix of the magic word.
fn magic_prefix_len(bytes: &[u8]) -> usize {
    (1..MAGIC.len())
        .rev()
        .find(|&n| bytes.len() >= n && bytes.ends_with(&MAGIC[..n]))
        .unwrap_or(0)
}

/// Decodes a whole byte slice at once: the frames, and the counters.
pub fn decode_bytes(bytes: &[u8]) -> (Vec<Frame>, StreamStats) {
    let mut decoder = FrameDecoder::new();
    let mut frames = Vec::new();
    crate::stream::decode_all(&mut decoder, bytes, |f| frames.push(f));
    (frames, *decoder.stats())
}
