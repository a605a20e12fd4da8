//! Recording a full sensor set: can `dagr record` keep up, with zero drops?
//!
//! The sensor set of `ingest_bench` (3 ESP32-CSI-Tool links x 1000 rows/s, a TI radar at
//! 20 frames/s x 64 points, an LLRP reader reporting 23 tags x 30 reads/s; 60 s of each)
//! goes through the real path of `dagr record`: one producer thread per source does what a
//! live source does under `dagr record`'s `Output::ChunksOnly` (sends each chunk as
//! `SourceEvent::Chunk`; with `--records`, `Output::ChunksAndRecords`: also decodes it and
//! sends the records as `SourceEvent::Records`) into its own bounded `source::channel` of
//! `SourceQueue::default()` (DEFAULT_CAPACITY events, DEFAULT_MAX_BYTES, drop-oldest), and one thread moves the
//! events into a `capture::Recorder` writing an MCAP file in a temp directory.
//!
//! First the recorder alone (events made beforehand, fed on one thread: its ceiling); then
//! with producers at full speed, then paced at fixed multiples of real time. Each line
//! prints the median over several runs of the throughput (60 s of data over the wall time
//! to the finished file, as a multiple of real time) and the sum of `dropped_events` over
//! the sources (the largest of the runs).
//!
//! `cargo run --release -p dagr-host --example record_bench [-- --runs 5 --subcarriers 64 --records]`
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Select;
use dagr_host::capture::{CaptureWriter, Recorder, StreamInfo};
use dagr_host::events::{
    channel, EventReceiver, EventSender, RawChunk, SourceCounters, SourceEvent, SourceQueue,
    DEFAULT_CAPACITY,
};
use dagr_host::format::Decoded;
use dagr_host::pipeline::RecordDecoder;
use dagr_host::record::Record;
use dagr_host::source::Output;

#[path = "support/sensor_set.rs"]
mod sensor_set;
use sensor_set::{arg, full_set, median, Chunk, Source, SECONDS};

/// How fast the producers send: as fast as they can, or `x` times real time.
#[derive(Clone, Copy)]
enum Pace {
    Max,
    Times(f64),
}

impl Pace {
    fn label(self) -> String {
        match self {
            Pace::Max => "full speed".to_string(),
            Pace::Times(x) => format!("paced at {x}x real time"),
        }
    }
}

/// What one run did.
struct Run {
    seconds: f64,
    dropped: u64,
    records: u64,
    bytes: u64,
    file_bytes: u64,
}

/// How the producers run: their pace and which events they send.
#[derive(Clone, Copy)]
struct Producers {
    pace: Pace,
    output: Output,
}

/// One source's producer: what a live source thread does with each chunk it reads.
fn produce(
    source: &Source,
    chunks: Vec<Chunk>,
    events: EventSender,
    how: Producers,
    start: Instant,
) -> JoinHandle<()> {
    let mut decoder = RecordDecoder::new(source.format, source.name.clone());
    let name = source.name.clone();
    std::thread::spawn(move || {
        for (_, arrival_ns, bytes) in chunks {
            if let Pace::Times(x) = how.pace {
                let due = start + Duration::from_nanos((arrival_ns as f64 / x) as u64);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            let records = match how.output.records() {
                true => decode(&mut decoder, &bytes, arrival_ns),
                false => Vec::new(),
            };
            let chunk = RawChunk {
                source: name.clone(),
                arrival_ns,
                bytes,
            };
            let sent = events.send(SourceEvent::Chunk(chunk));
            let sent = sent.and_then(|()| match records.is_empty() {
                true => Ok(()),
                false => events.send(SourceEvent::Records(records)),
            });
            if sent.is_err() {
                return;
            }
        }
    })
}

/// The records `bytes` complete.
fn decode(decoder: &mut RecordDecoder, bytes: &[u8], arrival_ns: u64) -> Vec<Record> {
    let mut records = Vec::new();
    decoder.feed(bytes, arrival_ns, &mut |d| {
        if let Decoded::Record(r) = d {
            records.push(r);
        }
    });
    records
}

/// The loop of `dagr record`: events into the recorder until every producer is done.
fn consume(recorder: &mut Recorder, receivers: &[EventReceiver], threads: &[JoinHandle<()>]) {
    let mut select = Select::new();
    for rx in receivers {
        rx.select_on(&mut select);
    }
    loop {
        let all_done = threads.iter().all(JoinHandle::is_finished)
            && receivers.iter().all(EventReceiver::is_empty);
        if all_done {
            return;
        }
        let wait = recorder.tick_due_in().min(Duration::from_millis(100));
        if let Ok(op) = select.select_timeout(wait) {
            let index = op.index();
            match receivers[index].complete(op) {
                Ok(event) => recorder.handle(event).expect("the capture is written"),
                Err(_) => select.remove(index),
            }
        }
        recorder.tick().expect("the capture is written");
    }
}

fn run_once(sources: &[Source], chunks: &[Chunk], how: Producers, path: &Path) -> Run {
    let writer = CaptureWriter::create(path, 0).expect("create the capture");
    let mut recorder = Recorder::new(writer);
    for s in sources {
        let stream = StreamInfo {
            name: s.name.clone(),
            format: s.format,
            uri: format!("bench://{}", s.name),
        };
        recorder.add_stream(&stream).expect("add a stream");
    }
    let start = Instant::now();
    let (mut receivers, mut threads, mut counters) = (Vec::new(), Vec::new(), Vec::new());
    for (i, s) in sources.iter().enumerate() {
        let mine: Vec<Chunk> = chunks.iter().filter(|c| c.0 == i).cloned().collect();
        let count = Arc::new(SourceCounters::default());
        let (tx, rx) = channel(SourceQueue::default(), count.clone());
        threads.push(produce(s, mine, tx, how, start));
        receivers.push(rx);
        counters.push(count);
    }
    consume(&mut recorder, &receivers, &threads);
    let tallies = recorder.finish().expect("finish the capture");
    let seconds = start.elapsed().as_secs_f64();
    for t in threads {
        t.join().expect("producer did not panic");
    }
    let run = Run {
        seconds,
        dropped: counters
            .iter()
            .map(|c| SourceCounters::get(&c.dropped_events))
            .sum(),
        records: tallies.values().map(|t| t.records).sum(),
        bytes: tallies.values().map(|t| t.bytes).sum(),
        file_bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
    };
    let _ = std::fs::remove_file(path);
    run
}

/// The recorder's own ceiling: every event made beforehand (as the producers would send
/// them, in arrival order), then fed to the recorder on this one thread. Returns seconds.
fn recorder_alone(sources: &[Source], chunks: &[Chunk], output: Output, path: &Path) -> f64 {
    let mut decoders: Vec<RecordDecoder> = sources
        .iter()
        .map(|s| RecordDecoder::new(s.format, s.name.clone()))
        .collect();
    let mut events = Vec::with_capacity(chunks.len() * 2);
    for (i, arrival_ns, bytes) in chunks {
        let records = match output.records() {
            true => decode(&mut decoders[*i], bytes, *arrival_ns),
            false => Vec::new(),
        };
        events.push(SourceEvent::Chunk(RawChunk {
            source: sources[*i].name.clone(),
            arrival_ns: *arrival_ns,
            bytes: bytes.clone(),
        }));
        if !records.is_empty() {
            events.push(SourceEvent::Records(records));
        }
    }
    let mut recorder = Recorder::new(CaptureWriter::create(path, 0).expect("create the capture"));
    for s in sources {
        let stream = StreamInfo {
            name: s.name.clone(),
            format: s.format,
            uri: format!("bench://{}", s.name),
        };
        recorder.add_stream(&stream).expect("add a stream");
    }
    let start = Instant::now();
    for event in events {
        recorder.handle(event).expect("the capture is written");
    }
    recorder.finish().expect("finish the capture");
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    seconds
}

fn temp_capture() -> PathBuf {
    std::env::temp_dir().join(format!("dagr-record-bench-{}.mcap", std::process::id()))
}

fn main() {
    let subcarriers = arg("--subcarriers", 64);
    let runs = arg("--runs", 5).max(1);
    let output = match std::env::args().any(|a| a == "--records") {
        true => Output::ChunksAndRecords,
        false => Output::ChunksOnly,
    };
    let (sources, chunks) = full_set(subcarriers);
    let input: u64 = chunks.iter().map(|c| c.2.len() as u64).sum();
    let path = temp_capture();
    println!(
        "record_bench: {SECONDS} s of a full sensor set ({} chunks, {:.1} MB, {subcarriers} CSI subcarriers), \
         {} sources x 1 thread -> Recorder -> MCAP, channel capacity {DEFAULT_CAPACITY} (dagr record's), \
         producers send {output:?}, median of {runs} runs",
        chunks.len(),
        input as f64 / 1e6,
        sources.len(),
    );
    println!(
        "{:<28} {:>8} {:>9} {:>9} {:>8} {:>11} {:>8}",
        "producers", "records", "MB in", "MB file", "s", "x realtime", "dropped"
    );
    let alone = median(
        (0..runs)
            .map(|_| recorder_alone(&sources, &chunks, output, &path))
            .collect(),
    );
    println!(
        "{:<28} {:>8} {:>9.1} {:>9} {:>8.2} {:>11.1} {:>8}",
        "none: recorder alone",
        "",
        input as f64 / 1e6,
        "",
        alone,
        SECONDS as f64 / alone,
        "-",
    );
    for pace in [
        Pace::Max,
        Pace::Times(20.0),
        Pace::Times(30.0),
        Pace::Times(50.0),
    ] {
        let all: Vec<Run> = (0..runs)
            .map(|_| run_once(&sources, &chunks, Producers { pace, output }, &path))
            .collect();
        let seconds = median(all.iter().map(|r| r.seconds).collect());
        let dropped = all.iter().map(|r| r.dropped).max().unwrap_or(0);
        let last = all.last().expect("at least one run");
        println!(
            "{:<28} {:>8} {:>9.1} {:>9.1} {:>8.2} {:>11.1} {:>8}",
            pace.label(),
            last.records,
            last.bytes as f64 / 1e6,
            last.file_bytes as f64 / 1e6,
            seconds,
            SECONDS as f64 / seconds,
            dropped,
        );
        if dropped == 0 {
            assert_eq!(last.bytes, input, "{}: every byte recorded", pace.label());
        }
    }
}
