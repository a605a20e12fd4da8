//! Shared by the capture tests: a capture built with the writer API from the real
//! recordings, and what reads it back.
#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};

use dagr_host::capture::{nanos, CaptureWriter, Label, StreamInfo};
use dagr_host::events::{SourceState, SourceStatus};
use dagr_host::format::Format;
use serde_json::Value;

use crate::support::{json_lines, run_ok};

/// A real recording, its format, the source name it gets and the chunk size it is cut at.
pub struct Fixture {
    pub name: &'static str,
    pub format: Format,
    pub file: &'static str,
    pub chunk: usize,
}

pub const FIXTURES: [Fixture; 3] = [
    Fixture {
        name: "radar",
        format: Format::TiMmwave,
        file: "ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat",
        chunk: 777,
    },
    Fixture {
        name: "esp32",
        format: Format::Esp32Csi,
        file: "esp32_csi/example_csi.csv",
        chunk: 101,
    },
    Fixture {
        name: "reader",
        format: Format::Llrp,
        file: "llrp/impinj_ro_access_reports.bin",
        chunk: 61,
    },
];

/// Records each fixture decodes to (LLRP: tag reports).
pub const RECORDS: [(&str, u64); 3] = [("radar", 101), ("esp32", 13), ("reader", 45)];

/// Gateway time of the first chunk of every stream, s.
pub const START_S: f64 = 1.0;
/// Gateway time of the connect statuses, the capture's first messages, s.
pub const CONNECTED_S: f64 = 0.5;
/// The clock offset written as publish - log for the radar's chunks, ns.
pub const RADAR_OFFSET_NS: u64 = 2_000_000;

pub fn real_path(file: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/real/"
    ))
    .join(file)
}

pub fn real(file: &str) -> Vec<u8> {
    let path = real_path(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The labels of the fixture capture (written after the data, out of time order).
pub fn labels() -> Vec<Label> {
    vec![
        Label {
            start: 5.0,
            end: 6.5,
            class: "sit".into(),
        },
        Label {
            start: 1.5,
            end: 3.0,
            class: "walk".into(),
        },
    ]
}

/// Arrival time of chunk `i` of `n` spread evenly over `span_s` from [`START_S`], ns.
pub fn arrival_ns(i: usize, n: usize, span_s: f64) -> u64 {
    ((START_S + span_s * i as f64 / n as f64) * 1e9) as u64
}

/// Writes the three real recordings as one capture, each cut into odd-sized chunks
/// arriving evenly over `span_s` seconds, interleaved in arrival order, with a connect
/// status per source, one disconnect of the ESP32 and two labels.
pub fn write_capture(path: &Path, span_s: f64) {
    let mut writer = CaptureWriter::create(path, 1_700_000_000_000_000_000).unwrap();
    let mut messages = Vec::new();
    for f in &FIXTURES {
        writer
            .add_stream(&StreamInfo {
                name: f.name.into(),
                format: f.format,
                uri: format!("test://{}", f.file),
            })
            .unwrap();
        let bytes = real(f.file);
        let n = bytes.len().div_ceil(f.chunk);
        for (i, chunk) in bytes.chunks(f.chunk).enumerate() {
            messages.push((arrival_ns(i, n, span_s), f.name, chunk.to_vec()));
        }
        writer
            .write_status(&status(f.name, nanos(CONNECTED_S), SourceState::Connected))
            .unwrap();
    }
    messages.sort_by_key(|(t, name, _)| (*t, *name));
    let disconnect_at = ((START_S + span_s / 2.0) * 1e9) as u64;
    let mut disconnected = false;
    for (t, name, bytes) in messages {
        if !disconnected && t >= disconnect_at {
            let state = SourceState::Disconnected {
                reason: "unplugged".into(),
                retry_in_ms: 500,
            };
            writer.write_status(&status("esp32", t, state)).unwrap();
            disconnected = true;
        }
        let publish = if name == "radar" {
            t + RADAR_OFFSET_NS
        } else {
            t
        };
        writer.write_chunk(name, t, publish, &bytes).unwrap();
    }
    for label in labels() {
        writer.write_label(&label).unwrap();
    }
    writer.finish().unwrap();
}

fn status(name: &str, at_ns: u64, state: SourceState) -> SourceStatus {
    SourceStatus {
        source: name.into(),
        at_ns,
        state,
    }
}

/// `dagr replay FILE --max --json`, parsed.
pub fn replay_json(file: &Path) -> Vec<Value> {
    json_lines(&run_ok(&["replay", path_str(file), "--max", "--json"]))
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}
