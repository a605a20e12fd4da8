//! What a virtual device has sent but its client has not yet taken: a bounded queue of
//! whole chunks (frames, rows, messages) written out without blocking.
//!
//! A chunk is queued whole or dropped whole (and counted), so a slow client loses frames
//! but never receives half of one, as with a real device whose host stops reading. A
//! partly written chunk is finished before anything else is sent.
use std::io::{ErrorKind, Write};

/// Default bound on queued bytes per device: about a second of the busiest device.
pub const DEFAULT_LIMIT: usize = 256 * 1024;

/// Bytes waiting for a client, with the counters of what was dropped.
#[derive(Debug, Default)]
pub struct Outbox {
    queued: Vec<u8>,
    limit: usize,
    /// Chunks dropped because the queue was full (the client was not reading).
    pub dropped_chunks: u64,
    /// Bytes written to the client.
    pub bytes_sent: u64,
}

/// Why a write to the client stopped for good.
#[derive(Debug, PartialEq, Eq)]
pub enum Flushed {
    /// Everything queued went out, or the client cannot take more now.
    Ok,
    /// Nobody is listening (pty slave closed, socket reset): the queue was discarded.
    NoClient,
}

impl Outbox {
    /// An empty outbox holding at most `limit` bytes.
    pub fn new(limit: usize) -> Outbox {
        Outbox {
            limit,
            ..Outbox::default()
        }
    }

    /// Queues `chunk` whole, or drops and counts it when it does not fit.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.queued.len() + chunk.len() > self.limit {
            self.dropped_chunks += 1;
        } else {
            self.queued.extend_from_slice(chunk);
        }
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// Forgets everything queued (the client went away; what it did not read is lost).
    pub fn clear(&mut self) {
        self.queued.clear();
    }

    /// Writes as much as `sink` takes now. `sink` must not block: a timed-out or
    /// would-block write ends the attempt; a broken pipe or reset means no client.
    pub fn flush_to(&mut self, sink: &mut impl Write) -> Flushed {
        let mut written = 0;
        let outcome = loop {
            if written == self.queued.len() {
                break Flushed::Ok;
            }
            match sink.write(&self.queued[written..]) {
                Ok(0) => break Flushed::NoClient,
                Ok(n) => written += n,
                Err(e) => match e.kind() {
                    ErrorKind::WouldBlock | ErrorKind::TimedOut => break Flushed::Ok,
                    ErrorKind::Interrupted => {}
                    _ => break Flushed::NoClient,
                },
            }
        };
        self.bytes_sent += written as u64;
        self.queued.drain(..written);
        if outcome == Flushed::NoClient {
            self.queued.clear();
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most `room` bytes per call, then would block.
    struct Slow {
        taken: Vec<u8>,
        room: usize,
    }

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_outbox_drops_whole_chunks_and_finishes_a_partly_written_one() {
        let mut outbox = Outbox::new(10);
        outbox.push(b"aaaa");
        outbox.push(b"bbbb");
        outbox.push(b"cccc");
        assert_eq!((outbox.len(), outbox.dropped_chunks), (8, 1));
        let mut slow = Slow {
            taken: Vec::new(),
            room: 6,
        };
        assert_eq!(outbox.flush_to(&mut slow), Flushed::Ok);
        assert_eq!(slow.taken, b"aaaabb");
        outbox.push(b"dddd");
        slow.room = 100;
        outbox.flush_to(&mut slow);
        assert_eq!(slow.taken, b"aaaabbbbdddd");
        assert_eq!(outbox.bytes_sent, 12);
    }

    #[test]
    fn a_broken_pipe_discards_the_queue() {
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut outbox = Outbox::new(100);
        outbox.push(b"frame");
        assert_eq!(outbox.flush_to(&mut Gone), Flushed::NoClient);
        assert!(outbox.is_empty());
    }
}
