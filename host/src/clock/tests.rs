//! Tests of the clock models against simulated device clocks: known drift, known offset,
//! arrivals late by a random non-negative delay. "True" time is the gateway time a sample
//! was made.
use proptest::prelude::*;

use super::{ClockModel, SyncRejected};
use crate::record::DeviceTime;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// splitmix64: a seeded, dependency-free source of test randomness.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How late arrivals are.
#[derive(Clone, Copy, Debug)]
enum Jitter {
    /// Uniform in 0..max ns.
    Uniform(u64),
    /// Exponential with this mean, ns.
    Exponential(u64),
}

impl Jitter {
    fn draw(self, rng: &mut Rng) -> u64 {
        match self {
            Jitter::Uniform(max) => (rng.unit() * max as f64) as u64,
            Jitter::Exponential(mean) => (-(1.0 - rng.unit()).ln() * mean as f64) as u64,
        }
    }
}

/// A device µs clock running `ppm` fast, reading `start_us` at gateway time `start_ns`.
#[derive(Clone, Copy)]
struct DeviceClock {
    start_ns: u64,
    start_us: u64,
    ppm: f64,
}

impl DeviceClock {
    fn micros_at(&self, gateway_ns: u64) -> u64 {
        let elapsed = (gateway_ns - self.start_ns) as f64 * (1.0 + self.ppm * 1e-6);
        self.start_us + (elapsed / 1000.0) as u64
    }

    /// Gateway ns at which the device read `us` (inverse of `micros_at`).
    fn gateway_at(&self, us: u64) -> f64 {
        let elapsed_us = us as f64 - self.start_us as f64;
        self.start_ns as f64 + elapsed_us * 1000.0 / (1.0 + self.ppm * 1e-6)
    }
}

/// Runs `duration_ns` of samples every `period_ns` through a fresh model; returns the
/// worst |mapped - true| after `warm_up_ns`, in ns.
fn worst_error_after_warm_up(
    clock: DeviceClock,
    stamp: impl Fn(u64) -> DeviceTime,
    period_ns: u64,
    duration_ns: u64,
    warm_up_ns: u64,
    jitter: Jitter,
    seed: u64,
) -> f64 {
    let mut rng = Rng(seed);
    let mut model: Option<ClockModel> = None;
    let mut worst: f64 = 0.0;
    let mut t = clock.start_ns;
    while t < clock.start_ns + duration_ns {
        let device = stamp(clock.micros_at(t));
        let model = model.get_or_insert_with(|| ClockModel::new(&device));
        let mapped = model.observe(device, t + jitter.draw(&mut rng));
        if t >= clock.start_ns + warm_up_ns {
            let truth = clock.gateway_at(clock.micros_at(t));
            worst = worst.max((mapped as f64 - truth).abs());
        }
        t += period_ns;
    }
    worst
}

fn esp32(us: u64) -> DeviceTime {
    DeviceTime::MicrosU32(us as u32)
}

#[test]
fn u32_clock_with_50ppm_drift_and_uniform_5ms_jitter_maps_within_1ms_after_10s_of_100hz() {
    let clock = DeviceClock {
        start_ns: 3 * S,
        start_us: 80_272_146,
        ppm: 50.0,
    };
    let worst = worst_error_after_warm_up(
        clock,
        esp32,
        10 * MS,
        120 * S,
        10 * S,
        Jitter::Uniform(5 * MS),
        1,
    );
    assert!(worst < 1e6, "worst error {worst} ns");
}

#[test]
fn u32_clock_with_exponential_5ms_jitter_maps_within_1ms_after_10s_of_100hz() {
    let clock = DeviceClock {
        start_ns: 0,
        start_us: 0,
        ppm: -50.0,
    };
    let jitter = Jitter::Exponential(5 * MS);
    let worst = worst_error_after_warm_up(clock, esp32, 10 * MS, 120 * S, 10 * S, jitter, 2);
    assert!(worst < 1e6, "worst error {worst} ns");
}

#[test]
fn u32_clock_maps_within_1ms_across_the_2_pow_32_wrap() {
    let clock = DeviceClock {
        start_ns: 5 * S,
        start_us: u64::from(u32::MAX) - 30_000_000,
        ppm: 50.0,
    };
    let jitter = Jitter::Uniform(5 * MS);
    let worst = worst_error_after_warm_up(clock, esp32, 10 * MS, 60 * S, 10 * S, jitter, 3);
    assert!(worst < 1e6, "worst error {worst} ns");
    let mut model = ClockModel::new(&esp32(clock.start_us));
    for t in (0..60).map(|s| clock.start_ns + s * S) {
        model.observe(esp32(clock.micros_at(t)), t);
    }
    assert_eq!(model.diagnostics().wraps, 1);
}

#[test]
fn ti_frames_at_20hz_map_within_1ms_and_the_frame_period_is_estimated() {
    // The radar's frame timer runs 50 ppm fast: frames come every 50 ms / (1 + 50e-6).
    let period = 50.0 * MS as f64 / (1.0 + 50e-6);
    let mut rng = Rng(4);
    let mut model: Option<ClockModel> = None;
    let mut worst: f64 = 0.0;
    for n in 0..(120 * 20u32) {
        let truth = 7.0 * S as f64 + f64::from(n) * period;
        let time = DeviceTime::TiFrame {
            frame_number: 1_000 + n,
            cpu_cycles: rng.next_u64() as u32,
        };
        let model = model.get_or_insert_with(|| ClockModel::new(&time));
        let arrival = truth as u64 + Jitter::Uniform(5 * MS).draw(&mut rng);
        let mapped = model.observe(time, arrival);
        if n >= 10 * 20 {
            worst = worst.max((mapped as f64 - truth).abs());
        }
    }
    assert!(worst < 1e6, "worst error {worst} ns");
    let d = model.unwrap().diagnostics();
    assert!(
        (d.ns_per_tick - period).abs() < 5_000.0,
        "period {}",
        d.ns_per_tick
    );
    assert_eq!(d.drift_ppm, None);
}

#[test]
fn utc_clock_steps_are_detected_and_re_anchored_in_both_directions() {
    // An LLRP reader at ~30 reads/s whose UTC clock NTP steps +5 s at 30 s and -3 s at 60 s.
    let clock = DeviceClock {
        start_ns: 0,
        start_us: 1_700_000_000_000_000,
        ppm: 20.0,
    };
    let step_us = |t: u64| match t {
        t if t < 30 * S => 0i64,
        t if t < 60 * S => 5_000_000,
        _ => 2_000_000,
    };
    let mut rng = Rng(5);
    let first = DeviceTime::UtcMicros(clock.start_us);
    let mut model = ClockModel::new(&first);
    let mut worst_settled: f64 = 0.0;
    for t in (0..90 * S).step_by(33 * MS as usize) {
        let us = clock.micros_at(t).saturating_add_signed(step_us(t));
        let mapped = model.observe(
            DeviceTime::UtcMicros(us),
            t + Jitter::Uniform(5 * MS).draw(&mut rng),
        );
        let settled = (10 * S..30 * S).contains(&t) || (32 * S..60 * S).contains(&t) || t >= 64 * S;
        if settled {
            worst_settled = worst_settled.max((mapped as f64 - t as f64).abs());
        }
    }
    assert_eq!(model.diagnostics().steps, 2);
    assert!(worst_settled < 1e6, "worst error {worst_settled} ns");
}

#[test]
fn late_bursts_of_batched_reports_are_not_mistaken_for_a_clock_step() {
    // Reports batched every 5 s: every read arrives up to 5 s late, the newest almost at once.
    let mut model = ClockModel::new(&DeviceTime::UtcMicros(0));
    for batch in 1..20u64 {
        let sent = batch * 5 * S;
        for t in ((batch - 1) * 5 * S + 100 * MS..=sent).step_by(100 * MS as usize) {
            model.observe(DeviceTime::UtcMicros(t / 1000), sent + MS);
        }
    }
    assert_eq!(model.diagnostics().steps, 0);
    let mapped = model.map(&DeviceTime::UtcMicros(50_000_000)).unwrap();
    assert!((mapped as f64 - 50e9).abs() < 2e6, "mapped {mapped}");
}

/// Node clock running `ppm` fast; exchanges once a second with asymmetric legs.
fn node_with_exchanges(model: &mut ClockModel, clock: DeviceClock, seconds: u64, rng: &mut Rng) {
    for s in 1..=seconds {
        let t1 = clock.start_ns + s * S;
        let out = MS / 2 + Jitter::Uniform(8 * MS).draw(rng);
        let back = MS / 5 + Jitter::Uniform(2 * MS).draw(rng);
        let t2 = clock.micros_at(t1 + out);
        let t3 = t2 + 150;
        let t4 = clock.gateway_at(t3) as u64 + back;
        model.time_sync(t1, t2, t3, t4).unwrap();
    }
}

#[test]
fn node_time_sync_with_asymmetric_delays_maps_within_1ms() {
    // Outbound legs 0.5..8.5 ms, return legs 0.2..2.2 ms: a mean asymmetry of 3.2 ms.
    for seed in 0..8 {
        let clock = DeviceClock {
            start_ns: 2 * S,
            start_us: 12_345_678,
            ppm: 80.0,
        };
        let mut model = ClockModel::new(&DeviceTime::NodeMicros(clock.start_us));
        node_with_exchanges(&mut model, clock, 40, &mut Rng(seed));
        for probe in [5 * S, 20 * S, 40 * S, 42 * S] {
            let us = clock.micros_at(clock.start_ns + probe);
            let mapped = model.map(&DeviceTime::NodeMicros(us)).unwrap();
            let err = mapped as f64 - clock.gateway_at(us);
            assert!(err.abs() < 1e6, "seed {seed}: error {err} ns at {probe} ns");
        }
        let d = model.diagnostics();
        assert_eq!((d.sync_samples, d.sync_rejected), (40, 0));
        assert!(
            d.sync_bound_ns.unwrap() < 2e6,
            "bound {:?}",
            d.sync_bound_ns
        );
        assert!(
            (d.drift_ppm.unwrap() + 80.0).abs() < 50.0,
            "drift {:?}",
            d.drift_ppm
        );
    }
}

#[test]
fn node_time_sync_removes_the_constant_transport_delay_the_envelope_cannot_see() {
    // Data frames always take at least 12 ms over the serial link.
    let clock = DeviceClock {
        start_ns: 0,
        start_us: 0,
        ppm: -30.0,
    };
    let mut rng = Rng(7);
    let mut model = ClockModel::new(&DeviceTime::NodeMicros(0));
    let data = |model: &mut ClockModel, rng: &mut Rng, from: u64, to: u64| {
        let mut worst: f64 = 0.0;
        for t in (from..to).step_by(10 * MS as usize) {
            let arrival = t + 12 * MS + Jitter::Uniform(5 * MS).draw(rng);
            let mapped = model.observe(DeviceTime::NodeMicros(clock.micros_at(t)), arrival);
            worst = worst.max((mapped as f64 - t as f64).abs());
        }
        worst
    };
    let envelope_only = data(&mut model, &mut rng, 0, 20 * S);
    assert!(
        envelope_only > 10e6,
        "without sync the link delay shows: {envelope_only}"
    );
    node_with_exchanges(&mut model, clock, 20, &mut rng);
    let with_sync = data(&mut model, &mut rng, 21 * S, 40 * S);
    assert!(with_sync < 1e6, "worst error {with_sync} ns");
}

#[test]
fn impossible_exchanges_are_rejected_and_counted() {
    let mut model = ClockModel::new(&DeviceTime::NodeMicros(0));
    assert_eq!(
        model.time_sync(10, 5, 4, 20),
        Err(SyncRejected::TimesOutOfOrder)
    );
    let mut esp = ClockModel::new(&esp32(0));
    assert_eq!(
        esp.time_sync(10, 5, 5, 20_000),
        Err(SyncRejected::NotANodeClock)
    );
    assert_eq!(model.diagnostics().sync_rejected, 1);
}

#[test]
fn a_device_reboot_resetting_its_counter_re_anchors_and_mapping_never_passes_arrival() {
    let mut model = ClockModel::new(&esp32(900_000_000));
    let mut worst_after: f64 = 0.0;
    for i in 0..1_300u64 {
        let t = i * 10 * MS;
        // Rebooted at 10 s: the counter restarts at zero, 910 s behind.
        let us = if t < 10 * S {
            900_000_000 + t / 1000
        } else {
            (t - 10 * S) / 1000
        };
        let mapped = model.observe(esp32(us), t + MS);
        assert!(mapped <= t + MS);
        if t >= 12 * S + 100 * MS {
            worst_after = worst_after.max((mapped as f64 - t as f64).abs());
        }
    }
    assert_eq!(model.diagnostics().steps, 1);
    assert!(worst_after < 1e6, "worst error {worst_after} ns");
}

#[test]
fn diagnostics_report_offset_drift_and_jitter() {
    let clock = DeviceClock {
        start_ns: 0,
        start_us: 1_000_000,
        ppm: 60.0,
    };
    let mut rng = Rng(8);
    let mut model = ClockModel::new(&esp32(clock.start_us));
    for t in (0..30 * S).step_by(10 * MS as usize) {
        model.observe(
            esp32(clock.micros_at(t)),
            t + Jitter::Uniform(4 * MS).draw(&mut rng),
        );
    }
    let d = model.diagnostics();
    assert!(d.warmed_up);
    assert_eq!(d.samples, 3_000);
    // gateway = (device - 1 s) / (1 + 60e-6): offset about -1 s
    assert!(
        (d.offset_ns + 1_000_000_000).abs() < 1_000_000,
        "offset {}",
        d.offset_ns
    );
    assert!(
        (d.drift_ppm.unwrap() + 60.0).abs() < 15.0,
        "drift {:?}",
        d.drift_ppm
    );
    assert!(
        (d.lateness_ns - 2e6).abs() < 0.5e6,
        "lateness {}",
        d.lateness_ns
    );
    assert!(
        (d.jitter_ns - 1.15e6).abs() < 0.4e6,
        "jitter {}",
        d.jitter_ns
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_drift_within_100ppm_and_any_offset_maps_within_1ms(
        ppm in -100.0f64..100.0,
        start_us in any::<u32>(),
        start_ns in 0u64..1_000_000 * S,
        seed in any::<u64>(),
    ) {
        let clock = DeviceClock { start_ns, start_us: u64::from(start_us), ppm };
        let worst = worst_error_after_warm_up(
            clock, esp32, 10 * MS, 40 * S, 10 * S, Jitter::Uniform(5 * MS), seed,
        );
        prop_assert!(worst < 1e6, "worst error {} ns", worst);
    }
}
