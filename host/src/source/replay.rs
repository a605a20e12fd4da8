//! The replay source: `replay://FILE.mcap[?speed=X|?max]` plays a capture back as if its
//! devices were live.
//!
//! Every raw chunk is re-emitted under its original source name with its ORIGINAL arrival
//! time (so a recording of a replay reproduces the capture), followed by the records
//! [`RecordDecoder`](crate::pipeline::RecordDecoder) decodes from it per the channel's format, then the node time-sync
//! exchanges it completed (as a live node source sends them); recorded status changes are
//! re-emitted too (with [`Output::ChunksOnly`](super::Output) only the chunks and statuses,
//! nothing is decoded). Chunks are paced by their log time (`speed=1`, the default, is real
//! time; `max` does not wait). At the end each stream reports [`SourceState::Finished`].
//!
//! Unlike a device, a file can wait: when the gateway's channel is full the replay waits
//! for room instead of dropping, so a replay at any speed delivers every chunk and record.
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{note_heartbeats, SourceContext, SourceError, SourceUri};
use crate::capture::{CaptureReader, Entry, Pacer, Speed, StreamInfo};
use crate::events::{Disconnected, SourceCounters, SourceEvent, SourceState, SourceStatus};
use crate::format::Decoded;
use crate::pipeline::StreamDecoders;

/// Starts the source thread; fails at once if the capture cannot be opened or the speed
/// is malformed.
pub fn spawn(uri: &SourceUri, ctx: SourceContext) -> Result<JoinHandle<()>, SourceError> {
    let speed = replay_speed(uri)?;
    let path = PathBuf::from(&uri.target);
    let reader = CaptureReader::open(&path)?;
    std::thread::Builder::new()
        .name(format!("replay {}", path.display()))
        .spawn(move || Replay::new(ctx).run(reader, speed))
        .map_err(SourceError::Io)
}

/// Checks the URI's parameters and that its capture opens.
pub fn check(uri: &SourceUri) -> Result<(), SourceError> {
    replay_speed(uri)?;
    CaptureReader::open(&PathBuf::from(&uri.target))?;
    Ok(())
}

/// The `speed` of a replay URI: `?max`, `?speed=max`, `?speed=X` (default 1).
pub fn replay_speed(uri: &SourceUri) -> Result<Speed, SourceError> {
    check_known_params(uri)?;
    if uri.param("max").is_some() {
        return Ok(Speed::Max);
    }
    match uri.param("speed") {
        None => Ok(Speed::Factor(1.0)),
        Some(text) => Speed::parse(text).map_err(|e| SourceError::config(uri, e)),
    }
}

/// Query parameters a `replay://` URI accepts.
const KNOWN: [&str; 3] = ["name", "speed", "max"];

/// Refuses a parameter a replay does not read (`?sped=2` would play in real time).
fn check_known_params(uri: &SourceUri) -> Result<(), SourceError> {
    uri.check_params(&KNOWN)
        .map_err(|e| SourceError::config(uri, e))
}

struct Replay {
    ctx: SourceContext,
    streams: StreamDecoders,
}

impl Replay {
    fn new(ctx: SourceContext) -> Self {
        Replay {
            ctx,
            streams: StreamDecoders::new(),
        }
    }

    fn run(mut self, mut reader: CaptureReader, speed: Speed) {
        let mut pacer = Pacer::new(speed);
        let stop = self.ctx.stop.clone();
        // Labels are ground truth for evaluation, not device data: not replayed, not paced.
        let played = reader.by_ref().filter(|e| !matches!(e, Entry::Label(_)));
        for entry in played {
            if !pacer.wait_until(entry.log_ns(), &|| stop.is_stopped()) {
                break;
            }
            if self.play(entry).is_err() {
                return;
            }
        }
        if let Some(warning) = reader.warning() {
            eprintln!("dagr: {}: {warning}", self.ctx.name);
        }
        if let Some(lost) = reader.loss() {
            eprintln!("dagr: {}: {lost}", self.ctx.name);
        }
        let _ = self.finish();
    }

    fn play(&mut self, entry: Entry) -> Result<(), Disconnected> {
        match entry {
            Entry::Chunk {
                stream,
                log_ns,
                bytes,
                ..
            } => self.play_chunk(&stream, log_ns, bytes),
            Entry::Status(status) => self.send(SourceEvent::Status(status)),
            Entry::Label(_) => Ok(()),
        }
    }

    fn play_chunk(
        &mut self,
        info: &StreamInfo,
        log_ns: u64,
        bytes: Vec<u8>,
    ) -> Result<(), Disconnected> {
        let (ctx, streams) = (&self.ctx, &mut self.streams);
        let decoder = streams.stream(&info.name, info.format, log_ns);
        let decoder = ctx.output.records().then_some(decoder);
        // Chunks go out under their original source name and arrival time.
        let control = ctx.forward(&info.name, bytes, log_ns, decoder, &|e| {
            send_when_room(ctx, e)
        })?;
        // A replayed node's heartbeats show in status as a live node's do, aged from now.
        note_heartbeats(ctx, control, ctx.clock.now_ns());
        Ok(())
    }

    fn send(&self, event: SourceEvent) -> Result<(), Disconnected> {
        send_when_room(&self.ctx, event)
    }

    /// Decodes what each stream's decoder still holds and reports every stream finished.
    fn finish(mut self) -> Result<(), Disconnected> {
        for (name, mut decoder, last_ns) in self.streams.take_all() {
            let mut records = Vec::new();
            decoder.finish(last_ns, &mut |d| {
                if let Decoded::Record(record) = d {
                    records.push(record);
                }
            });
            if !records.is_empty() {
                let counters = self.ctx.events.counters();
                SourceCounters::add(&counters.records, records.len() as u64);
                self.send(SourceEvent::Records(records))?;
            }
            self.send(SourceEvent::Status(SourceStatus {
                source: name,
                at_ns: last_ns,
                state: SourceState::Finished,
            }))?;
        }
        Ok(())
    }
}

/// Sends once the channel has room (or the gateway asks to stop).
fn send_when_room(ctx: &SourceContext, event: SourceEvent) -> Result<(), Disconnected> {
    while ctx.events.is_full() && !ctx.stop.is_stopped() {
        std::thread::sleep(Duration::from_millis(1));
    }
    ctx.events.send(event)
}
