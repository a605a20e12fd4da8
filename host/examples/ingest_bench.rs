//! Throughput of the live path on one thread: device bytes -> `ingest::RecordDecoder` ->
//! per-source `ClockModel` -> `Synchronizer`, for a full sensor set.
//!
//! Generates 60 s of device bytes (3 ESP32-CSI-Tool links x 1000 rows/s, a TI radar at
//! 20 frames/s x 64 points, an LLRP reader reporting 23 tags x 30 reads/s), each chunk
//! stamped with a jittered arrival time, then times the pipeline over all of it and over
//! each source type alone. Prints medians of several runs, as multiples of real time.
//!
//! `cargo run --release -p dagr-host --example ingest_bench [-- --subcarriers 64|128 --runs 7]`
use std::sync::Arc;
use std::time::Instant;

use dagr_host::clock::SourceClocks;
use dagr_host::decode::Format;
use dagr_host::ingest::{Decoded, RecordDecoder};
use dagr_host::sync::{SyncConfig, Synchronizer};
use dagr_protocols::csi::esp32_csi_tool::{CsiRow, Role};
use dagr_protocols::csi::Iq;
use dagr_protocols::llrp::{Epc, Message, TagReport};
use dagr_protocols::ti_mmwave::{Frame, Point};

const SECONDS: u64 = 60;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// splitmix64, for repeatable jitter and payloads.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Arrival delay: uniform 0..5 ms.
    fn delay(&mut self) -> u64 {
        self.next() % (5 * MS)
    }
}

/// One source's bytes as they would arrive: (source index, arrival ns, bytes).
type Chunk = (usize, u64, Vec<u8>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csi,
    Radar,
    Rfid,
}

struct Source {
    name: Arc<str>,
    format: Format,
    kind: Kind,
}

/// Stamps chunks with arrivals that never go backwards (a byte stream stays in order).
fn stamp(source: usize, made_ns: u64, bytes: Vec<u8>, last: &mut u64, rng: &mut Rng) -> Chunk {
    *last = (made_ns + rng.delay()).max(*last);
    (source, *last, bytes)
}

fn csi_link(source: usize, subcarriers: usize, rng: &mut Rng) -> Vec<Chunk> {
    let mut last = 0;
    let start_us = rng.next() as u32;
    (0..SECONDS * 1000)
        .map(|i| {
            let t = i * MS;
            let row = CsiRow {
                role: Role::Sta,
                mac: [0x24, 0x0a, 0xc4, 0, 0, source as u8],
                rssi: -40 - (rng.next() % 20) as i8,
                rate: 11,
                sig_mode: 1,
                mcs: 7,
                bandwidth: u8::from(subcarriers > 64),
                smoothing: 1,
                not_sounding: 1,
                aggregation: 0,
                stbc: 0,
                fec_coding: 0,
                sgi: 0,
                noise_floor: -92,
                ampdu_cnt: 0,
                channel: 6,
                secondary_channel: 0,
                // 30 ppm fast, wrapping u32 µs
                local_timestamp: start_us.wrapping_add((t as f64 * 1.00003 / 1000.0) as u32),
                ant: 0,
                sig_len: 128,
                rx_state: 0,
                real_time_set: false,
                real_timestamp: t as f64 / 1e9,
                len: (subcarriers * 2) as u16,
                csi: (0..subcarriers)
                    .map(|_| {
                        let v = rng.next();
                        Iq {
                            re: (v % 61) as i8 - 30,
                            im: ((v >> 8) % 61) as i8 - 30,
                        }
                    })
                    .collect(),
            };
            stamp(source, t, row.to_line(), &mut last, rng)
        })
        .collect()
}

fn radar(source: usize, rng: &mut Rng) -> Vec<Chunk> {
    let mut last = 0;
    (0..SECONDS * 20)
        .map(|n| {
            let t = n * 50 * MS;
            let points = (0..64)
                .map(|_| {
                    let v = rng.next();
                    Point {
                        x: (v % 400) as f32 / 100.0 - 2.0,
                        y: ((v >> 16) % 600) as f32 / 100.0,
                        z: ((v >> 32) % 200) as f32 / 100.0 - 1.0,
                        v: ((v >> 48) % 100) as f32 / 20.0 - 2.5,
                        snr: Some(120),
                        noise: Some(40),
                        bins: None,
                    }
                })
                .collect();
            let mut frame = Frame::new(n as u32 + 1, points);
            frame.time_cpu_cycles = (n as u32).wrapping_mul(10_000_000);
            let bytes = frame.encode().expect("radar frame encodes");
            stamp(source, t, bytes, &mut last, rng)
        })
        .collect()
}

fn reader(source: usize, rng: &mut Rng) -> Vec<Chunk> {
    const TAGS: u64 = 23;
    let utc0 = 1_700_000_000_000_000u64;
    let mut last = 0;
    (0..SECONDS * 30)
        .map(|report| {
            let sent = (report + 1) * S / 30;
            let tags = (0..TAGS)
                .map(|tag| {
                    let seen = report * S / 30 + tag * S / 30 / TAGS;
                    let mut epc = [0u8; 12];
                    epc[11] = tag as u8;
                    TagReport {
                        epc: Epc::Epc96(epc),
                        antenna_id: Some(1 + (tag % 4) as u16),
                        peak_rssi: Some(-50 - (rng.next() % 20) as i8),
                        channel_index: Some(1 + (rng.next() % 16) as u16),
                        first_seen_utc_us: Some(utc0 + seen / 1000),
                        impinj_phase: Some((rng.next() % 4096) as u16),
                        impinj_doppler: Some((rng.next() % 200) as i16 - 100),
                        impinj_peak_rssi: Some(-5000 - (rng.next() % 2000) as i16),
                        ..TagReport::default()
                    }
                })
                .collect();
            let message = Message::ro_access_report(report as u32, tags);
            let bytes = message.to_vec().expect("report encodes");
            stamp(source, sent, bytes, &mut last, rng)
        })
        .collect()
}

/// What one pass produced, to check the work was done.
#[derive(Default, Debug, Clone, Copy)]
struct Totals {
    records: u64,
    windows: u64,
    late: u64,
    bytes: u64,
}

/// Runs `chunks` (sorted by arrival) through decoders, clock models and the synchronizer.
fn pipeline(sources: &[Source], chunks: &[Chunk]) -> Totals {
    let mut decoders: Vec<RecordDecoder> = sources
        .iter()
        .map(|s| RecordDecoder::new(s.format, s.name.clone()))
        .collect();
    let mut clocks = SourceClocks::new();
    let mut sync = Synchronizer::new(SyncConfig::default()).expect("default config is valid");
    let mut totals = Totals::default();
    let mut next_poll = 0;
    for (source, arrival, bytes) in chunks {
        totals.bytes += bytes.len() as u64;
        decoders[*source].feed(bytes, *arrival, &mut |decoded| {
            if let Decoded::Record(record) = decoded {
                totals.records += 1;
                let t = clocks.map(&record);
                sync.push(record, t);
            }
        });
        if *arrival >= next_poll {
            totals.windows += sync.poll(*arrival).len() as u64;
            next_poll = arrival + 100 * MS;
        }
    }
    totals.windows += sync.flush().len() as u64;
    totals.late = sync.stats().late;
    totals
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Times `runs` passes; returns the median seconds and the totals of one pass.
fn time(sources: &[Source], chunks: &[Chunk], runs: usize) -> (f64, Totals) {
    let mut totals = Totals::default();
    let seconds = (0..runs)
        .map(|_| {
            let start = Instant::now();
            totals = std::hint::black_box(pipeline(sources, chunks));
            start.elapsed().as_secs_f64()
        })
        .collect();
    (median(seconds), totals)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: expected a number, got {v}"))
        })
        .unwrap_or(default)
}

fn main() {
    let subcarriers = arg("--subcarriers", 64);
    let runs = arg("--runs", 7).max(1);
    let source = |name: &str, format, kind| Source {
        name: name.into(),
        format,
        kind,
    };
    let sources = [
        source("csi-a", Format::Esp32Csi, Kind::Csi),
        source("csi-b", Format::Esp32Csi, Kind::Csi),
        source("csi-c", Format::Esp32Csi, Kind::Csi),
        source("radar", Format::TiMmwave, Kind::Radar),
        source("reader", Format::Llrp, Kind::Rfid),
    ];
    let mut rng = Rng(42);
    let mut chunks: Vec<Chunk> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        chunks.extend(match s.kind {
            Kind::Csi => csi_link(i, subcarriers, &mut rng),
            Kind::Radar => radar(i, &mut rng),
            Kind::Rfid => reader(i, &mut rng),
        });
    }
    chunks.sort_by_key(|c| c.1);

    println!(
        "ingest_bench: {SECONDS} s of device bytes, {subcarriers} CSI subcarriers, median of {runs} runs, one thread"
    );
    println!(
        "{:<34} {:>8} {:>7} {:>5} {:>7} {:>8} {:>10} {:>10}",
        "set", "records", "windows", "late", "MB", "ms", "records/s", "x realtime"
    );
    let sets: [(&str, Option<Kind>); 4] = [
        ("full set (3 CSI + radar + RFID)", None),
        ("CSI only (3 links x 1000/s)", Some(Kind::Csi)),
        ("radar only (20 frames/s x 64 pts)", Some(Kind::Radar)),
        ("RFID only (23 tags x 30 reads/s)", Some(Kind::Rfid)),
    ];
    for (label, only) in sets {
        let picked: Vec<Chunk> = chunks
            .iter()
            .filter(|c| only.is_none_or(|k| sources[c.0].kind == k))
            .cloned()
            .collect();
        let (seconds, totals) = time(&sources, &picked, runs);
        println!(
            "{:<34} {:>8} {:>7} {:>5} {:>7.1} {:>8.1} {:>10.0} {:>10.1}",
            label,
            totals.records,
            totals.windows,
            totals.late,
            totals.bytes as f64 / 1e6,
            seconds * 1e3,
            totals.records as f64 / seconds,
            SECONDS as f64 / seconds,
        );
        assert!(totals.windows > 0, "{label}: no windows came out");
    }
}
