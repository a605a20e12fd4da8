//! What a driver hands to the ring: one sample, sized at compile time, that knows which
//! stream it belongs to, when it was captured and how it becomes a node-frame payload.
//!
//! The core is generic over [`Sample`], so a CSI-only node's ring holds only
//! [`CsiSample`]s (no slot is as large as a radar frame) and a multi-sensor node uses
//! [`AnySample`]. Capacities are const generics; each is checked at compile time against
//! what one payload of SPEC.md can carry, so a full sample always encodes.
use dagr_protocols::csi::Iq;
use dagr_protocols::node::radar::MAX_POINTS;
use dagr_protocols::node::rfid::MAX_EPC_LEN;
use dagr_protocols::node::{
    CsiRepr, Modality, PayloadRepr, RadarPoint, RadarRepr, RfidRead, RfidRepr, MAX_PAYLOAD_LEN,
};
use heapless::Vec;

/// Subcarriers of an ESP32 20 MHz HT packet (64 L-LTF + 64 HT-LTF): the default CSI size.
pub const DEFAULT_CSI_SUBCARRIERS: usize = 128;
/// Points of one radar payload (SPEC.md §4.2: 50).
pub const DEFAULT_RADAR_POINTS: usize = MAX_POINTS;
/// Tag reads per RFID sample (one inventory round of a small reader).
pub const DEFAULT_RFID_READS: usize = 4;
/// Most reads that always fit one payload, whatever their EPC lengths (12 at 62 bytes).
pub const MAX_RFID_READS: usize = (MAX_PAYLOAD_LEN - 1) / (18 + MAX_EPC_LEN);

/// A unit of sensor data the packetizer turns into one frame.
pub trait Sample {
    /// Stream id on this node (`0..STREAMS`); sequence numbers are counted per stream.
    fn stream(&self) -> u8;
    /// The stream's modality, written into the frame header.
    fn modality(&self) -> Modality;
    /// Capture time on the node's [`Clock`](crate::Clock), µs.
    fn captured_us(&self) -> u64;
    /// The payload, borrowing the sample's arrays (no copy, no allocation).
    fn payload(&self) -> PayloadRepr<'_>;
}

/// One WiFi CSI packet with up to `N` subcarriers.
#[derive(Debug, Clone, PartialEq)]
pub struct CsiSample<const N: usize = DEFAULT_CSI_SUBCARRIERS> {
    /// Stream id.
    pub stream: u8,
    /// Capture time, node µs.
    pub captured_us: u64,
    /// RSSI, dBm.
    pub rssi: i8,
    /// Noise floor, dBm.
    pub noise_floor: i8,
    /// Primary 802.11 channel.
    pub channel: u8,
    /// Receive antenna index.
    pub antenna: u8,
    /// Bandwidth, MHz.
    pub bandwidth_mhz: u16,
    /// (re, im) per subcarrier, in the radio's order.
    pub iq: Vec<Iq, N>,
}

impl<const N: usize> CsiSample<N> {
    const FITS_ONE_PAYLOAD: () = assert!(N <= dagr_protocols::node::csi::MAX_SUBCARRIERS);

    /// An empty packet (no subcarriers yet) of `stream` captured at `captured_us`.
    pub const fn new(stream: u8, captured_us: u64) -> Self {
        let () = Self::FITS_ONE_PAYLOAD;
        CsiSample {
            stream,
            captured_us,
            rssi: 0,
            noise_floor: 0,
            channel: 0,
            antenna: 0,
            bandwidth_mhz: 20,
            iq: Vec::new(),
        }
    }
}

impl<const N: usize> Sample for CsiSample<N> {
    fn stream(&self) -> u8 {
        self.stream
    }
    fn modality(&self) -> Modality {
        Modality::Wifi
    }
    fn captured_us(&self) -> u64 {
        self.captured_us
    }
    fn payload(&self) -> PayloadRepr<'_> {
        PayloadRepr::Csi(CsiRepr {
            rssi: self.rssi,
            noise_floor: self.noise_floor,
            channel: self.channel,
            antenna: self.antenna,
            bandwidth_mhz: self.bandwidth_mhz,
            iq: &self.iq,
        })
    }
}

/// The points of one radar frame, up to `N` (at most 50, one payload).
#[derive(Debug, Clone, PartialEq)]
pub struct RadarSample<const N: usize = DEFAULT_RADAR_POINTS> {
    /// Stream id.
    pub stream: u8,
    /// Capture time, node µs.
    pub captured_us: u64,
    /// The radar's own frame counter.
    pub frame_number: u32,
    /// Detected points.
    pub points: Vec<RadarPoint, N>,
}

impl<const N: usize> RadarSample<N> {
    const FITS_ONE_PAYLOAD: () = assert!(N <= MAX_POINTS);

    /// A frame with no points yet.
    pub const fn new(stream: u8, captured_us: u64, frame_number: u32) -> Self {
        let () = Self::FITS_ONE_PAYLOAD;
        RadarSample {
            stream,
            captured_us,
            frame_number,
            points: Vec::new(),
        }
    }
}

impl<const N: usize> Sample for RadarSample<N> {
    fn stream(&self) -> u8 {
        self.stream
    }
    fn modality(&self) -> Modality {
        Modality::Mmwave
    }
    fn captured_us(&self) -> u64 {
        self.captured_us
    }
    fn payload(&self) -> PayloadRepr<'_> {
        PayloadRepr::Radar(RadarRepr {
            frame_number: self.frame_number,
            points: &self.points,
        })
    }
}

/// The tag reads of one inventory round, up to `N` (at most 12, so any EPCs fit).
#[derive(Debug, Clone, PartialEq)]
pub struct RfidSample<const N: usize = DEFAULT_RFID_READS> {
    /// Stream id.
    pub stream: u8,
    /// Capture time (end of the round), node µs.
    pub captured_us: u64,
    /// The reads.
    pub reads: Vec<RfidRead, N>,
}

impl<const N: usize> RfidSample<N> {
    const FITS_ONE_PAYLOAD: () = assert!(N <= MAX_RFID_READS);

    /// A round with no reads yet.
    pub const fn new(stream: u8, captured_us: u64) -> Self {
        let () = Self::FITS_ONE_PAYLOAD;
        RfidSample {
            stream,
            captured_us,
            reads: Vec::new(),
        }
    }
}

impl<const N: usize> Sample for RfidSample<N> {
    fn stream(&self) -> u8 {
        self.stream
    }
    fn modality(&self) -> Modality {
        Modality::Rfid
    }
    fn captured_us(&self) -> u64 {
        self.captured_us
    }
    fn payload(&self) -> PayloadRepr<'_> {
        PayloadRepr::Rfid(RfidRepr { reads: &self.reads })
    }
}

/// Any of the three, for a node with several sensors on one ring (a slot is as large as
/// the largest variant).
// A ring slot is as large as its largest sample by design: there is no heap to box into.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum AnySample {
    /// A CSI packet.
    Csi(CsiSample),
    /// A radar frame.
    Radar(RadarSample),
    /// An RFID round.
    Rfid(RfidSample),
}

impl AnySample {
    fn inner(&self) -> &dyn Sample {
        match self {
            AnySample::Csi(s) => s,
            AnySample::Radar(s) => s,
            AnySample::Rfid(s) => s,
        }
    }
}

impl Sample for AnySample {
    fn stream(&self) -> u8 {
        self.inner().stream()
    }
    fn modality(&self) -> Modality {
        self.inner().modality()
    }
    fn captured_us(&self) -> u64 {
        self.inner().captured_us()
    }
    fn payload(&self) -> PayloadRepr<'_> {
        self.inner().payload()
    }
}
