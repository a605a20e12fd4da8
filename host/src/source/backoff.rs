//! Exponential backoff between attempts to reach a device: a replugged sensor or a
//! rebooted reader is found again quickly, one that is gone for good is not hammered.
//! Shared by every source that reconnects.
use std::time::{Duration, Instant};

use crate::events::StopFlag;

/// Default first wait after a failure.
pub const INITIAL: Duration = Duration::from_millis(100);
/// Default longest wait between attempts.
pub const MAX: Duration = Duration::from_secs(5);
/// How often a waiting source looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// Waits that double from `first` up to `max`, back to `first` after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(INITIAL, MAX)
    }
}

impl Backoff {
    /// Starts at `first`, never exceeds `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            first,
            max: max.max(first),
            next: first,
        }
    }

    /// The wait before the next attempt; the one after it is twice as long (up to `max`).
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(self.max);
        delay
    }

    /// A connection succeeded: the next failure waits `first` again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// Sleeps `delay` unless `stop` is raised first; returns false if it was.
pub fn wait_unless_stopped(delay: Duration, stop: &StopFlag) -> bool {
    let deadline = Instant::now() + delay;
    loop {
        if stop.is_stopped() {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(STOP_POLL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset_after_success() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(500));
        let delays: Vec<_> = (0..5).map(|_| b.next_delay()).collect();
        assert_eq!(delays, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
        b.reset();
        assert_eq!(b.next_delay(), ms(100));
    }

    #[test]
    fn default_runs_from_100_ms_to_5_s() {
        let mut b = Backoff::default();
        let ms: Vec<u128> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }

    #[test]
    fn a_raised_stop_flag_cuts_the_wait_short() {
        let stop = StopFlag::default();
        stop.stop();
        let start = Instant::now();
        assert!(!wait_unless_stopped(Duration::from_secs(5), &stop));
        // Far below the 5 s asked for, with room for a starved thread.
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}
