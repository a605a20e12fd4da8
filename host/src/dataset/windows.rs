//! A capture's windows, cut as the gateway cuts them: every chunk through the gateway's
//! [`Pipeline`] (decoders, clock models, synchronizer polled at each chunk's arrival time).
//! The file is read at full speed ([`CaptureReader`] directly, no wall-clock pacing); at
//! its end the decoders are finished and the synchronizer flushed, so the last partial
//! windows come out too.
use std::collections::BTreeMap;
use std::path::Path;

use crate::capture::{CaptureError, CaptureReader, Entry};
use crate::pipeline::Pipeline;
use crate::source::serial::settings::wire_rate;
use crate::sync::{SyncConfig, Window};

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
    /// What was lost to damage (skipped chunks), naming the file.
    pub lost: Option<String>,
}

/// Replays `path` through the pipeline with `config`, handing every window to `each` in
/// order (one window's buffers reused for all but the flushed last ones). Also returns the
/// capture's metadata (merged `dagr` records).
pub fn replay_windows(
    path: &Path,
    config: SyncConfig,
    each: &mut dyn FnMut(&Window),
) -> Result<(ReplayTally, BTreeMap<String, String>), CaptureError> {
    let mut pipeline = Pipeline::with_windows(config).map_err(|e| CaptureError::new(path, e))?;
    let mut reader = CaptureReader::open(path)?;
    let mut wired = std::collections::BTreeSet::new();
    let mut window = Window::empty();
    while let Some(entry) = reader.next() {
        let Entry::Chunk {
            stream,
            log_ns,
            bytes,
            ..
        } = entry
        else {
            continue;
        };
        if wired.insert(stream.name.clone()) {
            if let Some(rate) = wire_rate(&stream.uri) {
                pipeline.set_wire(&stream.name, rate);
            }
        }
        pipeline.push_chunk(&stream.name, stream.format, &bytes, log_ns);
        reader.recycle(bytes);
        while pipeline.poll_into(log_ns, &mut window) {
            each(&window);
        }
    }
    for window in pipeline.finish(&mut |_, _| {}) {
        each(&window);
    }
    let tally = ReplayTally {
        records: pipeline.records(),
        warning: reader.warning(),
        lost: reader.loss(),
    };
    Ok((tally, reader.metadata().clone()))
}
