//! A damaged capture loses only its damaged chunks, and MCAP files of other writers (the
//! Python `mcap` package, zstd and lz4 chunks) are read in full.
use std::path::Path;
use std::process::Command;

use dagr_host::capture::{CaptureReader, CaptureWriter, Entry, ReadEnd, StreamInfo};
use dagr_host::format::Format;
use serde_json::Value;

use crate::capture_support::{path_str, real, real_path};
use crate::support::{dagr, json_lines, python, scratch};

const ROWS: &str = "esp32_csi/example_csi.csv";
/// Messages per chunk of the test capture (each `flush` closes a chunk).
const PER_CHUNK: usize = 4;

/// A capture of the ESP32 fixture in 100-byte messages, a chunk every [`PER_CHUNK`].
fn multi_chunk_capture(path: &Path) {
    let mut writer = CaptureWriter::create(path, 0).unwrap();
    let stream = StreamInfo {
        name: "esp32".into(),
        format: Format::Esp32Csi,
        uri: String::new(),
    };
    writer.add_stream(&stream).unwrap();
    for (i, bytes) in real(ROWS).chunks(100).enumerate() {
        let t = 1_000_000_000 + i as u64 * 10_000_000;
        writer.write_chunk("esp32", t, t, bytes).unwrap();
        if i % PER_CHUNK == PER_CHUNK - 1 {
            writer.flush().unwrap();
        }
    }
    writer.finish().unwrap();
}

/// What identifies an entry: its log time and payload.
fn signature(entry: &Entry) -> (u64, Vec<u8>) {
    match entry {
        Entry::Chunk { log_ns, bytes, .. } => (*log_ns, bytes.clone()),
        other => (other.log_ns(), Vec::new()),
    }
}

fn read_all(path: &Path) -> (Vec<(u64, Vec<u8>)>, CaptureReader) {
    let mut reader = CaptureReader::open(path).unwrap();
    let entries = reader.by_ref().map(|e| signature(&e)).collect();
    (entries, reader)
}

/// Per chunk of the file: its offset and how many messages it holds (the mcap crate's view).
fn chunks(bytes: &[u8]) -> Vec<(u64, usize)> {
    let summary = mcap::Summary::read(bytes).unwrap().expect("a summary");
    summary
        .chunk_indexes
        .iter()
        .map(|index| {
            let n = summary.stream_chunk(bytes, index).unwrap().count();
            (index.chunk_start_offset, n)
        })
        .collect()
}

/// The length of chunk `k`'s record, header included.
fn chunk_length(bytes: &[u8], k: usize) -> u64 {
    let summary = mcap::Summary::read(bytes).unwrap().expect("a summary");
    summary.chunk_indexes[k].chunk_length
}

/// The summary section's start (the data end record is the 13 bytes before it).
fn summary_start(bytes: &[u8]) -> usize {
    let footer = &bytes[bytes.len() - 8 - 20..];
    u64::from_le_bytes(footer[..8].try_into().unwrap()) as usize
}

/// Damages chunk `k` at `at` bytes into it (flipping every bit of that byte), writes the
/// result (without its summary when `strip`) and checks exactly chunk k's messages are lost.
fn check_only_chunk_lost(dir: &Path, k: usize, at: u64, strip: bool) {
    let good = dir.join("good.mcap");
    let bytes = std::fs::read(&good).unwrap();
    let chunks = chunks(&bytes);
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let (full, _) = read_all(&good);
    let before: usize = chunks[..k].iter().map(|c| c.1).sum();
    let lost = chunks[k].1;
    assert!(lost > 0);
    let mut damaged = bytes.clone();
    damaged[(chunks[k].0 + at) as usize] ^= 0xff;
    if strip {
        damaged.truncate(summary_start(&bytes) - 13);
    }
    let path = dir.join(format!("damaged-{k}-{at}-{strip}.mcap"));
    std::fs::write(&path, &damaged).unwrap();
    let (read, reader) = read_all(&path);
    let expected: Vec<_> = full[..before]
        .iter()
        .chain(&full[before + lost..])
        .cloned()
        .collect();
    assert_eq!(
        read.len(),
        full.len() - lost,
        "chunk {k} at {at}, strip {strip}"
    );
    assert_eq!(read, expected, "chunk {k} at {at}, strip {strip}");
    let damage = reader.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(damage[0].offset, chunks[k].0);
    // With a chunk index the reader skips to the next chunk, else past the damaged record
    // (or, its length damaged, to the next chunk header found by scanning).
    let record = chunk_length(&bytes, k);
    let to_next = chunks[k + 1].0 - chunks[k].0;
    let skipped = damage[0].bytes;
    let framed = at != 8 && skipped == record;
    assert!(skipped == to_next || framed, "{damage:?}");
    assert!(reader.loss().unwrap().contains(path_str(&path)));
    let end = reader.end().clone();
    assert_eq!(matches!(end, ReadEnd::Complete), !strip, "{end:?}");
}

#[test]
fn a_flipped_byte_in_one_chunk_loses_only_that_chunks_messages() {
    let dir = scratch("damage-chunk");
    multi_chunk_capture(&dir.join("good.mcap"));
    let data_byte = 60;
    for strip in [false, true] {
        check_only_chunk_lost(&dir, 2, data_byte, strip);
        check_only_chunk_lost(&dir, 5, data_byte, strip);
    }
    // The first chunk holds the channel definition: the summary's copy resolves the rest.
    check_only_chunk_lost(&dir, 0, data_byte, false);
}

#[test]
fn a_damaged_chunk_length_resynchronizes_on_the_next_chunk() {
    let dir = scratch("damage-length");
    multi_chunk_capture(&dir.join("good.mcap"));
    // Byte 8 is the top byte of the chunk's length: 2^56 and more, past any limit.
    for strip in [false, true] {
        check_only_chunk_lost(&dir, 3, 8, strip);
    }
}

#[test]
fn inspect_and_replay_of_a_damaged_capture_exit_3_saying_what_was_lost() {
    let dir = scratch("damage-cli");
    let good = dir.join("good.mcap");
    multi_chunk_capture(&good);
    let mut bytes = std::fs::read(&good).unwrap();
    let chunks = chunks(&bytes);
    bytes[chunks[1].0 as usize + 60] ^= 0xff;
    let bad = dir.join("bad.mcap");
    std::fs::write(&bad, &bytes).unwrap();
    let good_records = inspect_records(&good, 0);
    let bad_records = inspect_records(&bad, 3);
    assert!(
        bad_records > 0 && bad_records < good_records,
        "{bad_records} of {good_records}"
    );
    let human = dagr().args(["inspect", path_str(&bad)]).output().unwrap();
    assert!(String::from_utf8_lossy(&human.stdout).contains("damaged: 1 chunk(s)"));
    let replay = dagr()
        .args(["replay", path_str(&bad), "--max", "--json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(3), "{err}");
    assert!(
        err.contains(path_str(&bad)) && err.contains("skipped 1 chunk(s)"),
        "{err}"
    );
    assert!(!json_lines(&replay).is_empty());
}

/// `dagr inspect --json FILE`, expecting exit `code`: the ESP32 stream's record count.
fn inspect_records(file: &Path, code: i32) -> u64 {
    let out = dagr()
        .args(["inspect", "--json", path_str(file)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["complete"], code == 0, "{report}");
    assert_eq!(report["lost"].is_null(), code == 0, "{report}");
    if code != 0 {
        assert!(err.contains(path_str(file)), "{err}");
    }
    report["streams"][0]["records"].as_u64().unwrap()
}

/// Writes the ESP32 fixture with the Python `mcap` writer in `compression` chunks.
const PY_WRITER: &str = r#"
import sys
from mcap.writer import Writer, CompressionType
out, rows, compression, fmt = sys.argv[1:5]
data = open(rows, "rb").read()
with open(out, "wb") as f:
    w = Writer(f, compression=CompressionType[compression], chunk_size=300)
    w.start()
    ch = w.register_channel(topic="esp32", message_encoding="application/octet-stream",
                            schema_id=0, metadata={"format": fmt, "uri": "py://"})
    for i in range(0, len(data), 100):
        t = 1_000_000_000 + i * 100_000
        w.add_message(ch, log_time=t, data=data[i:i + 100], publish_time=t)
    w.finish()
"#;

#[test]
fn captures_of_the_python_mcap_writer_with_zstd_and_lz4_chunks_are_read_in_full() {
    let dir = scratch("foreign-mcap");
    let good = dir.join("ours.mcap");
    multi_chunk_capture(&good);
    let expected = inspect_records(&good, 0);
    let (ours, _) = read_all(&good);
    for compression in ["ZSTD", "LZ4"] {
        let file = dir.join(format!("{compression}.mcap"));
        let status = Command::new(python())
            .args(["-c", PY_WRITER, path_str(&file), path_str(&real_path(ROWS))])
            .args([compression, Format::Esp32Csi.name()])
            .status()
            .expect("the peers' Python runs (set DAGR_PYTHON)");
        assert!(status.success(), "python mcap writer ({compression})");
        let bytes = std::fs::read(&file).unwrap();
        assert!(chunks(&bytes).len() > 3, "{compression}: several chunks");
        let (read, reader) = read_all(&file);
        assert_eq!(reader.end(), &ReadEnd::Complete, "{compression}");
        let payload =
            |v: &[(u64, Vec<u8>)]| v.iter().flat_map(|e| e.1.clone()).collect::<Vec<u8>>();
        assert_eq!(payload(&read), payload(&ours), "{compression}");
        assert_eq!(inspect_records(&file, 0), expected, "{compression}");
        let replay = dagr()
            .args(["replay", path_str(&file), "--max", "--json"])
            .output()
            .unwrap();
        assert!(
            replay.status.success(),
            "{}",
            String::from_utf8_lossy(&replay.stderr)
        );
        assert_eq!(json_lines(&replay).len() as u64, expected, "{compression}");
    }
}

#[test]
fn export_of_a_damaged_capture_writes_the_readable_windows_and_exits_3() {
    let dir = scratch("damage-export");
    let scenario = dir.join("scenario.txt");
    std::fs::write(&scenario, "0 3 clapping\n3 6 jumping\n").unwrap();
    let sim = dir.join("sim.mcap");
    let args = ["sim", "--scenario", path_str(&scenario), "--room", "2"];
    let out = dagr()
        .args(args)
        .args(["--subject", "1", "--out", path_str(&sim)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = std::fs::read(&sim).unwrap();
    let chunks = chunks(&bytes);
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    bytes[chunks[1].0 as usize + 100] ^= 0xff;
    std::fs::write(&sim, &bytes).unwrap();
    let data = dir.join("data");
    let export = dagr()
        .args([
            "dataset",
            "export",
            path_str(&sim),
            "--out",
            path_str(&data),
        ])
        .args(["--window", "1", "--hop", "0.5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&export.stderr);
    assert_eq!(export.status.code(), Some(3), "{err}");
    assert!(
        err.contains(path_str(&sim)) && err.contains("skipped 1 chunk(s)"),
        "{err}"
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(data.join("dataset.json")).unwrap()).unwrap();
    assert!(
        manifest["counts"]["windows"].as_u64().unwrap() > 0,
        "{manifest}"
    );
    let lost = manifest["files"][0]["lost"].as_str().unwrap();
    assert!(lost.contains("skipped 1 chunk(s)"), "{lost}");
}

#[test]
fn scanning_for_the_next_chunk_crosses_read_blocks_of_large_chunks() {
    let dir = scratch("damage-scan");
    let scenario = dir.join("scenario.txt");
    std::fs::write(&scenario, "0 3 walking\n").unwrap();
    let good = dir.join("good.mcap");
    let out = dagr()
        .args(["sim", "--scenario", path_str(&scenario), "--seed", "2"])
        .args(["--out", path_str(&good)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The simulator's chunks (512 KiB) span several of the reader's 256 KiB reads.
    let bytes = std::fs::read(&good).unwrap();
    let chunks = chunks(&bytes);
    assert!(chunks[2].0 - chunks[1].0 > 256 * 1024, "{chunks:?}");
    // Chunk 1 holds the channel definitions; chunk 2 only messages.
    check_only_chunk_lost(&dir, 2, 8, true);
    check_only_chunk_lost(&dir, 2, 300_000, true);
    let mut bytes = bytes;
    bytes[(chunks[1].0 + 8) as usize] ^= 0xff;
    bytes.truncate(summary_start(&bytes) - 13);
    let unsummarized = dir.join("definitions-lost.mcap");
    std::fs::write(&unsummarized, &bytes).unwrap();
    let (_, reader) = read_all(&unsummarized);
    assert!(reader.orphaned_messages() > 0);
    let loss = reader.loss().unwrap();
    assert!(loss.contains("whose definition was lost"), "{loss}");
}
