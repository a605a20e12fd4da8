//! TI mmWave out-of-box demo: the binary data port (TLV packets) and the text CLI port.
//!
//! Data port (spec `wire-formats.md` 1.3-1.4), one concept per file:
//! * [`header`]: the 40-byte SDK 3.x / 36-byte SDK 1.x-2.x xwr14xx frame header view;
//! * [`tlv`]: the TLV header (length = payload bytes only) and the walk over a packet;
//! * [`points`]: TLV 1 (SDK 3.x float points or SDK 1.x/2.x Q-format objects) and TLV 7;
//! * [`payload`]: TLV 2/3/5 u16 arrays, TLV 4/8 complex heatmaps, TLV 6 stats, TLV 9
//!   temperatures;
//! * `frame` (alloc): the owned [`Frame`] record and its encoder;
//! * `decoder` (alloc): the streaming [`FrameDecoder`].
//!
//! Config port (spec 1.2): [`cli`] parses `.cfg` files, classifies response lines, drives a
//! configuration session without doing I/O, and derives radar parameters.
pub mod cli;
pub mod header;
mod le;
pub mod payload;
pub mod points;
pub mod tlv;

#[cfg(feature = "alloc")]
mod decoder;
#[cfg(feature = "alloc")]
mod frame;

#[cfg(feature = "alloc")]
pub use decoder::{decode_bytes, find_magic, FrameDecoder, DEFAULT_LIMIT, MIN_LIMIT};
#[cfg(feature = "alloc")]
pub use frame::{
    BinIndices, Frame, Point, RawTlv, DEFAULT_PLATFORM, DEFAULT_Q_FORMAT, DEFAULT_VERSION,
};
pub use header::{HeaderLayout, HeaderRepr, Packet, MAGIC};
pub use payload::{Complex16, Stats, TemperatureStats};
pub use tlv::{Tlv, TlvType};
