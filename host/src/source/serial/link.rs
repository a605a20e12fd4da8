//! One connection to a serial device, from opening its port(s) to losing them: reads
//! bytes, stamps their arrival, forwards them raw and decoded, and does the protocol's
//! chores (TI: configure and stop the radar; node: time-sync requests).
//!
//! Each connection decodes with a fresh [`RecordDecoder`]: a unit cut by an unplug cannot
//! be completed by bytes from after the replug (the device restarted or bytes were lost
//! in between), and gluing the two halves could yield a plausible but false record (an
//! ESP32 CSV row is just text). The stub of the old connection is dropped.
use crate::events::SourceEvent;
use crate::format::Format;
use crate::pipeline::RecordDecoder;
use crate::source::{note_heartbeats, SourceContext};

use super::error::DeviceError;
use super::port::{self, Port, ReadOutcome};
use super::settings::SerialSettings;
use super::ti_cli::{self, ConfigureError};
use super::time_sync::TimeSyncRequester;

/// Bytes asked for per read (a 921 600 Bd line delivers ~4.6 KiB per 50 ms read window).
const READ_BUF: usize = 4096;

/// Why a connection could not be made.
#[derive(Debug)]
pub enum OpenError {
    /// Stop was requested while connecting.
    Stopped,
    /// The device is absent or refused it, or the radar refused its configuration.
    Failed(DeviceError),
}

/// How a connection ended.
#[derive(Debug)]
pub enum LinkEnd {
    /// Stop was requested, or the gateway stopped listening.
    Stopped,
    /// The device went away.
    Lost(DeviceError),
}

/// An open connection to one serial device.
pub struct Link<'s> {
    settings: &'s SerialSettings,
    data: Port,
    /// The TI radar's config port, kept open to stop the sensor at shutdown.
    cli: Option<Port>,
    decoder: RecordDecoder,
    time_sync: Option<TimeSyncRequester>,
}

impl<'s> Link<'s> {
    /// Opens the data port, then (TI with `cli=`) configures the radar, so no frame sent
    /// right after `sensorStart` is lost.
    pub fn open(settings: &'s SerialSettings, ctx: &SourceContext) -> Result<Self, OpenError> {
        let mut data = port::open(&settings.path, settings.baud).map_err(OpenError::Failed)?;
        if settings.format.releases_reset_lines() {
            port::release_reset_lines(&mut data);
        }
        let cli = match &settings.ti_cli {
            Some(cli) => Some(ti_cli::configure(cli, &ctx.stop).map_err(|e| match e {
                ConfigureError::Stopped => OpenError::Stopped,
                ConfigureError::Failed(reason) => OpenError::Failed(reason),
            })?),
            None => None,
        };
        let time_sync = (settings.format == Format::Node).then(TimeSyncRequester::new);
        Ok(Link {
            settings,
            data,
            cli,
            decoder: RecordDecoder::new(settings.format, ctx.name.clone()),
            time_sync,
        })
    }

    /// Reads until the device goes away or the source is asked to stop.
    pub fn run(&mut self, ctx: &SourceContext) -> LinkEnd {
        let mut buf = vec![0u8; READ_BUF];
        loop {
            if ctx.stop.is_stopped() {
                return LinkEnd::Stopped;
            }
            if let Err(reason) = self.request_time_sync(ctx) {
                return LinkEnd::Lost(reason);
            }
            match port::read(&mut self.data, &mut buf, &self.settings.path) {
                ReadOutcome::Idle => {}
                ReadOutcome::Lost(reason) => return LinkEnd::Lost(reason),
                ReadOutcome::Bytes(n) => {
                    if self.deliver(&buf[..n], ctx).is_err() {
                        return LinkEnd::Stopped;
                    }
                }
            }
        }
    }

    /// Ends the connection for shutdown: a configured radar is told `sensorStop`.
    pub fn shut_down(mut self) {
        if let (Some(cli), Some(settings)) = (self.cli.as_mut(), &self.settings.ti_cli) {
            ti_cli::stop_sensor(cli, &settings.path);
        }
    }

    /// Writes a time-sync request to a node when one is due.
    fn request_time_sync(&mut self, ctx: &SourceContext) -> Result<(), DeviceError> {
        let Some(requester) = self.time_sync.as_mut() else {
            return Ok(());
        };
        match requester.request_if_due(ctx.clock.now_ns()) {
            Some(request) => port::write(&mut self.data, &request, &self.settings.path),
            None => Ok(()),
        }
    }

    /// Forwards one read: the raw chunk, then (unless the context asks for chunks only) the
    /// records and time-sync exchanges it completed. Err when the gateway no longer listens.
    fn deliver(&mut self, bytes: &[u8], ctx: &SourceContext) -> Result<(), GatewayGone> {
        let arrival_ns = ctx.clock.now_ns();
        let decoder = ctx.output.records().then_some(&mut self.decoder);
        // Node heartbeats go to status; acks have no consumer yet; LLRP never comes over
        // serial.
        let control = ctx
            .forward(&ctx.name, bytes.to_vec(), arrival_ns, decoder, &|e| {
                ctx.events.send(e)
            })
            .map_err(|_| GatewayGone)?;
        note_heartbeats(ctx, control, arrival_ns);
        Ok(())
    }
}

/// The gateway dropped its receiver.
#[derive(Debug)]
pub struct GatewayGone;

/// Sends one event; Err when nobody listens any more.
pub fn send(ctx: &SourceContext, event: SourceEvent) -> Result<(), GatewayGone> {
    ctx.events.send(event).map_err(|_| GatewayGone)
}
