//! The recorder: source events in, capture messages out.
//!
//! Chunks are written the moment they arrive, so the file is in arrival order. Each chunk's
//! `publish_time` is the device time of the last record it completed, mapped to gateway
//! time by the source's clock model; to know which records a chunk completed the recorder
//! runs the stream's own [`RecordDecoder`] over the bytes it writes, so a capture's publish
//! times depend only on its own bytes, not on which `Records` events a full channel kept.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{CaptureError, CaptureWriter, Label, StreamInfo};
use crate::clock::ClockModel;
use crate::ingest::{Decoded, RecordDecoder};
use crate::source::{RawChunk, SourceEvent};

/// What the recorder wrote for one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamTally {
    /// Raw bytes written.
    pub bytes: u64,
    /// Chunks written.
    pub chunks: u64,
    /// Records decoded from them.
    pub records: u64,
}

struct Stream {
    decoder: RecordDecoder,
    clock: Option<ClockModel>,
    tally: StreamTally,
}

/// Writes the events of running sources into a capture.
pub struct Recorder {
    writer: CaptureWriter,
    streams: BTreeMap<Arc<str>, Stream>,
    unregistered: u64,
}

impl Recorder {
    /// A recorder writing into `writer`.
    pub fn new(writer: CaptureWriter) -> Self {
        Recorder {
            writer,
            streams: BTreeMap::new(),
            unregistered: 0,
        }
    }

    /// Declares a source's stream (its channel); chunks of undeclared sources are skipped
    /// and counted in [`unregistered_chunks`](Self::unregistered_chunks).
    pub fn add_stream(&mut self, stream: &StreamInfo) -> Result<(), CaptureError> {
        self.writer.add_stream(stream)?;
        self.streams
            .entry(stream.name.clone())
            .or_insert_with(|| Stream {
                decoder: RecordDecoder::new(stream.format, stream.name.clone()),
                clock: None,
                tally: StreamTally::default(),
            });
        Ok(())
    }

    /// Writes a label annotation.
    pub fn write_label(&mut self, label: &Label) -> Result<(), CaptureError> {
        self.writer.write_label(label)
    }

    /// Takes one event of a source (`Records` events are not needed: see the module doc).
    pub fn handle(&mut self, event: SourceEvent) -> Result<(), CaptureError> {
        match event {
            SourceEvent::Chunk(chunk) => self.write_chunk(&chunk)?,
            SourceEvent::Records(_) => {}
            // A node's time-sync answer is in its chunk (t1 echoed, t2, t3) and t4 is the
            // chunk's arrival time, so a replay can redo the exchange from the bytes.
            SourceEvent::TimeSync(_) => {}
            SourceEvent::Status(status) => self.writer.write_status(&status)?,
        }
        self.writer.flush_if_due()
    }

    /// Closes the open chunk if it is a second old; call it also when no events arrive.
    pub fn tick(&mut self) -> Result<(), CaptureError> {
        self.writer.flush_if_due()
    }

    /// How long the caller may wait for events before calling [`tick`](Self::tick).
    pub fn tick_due_in(&self) -> Duration {
        self.writer
            .flush_due_in()
            .unwrap_or(super::writer::MAX_CHUNK_AGE)
    }

    /// What was written so far, per stream.
    pub fn tallies(&self) -> BTreeMap<Arc<str>, StreamTally> {
        self.streams
            .iter()
            .map(|(name, s)| (name.clone(), s.tally.clone()))
            .collect()
    }

    /// Chunks skipped because their source's stream was never declared.
    pub fn unregistered_chunks(&self) -> u64 {
        self.unregistered
    }

    /// Completes the file; returns what was written per stream.
    pub fn finish(mut self) -> Result<BTreeMap<Arc<str>, StreamTally>, CaptureError> {
        for stream in self.streams.values_mut() {
            let records = &mut stream.tally.records;
            stream.decoder.finish(u64::MAX, &mut |d| {
                if let Decoded::Record(_) = d {
                    *records += 1;
                }
            });
        }
        let tallies = self.tallies();
        self.writer.finish()?;
        Ok(tallies)
    }

    fn write_chunk(&mut self, chunk: &RawChunk) -> Result<(), CaptureError> {
        let Some(stream) = self.streams.get_mut(&chunk.source) else {
            self.unregistered += 1;
            return Ok(());
        };
        let mut publish = chunk.arrival_ns;
        let (clock, tally) = (&mut stream.clock, &mut stream.tally);
        stream
            .decoder
            .feed(&chunk.bytes, chunk.arrival_ns, &mut |d| {
                if let Decoded::Record(record) = d {
                    let model = clock.get_or_insert_with(|| ClockModel::new(&record.device_time));
                    publish = model.observe(record.device_time, record.arrival_ns);
                    tally.records += 1;
                }
            });
        tally.bytes += chunk.bytes.len() as u64;
        tally.chunks += 1;
        self.writer
            .write_chunk(&chunk.source, chunk.arrival_ns, publish, &chunk.bytes)
    }
}
