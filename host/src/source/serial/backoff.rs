//! Exponential backoff between attempts to reach a device: quick to notice a replugged
//! device, gentle on one that is gone for good.
use std::time::Duration;

use crate::source::StopFlag;

/// First wait after a failure.
pub const INITIAL: Duration = Duration::from_millis(100);
/// Longest wait between attempts.
pub const MAX: Duration = Duration::from_secs(5);
/// How often a waiting source looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// Waits that double from [`INITIAL`] up to [`MAX`], back to [`INITIAL`] after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: INITIAL }
    }
}

impl Backoff {
    /// The wait before the next attempt; the one after it is twice as long (up to [`MAX`]).
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX);
        delay
    }

    /// A connection succeeded: the next failure waits [`INITIAL`] again.
    pub fn reset(&mut self) {
        self.next = INITIAL;
    }
}

/// Sleeps `delay` unless `stop` is raised first; returns false if it was.
pub fn wait_unless_stopped(delay: Duration, stop: &StopFlag) -> bool {
    let deadline = std::time::Instant::now() + delay;
    loop {
        if stop.is_stopped() {
            return false;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
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
        let mut b = Backoff::default();
        let ms: Vec<u128> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        b.reset();
        assert_eq!(b.next_delay(), INITIAL);
    }

    #[test]
    fn a_raised_stop_flag_cuts_the_wait_short() {
        let stop = StopFlag::default();
        stop.stop();
        let started = std::time::Instant::now();
        assert!(!wait_unless_stopped(Duration::from_secs(5), &stop));
        assert!(started.elapsed() < Duration::from_millis(100));
        assert!(wait_unless_stopped(
            Duration::from_millis(1),
            &StopFlag::default()
        ));
    }
}
