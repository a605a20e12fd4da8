//! Reading a capture in file order, from a complete file or from one cut short.
//!
//! The reader streams (memory bounded by the largest chunk, every length bounded before it
//! is allocated), validates each chunk's CRC before yielding any of its messages and
//! decompresses zstd and lz4 chunks (other tools' writers). A chunk that fails its CRC or
//! does not parse is skipped: the reader resynchronizes on the next chunk (from the
//! summary's chunk index when the file has one, else by scanning forward for a plausible
//! chunk header) and records the loss in [`CaptureReader::damage`] / [`CaptureReader::loss`]
//! so callers exit non-zero. A file cut short yields everything up to its last complete
//! chunk and [`CaptureReader::end`] says where it stopped (a warning, not a failure).
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mcap::records::Record as McapRecord;
use mcap::sans_io::{LinearReadEvent, LinearReader, LinearReaderOptions};

use super::plain_chunk::PlainChunk;
use super::read_fault::{DamageReason, StopReason};
use super::{
    status_from_json, CaptureError, CaptureFault, Label, StreamInfo, LABELS_TOPIC, METADATA_NAME,
    STATUS_TOPIC,
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
    /// The whole file was read to its data end (damaged parts are in [`CaptureReader::damage`]).
    Complete,
    /// The file ends early after `after_bytes`; everything up to its last complete chunk was
    /// read.
    Truncated {
        /// Bytes of the file consumed when reading stopped.
        after_bytes: u64,
        /// Why reading stopped.
        reason: StopReason,
    },
}

/// One damaged part of a capture that was skipped, so the user can be told what was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// File offset where the damaged part starts.
    pub offset: u64,
    /// Bytes skipped.
    pub bytes: u64,
    /// Chunks that failed their CRC or did not parse.
    pub chunks: u64,
    /// What was wrong with the first damaged record.
    pub reason: DamageReason,
    /// Log time of the last entry read before the damage, ns.
    pub after_ns: Option<u64>,
    /// Log time of the first entry read after the damage, ns.
    pub before_ns: Option<u64>,
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
    file: BufReader<File>,
    pos: u64,
    file_len: u64,
    chunk_offsets: Vec<u64>,
    has_summary: bool,
    channels: HashMap<u16, Channel>,
    metadata: BTreeMap<String, String>,
    skipped_messages: u64,
    pending: VecDeque<Entry>,
    last_ns: Option<u64>,
    damage: Vec<Damage>,
    /// Messages whose channel was never defined (its definition lost to damage).
    orphans: u64,
    end: ReadEnd,
    /// The record being read, kept from record to record (a chunk is up to megabytes:
    /// a fresh buffer per chunk was zeroed and mapped again each time).
    record_buffer: Vec<u8>,
    /// The summary's chunk index: each chunk's offset and the channels it holds messages of.
    chunk_channels: Vec<(u64, Vec<u16>)>,
    /// The summary's message count per channel.
    channel_messages: Option<BTreeMap<u16, u64>>,
    /// Label messages read (parsed or not).
    label_messages: u64,
    /// Byte buffers of chunks the caller gave back ([`CaptureReader::recycle`]), filled
    /// with later messages instead of allocating one per message.
    spare: Vec<Vec<u8>>,
}

/// Most buffers kept for reuse (a chunk holds a few hundred messages).
const SPARE_LIMIT: usize = 1024;

/// What the next record header says.
enum Header {
    /// The file ends at a record boundary.
    Eof,
    /// The file ends inside the 9-byte header.
    Partial,
    /// A record.
    Record { opcode: u8, len: u64 },
}

impl CaptureReader {
    /// Opens `path`; fails if it cannot be read or does not start like an MCAP file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let mut file = File::open(path).map_err(|e| CaptureError::new(path, e))?;
        let mut magic = [0u8; 8];
        if let Err(e) = file.read_exact(&mut magic) {
            return Err(match e.kind() {
                ErrorKind::UnexpectedEof => CaptureError::new(path, CaptureFault::TooShort),
                _ => CaptureError::new(path, e),
            });
        }
        if &magic != MAGIC {
            return Err(CaptureError::new(path, CaptureFault::NotMcap));
        }
        let file_len = file
            .metadata()
            .map_err(|e| CaptureError::new(path, e))?
            .len();
        let mut reader = CaptureReader {
            path: path.to_path_buf(),
            file: BufReader::with_capacity(READ_SIZE, file),
            pos: MAGIC.len() as u64,
            file_len,
            chunk_offsets: Vec::new(),
            has_summary: false,
            channels: HashMap::new(),
            metadata: BTreeMap::new(),
            skipped_messages: 0,
            pending: VecDeque::new(),
            last_ns: None,
            damage: Vec::new(),
            orphans: 0,
            end: ReadEnd::Reading,
            record_buffer: Vec::new(),
            chunk_channels: Vec::new(),
            channel_messages: None,
            label_messages: 0,
            spare: Vec::new(),
        };
        reader.read_summary();
        reader.seek(MAGIC.len() as u64);
        Ok(reader)
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

    /// The capture's labels in file order, as [`catalog`](Self::catalog) returns them,
    /// reading only the chunks that hold label messages when the summary can tell which:
    /// its chunk index names each chunk's channels and its statistics count the label
    /// messages, so the labels read must number what the statistics say, with nothing
    /// damaged on the way. Otherwise (no summary, a damaged chunk, a count that disagrees,
    /// labels outside chunks) the whole file is read, as `catalog` does. A replay needs the
    /// labels before its first window and reads the file once more for the data.
    pub fn labels(path: &Path) -> Result<Vec<Label>, CaptureError> {
        let mut reader = CaptureReader::open(path)?;
        match reader.labels_by_index() {
            Some(labels) => Ok(labels),
            None => Ok(CaptureReader::catalog(path)?.1),
        }
    }

    /// The labels of the chunks the chunk index lists with the label channel, or `None`
    /// when the summary does not show these to be all of them or a chunk did not read.
    fn labels_by_index(&mut self) -> Option<Vec<Label>> {
        let label_channels: Vec<u16> = (self.channels.iter())
            .filter(|(_, c)| matches!(c, Channel::Labels))
            .map(|(&id, _)| id)
            .collect();
        if label_channels.is_empty() {
            // A summary without channel definitions: which chunks hold labels is unknown.
            return None;
        }
        let counts = self.channel_messages.as_ref()?;
        let expected: u64 = label_channels
            .iter()
            .map(|id| counts.get(id).copied().unwrap_or(0))
            .sum();
        let chunks: Vec<u64> = (self.chunk_channels.iter())
            .filter(|(_, ids)| ids.iter().any(|id| label_channels.contains(id)))
            .map(|&(offset, _)| offset)
            .collect();
        let mut labels = Vec::new();
        for offset in chunks {
            self.seek(offset);
            self.advance();
            if !self.damage.is_empty() || self.end != ReadEnd::Reading {
                return None;
            }
            labels.extend(self.pending.drain(..).filter_map(|e| match e {
                Entry::Label(label) => Some(label),
                _ => None,
            }));
        }
        (self.label_messages == expected).then_some(labels)
    }

    /// Gives back the bytes of an [`Entry::Chunk`] the caller is done with: a later
    /// message is copied into them instead of into a fresh allocation (a replay reads
    /// hundreds of thousands of messages, each a little larger than the allocator's cache).
    pub fn recycle(&mut self, mut bytes: Vec<u8>) {
        if self.spare.len() < SPARE_LIMIT {
            bytes.clear();
            self.spare.push(bytes);
        }
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

    /// Messages skipped because their channel was never defined (lost with a damaged
    /// chunk of a file without a summary).
    pub fn orphaned_messages(&self) -> u64 {
        self.orphans
    }

    /// The damaged parts skipped so far, in file order.
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    /// A warning for a truncated file, naming it.
    pub fn warning(&self) -> Option<String> {
        match &self.end {
            ReadEnd::Truncated {
                after_bytes,
                reason,
            } => Some(format!(
                "capture {} is incomplete ({} after {after_bytes} bytes): \
                 read up to its last complete chunk",
                self.path.display(),
                crate::errors::chain(reason)
            )),
            _ => None,
        }
    }

    /// What was lost to damage, naming the file; `None` when nothing was (callers exit with
    /// the documented data-loss code when this is `Some`).
    pub fn loss(&self) -> Option<String> {
        if self.damage.is_empty() && self.orphans == 0 {
            return None;
        }
        let chunks: u64 = self.damage.iter().map(|d| d.chunks).sum();
        let bytes: u64 = self.damage.iter().map(|d| d.bytes).sum();
        let parts: Vec<String> = self.damage.iter().map(describe).collect();
        let orphans = match self.orphans {
            0 => String::new(),
            n => format!(
                "; {n} later message(s) of channels whose definition was lost could not be read"
            ),
        };
        Some(format!(
            "capture {} is damaged: skipped {chunks} chunk(s), {bytes} bytes in {} part(s) \
             ({}){orphans}; everything else was read",
            self.path.display(),
            self.damage.len(),
            parts.join("; ")
        ))
    }

    fn seek(&mut self, to: u64) {
        self.pos = to;
        if let Err(e) = self.file.seek(SeekFrom::Start(to)) {
            self.stop(e.into());
        }
    }

    /// Reads exactly `buf.len()` bytes at the current position; `Ok(n < len)` at end of file.
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.file.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn header(&mut self) -> std::io::Result<Header> {
        let mut head = [0u8; 9];
        Ok(match self.fill(&mut head)? {
            0 => Header::Eof,
            9 => Header::Record {
                opcode: head[0],
                len: u64::from_le_bytes(head[1..].try_into().expect("8 bytes")),
            },
            _ => Header::Partial,
        })
    }

    /// Reads the next record, filling `pending` or ending the read.
    fn advance(&mut self) {
        let start = self.pos;
        match self.header() {
            Err(e) => self.stop(e.into()),
            Ok(Header::Eof) => self.stop(StopReason::NoDataEnd),
            Ok(Header::Partial) => self.stop(StopReason::UnexpectedEnd),
            Ok(Header::Record { opcode, len }) => self.record(start, opcode, len),
        }
    }

    fn record(&mut self, start: u64, opcode: u8, len: u64) {
        if !(op::HEADER..=op::DATA_END).contains(&opcode) || len > RECORD_LIMIT as u64 {
            let reason = DamageReason::InvalidHeader { opcode, len };
            return self.damaged(start, reason, 0, None);
        }
        if self.pos + len > self.file_len {
            if self.next_indexed(start).is_some() {
                let reason = DamageReason::PastEnd { len };
                return self.damaged(start, reason, 1, None);
            }
            self.pos = start;
            return self.stop(StopReason::UnexpectedEnd);
        }
        // The whole record (the MCAP reader decodes a chunk from its header on), in the
        // reader's buffer: grown when a record is larger than any before, never zeroed
        // again (the read overwrites it; a short read's tail is zeroed below).
        let size = 9 + len as usize;
        let mut record = std::mem::take(&mut self.record_buffer);
        if record.len() < size {
            record.resize(size, 0);
        }
        let record_bytes = &mut record[..size];
        record_bytes[0] = opcode;
        record_bytes[1..9].copy_from_slice(&len.to_le_bytes());
        let read = self.fill(&mut record_bytes[9..]);
        if let Ok(n) = read {
            record_bytes[9 + n..].fill(0);
        }
        let record_bytes = &record[..size];
        match read {
            Err(e) => self.stop(e.into()),
            Ok(_) if opcode == op::CHUNK => self.chunk(start, record_bytes),
            Ok(_) if opcode == op::FOOTER => self.footer(),
            Ok(_) => self.plain(start, opcode, &record_bytes[9..]),
        }
        self.record_buffer = record;
    }

    /// The footer must be followed by the closing magic for the file to be complete.
    fn footer(&mut self) {
        let mut magic = [0u8; 8];
        match self.fill(&mut magic) {
            Ok(8) if &magic == MAGIC => self.end = ReadEnd::Complete,
            Ok(_) => self.stop(StopReason::NoClosingMagic),
            Err(e) => self.stop(e.into()),
        }
    }

    /// A record outside any chunk: definitions, metadata, indexes.
    fn plain(&mut self, start: u64, opcode: u8, body: &[u8]) {
        match mcap::parse_record(opcode, body) {
            Ok(record) => self.take(record),
            Err(e) => {
                let cause = Arc::new(e);
                let reason = DamageReason::Record { opcode, cause };
                self.damaged(start, reason, 0, Some(self.pos));
            }
        }
    }

    fn take(&mut self, record: McapRecord<'_>) {
        if let McapRecord::Message { header, .. } = &record {
            match self.channels.get(&header.channel_id) {
                None => self.orphans += 1,
                Some(Channel::Labels) => self.label_messages += 1,
                Some(_) => {}
            }
        }
        let entry = interpret(
            record,
            &mut self.channels,
            &mut self.metadata,
            &mut self.skipped_messages,
            &mut self.spare,
        );
        self.pending.extend(entry);
    }

    /// Decodes one chunk record (decompressing, checking its CRC) as a whole: either all of
    /// its entries are queued or the chunk is reported damaged. An intact uncompressed chunk
    /// (dagr's own) is read in place ([`PlainChunk`]), anything else by the MCAP reader.
    fn chunk(&mut self, start: u64, record: &[u8]) {
        if let Some(chunk) = PlainChunk::check(record) {
            for (opcode, data) in chunk.iter() {
                match mcap::parse_record(opcode, data) {
                    Ok(r) => self.take(r),
                    Err(_) => self.skipped_messages += 1,
                }
            }
            return;
        }
        match decode_chunk(record) {
            Ok(records) => {
                for (opcode, data) in records {
                    match mcap::parse_record(opcode, &data) {
                        Ok(r) => self.take(r),
                        Err(_) => self.skipped_messages += 1,
                    }
                }
            }
            Err(e) => self.damaged(start, DamageReason::Chunk(Arc::new(e)), 1, Some(self.pos)),
        }
    }

    /// Records a damaged part starting at `start` and moves to the next readable record:
    /// `framed_next` when the damaged record's own length leads to a plausible record header
    /// no later than the next indexed chunk (keeping the records between chunks), else the
    /// next chunk.
    fn damaged(&mut self, start: u64, reason: DamageReason, chunks: u64, framed_next: Option<u64>) {
        let indexed = self.next_indexed(start);
        let framed = framed_next.filter(|&at| indexed.is_none_or(|i| at <= i) && self.framed(at));
        let next = framed.or_else(|| self.resync(start));
        if next.is_none() && !self.has_summary {
            // Nothing readable follows in a file without a summary: a file cut short (or
            // still being written, its last chunk's length not yet filled in).
            self.pos = start;
            return self.stop(StopReason::Damaged(reason));
        }
        let until = next.unwrap_or(self.file_len);
        match self.damage.last_mut() {
            Some(last) if last.offset + last.bytes == start && last.before_ns.is_none() => {
                last.bytes = until - last.offset;
                last.chunks += chunks;
            }
            _ => self.damage.push(Damage {
                offset: start,
                bytes: until - start,
                chunks,
                reason,
                after_ns: self.last_ns,
                before_ns: None,
            }),
        }
        match next {
            Some(at) => self.seek(at),
            None => self.end = ReadEnd::Complete,
        }
    }

    /// The next chunk start after `start`: from the summary's chunk index when the file has
    /// one, else the first plausible chunk header found by scanning forward.
    fn resync(&mut self, start: u64) -> Option<u64> {
        if !self.chunk_offsets.is_empty() {
            return self.next_indexed(start);
        }
        self.scan(start + 1)
    }

    /// Whether a record header with a known opcode and a length inside the file and the
    /// limit starts at `at`.
    fn framed(&mut self, at: u64) -> bool {
        self.seek(at);
        let mut head = [0u8; 9];
        if !matches!(self.fill(&mut head), Ok(9)) {
            return false;
        }
        let len = u64::from_le_bytes(head[1..].try_into().expect("8 bytes"));
        let fits = len <= RECORD_LIMIT as u64 && at + 9 + len <= self.file_len;
        fits && self.valid_record(head[0], len)
    }

    /// Whether the record whose header was just read (the file positioned at its body) is
    /// one that follows chunks and checks out: a chunk that decodes, a data end, a message
    /// index or metadata that parses. Resynchronizing lands only on such a record, never on
    /// damaged bytes that happen to look like a header.
    fn valid_record(&mut self, opcode: u8, len: u64) -> bool {
        if opcode == op::DATA_END {
            return len == 4;
        }
        if ![op::CHUNK, op::MESSAGE_INDEX, op::METADATA].contains(&opcode) {
            return false;
        }
        let mut record = vec![0u8; 9 + len as usize];
        record[0] = opcode;
        record[1..9].copy_from_slice(&len.to_le_bytes());
        if !matches!(self.fill(&mut record[9..]), Ok(n) if n as u64 == len) {
            return false;
        }
        match opcode {
            op::CHUNK => decode_chunk(&record).is_ok(),
            _ => mcap::parse_record(opcode, &record[9..]).is_ok(),
        }
    }

    fn next_indexed(&self, start: u64) -> Option<u64> {
        self.chunk_offsets.iter().copied().find(|&o| o > start)
    }

    /// Scans forward from `from` for a chunk that decodes (its length fitting the file and
    /// the limit) or a data end record.
    fn scan(&mut self, from: u64) -> Option<u64> {
        let mut window: Vec<u8> = Vec::with_capacity(READ_SIZE + 9);
        let mut base = from;
        loop {
            self.seek(base + window.len() as u64);
            let mut block = vec![0u8; READ_SIZE];
            let n = self.fill(&mut block).ok()?;
            window.extend_from_slice(&block[..n]);
            for i in 0..window.len().saturating_sub(8) {
                let at = base + i as u64;
                if self.plausible(at, &window[i..i + 9]) && self.framed(at) {
                    return Some(at);
                }
            }
            if n < READ_SIZE {
                return None;
            }
            let keep = window.len() - 8;
            window.drain(..keep);
            base += keep as u64;
        }
    }

    fn plausible(&self, at: u64, head: &[u8]) -> bool {
        let len = u64::from_le_bytes(head[1..9].try_into().expect("8 bytes"));
        let fits = len <= RECORD_LIMIT as u64 && at + 9 + len <= self.file_len;
        match head[0] {
            op::CHUNK => fits && len >= CHUNK_HEADER_MIN,
            op::DATA_END => len == 4 && fits,
            _ => false,
        }
    }

    /// Reads the footer and summary section when present: channel definitions (so messages
    /// after a damaged definition still resolve) and the chunk index (to resynchronize).
    fn read_summary(&mut self) {
        let Some(range) = self.summary_range() else {
            return;
        };
        self.seek(range.0);
        let mut summary = vec![0u8; (range.1 - range.0) as usize];
        if !matches!(self.fill(&mut summary), Ok(n) if n == summary.len()) {
            return;
        }
        self.has_summary = true;
        let mut rest = &summary[..];
        while rest.len() >= 9 {
            let opcode = rest[0];
            let len = u64::from_le_bytes(rest[1..9].try_into().expect("8 bytes"));
            if len > (rest.len() - 9) as u64 {
                break;
            }
            let body = &rest[9..9 + len as usize];
            match mcap::parse_record(opcode, body) {
                Ok(McapRecord::ChunkIndex(index)) => {
                    self.chunk_offsets.push(index.chunk_start_offset);
                    let ids = index.message_index_offsets.keys().copied().collect();
                    self.chunk_channels.push((index.chunk_start_offset, ids));
                }
                Ok(McapRecord::Statistics(stats)) => {
                    self.channel_messages = Some(stats.channel_message_counts);
                }
                Ok(record @ McapRecord::Channel(_)) => {
                    let (metadata, spare) = (&mut self.metadata, &mut Vec::new());
                    interpret(record, &mut self.channels, metadata, &mut 0, spare);
                }
                _ => {}
            }
            rest = &rest[9 + len as usize..];
        }
        self.chunk_offsets.sort_unstable();
        self.chunk_channels
            .sort_unstable_by_key(|&(offset, _)| offset);
    }

    /// The summary section's byte range, from a well-formed footer.
    fn summary_range(&mut self) -> Option<(u64, u64)> {
        const TAIL: u64 = 9 + 20 + 8;
        let footer_at = self.file_len.checked_sub(TAIL)?;
        self.seek(footer_at);
        let mut tail = [0u8; TAIL as usize];
        if self.fill(&mut tail).ok()? != tail.len() || &tail[29..] != MAGIC {
            return None;
        }
        if tail[0] != op::FOOTER || tail[1..9] != 20u64.to_le_bytes() {
            return None;
        }
        let start = u64::from_le_bytes(tail[9..17].try_into().expect("8 bytes"));
        let sane = start > MAGIC.len() as u64
            && start < footer_at
            && footer_at - start <= RECORD_LIMIT as u64;
        sane.then_some((start, footer_at))
    }

    fn stop(&mut self, reason: StopReason) {
        self.end = ReadEnd::Truncated {
            after_bytes: self.pos,
            reason,
        };
    }

    fn yielded(&mut self, entry: &Entry) {
        let ns = entry.log_ns();
        self.last_ns = Some(ns);
        if let Some(last) = self.damage.last_mut() {
            if last.before_ns.is_none() {
                last.before_ns = Some(ns);
            }
        }
    }
}

impl Iterator for CaptureReader {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            if let Some(entry) = self.pending.pop_front() {
                self.yielded(&entry);
                return Some(entry);
            }
            if self.end != ReadEnd::Reading {
                return None;
            }
            self.advance();
        }
    }
}

/// Smallest chunk record body: start and end time, sizes, CRC, empty compression string.
const CHUNK_HEADER_MIN: u64 = 8 + 8 + 8 + 4 + 4 + 8;

/// MCAP opcodes the framing needs.
mod op {
    pub const HEADER: u8 = 0x01;
    pub const FOOTER: u8 = 0x02;
    pub const CHUNK: u8 = 0x06;
    pub const MESSAGE_INDEX: u8 = 0x07;
    pub const METADATA: u8 = 0x0C;
    pub const DATA_END: u8 = 0x0F;
}

/// Decodes one whole chunk record (opcode, length, body) with the MCAP reader, which checks
/// the CRC and decompresses (none, zstd, lz4), bounded by [`RECORD_LIMIT`]; returns its
/// records, or why the chunk is unreadable.
pub(super) fn decode_chunk(record: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, mcap::McapError> {
    let options = LinearReaderOptions::default()
        .with_skip_start_magic(true)
        .with_skip_end_magic(true)
        .with_prevalidate_chunk_crcs(true)
        .with_record_length_limit(RECORD_LIMIT);
    let mut linear = LinearReader::new_with_options(options);
    let buffer = linear.insert(record.len());
    buffer.copy_from_slice(record);
    linear.notify_read(record.len());
    let mut records = Vec::new();
    while let Some(event) = linear.next_event() {
        match event? {
            LinearReadEvent::ReadRequest(_) => linear.notify_read(0),
            LinearReadEvent::Record { data, opcode } => records.push((opcode, data.to_vec())),
        }
    }
    Ok(records)
}

fn describe(d: &Damage) -> String {
    let span = match (d.after_ns, d.before_ns) {
        (Some(a), Some(b)) => format!("between log times {:.3} s and {:.3} s", secs(a), secs(b)),
        (Some(a), None) => format!("after log time {:.3} s", secs(a)),
        (None, Some(b)) => format!("before log time {:.3} s", secs(b)),
        (None, None) => "time unknown".into(),
    };
    format!(
        "{} bytes at offset {}, {}: {}",
        d.bytes,
        d.offset,
        span,
        crate::errors::chain(&d.reason)
    )
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Learns from a definition record, or turns a message into an entry (its bytes copied into
/// a `spare` buffer when there is one).
fn interpret(
    record: McapRecord<'_>,
    channels: &mut HashMap<u16, Channel>,
    metadata: &mut BTreeMap<String, String>,
    skipped: &mut u64,
    spare: &mut Vec<Vec<u8>>,
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
                    bytes: match spare.pop() {
                        Some(mut bytes) => {
                            bytes.extend_from_slice(&data);
                            bytes
                        }
                        None => data.into_owned(),
                    },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::writer::CaptureWriter;
    use crate::capture::StreamInfo;

    /// A capture of one raw stream in chunks of ~100 KB, a label every tenth chunk: many
    /// MCAP chunks, a few of them with labels.
    fn labeled_capture(path: &Path) -> Vec<Label> {
        let mut writer = CaptureWriter::create(path, 0).unwrap().without_age_flush();
        let stream = StreamInfo {
            name: "sim-wifi-1".into(),
            format: Format::Esp32Csi,
            uri: String::new(),
        };
        writer.add_stream(&stream).unwrap();
        let bytes = vec![b'x'; 100_000];
        let mut labels = Vec::new();
        for i in 0..60u64 {
            if i % 10 == 3 {
                let label = Label {
                    start: i as f64,
                    end: i as f64 + 5.0,
                    class: format!("class{i}"),
                };
                writer.write_label(&label).unwrap();
                labels.push(label);
            }
            writer
                .write_chunk("sim-wifi-1", i * 1_000_000_000, 0, &bytes)
                .unwrap();
        }
        writer.finish().unwrap();
        labels
    }

    #[test]
    fn recycled_buffers_carry_later_messages_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labeled.mcap");
        labeled_capture(&path);
        let fresh: Vec<Entry> = CaptureReader::open(&path).unwrap().collect();
        let mut reader = CaptureReader::open(&path).unwrap();
        let (mut read, mut given_back, mut reused) = (Vec::new(), Vec::new(), 0);
        while let Some(entry) = reader.next() {
            match entry {
                Entry::Chunk { bytes, .. } => {
                    reused += usize::from(given_back.contains(&bytes.as_ptr()));
                    read.push(bytes.clone());
                    given_back.push(bytes.as_ptr());
                    reader.recycle(bytes);
                }
                other => read.push(other.log_ns().to_le_bytes().to_vec()),
            }
        }
        let expected: Vec<Vec<u8>> = (fresh.into_iter())
            .map(|e| match e {
                Entry::Chunk { bytes, .. } => bytes,
                other => other.log_ns().to_le_bytes().to_vec(),
            })
            .collect();
        assert_eq!(read, expected);
        assert!(reused > 40, "{reused} of 60 chunks in a given-back buffer");
    }

    #[test]
    fn labels_from_the_chunk_index_are_the_catalogs_and_damage_falls_back_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labeled.mcap");
        let written = labeled_capture(&path);
        assert_eq!(written.len(), 6);

        let mut reader = CaptureReader::open(&path).unwrap();
        let by_index = reader
            .labels_by_index()
            .expect("the summary tells the label chunks");
        assert_eq!(by_index, written);
        let chunks = reader.chunk_channels.len();
        assert!(chunks >= 8, "{chunks} chunks");
        assert_eq!(CaptureReader::labels(&path).unwrap(), written);
        assert_eq!(CaptureReader::catalog(&path).unwrap().1, written);

        // Cut short (no summary): the whole file is read, as the catalog reads it.
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.mcap");
        std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        assert!(CaptureReader::open(&cut)
            .unwrap()
            .labels_by_index()
            .is_none());
        let catalog = CaptureReader::catalog(&cut).unwrap().1;
        assert!(!catalog.is_empty() && catalog.len() < written.len());
        assert_eq!(CaptureReader::labels(&cut).unwrap(), catalog);

        // A damaged chunk holding a label: the index path gives up, the catalog skips it.
        let label_chunk = reader
            .chunk_channels
            .iter()
            .find(|(_, ids)| ids.len() > 1)
            .map(|&(offset, _)| offset)
            .unwrap();
        let mut damaged = bytes.clone();
        damaged[label_chunk as usize + 200] ^= 0xFF;
        let broken = dir.path().join("damaged.mcap");
        std::fs::write(&broken, &damaged).unwrap();
        assert!(CaptureReader::open(&broken)
            .unwrap()
            .labels_by_index()
            .is_none());
        let catalog = CaptureReader::catalog(&broken).unwrap().1;
        assert_eq!(catalog.len(), written.len() - 1);
        assert_eq!(CaptureReader::labels(&broken).unwrap(), catalog);
    }
}
