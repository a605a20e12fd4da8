//! The TCP byte stream to one reader: every read becomes a [`SourceEvent::Chunk`] (what
//! a capture stores), tag reports in it become [`SourceEvent::Records`], and every other
//! LLRP message is queued for the session.
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use dagr_protocols::llrp::Message;

use super::error::ReaderError;
use super::session::Ended;
use super::settings::Settings;
use crate::format::{Control, Format};
use crate::pipeline::RecordDecoder;
use crate::source::SourceContext;

/// How long one read waits, so the stop flag and the silence limit are checked often.
const READ_POLL: Duration = Duration::from_millis(100);
/// Bound on one write (a reader that stops reading is a lost reader).
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest read at once.
const READ_BUF: usize = 64 * 1024;

/// An open connection to a reader and the decoder of what it sends.
pub(super) struct Link {
    stream: TcpStream,
    address: String,
    decoder: RecordDecoder,
    ctx: SourceContext,
    inbox: VecDeque<Message>,
    last_rx: Instant,
    buf: Vec<u8>,
}

impl Link {
    /// Connects to the reader (each resolved address in turn, each within the connect
    /// timeout).
    pub(super) fn open(settings: &Settings, ctx: &SourceContext) -> Result<Link, Ended> {
        let address = settings.address.clone();
        let stream = connect(&address, settings.connect_timeout)?;
        let setup = |source| {
            let address = address.clone();
            Ended::Lost(ReaderError::Setup { address, source })
        };
        stream.set_read_timeout(Some(READ_POLL)).map_err(setup)?;
        stream
            .set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(setup)?;
        stream.set_nodelay(true).map_err(setup)?;
        Ok(Link {
            stream,
            decoder: RecordDecoder::new(Format::Llrp, ctx.name.clone()),
            address,
            ctx: ctx.clone(),
            inbox: VecDeque::new(),
            last_rx: Instant::now(),
            buf: vec![0; READ_BUF],
        })
    }

    /// Sends one message.
    pub(super) fn send(&mut self, message: &Message) -> Result<(), Ended> {
        let bytes = message.to_vec().map_err(|source| {
            Ended::Lost(ReaderError::Encode {
                message: message.name(),
                source,
            })
        })?;
        self.stream.write_all(&bytes).map_err(|source| {
            Ended::Lost(ReaderError::Send {
                message: message.name(),
                address: self.address.clone(),
                source,
            })
        })
    }

    /// Waits up to the read poll interval for bytes and forwards whatever arrived.
    pub(super) fn poll(&mut self) -> Result<(), Ended> {
        match self.stream.read(&mut self.buf) {
            Ok(0) => Err(Ended::Lost(ReaderError::Closed {
                address: self.address.clone(),
            })),
            Ok(n) => self.forward(n),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Ok(())
            }
            Err(source) => Err(Ended::Lost(ReaderError::Read {
                address: self.address.clone(),
                source,
            })),
        }
    }

    /// The oldest queued message that was not a tag report.
    pub(super) fn next_control(&mut self) -> Option<Message> {
        self.inbox.pop_front()
    }

    /// Time since the reader last sent a whole, valid LLRP message (a report, a keepalive,
    /// an answer). Bytes that do not complete one do not count: a peer trickling garbage
    /// is as dead as a silent one.
    pub(super) fn silent_for(&self) -> Duration {
        self.last_rx.elapsed()
    }

    /// The reader's `HOST:PORT`, for messages.
    pub(super) fn address(&self) -> &str {
        &self.address
    }

    /// Closes both directions (the reader sees end of stream).
    pub(super) fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Sends the `n` bytes just read as a chunk, then the records decoded from them (unless
    /// the context asks for chunks only); queues the other messages for the session. The
    /// reports are decoded even for chunks only: the conversation needs the decoder's
    /// framing.
    fn forward(&mut self, n: usize) -> Result<(), Ended> {
        let messages_before = self.decoder.stats().frames_ok;
        let arrival_ns = self.ctx.clock.now_ns();
        let events = &self.ctx.events;
        let control = self
            .ctx
            .forward(
                &self.ctx.name,
                self.buf[..n].to_vec(),
                arrival_ns,
                Some(&mut self.decoder),
                &|e| events.send(e),
            )
            .map_err(|_| Ended::Stopped)?;
        if self.decoder.stats().frames_ok > messages_before {
            self.last_rx = Instant::now();
        }
        for message in control {
            if let Control::Llrp(message) = message {
                self.inbox.push_back(message);
            }
        }
        Ok(())
    }
}

fn connect(address: &str, timeout: Duration) -> Result<TcpStream, Ended> {
    let addrs = address.to_socket_addrs().map_err(|source| {
        let address = address.to_string();
        Ended::Lost(ReaderError::Resolve { address, source })
    })?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    let address = address.to_string();
    Err(Ended::Lost(match last {
        Some(source) => ReaderError::Connect { address, source },
        None => ReaderError::NoAddress { address },
    }))
}
