//! Serial sources: a TI mmWave radar (`ti-mmwave://`), ESP32 CSI receivers
//! (`esp32-csi://`, `esp-csi://`) and dagr sensor nodes (`node://`) on USB serial ports.
//!
//! Each source is one thread that keeps its device connected for as long as the gateway
//! runs: it opens the port ([`link`]), reads and forwards bytes and records, and when the
//! device disappears (unplugged, powered off, never there) reports
//! [`SourceState::Disconnected`] and tries again after an exponential [`backoff`](super::backoff). It never
//! panics and never ends the process; it ends only when its [`StopFlag`] is raised (or the
//! gateway drops its receiver), with [`SourceState::Finished`].
//!
//! - [`settings`]: the URI's parameters, checked at spawn time.
//! - [`error`]: why a device could not be used or was lost.
//! - [`port`]: opening (8N1) and reading in short waits.
//! - [`link`]: one connection: read, stamp, forward, decode.
//! - [`ti_cli`]: the radar's config port (`.cfg` out, `sensorStop` at shutdown).
//! - [`time_sync`]: node time-sync requests and the exchanges they complete.
//!
//! [`StopFlag`]: crate::events::StopFlag
use std::thread::JoinHandle;

use super::{SourceContext, SourceError, SourceUri};
use crate::events::{SourceCounters, SourceEvent, SourceState, SourceStatus};

pub mod error;
pub mod link;
pub mod port;
pub mod settings;
pub mod ti_cli;
pub mod time_sync;

use crate::source::backoff::{wait_unless_stopped, Backoff};
use link::{send, Link, LinkEnd, OpenError};
use settings::SerialSettings;

/// Checks `uri` (bad parameters, unreadable `.cfg` are errors now) and starts its thread.
/// The device itself need not be present: an absent device is retried, not an error.
pub fn spawn(uri: &SourceUri, ctx: SourceContext) -> Result<JoinHandle<()>, SourceError> {
    let settings = SerialSettings::from_uri(uri)?;
    std::thread::Builder::new()
        .name(format!("source {}", ctx.name))
        .spawn(move || run(&settings, &ctx))
        .map_err(SourceError::Io)
}

/// The source thread: connect, read until lost, wait, reconnect; until stopped.
fn run(settings: &SerialSettings, ctx: &SourceContext) {
    let mut backoff = Backoff::default();
    while !ctx.stop.is_stopped() {
        let reason = match Link::open(settings, ctx) {
            Ok(link) => match keep_connected(link, ctx, &mut backoff) {
                Some(reason) => reason,
                None => break,
            },
            Err(OpenError::Stopped) => break,
            Err(OpenError::Failed(error)) => crate::errors::chain(&error),
        };
        let delay = backoff.next_delay();
        let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        let disconnected = SourceState::Disconnected {
            reason,
            retry_in_ms,
        };
        if report(ctx, disconnected).is_err() || !wait_unless_stopped(delay, &ctx.stop) {
            break;
        }
    }
    let _ = report(ctx, SourceState::Finished);
}

/// Runs an open connection; returns why it was lost, or None when the source should end.
fn keep_connected(
    mut link: Link<'_>,
    ctx: &SourceContext,
    backoff: &mut Backoff,
) -> Option<String> {
    backoff.reset();
    let counters = ctx.events.counters();
    SourceCounters::add(&counters.connects, 1);
    let end = match report(ctx, SourceState::Connected) {
        Ok(()) => link.run(ctx),
        Err(_) => LinkEnd::Stopped,
    };
    match end {
        LinkEnd::Stopped => {
            link.shut_down();
            None
        }
        LinkEnd::Lost(error) => {
            SourceCounters::add(&counters.disconnects, 1);
            Some(crate::errors::chain(&error))
        }
    }
}

/// Sends a status change stamped with the gateway clock.
fn report(ctx: &SourceContext, state: SourceState) -> Result<(), link::GatewayGone> {
    send(
        ctx,
        SourceEvent::Status(SourceStatus {
            source: ctx.name.clone(),
            at_ns: ctx.clock.now_ns(),
            state,
        }),
    )
}
