//! `dagr inspect`: what a capture holds, per stream, and where it is thin.
//!
//! Each stream is run through the same [`RecordDecoder`] a replay uses, so the record
//! counts, skipped bytes and rejected frames are what a replay will see. Gaps are the
//! largest silences between consecutive chunks plus the recorded disconnects; the clock
//! offset is the median of `publish_time - log_time` over chunks that completed a record.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use super::{seconds, CaptureError, CaptureReader, Entry, StreamInfo};
use crate::events::{SourceState, SourceStatus};
use crate::format::Decoded;
use crate::pipeline::RecordDecoder;

/// How many of the largest inter-arrival gaps are reported per stream.
pub const GAPS_SHOWN: usize = 3;

/// A silence between two consecutive chunks of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Arrival of the chunk before the silence, ns.
    pub after_ns: u64,
    /// Length of the silence, ns.
    pub length_ns: u64,
}

/// What one stream of a capture holds.
#[derive(Debug, Clone)]
pub struct StreamReport {
    /// The stream's channel description.
    pub stream: Arc<StreamInfo>,
    /// Raw bytes.
    pub bytes: u64,
    /// Raw chunks.
    pub chunks: u64,
    /// Records decoded (LLRP: tag reports).
    pub records: u64,
    /// Protocol messages that are not sensor data (LLRP responses, node heartbeats...).
    pub control_messages: u64,
    /// First and last arrival, ns.
    pub span_ns: Option<(u64, u64)>,
    /// The largest gaps, longest first.
    pub gaps: Vec<Gap>,
    /// Recorded disconnects: when and why.
    pub disconnects: Vec<(u64, String)>,
    /// Bytes the decoder skipped while resynchronising.
    pub bytes_skipped: u64,
    /// Frames found but rejected.
    pub frames_rejected: u64,
    /// Why the last frame was rejected.
    pub last_error: Option<String>,
    /// Median `publish_time - log_time` of chunks that completed a record, s.
    pub clock_offset_s: Option<f64>,
}

impl StreamReport {
    /// Records per second over the stream's span.
    pub fn rate_hz(&self) -> Option<f64> {
        let (first, last) = self.span_ns?;
        (last > first).then(|| self.records as f64 / seconds(last - first))
    }

    fn to_json(&self) -> Value {
        let (start, end) = self
            .span_ns
            .map_or((None, None), |(a, b)| (Some(seconds(a)), Some(seconds(b))));
        json!({
            "source": &*self.stream.name,
            "format": self.stream.format.name(),
            "modality": self.stream.modality_name(),
            "uri": self.stream.uri,
            "bytes": self.bytes,
            "chunks": self.chunks,
            "records": self.records,
            "control_messages": self.control_messages,
            "start": start,
            "end": end,
            "duration": start.zip(end).map(|(a, b)| b - a),
            "rate_hz": self.rate_hz(),
            "largest_gaps": self.gaps.iter().map(|g| json!({"after": seconds(g.after_ns), "seconds": seconds(g.length_ns)})).collect::<Vec<_>>(),
            "disconnects": self.disconnects.iter().map(|(at, why)| json!({"at": seconds(*at), "reason": why})).collect::<Vec<_>>(),
            "bytes_skipped": self.bytes_skipped,
            "frames_rejected": self.frames_rejected,
            "last_error": self.last_error,
            "clock_offset_s": self.clock_offset_s,
        })
    }

    fn summary(&self) -> String {
        let span = self.span_ns.map_or("empty".to_string(), |(a, b)| {
            format!("{:.3}-{:.3} s", seconds(a), seconds(b))
        });
        let rate = self
            .rate_hz()
            .map_or(String::new(), |r| format!(" ({r:.1}/s)"));
        let gaps: Vec<String> = self
            .gaps
            .iter()
            .map(|g| {
                format!(
                    "{:.3} s at {:.3}",
                    seconds(g.length_ns),
                    seconds(g.after_ns)
                )
            })
            .collect();
        let offset = self
            .clock_offset_s
            .map_or("n/a".to_string(), |o| format!("{:+.6} s", o));
        format!(
            "{} [{}, {}]: {} bytes in {} chunks, {} records{rate}, {span}\n  \
             largest gaps: {}; disconnects: {}; skipped {} bytes, rejected {} frames; \
             clock offset {offset}",
            self.stream.name,
            self.stream.format.name(),
            self.stream.modality_name(),
            self.bytes,
            self.chunks,
            self.records,
            if gaps.is_empty() {
                "none".to_string()
            } else {
                gaps.join(", ")
            },
            self.disconnects.len(),
            self.bytes_skipped,
            self.frames_rejected,
        )
    }
}

/// What a whole capture holds.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The file.
    pub path: PathBuf,
    /// The capture's `dagr` metadata.
    pub metadata: BTreeMap<String, String>,
    /// Per stream, in channel order.
    pub streams: Vec<StreamReport>,
    /// Label annotations.
    pub labels: u64,
    /// Messages of channels not understood.
    pub skipped_messages: u64,
    /// Set when the file is truncated.
    pub warning: Option<String>,
    /// What was lost to damage (skipped chunks), naming the file; `None` when nothing was.
    pub lost: Option<String>,
    /// The damaged parts skipped, in file order.
    pub damage: Vec<super::Damage>,
}

impl Inspection {
    /// The `dagr inspect --json` object.
    pub fn to_json(&self) -> Value {
        json!({
            "file": self.path.display().to_string(),
            "dagr_version": self.metadata.get("dagr_version"),
            "gateway_epoch_unix_ns": self.metadata.get("gateway_epoch_unix_ns").and_then(|v| v.parse::<u64>().ok()),
            "complete": self.warning.is_none() && self.lost.is_none(),
            "warning": self.warning,
            "lost": self.lost,
            "damage": self.damage.iter().map(damage_json).collect::<Vec<_>>(),
            "labels": self.labels,
            "skipped_messages": self.skipped_messages,
            "streams": self.streams.iter().map(StreamReport::to_json).collect::<Vec<_>>(),
        })
    }

    /// The human report.
    pub fn summary(&self) -> String {
        let version = self
            .metadata
            .get("dagr_version")
            .map_or("?", String::as_str);
        let mut text = format!(
            "{}: dagr {version} capture, {} streams, {} labels\n",
            self.path.display(),
            self.streams.len(),
            self.labels
        );
        for stream in &self.streams {
            text.push_str(&stream.summary());
            text.push('\n');
        }
        for d in &self.damage {
            text.push_str(&format!(
                "  damaged: {} chunk(s), {} bytes at offset {} skipped ({})\n",
                d.chunks,
                d.bytes,
                d.offset,
                crate::errors::chain(&d.reason)
            ));
        }
        text
    }
}

/// One skipped part in `dagr inspect --json`.
fn damage_json(d: &super::Damage) -> Value {
    json!({
        "offset": d.offset,
        "bytes": d.bytes,
        "chunks": d.chunks,
        "reason": crate::errors::chain(&d.reason),
        "after_log_ns": d.after_ns,
        "before_log_ns": d.before_ns,
    })
}

/// Per-stream state while reading.
struct Tally {
    report: StreamReport,
    decoder: RecordDecoder,
    offsets_ns: Vec<i128>,
}

impl Tally {
    fn new(stream: Arc<StreamInfo>) -> Self {
        Tally {
            decoder: RecordDecoder::new(stream.format, stream.name.clone()),
            report: StreamReport {
                stream,
                bytes: 0,
                chunks: 0,
                records: 0,
                control_messages: 0,
                span_ns: None,
                gaps: Vec::new(),
                disconnects: Vec::new(),
                bytes_skipped: 0,
                frames_rejected: 0,
                last_error: None,
                clock_offset_s: None,
            },
            offsets_ns: Vec::new(),
        }
    }

    fn chunk(&mut self, log_ns: u64, publish_ns: u64, bytes: &[u8]) {
        let r = &mut self.report;
        r.bytes += bytes.len() as u64;
        r.chunks += 1;
        r.span_ns = Some(match r.span_ns {
            None => (log_ns, log_ns),
            Some((first, last)) => {
                note_gap(&mut r.gaps, last, log_ns.saturating_sub(last));
                (first, log_ns.max(last))
            }
        });
        let before = r.records;
        self.decode(bytes, log_ns, false);
        if self.report.records > before {
            self.offsets_ns
                .push(i128::from(publish_ns) - i128::from(log_ns));
        }
    }

    fn decode(&mut self, bytes: &[u8], at_ns: u64, finish: bool) {
        let (mut records, mut control) = (0, 0);
        let mut count = |d: Decoded| match d {
            Decoded::Record(_) => records += 1,
            Decoded::Control(_) | Decoded::TimeSync(_) => control += 1,
        };
        if finish {
            self.decoder.finish(at_ns, &mut count);
        } else {
            self.decoder.feed(bytes, at_ns, &mut count);
        }
        self.report.records += records;
        self.report.control_messages += control;
    }

    fn status(&mut self, status: &SourceStatus) {
        if let SourceState::Disconnected { reason, .. } = &status.state {
            self.report.disconnects.push((status.at_ns, reason.clone()));
        }
    }

    fn done(mut self) -> StreamReport {
        let end = self.report.span_ns.map_or(0, |(_, last)| last);
        self.decode(&[], end, true);
        let stats = self.decoder.stats();
        let r = &mut self.report;
        r.bytes_skipped = stats.bytes_skipped;
        r.frames_rejected = stats.frames_rejected;
        r.last_error = stats.last_error.map(|e| e.to_string());
        self.offsets_ns.sort_unstable();
        r.clock_offset_s = self
            .offsets_ns
            .get(self.offsets_ns.len() / 2)
            .map(|&ns| ns as f64 / 1e9);
        self.report
    }
}

/// Keeps the [`GAPS_SHOWN`] longest gaps, longest first.
fn note_gap(gaps: &mut Vec<Gap>, after_ns: u64, length_ns: u64) {
    if length_ns == 0 {
        return;
    }
    gaps.push(Gap {
        after_ns,
        length_ns,
    });
    gaps.sort_by_key(|g| std::cmp::Reverse(g.length_ns));
    gaps.truncate(GAPS_SHOWN);
}

/// Reads the whole capture at `path` and reports on it.
pub fn inspect(path: &Path) -> Result<Inspection, CaptureError> {
    let mut reader = CaptureReader::open(path)?;
    let mut tallies: HashMap<Arc<str>, Tally> = HashMap::new();
    let mut statuses = Vec::new();
    let mut labels = 0;
    for entry in reader.by_ref() {
        match entry {
            Entry::Chunk {
                stream,
                log_ns,
                publish_ns,
                bytes,
            } => tallies
                .entry(stream.name.clone())
                .or_insert_with(|| Tally::new(stream))
                .chunk(log_ns, publish_ns, &bytes),
            Entry::Label(_) => labels += 1,
            Entry::Status(status) => statuses.push(status),
        }
    }
    let streams = reader
        .streams()
        .into_iter()
        .map(|stream| {
            let mut tally = tallies
                .remove(&stream.name)
                .unwrap_or_else(|| Tally::new(stream.clone()));
            for status in statuses.iter().filter(|s| s.source == stream.name) {
                tally.status(status);
            }
            tally.done()
        })
        .collect();
    Ok(Inspection {
        path: path.to_path_buf(),
        metadata: reader.metadata().clone(),
        streams,
        labels,
        skipped_messages: reader.skipped_messages(),
        warning: reader.warning(),
        lost: reader.loss(),
        damage: reader.damage().to_vec(),
    })
}
