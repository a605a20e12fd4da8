//! The control and health payloads: heartbeat (0x10), time-sync request (0x11) and
//! response (0x12), configuration command (0x20) and its acknowledgement (0x21).
//!
//! All are fixed-size; each has a typed view with a `field` module and a `Copy` repr that
//! needs no allocation. Layouts are in SPEC.md and in each view's documentation.
use core::fmt;

use super::le;
use crate::error::{Error, Result};

/// Generates the `new_unchecked`/`new_checked` pair shared by the fixed-size views.
macro_rules! fixed_view {
    ($name:ident, $len:expr) => {
        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
            /// already checked (see the crate's [view contract](crate#views)).
            pub const fn new_unchecked(buffer: T) -> Self {
                $name { buffer }
            }

            /// Wraps a buffer, checking it is at least this payload's fixed length.
            pub fn new_checked(buffer: T) -> Result<Self> {
                if buffer.as_ref().len() < $len {
                    return Err(Error::Truncated);
                }
                Ok($name { buffer })
            }
        }
    };
}

/// Fixed payload lengths.
pub mod len {
    /// Heartbeat payload bytes.
    pub const HEARTBEAT: usize = 44;
    /// Time-sync request payload bytes.
    pub const TIME_SYNC_REQUEST: usize = 8;
    /// Time-sync response payload bytes.
    pub const TIME_SYNC_RESPONSE: usize = 24;
    /// Command payload bytes.
    pub const COMMAND: usize = 6;
    /// Ack payload bytes.
    pub const ACK: usize = 6;
}

// ---------------------------------------------------------------------------- heartbeat

/// Heartbeat field offsets.
pub mod heartbeat_field {
    use core::ops::Range;
    /// µs since boot, u64.
    pub const UPTIME_US: Range<usize> = 0..8;
    /// Samples produced by the sensor drivers since boot, u64.
    pub const SAMPLES_PRODUCED: Range<usize> = 8..16;
    /// Frames transmitted since boot, u64.
    pub const FRAMES_SENT: Range<usize> = 16..24;
    /// Samples dropped because the ring was full (backpressure), u32.
    pub const DROPPED_BACKPRESSURE: Range<usize> = 24..28;
    /// Framing errors on the node's receive side (bad COBS, short, oversize), u32.
    pub const LINK_ERRORS: Range<usize> = 28..32;
    /// Received frames with a bad CRC, u32.
    pub const CRC_ERRORS: Range<usize> = 32..36;
    /// Most ring slots ever in use at once, u32.
    pub const RING_HIGH_WATER: Range<usize> = 36..40;
    /// Ring slots in total, u32.
    pub const RING_CAPACITY: Range<usize> = 40..44;
}

/// A view of a heartbeat payload: the node's health counters, sent periodically so the
/// host can show per-sensor health and notice drops it cannot see from sequence numbers.
#[derive(Debug, Clone)]
pub struct HeartbeatPacket<T: AsRef<[u8]>> {
    buffer: T,
}
fixed_view!(HeartbeatPacket, len::HEARTBEAT);

/// A node's health counters. Counters count since boot and wrap; take differences with
/// `wrapping_sub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Heartbeat {
    /// µs since boot.
    pub uptime_us: u64,
    /// Samples produced by the drivers.
    pub samples_produced: u64,
    /// Frames transmitted.
    pub frames_sent: u64,
    /// Samples dropped on a full ring.
    pub dropped_backpressure: u32,
    /// Framing errors seen on receive.
    pub link_errors: u32,
    /// CRC errors seen on receive.
    pub crc_errors: u32,
    /// Ring high-water mark, slots.
    pub ring_high_water: u32,
    /// Ring capacity, slots.
    pub ring_capacity: u32,
}

impl<T: AsRef<[u8]>> HeartbeatPacket<T> {
    fn u64_at(&self, r: core::ops::Range<usize>) -> u64 {
        le::u64(self.buffer.as_ref(), r.start)
    }
    fn u32_at(&self, r: core::ops::Range<usize>) -> u32 {
        le::u32(self.buffer.as_ref(), r.start)
    }
    /// µs since boot.
    pub fn uptime_us(&self) -> u64 {
        self.u64_at(heartbeat_field::UPTIME_US)
    }
    /// Samples produced.
    pub fn samples_produced(&self) -> u64 {
        self.u64_at(heartbeat_field::SAMPLES_PRODUCED)
    }
    /// Frames sent.
    pub fn frames_sent(&self) -> u64 {
        self.u64_at(heartbeat_field::FRAMES_SENT)
    }
    /// Samples dropped by backpressure.
    pub fn dropped_backpressure(&self) -> u32 {
        self.u32_at(heartbeat_field::DROPPED_BACKPRESSURE)
    }
    /// Link (framing) errors.
    pub fn link_errors(&self) -> u32 {
        self.u32_at(heartbeat_field::LINK_ERRORS)
    }
    /// CRC errors.
    pub fn crc_errors(&self) -> u32 {
        self.u32_at(heartbeat_field::CRC_ERRORS)
    }
    /// Ring high-water mark.
    pub fn ring_high_water(&self) -> u32 {
        self.u32_at(heartbeat_field::RING_HIGH_WATER)
    }
    /// Ring capacity.
    pub fn ring_capacity(&self) -> u32 {
        self.u32_at(heartbeat_field::RING_CAPACITY)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> HeartbeatPacket<T> {
    /// Sets a u64 counter at its field range.
    pub fn set_u64(&mut self, field: core::ops::Range<usize>, v: u64) {
        le::put_u64(self.buffer.as_mut(), field.start, v);
    }
    /// Sets a u32 counter at its field range.
    pub fn set_u32(&mut self, field: core::ops::Range<usize>, v: u32) {
        le::put_u32(self.buffer.as_mut(), field.start, v);
    }
}

impl Heartbeat {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]>>(view: &HeartbeatPacket<T>) -> Result<Self> {
        Ok(Heartbeat {
            uptime_us: view.uptime_us(),
            samples_produced: view.samples_produced(),
            frames_sent: view.frames_sent(),
            dropped_backpressure: view.dropped_backpressure(),
            link_errors: view.link_errors(),
            crc_errors: view.crc_errors(),
            ring_high_water: view.ring_high_water(),
            ring_capacity: view.ring_capacity(),
        })
    }

    /// Writes into a view of at least 44 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut HeartbeatPacket<T>) {
        use heartbeat_field as f;
        view.set_u64(f::UPTIME_US, self.uptime_us);
        view.set_u64(f::SAMPLES_PRODUCED, self.samples_produced);
        view.set_u64(f::FRAMES_SENT, self.frames_sent);
        view.set_u32(f::DROPPED_BACKPRESSURE, self.dropped_backpressure);
        view.set_u32(f::LINK_ERRORS, self.link_errors);
        view.set_u32(f::CRC_ERRORS, self.crc_errors);
        view.set_u32(f::RING_HIGH_WATER, self.ring_high_water);
        view.set_u32(f::RING_CAPACITY, self.ring_capacity);
    }

    /// Bytes on the wire.
    pub const fn buffer_len(&self) -> usize {
        len::HEARTBEAT
    }
}

impl fmt::Display for Heartbeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "heartbeat up {:.3} s, {} samples, {} frames, {} dropped, {} link / {} CRC errors, ring {}/{}",
            self.uptime_us as f64 / 1e6,
            self.samples_produced,
            self.frames_sent,
            self.dropped_backpressure,
            self.link_errors,
            self.crc_errors,
            self.ring_high_water,
            self.ring_capacity
        )
    }
}

// ---------------------------------------------------------------------------- time sync

/// Time-sync field offsets (request uses `T1` only).
pub mod time_sync_field {
    use core::ops::Range;
    /// Host transmit time, host µs, u64.
    pub const T1: Range<usize> = 0..8;
    /// Node receive time, node µs, u64 (response only).
    pub const T2: Range<usize> = 8..16;
    /// Node transmit time, node µs, u64 (response only).
    pub const T3: Range<usize> = 16..24;
}

/// A view of a time-sync request: the host's transmit time `t1`.
#[derive(Debug, Clone)]
pub struct TimeSyncRequestPacket<T: AsRef<[u8]>> {
    buffer: T,
}
fixed_view!(TimeSyncRequestPacket, len::TIME_SYNC_REQUEST);

impl<T: AsRef<[u8]>> TimeSyncRequestPacket<T> {
    /// Host transmit time, host µs.
    pub fn t1(&self) -> u64 {
        le::u64(self.buffer.as_ref(), time_sync_field::T1.start)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TimeSyncRequestPacket<T> {
    /// Sets `t1`.
    pub fn set_t1(&mut self, v: u64) {
        le::put_u64(self.buffer.as_mut(), time_sync_field::T1.start, v);
    }
}

/// Host → node: "tell me your clock"; the node answers with a [`TimeSyncResponse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeSyncRequest {
    /// Host transmit time, host µs.
    pub t1: u64,
}

impl TimeSyncRequest {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]>>(view: &TimeSyncRequestPacket<T>) -> Result<Self> {
        Ok(TimeSyncRequest { t1: view.t1() })
    }
    /// Writes into a view of at least 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut TimeSyncRequestPacket<T>) {
        view.set_t1(self.t1);
    }
    /// Bytes on the wire.
    pub const fn buffer_len(&self) -> usize {
        len::TIME_SYNC_REQUEST
    }
}

/// A view of a time-sync response: `t1` echoed, node receive `t2`, node transmit `t3`.
#[derive(Debug, Clone)]
pub struct TimeSyncResponsePacket<T: AsRef<[u8]>> {
    buffer: T,
}
fixed_view!(TimeSyncResponsePacket, len::TIME_SYNC_RESPONSE);

impl<T: AsRef<[u8]>> TimeSyncResponsePacket<T> {
    /// Host transmit time echoed from the request.
    pub fn t1(&self) -> u64 {
        le::u64(self.buffer.as_ref(), time_sync_field::T1.start)
    }
    /// Node receive time of the request, node µs.
    pub fn t2(&self) -> u64 {
        le::u64(self.buffer.as_ref(), time_sync_field::T2.start)
    }
    /// Node transmit time of this response, node µs.
    pub fn t3(&self) -> u64 {
        le::u64(self.buffer.as_ref(), time_sync_field::T3.start)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TimeSyncResponsePacket<T> {
    /// Sets `t1`.
    pub fn set_t1(&mut self, v: u64) {
        le::put_u64(self.buffer.as_mut(), time_sync_field::T1.start, v);
    }
    /// Sets `t2`.
    pub fn set_t2(&mut self, v: u64) {
        le::put_u64(self.buffer.as_mut(), time_sync_field::T2.start, v);
    }
    /// Sets `t3`.
    pub fn set_t3(&mut self, v: u64) {
        le::put_u64(self.buffer.as_mut(), time_sync_field::T3.start, v);
    }
}

/// Node → host: the three timestamps of an NTP-style exchange; with the host's receive
/// time `t4` they give the clock offset and round-trip delay ([`Self::estimate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeSyncResponse {
    /// Host transmit time echoed, host µs.
    pub t1: u64,
    /// Node receive time, node µs.
    pub t2: u64,
    /// Node transmit time, node µs.
    pub t3: u64,
}

/// The result of one time-sync exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeSyncEstimate {
    /// Node clock minus host clock, µs: `((t2 - t1) + (t3 - t4)) / 2`.
    pub offset_us: i64,
    /// Round-trip time on the wire, µs: `(t4 - t1) - (t3 - t2)`.
    pub delay_us: i64,
}

impl TimeSyncResponse {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]>>(view: &TimeSyncResponsePacket<T>) -> Result<Self> {
        Ok(TimeSyncResponse {
            t1: view.t1(),
            t2: view.t2(),
            t3: view.t3(),
        })
    }
    /// Writes into a view of at least 24 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut TimeSyncResponsePacket<T>) {
        view.set_t1(self.t1);
        view.set_t2(self.t2);
        view.set_t3(self.t3);
    }
    /// Bytes on the wire.
    pub const fn buffer_len(&self) -> usize {
        len::TIME_SYNC_RESPONSE
    }

    /// Offset and delay given the host's receive time `t4` (host µs). Computed in 128-bit
    /// arithmetic and saturated, so no pair of clocks can overflow it.
    pub fn estimate(&self, t4: u64) -> TimeSyncEstimate {
        let [t1, t2, t3, t4] = [self.t1, self.t2, self.t3, t4].map(i128::from);
        let offset = ((t2 - t1) + (t3 - t4)).div_euclid(2);
        let delay = (t4 - t1) - (t3 - t2);
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        TimeSyncEstimate {
            offset_us: clamp(offset),
            delay_us: clamp(delay),
        }
    }
}

// ---------------------------------------------------------------------------- command

/// Command and ack field offsets.
pub mod command_field {
    use core::ops::Range;
    /// Opcode (command offset).
    pub const OPCODE: usize = 0;
    /// Target stream, 0xFF = all (command offset).
    pub const STREAM: usize = 1;
    /// Argument, u32 (command offset).
    pub const ARG: Range<usize> = 2..6;
    /// Sequence number of the acknowledged command frame, u32 (ack offset).
    pub const COMMAND_SEQ: Range<usize> = 0..4;
    /// Opcode echoed (ack offset).
    pub const ACK_OPCODE: usize = 4;
    /// Status (ack offset).
    pub const STATUS: usize = 5;
}

/// What a command asks the node to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0x01: start producing samples on `stream`.
    Start,
    /// 0x02: stop producing samples on `stream`.
    Stop,
    /// 0x03: set the sample rate of `stream`; `arg` in millihertz.
    SetRate,
    /// 0x04: blink/beep for `arg` milliseconds so a person can find the node.
    Identify,
    /// 0x05: take `arg` (1..=0xFFFE) as the node id from now on.
    SetNodeId,
    /// 0x06: send heartbeats every `arg` milliseconds (0 = off).
    SetHeartbeatInterval,
    /// 0x07: zero the heartbeat counters (uptime excepted).
    ResetCounters,
    /// A code this version does not define (kept so it can be acked as unknown).
    Unknown(u8),
}

impl Opcode {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            Opcode::Start => 0x01,
            Opcode::Stop => 0x02,
            Opcode::SetRate => 0x03,
            Opcode::Identify => 0x04,
            Opcode::SetNodeId => 0x05,
            Opcode::SetHeartbeatInterval => 0x06,
            Opcode::ResetCounters => 0x07,
            Opcode::Unknown(c) => c,
        }
    }

    /// The opcode a wire code stands for.
    pub const fn from_code(code: u8) -> Opcode {
        match code {
            0x01 => Opcode::Start,
            0x02 => Opcode::Stop,
            0x03 => Opcode::SetRate,
            0x04 => Opcode::Identify,
            0x05 => Opcode::SetNodeId,
            0x06 => Opcode::SetHeartbeatInterval,
            0x07 => Opcode::ResetCounters,
            other => Opcode::Unknown(other),
        }
    }

    /// The name used in JSON and summaries.
    pub const fn name(self) -> &'static str {
        match self {
            Opcode::Start => "start",
            Opcode::Stop => "stop",
            Opcode::SetRate => "set_rate",
            Opcode::Identify => "identify",
            Opcode::SetNodeId => "set_node_id",
            Opcode::SetHeartbeatInterval => "set_heartbeat_interval",
            Opcode::ResetCounters => "reset_counters",
            Opcode::Unknown(_) => "unknown",
        }
    }
}

/// A view of a command payload.
#[derive(Debug, Clone)]
pub struct CommandPacket<T: AsRef<[u8]>> {
    buffer: T,
}
fixed_view!(CommandPacket, len::COMMAND);

impl<T: AsRef<[u8]>> CommandPacket<T> {
    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        Opcode::from_code(self.buffer.as_ref()[command_field::OPCODE])
    }
    /// Target stream (0xFF = all).
    pub fn stream(&self) -> u8 {
        self.buffer.as_ref()[command_field::STREAM]
    }
    /// The argument.
    pub fn arg(&self) -> u32 {
        le::u32(self.buffer.as_ref(), command_field::ARG.start)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CommandPacket<T> {
    /// Sets the opcode.
    pub fn set_opcode(&mut self, v: Opcode) {
        self.buffer.as_mut()[command_field::OPCODE] = v.code();
    }
    /// Sets the target stream.
    pub fn set_stream(&mut self, v: u8) {
        self.buffer.as_mut()[command_field::STREAM] = v;
    }
    /// Sets the argument.
    pub fn set_arg(&mut self, v: u32) {
        le::put_u32(self.buffer.as_mut(), command_field::ARG.start, v);
    }
}

/// Host → node configuration command; the node answers every command with an [`Ack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command {
    /// What to do.
    pub opcode: Opcode,
    /// Target stream, 0xFF = all streams.
    pub stream: u8,
    /// Opcode-specific argument (0 when unused).
    pub arg: u32,
}

impl Command {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]>>(view: &CommandPacket<T>) -> Result<Self> {
        Ok(Command {
            opcode: view.opcode(),
            stream: view.stream(),
            arg: view.arg(),
        })
    }
    /// Writes into a view of at least 6 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut CommandPacket<T>) {
        view.set_opcode(self.opcode);
        view.set_stream(self.stream);
        view.set_arg(self.arg);
    }
    /// Bytes on the wire.
    pub const fn buffer_len(&self) -> usize {
        len::COMMAND
    }
}

// ---------------------------------------------------------------------------- ack

/// The outcome of a command; 0 is an ack, anything else a nack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckStatus {
    /// 0: done.
    Ok,
    /// 1: opcode not known to this firmware.
    UnknownCommand,
    /// 2: argument out of range (e.g. node id 0 or 0xFFFF).
    BadArgument,
    /// 3: cannot do it now (e.g. driver busy); retry later.
    Busy,
    /// 4: this node has no such stream or capability.
    Unsupported,
    /// 5: tried and failed (driver error).
    Failed,
    /// A code this version does not define.
    Unknown(u8),
}

impl AckStatus {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            AckStatus::Ok => 0,
            AckStatus::UnknownCommand => 1,
            AckStatus::BadArgument => 2,
            AckStatus::Busy => 3,
            AckStatus::Unsupported => 4,
            AckStatus::Failed => 5,
            AckStatus::Unknown(c) => c,
        }
    }

    /// The status a wire code stands for.
    pub const fn from_code(code: u8) -> AckStatus {
        match code {
            0 => AckStatus::Ok,
            1 => AckStatus::UnknownCommand,
            2 => AckStatus::BadArgument,
            3 => AckStatus::Busy,
            4 => AckStatus::Unsupported,
            5 => AckStatus::Failed,
            other => AckStatus::Unknown(other),
        }
    }

    /// The name used in JSON and summaries.
    pub const fn name(self) -> &'static str {
        match self {
            AckStatus::Ok => "ok",
            AckStatus::UnknownCommand => "unknown_command",
            AckStatus::BadArgument => "bad_argument",
            AckStatus::Busy => "busy",
            AckStatus::Unsupported => "unsupported",
            AckStatus::Failed => "failed",
            AckStatus::Unknown(_) => "unknown",
        }
    }
}

/// A view of an ack payload.
#[derive(Debug, Clone)]
pub struct AckPacket<T: AsRef<[u8]>> {
    buffer: T,
}
fixed_view!(AckPacket, len::ACK);

impl<T: AsRef<[u8]>> AckPacket<T> {
    /// Sequence number of the command frame acknowledged.
    pub fn command_seq(&self) -> u32 {
        le::u32(self.buffer.as_ref(), command_field::COMMAND_SEQ.start)
    }
    /// Opcode echoed from the command.
    pub fn opcode(&self) -> Opcode {
        Opcode::from_code(self.buffer.as_ref()[command_field::ACK_OPCODE])
    }
    /// Outcome.
    pub fn status(&self) -> AckStatus {
        AckStatus::from_code(self.buffer.as_ref()[command_field::STATUS])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AckPacket<T> {
    /// Sets the acknowledged command's sequence number.
    pub fn set_command_seq(&mut self, v: u32) {
        le::put_u32(self.buffer.as_mut(), command_field::COMMAND_SEQ.start, v);
    }
    /// Sets the echoed opcode.
    pub fn set_opcode(&mut self, v: Opcode) {
        self.buffer.as_mut()[command_field::ACK_OPCODE] = v.code();
    }
    /// Sets the status.
    pub fn set_status(&mut self, v: AckStatus) {
        self.buffer.as_mut()[command_field::STATUS] = v.code();
    }
}

/// Node → host answer to a [`Command`], matched by the command frame's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ack {
    /// Sequence number of the command frame.
    pub command_seq: u32,
    /// Opcode echoed.
    pub opcode: Opcode,
    /// Outcome (`Ok` = ack, else nack).
    pub status: AckStatus,
}

impl Ack {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]>>(view: &AckPacket<T>) -> Result<Self> {
        Ok(Ack {
            command_seq: view.command_seq(),
            opcode: view.opcode(),
            status: view.status(),
        })
    }
    /// Writes into a view of at least 6 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut AckPacket<T>) {
        view.set_command_seq(self.command_seq);
        view.set_opcode(self.opcode);
        view.set_status(self.status);
    }
    /// Bytes on the wire.
    pub const fn buffer_len(&self) -> usize {
        len::ACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static HEARTBEAT: [u8; 44] = [
        0x40, 0x42, 0x0F, 0, 0, 0, 0, 0, // uptime 1 s
        0xE8, 0x03, 0, 0, 0, 0, 0, 0, // 1000 samples
        0x64, 0, 0, 0, 0, 0, 0, 0, // 100 frames
        2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, // dropped 2, link 3, crc 4
        10, 0, 0, 0, 64, 0, 0, 0, // ring 10/64
    ];
    const HB: Heartbeat = Heartbeat {
        uptime_us: 1_000_000,
        samples_produced: 1000,
        frames_sent: 100,
        dropped_backpressure: 2,
        link_errors: 3,
        crc_errors: 4,
        ring_high_water: 10,
        ring_capacity: 64,
    };

    #[test]
    fn heartbeat_deconstructs_and_emits_the_spec_bytes() {
        let v = HeartbeatPacket::new_checked(&HEARTBEAT[..]).unwrap();
        assert_eq!(v.uptime_us(), 1_000_000);
        assert_eq!(v.ring_capacity(), 64);
        assert_eq!(Heartbeat::parse(&v).unwrap(), HB);
        let mut buf = [0u8; 44];
        HB.emit(&mut HeartbeatPacket::new_unchecked(&mut buf[..]));
        assert_eq!(buf, HEARTBEAT);
        assert_eq!(
            HeartbeatPacket::new_checked(&HEARTBEAT[..43]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn command_and_ack_round_trip_through_their_bytes() {
        let bytes = [0x03, 0x01, 0x10, 0x27, 0x00, 0x00]; // set_rate stream 1 10 Hz
        let cmd = Command::parse(&CommandPacket::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(
            cmd,
            Command {
                opcode: Opcode::SetRate,
                stream: 1,
                arg: 10_000
            }
        );
        let mut out = [0u8; 6];
        cmd.emit(&mut CommandPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes);

        let ack_bytes = [0x2A, 0, 0, 0, 0x03, 0x02];
        let ack = Ack::parse(&AckPacket::new_checked(&ack_bytes[..]).unwrap()).unwrap();
        assert_eq!(ack.command_seq, 42);
        assert_eq!(ack.opcode, Opcode::SetRate);
        assert_eq!(ack.status, AckStatus::BadArgument);
        let mut out = [0u8; 6];
        ack.emit(&mut AckPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, ack_bytes);
    }

    #[test]
    fn codes_round_trip_including_unknown_ones() {
        for code in 0..=255u8 {
            assert_eq!(Opcode::from_code(code).code(), code);
            assert_eq!(AckStatus::from_code(code).code(), code);
        }
    }

    #[test]
    fn time_sync_estimate_recovers_offset_and_delay() {
        // Node clock = host clock + 5000 µs; 300 µs each way; node holds it 50 µs.
        let t1 = 1_000_000u64;
        let t2 = t1 + 300 + 5000;
        let t3 = t2 + 50;
        let t4 = t3 - 5000 + 300;
        let r = TimeSyncResponse { t1, t2, t3 };
        assert_eq!(
            r.estimate(t4),
            TimeSyncEstimate {
                offset_us: 5000,
                delay_us: 600
            }
        );
        // A node clock behind the host gives a negative offset; extremes saturate.
        let behind = TimeSyncResponse {
            t1: 10_000,
            t2: 200,
            t3: 300,
        };
        assert_eq!(behind.estimate(10_200).offset_us, -9850);
        let extreme = TimeSyncResponse {
            t1: 0,
            t2: u64::MAX,
            t3: u64::MAX,
        };
        assert_eq!(extreme.estimate(0).offset_us, i64::MAX);
    }
}
