//! The full sensor set of a gateway as device bytes, shared by the benchmarks: 3 ESP32-CSI-Tool
//! links x 1000 rows/s, a TI radar at 20 frames/s x 64 points, an LLRP reader reporting 23
//! tags x 30 reads/s, [`SECONDS`] of each, every chunk stamped with a jittered arrival.
use std::sync::Arc;

use dagr_host::format::Format;
use dagr_protocols::csi::esp32_csi_tool::{CsiRow, Role};
use dagr_protocols::csi::{Iq, RxCtrl};
use dagr_protocols::llrp::{Epc, Message, TagReport};
use dagr_protocols::ti_mmwave::{Frame, Point};

/// Seconds of device data generated.
pub const SECONDS: u64 = 60;
/// One millisecond, ns.
pub const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// splitmix64, for repeatable jitter and payloads.
pub struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
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
pub type Chunk = (usize, u64, Vec<u8>);

/// The kinds of device in the set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An ESP32 CSI link.
    Csi,
    /// A TI mmWave radar.
    Radar,
    /// An LLRP RFID reader.
    Rfid,
}

/// One device of the set.
pub struct Source {
    /// Source name.
    pub name: Arc<str>,
    /// Device format of its bytes.
    pub format: Format,
    /// What kind of device it is.
    pub kind: Kind,
}

/// Stamps chunks with arrivals that never go backwards (a byte stream stays in order).
fn stamp(source: usize, made_ns: u64, bytes: Vec<u8>, last: &mut u64, rng: &mut Rng) -> Chunk {
    *last = (made_ns + rng.delay()).max(*last);
    (source, *last, bytes)
}

/// One ESP32 link's rows, 30 ppm fast, wrapping u32 µs.
pub fn csi_link(source: usize, subcarriers: usize, rng: &mut Rng) -> Vec<Chunk> {
    let mut last = 0;
    let start_us = rng.next() as u32;
    (0..SECONDS * 1000)
        .map(|i| {
            let t = i * MS;
            let rx_ctrl = RxCtrl {
                rssi: -40 - (rng.next() % 20) as i8,
                mcs: 7,
                bandwidth: u8::from(subcarriers > 64),
                noise_floor: -92,
                // 30 ppm fast, wrapping u32 µs
                local_timestamp: start_us.wrapping_add((t as f64 * 1.00003 / 1000.0) as u32),
                sig_len: 128,
                ..RxCtrl::ht20(6)
            };
            let csi = (0..subcarriers)
                .map(|_| {
                    let v = rng.next();
                    Iq {
                        re: (v % 61) as i8 - 30,
                        im: ((v >> 8) % 61) as i8 - 30,
                    }
                })
                .collect();
            let mac = [0x24, 0x0a, 0xc4, 0, 0, source as u8];
            let row = CsiRow {
                real_timestamp: t as f64 / 1e9,
                ..CsiRow::new(Role::Sta, mac, rx_ctrl, csi)
            };
            stamp(source, t, row.to_line(), &mut last, rng)
        })
        .collect()
}

/// The radar's frames.
pub fn radar(source: usize, rng: &mut Rng) -> Vec<Chunk> {
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

/// The reader's RO_ACCESS_REPORTs.
pub fn reader(source: usize, rng: &mut Rng) -> Vec<Chunk> {
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

/// The whole set: its sources and every chunk, sorted by arrival.
pub fn full_set(subcarriers: usize) -> (Vec<Source>, Vec<Chunk>) {
    let source = |name: &str, format, kind| Source {
        name: name.into(),
        format,
        kind,
    };
    let sources = vec![
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
    (sources, chunks)
}

/// The median of `values` (not empty).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The number after `name` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
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
