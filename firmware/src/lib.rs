//! dagr-firmware: the portable core of a dagr sensor node.
//!
//! `#![no_std]`, no allocator, no `unsafe`: every buffer is sized at compile time. The core
//! knows the node link protocol (`dagr_protocols::node`, SPEC.md) and nothing about boards;
//! a port supplies a [`Clock`], a [`Link`] and a [`SensorControl`], and the `std` feature
//! supplies all three on a host (`sim`, the `dagr-node-sim` binary).
//!
//! Data flow, one module each:
//!
//! - [`ring`]: driver callback (interrupt) -> lock-free SPSC [`SampleRing`] -> main loop;
//!   a full ring drops and counts, never blocks.
//! - [`sample`]: the [`Sample`] trait and the CSI / radar / RFID samples (const-generic
//!   capacities, checked against the payload bounds at compile time).
//! - [`packetizer`]: samples and control payloads -> frames, per-stream sequence numbers,
//!   one static transmit buffer.
//! - [`receiver`]: bytes from the host -> verified time-sync requests and commands, in one
//!   fixed receive buffer.
//! - [`sensors`]: how commands reach drivers ([`SensorControl`], the atomic
//!   [`Switchboard`]) and the [`RateTicker`] periodic drivers run on.
//! - [`health`]: heartbeat counters and timer.
//! - [`node`]: [`Node::poll`], the main-loop step that ties them together.
//!
//! ```text
//! driver ISR ──push──▶ SampleRing ──pop──▶ Node::poll ──encode_frame──▶ Link ──▶ host
//!                                         ▲   (time-sync responses, acks, heartbeats)
//! host ──▶ UART RX bytes ─────────────────┘
//! ```
//!
//! # RAM footprint
//!
//! Measured with `core::mem::size_of` by the test `ram_footprint_of_the_default_node` on
//! x86-64 (on a 32-bit Cortex-M the few `usize` fields halve, so the figures are upper
//! bounds there). Everything is static: no heap, no hidden buffers.
//!
//! | part | default capacity | bytes |
//! |------|------------------|------:|
//! | [`Node`] core: tx buffer 1054, rx buffer 64, sequence counters, counters | 4 streams | 1 216 |
//! | [`SampleRing`] of [`CsiSample`] (128 subcarriers) | 16 slots (15 samples) | 4 504 |
//! | [`SampleRing`] of [`RadarSample`] (50 points) | 16 slots | 16 408 |
//! | [`SampleRing`] of [`RfidSample`] (4 reads) | 16 slots | 5 528 |
//!
//! A CSI node thus needs 5 720 bytes (5.6 KiB) of RAM for the core and its ring, plus
//! stack for one sample in flight. See firmware/README.md.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "drivers")]
pub mod drivers;
pub mod health;
pub mod node;
pub mod packetizer;
pub mod port;
pub mod receiver;
pub mod ring;
pub mod sample;
pub mod sensors;
#[cfg(feature = "std")]
pub mod sim;
#[cfg(test)]
mod testing;

pub use dagr_protocols::node as protocol;
pub use health::Counters;
pub use node::{Node, NodeConfig, BROADCAST_NODE};
pub use packetizer::{Packetizer, SendError, CONTROL_STREAM};
pub use port::{Clock, Link, LinkError};
pub use receiver::Receiver;
pub use ring::{SampleConsumer, SampleProducer, SampleRing};
pub use sample::{AnySample, CsiSample, RadarSample, RfidSample, Sample};
pub use sensors::{RateTicker, SensorControl, StreamSwitch, Switchboard, ALL_STREAMS};

/// Slots of the default sample ring (holds `DEFAULT_RING_SLOTS - 1` samples).
pub const DEFAULT_RING_SLOTS: usize = 16;

#[cfg(test)]
mod footprint {
    extern crate std;
    use core::mem::size_of;

    use super::*;

    /// A link and a clock with no state, as on a board whose UART and timer are globals.
    struct NoLink;
    impl Link for NoLink {
        fn write(&mut self, bytes: &[u8]) -> Result<usize, LinkError> {
            Ok(bytes.len())
        }
    }
    struct NoClock;
    impl Clock for NoClock {
        fn now_us(&self) -> u64 {
            0
        }
    }

    #[test]
    fn ram_footprint_of_the_default_node() {
        type Core<'a> = Node<NoLink, NoClock, &'a Switchboard<1>>;
        let core = size_of::<Core<'static>>();
        let csi = size_of::<SampleRing<CsiSample, DEFAULT_RING_SLOTS>>();
        let radar = size_of::<SampleRing<RadarSample, DEFAULT_RING_SLOTS>>();
        let rfid = size_of::<SampleRing<RfidSample, DEFAULT_RING_SLOTS>>();
        std::println!("node core {core} B, rings: csi {csi} B, radar {radar} B, rfid {rfid} B");
        // Figures in the crate doc and README; the bounds catch a capacity that grew.
        assert!(core <= 1_280, "node core {core} B");
        assert!(csi <= 4_608, "csi ring {csi} B");
        assert!(radar <= 16_640, "radar ring {radar} B");
        assert!(rfid <= 6_144, "rfid ring {rfid} B");
        assert!(core + csi <= 6 * 1024, "a CSI node in 6 KiB");
    }
}
