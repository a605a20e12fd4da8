//! Writing a capture: channels, raw chunks, labels and status changes into an MCAP file
//! laid out as the [module doc](super) says, with chunks closed often enough that a crash
//! loses at most about a second.
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcap::records::{MessageHeader, Metadata};

use super::{
    status_to_json, CaptureError, Label, StreamInfo, LABELS_TOPIC, METADATA_NAME, PROFILE,
    RAW_ENCODING, STATUS_TOPIC,
};
use crate::clock::GatewayClock;
use crate::events::SourceStatus;

/// Longest time data stays in an open (not yet on disk) chunk.
pub const MAX_CHUNK_AGE: Duration = Duration::from_secs(1);
/// Uncompressed size at which a chunk is closed regardless of age.
pub const CHUNK_SIZE: u64 = 512 * 1024;

const LABEL_SCHEMA: &str = r#"{"type":"object","properties":{"start":{"type":"number"},"end":{"type":"number"},"class":{"type":"string"}}}"#;
const STATUS_SCHEMA: &str = r#"{"type":"object","properties":{"source":{"type":"string"},"state":{"type":"string","enum":["connected","disconnected","finished"]},"reason":{"type":["string","null"]},"retry_in_ms":{"type":["integer","null"]}}}"#;

/// An open capture being written. Call [`finish`](Self::finish) to write the summary; a
/// writer that is dropped or killed instead leaves a file readable up to its last chunk.
pub struct CaptureWriter {
    path: PathBuf,
    mcap: mcap::Writer<BufWriter<File>>,
    streams: HashMap<std::sync::Arc<str>, u16>,
    labels: u16,
    status: u16,
    sequences: HashMap<u16, u32>,
    chunk_opened: Option<Instant>,
    age_flush: bool,
}

/// The wall-clock time at `clock`'s zero, ns since the Unix epoch.
pub fn epoch_unix_ns(clock: &GatewayClock) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    now.saturating_sub(clock.now_ns())
}

impl CaptureWriter {
    /// Creates (or replaces) `path` and writes the header, the capture metadata and the
    /// label and status channels. `epoch_unix_ns`: see [`epoch_unix_ns`].
    pub fn create(path: &Path, epoch_unix_ns: u64) -> Result<Self, CaptureError> {
        let file = File::create(path).map_err(|e| CaptureError::new(path, e))?;
        Self::with_file(file, path, epoch_unix_ns)
    }

    /// Like [`create`](Self::create), into `file` already opened for `path` (empty, and
    /// locked by [`crate::output::create_locked`] when recording).
    pub fn with_file(file: File, path: &Path, epoch_unix_ns: u64) -> Result<Self, CaptureError> {
        let options = mcap::WriteOptions::new()
            .compression(None)
            .profile(PROFILE)
            .library(format!("dagr {}", env!("CARGO_PKG_VERSION")))
            .chunk_size(Some(CHUNK_SIZE));
        let err = |e: mcap::McapError| CaptureError::new(path, e);
        let mut mcap = options.create(BufWriter::new(file)).map_err(err)?;
        mcap.write_metadata(&Metadata {
            name: METADATA_NAME.to_string(),
            metadata: BTreeMap::from([
                (
                    "dagr_version".to_string(),
                    env!("CARGO_PKG_VERSION").to_string(),
                ),
                (
                    "gateway_epoch_unix_ns".to_string(),
                    epoch_unix_ns.to_string(),
                ),
            ]),
        })
        .map_err(err)?;
        let labels =
            json_channel(&mut mcap, LABELS_TOPIC, "dagr.Label", LABEL_SCHEMA).map_err(err)?;
        let status = json_channel(&mut mcap, STATUS_TOPIC, "dagr.SourceStatus", STATUS_SCHEMA)
            .map_err(err)?;
        Ok(CaptureWriter {
            path: path.to_path_buf(),
            mcap,
            streams: HashMap::new(),
            labels,
            status,
            sequences: HashMap::new(),
            chunk_opened: None,
            age_flush: true,
        })
    }

    /// Closes chunks only at [`CHUNK_SIZE`] or on [`flush`](Self::flush), never by
    /// wall-clock age: for writers not fed in real time (the simulator), whose files must
    /// depend only on what was written, not on how fast.
    pub fn without_age_flush(mut self) -> Self {
        self.age_flush = false;
        self
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds the channel of a source's raw bytes (once per name; later calls are no-ops).
    pub fn add_stream(&mut self, stream: &StreamInfo) -> Result<(), CaptureError> {
        if self.streams.contains_key(&stream.name) {
            return Ok(());
        }
        let id = self
            .mcap
            .add_channel(0, &stream.name, RAW_ENCODING, &stream.channel_metadata())
            .map_err(|e| self.error(e))?;
        self.streams.insert(stream.name.clone(), id);
        Ok(())
    }

    /// True once [`add_stream`](Self::add_stream) was called for `name`.
    pub fn has_stream(&self, name: &str) -> bool {
        self.streams.contains_key(name)
    }

    /// Writes one chunk of raw bytes of source `name` (its stream must have been added).
    pub fn write_chunk(
        &mut self,
        name: &str,
        log_ns: u64,
        publish_ns: u64,
        bytes: &[u8],
    ) -> Result<(), CaptureError> {
        let Some(&channel) = self.streams.get(name) else {
            return Err(self.error(super::CaptureFault::NoChannel(name.to_string())));
        };
        self.write(channel, log_ns, publish_ns, bytes)
    }

    /// Adds entries to the capture's `dagr` metadata (another Metadata record of that name;
    /// [`CaptureReader::metadata`](super::CaptureReader::metadata) merges them), e.g. the
    /// simulator's room and subject, which `dagr dataset export` reads back.
    pub fn write_metadata(
        &mut self,
        entries: BTreeMap<String, String>,
    ) -> Result<(), CaptureError> {
        let record = Metadata {
            name: METADATA_NAME.to_string(),
            metadata: entries,
        };
        self.mcap.write_metadata(&record).map_err(|e| self.error(e))
    }

    /// Writes a label annotation (logged at its start).
    pub fn write_label(&mut self, label: &Label) -> Result<(), CaptureError> {
        let body = serde_json::to_vec(&label.to_json()).map_err(|e| self.error(e))?;
        let at = super::nanos(label.start);
        self.write(self.labels, at, at, &body)
    }

    /// Writes a source state change.
    pub fn write_status(&mut self, status: &SourceStatus) -> Result<(), CaptureError> {
        let body = serde_json::to_vec(&status_to_json(status)).map_err(|e| self.error(e))?;
        self.write(self.status, status.at_ns, status.at_ns, &body)
    }

    /// Closes the open chunk if it has been open for [`MAX_CHUNK_AGE`]; call it regularly,
    /// also when no data arrive.
    pub fn flush_if_due(&mut self) -> Result<(), CaptureError> {
        match self.chunk_opened {
            Some(at) if self.age_flush && at.elapsed() >= MAX_CHUNK_AGE => self.flush(),
            _ => Ok(()),
        }
    }

    /// Time until [`flush_if_due`](Self::flush_if_due) would close the open chunk.
    pub fn flush_due_in(&self) -> Option<Duration> {
        self.chunk_opened
            .map(|at| MAX_CHUNK_AGE.saturating_sub(at.elapsed()))
    }

    /// Closes the open chunk and hands it to the operating system.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        self.chunk_opened = None;
        self.mcap.flush().map_err(|e| self.error(e))
    }

    /// Writes the summary and footer: the file is complete.
    pub fn finish(mut self) -> Result<(), CaptureError> {
        self.mcap.finish().map_err(|e| self.error(e))?;
        Ok(())
    }

    fn write(
        &mut self,
        channel: u16,
        log_ns: u64,
        publish_ns: u64,
        bytes: &[u8],
    ) -> Result<(), CaptureError> {
        let sequence = self.sequences.entry(channel).or_default();
        *sequence = sequence.wrapping_add(1);
        let header = MessageHeader {
            channel_id: channel,
            sequence: *sequence,
            log_time: log_ns,
            publish_time: publish_ns,
        };
        self.mcap
            .write_to_known_channel(&header, bytes)
            .map_err(|e| self.error(e))?;
        self.chunk_opened.get_or_insert_with(Instant::now);
        self.flush_if_due()
    }

    fn error(&self, fault: impl Into<super::CaptureFault>) -> CaptureError {
        CaptureError::new(&self.path, fault)
    }
}

fn json_channel(
    mcap: &mut mcap::Writer<BufWriter<File>>,
    topic: &str,
    schema_name: &str,
    schema: &str,
) -> Result<u16, mcap::McapError> {
    let schema = mcap.add_schema(schema_name, "jsonschema", schema.as_bytes())?;
    mcap.add_channel(schema, topic, "json", &BTreeMap::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::errors::chain;

    #[test]
    fn a_full_disk_is_said_as_such() {
        let Ok(full) = File::options().write(true).open("/dev/full") else {
            eprintln!("skipped: no /dev/full on this machine");
            return;
        };
        let path = Path::new("/dev/full");
        let stream = StreamInfo {
            name: "esp".into(),
            format: crate::format::Format::Esp32Csi,
            uri: String::new(),
        };
        let written = CaptureWriter::with_file(full, path, 0).and_then(|mut writer| {
            writer.add_stream(&stream)?;
            writer.write_chunk("esp", 0, 0, &vec![0; 2 * CHUNK_SIZE as usize])?;
            writer.finish()
        });
        let error = written.expect_err("/dev/full takes no byte");
        let said = chain(&error);
        assert!(said.contains("No space left on device"), "{said}");
        assert!(said.starts_with("capture /dev/full"), "{said}");
    }
}
