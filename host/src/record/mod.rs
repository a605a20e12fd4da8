//! The record: one decoded unit of sensor data, as every stage after the decoders sees it.
//!
//! A record carries the device's own timestamp (in the device's units, unwrapped later by
//! the clock model) and the gateway's monotonic arrival time, so windows can be cut on
//! device time mapped to gateway time rather than on jittery arrival.
//!
//! This module must not know any stage: it is the noun every stage after the decoders
//! shares (with [`crate::classes`] and the events of [`crate::events`]).
use std::sync::Arc;

mod csi;
mod point_cloud;
mod tag_reads;

pub use csi::{CsiAntenna, CsiPacket, SubcarrierLayout};
pub use point_cloud::{PointCloud, RadarPoint};
pub use tag_reads::TagRead;

/// Which sensing modality a record belongs to (the model's three inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modality {
    /// mmWave radar point clouds.
    Mmwave,
    /// WiFi channel state information.
    Wifi,
    /// UHF RFID tag reads.
    Rfid,
}

impl Modality {
    /// All modalities, in the model's input order.
    pub const ALL: [Modality; 3] = [Modality::Mmwave, Modality::Wifi, Modality::Rfid];

    /// The name used in JSON, model.json and captures.
    pub fn name(self) -> &'static str {
        match self {
            Modality::Mmwave => "mmwave",
            Modality::Wifi => "wifi",
            Modality::Rfid => "rfid",
        }
    }

    /// Index in [`Modality::ALL`] (the `present` mask's column).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A device's own notion of when a record was made, in the device's units.
///
/// Kept raw (wrapping counters stay wrapping) so that the clock model, which sees the
/// whole sequence, is the one place that unwraps and maps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceTime {
    /// TI radar: frame counter and the DSP/MSS CPU cycle counter (may be 0 on some demos).
    TiFrame {
        /// `frameNumber` from the packet header.
        frame_number: u32,
        /// `timeCpuCycles` from the packet header.
        cpu_cycles: u32,
    },
    /// A free-running µs counter that wraps at 2^32 (ESP32 `local_timestamp`, Intel
    /// `timestamp_low`).
    MicrosU32(u32),
    /// Microseconds since the Unix epoch on the device's clock (LLRP FirstSeenTimestampUTC).
    UtcMicros(u64),
    /// A node's own µs clock (node link header), answerable by time-sync exchanges.
    NodeMicros(u64),
}

/// The decoded content of a record: the shape its modality's preprocessor reads, one per
/// modality whatever the format (each format's module in `format/` fills it), so a new
/// format of a known modality changes nothing after its decoder.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A radar point cloud (a TI frame, a node-link radar payload).
    Radar(PointCloud),
    /// One WiFi packet's channel state at its receive antennas (an ESP32 row, an Intel 5300
    /// record, a node-link CSI payload).
    Csi(CsiPacket),
    /// RFID tag reads (one LLRP tag report, a node-link batch of reads).
    Tags(Vec<TagRead>),
}

/// One decoded unit of sensor data with both of its times.
#[derive(Debug, Clone)]
pub struct Record {
    /// Name of the source it came from (unique per gateway run and per capture channel).
    pub source: Arc<str>,
    /// Which model input it feeds.
    pub modality: Modality,
    /// The device's timestamp, raw.
    pub device_time: DeviceTime,
    /// Gateway monotonic time of arrival of the bytes that completed it, ns.
    pub arrival_ns: u64,
    /// Bytes the decoder consumed to yield the unit it came from (its frame, row or
    /// message), so the clock can take the unit's wire time off `arrival_ns`; 0 if unknown.
    pub wire_bytes: u32,
    /// What was decoded.
    pub payload: Payload,
}
