//! The replay source: `replay://FILE.mcap[?speed=X|?max]` plays a capture back as if its
//! devices were live.
//!
//! Every raw chunk is re-emitted under its original source name with its ORIGINAL arrival
//! time (so a recording of a replay reproduces the capture), followed by the records
//! [`RecordDecoder`] decodes from it per the channel's format, then the node time-sync
//! exchanges it completed (as a live node source sends them); recorded status changes are
//! re-emitted too (with [`Output::ChunksOnly`](super::Output) only the chunks and statuses,
//! nothing is decoded). Chunks are paced by their log time (`speed=1`, the default, is real
//! time; `max` does not wait). At the end each stream reports [`SourceState::Finished`].
//!
//! Unlike a device, a file can wait: when the gateway's channel is full the replay waits
//! for room instead of dropping, so a replay at any speed delivers every chunk and record.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{SourceContext, SourceError, SourceUri};
use crate::capture::{CaptureReader, Entry, Pacer, Speed, StreamInfo};
use crate::clock::TimeSyncExchange;
use crate::events::{
    Disconnected, RawChunk, SourceCounters, SourceEvent, SourceState, SourceStatus,
};
use crate::ingest::{Control, Decoded, RecordDecoder};
use crate::record::Record;

/// Starts the source thread; fails at once if the capture cannot be opened or the speed
/// is malformed.
pub fn spawn(uri: &SourceUri, ctx: SourceContext) -> Result<JoinHandle<()>, SourceError> {
    let speed = replay_speed(uri)?;
    let path = PathBuf::from(&uri.target);
    let reader = CaptureReader::open(&path)
        .map_err(|e| SourceError::Config(format!("{}: {e}", uri.text)))?;
    std::thread::Builder::new()
        .name(format!("replay {}", path.display()))
        .spawn(move || Replay::new(ctx).run(reader, speed))
        .map_err(SourceError::Io)
}

/// The `speed` of a replay URI: `?max`, `?speed=max`, `?speed=X` (default 1).
pub fn replay_speed(uri: &SourceUri) -> Result<Speed, SourceError> {
    if uri.param("max").is_some() {
        return Ok(Speed::Max);
    }
    match uri.param("speed") {
        None => Ok(Speed::Factor(1.0)),
        Some(text) => {
            Speed::parse(text).map_err(|e| SourceError::Config(format!("{}: {e}", uri.text)))
        }
    }
}

struct Stream {
    decoder: RecordDecoder,
    last_ns: u64,
}

struct Replay {
    ctx: SourceContext,
    streams: HashMap<Arc<str>, Stream>,
}

impl Replay {
    fn new(ctx: SourceContext) -> Self {
        Replay {
            ctx,
            streams: HashMap::new(),
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
        let stream = self
            .streams
            .entry(info.name.clone())
            .or_insert_with(|| Stream {
                decoder: RecordDecoder::new(info.format, info.name.clone()),
                last_ns: log_ns,
            });
        stream.last_ns = log_ns;
        let (mut records, mut exchanges) = (Vec::new(), Vec::new());
        if self.ctx.output.records() {
            stream.decoder.feed(&bytes, log_ns, &mut |d| match d {
                Decoded::Record(record) => records.push(record),
                Decoded::Control(Control::Node(frame)) => {
                    exchanges.extend(TimeSyncExchange::from_frame(&info.name, &frame, log_ns));
                }
                Decoded::Control(Control::Llrp(_)) => {}
            });
        }
        let counters = self.ctx.events.counters();
        SourceCounters::add(&counters.bytes_in, bytes.len() as u64);
        self.send(SourceEvent::Chunk(RawChunk {
            source: info.name.clone(),
            arrival_ns: log_ns,
            bytes,
        }))?;
        self.send_records(records)?;
        exchanges
            .into_iter()
            .try_for_each(|e| self.send(SourceEvent::TimeSync(e)))
    }

    fn send_records(&self, records: Vec<Record>) -> Result<(), Disconnected> {
        if records.is_empty() {
            return Ok(());
        }
        let counters = self.ctx.events.counters();
        SourceCounters::add(&counters.records, records.len() as u64);
        self.send(SourceEvent::Records(records))
    }

    /// Sends once the channel has room (or the gateway asks to stop).
    fn send(&self, event: SourceEvent) -> Result<(), Disconnected> {
        while self.ctx.events.is_full() && !self.ctx.stop.is_stopped() {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.ctx.events.send(event)
    }

    /// Decodes what each stream's decoder still holds and reports every stream finished.
    fn finish(mut self) -> Result<(), Disconnected> {
        let mut streams: Vec<_> = self.streams.drain().collect();
        streams.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, mut stream) in streams {
            let mut records = Vec::new();
            stream
                .decoder
                .finish(stream.last_ns, &mut |d| keep_record(d, &mut records));
            self.send_records(records)?;
            self.send(SourceEvent::Status(SourceStatus {
                source: name,
                at_ns: stream.last_ns,
                state: SourceState::Finished,
            }))?;
        }
        Ok(())
    }
}

fn keep_record(decoded: Decoded, records: &mut Vec<Record>) {
    if let Decoded::Record(record) = decoded {
        records.push(record);
    }
}
