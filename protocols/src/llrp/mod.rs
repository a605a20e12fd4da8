//! LLRP 1.0.1 (EPCglobal Low Level Reader Protocol) client codec, with the Impinj
//! Octane extensions a dagr gateway uses for RF phase, high-resolution RSSI and Doppler.
//!
//! Layers, bottom up:
//! - [`header`]: the 10-byte message header view.
//! - [`param`]: TLV/TV parameter views and [`Params`], a zero-allocation walk over a
//!   parameter list; [`cursor`]: big-endian field reader and the emitting [`Writer`].
//! - [`impinj`]: vendor constants, unit conversions, the report content selector and the
//!   writer of Impinj custom parameters (the generic layers below know no vendor).
//! - owned values (`alloc`): [`TagReport`], [`Status`], [`ReaderEvent`],
//!   [`Capabilities`], [`ReaderConfig`], [`RoSpec`], and [`Message`] = type + ID + typed
//!   [`Body`]; [`client`] builds every request a client sends (and the reader-side
//!   messages tests and the simulator need).
//! - [`MessageDecoder`]: the streaming decoder (resync heuristic documented there).
//!
//! Everything on the wire is big-endian.

pub mod cursor;
pub mod header;
pub mod impinj;
pub mod message_type;
pub mod param;

#[cfg(feature = "alloc")]
pub mod capabilities;
#[cfg(feature = "alloc")]
pub mod client;
#[cfg(feature = "alloc")]
pub mod config;
#[cfg(feature = "alloc")]
pub mod decoder;
#[cfg(feature = "alloc")]
pub mod event;
#[cfg(feature = "alloc")]
pub mod message;
#[cfg(feature = "alloc")]
pub mod rospec;
#[cfg(feature = "alloc")]
pub mod status;
#[cfg(feature = "alloc")]
pub mod tag_report;

pub use cursor::{FieldReader, Writer};
pub use header::{Header, HEADER_LEN, VERSION};
pub use param::{Custom, Param, Params, Tlv};

#[cfg(feature = "alloc")]
pub use capabilities::{Capabilities, DeviceCapabilities};
#[cfg(feature = "alloc")]
pub use config::{EventNotification, ReaderConfig};
#[cfg(feature = "alloc")]
pub use decoder::MessageDecoder;
#[cfg(feature = "alloc")]
pub use event::{AntennaEvent, ReaderEvent, RoSpecEvent, Timestamp};
#[cfg(feature = "alloc")]
pub use message::{Body, Message};
#[cfg(feature = "alloc")]
pub use param::RawParam;
#[cfg(feature = "alloc")]
pub use rospec::{
    AntennaConfig, ReportSpec, RfControl, RoSpec, Singulation, StartTrigger, StopTrigger,
};
#[cfg(feature = "alloc")]
pub use status::Status;
#[cfg(feature = "alloc")]
pub use tag_report::{Epc, TagReport};

#[cfg(all(test, feature = "std"))]
mod tests;
