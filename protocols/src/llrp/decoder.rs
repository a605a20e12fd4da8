//! Streaming decoder: LLRP messages out of a TCP byte stream (or a recording of one).
//!
//! LLRP has no magic word or checksum, so a message start is recognised by its header:
//! reserved bits 0, version 1, a message type the LLRP 1.0.1 table defines, and a length
//! between 10 and the decoder's limit ([`Header::is_plausible`]). Where no plausible
//! header starts, the decoder advances byte by byte (jumping to the next byte that could
//! start a version-1 header) and counts the bytes skipped.
//!
//! A plausible header is trusted for framing: when the body then fails to parse, the
//! whole frame is rejected (counted in `frames_rejected`, reason in `last_error`) and
//! decoding continues after it; nothing is yielded for it. A message of a type without a
//! typed decoder is not an error: it is yielded with a raw body. At end of input, a
//! header whose claimed length runs past the data is taken as garbage: one byte is
//! skipped and the hunt continues, so messages after a false header are still found.
use super::header::{Header, HEADER_LEN};
use super::message::Message;
use crate::stream::{ByteBuf, StreamDecoder, StreamStats};

/// Default bound on one message (and so on the buffer): 1 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 1 << 20;

/// Turns a byte stream into [`Message`]s; buffers at most one maximal message.
#[derive(Debug, Clone)]
pub struct MessageDecoder {
    buf: ByteBuf,
    stats: StreamStats,
    finished: bool,
}

impl Default for MessageDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageDecoder {
    /// A decoder accepting messages up to [`DEFAULT_MAX_MESSAGE`] bytes.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_MAX_MESSAGE)
    }

    /// A decoder accepting messages up to `max_message_bytes` (at least a header); a
    /// header claiming more is treated as garbage.
    pub fn with_limit(max_message_bytes: usize) -> Self {
        MessageDecoder {
            buf: ByteBuf::with_limit(max_message_bytes.max(HEADER_LEN)),
            stats: StreamStats::default(),
            finished: false,
        }
    }

    /// The largest message accepted.
    pub fn limit(&self) -> usize {
        self.buf.limit()
    }

    /// Skips `n` buffered bytes as garbage.
    fn skip(&mut self, n: usize) {
        self.stats.skip(n);
        self.buf.consume(n);
    }

    /// Bytes before the next position that could start a version-1 header (first byte
    /// 0x04..=0x07), at least 1.
    fn garbage_run(data: &[u8]) -> usize {
        data.iter()
            .skip(1)
            .position(|b| b & 0xfc == 0x04)
            .map_or(data.len(), |p| p + 1)
    }
}

/// What the front of the buffer holds.
enum Front {
    /// A whole message of this length.
    Frame(usize),
    /// Garbage: skip this many bytes.
    Garbage(usize),
    /// Possibly the start of a message: wait for more bytes.
    Incomplete,
}

impl MessageDecoder {
    fn classify_front(&self) -> Front {
        let data = self.buf.as_slice();
        if data.is_empty() {
            return Front::Incomplete;
        }
        if data[0] & 0xfc != 0x04 {
            return Front::Garbage(Self::garbage_run(data));
        }
        let Ok(header) = Header::new_checked(data) else {
            return if self.finished {
                Front::Garbage(1)
            } else {
                Front::Incomplete
            };
        };
        if !header.is_plausible(self.buf.limit()) {
            return Front::Garbage(1);
        }
        let len = header.length() as usize;
        if data.len() >= len {
            Front::Frame(len)
        } else if self.finished || self.buf.is_full() {
            Front::Garbage(1)
        } else {
            Front::Incomplete
        }
    }
}

impl StreamDecoder for MessageDecoder {
    type Item = Message;

    fn push(&mut self, input: &[u8]) -> usize {
        let taken = self.buf.push(input);
        self.stats.bytes_in += taken as u64;
        taken
    }

    fn next_item(&mut self) -> Option<Message> {
        loop {
            match self.classify_front() {
                Front::Incomplete => return None,
                Front::Garbage(n) => self.skip(n),
                Front::Frame(len) => {
                    let parsed =
                        Message::parse(&Header::new_unchecked(&self.buf.as_slice()[..len]));
                    self.buf.consume(len);
                    match parsed {
                        Ok(message) => {
                            self.stats.accept(len);
                            return Some(message);
                        }
                        Err(e) => self.stats.reject(len, e),
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        self.finished = true;
    }

    fn stats(&self) -> &StreamStats {
        &self.stats
    }
}
