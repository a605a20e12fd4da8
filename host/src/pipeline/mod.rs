//! The pipeline: device bytes to windows, one implementation for every command.
//!
//! ```text
//! chunk ──> per-stream decoder ──> records ──> clock model per source ──> synchronizer ──> windows
//!                 │                               ^
//!                 └── time-sync exchanges ────────┘
//! ```
//!
//! [`decoder`] is the first stage alone (sources use it on their own threads); [`Pipeline`]
//! is the whole chain. Dataset export and `dagr run` take windows from it; the recorder
//! takes each chunk's last mapped record time (its `publish_time`) and no windows.
//!
//! The pipeline must not know where bytes come from (sources, captures) nor what windows
//! become (preprocessing, inference, sinks): it is fed chunks or records and hands back
//! times and windows.
use std::sync::Arc;

use crate::clock::{ClockModel, SourceClocks, TimeSyncExchange, WireRate};
use crate::format::{Decoded, Format};
use crate::record::Record;
use crate::sync::{SourceTally, SyncConfig, SyncConfigError, SyncStats, Synchronizer, Window};

pub mod decoder;

pub use decoder::{RecordDecoder, StreamDecoders};

/// What one chunk gave the pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkOutcome {
    /// Records the chunk completed.
    pub records: u64,
    /// The device time of the last of them, mapped to gateway ns.
    pub last_mapped_ns: Option<u64>,
}

/// Decoders, clock models and (optionally) a synchronizer, fed chunk by chunk.
pub struct Pipeline {
    decoders: StreamDecoders,
    clocks: SourceClocks,
    sync: Option<Synchronizer>,
    records: u64,
}

impl Pipeline {
    /// Decoders and clock models only: records are mapped onto gateway time, no windows.
    pub fn without_windows() -> Self {
        Pipeline {
            decoders: StreamDecoders::new(),
            clocks: SourceClocks::new(),
            sync: None,
            records: 0,
        }
    }

    /// The whole chain, cutting windows per `config`.
    pub fn with_windows(config: SyncConfig) -> Result<Self, SyncConfigError> {
        Ok(Pipeline {
            sync: Some(Synchronizer::new(config)?),
            ..Pipeline::without_windows()
        })
    }

    /// Decodes a chunk of `source` (a `format` stream) that arrived at `arrival_ns`, maps
    /// its records onto gateway time, feeds its time-sync answers to the clock models and
    /// its records to the synchronizer.
    pub fn push_chunk(
        &mut self,
        source: &Arc<str>,
        format: Format,
        bytes: &[u8],
        arrival_ns: u64,
    ) -> ChunkOutcome {
        let mut outcome = ChunkOutcome::default();
        let (clocks, sync) = (&mut self.clocks, &mut self.sync);
        self.decoders
            .feed(source, format, bytes, arrival_ns, &mut |d| {
                take(d, clocks, sync, &mut outcome)
            });
        self.records += outcome.records;
        outcome
    }

    /// Declares the speed of the link `source`'s bytes cross (from its source settings):
    /// each of its records' wire time is then taken off its arrival before clock mapping.
    pub fn set_wire(&mut self, source: &Arc<str>, rate: WireRate) {
        self.clocks.set_wire(source, rate);
    }

    /// Takes a record a source decoded already (a live run): mapped, then synchronized.
    /// Returns its mapped time.
    pub fn push_record(&mut self, record: Record) -> u64 {
        let mut outcome = ChunkOutcome::default();
        take(
            Decoded::Record(record),
            &mut self.clocks,
            &mut self.sync,
            &mut outcome,
        );
        self.records += 1;
        outcome.last_mapped_ns.unwrap_or_default()
    }

    /// Takes a time-sync exchange a source completed (a live run).
    pub fn push_time_sync(&mut self, exchange: &TimeSyncExchange) {
        // A rejected exchange leaves the model as it was (the model counts it).
        let _ = self.clocks.time_sync(exchange);
    }

    /// The windows whose deadline passed at gateway time `now_ns` (none without windows).
    pub fn poll(&mut self, now_ns: u64) -> Vec<Window> {
        self.sync.as_mut().map_or_else(Vec::new, |s| s.poll(now_ns))
    }

    /// Cuts the next window due at gateway time `now_ns` into `window`, reusing its
    /// buffers; false when none is due (or without windows). The live path's allocation-free
    /// form of [`poll`](Self::poll).
    pub fn poll_into(&mut self, now_ns: u64, window: &mut Window) -> bool {
        self.sync
            .as_mut()
            .is_some_and(|s| s.poll_into(now_ns, window))
    }

    /// Ends the input: every stream's decoder yields its last units (stamped with the
    /// stream's last arrival; `each` learns what each stream gave), then every window still
    /// open goes out.
    pub fn finish(&mut self, each: &mut dyn FnMut(&Arc<str>, ChunkOutcome)) -> Vec<Window> {
        for (name, mut decoder, last_ns) in self.decoders.take_all() {
            let mut outcome = ChunkOutcome::default();
            let (clocks, sync) = (&mut self.clocks, &mut self.sync);
            decoder.finish(last_ns, &mut |d| take(d, clocks, sync, &mut outcome));
            self.records += outcome.records;
            each(&name, outcome);
        }
        self.sync
            .as_mut()
            .map_or_else(Vec::new, Synchronizer::flush)
    }

    /// Gateway ns at which the next window is due (none without windows or before the
    /// first record).
    pub fn next_deadline_ns(&self) -> Option<u64> {
        self.sync.as_ref().and_then(Synchronizer::next_deadline_ns)
    }

    /// Records taken so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The synchronizer's totals (records placed, late, windows...), when it cuts windows.
    pub fn sync_stats(&self) -> Option<SyncStats> {
        self.sync.as_ref().map(Synchronizer::stats)
    }

    /// The synchronizer's per-stream tallies (records, late), when it cuts windows.
    pub fn sync_sources(&self) -> Option<&std::collections::BTreeMap<Arc<str>, SourceTally>> {
        self.sync.as_ref().map(Synchronizer::sources)
    }

    /// The clock model of `source`, once it sent a record or a time-sync answer.
    pub fn clock(&self, source: &str) -> Option<&ClockModel> {
        self.clocks.get(source)
    }

    /// Every source's clock model.
    pub fn clocks(&self) -> &SourceClocks {
        &self.clocks
    }
}

/// One decoded unit through the clocks (and the synchronizer).
fn take(
    decoded: Decoded,
    clocks: &mut SourceClocks,
    sync: &mut Option<Synchronizer>,
    outcome: &mut ChunkOutcome,
) {
    match decoded {
        Decoded::Record(record) => {
            let t_ns = clocks.map(&record);
            outcome.records += 1;
            outcome.last_mapped_ns = Some(t_ns);
            if let Some(sync) = sync {
                sync.push(record, t_ns);
            }
        }
        // A rejected exchange leaves the model as it was (the model counts it).
        Decoded::TimeSync(exchange) => {
            let _ = clocks.time_sync(&exchange);
        }
        Decoded::Control(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(path: &str) -> Vec<u8> {
        let full = format!(
            "{}/../../shared/fixtures/real/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    /// Two real streams cut into chunks with made-up arrivals, interleaved by arrival.
    fn chunks() -> Vec<(Arc<str>, Format, u64, Vec<u8>)> {
        let streams = [
            (
                "radar",
                Format::TiMmwave,
                "ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat",
                50_000_000,
            ),
            (
                "csi",
                Format::Esp32Csi,
                "esp32_csi/example_csi.csv",
                120_000_000,
            ),
        ];
        let mut chunks = Vec::new();
        for (name, format, path, every_ns) in streams {
            for (i, bytes) in real(path).chunks(700).enumerate() {
                chunks.push((name.into(), format, i as u64 * every_ns, bytes.to_vec()));
            }
        }
        chunks.sort_by_key(|c| c.2);
        chunks
    }

    #[test]
    fn a_declared_wire_rate_maps_each_record_from_its_first_byte() {
        let radar: Arc<str> = "radar".into();
        let bytes = real("ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat");
        let run = |wire: Option<WireRate>| {
            let mut pipeline = Pipeline::without_windows();
            if let Some(rate) = wire {
                pipeline.set_wire(&radar, rate);
            }
            // One frame (736 bytes) per chunk, every 50 ms.
            let mut last = Vec::new();
            for (i, frame) in bytes.chunks(736).enumerate() {
                let at = 1_000_000_000 + i as u64 * 50_000_000;
                let outcome = pipeline.push_chunk(&radar, Format::TiMmwave, frame, at);
                last.extend(outcome.last_mapped_ns.map(|t| at - t));
            }
            last
        };
        let (plain, wired) = (run(None), run(Some(WireRate::serial(921_600))));
        assert_eq!(plain.len(), 101);
        assert!(plain.iter().all(|&behind| behind < 1_000), "{plain:?}");
        // 736 bytes x 10 bits / 921 600 Bd = 7.986 ms before the last byte.
        assert!(
            wired
                .iter()
                .all(|&behind| behind.abs_diff(7_986_111) < 1_000),
            "{wired:?}"
        );
    }

    /// A window's start and its record count per source.
    type WindowSummary = (u64, Vec<(Arc<str>, usize)>);

    fn window_summary(windows: &[Window]) -> Vec<WindowSummary> {
        windows
            .iter()
            .map(|w| {
                let counts = w
                    .sources
                    .iter()
                    .map(|s| (s.source.clone(), s.records))
                    .collect();
                (w.start_ns, counts)
            })
            .collect()
    }

    #[test]
    fn records_decoded_by_sources_give_the_windows_chunks_give() {
        let config = SyncConfig {
            window_ns: 1_000_000_000,
            hop_ns: 500_000_000,
            ..SyncConfig::default()
        };
        // Replay, dataset export: the pipeline decodes the chunks.
        let mut from_chunks = Pipeline::with_windows(config).unwrap();
        let mut chunk_windows = Vec::new();
        for (name, format, at, bytes) in chunks() {
            from_chunks.push_chunk(&name, format, &bytes, at);
            chunk_windows.extend(from_chunks.poll(at));
        }
        chunk_windows.extend(from_chunks.finish(&mut |_, _| {}));

        // A live run: sources decode on their threads and send records.
        let mut from_records = Pipeline::with_windows(config).unwrap();
        let mut decoders = StreamDecoders::new();
        let mut record_windows = Vec::new();
        for (name, format, at, bytes) in chunks() {
            let mut records = Vec::new();
            decoders.feed(&name, format, &bytes, at, &mut |d| {
                if let Decoded::Record(r) = d {
                    records.push(r);
                }
            });
            records.into_iter().for_each(|r| {
                from_records.push_record(r);
            });
            record_windows.extend(from_records.poll(at));
        }
        for (_, mut decoder, last_ns) in decoders.take_all() {
            decoder.finish(last_ns, &mut |d| {
                if let Decoded::Record(r) = d {
                    from_records.push_record(r);
                }
            });
        }
        record_windows.extend(from_records.finish(&mut |_, _| {}));

        assert_eq!(from_chunks.records(), 101 + 13);
        assert_eq!(from_records.records(), from_chunks.records());
        assert!(chunk_windows.len() > 4, "{} windows", chunk_windows.len());
        assert_eq!(
            window_summary(&record_windows),
            window_summary(&chunk_windows)
        );
    }
}
