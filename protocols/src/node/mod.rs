//! The dagr node link protocol: frames between a sensor-node firmware and the host.
//!
//! The normative description is `protocols/SPEC.md`; this module implements it byte for
//! byte. A frame on the wire is `COBS(header ‖ payload ‖ CRC-32C) ‖ 0x00`:
//!
//! - [`crc`]: CRC-32C (Castagnoli), table-driven, `const` table.
//! - [`cobs`]: Consistent Overhead Byte Stuffing, encode and decode into caller buffers.
//! - [`header`]: the 20-byte frame header view ([`FrameHeader`]) and its [`HeaderRepr`].
//! - [`csi`], [`radar`], [`rfid`], [`control`]: one view + repr per payload kind.
//! - [`frame`]: the borrowed payload union [`PayloadRepr`], the no-alloc encoder
//!   [`encode_frame`], and (with `alloc`) the owned record [`Frame`] / [`Payload`].
//! - [`decoder`] (with `alloc`): the streaming [`FrameDecoder`].
//!
//! Everything on the encode path and the view/parse path works without an allocator, into
//! and out of caller-provided byte slices, so the firmware (no heap) shares this code.

pub mod cobs;
pub mod control;
pub mod crc;
pub mod csi;
#[cfg(feature = "alloc")]
pub mod decoder;
pub mod frame;
pub mod header;
pub mod radar;
pub mod rfid;

pub use control::{
    Ack, AckPacket, AckStatus, Command, CommandPacket, Heartbeat, HeartbeatPacket, Opcode,
    TimeSyncEstimate, TimeSyncRequest, TimeSyncRequestPacket, TimeSyncResponse,
    TimeSyncResponsePacket,
};
#[cfg(feature = "alloc")]
pub use csi::Csi;
pub use csi::{CsiPacket, CsiRepr};
#[cfg(feature = "alloc")]
pub use decoder::FrameDecoder;
pub use frame::{decode_frame, emit_frame, encode_frame, parse_frame_view, FrameRef, PayloadRepr};
#[cfg(feature = "alloc")]
pub use frame::{Frame, Payload};
pub use header::{FrameHeader, HeaderRepr, Kind, Modality};
#[cfg(feature = "alloc")]
pub use radar::Radar;
pub use radar::{RadarPacket, RadarPoint, RadarRepr};
pub use rfid::{Epc, RfidPacket, RfidRead, RfidRepr};

/// Major protocol version this code speaks; frames with another major are rejected.
pub const VERSION_MAJOR: u8 = 1;
/// Minor protocol version this code writes; newer minors are accepted (forward compatible).
pub const VERSION_MINOR: u8 = 0;
/// Largest payload a frame may carry, so both ends can size static buffers.
pub const MAX_PAYLOAD_LEN: usize = 1024;
/// Bytes of the fixed frame header.
pub const HEADER_LEN: usize = 20;
/// Bytes of the CRC-32C trailer.
pub const CRC_LEN: usize = 4;
/// Largest frame before COBS: header + largest payload + CRC (1048 bytes).
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_PAYLOAD_LEN + CRC_LEN;
/// Largest COBS-encoded frame, without the delimiter (1053 bytes).
pub const MAX_ENCODED_LEN: usize = cobs::max_encoded_len(MAX_FRAME_LEN);
/// Largest frame on the wire: encoded frame plus its `0x00` delimiter (1054 bytes); a
/// firmware transmit buffer of this size holds any frame.
pub const MAX_WIRE_LEN: usize = MAX_ENCODED_LEN + 1;
/// The byte that ends every frame on the wire (and never occurs inside one).
pub const DELIMITER: u8 = 0x00;

/// Little-endian field access shared by the views. Callers have checked lengths
/// (`new_checked`), exactly as smoltcp's views do.
mod le {
    pub fn u16(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    pub fn i16(b: &[u8], at: usize) -> i16 {
        u16(b, at) as i16
    }
    pub fn u32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }
    pub fn f32(b: &[u8], at: usize) -> f32 {
        f32::from_bits(u32(b, at))
    }
    pub fn u64(b: &[u8], at: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(a)
    }
    pub fn put_u16(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    pub fn put_u32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    pub fn put_u64(b: &mut [u8], at: usize, v: u64) {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
}
