//! Time sync with a node: a request every [`INTERVAL_NS`] stamped with the gateway clock
//! just before its first byte is written (the node's answers become
//! [`TimeSyncExchange`](crate::clock::TimeSyncExchange)s, whose legs the clock shortens by
//! the request's and the answer's wire time).
use dagr_protocols::node::{
    self, encode_frame, HeaderRepr, Modality, PayloadRepr, TimeSyncRequest,
};

/// Time between requests (the node's heartbeat period: cheap on the link, enough points
/// for a drift fit).
pub const INTERVAL_NS: u64 = 1_000_000_000;
/// Node id that addresses whichever node is on the port.
const BROADCAST: u16 = 0xFFFF;
/// The control stream time sync travels on.
const CONTROL_STREAM: u8 = 0xFF;

/// Decides when the next request is due and numbers the requests.
#[derive(Debug, Default)]
pub struct TimeSyncRequester {
    next_due_ns: u64,
    seq: u32,
}

impl TimeSyncRequester {
    /// A requester whose first request is due at once.
    pub fn new() -> Self {
        TimeSyncRequester::default()
    }

    /// The wire bytes of a request if one is due at `now_ns` (gateway clock).
    pub fn request_if_due(&mut self, now_ns: u64) -> Option<Vec<u8>> {
        if now_ns < self.next_due_ns {
            return None;
        }
        self.next_due_ns = now_ns.saturating_add(INTERVAL_NS);
        let t1_us = now_ns / 1000;
        let header = HeaderRepr::new(BROADCAST, CONTROL_STREAM, Modality::None, self.seq, t1_us);
        self.seq = self.seq.wrapping_add(1);
        let payload = PayloadRepr::TimeSyncRequest(TimeSyncRequest { t1: t1_us });
        let mut wire = [0u8; node::MAX_WIRE_LEN];
        // A fixed 8-byte payload always fits a MAX_WIRE_LEN buffer.
        let len = encode_frame(&header, &payload, &mut wire).ok()?;
        Some(wire[..len].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagr_protocols::node::{FrameDecoder, Payload};
    use dagr_protocols::stream::StreamDecoder;

    #[test]
    fn requests_are_due_once_per_interval_and_carry_the_gateway_microseconds() {
        let mut requester = TimeSyncRequester::new();
        let first = requester.request_if_due(5_000_123_456).unwrap();
        // The outbound leg's wire time the clock takes off is this request's.
        assert_eq!(
            first.len(),
            crate::clock::time_sync::REQUEST_WIRE_BYTES as usize
        );
        assert!(requester.request_if_due(5_500_000_000).is_none());
        assert!(requester.request_if_due(6_000_123_456).is_some());

        let mut decoder = FrameDecoder::new();
        decoder.push(&first);
        let frame = decoder.next_item().unwrap();
        assert_eq!(
            frame.payload,
            Payload::TimeSyncRequest(TimeSyncRequest { t1: 5_000_123 })
        );
        assert_eq!(
            (frame.header.node, frame.header.stream),
            (BROADCAST, CONTROL_STREAM)
        );
        assert_eq!(frame.header.timestamp_us, 5_000_123);
    }
}
