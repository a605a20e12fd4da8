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
//!
//! Part of each leg is known: its frame's wire time on a serial link. The node stamps `t2`
//! once the request's last byte is in and `t3` before the answer's first byte goes out,
//! and the gateway stamps `t1` before the request's first byte and `t4` after the answer's
//! last, so the request's 34 bytes and the answer's 50 are inside the legs. At 921 600 Bd
//! that is 0.37 ms out and 0.54 ms back: left in, the line would sit 87 µs late.
//! [`TimeSyncExchange::without_wire_time`] takes each leg's wire time off before the fit,
//! as [`WireRate`] does for records.

use std::collections::VecDeque;
use std::sync::Arc;

use dagr_protocols::node::{cobs, control::len, CRC_LEN, HEADER_LEN};

use super::envelope::{envelope_fit, Line, Point};
use super::wire::WireRate;

/// Bytes on the wire of a node frame of `payload` bytes that is shorter than 254 bytes:
/// header, payload and CRC, COBS-encoded (exactly one byte more at that size), and the
/// delimiter.
const fn short_frame_wire_bytes(payload: usize) -> u32 {
    (cobs::max_encoded_len(HEADER_LEN + payload + CRC_LEN) + 1) as u32
}

/// Bytes a time-sync request takes on the wire (34): the request's wire time is part of the
/// outbound leg.
pub const REQUEST_WIRE_BYTES: u32 = short_frame_wire_bytes(len::TIME_SYNC_REQUEST);

/// Bytes a time-sync answer takes on the wire (50): its wire time is part of the return
/// leg.
pub const RESPONSE_WIRE_BYTES: u32 = short_frame_wire_bytes(len::TIME_SYNC_RESPONSE);

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

    /// The exchange with each leg's wire time at `rate` taken off: the request reached the
    /// node [`REQUEST_WIRE_BYTES`]' wire time after `t1`, the answer started
    /// [`RESPONSE_WIRE_BYTES`]' wire time before `t4`. Without it the two legs' different
    /// frame sizes would bias the offset by half the difference.
    ///
    /// A round trip shorter than the modelled wire time (less the node's turnaround) shows
    /// a link faster than its declared rate (a pty, a USB device that ignores the baud
    /// rate): then both legs are shortened in proportion, by no more than the round trip,
    /// so the exchange stays possible.
    pub fn without_wire_time(&self, rate: WireRate) -> TimeSyncExchange {
        let (out_ns, back_ns) = (rate.ns(REQUEST_WIRE_BYTES), rate.ns(RESPONSE_WIRE_BYTES));
        let round_trip = self.t4_ns.saturating_sub(self.t1_ns);
        let turnaround = self.t3_us.saturating_sub(self.t2_us).saturating_mul(1000);
        let on_the_wire = round_trip.saturating_sub(turnaround);
        let modelled = out_ns + back_ns;
        let (out_ns, back_ns) = if on_the_wire >= modelled {
            (out_ns, back_ns)
        } else {
            let share = |ns: u64| {
                let scaled = u128::from(ns) * u128::from(on_the_wire) / u128::from(modelled);
                u64::try_from(scaled).unwrap_or(ns)
            };
            (share(out_ns), share(back_ns))
        };
        TimeSyncExchange {
            t1_ns: self.t1_ns.saturating_add(out_ns),
            t4_ns: self.t4_ns.saturating_sub(back_ns),
            ..self.clone()
        }
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

    fn exchange(t1_ns: u64, t2_us: u64, t3_us: u64, t4_ns: u64) -> TimeSyncExchange {
        TimeSyncExchange {
            source: "node".into(),
            t1_ns,
            t2_us,
            t3_us,
            t4_ns,
        }
    }

    #[test]
    fn the_exchange_frames_sizes_are_the_protocols() {
        use dagr_protocols::node::{encode_frame, HeaderRepr, Modality, PayloadRepr};
        use dagr_protocols::node::{TimeSyncResponse, MAX_WIRE_LEN};
        let header = HeaderRepr::new(7, 0xFF, Modality::None, 42, 1_234_617);
        let response = TimeSyncResponse {
            t1: 5_000_000,
            t2: 1_234_567,
            t3: 1_234_617,
        };
        let mut wire = [0u8; MAX_WIRE_LEN];
        let n = encode_frame(&header, &PayloadRepr::TimeSyncResponse(response), &mut wire);
        // protocols/SPEC.md's worked example: 50 bytes on the wire.
        assert_eq!(n, Ok(50));
        assert_eq!((REQUEST_WIRE_BYTES, RESPONSE_WIRE_BYTES), (34, 50));
    }

    #[test]
    fn each_legs_wire_time_comes_off_its_own_end() {
        // 9600 Bd: 34 bytes out take 35.416 ms, 50 back 52.083 ms. Legs of 40 + 60 ms,
        // the node holding the request 2 ms.
        let rate = WireRate::serial(9_600);
        let raw = exchange(1_000_000_000, 5_040_000, 5_042_000, 1_102_000_000);
        let net = raw.without_wire_time(rate);
        assert_eq!(net.t1_ns, 1_000_000_000 + 35_416_666);
        assert_eq!(net.t4_ns, 1_102_000_000 - 52_083_333);
        assert_eq!(
            (net.t2_us, net.t3_us, &net.source),
            (5_040_000, 5_042_000, &raw.source)
        );
        // The offset estimate (node minus gateway) moves by half the legs' difference,
        // 8.333 ms (to the µs the exchange is written in).
        let moved = net.estimate().offset_us - raw.estimate().offset_us;
        assert!((moved - 8_333).abs() <= 1, "moved {moved} µs");
    }

    #[test]
    fn a_link_faster_than_its_baud_shortens_both_legs_in_proportion() {
        // A pty declared at 9600 Bd: 10 ms on the wire, 2 ms of it the node's turnaround.
        let rate = WireRate::serial(9_600);
        let raw = exchange(1_000_000_000, 5_000_000, 5_002_000, 1_010_000_000);
        let net = raw.without_wire_time(rate);
        let (out, back) = (net.t1_ns - raw.t1_ns, raw.t4_ns - net.t4_ns);
        assert_eq!(
            out + back,
            8_000_000 - 1,
            "the whole round trip but rounding"
        );
        assert!((out as f64 / back as f64 - 34.0 / 50.0).abs() < 1e-6);
        let delay = SyncSamples::delay_ns(net.t1_ns, net.t2_us, net.t3_us, net.t4_ns);
        assert_eq!(delay, Ok(1.0));
        // An impossible exchange is left for the model to reject.
        let backwards = exchange(2_000, 5, 4, 1_000);
        assert_eq!(backwards.without_wire_time(rate), backwards);
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
