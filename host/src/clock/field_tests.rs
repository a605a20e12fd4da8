//! The clocks as they will run in the field: every arrival late by a fixed transport delay
//! (USB polling, a LAN) plus a random one, serial records also by their wire time, and a
//! device oscillator whose rate wanders (a random walk of its ppm, as temperature moves it).
//!
//! A node's time-sync request and answer cross the same link, each leg late by its frame's
//! wire time (34 bytes out, 50 back), the same fixed delay and a random one of its own.
//!
//! Each source kind is simulated with the delays stated in its [`Kind`] and goes through
//! [`SourceClocks`] as a live run's records and exchanges do, with and without the link's
//! speed declared; the test asserts the error achieved and prints the table quoted in
//! README.md: `cargo test -p dagr-host --lib clock::field_tests -- --nocapture`.
use std::sync::Arc;

use super::time_sync::{REQUEST_WIRE_BYTES, RESPONSE_WIRE_BYTES};
use super::{SourceClocks, TimeSyncExchange, WireRate};
use crate::record::{DeviceTime, Modality, Payload, Record};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;
const BAUD: u32 = 921_600;
const RUN_S: u64 = 120;
const WARM_UP_S: u64 = 10;
const SEEDS: u64 = 6;

/// splitmix64: seeded test randomness.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn exponential(&mut self, mean_ns: u64) -> u64 {
        (-(1.0 - self.unit()).ln() * mean_ns as f64) as u64
    }
}

/// A device clock whose rate takes a random step every second: `rate_ns[s]` device ns per
/// gateway ns during second `s`, `start_ns[s]` the device reading when it began.
struct WanderingClock {
    rate: Vec<f64>,
    start_ns: Vec<f64>,
}

impl WanderingClock {
    /// Starts `ppm0` fast; each second the ppm moves by up to ±`step_ppm`.
    fn new(rng: &mut Rng, ppm0: f64, step_ppm: f64) -> Self {
        let (mut rate, mut start_ns) = (Vec::new(), Vec::new());
        let (mut ppm, mut device) = (ppm0, 0.0);
        for _ in 0..=RUN_S + 1 {
            rate.push(1.0 + ppm * 1e-6);
            start_ns.push(device);
            device += S as f64 * (1.0 + ppm * 1e-6);
            ppm = (ppm + (rng.unit() * 2.0 - 1.0) * step_ppm).clamp(-100.0, 100.0);
        }
        WanderingClock { rate, start_ns }
    }

    /// Device ns at gateway ns `t`.
    fn device_at(&self, t: u64) -> f64 {
        let s = (t / S) as usize;
        self.start_ns[s] + (t % S) as f64 * self.rate[s]
    }

    /// Gateway ns at which the device read `device_ns`.
    fn gateway_at(&self, device_ns: f64) -> f64 {
        let s = self.start_ns.partition_point(|&d| d <= device_ns).max(1) - 1;
        s as f64 * S as f64 + (device_ns - self.start_ns[s]) / self.rate[s]
    }
}

/// How a device stamps its records.
#[derive(Clone, Copy)]
enum Stamp {
    /// A TI radar's frame counter at a nominal 50 ms period.
    TiFrame,
    /// An ESP32's wrapping µs counter.
    MicrosU32,
    /// An LLRP reader's UTC µs.
    UtcMicros,
    /// A node's µs clock, answering a time-sync request every second.
    NodeSynced,
}

/// One source kind as deployed: its rate, record sizes and transport delays.
struct Kind {
    name: &'static str,
    stamp: Stamp,
    period_ns: u64,
    /// Record size on the wire, bytes: `bytes.0 + uniform(0..bytes.1)`.
    bytes: (u32, u32),
    /// The serial link's speed; `None` for TCP.
    wire: Option<WireRate>,
    /// Delay every record has beyond its wire time (USB polling, the LAN), ns.
    fixed_ns: u64,
    /// Mean of the exponential extra delay (scheduling, USB, reader batching), ns.
    random_mean_ns: u64,
}

const KINDS: [Kind; 4] = [
    Kind {
        name: "node (time sync)",
        stamp: Stamp::NodeSynced,
        period_ns: 10 * MS,
        bytes: (60, 120),
        wire: Some(WireRate { baud: BAUD }),
        fixed_ns: MS,
        random_mean_ns: MS,
    },
    Kind {
        name: "ESP32 CSI rows (serial)",
        stamp: Stamp::MicrosU32,
        period_ns: 10 * MS,
        bytes: (600, 200),
        wire: Some(WireRate { baud: BAUD }),
        fixed_ns: MS,
        random_mean_ns: 2 * MS,
    },
    Kind {
        name: "TI frames (UART)",
        stamp: Stamp::TiFrame,
        period_ns: 50 * MS,
        // 736 bytes without points (the real fixture's frames), up to 50 more points.
        bytes: (736, 800),
        wire: Some(WireRate { baud: BAUD }),
        fixed_ns: MS,
        random_mean_ns: MS,
    },
    Kind {
        name: "LLRP over TCP",
        stamp: Stamp::UtcMicros,
        period_ns: 33 * MS,
        bytes: (80, 40),
        wire: None,
        fixed_ns: 2 * MS,
        random_mean_ns: 3 * MS,
    },
];

/// Errors of mapped minus true time after warm-up, ns.
#[derive(Debug, Default, Clone, Copy)]
struct Errors {
    worst: f64,
    /// When the worst error happened, ns since the run started.
    worst_at: u64,
    sum: f64,
    n: u64,
}

impl Errors {
    /// Counts the error `e` of a record made at `at` ns.
    fn add(&mut self, e: f64, at: u64) {
        if e.abs() > self.worst {
            (self.worst, self.worst_at) = (e.abs(), at);
        }
        self.sum += e;
        self.n += 1;
    }

    fn merge(self, o: Errors) -> Errors {
        let (worst, worst_at) = if o.worst > self.worst {
            (o.worst, o.worst_at)
        } else {
            (self.worst, self.worst_at)
        };
        Errors {
            worst,
            worst_at,
            sum: self.sum + o.sum,
            n: self.n + o.n,
        }
    }

    fn mean(&self) -> f64 {
        self.sum / self.n.max(1) as f64
    }
}

impl Kind {
    fn device_time(&self, clock: &WanderingClock, n: u64, t: u64) -> DeviceTime {
        let device_ns = clock.device_at(t);
        match self.stamp {
            Stamp::TiFrame => DeviceTime::TiFrame {
                frame_number: 500 + n as u32,
                cpu_cycles: 0,
            },
            Stamp::MicrosU32 => DeviceTime::MicrosU32((device_ns / 1e3) as u64 as u32),
            Stamp::UtcMicros => {
                DeviceTime::UtcMicros(1_700_000_000_000_000 + (device_ns / 1e3) as u64)
            }
            Stamp::NodeSynced => DeviceTime::NodeMicros(5_000_000 + (device_ns / 1e3) as u64),
        }
    }

    /// When record `n` was made, gateway ns (a radar frame: when its frame timer fired).
    fn made_at(&self, clock: &WanderingClock, n: u64) -> u64 {
        match self.stamp {
            Stamp::TiFrame => clock.gateway_at((n * self.period_ns) as f64) as u64,
            _ => n * self.period_ns,
        }
    }

    /// One gateway-to-node exchange at `t1`: the request's and the answer's frames on the
    /// wire, each leg with the kind's fixed and random delays.
    fn exchange(
        &self,
        source: &Arc<str>,
        clock: &WanderingClock,
        t1: u64,
        rng: &mut Rng,
    ) -> TimeSyncExchange {
        let wire = self.wire.expect("a node is on a serial link");
        let leg = |bytes, rng: &mut Rng| {
            wire.ns(bytes) + self.fixed_ns + rng.exponential(self.random_mean_ns)
        };
        let t2_ns = clock.device_at(t1 + leg(REQUEST_WIRE_BYTES, rng));
        let t3_ns = t2_ns + 150_000.0;
        let t4 = clock.gateway_at(t3_ns) as u64 + leg(RESPONSE_WIRE_BYTES, rng);
        let us = |ns: f64| 5_000_000 + (ns / 1e3) as u64;
        TimeSyncExchange {
            source: source.clone(),
            t1_ns: t1,
            t2_us: us(t2_ns),
            t3_us: us(t3_ns),
            t4_ns: t4,
        }
    }

    /// Runs the kind for `RUN_S` with `seed`; `model_wire` says whether the link's speed is
    /// declared, so wire time is taken off arrivals and time-sync legs.
    fn run(&self, seed: u64, model_wire: bool) -> Errors {
        let mut rng = Rng(seed);
        let ppm0 = 60.0 * (rng.unit() * 2.0 - 1.0);
        let clock = WanderingClock::new(&mut rng, ppm0, 0.5);
        let source: Arc<str> = self.name.into();
        let mut clocks = SourceClocks::new();
        if let (true, Some(rate)) = (model_wire, self.wire) {
            clocks.set_wire(&source, rate);
        }
        let (mut errors, mut next_sync) = (Errors::default(), S);
        for n in 1.. {
            let made = self.made_at(&clock, n);
            if made >= RUN_S * S {
                break;
            }
            if matches!(self.stamp, Stamp::NodeSynced) && made >= next_sync {
                let exchange = self.exchange(&source, &clock, next_sync, &mut rng);
                clocks.time_sync(&exchange).expect("a possible exchange");
                next_sync += S;
            }
            let bytes = self.bytes.0 + (rng.unit() * f64::from(self.bytes.1)) as u32;
            let wire_ns = self.wire.map_or(0, |w| w.ns(bytes));
            let record = Record {
                source: source.clone(),
                modality: Modality::Rfid,
                device_time: self.device_time(&clock, n, made),
                arrival_ns: made + wire_ns + self.fixed_ns + rng.exponential(self.random_mean_ns),
                wire_bytes: bytes,
                payload: Payload::Tags(Vec::new()),
            };
            let mapped = clocks.map(&record);
            if made >= WARM_UP_S * S {
                errors.add(mapped as f64 - made as f64, made);
            }
        }
        errors
    }

    fn over_seeds(&self, model_wire: bool) -> Errors {
        (0..SEEDS).fold(Errors::default(), |acc, seed| {
            acc.merge(self.run(seed, model_wire))
        })
    }
}

/// Wire time of `bytes` at the simulated links' speed, ns.
fn wire_ns(bytes: u32) -> f64 {
    WireRate::serial(BAUD).ns(bytes) as f64
}

fn ms(ns: f64) -> String {
    format!("{:.2}", ns / 1e6)
}

#[test]
fn field_errors_per_source_kind_with_wire_time_fixed_random_delays_and_wandering_drift() {
    println!("\n| source | fixed + random (mean) delay | mean error, ms | worst error, ms | without the wire model: mean, worst, ms |");
    println!("|---|---|---|---|---|");
    let mut rows = Vec::new();
    for kind in &KINDS {
        let (with, without) = (kind.over_seeds(true), kind.over_seeds(false));
        println!(
            "| {} | {} + {} ms{} | {} | {} | {} |",
            kind.name,
            ms(kind.fixed_ns as f64),
            ms(kind.random_mean_ns as f64),
            kind.wire
                .map_or(String::new(), |w| format!(" + wire at {} Bd", w.baud)),
            ms(with.mean()),
            ms(with.worst),
            if kind.wire.is_some() {
                format!("{}, {}", ms(without.mean()), ms(without.worst))
            } else {
                "n/a".into()
            },
        );
        rows.push((with, without));
    }
    let [node, esp32, ti, llrp] = rows.try_into().unwrap();
    // Two-way sync sees the fixed delay: only the legs' asymmetry remains...
    assert!(node.0.worst < 1.0e6, "node {:?}", node.0);
    // ...and of that, the frames' wire times are known: without them the line sits half
    // their difference late ((50 - 34) bytes × 10 / 921 600 Bd / 2 = 87 µs; measured 95 µs
    // mean), with them only the random legs' asymmetry is left (measured 8 µs). The worst
    // error (0.4-0.5 ms, either way) is the young drift fit's, early in the run (each seed's
    // worst at 11-33 s of 120 s; printed and bounded below).
    let bias = (wire_ns(RESPONSE_WIRE_BYTES) - wire_ns(REQUEST_WIRE_BYTES)) / 2.0;
    println!(
        "node mean error: {:.1} µs with the legs' wire time taken off, {:.1} µs without \
         (half the frames' wire-time difference: {:.1} µs)",
        node.0.mean() / 1e3,
        node.1.mean() / 1e3,
        bias / 1e3
    );
    let node_kind = &KINDS[0];
    for model_wire in [true, false] {
        let worst: Vec<String> = (0..SEEDS)
            .map(|seed| {
                let e = node_kind.run(seed, model_wire);
                // The young fit's: within the first 40 s of the 120 s run, every seed.
                assert!(e.worst_at < 40 * S, "seed {seed}: {e:?}");
                format!(
                    "{} ms at {:.1} s",
                    ms(e.worst),
                    e.worst_at as f64 / S as f64
                )
            })
            .collect();
        println!(
            "node worst error per seed, {} the legs' wire time taken off: {}",
            if model_wire { "with" } else { "without" },
            worst.join(", ")
        );
    }
    assert!(node.1.mean() > 0.7 * bias, "node without {:?}", node.1);
    assert!(node.0.mean().abs() < 0.3 * bias, "node with {:?}", node.0);
    // Without two-way sync the fixed delay stays in the mapped time (always early: the
    // model places a record at its earliest possible arrival)...
    for (name, e, fixed) in [
        ("esp32", esp32.0, MS),
        ("ti", ti.0, MS),
        ("llrp", llrp.0, 2 * MS),
    ] {
        assert!(e.mean() > 0.8 * fixed as f64, "{name}: {e:?}");
        assert!(e.worst < fixed as f64 + 1.5e6, "{name}: {e:?}");
    }
    // ...but the wire time, which would add milliseconds more, is taken off.
    assert!(esp32.1.worst > esp32.0.worst + 1.5e6, "esp32 {esp32:?}");
    assert!(ti.1.worst > ti.0.worst + 6e6, "ti {ti:?}");
}

#[test]
fn the_wandering_clock_inverts() {
    let clock = WanderingClock::new(&mut Rng(1), 50.0, 0.5);
    for t in [0, 3 * S + 17, 77 * S + 123_456_789] {
        assert!((clock.gateway_at(clock.device_at(t)) - t as f64).abs() < 1.0);
    }
}
