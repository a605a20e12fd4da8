//! The status board: what the gateway is doing, as one snapshot that the run loop writes
//! and readers (the HTTP server's /status, /metrics and /healthz) copy.
//!
//! [`StatusBoard`] is a cheap, thread-safe handle (clone it freely). The run loop owns a
//! [`StatusTracker`], which reads each source's counters and device
//! facts, the state changes its events report, the pipeline's clock models and
//! synchronizer totals, and the predictions made, and publishes a fresh
//! [`GatewayStatus`] on the board a few times a second. The HTTP side counts its `/events`
//! clients and their drops on the board directly ([`EventCounters`]).
//!
//! The JSON field names of [`GatewayStatus`] are part of the interface (scripts and
//! dashboards read them): extend, don't rename.
//!
//! The board must not know who reads it (HTTP, a terminal) nor how sources, clocks or
//! the synchronizer work: it copies what they report.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::record::Modality;

pub mod process;
pub mod tracker;

pub use process::ProcessUsage;
pub use tracker::StatusTracker;

/// How stale the run loop's last update may be before `/healthz` says the gateway is
/// unhealthy.
pub const HEALTH_STALE_AFTER: Duration = Duration::from_secs(5);

/// The gateway as the last update saw it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GatewayStatus {
    /// Seconds since the board was created (the gateway started).
    pub uptime_s: f64,
    /// The model the gateway runs.
    pub model: ModelStatus,
    /// Every source, in the order they were given.
    pub sources: Vec<SourceHealth>,
    /// The synchronizer's totals, once the pipeline cuts windows.
    pub synchronizer: Option<SyncTotals>,
    /// Predictions made.
    pub predictions: PredictionTotals,
    /// The `/events` stream's clients and drops.
    pub events: EventTotals,
    /// Seconds since the run loop last updated the board (`null` before its first update).
    pub updated_s_ago: Option<f64>,
    /// The gateway process's memory and CPU time, read when this status was taken.
    pub process: ProcessUsage,
}

/// Which model answers, and on which engine.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct ModelStatus {
    /// model.json's `name`.
    pub name: String,
    /// `tract` or `ort`.
    pub engine: String,
}

/// A source's connection state, as its last state change said.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Started, not yet connected.
    Connecting,
    /// Open; data may flow.
    Connected,
    /// Lost; retried after a backoff.
    Disconnected,
    /// Ended (replay done, or shut down).
    Finished,
}

/// One source's health.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceHealth {
    /// The source's name (records and clock models carry it).
    pub name: String,
    /// The URI it was started from.
    pub uri: String,
    /// Its connection state.
    pub state: ConnectionState,
    /// `state == "connected"`, for quick checks.
    pub connected: bool,
    /// Records decoded, since start.
    pub records: u64,
    /// Bytes received, since start.
    pub bytes: u64,
    /// Records per second over the last few seconds ([`tracker::RATE_SPAN`]).
    pub rate_hz: f64,
    /// Times the records stopped for longer than [`tracker::GAP_AFTER`] while connected
    /// (each stall counted once), since start.
    pub gaps: u64,
    /// Seconds since the source's last record (`null` before its first).
    pub silent_s: Option<f64>,
    /// Events dropped because its queue was full.
    pub dropped_events: u64,
    /// Connections made.
    pub connects: u64,
    /// Connections lost.
    pub disconnects: u64,
    /// Why the last connection was lost (kept after it reconnects).
    pub last_error: Option<String>,
    /// Its clock model, once it sent a record or a time-sync answer.
    pub clock: Option<ClockHealth>,
    /// The RFID reader it last connected to (LLRP sources).
    pub reader: Option<ReaderStatus>,
    /// The latest heartbeat of each node on its link (node sources).
    pub nodes: Vec<NodeStatus>,
}

/// What a source's clock model believes.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ClockHealth {
    /// Gateway time minus device time at the latest sample, s.
    pub offset_s: f64,
    /// Drift against the device's nominal rate, ppm (`null` when it has none).
    pub drift_ppm: Option<f64>,
    /// Arrival jitter (standard deviation of lateness), s.
    pub jitter_s: f64,
    /// Samples the model learned from.
    pub samples: u64,
    /// Time-sync exchanges used (nodes).
    pub sync_samples: u64,
    /// Re-anchors after the device clock jumped.
    pub steps: u64,
    /// Whether the drift is estimated yet.
    pub warmed_up: bool,
}

/// Who made a connected RFID reader.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReaderStatus {
    /// The vendor's IANA private enterprise number (25882 = Impinj).
    pub manufacturer: u32,
    /// The vendor's model number.
    pub model: u32,
    /// The reader's firmware version.
    pub firmware: String,
    /// Whether the Impinj extensions (phase, peak RSSI, Doppler) are on.
    pub impinj_extensions: bool,
}

/// A node's latest heartbeat.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct NodeStatus {
    /// The node's id.
    pub node: u16,
    /// Seconds since the heartbeat arrived.
    pub age_s: f64,
    /// The node's uptime, s.
    pub uptime_s: f64,
    /// Samples its drivers produced, since boot.
    pub samples_produced: u64,
    /// Frames it sent, since boot.
    pub frames_sent: u64,
    /// Samples it dropped on a full ring, since boot.
    pub dropped_backpressure: u32,
    /// Framing errors it saw on receive.
    pub link_errors: u32,
    /// CRC errors it saw on receive.
    pub crc_errors: u32,
    /// Its sample ring's high-water mark, slots.
    pub ring_high_water: u32,
    /// Its sample ring's capacity, slots.
    pub ring_capacity: u32,
}

/// The synchronizer's totals since start.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct SyncTotals {
    /// Records placed in windows.
    pub records: u64,
    /// Records dropped because all their windows had gone out.
    pub late: u64,
    /// Records that missed some of their windows.
    pub partly_late: u64,
    /// Records dropped because the buffer was full.
    pub overflow: u64,
    /// Windows emitted.
    pub windows: u64,
    /// Records held now.
    pub buffered: u64,
    /// Empty windows skipped inside holes in the data longer than a minute.
    pub skipped_windows: u64,
    /// Per record stream (a source's name; for a replay, each recorded stream's): its
    /// records and how many of them came too late for every window, in name order.
    pub streams: Vec<StreamSync>,
}

/// One record stream as the synchronizer saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StreamSync {
    /// The stream's source name, as its records carry it.
    pub source: String,
    /// Its modality (`mmwave`, `wifi`, `rfid`).
    pub modality: &'static str,
    /// Records it gave the synchronizer.
    pub records: u64,
    /// Records that arrived after all their windows had gone out (dropped, counted).
    pub late: u64,
}

/// Predictions made since start.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct PredictionTotals {
    /// All predictions.
    pub total: u64,
    /// Predictions made with at least one modality absent (masked).
    pub partial: u64,
    /// The class of the latest prediction.
    pub last_class: Option<String>,
    /// Seconds since the latest prediction.
    pub last_s_ago: Option<f64>,
    /// The modalities present in the latest prediction (names as in a prediction's
    /// `present`): a dead or masked sensor shows here as soon as its modality is absent.
    pub last_present: Vec<&'static str>,
    /// Per modality, predictions made without it.
    pub absent: ModalityCounts,
    /// Per modality, predictions that had it but left it out of the fusion: the model's
    /// norm guard found its embedding out of band (a sensor turned to noise).
    pub set_aside: ModalityCounts,
    /// The version of the head that made the latest prediction (0: the model package's
    /// own; a prediction line's `head`).
    pub last_head: Option<u64>,
    /// How long after their windows' deadlines the predictions came.
    pub latency: LatencyHistogram,
}

/// Upper bounds of [`LatencyHistogram`]'s buckets, seconds: the live target is 15 ms at
/// the 99th percentile; a loaded box or a slow model shows in the upper ones.
pub const LATENCY_BUCKETS_S: [f64; 10] = [
    0.001, 0.002, 0.005, 0.010, 0.015, 0.025, 0.050, 0.100, 0.250, 1.0,
];

/// Deadline-to-prediction latencies as a histogram: how many fell in each bucket of
/// [`LATENCY_BUCKETS_S`] (over the bound before, at or under its own), their sum, and the
/// latest one.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct LatencyHistogram {
    /// Latencies per bucket; the last counts those over the largest bound.
    pub in_bucket: [u64; LATENCY_BUCKETS_S.len() + 1],
    /// All latencies noted.
    pub count: u64,
    /// Their sum, seconds.
    pub sum_s: f64,
    /// The latest, seconds.
    pub last_s: Option<f64>,
}

impl LatencyHistogram {
    /// Notes one latency.
    pub fn add(&mut self, latency: std::time::Duration) {
        let s = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS_S.partition_point(|&bound| bound < s);
        self.in_bucket[bucket] += 1;
        self.count += 1;
        self.sum_s += s;
        self.last_s = Some(s);
    }

    /// `(upper bound, latencies in the bucket)` per bucket, `+Inf` last.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        (LATENCY_BUCKETS_S.iter().copied().chain([f64::INFINITY]))
            .zip(self.in_bucket)
            .collect()
    }
}

/// A count per modality, with the modalities' names as keys.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct ModalityCounts {
    /// Radar.
    pub mmwave: u64,
    /// WiFi CSI.
    pub wifi: u64,
    /// RFID.
    pub rfid: u64,
}

impl ModalityCounts {
    /// Adds one to each modality `which` marks, in [`Modality::ALL`] order.
    pub fn add(&mut self, which: [bool; 3]) {
        let [mmwave, wifi, rfid] = which.map(u64::from);
        self.mmwave += mmwave;
        self.wifi += wifi;
        self.rfid += rfid;
    }

    /// The counts with their modalities, in [`Modality::ALL`] order.
    pub fn by_modality(&self) -> [(Modality, u64); 3] {
        [
            (Modality::Mmwave, self.mmwave),
            (Modality::Wifi, self.wifi),
            (Modality::Rfid, self.rfid),
        ]
    }
}

/// The `/events` stream's totals.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct EventTotals {
    /// Clients connected now.
    pub clients: u64,
    /// Lines published to the stream.
    pub published: u64,
    /// Lines dropped for clients that fell behind (each client's drops added).
    pub dropped: u64,
}

/// Counters the HTTP side keeps on the board, read with every snapshot.
#[derive(Debug, Default)]
pub struct EventCounters {
    /// Clients connected now.
    pub clients: AtomicU64,
    /// Lines published.
    pub published: AtomicU64,
    /// Lines dropped for slow clients.
    pub dropped: AtomicU64,
}

impl EventCounters {
    fn totals(&self) -> EventTotals {
        EventTotals {
            clients: self.clients.load(Ordering::Relaxed),
            published: self.published.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// What the run loop last published: the snapshot without its read-time fields.
#[derive(Debug, Clone, Default)]
struct Published {
    at: Option<Instant>,
    sources: Vec<SourceHealth>,
    synchronizer: Option<SyncTotals>,
    predictions: PredictionTotals,
    last_prediction_at: Option<Instant>,
}

/// Shared between every handle.
#[derive(Debug)]
struct Shared {
    started: Instant,
    model: ModelStatus,
    published: RwLock<Published>,
    events: EventCounters,
}

/// A handle on the gateway's status; clones share one board.
#[derive(Debug, Clone)]
pub struct StatusBoard(Arc<Shared>);

impl StatusBoard {
    /// A board for a gateway running `model`, started now.
    pub fn new(model: ModelStatus) -> StatusBoard {
        StatusBoard(Arc::new(Shared {
            started: Instant::now(),
            model,
            published: RwLock::new(Published::default()),
            events: EventCounters::default(),
        }))
    }

    /// The current status (ages and uptime measured now).
    pub fn snapshot(&self) -> GatewayStatus {
        let now = Instant::now();
        let published = self.read();
        let seconds_since = |at: Option<Instant>| at.map(|t| (now - t).as_secs_f64());
        let mut predictions = published.predictions.clone();
        predictions.last_s_ago = seconds_since(published.last_prediction_at);
        GatewayStatus {
            uptime_s: (now - self.0.started).as_secs_f64(),
            model: self.0.model.clone(),
            sources: published.sources.clone(),
            synchronizer: published.synchronizer.clone(),
            predictions,
            events: self.0.events.totals(),
            updated_s_ago: seconds_since(published.at),
            process: ProcessUsage::now(),
        }
    }

    /// Whether the run loop updated the board within [`HEALTH_STALE_AFTER`]; the error
    /// says how long it has been silent.
    pub fn health(&self) -> Result<(), String> {
        match self.read().at {
            Some(at) if at.elapsed() <= HEALTH_STALE_AFTER => Ok(()),
            Some(at) => Err(format!(
                "the run loop last updated status {:.1} s ago",
                at.elapsed().as_secs_f64()
            )),
            None => Err("the run loop has not updated status yet".to_string()),
        }
    }

    /// The `/events` counters, which the HTTP side updates.
    pub fn event_counters(&self) -> &EventCounters {
        &self.0.events
    }

    /// Replaces what the run loop publishes (the tracker's job).
    fn publish(&self, update: impl FnOnce(&mut Published)) {
        // A poisoned lock only means a reader panicked mid-copy: the data is still whole.
        let mut published = self.0.published.write().unwrap_or_else(|p| p.into_inner());
        update(&mut published);
        published.at = Some(Instant::now());
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Published> {
        self.0.published.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests;
