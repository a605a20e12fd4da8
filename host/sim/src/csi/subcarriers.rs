//! Which frequencies a 20 MHz WiFi channel estimate covers, and in which order the two
//! simulated receivers report them.
//!
//! OFDM at 20 MHz: a 64-point FFT, subcarrier `k` (−32..=31) at `f_k = f_c + k · 312.5 kHz`.
//! * ESP32 (`wifi_csi_info_t.buf`, legacy LTF, secondary channel none) stores the 64 FFT
//!   bins as `k = 0..=31` then `k = −32..=−1` (ESP-IDF wifi guide; wire-formats §2.3). The
//!   legacy LTF fills `k = ±1..=±26`; the DC bin (`k = 0`) and the guard bins
//!   (`k = −32..=−27` and `27..=31`) carry no estimate and are reported as 0: 52 used bins.
//! * ESP32 HT40 (`rx_ctrl.cwb` 1, secondary channel above or below, no STBC): the
//!   384-byte buffer is 192 entries, the legacy LTF's 64 then the HT-LTF's 128 (ESP-IDF
//!   wifi guide's table; wire-formats §2.3), indexed on the 40 MHz channel's 128-point
//!   grid `k40` around its centre, which lies 10 MHz (32 subcarriers) above the primary
//!   channel's centre when the secondary is above, below it when below:
//!   - LLTF: the primary 20 MHz channel, `k40 = −64..=−1` (above) or `0..=63` (below),
//!     i.e. primary-relative `k = −32..=31` in order either way (the real capture in
//!     `fixtures/real/esp32_csi` has its DC null at entry 32); `±1..=±26` used.
//!   - HT-LTF: the whole 40 MHz, `k40 = 0..=63` then `−64..=−1`; `±2..=±58` used (114).
//!
//!   See [`ht40_entries`]; [`BufferEntry::offset`] is each entry's frequency in subcarriers
//!   from the primary centre, so the renderer takes every value from the same channel at
//!   its own frequency.
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

/// Entries of an ESP32 HT40 buffer: legacy LTF 64 + HT-LTF 128 (384 bytes).
pub const HT40_ENTRIES: usize = BINS + 2 * BINS;

/// Highest `|k40|` an HT40 HT-LTF fills (`±2..=±58`).
const HT40_EDGE: i32 = 58;

/// Where the secondary 20 MHz channel of an HT40 BSS lies (`rx_ctrl.secondary_channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecondaryChannel {
    /// 20 MHz above the primary (HT40+, as in the real capture).
    #[default]
    Above,
    /// 20 MHz below the primary (HT40−).
    Below,
}

impl SecondaryChannel {
    /// `rx_ctrl.secondary_channel` as the ESP32 reports it: 1 above, 2 below.
    pub fn wire_value(self) -> u8 {
        match self {
            SecondaryChannel::Above => 1,
            SecondaryChannel::Below => 2,
        }
    }

    /// Centre of the 40 MHz channel relative to the primary's, subcarriers (±10 MHz).
    fn centre_offset(self) -> i32 {
        match self {
            SecondaryChannel::Above => 32,
            SecondaryChannel::Below => -32,
        }
    }

    /// Centre of the secondary 20 MHz channel relative to the primary's, subcarriers
    /// (±20 MHz).
    pub fn secondary_offset(self) -> i32 {
        2 * self.centre_offset()
    }
}

/// The channel width the simulated ESP32 receives its access point's frames at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsiBandwidth {
    /// HT20 (`cwb` 0, secondary none, `len` 256, the LLTF's 64 entries printed).
    #[default]
    Ht20,
    /// HT40 (`cwb` 1, `len` 384, all 192 entries printed) with its secondary channel.
    Ht40(SecondaryChannel),
}

/// One entry of an ESP32 CSI buffer: which frequency it holds and whether it carries an
/// estimate (unused entries are reported as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferEntry {
    /// Frequency of the entry, in subcarrier spacings from the primary channel's centre.
    pub offset: i32,
    /// Whether the receiver estimates the channel there.
    pub used: bool,
}

/// The 192 entries of an HT40 buffer in buffer order (see the [module doc](self)).
pub fn ht40_entries(secondary: SecondaryChannel) -> impl Iterator<Item = BufferEntry> {
    let lltf = (0..BINS as i32).map(|i| {
        let k = i - BINS as i32 / 2;
        BufferEntry {
            offset: k,
            used: Occupancy::LegacyLtf.is_used(k),
        }
    });
    let centre = secondary.centre_offset();
    let ht_ltf = (0..2 * BINS as i32).map(move |j| {
        let k40 = if j < BINS as i32 {
            j
        } else {
            j - 2 * BINS as i32
        };
        BufferEntry {
            offset: k40 + centre,
            used: (2..=HT40_EDGE).contains(&k40.abs()),
        }
    });
    lltf.chain(ht_ltf)
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
    fn ht40_buffer_has_the_lltf_of_the_primary_then_114_used_ht_ltf_entries() {
        for secondary in [SecondaryChannel::Above, SecondaryChannel::Below] {
            let entries: Vec<BufferEntry> = ht40_entries(secondary).collect();
            assert_eq!(entries.len() * 2, 384, "{secondary:?}");
            let lltf: Vec<i32> = entries[..BINS].iter().map(|e| e.offset).collect();
            assert_eq!(
                lltf,
                (-32..32).collect::<Vec<_>>(),
                "LLTF in ascending order"
            );
            assert!(!entries[32].used, "DC of the primary at entry 32");
            assert_eq!(entries[..BINS].iter().filter(|e| e.used).count(), 52);
            let ht = &entries[BINS..];
            assert_eq!(ht.iter().filter(|e| e.used).count(), 114);
            let centre = secondary.centre_offset();
            assert_eq!(ht[0].offset, centre, "HT-LTF starts at the 40 MHz centre");
            assert_eq!(ht[64].offset, centre - 64, "then k40 = -64");
            assert!(
                !ht[0].used && !ht[1].used && !ht[127].used,
                "40 MHz DC nulls"
            );
            let used: Vec<i32> = ht.iter().filter(|e| e.used).map(|e| e.offset).collect();
            let (lo, hi) = (*used.iter().min().unwrap(), *used.iter().max().unwrap());
            assert_eq!((lo, hi), (centre - 58, centre + 58), "the 40 MHz band");
        }
        assert_eq!(SecondaryChannel::Above.secondary_offset(), 64);
        assert_eq!(SecondaryChannel::Below.secondary_offset(), -64);
    }

    #[test]
    fn channel_centres_follow_the_2_4_ghz_plan() {
        assert_eq!(carrier_hz(1), 2.412e9);
        assert_eq!(carrier_hz(6), 2.437e9);
        assert_eq!(carrier_hz(14), 2.484e9);
    }
}
