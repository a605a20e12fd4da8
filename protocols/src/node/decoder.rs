//! The streaming decoder: bytes off a serial port in, [`Frame`]s out.
//!
//! It splits the input on `0x00`, COBS-decodes and verifies each run, and keeps every byte
//! accounted for in [`StreamStats`]:
//!
//! - a run that decodes is `bytes_consumed` (with its delimiter) and `frames_ok`;
//! - a run that fails (bad COBS, CRC, length, version, payload) is `bytes_consumed` and
//!   `frames_rejected`, with the [`Error`] in `last_error`;
//! - the run before the first delimiter after start-up is a partial frame when the decoder
//!   attached mid-stream: if it does not verify it is `bytes_skipped`, not rejected (a
//!   stream that starts exactly on a frame boundary still yields its first frame);
//! - a run longer than the largest encoded frame ([`MAX_ENCODED_LEN`]) or than the buffer
//!   is rejected once with [`Error::TooLong`] when the bound is crossed, and its remaining
//!   bytes up to the next delimiter are `bytes_skipped`;
//! - empty runs (back-to-back delimiters, idle fill) are `bytes_consumed` with no frame;
//! - after [`finish`](StreamDecoder::finish), a final run without delimiter is decoded if it
//!   verifies and skipped otherwise (a capture cut mid-frame).
use super::cobs;
use super::frame::Frame;
use super::{DELIMITER, MAX_ENCODED_LEN, MAX_FRAME_LEN};
use crate::error::Error;
use crate::stream::{ByteBuf, StreamDecoder, StreamStats};

/// Default buffer bound: four largest wire frames, so a fast producer can run ahead a bit.
pub const DEFAULT_LIMIT: usize = 4 * super::MAX_WIRE_LEN;

/// Streaming decoder for the node link protocol.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: ByteBuf,
    stats: StreamStats,
    /// A delimiter has been seen, so runs start on frame boundaries.
    synced: bool,
    /// Inside an oversize run: drop bytes up to the next delimiter.
    discarding: bool,
    /// `finish` was called: the last unterminated run is final.
    finished: bool,
    /// Scratch for COBS decoding, reused across frames.
    scratch: [u8; MAX_FRAME_LEN],
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// What to do with the run at the front of the buffer.
enum Step {
    /// Need more bytes.
    Wait,
    /// Bytes were accounted for; look again.
    Again,
    /// A frame was decoded.
    Yield(Frame),
}

impl FrameDecoder {
    /// A decoder buffering at most [`DEFAULT_LIMIT`] bytes.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }

    /// A decoder buffering at most `limit` bytes. Runs longer than `limit - 1` bytes can
    /// never be decoded and are rejected as [`Error::TooLong`]; `limit >= MAX_WIRE_LEN`
    /// decodes every legal frame.
    pub fn with_limit(limit: usize) -> Self {
        FrameDecoder {
            buf: ByteBuf::with_limit(limit.max(2)),
            stats: StreamStats::default(),
            synced: false,
            discarding: false,
            finished: false,
            scratch: [0; MAX_FRAME_LEN],
        }
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Longest run (without delimiter) this decoder can hold.
    fn max_run(&self) -> usize {
        MAX_ENCODED_LEN.min(self.buf.limit() - 1)
    }

    fn step(&mut self) -> Step {
        if self.discarding {
            return self.discard_oversize();
        }
        let data = self.buf.as_slice();
        match data.iter().position(|&b| b == DELIMITER) {
            Some(run) => self.take_run(run, run + 1),
            None if data.len() > self.max_run() || self.buf.is_full() => self.begin_discard(),
            None if self.finished && !data.is_empty() => self.take_last_run(),
            None => Step::Wait,
        }
    }

    /// Handles the run `buf[..run]` followed by a delimiter (`total` = run + 1).
    fn take_run(&mut self, run: usize, total: usize) -> Step {
        if run == 0 {
            self.stats.bytes_consumed += 1;
            self.buf.consume(1);
            self.synced = true;
            return Step::Again;
        }
        let result = self.decode_run(run);
        let first = !self.synced;
        self.synced = true;
        self.buf.consume(total);
        match result {
            Ok(frame) => {
                self.stats.accept(total);
                Step::Yield(frame)
            }
            Err(_) if first => {
                self.stats.skip(total);
                Step::Again
            }
            Err(e) => {
                self.stats.reject(total, e);
                Step::Again
            }
        }
    }

    /// After `finish`: the unterminated tail is a frame only if it verifies.
    fn take_last_run(&mut self) -> Step {
        let run = self.buf.len();
        let result = self.decode_run(run);
        self.buf.consume(run);
        match result {
            Ok(frame) => {
                self.stats.accept(run);
                Step::Yield(frame)
            }
            Err(_) => {
                self.stats.skip(run);
                Step::Again
            }
        }
    }

    fn decode_run(&mut self, run: usize) -> Result<Frame, Error> {
        if run > MAX_ENCODED_LEN {
            return Err(Error::TooLong {
                claimed: run,
                limit: MAX_ENCODED_LEN,
            });
        }
        let encoded = &self.buf.as_slice()[..run];
        let len = cobs::decode(encoded, &mut self.scratch)?;
        Frame::parse(&self.scratch[..len])
    }

    /// The run at the front has no delimiter and can no longer fit: reject it (or skip it,
    /// before the first delimiter) and drop the rest of it as it arrives.
    fn begin_discard(&mut self) -> Step {
        let len = self.buf.len();
        if self.synced {
            let limit = self.max_run();
            self.stats.reject(len, Error::TooLong { claimed: len, limit });
        } else {
            self.stats.skip(len);
        }
        self.buf.consume(len);
        self.discarding = true;
        Step::Again
    }

    fn discard_oversize(&mut self) -> Step {
        let data = self.buf.as_slice();
        match data.iter().position(|&b| b == DELIMITER) {
            Some(at) => {
                self.stats.skip(at + 1);
                self.buf.consume(at + 1);
                self.discarding = false;
                self.synced = true;
                Step::Again
            }
            None => {
                let len = data.len();
                self.stats.skip(len);
                self.buf.consume(len);
                Step::Wait
            }
        }
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
        loop {
            match self.step() {
                Step::Wait => return None,
                Step::Again => continue,
                Step::Yield(frame) => return Some(frame),
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
