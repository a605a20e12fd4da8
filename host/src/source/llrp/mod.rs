//! The `llrp://HOST:PORT` source: an LLRP client for one UHF RFID reader over TCP.
//!
//! The thread connects, configures the reader (capabilities, Impinj extensions when the
//! reader is an Impinj, keepalive, one ROSpec reporting phase, peak RSSI and Doppler),
//! starts inventory, and then forwards every received byte as a [`SourceEvent::Chunk`]
//! and the tag reports decoded from them as [`SourceEvent::Records`] (through
//! [`RecordDecoder`](crate::pipeline::RecordDecoder), so a replayed capture decodes alike).
//! A lost reader (refused, reset, no whole LLRP message for three keepalive periods, an
//! error status) is reported as [`SourceState::Disconnected`] and retried with exponential
//! backoff, which only a connection that streamed for that long resets; on
//! stop the ROSpec is stopped and the connection closed the LLRP way.
//!
//! Modules: `settings` (URI parameters), `backoff` (retry delays), `link` (the TCP byte
//! stream and its decoding), `session` (the LLRP conversation on one connection), `error`
//! (why a connection ended).
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{SourceContext, SourceError, SourceUri};
use crate::events::{SourceCounters, SourceEvent, SourceState, SourceStatus};

mod error;
mod link;
mod session;
mod settings;

pub use settings::Settings;

use crate::source::backoff::{wait_unless_stopped, Backoff};
use session::{Ended, Session};

pub use crate::events::ReaderIdentity;

/// The identity of the reader a source last connected to, shared with whoever reports
/// status (set on every successful connection, kept across disconnects).
#[derive(Debug, Clone, Default)]
pub struct ReaderInfo(Arc<Mutex<Option<ReaderIdentity>>>);

impl ReaderInfo {
    /// The last connected reader's identity, if the source ever connected.
    pub fn get(&self) -> Option<ReaderIdentity> {
        self.0.lock().map(|g| g.clone()).unwrap_or(None)
    }

    fn set(&self, identity: ReaderIdentity) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(identity);
        }
    }
}

/// Starts the source thread for `llrp://HOST:PORT`.
pub fn spawn(uri: &SourceUri, ctx: SourceContext) -> Result<JoinHandle<()>, SourceError> {
    spawn_with_info(uri, ctx, ReaderInfo::default())
}

/// Like [`spawn`], and publishes the connected reader's identity in `info`.
pub fn spawn_with_info(
    uri: &SourceUri,
    ctx: SourceContext,
    info: ReaderInfo,
) -> Result<JoinHandle<()>, SourceError> {
    let settings = Settings::from_uri(uri)?;
    let supervisor = Supervisor {
        backoff: Backoff::new(settings.first_retry, settings.max_retry),
        settings,
        ctx,
        info,
    };
    std::thread::Builder::new()
        .name(format!("llrp {}", supervisor.ctx.name))
        .spawn(move || supervisor.run())
        .map_err(SourceError::Io)
}

/// The source thread: connects, streams until the connection ends, waits, reconnects.
struct Supervisor {
    settings: Settings,
    ctx: SourceContext,
    info: ReaderInfo,
    backoff: Backoff,
}

impl Supervisor {
    fn run(mut self) {
        while !self.ctx.stop.is_stopped() {
            let (ended, stable) = self.connect_and_stream();
            if stable {
                self.backoff.reset();
            }
            match ended {
                Ended::Stopped => break,
                Ended::Lost(error) => {
                    let reason = crate::errors::chain(&error);
                    let retry = self.backoff.next_delay();
                    SourceCounters::add(&self.ctx.events.counters().disconnects, 1);
                    let retry_in_ms = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX);
                    let state = SourceState::Disconnected {
                        reason,
                        retry_in_ms,
                    };
                    if !self.report(state) || !wait_unless_stopped(retry, &self.ctx.stop) {
                        break;
                    }
                }
            }
        }
        self.report(SourceState::Finished);
    }

    /// One connection, from TCP connect to its end; closes it cleanly when asked to stop.
    /// Also says whether the connection was stable: it streamed for at least the silence
    /// limit, which (since only whole LLRP messages count as life) means the reader kept
    /// talking. Only a stable connection resets the backoff: a reader that completes the
    /// handshake and then drops us is retried ever more slowly, like one that refuses.
    fn connect_and_stream(&mut self) -> (Ended, bool) {
        let mut session = match Session::open(&self.settings, &self.ctx) {
            Ok(session) => session,
            Err(ended) => return (ended, false),
        };
        let mut streamed = Duration::ZERO;
        let ended = match session.start() {
            Ok(identity) => {
                self.ctx
                    .events
                    .counters()
                    .device
                    .set_reader(identity.clone());
                self.info.set(identity);
                SourceCounters::add(&self.ctx.events.counters().connects, 1);
                if self.report(SourceState::Connected) {
                    let since = Instant::now();
                    let ended = session.run();
                    streamed = since.elapsed();
                    ended
                } else {
                    Ended::Stopped
                }
            }
            Err(ended) => ended,
        };
        if matches!(ended, Ended::Stopped) {
            session.close();
        }
        (ended, streamed >= self.settings.silence_limit())
    }

    /// Sends a status change; false when the gateway no longer listens.
    fn report(&self, state: SourceState) -> bool {
        let status = SourceStatus {
            source: self.ctx.name.clone(),
            at_ns: self.ctx.clock.now_ns(),
            state,
        };
        self.ctx.events.send(SourceEvent::Status(status)).is_ok()
    }
}
