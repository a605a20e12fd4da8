//! Device timestamps as one continuous tick count.
//!
//! Devices stamp records with counters that wrap (the ESP32's u32 µs clock every ~71.6 min,
//! the TI frame counter at 2^32 frames) or with absolute u64 clocks. The clock model wants a
//! single signed tick count relative to the first timestamp it saw; this is where each
//! [`DeviceTime`] kind becomes one.
use crate::record::DeviceTime;

/// What a source's ticks are, which decides how they unwrap and how long one tick is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickKind {
    /// TI radar frame counter (u32). One tick is one frame period, unknown a priori.
    Frame,
    /// A u32 µs counter that wraps at 2^32.
    MicrosU32,
    /// Microseconds of UTC on the device's wall clock (u64, never wraps, may step).
    UtcMicros,
    /// A node's own u64 µs clock.
    NodeMicros,
}

impl TickKind {
    /// The kind of ticks `time` carries.
    pub fn of(time: &DeviceTime) -> TickKind {
        match time {
            DeviceTime::TiFrame { .. } => TickKind::Frame,
            DeviceTime::MicrosU32(_) => TickKind::MicrosU32,
            DeviceTime::UtcMicros(_) => TickKind::UtcMicros,
            DeviceTime::NodeMicros(_) => TickKind::NodeMicros,
        }
    }

    /// Nanoseconds per tick by the device's specification, `None` when it depends on the
    /// device's configuration (the radar's frame period) and must be estimated.
    pub fn nominal_ns_per_tick(self) -> Option<f64> {
        match self {
            TickKind::Frame => None,
            TickKind::MicrosU32 | TickKind::UtcMicros | TickKind::NodeMicros => Some(1000.0),
        }
    }

    fn raw(time: &DeviceTime) -> u64 {
        match *time {
            // The frame counter is the time base: frames are started by the radar's hardware
            // frame timer, while `timeCpuCycles` is read when the packet is sent, after a
            // processing time that varies with the scene, and wraps every ~21 s at 200 MHz.
            DeviceTime::TiFrame { frame_number, .. } => u64::from(frame_number),
            DeviceTime::MicrosU32(us) => u64::from(us),
            DeviceTime::UtcMicros(us) | DeviceTime::NodeMicros(us) => us,
        }
    }

    fn is_u32(self) -> bool {
        matches!(self, TickKind::Frame | TickKind::MicrosU32)
    }
}

/// Turns one source's raw timestamps into ticks since its first timestamp.
///
/// A u32 counter moves by the shortest signed distance from its previous value, so it
/// unwraps forwards across 2^32 and a slightly out-of-order timestamp moves back a little
/// instead of jumping ahead by a whole wrap.
#[derive(Debug, Clone)]
pub struct Unwrapper {
    kind: TickKind,
    origin_raw: u64,
    last_raw: u64,
    ticks: i64,
    wraps: u64,
}

impl Unwrapper {
    /// An unwrapper whose tick 0 is `first`.
    pub fn new(first: &DeviceTime) -> Unwrapper {
        let raw = TickKind::raw(first);
        Unwrapper {
            kind: TickKind::of(first),
            origin_raw: raw,
            last_raw: raw,
            ticks: 0,
            wraps: 0,
        }
    }

    /// The kind of timestamps this unwrapper takes.
    pub fn kind(&self) -> TickKind {
        self.kind
    }

    /// How many times a u32 counter went past 2^32.
    pub fn wraps(&self) -> u64 {
        self.wraps
    }

    /// Ticks since the first timestamp, or `None` when `time` is of another kind.
    pub fn advance(&mut self, time: &DeviceTime) -> Option<i64> {
        if TickKind::of(time) != self.kind {
            return None;
        }
        let raw = TickKind::raw(time);
        if self.kind.is_u32() {
            let delta = i64::from((raw as u32).wrapping_sub(self.last_raw as u32) as i32);
            if delta > 0 && raw < self.last_raw {
                self.wraps += 1;
            }
            self.ticks += delta;
        } else {
            self.ticks = self.absolute_ticks(raw);
        }
        self.last_raw = raw;
        Some(self.ticks)
    }

    /// Ticks of an absolute u64 timestamp (a node's µs in a time-sync answer).
    pub fn absolute_ticks(&self, raw: u64) -> i64 {
        raw.wrapping_sub(self.origin_raw) as i64
    }

    /// The raw timestamp tick 0 stands for.
    pub fn origin_raw(&self) -> u64 {
        self.origin_raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_microseconds_unwrap_forward_across_the_wrap() {
        let mut u = Unwrapper::new(&DeviceTime::MicrosU32(u32::MAX - 10));
        assert_eq!(u.advance(&DeviceTime::MicrosU32(u32::MAX)), Some(10));
        assert_eq!(u.advance(&DeviceTime::MicrosU32(5)), Some(16));
        assert_eq!(u.advance(&DeviceTime::MicrosU32(1_000)), Some(1_011));
        assert_eq!(u.wraps(), 1);
    }

    #[test]
    fn a_slightly_older_u32_timestamp_moves_back_instead_of_wrapping() {
        let mut u = Unwrapper::new(&DeviceTime::MicrosU32(1_000));
        assert_eq!(u.advance(&DeviceTime::MicrosU32(900)), Some(-100));
        assert_eq!(u.wraps(), 0);
    }

    #[test]
    fn frame_numbers_are_ticks_and_cpu_cycles_are_ignored() {
        let first = DeviceTime::TiFrame {
            frame_number: 7,
            cpu_cycles: 123,
        };
        let mut u = Unwrapper::new(&first);
        let later = DeviceTime::TiFrame {
            frame_number: 27,
            cpu_cycles: 5,
        };
        assert_eq!(u.advance(&later), Some(20));
        assert_eq!(TickKind::Frame.nominal_ns_per_tick(), None);
    }

    #[test]
    fn utc_microseconds_are_relative_to_the_first_and_may_go_back() {
        let mut u = Unwrapper::new(&DeviceTime::UtcMicros(1_700_000_000_000_000));
        assert_eq!(
            u.advance(&DeviceTime::UtcMicros(1_700_000_000_500_000)),
            Some(500_000)
        );
        assert_eq!(
            u.advance(&DeviceTime::UtcMicros(1_699_999_999_000_000)),
            Some(-1_000_000)
        );
    }

    #[test]
    fn another_kind_of_timestamp_is_refused() {
        let mut u = Unwrapper::new(&DeviceTime::UtcMicros(1));
        assert_eq!(u.advance(&DeviceTime::NodeMicros(2)), None);
    }
}
