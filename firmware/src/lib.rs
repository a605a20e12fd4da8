//! dagr-firmware: the portable core of a dagr sensor node.
//!
//! Knows no allocator and no threads: static buffers, a sample ring fed from driver
//! callbacks, and node-link frames out (see `dagr_protocols::node`). The core itself is the
//! subject of issue 3; today this crate only pins the dependency direction
//! (firmware -> protocols, never host) and proves the protocols crate builds without `alloc`.
#![no_std]
#![forbid(unsafe_code)]

pub use dagr_protocols::node;
