//! The run loop's side of the status board: it follows every source (state changes,
//! counters, rate, stalls, device facts), takes the pipeline's clocks and synchronizer
//! totals and the predictions made, and publishes a [`GatewayStatus`](super::GatewayStatus)
//! on the [`StatusBoard`].
//!
//! `dagr run` creates one after [`Gateway::start`](crate::runtime::Gateway::start), hands it
//! every event ([`StatusTracker::note_event`]) and prediction
//! ([`StatusTracker::note_prediction`]), and calls [`StatusTracker::refresh_if_due`] from
//! its sink's periodic work.
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{
    ClockHealth, ConnectionState, NodeStatus, PredictionTotals, ReaderStatus, SourceHealth,
    StatusBoard, StreamSync, SyncTotals,
};
use crate::clock::GatewayClock;
use crate::events::{NodeHeartbeat, SourceCounters, SourceEvent, SourceState};
use crate::pipeline::Pipeline;
use crate::record::Modality;
use crate::runtime::RunningSource;

/// The span a source's record rate is measured over.
pub const RATE_SPAN: Duration = Duration::from_secs(5);

/// How long a connected source's records may stop before it counts as a gap.
pub const GAP_AFTER: Duration = Duration::from_secs(2);

/// Least time between two publications by [`StatusTracker::refresh_if_due`].
pub const REFRESH_EVERY: Duration = Duration::from_millis(200);

/// Rate samples kept per source at most (a caller refreshing very often still holds a
/// bounded history).
const MAX_RATE_SAMPLES: usize = 256;

/// One followed source.
struct Tracked {
    name: Arc<str>,
    uri: String,
    counters: Arc<SourceCounters>,
    state: ConnectionState,
    last_error: Option<String>,
    /// (when, records so far), oldest first, covering about [`RATE_SPAN`].
    samples: VecDeque<(Instant, u64)>,
    last_record_at: Option<Instant>,
    last_records: u64,
    gaps: u64,
    in_gap: bool,
}

impl Tracked {
    fn new(source: &RunningSource) -> Tracked {
        Tracked {
            name: source.uri.name().into(),
            uri: source.uri.text.clone(),
            counters: source.counters.clone(),
            state: ConnectionState::Connecting,
            last_error: None,
            samples: VecDeque::new(),
            last_record_at: None,
            last_records: 0,
            gaps: 0,
            in_gap: false,
        }
    }

    /// Takes the record counter at `now`: rate history, last record time, stalls.
    fn sample(&mut self, now: Instant) {
        let records = SourceCounters::get(&self.counters.records);
        if records > self.last_records {
            self.last_records = records;
            self.last_record_at = Some(now);
            self.in_gap = false;
        } else if let Some(last) = self.last_record_at {
            let stalled = now.duration_since(last) > GAP_AFTER;
            if stalled && !self.in_gap && self.state == ConnectionState::Connected {
                self.gaps += 1;
                self.in_gap = true;
            }
        }
        self.samples.push_back((now, records));
        while self.samples.len() > MAX_RATE_SAMPLES
            || (self.samples.len() > 2 && now.duration_since(self.samples[1].0) >= RATE_SPAN)
        {
            self.samples.pop_front();
        }
    }

    /// Records per second between the oldest sample kept and the newest.
    fn rate_hz(&self) -> f64 {
        match (self.samples.front(), self.samples.back()) {
            (Some(&(t0, r0)), Some(&(t1, r1))) if t1 > t0 => {
                r1.saturating_sub(r0) as f64 / (t1 - t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    fn health(&self, now: Instant, now_ns: u64, pipeline: Option<&Pipeline>) -> SourceHealth {
        let c = &self.counters;
        SourceHealth {
            name: self.name.to_string(),
            uri: self.uri.clone(),
            state: self.state,
            connected: self.state == ConnectionState::Connected,
            records: SourceCounters::get(&c.records),
            bytes: SourceCounters::get(&c.bytes_in),
            rate_hz: self.rate_hz(),
            gaps: self.gaps,
            silent_s: self.last_record_at.map(|t| (now - t).as_secs_f64()),
            dropped_events: SourceCounters::get(&c.dropped_events),
            connects: SourceCounters::get(&c.connects),
            disconnects: SourceCounters::get(&c.disconnects),
            last_error: self.last_error.clone(),
            clock: pipeline
                .and_then(|p| p.clock(&self.name))
                .map(|model| clock_health(model.diagnostics())),
            reader: c.device.reader().map(|r| ReaderStatus {
                manufacturer: r.manufacturer,
                model: r.model,
                firmware: r.firmware,
                impinj_extensions: r.impinj_extensions,
            }),
            nodes: c
                .device
                .heartbeats()
                .iter()
                .map(|beat| node_status(beat, now_ns))
                .collect(),
        }
    }
}

/// The synchronizer's totals and per-stream tallies, when the pipeline cuts windows.
fn sync_totals(pipeline: &Pipeline) -> Option<SyncTotals> {
    let (s, tallies) = (pipeline.sync_stats()?, pipeline.sync_sources()?);
    Some(SyncTotals {
        records: s.records,
        late: s.late,
        partly_late: s.partly_late,
        overflow: s.overflow,
        windows: s.windows,
        buffered: s.buffered as u64,
        skipped_windows: s.skipped_windows,
        streams: tallies
            .iter()
            .map(|(name, t)| StreamSync {
                source: name.to_string(),
                modality: t.modality.name(),
                records: t.records,
                late: t.late,
            })
            .collect(),
    })
}

fn clock_health(d: crate::clock::ClockDiagnostics) -> ClockHealth {
    ClockHealth {
        offset_s: d.offset_ns as f64 / 1e9,
        drift_ppm: d.drift_ppm,
        jitter_s: d.jitter_ns / 1e9,
        samples: d.samples,
        sync_samples: d.sync_samples,
        steps: d.steps,
        warmed_up: d.warmed_up,
    }
}

fn node_status(beat: &NodeHeartbeat, now_ns: u64) -> NodeStatus {
    let hb = &beat.heartbeat;
    NodeStatus {
        node: beat.node,
        age_s: now_ns.saturating_sub(beat.at_ns) as f64 / 1e9,
        uptime_s: hb.uptime_us as f64 / 1e6,
        samples_produced: hb.samples_produced,
        frames_sent: hb.frames_sent,
        dropped_backpressure: hb.dropped_backpressure,
        link_errors: hb.link_errors,
        crc_errors: hb.crc_errors,
        ring_high_water: hb.ring_high_water,
        ring_capacity: hb.ring_capacity,
    }
}

/// Follows a running gateway and publishes its status on a board.
pub struct StatusTracker {
    board: StatusBoard,
    clock: GatewayClock,
    sources: Vec<Tracked>,
    predictions: PredictionTotals,
    last_prediction_at: Option<Instant>,
    last_refresh: Option<Instant>,
}

impl StatusTracker {
    /// Follows `sources` (from [`Gateway::sources`](crate::runtime::Gateway::sources)),
    /// whose arrivals are stamped by `clock`, publishing on `board`.
    pub fn new(board: StatusBoard, clock: GatewayClock, sources: &[RunningSource]) -> Self {
        StatusTracker {
            board,
            clock,
            sources: sources.iter().map(Tracked::new).collect(),
            predictions: PredictionTotals::default(),
            last_prediction_at: None,
            last_refresh: None,
        }
    }

    /// Takes what status needs from one source event (its state changes); the others
    /// are counted by the sources themselves.
    pub fn note_event(&mut self, event: &SourceEvent) {
        let SourceEvent::Status(status) = event else {
            return;
        };
        let Some(source) = self.sources.iter_mut().find(|s| s.name == status.source) else {
            return;
        };
        source.state = match &status.state {
            SourceState::Connected => ConnectionState::Connected,
            SourceState::Disconnected { reason, .. } => {
                source.last_error = Some(reason.clone());
                ConnectionState::Disconnected
            }
            SourceState::Finished => ConnectionState::Finished,
        };
    }

    /// Counts the modalities the norm guard set aside in a prediction (a prediction's
    /// `set_aside`, in [`Modality::ALL`] order).
    pub fn note_set_aside(&mut self, set_aside: [bool; 3]) {
        self.predictions.set_aside.add(set_aside);
    }

    /// Counts a prediction of `class` made with the modalities `present` marks (in
    /// [`Modality::ALL`] order, as [`Window::present`](crate::sync::Window::present) gives
    /// them).
    pub fn note_prediction(&mut self, class: &str, present: [bool; 3]) {
        let p = &mut self.predictions;
        p.total += 1;
        p.partial += u64::from(present.contains(&false));
        p.absent.add(present.map(|here| !here));
        p.last_present = Modality::ALL
            .iter()
            .zip(present)
            .filter(|(_, here)| *here)
            .map(|(m, _)| m.name())
            .collect();
        if p.last_class.as_deref() != Some(class) {
            p.last_class = Some(class.to_string());
        }
        self.last_prediction_at = Some(Instant::now());
    }

    /// Notes how long after its window's deadline the latest prediction came.
    pub fn note_latency(&mut self, latency: std::time::Duration) {
        self.predictions.latency.add(latency);
    }

    /// Notes the version of the head that made the latest prediction (0: the model
    /// package's own), so a reader sees an adapted head come into use or roll back.
    pub fn note_head(&mut self, version: u64) {
        self.predictions.last_head = Some(version);
    }

    /// Publishes the status now, with the clocks and synchronizer of `pipeline` when
    /// given.
    pub fn refresh(&mut self, pipeline: Option<&Pipeline>) {
        let now = Instant::now();
        let now_ns = self.clock.now_ns();
        for source in &mut self.sources {
            source.sample(now);
        }
        let sources = self
            .sources
            .iter()
            .map(|s| s.health(now, now_ns, pipeline))
            .collect();
        let synchronizer = pipeline.and_then(sync_totals);
        let predictions = self.predictions.clone();
        let last_prediction_at = self.last_prediction_at;
        self.board.publish(|p| {
            p.sources = sources;
            p.synchronizer = synchronizer;
            p.predictions = predictions;
            p.last_prediction_at = last_prediction_at;
        });
        self.last_refresh = Some(now);
    }

    /// [`refresh`](Self::refresh) if [`REFRESH_EVERY`] passed since the last one; true when
    /// it published.
    pub fn refresh_if_due(&mut self, pipeline: Option<&Pipeline>) -> bool {
        let due = self
            .last_refresh
            .is_none_or(|at| at.elapsed() >= REFRESH_EVERY);
        if due {
            self.refresh(pipeline);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(state: ConnectionState) -> Tracked {
        Tracked {
            name: "esp32-csi:/dev/ttyUSB0".into(),
            uri: "esp32-csi:///dev/ttyUSB0".into(),
            counters: Arc::new(SourceCounters::default()),
            state,
            last_error: None,
            samples: VecDeque::new(),
            last_record_at: None,
            last_records: 0,
            gaps: 0,
            in_gap: false,
        }
    }

    fn add_records(source: &Tracked, n: u64) {
        SourceCounters::add(&source.counters.records, n);
    }

    #[test]
    fn the_rate_is_records_per_second_over_the_last_span_only() {
        let t0 = Instant::now();
        let mut source = tracked(ConnectionState::Connected);
        // 100 records/s for 10 s, then 20 records/s for 10 s, sampled every 200 ms.
        for step in 1..=100u64 {
            let per_step = if step <= 50 { 20 } else { 4 };
            add_records(&source, per_step);
            source.sample(t0 + Duration::from_millis(200 * step));
        }
        assert!(
            (source.rate_hz() - 20.0).abs() < 1e-9,
            "{}",
            source.rate_hz()
        );
        let kept = source.samples.len();
        assert!(
            (25..=27).contains(&kept),
            "about RATE_SPAN of samples: {kept}"
        );
    }

    #[test]
    fn a_stall_of_a_connected_source_is_one_gap_however_long() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut source = tracked(ConnectionState::Connected);
        add_records(&source, 10);
        source.sample(at(0));
        for ms in (200..=6_000).step_by(200) {
            source.sample(at(ms));
        }
        assert_eq!(source.gaps, 1);
        add_records(&source, 1);
        source.sample(at(6_200));
        source.sample(at(9_000));
        assert_eq!(source.gaps, 2, "records resumed, then stopped again");
        assert_eq!(source.rate_hz(), 0.2, "1 record in the last 5 s");
    }

    #[test]
    fn a_disconnected_source_has_no_gaps_only_its_disconnect() {
        let t0 = Instant::now();
        let mut source = tracked(ConnectionState::Disconnected);
        add_records(&source, 10);
        source.sample(t0);
        source.sample(t0 + Duration::from_secs(10));
        assert_eq!(source.gaps, 0);
    }
}
