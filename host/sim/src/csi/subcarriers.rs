//! Which frequencies a 20 MHz WiFi channel estimate covers, and in which order the two
//! simulated receivers report them.
//!
//! OFDM at 20 MHz: a 64-point FFT, subcarrier `k` (−32..=31) at `f_k = f_c + k · 312.5 kHz`.
//! * ESP32 (`wifi_csi_info_t.buf`, legacy LTF, secondary channel none) stores the 64 FFT
//!   bins as `k = 0..=31` then `k = −32..=−1` (ESP-IDF wifi guide; wire-formats §2.3). The
//!   legacy LTF fills `k = ±1..=±26`; the DC bin (`k = 0`) and the guard bins
//!   (`k = −32..=−27` and `27..=31`) carry no estimate and are reported as 0: 52 used bins.
//! * Intel 5300 (HT20) reports 30 of the 56 HT subcarriers `±1..=±28`, grouped by 2:
//!   [`INTEL5300_SUBCARRIERS`] (802.11n grouping Ng = 2, as in the CSI Tool's papers).

/// Spacing between OFDM subcarriers, Hz (20 MHz / 64).
pub const SPACING_HZ: f64 = 312_500.0;

/// FFT bins of a 20 MHz channel estimate (ESP32 buffer entries).
pub const BINS: usize = 64;

/// Subcarrier indices of an Intel 5300 bfee record at 20 MHz, in record order.
pub const INTEL5300_SUBCARRIERS: [i32; 30] = [
    -28, -26, -24, -22, -20, -18, -16, -14, -12, -10, -8, -6, -4, -2, -1, 1, 3, 5, 7, 9, 11, 13,
    15, 17, 19, 21, 23, 25, 27, 28,
];

/// Centre frequency of a 2.4 GHz WiFi channel, Hz: `2407 + 5·ch` MHz (channel 14: 2484).
pub fn carrier_hz(channel: u8) -> f64 {
    let mhz = if channel == 14 {
        2484.0
    } else {
        2407.0 + 5.0 * f64::from(channel)
    };
    mhz * 1e6
}

/// The subcarrier index `k` held at ESP32 buffer position `bin` (0..64): `0..=31` then
/// `−32..=−1`.
pub fn subcarrier_of_bin(bin: usize) -> i32 {
    let bin = (bin % BINS) as i32;
    if bin < 32 {
        bin
    } else {
        bin - BINS as i32
    }
}

/// The ESP32 buffer position of subcarrier `k` (−32..=31).
pub fn bin_of_subcarrier(k: i32) -> usize {
    k.rem_euclid(BINS as i32) as usize
}

/// Which subcarriers a receiver's channel estimate covers; the others it reports as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupancy {
    /// Legacy long training field (what ESP32-CSI-Tool prints): `±1..=±26`.
    LegacyLtf,
    /// HT20 long training field (what the Intel 5300 groups): `±1..=±28`.
    Ht20,
}

impl Occupancy {
    /// Whether subcarrier `k` carries a channel estimate.
    pub fn is_used(self, k: i32) -> bool {
        let edge = match self {
            Occupancy::LegacyLtf => 26,
            Occupancy::Ht20 => 28,
        };
        k != 0 && k.abs() <= edge
    }

    /// Whether ESP32 buffer position `bin` carries a channel estimate.
    pub fn bin_is_used(self, bin: usize) -> bool {
        self.is_used(subcarrier_of_bin(bin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esp32_buffer_order_is_0_to_31_then_minus_32_to_minus_1() {
        let order: Vec<i32> = (0..BINS).map(subcarrier_of_bin).collect();
        let expected: Vec<i32> = (0..32).chain(-32..0).collect();
        assert_eq!(order, expected);
        assert!((0..BINS).all(|b| bin_of_subcarrier(subcarrier_of_bin(b)) == b));
    }

    #[test]
    fn legacy_ltf_uses_52_bins_without_dc_and_guards() {
        let used: Vec<usize> = (0..BINS)
            .filter(|&b| Occupancy::LegacyLtf.bin_is_used(b))
            .collect();
        assert_eq!(used.len(), 52);
        assert!(!used.contains(&0), "DC");
        assert!(!used.contains(&27) && !used.contains(&37), "guards");
        assert!(used.contains(&26) && used.contains(&38));
    }

    #[test]
    fn intel_subcarriers_are_30_distinct_used_ht20_subcarriers() {
        let mut k = INTEL5300_SUBCARRIERS.to_vec();
        k.dedup();
        assert_eq!(k.len(), 30);
        assert!(k.iter().all(|&k| Occupancy::Ht20.is_used(k)));
        assert!(k.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn channel_centres_follow_the_2_4_ghz_plan() {
        assert_eq!(carrier_hz(1), 2.412e9);
        assert_eq!(carrier_hz(6), 2.437e9);
        assert_eq!(carrier_hz(14), 2.484e9);
    }
}
