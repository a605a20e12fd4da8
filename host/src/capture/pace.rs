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
    /// Parses `max` or a positive finite factor such as `1`, `2.5`, `0.5`.
    pub fn parse(text: &str) -> Result<Speed, String> {
        if text == "max" {
            return Ok(Speed::Max);
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(Speed::Factor(x)),
            _ => Err(format!(
                "speed {text:?} is not a positive number or \"max\""
            )),
        }
    }
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
        let offset = Duration::from_secs_f64(log_ns.saturating_sub(first) as f64 / 1e9 / speed);
        let due = start + offset;
        loop {
            if stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= due {
                return true;
            }
            std::thread::sleep((due - now).min(SLICE));
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
        for bad in ["0", "-1", "inf", "NaN", "fast"] {
            assert!(Speed::parse(bad).is_err(), "{bad}");
        }
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
