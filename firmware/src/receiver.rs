//! The receive path: bytes from the host -> verified requests, in one fixed buffer.
//!
//! Splits the input at `0x00`, COBS-decodes each run in place and verifies it with
//! [`decode_frame`] (CRC-32C, version, lengths), then reads the payloads a node acts on
//! (time-sync request, command) with the protocol crate's no-alloc views. Failures are
//! reported, not hidden, in the two classes the heartbeat counts: framing
//! ([`RxError::Framing`], `link_errors`) and checksum ([`RxError::Checksum`],
//! `crc_errors`). As SPEC.md §5 says, the run before the first delimiter after boot is
//! a partial frame when it does not verify, and is skipped without counting.
use dagr_protocols::node::frame::check_payload_end;
use dagr_protocols::node::{
    decode_frame, Command, CommandPacket, FrameRef, HeaderRepr, Kind, TimeSyncRequest,
    TimeSyncRequestPacket, DELIMITER,
};
use dagr_protocols::Error as ProtocolError;

/// Receive buffer of the default node: commands and time-sync requests are 30 and 32
/// bytes on the wire, so 64 leaves room for longer frames of a newer host.
pub const DEFAULT_RX_CAPACITY: usize = 64;

/// A verified frame from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFrame {
    /// Header (addressed node, host's seq and transmit time).
    pub header: HeaderRepr,
    /// What it asks.
    pub request: HostRequest,
}

/// The payloads a node acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRequest {
    /// Answer with a time-sync response.
    TimeSync(TimeSyncRequest),
    /// Execute and acknowledge.
    Command(Command),
    /// A verified frame of a kind a node does not act on (ignored).
    Other(Kind),
}

/// Why a run from the host was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxError {
    /// Bad COBS, too short, too long, bad lengths, unknown major version, bad payload.
    Framing(ProtocolError),
    /// The CRC-32C did not match.
    Checksum,
}

/// Reassembles runs from a byte stream into [`HostFrame`]s, in `RX` bytes of buffer.
pub struct Receiver<const RX: usize = DEFAULT_RX_CAPACITY> {
    buf: [u8; RX],
    len: usize,
    /// The current run outgrew the buffer: drop bytes up to the next delimiter.
    overflowed: bool,
    /// A delimiter has been seen since boot, so runs start on frame boundaries.
    synced: bool,
}

impl<const RX: usize> Default for Receiver<RX> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const RX: usize> Receiver<RX> {
    /// An empty receiver, not yet synchronized.
    pub const fn new() -> Self {
        Receiver {
            buf: [0; RX],
            len: 0,
            overflowed: false,
            synced: false,
        }
    }

    /// Takes one byte; at a delimiter that ends a non-empty run, returns its verdict.
    pub fn feed(&mut self, byte: u8) -> Option<Result<HostFrame, RxError>> {
        if byte != DELIMITER {
            self.store(byte);
            return None;
        }
        let first = !self.synced;
        self.synced = true;
        let (len, overflowed) = (self.len, self.overflowed);
        self.len = 0;
        self.overflowed = false;
        if overflowed {
            return Some(Err(RxError::Framing(ProtocolError::TooLong {
                claimed: RX + 1,
                limit: RX,
            })));
        }
        if len == 0 {
            return None;
        }
        let verdict = decode_frame(&mut self.buf[..len])
            .map_err(|e| match e {
                ProtocolError::Checksum => RxError::Checksum,
                other => RxError::Framing(other),
            })
            .and_then(|frame| read_request(&frame).map_err(RxError::Framing));
        match verdict {
            Err(_) if first => None,
            verdict => Some(verdict),
        }
    }

    fn store(&mut self, byte: u8) {
        if self.len == RX {
            self.overflowed = true;
        } else if !self.overflowed {
            self.buf[self.len] = byte;
            self.len += 1;
        }
    }
}

/// Reads the payload of a verified frame.
fn read_request(frame: &FrameRef<'_>) -> Result<HostFrame, ProtocolError> {
    let minor = frame.header.version_minor;
    let request = match frame.kind {
        Kind::TimeSyncRequest => {
            let view = TimeSyncRequestPacket::new_checked(frame.payload)?;
            check_payload_end(8, frame.payload.len(), minor)?;
            HostRequest::TimeSync(TimeSyncRequest::parse(&view)?)
        }
        Kind::Command => {
            let view = CommandPacket::new_checked(frame.payload)?;
            check_payload_end(6, frame.payload.len(), minor)?;
            HostRequest::Command(Command::parse(&view)?)
        }
        other => HostRequest::Other(other),
    };
    Ok(HostFrame {
        header: frame.header,
        request,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use dagr_protocols::node::{Modality, Opcode, PayloadRepr, MAX_WIRE_LEN};

    use super::*;

    fn wire(payload: PayloadRepr<'_>) -> Vec<u8> {
        let header = HeaderRepr::new(5, 0xFF, Modality::None, 9, 1_000);
        let mut out = [0u8; MAX_WIRE_LEN];
        let n = dagr_protocols::node::encode_frame(&header, &payload, &mut out).unwrap();
        out[..n].to_vec()
    }

    fn feed_all<const RX: usize>(
        rx: &mut Receiver<RX>,
        bytes: &[u8],
    ) -> Vec<Result<HostFrame, RxError>> {
        bytes.iter().filter_map(|&b| rx.feed(b)).collect()
    }

    #[test]
    fn command_and_time_sync_request_are_read_from_the_wire() {
        let cmd = Command {
            opcode: Opcode::Stop,
            stream: 0,
            arg: 0,
        };
        let mut bytes = wire(PayloadRepr::Command(cmd));
        bytes.extend(wire(PayloadRepr::TimeSyncRequest(TimeSyncRequest {
            t1: 77,
        })));
        let got = feed_all(&mut Receiver::<64>::new(), &bytes);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].unwrap().request, HostRequest::Command(cmd));
        assert_eq!(got[0].unwrap().header.seq, 9);
        assert_eq!(
            got[1].unwrap().request,
            HostRequest::TimeSync(TimeSyncRequest { t1: 77 })
        );
    }

    #[test]
    fn corrupted_byte_is_a_checksum_error_and_the_next_frame_still_arrives() {
        let good = wire(PayloadRepr::TimeSyncRequest(TimeSyncRequest { t1: 1 }));
        let bad = crate::testing::with_bad_crc(&good);
        let mut rx = Receiver::<64>::new();
        feed_all(&mut rx, &[0]);
        let got = feed_all(&mut rx, &[bad, good].concat());
        assert_eq!(got[0], Err(RxError::Checksum));
        assert!(got[1].is_ok());
    }

    #[test]
    fn run_longer_than_the_buffer_is_one_framing_error() {
        let mut rx = Receiver::<40>::new();
        feed_all(&mut rx, &[0]);
        let mut bytes = [0x42u8; 100].to_vec();
        bytes.push(0);
        let got = feed_all(&mut rx, &bytes);
        assert!(matches!(
            got[..],
            [Err(RxError::Framing(ProtocolError::TooLong { .. }))]
        ));
        let next = wire(PayloadRepr::TimeSyncRequest(TimeSyncRequest { t1: 1 }));
        assert!(
            feed_all(&mut rx, &next)[0].is_ok(),
            "the receiver recovers at the next delimiter"
        );
    }

    #[test]
    fn garbage_before_the_first_delimiter_is_skipped_silently() {
        let mut rx = Receiver::<64>::new();
        let mut bytes = b"boot log".to_vec();
        bytes.push(0);
        bytes.extend(wire(PayloadRepr::TimeSyncRequest(TimeSyncRequest {
            t1: 3,
        })));
        let got = feed_all(&mut rx, &bytes);
        assert_eq!(got.len(), 1);
        assert!(got[0].is_ok());
    }
}
