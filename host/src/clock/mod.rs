//! Time on the gateway: the monotonic gateway clock every arrival is stamped with, and the
//! per-source clock models that map a device's own timestamps onto it.
use std::time::Instant;

use crate::record::DeviceTime;

/// The gateway's monotonic clock: nanoseconds since the gateway started.
///
/// Copyable so every source thread stamps arrivals against the same epoch.
#[derive(Debug, Clone, Copy)]
pub struct GatewayClock {
    epoch: Instant,
}

impl Default for GatewayClock {
    fn default() -> Self {
        GatewayClock::new()
    }
}

impl GatewayClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        GatewayClock {
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since this clock's zero.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Maps one source's device timestamps to gateway time (PLACEHOLDER being replaced by the
/// real estimator: offset + drift, robust to arrival jitter, unwrapping counters).
#[derive(Debug, Clone, Default)]
pub struct ClockModel {
    _private: (),
}

impl ClockModel {
    /// A model for a source whose records carry timestamps like `first`.
    pub fn new(_first: &DeviceTime) -> Self {
        ClockModel::default()
    }

    /// Learns from one (device time, arrival) pair; returns the mapped gateway time, ns.
    pub fn observe(&mut self, _device: DeviceTime, arrival_ns: u64) -> u64 {
        arrival_ns
    }
}
