//! Captures: every byte a gateway received, with its arrival time, in an MCAP file that a
//! replay runs through the very decoders a live run used (and that Foxglove and the `mcap`
//! CLI can open).
//!
//! # On-disk format
//! - Header profile `dagr`; library `dagr <version>`. First record after the header: a
//!   Metadata record named `dagr` with `dagr_version` and `gateway_epoch_unix_ns` (the
//!   wall-clock time, ns since the Unix epoch, at the gateway clock's zero; add it to a
//!   `log_time` to get wall-clock time).
//!   Writers may add further `dagr` Metadata records (readers merge them); simulated
//!   captures add `sim_room`, `sim_subject` and `sim_seed` (`--room`, `--subject`, `--seed`).
//! - One channel per source, topic = source name, message encoding
//!   `application/octet-stream`, no schema, channel metadata `format` (`ti-mmwave`,
//!   `esp32-csi`, `esp-csi`, `intel5300`, `llrp`, `node`), `uri` (the source URI as given)
//!   and `modality` (`mmwave`, `wifi`, `rfid`, or `mixed` for node links). Each message is a
//!   chunk of raw bytes exactly as received; `log_time` = gateway arrival (ns since the
//!   gateway epoch); `publish_time` = the device time of the last record the chunk
//!   completed, mapped to gateway ns by the source's clock model, or `log_time` when the
//!   chunk completed no record.
//! - Channel `/labels` (encoding `json`, JSON-schema `dagr.Label`): one annotation per
//!   message, `{"start": s, "end": s, "class": "..."}` in gateway seconds; `log_time` =
//!   start.
//! - Channel `/status` (encoding `json`, JSON-schema `dagr.SourceStatus`): one message per
//!   source state change, `{"source", "state": "connected"|"disconnected"|"finished",
//!   "reason", "retry_in_ms"}`; `log_time` = when it happened.
//! - Who writes what: [`CaptureWriter`] lays the file out; [`Recorder`] turns source events
//!   into it, running each stream's own decoder to find the records a chunk completed (so
//!   publish times depend only on the bytes in the file); recording a `replay://` source
//!   keeps the original source names, arrival times and the replayed capture's labels.
//! - Readers: [`CaptureReader`] (entries in file order), the replay source
//!   (`source::replay`, records per the gateway's [`RecordDecoder`](crate::pipeline)),
//!   [`inspect`] (per-stream report). `dagr replay` prints what `dagr decode` prints for
//!   each stream's bytes (one object per LLRP message, not per tag report).
//! - Uncompressed chunks (no C dependency; the bytes are mostly small binary frames or CSV
//!   rows), closed at least every second and at 512 KiB, each with its CRC: a writer killed
//!   mid-run leaves a file whose complete chunks a [`CaptureReader`] still reads; the reader
//!   stops at the first incomplete or damaged chunk and reports it as a warning.
//!
//! Captures must not know live devices (sources) nor the runtime that feeds the recorder:
//! they store and read back events ([`crate::events`]) and run bytes through the
//! [`crate::pipeline`] only to stamp publish times and to inspect.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::events::{SourceState, SourceStatus};
use crate::format::Format;
use crate::record::Modality;

pub mod inspect;
pub mod pace;
mod plain_chunk;
pub mod read_fault;
pub mod reader;
pub mod recorder;
pub mod writer;

pub use dagr_classes::Label;
pub use pace::{Pacer, Speed, SpeedError};
pub use read_fault::{DamageReason, StopReason};
pub use reader::{CaptureReader, Damage, Entry, ReadEnd};
pub use recorder::{Recorder, StreamTally};
pub use writer::CaptureWriter;

/// MCAP header profile of dagr captures.
pub const PROFILE: &str = "dagr";
/// Topic of the label channel.
pub const LABELS_TOPIC: &str = "/labels";
/// Topic of the source status channel.
pub const STATUS_TOPIC: &str = "/status";
/// Name of the Metadata record describing the capture.
pub const METADATA_NAME: &str = "dagr";
/// `dagr` metadata key of a simulated capture's room (`dagr sim --room K`).
pub const META_ROOM: &str = "sim_room";
/// `dagr` metadata key of a simulated capture's person (`dagr sim --subject K`).
pub const META_SUBJECT: &str = "sim_subject";
/// `dagr` metadata key of a simulated capture's seed (`dagr sim --seed N`).
pub const META_SEED: &str = "sim_seed";
/// Message encoding of the raw byte channels.
pub const RAW_ENCODING: &str = "application/octet-stream";

/// What a capture channel of raw bytes holds: one source's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Source name (the channel's topic).
    pub name: Arc<str>,
    /// Device format of the bytes.
    pub format: Format,
    /// The source URI as the user gave it (empty when unknown).
    pub uri: String,
}

impl StreamInfo {
    /// The modality a stream's records feed, `None` for node links (one per frame).
    pub fn modality(&self) -> Option<Modality> {
        self.format.modality()
    }

    /// The `modality` channel metadata value.
    pub fn modality_name(&self) -> &'static str {
        self.modality().map_or("mixed", Modality::name)
    }

    /// The channel metadata written for this stream.
    fn channel_metadata(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("format".to_string(), self.format.name().to_string()),
            ("uri".to_string(), self.uri.clone()),
            ("modality".to_string(), self.modality_name().to_string()),
        ])
    }
}

/// The JSON message body of a status change.
pub fn status_to_json(status: &SourceStatus) -> serde_json::Value {
    let (state, reason, retry) = match &status.state {
        SourceState::Connected => ("connected", None, None),
        SourceState::Disconnected {
            reason,
            retry_in_ms,
        } => ("disconnected", Some(reason.as_str()), Some(*retry_in_ms)),
        SourceState::Finished => ("finished", None, None),
    };
    json!({"source": &*status.source, "state": state, "reason": reason, "retry_in_ms": retry})
}

/// Parses a status message body logged at `at_ns`; `None` if malformed.
pub fn status_from_json(bytes: &[u8], at_ns: u64) -> Option<SourceStatus> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let state = match v.get("state")?.as_str()? {
        "connected" => SourceState::Connected,
        "finished" => SourceState::Finished,
        "disconnected" => SourceState::Disconnected {
            reason: v.get("reason")?.as_str().unwrap_or_default().to_string(),
            retry_in_ms: v.get("retry_in_ms")?.as_u64().unwrap_or(0),
        },
        _ => return None,
    };
    Some(SourceStatus {
        source: v.get("source")?.as_str()?.into(),
        at_ns,
        state,
    })
}

/// Seconds from gateway nanoseconds.
pub fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Gateway nanoseconds from seconds (negative and non-finite clamp to 0).
pub fn nanos(s: f64) -> u64 {
    if s.is_finite() && s > 0.0 {
        (s * 1e9).round() as u64
    } else {
        0
    }
}

/// Why a capture could not be opened, written or read: the file, and the fault.
#[derive(Debug, thiserror::Error)]
#[error("capture {}: {fault}", path.display())]
pub struct CaptureError {
    /// The capture file.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub fault: CaptureFault,
}

/// What went wrong with a capture file.
#[derive(Debug, thiserror::Error)]
pub enum CaptureFault {
    /// The file system refused.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The MCAP layer refused (a damaged record); its I/O failures are [`Io`](Self::Io).
    #[error(transparent)]
    Mcap(mcap::McapError),
    /// A JSON message body could not be encoded.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The file ends before the 8 magic bytes every MCAP file starts with.
    #[error("too short to be an MCAP file (expected the 8 MCAP magic bytes)")]
    TooShort,
    /// The file does not start with the MCAP magic bytes.
    #[error("not an MCAP file (expected the MCAP magic bytes \\x89MCAP0\\r\\n)")]
    NotMcap,
    /// A chunk was written for a source the capture has no channel for.
    #[error("no channel for source {0:?}")]
    NoChannel(String),
    /// The windows a capture was to be cut into are impossible (an invalid synchronizer
    /// configuration).
    #[error(transparent)]
    Windows(#[from] crate::sync::SyncConfigError),
}

impl From<mcap::McapError> for CaptureFault {
    /// An I/O failure under the MCAP layer is said as the I/O error it is (a full disk says
    /// "No space left on device"), not in the MCAP layer's words ("I/O error from writing,
    /// or reading a compression stream").
    fn from(e: mcap::McapError) -> Self {
        match e {
            mcap::McapError::Io(e) => CaptureFault::Io(e),
            other => CaptureFault::Mcap(other),
        }
    }
}

impl CaptureError {
    pub(crate) fn new(path: &Path, fault: impl Into<CaptureFault>) -> Self {
        CaptureError {
            path: path.to_path_buf(),
            fault: fault.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_statuses_survive_their_json_form() {
        let label = Label {
            start: 1.5,
            end: 3.25,
            class: "walk".into(),
        };
        let body = serde_json::to_vec(&label.to_json()).unwrap();
        assert_eq!(Label::from_json(&body), Some(label));
        let status = SourceStatus {
            source: "esp".into(),
            at_ns: 7,
            state: SourceState::Disconnected {
                reason: "unplugged".into(),
                retry_in_ms: 500,
            },
        };
        let body = serde_json::to_vec(&status_to_json(&status)).unwrap();
        assert_eq!(status_from_json(&body, 7), Some(status));
        assert_eq!(Label::from_json(b"{\"start\": 1}"), None);
    }
}
