//! The recorder: source events in, capture messages out.
//!
//! Chunks are written the moment they arrive, so the file is in arrival order. Each chunk's
//! `publish_time` is the device time of the last record it completed, mapped to gateway
//! time by the source's clock model; to know which records a chunk completed the recorder
//! runs the bytes it writes through the gateway's [`Pipeline`] (without windows), so a
//! capture's publish times depend only on its own bytes, not on which `Records` events a
//! full channel kept.
//!
//! Node streams are mapped by their two-way time sync: a node's time-sync answer (`t1`
//! echoed, `t2`, `t3`) is in the chunk that carries it and `t4` is that chunk's arrival, so
//! the pipeline rebuilds each exchange from the bytes (exactly the
//! [`TimeSyncExchange`](crate::clock::TimeSyncExchange) the live source sent as
//! [`SourceEvent::TimeSync`]) and feeds it to the node's clock model. Rebuilding rather than
//! taking the event keeps publish times a function of the file alone, so recording a replay
//! of a capture reproduces them.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{CaptureError, CaptureWriter, Label, StreamInfo};
use crate::clock::{ClockModel, WireRate};
use crate::events::{EventSink, RawChunk, SourceEvent};
use crate::format::Format;
use crate::pipeline::Pipeline;

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
    format: Format,
    tally: StreamTally,
}

/// Writes the events of running sources into a capture.
pub struct Recorder {
    writer: CaptureWriter,
    streams: BTreeMap<Arc<str>, Stream>,
    pipeline: Pipeline,
    unregistered: u64,
}

impl Recorder {
    /// A recorder writing into `writer`.
    pub fn new(writer: CaptureWriter) -> Self {
        Recorder {
            writer,
            streams: BTreeMap::new(),
            pipeline: Pipeline::without_windows(),
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
                format: stream.format,
                tally: StreamTally::default(),
            });
        Ok(())
    }

    /// Declares the speed of the link a stream's bytes cross (from its source settings), so
    /// publish times are mapped from the first byte of each record, not its last.
    pub fn set_wire(&mut self, source: &Arc<str>, rate: WireRate) {
        self.pipeline.set_wire(source, rate);
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
            // Rebuilt from the chunk that carried the answer (see the module doc).
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

    /// The clock model that maps `source`'s publish times, once it sent a record or a
    /// time-sync answer.
    pub fn clock(&self, source: &str) -> Option<&ClockModel> {
        self.pipeline.clock(source)
    }

    /// Chunks skipped because their source's stream was never declared.
    pub fn unregistered_chunks(&self) -> u64 {
        self.unregistered
    }

    /// Completes the file; returns what was written per stream.
    pub fn finish(mut self) -> Result<BTreeMap<Arc<str>, StreamTally>, CaptureError> {
        let streams = &mut self.streams;
        self.pipeline.finish(&mut |name, outcome| {
            if let Some(stream) = streams.get_mut(name) {
                stream.tally.records += outcome.records;
            }
        });
        let tallies = self.tallies();
        self.writer.finish()?;
        Ok(tallies)
    }

    fn write_chunk(&mut self, chunk: &RawChunk) -> Result<(), CaptureError> {
        let Some(stream) = self.streams.get_mut(&chunk.source) else {
            self.unregistered += 1;
            return Ok(());
        };
        let outcome =
            self.pipeline
                .push_chunk(&chunk.source, stream.format, &chunk.bytes, chunk.arrival_ns);
        let publish = outcome.last_mapped_ns.unwrap_or(chunk.arrival_ns);
        let tally = &mut stream.tally;
        tally.records += outcome.records;
        tally.bytes += chunk.bytes.len() as u64;
        tally.chunks += 1;
        self.writer
            .write_chunk(&chunk.source, chunk.arrival_ns, publish, &chunk.bytes)
    }
}

/// The recorder as the gateway runtime's sink: `dagr record` is the runtime plus this.
impl EventSink for Recorder {
    type Error = CaptureError;

    fn handle(&mut self, event: SourceEvent) -> Result<(), CaptureError> {
        Recorder::handle(self, event)
    }

    fn tick(&mut self) -> Result<(), CaptureError> {
        Recorder::tick(self)
    }

    fn due_in(&self) -> Duration {
        self.tick_due_in()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureReader, Entry};
    use crate::format::Decoded;
    use crate::pipeline::RecordDecoder;
    use dagr_protocols::csi::Iq;
    use dagr_protocols::node::{
        encode_frame, CsiRepr, HeaderRepr, Modality, PayloadRepr, TimeSyncResponse, MAX_WIRE_LEN,
    };

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;
    /// Every node frame spends at least this long on the link: arrivals alone cannot see it.
    const LINK_DELAY_NS: u64 = 12 * MS;

    /// A node clock 50 ppm fast that read 7 s at gateway time 0.
    fn node_us(gateway_ns: u64) -> u64 {
        7_000_000 + (gateway_ns as f64 * (1.0 + 50e-6) / 1000.0) as u64
    }

    fn gateway_ns(node_us: u64) -> u64 {
        ((node_us - 7_000_000) as f64 * 1000.0 / (1.0 + 50e-6)) as u64
    }

    fn wire(header: &HeaderRepr, payload: &PayloadRepr<'_>) -> Vec<u8> {
        let mut buf = [0u8; MAX_WIRE_LEN];
        let len = encode_frame(header, payload, &mut buf).unwrap();
        buf[..len].to_vec()
    }

    fn csi(seq: u32, made_ns: u64) -> Vec<u8> {
        let iq = [Iq { re: 1, im: -1 }; 16];
        let header = HeaderRepr::new(1, 0, Modality::Wifi, seq, node_us(made_ns));
        let payload = PayloadRepr::Csi(CsiRepr {
            rssi: -50,
            noise_floor: -90,
            channel: 6,
            antenna: 0,
            bandwidth_mhz: 20,
            iq: &iq,
        });
        wire(&header, &payload)
    }

    /// The node's answer to a request sent at `t1_ns`, and the gateway time it arrives
    /// (the request takes the link delay too).
    fn answer(seq: u32, t1_ns: u64) -> (u64, Vec<u8>) {
        let t2 = node_us(t1_ns + LINK_DELAY_NS);
        let t3 = t2 + 150;
        let header = HeaderRepr::new(1, 0xFF, Modality::None, seq, t3);
        let response = TimeSyncResponse {
            t1: t1_ns / 1000,
            t2,
            t3,
        };
        let t4 = gateway_ns(t3) + LINK_DELAY_NS;
        (t4, wire(&header, &PayloadRepr::TimeSyncResponse(response)))
    }

    fn chunk(source: &str, arrival_ns: u64, bytes: Vec<u8>) -> SourceEvent {
        SourceEvent::Chunk(RawChunk {
            source: source.into(),
            arrival_ns,
            bytes,
        })
    }

    #[test]
    fn node_publish_times_follow_the_time_sync_and_not_the_link_delay() {
        let path =
            std::env::temp_dir().join(format!("dagr-recorder-sync-{}.mcap", std::process::id()));
        let mut recorder = Recorder::new(CaptureWriter::create(&path, 0).unwrap());
        for name in ["synced", "unsynced"] {
            let stream = StreamInfo {
                name: name.into(),
                format: Format::Node,
                uri: format!("node:///dev/{name}"),
            };
            recorder.add_stream(&stream).unwrap();
        }
        // 20 s of CSI at 50 Hz on both links; only "synced" answers a request every second.
        let mut events = Vec::new();
        for i in 0..1_000u32 {
            let made = u64::from(i) * 20 * MS;
            let arrival = made + LINK_DELAY_NS + (u64::from(i) * 7919 % 3_000) * 1_000;
            for name in ["synced", "unsynced"] {
                events.push((arrival, chunk(name, arrival, csi(i, made))));
            }
            if i % 50 == 0 {
                let (t4, bytes) = answer(i / 50, made + 5 * MS);
                events.push((t4, chunk("synced", t4, bytes)));
            }
        }
        events.sort_by_key(|(at, _)| *at);
        for (_, event) in events {
            recorder.handle(event).unwrap();
        }
        let synced = recorder.clock("synced").unwrap().diagnostics();
        assert_eq!((synced.sync_samples, synced.sync_rejected), (20, 0));
        assert_eq!(
            recorder
                .clock("unsynced")
                .unwrap()
                .diagnostics()
                .sync_samples,
            0
        );
        recorder.finish().unwrap();

        // Error of publish_time against the time each settled data frame was made.
        let mut worst = BTreeMap::<String, f64>::new();
        for entry in CaptureReader::open(&path).unwrap() {
            let Entry::Chunk {
                stream,
                publish_ns,
                bytes,
                ..
            } = entry
            else {
                continue;
            };
            let mut decoder = RecordDecoder::new(Format::Node, stream.name.clone());
            let mut made = None;
            decoder.feed(&bytes, 0, &mut |d| {
                if let Decoded::Record(r) = d {
                    if let crate::record::DeviceTime::NodeMicros(us) = r.device_time {
                        made = Some(gateway_ns(us));
                    }
                }
            });
            if let Some(made) = made.filter(|&t| t >= 5 * S) {
                let err = (publish_ns as f64 - made as f64).abs();
                let w = worst.entry(stream.name.to_string()).or_default();
                *w = w.max(err);
            }
        }
        std::fs::remove_file(&path).unwrap();
        assert!(
            worst["synced"] < 1e5,
            "synced worst error {} ns",
            worst["synced"]
        );
        assert!(
            worst["unsynced"] > 10e6,
            "without sync the link delay shows: {} ns",
            worst["unsynced"]
        );
    }
}
