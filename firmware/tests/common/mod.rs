//! Host side of the firmware integration tests: frames to and from a node over a pty.
#![allow(dead_code)] // each test binary uses a part
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use dagr_protocols::node::{
    Command, Frame, FrameDecoder, HeaderRepr, Modality, Opcode, Payload, PayloadRepr,
    TimeSyncRequest,
};
use dagr_protocols::stream::decode_chunk;
use serialport::TTYPort;

/// Reads frames from the node side of a pty and sends it requests.
pub struct Host {
    pub port: TTYPort,
    decoder: FrameDecoder,
    pub frames: Vec<Frame>,
    seq: u32,
}

impl Host {
    pub fn new(port: TTYPort) -> Self {
        Host {
            port,
            decoder: FrameDecoder::new(),
            frames: Vec::new(),
            seq: 0,
        }
    }

    /// Reads for `dur` (or until the port closes); returns the frames that arrived.
    pub fn read_for(&mut self, dur: Duration) -> Vec<Frame> {
        self.read_until(dur, |_| false)
    }

    /// Reads until `done(new frames)` holds or `timeout` passes; returns the new frames.
    pub fn read_until(&mut self, timeout: Duration, done: impl Fn(&[Frame]) -> bool) -> Vec<Frame> {
        let deadline = Instant::now() + timeout;
        let mut new = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline && !done(&new) {
            match self.port.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => decode_chunk(&mut self.decoder, &buf[..n], |f| new.push(f)),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => std::thread::sleep(Duration::from_millis(5)), // EIO until the node opens the pty
            }
        }
        self.frames.extend(new.iter().cloned());
        new
    }

    /// Sends one request to `node`; returns its sequence number.
    pub fn send(&mut self, node: u16, payload: PayloadRepr<'_>) -> u32 {
        let seq = self.seq;
        self.seq += 1;
        let frame = Frame {
            header: HeaderRepr::new(node, 0xFF, Modality::None, seq, 0),
            payload: match payload {
                PayloadRepr::TimeSyncRequest(r) => Payload::TimeSyncRequest(r),
                PayloadRepr::Command(c) => Payload::Command(c),
                other => panic!("hosts send requests, not {other}"),
            },
        };
        self.port.write_all(&frame.to_wire().unwrap()).unwrap();
        seq
    }

    pub fn time_sync(&mut self, node: u16, t1: u64) -> u32 {
        self.send(node, PayloadRepr::TimeSyncRequest(TimeSyncRequest { t1 }))
    }

    pub fn command(&mut self, node: u16, opcode: Opcode, stream: u8, arg: u32) -> u32 {
        self.send(
            node,
            PayloadRepr::Command(Command {
                opcode,
                stream,
                arg,
            }),
        )
    }
}

pub fn is_csi(f: &Frame) -> bool {
    matches!(f.payload, Payload::Csi(_))
}

pub fn is_heartbeat(f: &Frame) -> bool {
    matches!(f.payload, Payload::Heartbeat(_))
}

/// Sequence numbers of `frames` on `stream` are consecutive.
pub fn assert_consecutive(frames: &[Frame], stream: u8) {
    let seqs: Vec<u32> = frames
        .iter()
        .filter(|f| f.header.stream == stream)
        .map(|f| f.header.seq)
        .collect();
    assert!(
        seqs.len() >= 2,
        "too few frames on stream {stream}: {seqs:?}"
    );
    for pair in seqs.windows(2) {
        assert_eq!(
            pair[1],
            pair[0].wrapping_add(1),
            "gap on stream {stream}: {seqs:?}"
        );
    }
}
