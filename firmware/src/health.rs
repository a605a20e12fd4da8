//! Node health: the counters the heartbeat reports and the timer that sends it.
use dagr_protocols::node::Heartbeat;

/// What the core counts (the ring counts its own drops and high-water mark).
///
/// `link_errors` and `crc_errors` are receive-side, as SPEC.md §4.4 defines them; frames
/// the node failed to transmit are `send_failures`, which the host sees as sequence gaps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Samples taken from the ring (sent or not).
    pub samples_taken: u64,
    /// Frames written whole to the link, all streams.
    pub frames_sent: u64,
    /// Frames the link failed to take.
    pub send_failures: u32,
    /// Samples that could not become a frame (stream beyond `STREAMS`, encode error).
    pub samples_unsendable: u32,
    /// Runs from the host that failed framing or payload checks.
    pub link_errors: u32,
    /// Frames from the host with a bad CRC.
    pub crc_errors: u32,
}

/// The ring's figures at heartbeat time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingLevels {
    /// Samples queued now.
    pub queued: u32,
    /// Samples dropped because the ring was full.
    pub dropped: u32,
    /// Most samples ever queued at once.
    pub high_water: u32,
    /// Samples the ring holds.
    pub capacity: u32,
}

impl Counters {
    /// The heartbeat payload for these counters. Samples produced by the drivers are
    /// those taken, those still queued and those dropped.
    pub fn heartbeat(&self, uptime_us: u64, ring: RingLevels) -> Heartbeat {
        Heartbeat {
            uptime_us,
            samples_produced: self.samples_taken + u64::from(ring.queued) + u64::from(ring.dropped),
            frames_sent: self.frames_sent,
            dropped_backpressure: ring.dropped,
            link_errors: self.link_errors,
            crc_errors: self.crc_errors,
            ring_high_water: ring.high_water,
            ring_capacity: ring.capacity,
        }
    }
}

/// When the next heartbeat is due; the first one goes out at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatTimer {
    interval_us: u64,
    next_due_us: u64,
}

impl HeartbeatTimer {
    /// Every `interval_ms` (0 = never).
    pub const fn new(interval_ms: u32) -> Self {
        HeartbeatTimer {
            interval_us: interval_ms as u64 * 1_000,
            next_due_us: 0,
        }
    }

    /// Changes the interval; the next heartbeat is one new interval after `now_us`.
    pub fn set_interval(&mut self, interval_ms: u32, now_us: u64) {
        self.interval_us = u64::from(interval_ms) * 1_000;
        self.next_due_us = now_us.saturating_add(self.interval_us);
    }

    /// True (once) when a heartbeat is due at `now_us`.
    pub fn due(&mut self, now_us: u64) -> bool {
        if self.interval_us == 0 || now_us < self.next_due_us {
            return false;
        }
        self.next_due_us = now_us.saturating_add(self.interval_us);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_is_due_at_boot_then_every_interval() {
        let mut t = HeartbeatTimer::new(1_000);
        let due: [bool; 4] = [0, 500_000, 1_000_000, 1_999_999].map(|now| t.due(now));
        assert_eq!(due, [true, false, true, false]);
    }

    #[test]
    fn interval_zero_turns_heartbeats_off() {
        let mut t = HeartbeatTimer::new(1_000);
        t.set_interval(0, 0);
        assert!(!(0..10).any(|s| t.due(s * 1_000_000)));
    }

    #[test]
    fn samples_produced_counts_taken_queued_and_dropped() {
        let c = Counters {
            samples_taken: 10,
            ..Counters::default()
        };
        let ring = RingLevels {
            queued: 2,
            dropped: 3,
            high_water: 5,
            capacity: 15,
        };
        let hb = c.heartbeat(42, ring);
        assert_eq!(
            (
                hb.samples_produced,
                hb.dropped_backpressure,
                hb.ring_high_water,
                hb.ring_capacity
            ),
            (15, 3, 5, 15)
        );
    }
}
