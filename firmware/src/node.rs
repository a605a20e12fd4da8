//! The node core: one main-loop step that answers the host, drains the sample ring into
//! frames and sends heartbeats.
//!
//! [`Node::poll`] is the whole main loop body. Received bytes are handled first, so a
//! time-sync response never waits behind bulk data (SPEC.md §4.5): `t2` is read when the
//! request's CRC has been checked and `t3` just before the response is encoded. Then up
//! to one ring's worth of samples is sent, then a heartbeat if one is due.
use dagr_protocols::node::{
    Ack, AckStatus, Command, Modality, Opcode, PayloadRepr, TimeSyncResponse,
};

use crate::health::{Counters, HeartbeatTimer, RingLevels};
use crate::packetizer::{Packetizer, SendError};
use crate::port::{Clock, Link};
use crate::receiver::{HostFrame, HostRequest, Receiver, RxError, DEFAULT_RX_CAPACITY};
use crate::ring::SampleConsumer;
use crate::sample::Sample;
use crate::sensors::SensorControl;

/// Node id that addresses every node (host → all).
pub const BROADCAST_NODE: u16 = 0xFFFF;
/// Sensor streams of the default node (ids `0..4`).
pub const DEFAULT_STREAMS: usize = 4;
/// Heartbeat period at boot (SPEC.md §4.4).
pub const DEFAULT_HEARTBEAT_MS: u32 = 1_000;

/// Identity and start-up settings of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeConfig {
    /// Node id at boot (`0` = unassigned until the host sets one).
    pub node_id: u16,
    /// The node's sensor modality, carried by its heartbeats.
    pub modality: Modality,
    /// Milliseconds between heartbeats (0 = off).
    pub heartbeat_interval_ms: u32,
}

impl NodeConfig {
    /// A node with the default heartbeat period.
    pub const fn new(node_id: u16, modality: Modality) -> Self {
        NodeConfig {
            node_id,
            modality,
            heartbeat_interval_ms: DEFAULT_HEARTBEAT_MS,
        }
    }
}

/// The portable node: owns the port's link, clock and sensor control, and all static
/// buffers (transmit buffer, receive buffer, sequence counters).
pub struct Node<
    L,
    C,
    K,
    const STREAMS: usize = DEFAULT_STREAMS,
    const RX: usize = DEFAULT_RX_CAPACITY,
> {
    link: L,
    clock: C,
    sensors: K,
    node_id: u16,
    modality: Modality,
    heartbeat: HeartbeatTimer,
    counters: Counters,
    packetizer: Packetizer<STREAMS>,
    receiver: Receiver<RX>,
}

impl<L: Link, C: Clock, K: SensorControl, const STREAMS: usize, const RX: usize>
    Node<L, C, K, STREAMS, RX>
{
    /// A node at boot.
    pub fn new(config: NodeConfig, link: L, clock: C, sensors: K) -> Self {
        Node {
            link,
            clock,
            sensors,
            node_id: config.node_id,
            modality: config.modality,
            heartbeat: HeartbeatTimer::new(config.heartbeat_interval_ms),
            counters: Counters::default(),
            packetizer: Packetizer::new(),
            receiver: Receiver::new(),
        }
    }

    /// One main-loop step: handle `received` bytes from the host, send queued samples,
    /// send a heartbeat if due.
    pub fn poll<S: Sample>(&mut self, received: &[u8], samples: &mut SampleConsumer<'_, S>) {
        for &byte in received {
            match self.receiver.feed(byte) {
                None => {}
                Some(Ok(frame)) => {
                    let t2 = self.clock.now_us();
                    self.answer(frame, t2, samples);
                }
                Some(Err(RxError::Checksum)) => {
                    self.counters.crc_errors = self.counters.crc_errors.wrapping_add(1)
                }
                Some(Err(RxError::Framing(_))) => {
                    self.counters.link_errors = self.counters.link_errors.wrapping_add(1)
                }
            }
        }
        self.drain(samples);
        if self.heartbeat.due(self.clock.now_us()) {
            self.send_heartbeat(samples);
        }
    }

    /// The node id frames carry now.
    pub fn node_id(&self) -> u16 {
        self.node_id
    }

    /// The core's counters (the ring's are on its consumer).
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The link (e.g. to flush it or inspect a test double).
    pub fn link(&self) -> &L {
        &self.link
    }

    /// Sends every sample queued now, but at most one ring's worth, so a fast producer
    /// cannot keep the loop from reading the host.
    fn drain<S: Sample>(&mut self, samples: &mut SampleConsumer<'_, S>) {
        for _ in 0..samples.capacity() {
            let Some(sample) = samples.pop() else { break };
            self.counters.samples_taken += 1;
            let result = self
                .packetizer
                .send_sample(self.node_id, &sample, &mut self.link);
            self.count(result, true);
        }
    }

    fn answer<S: Sample>(
        &mut self,
        frame: HostFrame,
        t2: u64,
        samples: &mut SampleConsumer<'_, S>,
    ) {
        let to = frame.header.node;
        if to != self.node_id && to != BROADCAST_NODE {
            return;
        }
        match frame.request {
            HostRequest::TimeSync(request) => {
                let t3 = self.clock.now_us();
                let response = TimeSyncResponse {
                    t1: request.t1,
                    t2,
                    t3,
                };
                self.send_control(t3, &PayloadRepr::TimeSyncResponse(response));
            }
            HostRequest::Command(command) => {
                let (status, new_id) = self.execute(command, samples);
                if to != BROADCAST_NODE || command.opcode == Opcode::Identify {
                    let ack = Ack {
                        command_seq: frame.header.seq,
                        opcode: command.opcode,
                        status,
                    };
                    self.send_control(self.clock.now_us(), &PayloadRepr::Ack(ack));
                }
                // SPEC.md §4.6: a new node id takes effect after the ack.
                self.node_id = new_id.unwrap_or(self.node_id);
            }
            HostRequest::Other(_) => {}
        }
    }

    /// Carries out a command; returns its status and, for `set_node_id`, the new id.
    fn execute<S: Sample>(
        &mut self,
        command: Command,
        samples: &mut SampleConsumer<'_, S>,
    ) -> (AckStatus, Option<u16>) {
        let Command {
            opcode,
            stream,
            arg,
        } = command;
        let outcome = match opcode {
            Opcode::Start => self.sensors.set_enabled(stream, true),
            Opcode::Stop => self.sensors.set_enabled(stream, false),
            Opcode::SetRate if arg == 0 => Err(AckStatus::BadArgument),
            Opcode::SetRate => self.sensors.set_rate(stream, arg),
            Opcode::Identify => self.sensors.identify(arg),
            Opcode::SetNodeId => {
                return match u16::try_from(arg) {
                    Ok(id) if id != 0 && id != BROADCAST_NODE => (AckStatus::Ok, Some(id)),
                    _ => (AckStatus::BadArgument, None),
                };
            }
            Opcode::SetHeartbeatInterval => {
                self.heartbeat.set_interval(arg, self.clock.now_us());
                Ok(())
            }
            Opcode::ResetCounters => {
                self.counters = Counters::default();
                samples.reset_stats();
                Ok(())
            }
            Opcode::Unknown(_) => Err(AckStatus::UnknownCommand),
        };
        (outcome.err().unwrap_or(AckStatus::Ok), None)
    }

    fn send_heartbeat<S: Sample>(&mut self, samples: &SampleConsumer<'_, S>) {
        let now = self.clock.now_us();
        let ring = RingLevels {
            queued: u32::try_from(samples.len()).unwrap_or(u32::MAX),
            dropped: samples.dropped(),
            high_water: samples.high_water(),
            capacity: u32::try_from(samples.capacity()).unwrap_or(u32::MAX),
        };
        let heartbeat = self.counters.heartbeat(now, ring);
        let result = self.packetizer.send_control(
            self.node_id,
            self.modality,
            now,
            &PayloadRepr::Heartbeat(heartbeat),
            &mut self.link,
        );
        self.count(result, false);
    }

    /// Sends a time-sync response or ack (control stream, modality none).
    fn send_control(&mut self, timestamp_us: u64, payload: &PayloadRepr<'_>) {
        let result = self.packetizer.send_control(
            self.node_id,
            Modality::None,
            timestamp_us,
            payload,
            &mut self.link,
        );
        self.count(result, false);
    }

    fn count(&mut self, result: Result<(), SendError>, is_sample: bool) {
        let c = &mut self.counters;
        match result {
            Ok(()) => c.frames_sent += 1,
            Err(SendError::Link(_)) => c.send_failures = c.send_failures.wrapping_add(1),
            Err(_) if is_sample => c.samples_unsendable = c.samples_unsendable.wrapping_add(1),
            Err(_) => c.send_failures = c.send_failures.wrapping_add(1),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use dagr_protocols::csi::Iq;
    use dagr_protocols::node::{
        encode_frame, Frame, HeaderRepr, Heartbeat, Payload, TimeSyncRequest, MAX_WIRE_LEN,
    };

    use super::*;
    use crate::ring::SampleRing;
    use crate::sample::CsiSample;
    use crate::sensors::{RateTicker, StreamSwitch, Switchboard};
    use crate::testing::{decode, with_bad_crc, FakeClock, RecordingLink};

    type TestNode<'a> = Node<RecordingLink, &'a FakeClock, &'a Switchboard<1>>;
    type Csi = CsiSample<8>;

    fn board() -> Switchboard<1> {
        Switchboard::new([StreamSwitch::new(
            0,
            Modality::Wifi,
            100_000,
            (1_000, 1_000_000),
        )])
    }

    fn node<'a>(clock: &'a FakeClock, board: &'a Switchboard<1>) -> TestNode<'a> {
        Node::new(
            NodeConfig::new(7, Modality::Wifi),
            RecordingLink::default(),
            clock,
            board,
        )
    }

    fn from_host(seq: u32, payload: PayloadRepr<'_>) -> Vec<u8> {
        let header = HeaderRepr::new(7, 0xFF, Modality::None, seq, 5_000_000);
        let mut out = [0u8; MAX_WIRE_LEN];
        let n = encode_frame(&header, &payload, &mut out).unwrap();
        [&[0u8][..], &out[..n]].concat()
    }

    fn command(seq: u32, opcode: Opcode, stream: u8, arg: u32) -> Vec<u8> {
        from_host(
            seq,
            PayloadRepr::Command(Command {
                opcode,
                stream,
                arg,
            }),
        )
    }

    fn sent(node: &TestNode<'_>) -> Vec<Frame> {
        decode(&node.link().bytes)
    }

    fn acks(frames: &[Frame]) -> Vec<Ack> {
        frames
            .iter()
            .filter_map(|f| match f.payload {
                Payload::Ack(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    fn heartbeats(frames: &[Frame]) -> Vec<Heartbeat> {
        frames
            .iter()
            .filter_map(|f| match f.payload {
                Payload::Heartbeat(h) => Some(h),
                _ => None,
            })
            .collect()
    }

    /// A driver the way an ISR would run it: produces while its switch is on, at its rate.
    fn run_driver(
        board: &Switchboard<1>,
        ticker: &mut RateTicker,
        from_us: u64,
        to_us: u64,
        out: &mut crate::SampleProducer<'_, Csi>,
    ) -> usize {
        let switch = board.stream(0).unwrap();
        let mut produced = 0;
        for now in (from_us..to_us).step_by(100) {
            if switch.is_enabled() && ticker.due(now, switch.rate_mhz()) {
                let mut s = Csi::new(0, now);
                s.iq.push(Iq { re: 1, im: 2 }).unwrap();
                out.push(s);
                produced += 1;
            }
        }
        produced
    }

    #[test]
    fn time_sync_echoes_t1_and_stamps_receive_before_transmit() {
        let clock = FakeClock {
            now: 1_000.into(),
            step: 7,
        };
        let board = board();
        let mut ring: SampleRing<Csi, 4> = SampleRing::new();
        let (_, mut rx) = ring.split();
        let mut n = node(&clock, &board);
        n.poll(
            &from_host(
                3,
                PayloadRepr::TimeSyncRequest(TimeSyncRequest { t1: 5_000_000 }),
            ),
            &mut rx,
        );
        let frames = sent(&n);
        let (header, response) = frames
            .iter()
            .find_map(|f| match f.payload {
                Payload::TimeSyncResponse(r) => Some((f.header, r)),
                _ => None,
            })
            .expect("a time-sync response");
        assert_eq!(response.t1, 5_000_000);
        assert!(
            response.t2 >= 1_000 && response.t2 < response.t3,
            "t2={} t3={}",
            response.t2,
            response.t3
        );
        assert_eq!(
            header.timestamp_us, response.t3,
            "header carries the transmit time"
        );
        assert_eq!(
            (header.stream, header.node, header.modality),
            (0xFF, 7, Modality::None)
        );
    }

    #[test]
    fn stop_stops_producing_and_start_resumes() {
        let clock = FakeClock::default();
        let board = board();
        let mut ring: SampleRing<Csi, 64> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        let mut ticker = RateTicker::new();
        let mut n = node(&clock, &board);
        assert!(run_driver(&board, &mut ticker, 0, 100_000, &mut tx) > 0);
        n.poll(&command(1, Opcode::Stop, 0, 0), &mut rx);
        assert_eq!(
            run_driver(&board, &mut ticker, 100_000, 500_000, &mut tx),
            0
        );
        n.poll(&command(2, Opcode::Start, 0, 0), &mut rx);
        assert!(run_driver(&board, &mut ticker, 500_000, 600_000, &mut tx) > 0);
        let statuses: Vec<(u32, AckStatus)> = acks(&sent(&n))
            .iter()
            .map(|a| (a.command_seq, a.status))
            .collect();
        assert_eq!(statuses, [(1, AckStatus::Ok), (2, AckStatus::Ok)]);
    }

    #[test]
    fn set_rate_changes_the_rate_the_driver_samples_at() {
        let clock = FakeClock::default();
        let board = board();
        let mut ring: SampleRing<Csi, 512> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        let mut ticker = RateTicker::new();
        let mut n = node(&clock, &board);
        let before = run_driver(&board, &mut ticker, 0, 1_000_000, &mut tx);
        n.poll(&command(1, Opcode::SetRate, 0, 250_000), &mut rx);
        let after = run_driver(&board, &mut ticker, 1_000_000, 2_000_000, &mut tx);
        assert_eq!((before, after), (100, 250));
        assert_eq!(acks(&sent(&n))[0].status, AckStatus::Ok);
    }

    #[test]
    fn unknown_command_and_bad_arguments_are_nacked() {
        let clock = FakeClock::default();
        let board = board();
        let mut ring: SampleRing<Csi, 4> = SampleRing::new();
        let (_, mut rx) = ring.split();
        let mut n = node(&clock, &board);
        let bytes = [
            command(1, Opcode::Unknown(0x7E), 0, 0),
            command(2, Opcode::SetRate, 0, 0),
            command(3, Opcode::SetNodeId, 0, 0xFFFF),
            command(4, Opcode::Start, 9, 0),
        ]
        .concat();
        n.poll(&bytes, &mut rx);
        let got: Vec<(u32, Opcode, AckStatus)> = acks(&sent(&n))
            .iter()
            .map(|a| (a.command_seq, a.opcode, a.status))
            .collect();
        assert_eq!(
            got,
            [
                (1, Opcode::Unknown(0x7E), AckStatus::UnknownCommand),
                (2, Opcode::SetRate, AckStatus::BadArgument),
                (3, Opcode::SetNodeId, AckStatus::BadArgument),
                (4, Opcode::Start, AckStatus::Unsupported),
            ]
        );
        assert_eq!(n.node_id(), 7);
    }

    #[test]
    fn set_node_id_is_acked_under_the_old_id_then_used() {
        let clock = FakeClock::default();
        let board = board();
        let mut ring: SampleRing<Csi, 4> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        let mut n = node(&clock, &board);
        n.poll(&command(1, Opcode::SetNodeId, 0, 42), &mut rx);
        tx.push(Csi::new(0, 1));
        n.poll(&[], &mut rx);
        let frames = sent(&n);
        let ack = frames
            .iter()
            .find(|f| matches!(f.payload, Payload::Ack(_)))
            .unwrap();
        let data = frames
            .iter()
            .find(|f| matches!(f.payload, Payload::Csi(_)))
            .unwrap();
        assert_eq!((ack.header.node, data.header.node), (7, 42));
    }

    #[test]
    fn frames_for_another_node_and_broadcast_commands_get_no_reply() {
        let clock = FakeClock::default();
        let board = board();
        let mut ring: SampleRing<Csi, 4> = SampleRing::new();
        let (_, mut rx) = ring.split();
        let mut n = node(&clock, &board);
        n.poll(&[], &mut rx); // boot heartbeat
        let before = n.link().bytes.len();
        let mut other = HeaderRepr::new(8, 0xFF, Modality::None, 1, 0);
        let mut out = [0u8; MAX_WIRE_LEN];
        let stop = PayloadRepr::Command(Command {
            opcode: Opcode::Stop,
            stream: 0,
            arg: 0,
        });
        let len = encode_frame(&other, &stop, &mut out).unwrap();
        n.poll(&out[..len], &mut rx);
        assert!(
            board.stream(0).unwrap().is_enabled(),
            "a command for node 8 is not ours"
        );
        other.node = BROADCAST_NODE;
        let len = encode_frame(&other, &stop, &mut out).unwrap();
        n.poll(&out[..len], &mut rx);
        assert!(
            !board.stream(0).unwrap().is_enabled(),
            "a broadcast is ours"
        );
        assert_eq!(n.link().bytes.len(), before, "neither is acked");
    }

    #[test]
    fn heartbeat_reports_samples_drops_frames_errors_and_ring_levels() {
        let clock = FakeClock::default();
        let board = board();
        let mut ring: SampleRing<Csi, 4> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        let mut n = node(&clock, &board);
        n.poll(&[], &mut rx); // boot heartbeat: frame 1
        for t in 0..5 {
            tx.push(Csi::new(0, t)); // 3 fit, 2 dropped
        }
        let corrupt = with_bad_crc(&from_host(
            1,
            PayloadRepr::TimeSyncRequest(TimeSyncRequest { t1: 1 }),
        ));
        let garbage = [0x05, 0x01, 0x00]; // COBS says 4 data bytes, run has 1
        clock.now.set(2_000_000);
        n.poll(&[corrupt.as_slice(), &garbage].concat(), &mut rx);
        let hbs = heartbeats(&sent(&n));
        assert_eq!(hbs.len(), 2);
        let hb = hbs[1];
        assert_eq!(hb.samples_produced, 5);
        assert_eq!(hb.dropped_backpressure, 2);
        assert_eq!(
            hb.frames_sent, 4,
            "boot heartbeat + 3 samples before this one"
        );
        assert_eq!((hb.crc_errors, hb.link_errors), (1, 1));
        assert_eq!((hb.ring_high_water, hb.ring_capacity), (3, 3));
        assert!(hb.uptime_us >= 2_000_000);
    }

    #[test]
    fn reset_counters_zeroes_everything_but_uptime() {
        let clock = FakeClock::default();
        let board = board();
        let mut ring: SampleRing<Csi, 4> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        let mut n = node(&clock, &board);
        for t in 0..5 {
            tx.push(Csi::new(0, t));
        }
        n.poll(&[], &mut rx);
        clock.now.set(3_000_000);
        n.poll(&command(1, Opcode::ResetCounters, 0xFF, 0), &mut rx);
        n.poll(&command(2, Opcode::SetHeartbeatInterval, 0xFF, 0), &mut rx);
        let hb = Counters::default().heartbeat(0, crate::health::RingLevels::default());
        assert_eq!(n.counters().frames_sent, 3, "the two acks since the reset");
        assert_eq!((rx.dropped(), rx.high_water()), (0, 0));
        assert_eq!(hb.samples_produced, 0);
    }
}
