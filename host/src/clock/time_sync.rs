//! NTP-style time-sync exchanges with a node: the gateway sends at `t1`, the node receives
//! at `t2` and answers at `t3` (its own µs), the gateway receives at `t4`.
//!
//! [`TimeSyncExchange`] is one such exchange as the decoders surface it (from the node's
//! answer frame, whoever decodes it: a live source, a replay, the recorder); the rest of
//! this module turns exchanges into a line between the two clocks.
//!
//! Each exchange bounds the node's clock from both sides: the node's `t2` happened after the
//! gateway's `t1` (the request's point `(t2, t1)` lies *below* the true line by the outbound
//! delay) and its `t3` before the gateway's `t4` (the answer's point `(t3, t4)` lies *above*
//! it by the return delay). The fit follows both envelopes, exactly as the arrival
//! envelope does for one-way data: the answers' lower envelope and the requests' upper
//! envelope, each giving a drift (blended by how tightly each leg's points hug their
//! envelope: the steadier leg decides), and the line runs midway between them. Its offset error
//! is half the difference between the fastest outbound and the fastest return leg, however
//! asymmetric and variable the legs are otherwise; averaging midpoints `(t1 + t4) / 2`
//! would instead carry the mean asymmetry.

use std::collections::VecDeque;
use std::sync::Arc;

use super::envelope::{envelope_fit, Line, Point};

/// The four timestamps of one NTP-style exchange with a node (protocols/SPEC.md §4.5):
/// the gateway sent a request at `t1_ns`, the node received it at `t2_us` and answered at
/// `t3_us` on its own clock, and the answer arrived at `t4_ns`.
///
/// Gateway times are [`GatewayClock`](super::GatewayClock) ns (`t1_ns` went on the wire in µs, so it is a
/// multiple of 1000); node times are the node's µs, as in its frames' `timestamp_us`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSyncExchange {
    /// Source name.
    pub source: Arc<str>,
    /// Gateway time the request was sent, ns.
    pub t1_ns: u64,
    /// Node time the request was received, µs.
    pub t2_us: u64,
    /// Node time the response was sent, µs.
    pub t3_us: u64,
    /// Gateway time the response arrived, ns.
    pub t4_ns: u64,
}

impl TimeSyncExchange {
    /// The exchange a node frame completes, if it is a time-sync response; `t4_ns` is the
    /// arrival of the bytes that completed it. Live sources, replays and the recorder all
    /// derive exchanges this way, so the same bytes give the same exchanges everywhere.
    pub fn from_frame(
        source: &Arc<str>,
        frame: &dagr_protocols::node::Frame,
        t4_ns: u64,
    ) -> Option<TimeSyncExchange> {
        let dagr_protocols::node::Payload::TimeSyncResponse(response) = &frame.payload else {
            return None;
        };
        Some(TimeSyncExchange {
            source: source.clone(),
            t1_ns: response.t1.saturating_mul(1000),
            t2_us: response.t2,
            t3_us: response.t3,
            t4_ns,
        })
    }

    /// Node clock minus gateway clock and the round-trip delay, µs (the protocol crate's
    /// arithmetic, in wide integers so no pair of clocks overflows it).
    pub fn estimate(&self) -> dagr_protocols::node::TimeSyncEstimate {
        let response = dagr_protocols::node::TimeSyncResponse {
            t1: self.t1_ns / 1000,
            t2: self.t2_us,
            t3: self.t3_us,
        };
        response.estimate(self.t4_ns / 1000)
    }
}

/// One exchange, as its two one-way points relative to the anchor (node ticks, gateway ns).
#[derive(Debug, Clone, Copy)]
pub struct SyncSample {
    /// `(t2, t1)`: below the true line.
    pub request: Point,
    /// `(t3, t4)`: above the true line.
    pub answer: Point,
    /// Round-trip delay minus the node's turnaround, ns.
    pub delay_ns: f64,
    /// Gateway time the answer arrived, ns (for ageing out).
    pub t4_ns: u64,
}

/// Why an exchange was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRejected {
    /// The answer arrived before the request was sent, or the node answered before it
    /// received the request.
    TimesOutOfOrder,
    /// The node took longer to answer than the whole round trip took.
    NegativeDelay,
    /// The source's timestamps are not a node clock, so there is nothing to synchronize.
    NotANodeClock,
}

/// The recent exchanges of one node.
#[derive(Debug, Clone)]
pub struct SyncSamples {
    samples: VecDeque<SyncSample>,
    capacity: usize,
}

impl SyncSamples {
    /// Keeps the last `capacity` exchanges.
    pub fn new(capacity: usize) -> SyncSamples {
        SyncSamples {
            samples: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
        }
    }

    /// Checks an exchange's times; returns its round-trip delay in ns.
    pub fn delay_ns(
        t1_gateway_ns: u64,
        t2_node_us: u64,
        t3_node_us: u64,
        t4_gateway_ns: u64,
    ) -> Result<f64, SyncRejected> {
        if t4_gateway_ns < t1_gateway_ns || t3_node_us < t2_node_us {
            return Err(SyncRejected::TimesOutOfOrder);
        }
        let round_trip = (t4_gateway_ns - t1_gateway_ns) as f64;
        let turnaround = (t3_node_us - t2_node_us) as f64 * 1000.0;
        let delay = round_trip - turnaround;
        // The node's µs are not the gateway's: allow 1000 ppm of drift and 1 µs of rounding.
        let tolerance = turnaround * 1e-3 + 1_000.0;
        if delay < -tolerance {
            return Err(SyncRejected::NegativeDelay);
        }
        Ok(delay.max(0.0))
    }

    /// Adds an exchange, forgetting the oldest beyond capacity.
    pub fn push(&mut self, sample: SyncSample) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// Exchanges held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no exchange is held.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The fastest exchange held: half its delay bounds the offset error, ns.
    pub fn fastest_delay_ns(&self) -> Option<f64> {
        self.samples.iter().map(|s| s.delay_ns).reduce(f64::min)
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Drops exchanges answered before `oldest_t4_ns`.
    pub fn age_out(&mut self, oldest_t4_ns: u64) {
        while self.samples.front().is_some_and(|s| s.t4_ns < oldest_t4_ns) {
            self.samples.pop_front();
        }
    }

    /// The line between the envelopes; `slope` is used while fewer than three exchanges
    /// (or exchanges all at one node time) cannot give one.
    pub fn fit(&self, slope: f64) -> Option<Line> {
        let answers = self.samples.iter().map(|s| s.answer);
        let requests = self.samples.iter().map(|s| Point {
            y: -s.request.y,
            ..s.request
        });
        let b = match (envelope_fit(answers.clone()), envelope_fit(requests)) {
            (Some((above, spread_a)), Some((below, spread_r))) if self.samples.len() >= 3 => {
                // Inverse-variance blend: the steadier leg decides the drift.
                let (wa, wr) = (
                    1.0 / (spread_a.powi(2) + 1.0),
                    1.0 / (spread_r.powi(2) + 1.0),
                );
                (wa * above - wr * below) / (wa + wr)
            }
            _ => slope,
        };
        let upper = answers.map(|p| p.y - b * p.x).fold(f64::INFINITY, f64::min);
        let lower = (self.samples.iter())
            .map(|s| s.request.y - b * s.request.x)
            .fold(f64::NEG_INFINITY, f64::max);
        (upper.is_finite() && lower.is_finite()).then(|| Line {
            a: (upper + lower) / 2.0,
            b,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_round_trip_minus_turnaround() {
        assert_eq!(
            SyncSamples::delay_ns(1_000_000, 50, 150, 1_400_000),
            Ok(300_000.0)
        );
        assert_eq!(
            SyncSamples::delay_ns(1_000, 50, 40, 2_000),
            Err(SyncRejected::TimesOutOfOrder)
        );
        assert_eq!(
            SyncSamples::delay_ns(1_000_000, 0, 500, 1_100_000),
            Err(SyncRejected::NegativeDelay)
        );
    }

    #[test]
    fn the_line_runs_midway_between_the_fastest_legs() {
        let mut s = SyncSamples::new(8);
        // True line y = x. Outbound legs 1 and 9, return legs 3 and 5.
        let exchange = |x: f64, out: f64, back: f64| SyncSample {
            request: Point { x, y: x - out },
            answer: Point { x, y: x + back },
            delay_ns: out + back,
            t4_ns: 0,
        };
        s.push(exchange(0.0, 1.0, 5.0));
        s.push(exchange(10.0, 9.0, 3.0));
        let line = s.fit(1.0).unwrap();
        assert_eq!(line, Line { a: 1.0, b: 1.0 }, "between -1 and +3");
    }
}
