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
