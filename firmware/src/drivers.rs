//! Synthetic sensor drivers: simple, deterministic signals with the shape of the real ones,
//! produced on the same [`RateTicker`] schedule a timer interrupt would keep. They stand in
//! for hardware so the core's whole path runs without sensors: on a host (`dagr-node-sim`)
//! and on an emulated Cortex-M (`firmware/qemu-node`). `no_std` (the `drivers` feature,
//! with `libm` for the trigonometry); the physical simulator (scenes, people, propagation)
//! is a separate part.
use core::f32::consts::TAU;

use dagr_protocols::csi::Iq;
use dagr_protocols::node::{Epc, Modality, RadarPoint, RfidRead};

use crate::sample::{AnySample, CsiSample, RadarSample, RfidSample};
use crate::sensors::{RateTicker, StreamSwitch};

/// Stream id of the synthetic CSI receiver.
pub const CSI_STREAM: u8 = 0;
/// Stream id of the synthetic radar.
pub const RADAR_STREAM: u8 = 1;
/// Stream id of the synthetic RFID reader.
pub const RFID_STREAM: u8 = 2;

/// Subcarriers the synthetic CSI receiver reports (one 20 MHz HT-LTF).
const CSI_SUBCARRIERS: usize = 64;
/// How fast the CSI phase turns, revolutions per second (a slow, visible drift).
const CSI_PHASE_HZ: f32 = 0.2;
/// Points per synthetic radar frame (one person).
const RADAR_POINTS: usize = 8;

/// The three switches of the simulated node: CSI at `csi_rate_mhz`, radar at 20 Hz, RFID
/// rounds at 10 Hz.
pub const fn switches(csi_rate_mhz: u32) -> [StreamSwitch; 3] {
    [
        StreamSwitch::new(CSI_STREAM, Modality::Wifi, csi_rate_mhz, (1_000, 2_000_000)),
        StreamSwitch::new(RADAR_STREAM, Modality::Mmwave, 20_000, (1_000, 50_000)),
        StreamSwitch::new(RFID_STREAM, Modality::Rfid, 10_000, (1_000, 50_000)),
    ]
}

/// CSI of a static channel whose phase rotates slowly, with a linear phase slope across
/// subcarriers (the timing offset every real receiver shows).
#[derive(Debug, Default)]
pub struct CsiGenerator {
    ticker: RateTicker,
}

impl CsiGenerator {
    /// A packet if one is due at `now_us`.
    pub fn poll(&mut self, now_us: u64, switch: &StreamSwitch) -> Option<AnySample> {
        if !switch.is_enabled() || !self.ticker.due(now_us, switch.rate_mhz()) {
            return None;
        }
        let t = now_us as f32 / 1e6;
        let mut sample = CsiSample::new(CSI_STREAM, now_us);
        sample.rssi = -48;
        sample.noise_floor = -95;
        sample.channel = 6;
        for k in 0..CSI_SUBCARRIERS {
            let phase = TAU * CSI_PHASE_HZ * t + 0.05 * k as f32;
            let amplitude = 40.0 + 8.0 * libm::sinf(k as f32 * 0.3);
            let iq = Iq {
                re: (amplitude * libm::cosf(phase)) as i8,
                im: (amplitude * libm::sinf(phase)) as i8,
            };
            // Capacity 128 >= 64: cannot fail.
            let _ = sample.iq.push(iq);
        }
        Some(AnySample::Csi(sample))
    }
}

/// One person walking a 1 m circle 2 m in front of the radar, seen as a small point cloud.
#[derive(Debug, Default)]
pub struct RadarGenerator {
    ticker: RateTicker,
    frame_number: u32,
}

impl RadarGenerator {
    /// A frame if one is due at `now_us`.
    pub fn poll(&mut self, now_us: u64, switch: &StreamSwitch) -> Option<AnySample> {
        if !switch.is_enabled() || !self.ticker.due(now_us, switch.rate_mhz()) {
            return None;
        }
        let angle = TAU * 0.1 * (now_us as f32 / 1e6);
        let (cx, cy) = (libm::cosf(angle), 2.0 + libm::sinf(angle));
        let mut sample = RadarSample::new(RADAR_STREAM, now_us, self.frame_number);
        self.frame_number = self.frame_number.wrapping_add(1);
        for i in 0..RADAR_POINTS {
            let spread = (i as f32 - RADAR_POINTS as f32 / 2.0) * 0.05;
            let point = RadarPoint {
                x: cx + spread,
                y: cy,
                z: 0.2 + 0.2 * i as f32,
                v: 0.63 * libm::cosf(angle),
                snr: 150 + 10 * i as i16,
                noise: 40,
            };
            let _ = sample.points.push(point);
        }
        Some(AnySample::Radar(sample))
    }
}

/// A reader that sees three tags every round, their phase turning as they would on a
/// person's slowly moving wrist.
#[derive(Debug, Default)]
pub struct RfidGenerator {
    ticker: RateTicker,
}

impl RfidGenerator {
    const EPCS: [[u8; 12]; 3] = [
        [
            0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x0A, 0x00, 0x00, 0x00, 0x01,
        ],
        [
            0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x0A, 0x00, 0x00, 0x00, 0x02,
        ],
        [
            0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x0A, 0x00, 0x00, 0x00, 0x03,
        ],
    ];

    /// An inventory round if one is due at `now_us`.
    pub fn poll(&mut self, now_us: u64, switch: &StreamSwitch) -> Option<AnySample> {
        if !switch.is_enabled() || !self.ticker.due(now_us, switch.rate_mhz()) {
            return None;
        }
        let mut sample = RfidSample::new(RFID_STREAM, now_us);
        for (i, epc) in Self::EPCS.iter().enumerate() {
            let turn = (now_us / 1_000 + 700 * i as u64) % 4_096;
            let read = RfidRead {
                antenna: 1,
                peak_rssi_cdbm: -5_500 - 300 * i as i16,
                channel: (now_us / 200_000 % 50) as u16,
                phase: turn as u16,
                doppler: 16 * (i as i16 - 1),
                first_seen_us: now_us,
                epc: Epc::new(epc).expect("12-byte EPC"),
            };
            let _ = sample.reads.push(read);
        }
        Some(AnySample::Rfid(sample))
    }
}
