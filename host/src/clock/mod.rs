//! Time on the gateway: the monotonic gateway clock every arrival is stamped with, and the
//! per-source clock models that map a device's own timestamps onto it.
//!
//! - [`unwrap`]: each kind of device timestamp as one continuous tick count.
//! - [`envelope`]: the lower envelope of (ticks, arrival) and the line under it.
//! - [`time_sync`]: NTP-style exchanges with nodes ([`TimeSyncExchange`]) and their fit.
//! - [`model`]: [`ClockModel`], one per source, combining the three.
//! - [`sources`]: [`SourceClocks`], a model per source name, created on first sight.
//! - [`wire`]: [`WireRate`], the wire time of a record's bytes, taken off its arrival (and
//!   of a time-sync exchange's frames, taken off its legs).
//!
//! The error achieved per source kind with field-like delays (fixed, random, wire time) and
//! a wandering drift is measured by `field_tests` and tabled in README.md ("How exactly
//! records are placed in time").
//!
//! Clocks must not know where records come from (sources, captures) nor where they go
//! (windows): they learn from device times, arrival times and time-sync exchanges only.
use std::time::Instant;

pub mod envelope;
pub mod model;
pub mod sources;
pub mod time_sync;
pub mod unwrap;
pub mod wire;

pub use model::{ClockConfig, ClockDiagnostics, ClockModel};
pub use sources::SourceClocks;
pub use time_sync::{SyncRejected, TimeSyncExchange};
pub use wire::WireRate;

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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod field_tests;
