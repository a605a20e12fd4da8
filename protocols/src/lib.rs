//! Byte-exact codecs for every device format dagr-edge reads.
//!
//! This crate knows bytes, not threads, files or clocks. Each format is one module:
//! a typed view over a byte buffer (field offsets in a `field` module, accessors named
//! after the spec), a `Repr`-style owned value with `parse`/`emit`, and a streaming
//! decoder on top that accepts chunks of any size, resynchronizes after garbage and
//! counts what it skipped ([`stream::StreamStats`]).
//!
//! The views never allocate; owned records and streaming decoders need the `alloc`
//! feature. Every length read from the wire is bounded before it is used to allocate.
//!
//! # Views
//!
//! Every typed view over a byte buffer (`FrameHeader`, `Packet`, `Record`, `Tlv`, ...)
//! keeps one contract, stated here once:
//!
//! - `new_checked(buffer)` is how bytes from a device become a view. It checks every
//!   length the accessors rely on (and fixed values such as a magic word), returning
//!   [`Error::Truncated`], [`Error::TooLong`] or [`Error::Malformed`]; on a view it
//!   returned, no accessor panics.
//! - `new_unchecked(buffer)` skips those checks. It has two uses: emitting into a buffer
//!   the caller sized from the value's `buffer_len()`, and reading bytes whose lengths the
//!   caller has already checked (a decoder that bounded the frame first). On any other
//!   buffer an accessor may panic or read garbage, so bytes from the wire never reach it
//!   unchecked.
//! - `check_len()`, where a view has one, is `new_checked`'s length check on its own, for
//!   a view that was built unchecked.
//!
//! The text views of the CSV formats (ESP32 rows) only have `new_checked`: a line is
//! split and validated in one pass, and rows are emitted from their owned values.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Text and bit helpers serve the owned records; without `alloc` only the views use them.
#![cfg_attr(not(feature = "alloc"), allow(dead_code))]

// Tests always run with std, so their helpers may allocate even in no-alloc builds.
#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod error;
pub mod stream;

pub mod csi;
pub mod llrp;
pub mod node;
pub mod ti_mmwave;

pub use error::{Error, Result};
