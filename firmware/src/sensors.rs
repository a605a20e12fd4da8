//! How host commands reach the drivers: the [`SensorControl`] trait the core calls, and
//! [`Switchboard`], a ready implementation made of atomics that a driver running in
//! interrupt context reads without locks.
//!
//! The core decides *whether* a command is valid for the node (node id, heartbeat,
//! counters); the port decides what a stream can do (which streams exist, which rates a
//! sensor supports) and answers with an [`AckStatus`] when it cannot.
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use dagr_protocols::node::{AckStatus, Modality};

/// Stream id that addresses every stream of the node in a command.
pub const ALL_STREAMS: u8 = 0xFF;

/// The sensor side of the port, as host commands see it.
pub trait SensorControl {
    /// Starts (`true`) or stops (`false`) producing on `stream` ([`ALL_STREAMS`] = all).
    fn set_enabled(&mut self, stream: u8, enabled: bool) -> Result<(), AckStatus>;
    /// Sets the sample rate of `stream`, in millihertz (never 0: the core refuses it).
    fn set_rate(&mut self, stream: u8, millihertz: u32) -> Result<(), AckStatus>;
    /// Makes the node findable (blink, beep) for `duration_ms`.
    fn identify(&mut self, duration_ms: u32) -> Result<(), AckStatus>;
}

impl<K: SensorControl + ?Sized> SensorControl for &mut K {
    fn set_enabled(&mut self, stream: u8, enabled: bool) -> Result<(), AckStatus> {
        (**self).set_enabled(stream, enabled)
    }
    fn set_rate(&mut self, stream: u8, millihertz: u32) -> Result<(), AckStatus> {
        (**self).set_rate(stream, millihertz)
    }
    fn identify(&mut self, duration_ms: u32) -> Result<(), AckStatus> {
        (**self).identify(duration_ms)
    }
}

/// One stream's settings, shared between the main loop (writes) and its driver (reads).
#[derive(Debug)]
pub struct StreamSwitch {
    /// Stream id.
    pub id: u8,
    /// What the stream carries.
    pub modality: Modality,
    enabled: AtomicBool,
    rate_mhz: AtomicU32,
    /// Lowest and highest rate the sensor supports, millihertz.
    pub rate_range_mhz: (u32, u32),
}

impl StreamSwitch {
    /// A stream, running from boot at `rate_mhz` (within `rate_range_mhz`).
    pub const fn new(
        id: u8,
        modality: Modality,
        rate_mhz: u32,
        rate_range_mhz: (u32, u32),
    ) -> Self {
        StreamSwitch {
            id,
            modality,
            enabled: AtomicBool::new(true),
            rate_mhz: AtomicU32::new(rate_mhz),
            rate_range_mhz,
        }
    }

    /// Should the driver produce samples now?
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// The requested sample rate, millihertz.
    pub fn rate_mhz(&self) -> u32 {
        self.rate_mhz.load(Ordering::Relaxed)
    }

    fn rate_supported(&self, mhz: u32) -> bool {
        (self.rate_range_mhz.0..=self.rate_range_mhz.1).contains(&mhz)
    }
}

/// The switches of a node with `N` streams, plus the pending identify request. Shared by
/// reference: `&Switchboard` is the [`SensorControl`] the core holds and what drivers read.
#[derive(Debug)]
pub struct Switchboard<const N: usize> {
    streams: [StreamSwitch; N],
    identify_ms: AtomicU32,
}

impl<const N: usize> Switchboard<N> {
    /// A board over these streams.
    pub const fn new(streams: [StreamSwitch; N]) -> Self {
        Switchboard {
            streams,
            identify_ms: AtomicU32::new(0),
        }
    }

    /// The switch of stream `id`.
    pub fn stream(&self, id: u8) -> Option<&StreamSwitch> {
        self.streams.iter().find(|s| s.id == id)
    }

    /// All switches.
    pub fn streams(&self) -> &[StreamSwitch] {
        &self.streams
    }

    /// Takes the pending identify duration (ms), if the host asked for one.
    pub fn take_identify(&self) -> Option<u32> {
        match self.identify_ms.swap(0, Ordering::Relaxed) {
            0 => None,
            ms => Some(ms),
        }
    }

    /// The switches a command addresses, or `Unsupported` for a stream the node lacks.
    fn targets(&self, stream: u8) -> Result<impl Iterator<Item = &StreamSwitch>, AckStatus> {
        if stream != ALL_STREAMS && self.stream(stream).is_none() {
            return Err(AckStatus::Unsupported);
        }
        Ok(self
            .streams
            .iter()
            .filter(move |s| stream == ALL_STREAMS || s.id == stream))
    }
}

impl<const N: usize> SensorControl for &Switchboard<N> {
    fn set_enabled(&mut self, stream: u8, enabled: bool) -> Result<(), AckStatus> {
        self.targets(stream)?
            .for_each(|s| s.enabled.store(enabled, Ordering::Relaxed));
        Ok(())
    }

    fn set_rate(&mut self, stream: u8, millihertz: u32) -> Result<(), AckStatus> {
        if !self.targets(stream)?.all(|s| s.rate_supported(millihertz)) {
            return Err(AckStatus::BadArgument);
        }
        self.targets(stream)?
            .for_each(|s| s.rate_mhz.store(millihertz, Ordering::Relaxed));
        Ok(())
    }

    fn identify(&mut self, duration_ms: u32) -> Result<(), AckStatus> {
        self.identify_ms
            .store(duration_ms.max(1), Ordering::Relaxed);
        Ok(())
    }
}

/// Decides when a periodic driver is due: the schedule a timer interrupt would keep.
///
/// Catches up at most one period after a stall (no burst of stale samples), and follows
/// rate changes from the next sample on.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateTicker {
    next_due_us: Option<u64>,
}

impl RateTicker {
    /// A ticker whose first sample is due at once.
    pub const fn new() -> Self {
        RateTicker { next_due_us: None }
    }

    /// True when a sample is due at `now_us` for a stream running at `rate_mhz`.
    pub fn due(&mut self, now_us: u64, rate_mhz: u32) -> bool {
        if rate_mhz == 0 {
            return false;
        }
        let period_us = (1_000_000_000 / u64::from(rate_mhz)).max(1);
        match self.next_due_us {
            Some(next) if now_us < next => false,
            Some(next) if now_us - next < period_us => {
                self.next_due_us = Some(next + period_us);
                true
            }
            _ => {
                self.next_due_us = Some(now_us + period_us);
                true
            }
        }
    }

    /// Microseconds from `now_us` until the next sample is due (0 when due now).
    pub fn until_due(&self, now_us: u64) -> u64 {
        self.next_due_us
            .map_or(0, |next| next.saturating_sub(now_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> Switchboard<2> {
        Switchboard::new([
            StreamSwitch::new(0, Modality::Wifi, 100_000, (1_000, 1_000_000)),
            StreamSwitch::new(1, Modality::Mmwave, 20_000, (20_000, 20_000)),
        ])
    }

    #[test]
    fn ticker_at_100_hz_fires_100_times_a_second() {
        let mut t = RateTicker::new();
        let fired = (0..1_000_000u64)
            .step_by(100)
            .filter(|&now| t.due(now, 100_000))
            .count();
        assert_eq!(fired, 100);
    }

    #[test]
    fn ticker_after_a_stall_does_not_burst() {
        let mut t = RateTicker::new();
        assert!(t.due(0, 1_000_000));
        assert!(t.due(50_000, 1_000_000));
        assert!(
            !t.due(50_000, 1_000_000),
            "one sample per due time, not 50 stale ones"
        );
    }

    #[test]
    fn rate_outside_the_sensor_range_is_a_bad_argument_and_changes_nothing() {
        let b = board();
        let mut control = &b;
        assert_eq!(control.set_rate(1, 10_000), Err(AckStatus::BadArgument));
        assert_eq!(
            control.set_rate(ALL_STREAMS, 50_000),
            Err(AckStatus::BadArgument)
        );
        assert_eq!(b.stream(0).unwrap().rate_mhz(), 100_000);
        assert_eq!(control.set_rate(0, 50_000), Ok(()));
        assert_eq!(b.stream(0).unwrap().rate_mhz(), 50_000);
    }

    #[test]
    fn stop_all_streams_and_start_one() {
        let b = board();
        let mut control = &b;
        control.set_enabled(ALL_STREAMS, false).unwrap();
        control.set_enabled(1, true).unwrap();
        assert_eq!(
            (
                b.stream(0).unwrap().is_enabled(),
                b.stream(1).unwrap().is_enabled()
            ),
            (false, true)
        );
        assert_eq!(control.set_enabled(7, true), Err(AckStatus::Unsupported));
    }
}
