//! The TLVs a real device sends besides its points, so simulated frames have the same shape
//! and size as recorded ones: the range profile (TLV 2), processing statistics (TLV 6) and
//! temperatures (TLV 9), plus the header's CPU cycle counter.
//!
//! Calibrated on the real SDK 3.4 xwr16xx recording (`shared/fixtures/real/ti_mmwave`):
//! range-profile floor ≈ 2000 in Q9 log2 units rising to ≈ 4500 at the first bins; 200 MHz
//! CPU cycle counter; transmit time = packet bits at 921600 baud plus a fixed overhead; the
//! chip temperatures of that recording.
use dagr_protocols::ti_mmwave::{Stats, TemperatureStats};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

use super::config::RadarConfig;
use super::detect::Return;

/// The R4F's clock: `timeCpuCycles` ticks per second.
const CPU_HZ: f64 = 200e6;
/// Data-port baud rate.
const UART_BAUD: f64 = 921_600.0;
/// Range-profile noise floor far from the radar, log2 magnitude.
const PROFILE_FLOOR_LOG2: f64 = 4.0;
/// Rise of the range-profile floor at zero range from TX-RX leakage, log2 magnitude.
const PROFILE_LEAKAGE_LOG2: f64 = 5.0;
/// Q9: 2⁹ counts per log2 unit.
const Q9: f64 = 512.0;
/// Time spent chirping per frame, µs (not available to processing).
const ACTIVE_FRAME_US: u32 = 7_300;
/// Fixed part of the inter-frame processing time, µs, and its part per detected point.
const PROCESSING_BASE_US: u32 = 3_900;
const PROCESSING_PER_POINT_US: u32 = 60;
/// UART driver overhead on top of the bits on the wire, µs.
const TRANSMIT_OVERHEAD_US: u32 = 350;
/// Chip temperatures of the real recording, °C (rx0..3, tx0..2, pm, dig0, dig1).
const TEMPERATURES_C: [i16; 10] = [46, 45, 46, 46, 48, 48, 49, 49, 46, 45];
/// Milliseconds the device had been up when the simulated run starts.
const BOOT_MS: f64 = 5_000.0;

/// `timeCpuCycles` at time `t` (wraps like the 32-bit counter).
pub(super) fn cpu_cycles(t: f64) -> u32 {
    let cycles = (t.max(0.0) * CPU_HZ) as u64;
    (cycles & u64::from(u32::MAX)) as u32
}

/// TLV 2: per range bin, Q9 log2 of the magnitude at zero Doppler: noise (floor, leakage,
/// exponential power fluctuation) plus the mean power of the zero-Doppler cells there.
pub(super) fn range_profile(
    config: &RadarConfig,
    merged: &[Return],
    rng: &mut ChaCha8Rng,
) -> Vec<u16> {
    let bins = usize::from(config.num_range_bins);
    let mut power = vec![0.0f64; bins];
    for r in merged.iter().filter(|r| r.cell.doppler == 0) {
        if let Some(p) = power.get_mut(usize::from(r.cell.range)) {
            *p += r.snr;
        }
    }
    power
        .iter()
        .enumerate()
        .map(|(i, signal)| {
            let range = i as f64 * config.range_resolution_m;
            let floor = PROFILE_FLOOR_LOG2
                + PROFILE_LEAKAGE_LOG2 * (-range / config.near_range_scale_m).exp();
            let noise: f64 = Exp1.sample(rng);
            let log2 = floor + 0.5 * (noise + signal).max(1e-6).log2();
            (log2 * Q9).round().clamp(0.0, f64::from(u16::MAX)) as u16
        })
        .collect()
}

/// TLV 6 for a frame of `points` detections and `packet_len` bytes.
pub(super) fn stats(config: &RadarConfig, points: usize, packet_len: usize) -> Stats {
    let period_us = (config.frame_period_s() * 1e6) as u32;
    let processing = PROCESSING_BASE_US + PROCESSING_PER_POINT_US * points as u32;
    let transmit = (packet_len as f64 * 10.0 / UART_BAUD * 1e6) as u32 + TRANSMIT_OVERHEAD_US;
    let busy = ACTIVE_FRAME_US + processing + transmit;
    Stats {
        inter_frame_processing_time: processing,
        transmit_output_time: transmit,
        inter_frame_processing_margin: period_us.saturating_sub(busy),
        inter_chirp_processing_margin: 471,
        active_frame_cpu_load: 4,
        inter_frame_cpu_load: (u64::from(processing) * 100 / u64::from(period_us.max(1))) as u32
            + 1,
    }
}

/// TLV 9 at time `t`.
pub(super) fn temperature(t: f64) -> TemperatureStats {
    TemperatureStats {
        temp_report_valid: 0,
        time_ms: (BOOT_MS + t.max(0.0) * 1000.0) as u32,
        sensors: TEMPERATURES_C,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cpu_cycles_count_at_200_mhz_and_wrap() {
        assert_eq!(cpu_cycles(0.05), 10_000_000);
        assert_eq!(cpu_cycles(30.0), (6_000_000_000u64 & 0xffff_ffff) as u32);
        assert_eq!(cpu_cycles(-1.0), 0);
    }

    #[test]
    fn empty_range_profile_sits_near_the_real_floor() {
        let c = RadarConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let profile = range_profile(&c, &[], &mut rng);
        assert_eq!(profile.len(), 256);
        let far: f64 = profile[100..].iter().map(|&v| f64::from(v)).sum::<f64>() / 156.0;
        assert!((1500.0..2300.0).contains(&far), "{far}");
        let near: f64 = profile[..4].iter().map(|&v| f64::from(v)).sum::<f64>() / 4.0;
        assert!(near > far + 1000.0, "near {near} far {far}");
    }

    #[test]
    fn transmit_time_follows_packet_length() {
        let c = RadarConfig::default();
        let s = stats(&c, 4, 736);
        // 736 bytes · 10 bits / 921600 baud = 7986 µs, as in the real recording (8342 µs).
        assert_eq!(s.transmit_output_time, 7986 + 350);
        assert!(s.inter_frame_processing_margin > 0);
    }
}
