//! What every streaming decoder shares: the counters it keeps, the trait it implements,
//! and the bounded byte buffer it accumulates partial frames in.
//!
//! Bytes come off a serial port or socket in chunks of any size. A decoder takes them with
//! [`StreamDecoder::push`], yields whole records from [`StreamDecoder::next_item`], and
//! never holds more than its configured limit: `push` accepts only what fits, and a decoder
//! whose buffer is full without a decodable frame in it discards bytes (counted in
//! [`StreamStats::bytes_skipped`]) so that input always makes progress.
use crate::error::Error;

/// Counters a streaming decoder keeps, so that no byte is lost silently.
///
/// `bytes_in == bytes_consumed + bytes_skipped + (bytes still buffered)` holds at all times.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes accepted by `push`.
    pub bytes_in: u64,
    /// Bytes that became part of a frame that was decoded (good or rejected).
    pub bytes_consumed: u64,
    /// Bytes discarded while hunting for the start of a frame (garbage, noise, log lines).
    pub bytes_skipped: u64,
    /// Frames (records, rows, messages) decoded and yielded.
    pub frames_ok: u64,
    /// Frames whose boundaries were found but whose content failed to parse.
    pub frames_rejected: u64,
    /// Why the most recent frame was rejected.
    pub last_error: Option<Error>,
}

impl StreamStats {
    /// Records a frame that was found but could not be parsed.
    pub fn reject(&mut self, len: usize, err: Error) {
        self.frames_rejected += 1;
        self.bytes_consumed += len as u64;
        self.last_error = Some(err);
    }

    /// Records a frame that was decoded.
    pub fn accept(&mut self, len: usize) {
        self.frames_ok += 1;
        self.bytes_consumed += len as u64;
    }

    /// Records bytes dropped while resynchronizing.
    pub fn skip(&mut self, len: usize) {
        self.bytes_skipped += len as u64;
    }
}

/// A decoder that turns a byte stream, delivered in arbitrary chunks, into records.
pub trait StreamDecoder {
    /// What one decoded frame becomes.
    type Item;

    /// Offers bytes; returns how many were taken. Fewer than `input.len()` are taken only
    /// when the internal buffer is full; drain [`next_item`](Self::next_item) and offer the
    /// rest again (or use [`decode_chunk`]).
    fn push(&mut self, input: &[u8]) -> usize;

    /// The next complete record, or `None` when more bytes are needed. When the buffer is
    /// full and holds no decodable frame, this discards bytes so that `push` can progress.
    fn next_item(&mut self) -> Option<Self::Item>;

    /// Marks the end of input: a last unterminated frame (e.g. a CSV row without `\n`) is
    /// decoded by the following `next_item` calls, and bytes that can never form a frame are
    /// counted as skipped.
    fn finish(&mut self);

    /// Counters so far.
    fn stats(&self) -> &StreamStats;
}

/// Feeds a whole chunk to `decoder`, handing every record it completes to `sink`.
pub fn decode_chunk<D: StreamDecoder>(
    decoder: &mut D,
    chunk: &[u8],
    mut sink: impl FnMut(D::Item),
) {
    decode_chunk_sized(decoder, chunk, |item, _| sink(item));
}

/// [`decode_chunk`], also handing over each record's size on the wire: the bytes the
/// decoder consumed for it (the growth of `bytes_consumed` since the previous record of this
/// call, or since the call began). A gateway needs it to tell when a frame's first byte
/// arrived on a slow link.
pub fn decode_chunk_sized<D: StreamDecoder>(
    decoder: &mut D,
    mut chunk: &[u8],
    mut sink: impl FnMut(D::Item, u64),
) {
    let mut consumed = decoder.stats().bytes_consumed;
    loop {
        let taken = decoder.push(chunk);
        chunk = &chunk[taken..];
        while let Some(item) = decoder.next_item() {
            let now = decoder.stats().bytes_consumed;
            sink(item, now - consumed);
            consumed = now;
        }
        if chunk.is_empty() {
            break;
        }
    }
}

/// Feeds a whole input, then finishes it: the one-call form for files.
pub fn decode_all<D: StreamDecoder>(decoder: &mut D, input: &[u8], mut sink: impl FnMut(D::Item)) {
    decode_chunk(decoder, input, &mut sink);
    decoder.finish();
    while let Some(item) = decoder.next_item() {
        sink(item);
    }
}

#[cfg(feature = "alloc")]
pub use buffer::ByteBuf;

#[cfg(feature = "alloc")]
mod buffer {
    use alloc::vec::Vec;

    /// A byte queue with a hard capacity: the staging area of a streaming decoder.
    ///
    /// Consumed bytes are released from the front lazily, so consuming is O(1) and the
    /// storage is compacted only when it must grow.
    #[derive(Debug, Clone)]
    pub struct ByteBuf {
        data: Vec<u8>,
        start: usize,
        limit: usize,
    }

    impl ByteBuf {
        /// An empty buffer that will never hold more than `limit` bytes.
        pub fn with_limit(limit: usize) -> Self {
            ByteBuf {
                data: Vec::new(),
                start: 0,
                limit: limit.max(1),
            }
        }

        /// The most bytes this buffer holds.
        pub fn limit(&self) -> usize {
            self.limit
        }

        /// Appends as much of `input` as fits; returns how many bytes were taken.
        pub fn push(&mut self, input: &[u8]) -> usize {
            let room = self.limit - self.len();
            let take = room.min(input.len());
            if take == 0 {
                return 0;
            }
            if self.start > 0 && self.data.len() + take > self.data.capacity() {
                self.data.drain(..self.start);
                self.start = 0;
            }
            self.data.extend_from_slice(&input[..take]);
            take
        }

        /// The buffered, unconsumed bytes.
        pub fn as_slice(&self) -> &[u8] {
            &self.data[self.start..]
        }

        /// Releases the first `n` buffered bytes (clamped to what is buffered).
        pub fn consume(&mut self, n: usize) {
            self.start += n.min(self.len());
            if self.start == self.data.len() {
                self.data.clear();
                self.start = 0;
            }
        }

        /// Number of buffered bytes.
        pub fn len(&self) -> usize {
            self.data.len() - self.start
        }

        /// True when nothing is buffered.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// True when `push` would take nothing.
        pub fn is_full(&self) -> bool {
            self.len() >= self.limit
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn push_stops_at_limit_and_consume_frees_room() {
            let mut b = ByteBuf::with_limit(4);
            assert_eq!(b.push(b"abcdef"), 4);
            assert!(b.is_full());
            b.consume(3);
            assert_eq!(b.as_slice(), b"d");
            assert_eq!(b.push(b"efgh"), 3);
            assert_eq!(b.as_slice(), b"defg");
        }
    }
}
