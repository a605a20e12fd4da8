//! Reading a capture in file order, from a complete file or from one cut short.
//!
//! The reader streams (memory bounded by the largest chunk), validates each chunk's CRC
//! before yielding any of its messages, and stops at the first incomplete or damaged
//! record: everything before it is yielded, and [`CaptureReader::end`] says where and why
//! it stopped, so callers report a truncated capture as a warning rather than failing.
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mcap::records::Record as McapRecord;
use mcap::sans_io::{LinearReadEvent, LinearReader, LinearReaderOptions};

use super::{
    status_from_json, CaptureError, Label, StreamInfo, LABELS_TOPIC, METADATA_NAME, STATUS_TOPIC,
};
use crate::events::SourceStatus;
use crate::format::Format;

/// The MCAP magic bytes every capture starts with.
const MAGIC: &[u8; 8] = b"\x89MCAP0\r\n";
/// Largest record or chunk accepted: a corrupt length field never allocates more.
const RECORD_LIMIT: usize = 64 * 1024 * 1024;
/// Largest single read from the file.
const READ_SIZE: usize = 256 * 1024;

/// One message of a capture.
#[derive(Debug, Clone)]
pub enum Entry {
    /// Raw bytes of one source, as received.
    Chunk {
        /// The source's stream.
        stream: Arc<StreamInfo>,
        /// Gateway arrival, ns.
        log_ns: u64,
        /// Mapped device time of the last record the chunk completed, ns.
        publish_ns: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A ground-truth annotation.
    Label(Label),
    /// A source state change.
    Status(SourceStatus),
}

impl Entry {
    /// The message's log time, ns (a label's start).
    pub fn log_ns(&self) -> u64 {
        match self {
            Entry::Chunk { log_ns, .. } => *log_ns,
            Entry::Label(label) => super::nanos(label.start),
            Entry::Status(status) => status.at_ns,
        }
    }
}

/// How reading ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    /// Not at the end yet.
    Reading,
    /// The whole file was read, footer included.
    Complete,
    /// The file ends early or is damaged after `after_bytes`; everything up to its last
    /// complete chunk was read.
    Truncated {
        /// Bytes of the file consumed when reading stopped.
        after_bytes: u64,
        /// What the MCAP reader found.
        reason: String,
    },
}

enum Channel {
    Raw(Arc<StreamInfo>),
    Labels,
    Status,
    /// A channel this reader does not understand (skipped, counted).
    Other,
}

/// Streams the [`Entry`]s of a capture file in file order.
pub struct CaptureReader {
    path: PathBuf,
    file: File,
    linear: LinearReader,
    bytes_read: u64,
    channels: HashMap<u16, Channel>,
    metadata: BTreeMap<String, String>,
    skipped_messages: u64,
    end: ReadEnd,
}

enum Step {
    Read(usize),
    Record(Result<Option<Entry>, String>),
    Done,
    Failed(String),
}

impl CaptureReader {
    /// Opens `path`; fails if it cannot be read or does not start like an MCAP file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let mut file = File::open(path).map_err(|e| CaptureError::new(path, e))?;
        let mut magic = [0u8; 8];
        if let Err(e) = file.read_exact(&mut magic) {
            return Err(match e.kind() {
                ErrorKind::UnexpectedEof => CaptureError::new(
                    path,
                    "too short to be an MCAP file (expected the 8 MCAP magic bytes)",
                ),
                _ => CaptureError::new(path, e),
            });
        }
        if &magic != MAGIC {
            return Err(CaptureError::new(
                path,
                "not an MCAP file (expected the MCAP magic bytes \\x89MCAP0\\r\\n)",
            ));
        }
        let options = LinearReaderOptions::default()
            .with_skip_start_magic(true)
            .with_prevalidate_chunk_crcs(true)
            .with_record_length_limit(RECORD_LIMIT);
        Ok(CaptureReader {
            path: path.to_path_buf(),
            file,
            linear: LinearReader::new_with_options(options),
            bytes_read: MAGIC.len() as u64,
            channels: HashMap::new(),
            metadata: BTreeMap::new(),
            skipped_messages: 0,
            end: ReadEnd::Reading,
        })
    }

    /// Reads the whole file and returns its streams (in channel order) and labels: what a
    /// replay or a recorder needs to know before starting.
    pub fn catalog(path: &Path) -> Result<(Vec<Arc<StreamInfo>>, Vec<Label>), CaptureError> {
        let mut reader = CaptureReader::open(path)?;
        let labels = reader
            .by_ref()
            .filter_map(|e| match e {
                Entry::Label(label) => Some(label),
                _ => None,
            })
            .collect();
        Ok((reader.streams(), labels))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The streams seen so far, by channel id.
    pub fn streams(&self) -> Vec<Arc<StreamInfo>> {
        let mut ids: Vec<_> = self.channels.keys().copied().collect();
        ids.sort_unstable();
        ids.iter()
            .filter_map(|id| match &self.channels[id] {
                Channel::Raw(stream) => Some(stream.clone()),
                _ => None,
            })
            .collect()
    }

    /// The capture's `dagr` metadata seen so far (`dagr_version`, `gateway_epoch_unix_ns`).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Messages of channels this reader does not understand, skipped.
    pub fn skipped_messages(&self) -> u64 {
        self.skipped_messages
    }

    /// How reading ended (after the iterator returned `None`).
    pub fn end(&self) -> &ReadEnd {
        &self.end
    }

    /// A warning for a truncated or damaged file, naming it.
    pub fn warning(&self) -> Option<String> {
        match &self.end {
            ReadEnd::Truncated {
                after_bytes,
                reason,
            } => Some(format!(
                "capture {} is incomplete ({reason} after {after_bytes} bytes): \
                 read up to its last complete chunk",
                self.path.display()
            )),
            _ => None,
        }
    }

    fn step(&mut self) -> Step {
        match self.linear.next_event() {
            None => Step::Done,
            Some(Err(e)) => Step::Failed(e.to_string()),
            Some(Ok(LinearReadEvent::ReadRequest(n))) => Step::Read(n),
            Some(Ok(LinearReadEvent::Record { data, opcode })) => {
                let record = mcap::parse_record(opcode, data).map_err(|e| e.to_string());
                Step::Record(record.map(|r| {
                    interpret(
                        r,
                        &mut self.channels,
                        &mut self.metadata,
                        &mut self.skipped_messages,
                    )
                }))
            }
        }
    }

    fn read_more(&mut self, wanted: usize) -> Result<(), String> {
        let buffer = self.linear.insert(wanted.clamp(1, READ_SIZE));
        let n = loop {
            match self.file.read(buffer) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.to_string()),
            }
        };
        self.bytes_read += n as u64;
        self.linear.notify_read(n);
        Ok(())
    }

    fn stop(&mut self, reason: String) {
        self.end = ReadEnd::Truncated {
            after_bytes: self.bytes_read,
            reason,
        };
    }
}

impl Iterator for CaptureReader {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        while self.end == ReadEnd::Reading {
            match self.step() {
                Step::Done => self.end = ReadEnd::Complete,
                Step::Failed(reason) | Step::Record(Err(reason)) => self.stop(reason),
                Step::Read(n) => {
                    if let Err(reason) = self.read_more(n) {
                        self.stop(reason);
                    }
                }
                Step::Record(Ok(Some(entry))) => return Some(entry),
                Step::Record(Ok(None)) => {}
            }
        }
        None
    }
}

/// Learns from a definition record, or turns a message into an entry.
fn interpret(
    record: McapRecord<'_>,
    channels: &mut HashMap<u16, Channel>,
    metadata: &mut BTreeMap<String, String>,
    skipped: &mut u64,
) -> Option<Entry> {
    match record {
        McapRecord::Channel(c) => {
            channels.insert(c.id, channel_kind(&c));
            None
        }
        McapRecord::Metadata(m) if m.name == METADATA_NAME => {
            metadata.extend(m.metadata);
            None
        }
        McapRecord::Message { header, data } => {
            let entry = match channels.get(&header.channel_id) {
                Some(Channel::Raw(stream)) => Some(Entry::Chunk {
                    stream: stream.clone(),
                    log_ns: header.log_time,
                    publish_ns: header.publish_time,
                    bytes: data.into_owned(),
                }),
                Some(Channel::Labels) => Label::from_json(&data).map(Entry::Label),
                Some(Channel::Status) => {
                    status_from_json(&data, header.log_time).map(Entry::Status)
                }
                Some(Channel::Other) | None => None,
            };
            if entry.is_none() {
                *skipped += 1;
            }
            entry
        }
        _ => None,
    }
}

fn channel_kind(c: &mcap::records::Channel) -> Channel {
    match c.topic.as_str() {
        LABELS_TOPIC => return Channel::Labels,
        STATUS_TOPIC => return Channel::Status,
        _ => {}
    }
    let format = c.metadata.get("format").and_then(|f| Format::from_name(f));
    match format {
        Some(format) => Channel::Raw(Arc::new(StreamInfo {
            name: c.topic.as_str().into(),
            format,
            uri: c.metadata.get("uri").cloned().unwrap_or_default(),
        })),
        None => Channel::Other,
    }
}
