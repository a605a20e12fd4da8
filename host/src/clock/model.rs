//! The per-source clock model: device timestamps to gateway monotonic ns.
//!
//! Offset and drift come from the lower envelope of (device time, arrival) pairs (see
//! [`envelope`](super::envelope) for why the envelope and not a plain fit), or, for nodes
//! that answer time-sync requests, from the exchanges (see [`time_sync`](super::time_sync)),
//! which also remove the constant part of the transport delay that the envelope cannot see.
//!
//! A device clock that jumps (an LLRP reader's UTC clock stepped by NTP, a device reboot
//! resetting its counter) is re-anchored: a sample arriving more than `step_threshold`
//! *earlier* than the model allows is impossible for a late arrival, so the clock stepped
//! forward and the model restarts at once; samples arriving more than `step_threshold`
//! *later* than the model predicts may only be a burst of buffered data (LLRP reports are
//! often batched), so the model restarts only if every sample for `step_confirm` was that
//! late. The drift survives a re-anchor: the oscillator did not change.
use super::envelope::{envelope_slope, Change, Envelope, Line, Point};
use super::time_sync::{SyncRejected, SyncSample, SyncSamples};
use super::unwrap::{TickKind, Unwrapper};
use crate::record::DeviceTime;

/// Tuning of a [`ClockModel`]; the defaults suit sources from 1 Hz to kHz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockConfig {
    /// Width of one minimum-filter bucket, in gateway ns of arrival.
    pub bucket_ns: u64,
    /// Buckets the drift fit spans (the sliding window is `bucket_ns * buckets`).
    pub buckets: usize,
    /// Closed buckets before drift is fitted (until then the drift is the nominal rate).
    pub min_fit_buckets: usize,
    /// Most recent buckets the line is placed under (the offset's support).
    pub support_buckets: usize,
    /// A sample this far off the model means the device clock jumped, ns.
    pub step_threshold_ns: u64,
    /// How long samples must all arrive that late before a backward jump is believed, ns.
    pub step_confirm_ns: u64,
    /// Largest believable drift of a clock with a nominal rate, ppm.
    pub max_drift_ppm: f64,
    /// Time-sync exchanges kept.
    pub sync_samples: usize,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            bucket_ns: 1_000_000_000,
            buckets: 60,
            min_fit_buckets: 3,
            support_buckets: 5,
            step_threshold_ns: 1_000_000_000,
            step_confirm_ns: 2_000_000_000,
            max_drift_ppm: 1_000.0,
            sync_samples: 64,
        }
    }
}

/// What a clock model currently believes, for status pages and metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockDiagnostics {
    /// Mapped gateway ns minus device time in ns, at the latest sample (for a frame
    /// counter, device time is frames times the estimated period).
    pub offset_ns: i64,
    /// Estimated gateway ns per device tick (the frame period for radar).
    pub ns_per_tick: f64,
    /// Drift against the nominal rate, ppm; `None` when the rate has no nominal value.
    pub drift_ppm: Option<f64>,
    /// Mean arrival lateness behind the mapped time, ns (moving average).
    pub lateness_ns: f64,
    /// Standard deviation of the lateness, ns (moving average): the arrival jitter.
    pub jitter_ns: f64,
    /// Samples observed.
    pub samples: u64,
    /// Time-sync exchanges used.
    pub sync_samples: u64,
    /// Half the round-trip delay of the fastest exchange held: a bound on the offset error
    /// of a time-synced node, ns.
    pub sync_bound_ns: Option<f64>,
    /// Time-sync exchanges rejected as impossible.
    pub sync_rejected: u64,
    /// Re-anchors after the device clock jumped (steps, reboots, a change of timestamp kind).
    pub steps: u64,
    /// Times a u32 counter wrapped.
    pub wraps: u64,
    /// Whether the drift has been estimated (enough buckets or exchanges seen).
    pub warmed_up: bool,
}

/// The sample the model's coordinates are relative to.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    ticks: i64,
    gateway_ns: u64,
}

/// A run of samples arriving much later than predicted: a backward clock jump, or a burst.
#[derive(Debug, Clone, Copy, Default)]
struct LateRun {
    since_ns: Option<u64>,
    samples: u32,
}

/// Moving mean and variance of arrival lateness.
#[derive(Debug, Clone, Copy, Default)]
struct Lateness {
    mean: f64,
    var: f64,
}

impl Lateness {
    const ALPHA: f64 = 1.0 / 256.0;

    fn add(&mut self, late_ns: f64) {
        let d = late_ns - self.mean;
        self.mean += Self::ALPHA * d;
        self.var += Self::ALPHA * (d * d - self.var);
    }
}

/// Maps one source's device timestamps to gateway monotonic ns.
#[derive(Debug, Clone)]
pub struct ClockModel {
    config: ClockConfig,
    unwrap: Unwrapper,
    nominal: Option<f64>,
    anchor: Option<Anchor>,
    line: Line,
    envelope: Envelope,
    syncs: SyncSamples,
    late_run: LateRun,
    lateness: Lateness,
    last_offset_ns: i64,
    samples: u64,
    sync_used: u64,
    sync_rejected: u64,
    steps: u64,
}

impl ClockModel {
    /// A model for a source whose records carry timestamps like `first`.
    pub fn new(first: &DeviceTime) -> Self {
        ClockModel::with_config(first, ClockConfig::default())
    }

    /// A model with explicit tuning.
    pub fn with_config(first: &DeviceTime, config: ClockConfig) -> Self {
        let unwrap = Unwrapper::new(first);
        let nominal = unwrap.kind().nominal_ns_per_tick();
        ClockModel {
            config,
            unwrap,
            nominal,
            anchor: None,
            line: Line {
                a: 0.0,
                b: nominal.unwrap_or(0.0),
            },
            envelope: Envelope::new(config.bucket_ns, config.buckets),
            syncs: SyncSamples::new(config.sync_samples),
            late_run: LateRun::default(),
            lateness: Lateness::default(),
            last_offset_ns: 0,
            samples: 0,
            sync_used: 0,
            sync_rejected: 0,
            steps: 0,
        }
    }

    /// Learns from one (device time, arrival) pair; returns the mapped gateway time, ns.
    ///
    /// The mapped time never exceeds the arrival: a sample cannot arrive before it was made.
    pub fn observe(&mut self, device: DeviceTime, arrival_ns: u64) -> u64 {
        self.samples += 1;
        let ticks = match self.unwrap.advance(&device) {
            Some(ticks) => ticks,
            None => {
                self.unwrap = Unwrapper::new(&device);
                self.nominal = self.unwrap.kind().nominal_ns_per_tick();
                self.line.b = self.nominal.unwrap_or(0.0);
                return self.reanchor(0, arrival_ns);
            }
        };
        let Some(anchor) = self.anchor else {
            let anchor = Anchor {
                ticks,
                gateway_ns: arrival_ns,
            };
            self.anchor = Some(anchor);
            return self.learn(anchor, ticks, arrival_ns);
        };
        let p = point(anchor, ticks, arrival_ns);
        if self.nominal.is_none() && self.envelope.points(0).count() < 2 && p.x > 0.0 {
            self.line.b = p.y / p.x;
        }
        let residual = self.line.residual(p);
        if residual < -(self.config.step_threshold_ns as f64)
            || self.late_run_confirmed(residual, arrival_ns)
        {
            return self.reanchor(ticks, arrival_ns);
        }
        self.learn(anchor, ticks, arrival_ns)
    }

    /// Learns from one time-sync exchange with a node: request sent at gateway `t1`,
    /// received at node `t2`, answered at node `t3`, answer received at gateway `t4`.
    ///
    /// Once a model has exchanges it fits them instead of the arrival envelope (they also
    /// see the constant part of the link delay, which arrivals cannot). Exchanges are
    /// refused for sources whose timestamps are not a node clock.
    pub fn time_sync(
        &mut self,
        t1_gateway_ns: u64,
        t2_node_us: u64,
        t3_node_us: u64,
        t4_gateway_ns: u64,
    ) -> Result<(), SyncRejected> {
        let delay_ns = SyncSamples::delay_ns(t1_gateway_ns, t2_node_us, t3_node_us, t4_gateway_ns)
            .inspect_err(|_| self.sync_rejected += 1)?;
        if self.unwrap.kind() != TickKind::NodeMicros {
            self.sync_rejected += 1;
            return Err(SyncRejected::NotANodeClock);
        }
        let (t2, t3) = (
            self.unwrap.absolute_ticks(t2_node_us),
            self.unwrap.absolute_ticks(t3_node_us),
        );
        let anchor = *self.anchor.get_or_insert(Anchor {
            ticks: t2,
            gateway_ns: t1_gateway_ns,
        });
        self.syncs.push(SyncSample {
            request: point(anchor, t2, t1_gateway_ns),
            answer: point(anchor, t3, t4_gateway_ns),
            delay_ns,
            t4_ns: t4_gateway_ns,
        });
        self.sync_used += 1;
        let window = self
            .config
            .bucket_ns
            .saturating_mul(self.config.buckets as u64);
        self.syncs.age_out(t4_gateway_ns.saturating_sub(window));
        self.refit();
        Ok(())
    }

    /// Gateway ns for a device time, without learning from it (`None` before any sample or
    /// for a timestamp of another kind). Unlike [`observe`](Self::observe), nothing bounds
    /// the answer by an arrival.
    pub fn map(&self, device: &DeviceTime) -> Option<u64> {
        let anchor = self.anchor?;
        let mut unwrap = self.unwrap.clone();
        let ticks = unwrap.advance(device)?;
        let y = self.line.at((ticks - anchor.ticks) as f64);
        Some(to_gateway(anchor, y))
    }

    /// What the model currently believes.
    pub fn diagnostics(&self) -> ClockDiagnostics {
        ClockDiagnostics {
            offset_ns: self.last_offset_ns,
            ns_per_tick: self.line.b,
            drift_ppm: self.nominal.map(|n| (self.line.b / n - 1.0) * 1e6),
            lateness_ns: self.lateness.mean,
            jitter_ns: self.lateness.var.max(0.0).sqrt(),
            samples: self.samples,
            sync_samples: self.sync_used,
            sync_bound_ns: self.syncs.fastest_delay_ns().map(|d| d / 2.0),
            sync_rejected: self.sync_rejected,
            steps: self.steps,
            wraps: self.unwrap.wraps(),
            warmed_up: self.warmed_up(),
        }
    }

    fn warmed_up(&self) -> bool {
        self.envelope.closed() >= self.config.min_fit_buckets || self.syncs.len() >= 2
    }

    /// Tracks samples far later than predicted; true once they amount to a backward jump.
    fn late_run_confirmed(&mut self, residual: f64, arrival_ns: u64) -> bool {
        if residual <= self.config.step_threshold_ns as f64 {
            self.late_run = LateRun::default();
            return false;
        }
        let since = *self.late_run.since_ns.get_or_insert(arrival_ns);
        self.late_run.samples += 1;
        arrival_ns.saturating_sub(since) >= self.config.step_confirm_ns
            && self.late_run.samples >= 3
    }

    /// Restarts the model at this sample, keeping the drift.
    fn reanchor(&mut self, ticks: i64, arrival_ns: u64) -> u64 {
        self.steps += 1;
        let anchor = Anchor {
            ticks,
            gateway_ns: arrival_ns,
        };
        self.anchor = Some(anchor);
        self.line.a = 0.0;
        self.envelope.clear();
        self.syncs.clear();
        self.late_run = LateRun::default();
        self.learn(anchor, ticks, arrival_ns)
    }

    /// Feeds a sample to the envelope, refits if that matters, and maps it.
    fn learn(&mut self, anchor: Anchor, ticks: i64, arrival_ns: u64) -> u64 {
        let p = point(anchor, ticks, arrival_ns);
        match self.envelope.add(p, arrival_ns, &self.line) {
            Change::Closed => self.refit(),
            Change::OpenMinimum if !self.warmed_up() => self.refit(),
            _ => {}
        }
        let mapped = to_gateway(anchor, self.line.at(p.x)).min(arrival_ns);
        self.lateness.add((arrival_ns - mapped) as f64);
        let device_ns = (self.unwrap.origin_raw() as f64 + ticks as f64) * self.line.b;
        self.last_offset_ns = clamp_i64(mapped as i128 - device_ns as i128);
        mapped
    }

    /// Re-estimates the line from the exchanges, or else from the envelope.
    fn refit(&mut self) {
        if !self.syncs.is_empty() {
            if let Some(line) = self.syncs.fit(self.line.b) {
                self.line = self.bounded(line);
            }
            return;
        }
        let min_closed = self.config.min_fit_buckets;
        let can_fit_slope = match self.nominal {
            Some(_) => self.envelope.closed() >= min_closed,
            None => self.envelope.points(min_closed).count() >= 2,
        };
        if can_fit_slope {
            if let Some(b) = envelope_slope(self.envelope.points(min_closed)) {
                self.line.b = self.bounded(Line { a: 0.0, b }).b;
            }
        }
        let b = self.line.b;
        let lowest = self
            .envelope
            .recent(self.config.support_buckets, min_closed)
            .map(|p| p.y - b * p.x)
            .fold(f64::INFINITY, f64::min);
        if lowest.is_finite() {
            self.line.a = lowest;
        }
    }

    /// Keeps a nominal-rate clock's slope within `max_drift_ppm`.
    fn bounded(&self, line: Line) -> Line {
        match self.nominal {
            Some(n) if line.b.is_finite() => {
                let span = n * self.config.max_drift_ppm * 1e-6;
                Line {
                    b: line.b.clamp(n - span, n + span),
                    ..line
                }
            }
            Some(n) => Line { b: n, ..line },
            None => line,
        }
    }
}

fn point(anchor: Anchor, ticks: i64, gateway_ns: u64) -> Point {
    Point {
        x: (ticks - anchor.ticks) as f64,
        y: (gateway_ns as i128 - anchor.gateway_ns as i128) as f64,
    }
}

fn to_gateway(anchor: Anchor, y: f64) -> u64 {
    let ns = anchor.gateway_ns as f64 + y;
    if ns.is_finite() && ns > 0.0 {
        ns.round() as u64
    } else {
        0
    }
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
