//! A capture's windows, cut as the gateway cuts them: every chunk through its stream's
//! [`RecordDecoder`], every record through its source's clock model ([`SourceClocks`]), then
//! the [`Synchronizer`] polled at each chunk's arrival time. The file is read at full speed
//! ([`CaptureReader`] directly, no wall-clock pacing); at its end the decoders are finished
//! and the synchronizer flushed, so the last partial windows come out too.
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::capture::{CaptureError, CaptureReader, Entry, StreamInfo};
use crate::clock::SourceClocks;
use crate::clock::TimeSyncExchange;
use crate::ingest::{Control, Decoded, RecordDecoder};
use crate::sync::{SyncConfig, Synchronizer, Window};

/// Window geometry for `window_s`-second windows every `hop_s`, the rest as the gateway's
/// defaults.
pub fn sync_config(window_s: f64, hop_s: f64) -> SyncConfig {
    SyncConfig {
        window_ns: (window_s * 1e9).round() as u64,
        hop_ns: (hop_s * 1e9).round() as u64,
        ..SyncConfig::default()
    }
}

/// What replaying a capture left besides its windows.
#[derive(Debug, Clone, Default)]
pub struct ReplayTally {
    /// Records decoded.
    pub records: u64,
    /// The reader's warning when the file was cut short or damaged.
    pub warning: Option<String>,
}

struct Stream {
    decoder: RecordDecoder,
    last_ns: u64,
}

/// Replays `path` through decoders, clocks and a synchronizer with `config`, handing every
/// window to `each` in order. Also returns the capture's metadata (merged `dagr` records).
pub fn replay_windows(
    path: &Path,
    config: SyncConfig,
    each: &mut dyn FnMut(Window),
) -> Result<(ReplayTally, std::collections::BTreeMap<String, String>), CaptureError> {
    let mut sync = Synchronizer::new(config).map_err(|e| CaptureError::new(path, e.to_string()))?;
    let mut reader = CaptureReader::open(path)?;
    let mut clocks = SourceClocks::new();
    let mut streams: HashMap<Arc<str>, Stream> = HashMap::new();
    let mut tally = ReplayTally::default();
    for entry in reader.by_ref() {
        let Entry::Chunk {
            stream,
            log_ns,
            bytes,
            ..
        } = entry
        else {
            continue;
        };
        let s = streams
            .entry(stream.name.clone())
            .or_insert_with(|| new_stream(&stream, log_ns));
        s.last_ns = log_ns;
        s.decoder.feed(&bytes, log_ns, &mut |d| {
            take(d, &stream.name, log_ns, &mut clocks, &mut sync, &mut tally)
        });
        sync.poll(log_ns).into_iter().for_each(&mut *each);
    }
    let mut names: Vec<Arc<str>> = streams.keys().cloned().collect();
    names.sort();
    for name in names {
        let s = streams.get_mut(&name).expect("listed above");
        let last_ns = s.last_ns;
        s.decoder.finish(last_ns, &mut |d| {
            take(d, &name, last_ns, &mut clocks, &mut sync, &mut tally)
        });
    }
    sync.flush().into_iter().for_each(each);
    tally.warning = reader.warning();
    Ok((tally, reader.metadata().clone()))
}

fn new_stream(info: &StreamInfo, log_ns: u64) -> Stream {
    Stream {
        decoder: RecordDecoder::new(info.format, info.name.clone()),
        last_ns: log_ns,
    }
}

/// Maps a record onto gateway time and hands it to the synchronizer; feeds node time-sync
/// answers to the clocks (as the gateway does).
fn take(
    decoded: Decoded,
    source: &Arc<str>,
    arrival_ns: u64,
    clocks: &mut SourceClocks,
    sync: &mut Synchronizer,
    tally: &mut ReplayTally,
) {
    match decoded {
        Decoded::Record(record) => {
            tally.records += 1;
            let t_ns = clocks.map(&record);
            sync.push(record, t_ns);
        }
        Decoded::Control(Control::Node(frame)) => {
            if let Some(exchange) = TimeSyncExchange::from_frame(source, &frame, arrival_ns) {
                // A rejected exchange leaves the model as it was; the gateway does the same.
                let _ = clocks.time_sync(&exchange);
            }
        }
        Decoded::Control(Control::Llrp(_)) => {}
    }
}
