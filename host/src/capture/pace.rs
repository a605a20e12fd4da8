//! Pacing a replay: waiting until a message's log time comes round again on the wall clock,
//! scaled by a speed factor, or not waiting at all.
use std::time::{Duration, Instant};

/// How fast a capture is replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// `x` times real time (1.0 = as recorded).
    Factor(f64),
    /// As fast as the consumer takes it.
    Max,
}

impl Speed {
    /// Slowest factor accepted: an hour of capture takes 41 days.
    pub const MIN_FACTOR: f64 = 1e-3;
    /// Fastest factor accepted (beyond it, `max` is what is meant).
    pub const MAX_FACTOR: f64 = 1e6;

    /// Parses `max` or a factor in [[`MIN_FACTOR`](Self::MIN_FACTOR),
    /// [`MAX_FACTOR`](Self::MAX_FACTOR)] such as `1`, `2.5`, `0.5`.
    pub fn parse(text: &str) -> Result<Speed, SpeedError> {
        if text == "max" {
            return Ok(Speed::Max);
        }
        match text.parse::<f64>() {
            Ok(x) if (Self::MIN_FACTOR..=Self::MAX_FACTOR).contains(&x) => Ok(Speed::Factor(x)),
            _ => Err(SpeedError {
                text: text.to_string(),
            }),
        }
    }
}

/// A replay speed that is neither `max` nor a factor in range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "speed {text:?}: expected a factor from {} to {} or \"max\"",
    Speed::MIN_FACTOR,
    Speed::MAX_FACTOR
)]
pub struct SpeedError {
    /// The speed as written.
    pub text: String,
}

/// Maps log times to wall-clock deadlines: the first log time seen plays now.
#[derive(Debug)]
pub struct Pacer {
    speed: Speed,
    origin: Option<(u64, Instant)>,
}

/// Longest single sleep, so a stop request is noticed promptly.
const SLICE: Duration = Duration::from_millis(50);

impl Pacer {
    /// A pacer at `speed`.
    pub fn new(speed: Speed) -> Self {
        Pacer {
            speed,
            origin: None,
        }
    }

    /// Waits until `log_ns` is due; returns false (early) once `stopped()` is true.
    /// Log times earlier than one already played are due at once.
    pub fn wait_until(&mut self, log_ns: u64, stopped: &dyn Fn() -> bool) -> bool {
        let Speed::Factor(speed) = self.speed else {
            return !stopped();
        };
        let (first, start) = *self.origin.get_or_insert((log_ns, Instant::now()));
        let offset = log_ns.saturating_sub(first) as f64 / 1e9 / speed;
        // Beyond what an Instant holds, the entry is never due: wait for the stop.
        let due = Duration::try_from_secs_f64(offset)
            .ok()
            .and_then(|offset| start.checked_add(offset));
        loop {
            if stopped() {
                return false;
            }
            let now = Instant::now();
            match due {
                Some(due) if now >= due => return true,
                Some(due) => std::thread::sleep((due - now).min(SLICE)),
                None => std::thread::sleep(SLICE),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_accepts_max_and_positive_factors_only() {
        assert_eq!(Speed::parse("max"), Ok(Speed::Max));
        assert_eq!(Speed::parse("2.5"), Ok(Speed::Factor(2.5)));
        for bad in ["0", "-1", "inf", "NaN", "fast", "1e-300", "1e-4", "1e7"] {
            assert!(Speed::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_factor_too_slow_for_an_instant_waits_without_panicking() {
        let mut pacer = Pacer::new(Speed::Factor(f64::MIN_POSITIVE));
        assert!(pacer.wait_until(0, &|| false));
        let calls = std::cell::Cell::new(0);
        let stop_on_second_look = || {
            calls.set(calls.get() + 1);
            calls.get() > 1
        };
        assert!(!pacer.wait_until(u64::MAX, &stop_on_second_look));
    }

    #[test]
    fn factor_two_plays_a_tenth_of_a_second_in_about_half() {
        let mut pacer = Pacer::new(Speed::Factor(2.0));
        let start = Instant::now();
        assert!(pacer.wait_until(1_000_000_000, &|| false));
        assert!(pacer.wait_until(1_100_000_000, &|| false));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "{took:?}");
        assert!(took < Duration::from_millis(500), "{took:?}");
        assert!(!pacer.wait_until(9_000_000_000, &|| true));
    }
}
