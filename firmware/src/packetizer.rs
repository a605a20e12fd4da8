//! Samples and control payloads -> node frames on the link.
//!
//! Keeps one `u32` sequence counter per sensor stream and one for the control stream
//! (SPEC.md §6), encodes each frame with [`encode_frame`] into a single static transmit
//! buffer of [`MAX_WIRE_LEN`] bytes, and writes it out. A frame that fails to encode uses no
//! sequence number; a frame the link fails half-way through keeps its number (the host
//! sees the gap as a loss) and the next frame starts with an extra delimiter so the host
//! resynchronizes at once (SPEC.md §2.1).
use core::fmt;

use dagr_protocols::node::{encode_frame, HeaderRepr, Modality, PayloadRepr, MAX_WIRE_LEN};
use dagr_protocols::Error as ProtocolError;

use crate::port::{Link, LinkError};
use crate::sample::Sample;

/// Stream id of the control stream (heartbeats, time sync, acks).
pub const CONTROL_STREAM: u8 = 0xFF;

/// Why a frame did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The sample names a stream at or beyond the packetizer's `STREAMS`.
    UnknownStream(u8),
    /// The payload could not be encoded (e.g. over the payload bound).
    Encode(ProtocolError),
    /// The link failed; the frame may have gone out in part.
    Link(LinkError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::UnknownStream(id) => {
                write!(f, "sample on stream {id}, which this node does not have")
            }
            SendError::Encode(e) => write!(f, "cannot encode frame: {e}"),
            SendError::Link(e) => write!(f, "cannot send frame: {e}"),
        }
    }
}

/// Frame builder for one node with sensor streams `0..STREAMS`.
pub struct Packetizer<const STREAMS: usize> {
    sensor_seq: [u32; STREAMS],
    control_seq: u32,
    /// Send a lone delimiter before the next frame (after boot or an aborted frame).
    resync: bool,
    tx: [u8; MAX_WIRE_LEN],
}

impl<const STREAMS: usize> Default for Packetizer<STREAMS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const STREAMS: usize> Packetizer<STREAMS> {
    /// A packetizer at boot: all sequence numbers 0, a resync delimiter pending.
    pub const fn new() -> Self {
        Packetizer {
            sensor_seq: [0; STREAMS],
            control_seq: 0,
            resync: true,
            tx: [0; MAX_WIRE_LEN],
        }
    }

    /// The sequence number the next frame on `stream` will carry.
    pub fn next_seq(&self, stream: u8) -> Option<u32> {
        match stream {
            CONTROL_STREAM => Some(self.control_seq),
            id => self.sensor_seq.get(usize::from(id)).copied(),
        }
    }

    /// Sends `sample` as one frame from `node`, stamped with its capture time.
    pub fn send_sample<S: Sample + ?Sized>(
        &mut self,
        node: u16,
        sample: &S,
        link: &mut impl Link,
    ) -> Result<(), SendError> {
        let stream = sample.stream();
        let seq = *self
            .sensor_seq
            .get(usize::from(stream))
            .ok_or(SendError::UnknownStream(stream))?;
        let header = HeaderRepr::new(node, stream, sample.modality(), seq, sample.captured_us());
        let result = self.send(&header, &sample.payload(), link);
        if !matches!(result, Err(SendError::Encode(_))) {
            self.sensor_seq[usize::from(stream)] = seq.wrapping_add(1);
        }
        result
    }

    /// Sends a control-stream frame (heartbeat, time-sync response, ack) stamped
    /// `timestamp_us` (its transmit time).
    pub fn send_control(
        &mut self,
        node: u16,
        modality: Modality,
        timestamp_us: u64,
        payload: &PayloadRepr<'_>,
        link: &mut impl Link,
    ) -> Result<(), SendError> {
        let header = HeaderRepr::new(
            node,
            CONTROL_STREAM,
            modality,
            self.control_seq,
            timestamp_us,
        );
        let result = self.send(&header, payload, link);
        if !matches!(result, Err(SendError::Encode(_))) {
            self.control_seq = self.control_seq.wrapping_add(1);
        }
        result
    }

    fn send(
        &mut self,
        header: &HeaderRepr,
        payload: &PayloadRepr<'_>,
        link: &mut impl Link,
    ) -> Result<(), SendError> {
        let len = encode_frame(header, payload, &mut self.tx).map_err(SendError::Encode)?;
        if self.resync {
            write_all(link, &[dagr_protocols::node::DELIMITER]).map_err(SendError::Link)?;
            self.resync = false;
        }
        write_all(link, &self.tx[..len]).map_err(|e| {
            self.resync = true;
            SendError::Link(e)
        })
    }
}

/// Writes every byte or fails; a zero-length write is [`LinkError::Stalled`].
fn write_all(link: &mut impl Link, mut bytes: &[u8]) -> Result<(), LinkError> {
    while !bytes.is_empty() {
        match link.write(bytes)? {
            0 => return Err(LinkError::Stalled),
            n => bytes = &bytes[n.min(bytes.len())..],
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use dagr_protocols::csi::Iq;
    use dagr_protocols::node::{Frame, FrameDecoder, Heartbeat, Kind, Payload};
    use dagr_protocols::stream::decode_all;

    use super::*;
    use crate::sample::{CsiSample, RadarSample};
    use crate::testing::{decode, RecordingLink};

    fn csi(stream: u8, at: u64) -> CsiSample<4> {
        let mut s = CsiSample::new(stream, at);
        s.iq.extend_from_slice(&[Iq { re: 1, im: -1 }, Iq { re: 0, im: 7 }])
            .unwrap();
        s
    }

    #[test]
    fn sequence_numbers_count_per_stream_from_zero() {
        let mut link = RecordingLink::default();
        let mut p: Packetizer<2> = Packetizer::new();
        for (stream, at) in [(0, 10), (1, 20), (0, 30), (0, 40), (1, 50)] {
            p.send_sample(7, &csi(stream, at), &mut link).unwrap();
        }
        let seqs: Vec<(u8, u32)> = decode(&link.bytes)
            .iter()
            .map(|f| (f.header.stream, f.header.seq))
            .collect();
        assert_eq!(seqs, [(0, 0), (1, 0), (0, 1), (0, 2), (1, 1)]);
    }

    #[test]
    fn frames_carry_capture_time_node_id_and_payload_and_decode() {
        let mut link = RecordingLink::default();
        let mut p: Packetizer<1> = Packetizer::new();
        let mut radar: RadarSample<2> = RadarSample::new(0, 123_456_789, 42);
        radar.points.push(Default::default()).unwrap();
        p.send_sample(3, &csi(0, 1_000), &mut link).unwrap();
        p.send_sample(3, &radar, &mut link).unwrap();
        let frames = decode(&link.bytes);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].header.timestamp_us, 1_000);
        assert_eq!(frames[0].header.modality, Modality::Wifi);
        assert_eq!(frames[0].header.node, 3);
        match &frames[0].payload {
            Payload::Csi(c) => assert_eq!(c.iq, [Iq { re: 1, im: -1 }, Iq { re: 0, im: 7 }]),
            other => panic!("expected csi, got {other:?}"),
        }
        assert_eq!(frames[1].header.timestamp_us, 123_456_789);
        assert_eq!(frames[1].payload.kind(), Kind::Radar);
    }

    #[test]
    fn first_frame_after_boot_is_preceded_by_a_resync_delimiter() {
        let mut link = RecordingLink::default();
        let mut p: Packetizer<1> = Packetizer::new();
        p.send_sample(1, &csi(0, 0), &mut link).unwrap();
        let first_len = link.bytes.len();
        p.send_sample(1, &csi(0, 0), &mut link).unwrap();
        assert_eq!(link.bytes[0], 0x00);
        assert_eq!(
            link.bytes.len(),
            2 * first_len - 1,
            "only the first frame gets it"
        );
    }

    #[test]
    fn sample_on_a_stream_beyond_streams_is_refused_without_output() {
        let mut link = RecordingLink::default();
        let mut p: Packetizer<2> = Packetizer::new();
        assert_eq!(
            p.send_sample(1, &csi(2, 0), &mut link),
            Err(SendError::UnknownStream(2))
        );
        assert!(link.bytes.is_empty());
    }

    #[test]
    fn failed_write_costs_a_sequence_number_and_resyncs_the_next_frame() {
        let mut link = RecordingLink::default();
        let mut p: Packetizer<1> = Packetizer::new();
        p.send_sample(1, &csi(0, 0), &mut link).unwrap();
        link.fail_after = Some(5);
        assert!(matches!(
            p.send_sample(1, &csi(0, 0), &mut link),
            Err(SendError::Link(_))
        ));
        link.fail_after = None;
        p.send_sample(1, &csi(0, 0), &mut link).unwrap();
        let mut decoder = FrameDecoder::new();
        let mut frames: Vec<Frame> = Vec::new();
        decode_all(&mut decoder, &link.bytes, |f| frames.push(f));
        let seqs: Vec<u32> = frames.iter().map(|f| f.header.seq).collect();
        assert_eq!(
            seqs,
            [0, 2],
            "the torn frame is a gap, not a corrupt neighbour"
        );
    }

    #[test]
    fn control_frames_use_their_own_sequence_on_stream_255() {
        let mut link = RecordingLink::default();
        let mut p: Packetizer<1> = Packetizer::new();
        p.send_sample(1, &csi(0, 0), &mut link).unwrap();
        let hb = PayloadRepr::Heartbeat(Heartbeat::default());
        p.send_control(1, Modality::Wifi, 99, &hb, &mut link)
            .unwrap();
        p.send_control(1, Modality::Wifi, 100, &hb, &mut link)
            .unwrap();
        let frames = decode(&link.bytes);
        let control: Vec<(u8, u32, u64)> = frames[1..]
            .iter()
            .map(|f| (f.header.stream, f.header.seq, f.header.timestamp_us))
            .collect();
        assert_eq!(control, [(CONTROL_STREAM, 0, 99), (CONTROL_STREAM, 1, 100)]);
    }
}
