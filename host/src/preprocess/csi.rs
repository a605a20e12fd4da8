//! Every CSI format the gateway accepts, read onto the WiFi tensor's 30 subcarriers and 3
//! antenna slots: the one place that knows where each format keeps which subcarrier.
//!
//! The tensor's rows are the 802.11 subcarriers `k` of [`PreprocessSpec::wifi_subcarriers`](super::PreprocessSpec::wifi_subcarriers)
//! (by default 30 of the 52 legacy-LTF subcarriers `±1..=±26`, see
//! [`wifi::picked_subcarriers`](super::wifi::picked_subcarriers)). Each format's record
//! gives one or more antennas' complex values at those `k`, each antenna divided by its RMS
//! over the 30 (so a format's own gain and scaling cancel: an AGC step, an Intel 5300's
//! unscaled CSI, an 8-bit ESP32 buffer all give the same numbers for the same channel).
//! An antenna whose 30 values are all zero gives nothing.
//!
//! # ESP32-CSI-Tool and esp-csi (25-column ESP32/S2/S3/C3) rows, node-link CSI
//! One row is one antenna (`rx_ctrl.ant`, slots 0..=2; a higher number is unused) of one
//! packet. Both firmwares print the radio's buffer, which starts with the legacy LTF: 64
//! entries of the primary 20 MHz channel. Its order depends on the secondary channel
//! (ESP-IDF CSI guide, checked on the real ESP32-CSI-Tool capture in
//! `fixtures/real/esp32_csi`, whose DC null sits at entry 32 and guard nulls at 2..=4 and
//! 60..=63):
//! - secondary channel none: `k = 0..=31` then `−32..=−1` (entry `k mod 64`);
//! - secondary above or below (an HT40 BSS, whether the frame is 20 or 40 MHz wide):
//!   `k = −32..=31` in order (entry `k + 32`).
//!
//! Only the legacy LTF is read, so HT20, HT40, STBC and LLTF-only rows (ESP32-CSI-Tool's
//! `SHOULD_COLLECT_ONLY_LLTF`, 128 values whatever `len` says) all map the same way; the
//! HT-LTF blocks after it are ignored. A row with fewer than 64 entries is unused. When an
//! esp-csi row flags `first_word_invalid` (the ESP32's first four buffer bytes are junk),
//! entries 0 and 1 are not trusted: with secondary none they are `k = 0` and `k = 1`, and
//! `k = 1` is interpolated between `k = −1` and `k = 2`; otherwise they are guard bins and
//! nothing changes. (ESP32-CSI-Tool does not print the flag, so its rows are read as
//! printed, exactly as the reference model was trained.) esp-csi rows from C5/C6 chips (15
//! columns) are unused: Espressif publishes no buffer layout for them.
//!
//! A node-link CSI payload is an ESP32-class radio's buffer with its antenna index: at 20
//! MHz it is read in the secondary-none order, at 40 MHz in the HT40 order; other
//! bandwidths are unused.
//!
//! # Intel 5300 bfee records
//! A 5300 NIC (one source) is one link, like an ESP32 receiver. One record is one whole
//! packet: `Nrx` receive chains × `Ntx` streams × 30 subcarriers
//! grouped in pairs over the HT20 band ([`INTEL5300_SUBCARRIERS`], `−28..=28`). Stream 0
//! is read (further streams are other transmit antennas' channels to the same receive
//! antennas). Receive chain `i` fills antenna slot `perm[i]` (the record's `antenna_sel`
//! permutation, as the CSI Tool's `read_bfee` applies it); a permutation that is not one
//! (repeated or out-of-range entries) is ignored and chain `i` fills slot `i`. A tensor
//! subcarrier `k` the 5300 does not report is linearly interpolated between the two
//! reported subcarriers around it (for the default 30: `k = −21` from `−22` and `−20`,
//! and so on; `±1` and the even `k` are reported as such). The per-antenna RMS
//! normalization then gives the same power dB and phase-difference quantities as the
//! ESP32 rows, whatever the NIC's scaling (`get_scaled_csi`'s per-packet factor is common
//! to all antennas and cancels).
use dagr_protocols::csi::esp_csi::ChipRxCtrl;
use dagr_protocols::csi::intel5300::Bfee;
use dagr_protocols::csi::Iq;
use dagr_protocols::node;

use super::{WIFI_ANTENNAS, WIFI_SUBCARRIERS};
use crate::record::Payload;

/// One antenna's 30 tensor subcarriers, divided by their RMS, as (re, im).
pub type Antenna = [(f32, f32); WIFI_SUBCARRIERS];

/// One packet's antennas, by slot (`None`: that antenna gave nothing).
pub type Packet = [Option<Antenna>; WIFI_ANTENNAS];

/// Entries of the legacy LTF at the start of an ESP32 CSI buffer.
pub const LLTF_ENTRIES: usize = 64;

/// Subcarrier indices `k` of an Intel 5300 bfee record at 20 MHz, in record order
/// (802.11n grouping Ng = 2 over `±1..=±28`).
pub const INTEL5300_SUBCARRIERS: [i32; 30] = [
    -28, -26, -24, -22, -20, -18, -16, -14, -12, -10, -8, -6, -4, -2, -1, 1, 3, 5, 7, 9, 11, 13,
    15, 17, 19, 21, 23, 25, 27, 28,
];

/// The order of the legacy-LTF entries in an ESP32 CSI buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LltfOrder {
    /// Secondary channel none: `k = 0..=31`, then `−32..=−1`.
    ZeroFirst,
    /// Secondary channel above or below: `k = −32..=31`.
    Ascending,
}

impl LltfOrder {
    /// The order of a row with `rx_ctrl.secondary_channel` = `secondary` (0 none, 1
    /// above, 2 below).
    pub fn of_secondary_channel(secondary: u8) -> LltfOrder {
        if secondary == 0 {
            LltfOrder::ZeroFirst
        } else {
            LltfOrder::Ascending
        }
    }

    /// The buffer entry holding subcarrier `k` (`−32..=31`).
    pub fn entry(self, k: i32) -> usize {
        match self {
            LltfOrder::ZeroFirst => k.rem_euclid(LLTF_ENTRIES as i32) as usize,
            LltfOrder::Ascending => (k + 32).clamp(0, LLTF_ENTRIES as i32 - 1) as usize,
        }
    }
}

/// The antennas one WiFi record gives at the tensor's `subcarriers`, or `None` when its
/// format or shape has no mapping (see the [module doc](self)).
pub fn read(payload: &Payload, subcarriers: &[i32; WIFI_SUBCARRIERS]) -> Option<Packet> {
    match payload {
        Payload::Esp32Csi(row) => {
            let order = LltfOrder::of_secondary_channel(row.rx_ctrl.secondary_channel);
            esp32_buffer(&row.csi, row.rx_ctrl.ant, order, false, subcarriers)
        }
        Payload::EspCsi(row) => match &row.rx_ctrl {
            ChipRxCtrl::Esp32(rx) => {
                let order = LltfOrder::of_secondary_channel(rx.secondary_channel);
                esp32_buffer(&row.csi, rx.ant, order, row.first_word_invalid, subcarriers)
            }
            ChipRxCtrl::C5C6(_) => None,
        },
        Payload::Intel5300(bfee) => intel5300(bfee, subcarriers),
        Payload::Node(frame) => match &frame.payload {
            node::Payload::Csi(csi) => node_csi(csi, subcarriers),
            _ => None,
        },
        Payload::Radar(_) | Payload::Tag(_) => None,
    }
}

/// One antenna's ESP32 buffer.
fn esp32_buffer(
    csi: &[Iq],
    antenna: u8,
    order: LltfOrder,
    first_word_invalid: bool,
    subcarriers: &[i32; WIFI_SUBCARRIERS],
) -> Option<Packet> {
    let slot = usize::from(antenna);
    if slot >= WIFI_ANTENNAS || csi.len() < LLTF_ENTRIES {
        return None;
    }
    let at = |k: i32| complex(csi[order.entry(k)]);
    let untrusted =
        |k: i32| first_word_invalid && order == LltfOrder::ZeroFirst && order.entry(k) < 2;
    let h = subcarriers.map(|k| {
        if untrusted(k) {
            // Entries 0 and 1 are k = 0, 1 here: bridge them from k = −1 to k = 2.
            lerp(at(-1), at(2), (k + 1) as f32 / 3.0)
        } else {
            at(k)
        }
    });
    normalize(h).map(|a| only(slot, a))
}

/// A node-link CSI payload (an ESP32-class buffer).
fn node_csi(csi: &node::Csi, subcarriers: &[i32; WIFI_SUBCARRIERS]) -> Option<Packet> {
    let order = match csi.bandwidth_mhz {
        20 => LltfOrder::ZeroFirst,
        40 => LltfOrder::Ascending,
        _ => return None,
    };
    esp32_buffer(&csi.iq, csi.antenna, order, false, subcarriers)
}

/// An Intel 5300 record: stream 0, chains permuted onto antenna slots.
fn intel5300(bfee: &Bfee, subcarriers: &[i32; WIFI_SUBCARRIERS]) -> Option<Packet> {
    let chains = usize::from(bfee.nrx).min(WIFI_ANTENNAS);
    let slots = antenna_slots(bfee.perm(), chains);
    let mut packet: Packet = [None; WIFI_ANTENNAS];
    for (chain, &slot) in slots.iter().enumerate().take(chains) {
        let at = |i: usize| complex(bfee.csi_at(0, chain as u8, i).unwrap_or_default());
        packet[slot] = normalize(subcarriers.map(|k| {
            let (i, j, w) = intel_neighbours(k);
            lerp(at(i), at(j), w)
        }));
    }
    packet.iter().any(Option::is_some).then_some(packet)
}

/// Which antenna slot each of `chains` receive chains fills: `perm` when its first
/// `chains` entries are distinct slots, else chain `i` to slot `i`.
pub fn antenna_slots(perm: [u8; 3], chains: usize) -> [usize; 3] {
    let used = &perm[..chains.min(3)];
    let valid = used.iter().all(|&p| usize::from(p) < WIFI_ANTENNAS)
        && (0..used.len()).all(|i| !used[i + 1..].contains(&used[i]));
    if valid {
        perm.map(usize::from)
    } else {
        [0, 1, 2]
    }
}

/// The two Intel 5300 record positions around subcarrier `k` and the weight of the second
/// (0 when `k` is reported; the band edge holds beyond `±28`).
pub fn intel_neighbours(k: i32) -> (usize, usize, f32) {
    let last = INTEL5300_SUBCARRIERS.len() - 1;
    let after = INTEL5300_SUBCARRIERS.partition_point(|&s| s <= k);
    match after {
        0 => (0, 0, 0.0),
        i if i > last => (last, last, 0.0),
        i => {
            let (lo, hi) = (INTEL5300_SUBCARRIERS[i - 1], INTEL5300_SUBCARRIERS[i]);
            (i - 1, i, (k - lo) as f32 / (hi - lo) as f32)
        }
    }
}

/// A packet holding one antenna.
fn only(slot: usize, antenna: Antenna) -> Packet {
    let mut packet: Packet = [None; WIFI_ANTENNAS];
    packet[slot] = Some(antenna);
    packet
}

fn complex(iq: Iq) -> (f32, f32) {
    (f32::from(iq.re), f32::from(iq.im))
}

/// `a + (b − a)·w`, exactly `a` at `w = 0`.
fn lerp(a: (f32, f32), b: (f32, f32), w: f32) -> (f32, f32) {
    if w == 0.0 {
        return a;
    }
    (a.0 + (b.0 - a.0) * w, a.1 + (b.1 - a.1) * w)
}

/// `h` divided by its RMS; `None` when it is all zero.
pub fn normalize(h: Antenna) -> Option<Antenna> {
    let power = h.iter().map(|(r, i)| r * r + i * i).sum::<f32>() / WIFI_SUBCARRIERS as f32;
    let rms = power.sqrt();
    (rms > 0.0).then(|| h.map(|(r, i)| (r / rms, i / rms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lltf_entries_follow_the_secondary_channel() {
        let zero_first = LltfOrder::of_secondary_channel(0);
        assert_eq!(zero_first, LltfOrder::ZeroFirst);
        assert_eq!(
            [-26, -1, 1, 26].map(|k| zero_first.entry(k)),
            [38, 63, 1, 26]
        );
        for secondary in [1, 2] {
            let ascending = LltfOrder::of_secondary_channel(secondary);
            assert_eq!(
                [-26, -1, 1, 26].map(|k| ascending.entry(k)),
                [6, 31, 33, 58]
            );
        }
    }

    #[test]
    fn intel_subcarriers_are_read_or_interpolated_between_neighbours() {
        assert_eq!(intel_neighbours(-28), (0, 1, 0.0));
        assert_eq!(intel_neighbours(-22), (3, 4, 0.0));
        assert_eq!(intel_neighbours(-21), (3, 4, 0.5));
        assert_eq!(intel_neighbours(1), (15, 16, 0.0));
        assert_eq!(intel_neighbours(8), (18, 19, 0.5));
        assert_eq!(intel_neighbours(28), (29, 29, 0.0));
        assert_eq!(intel_neighbours(-32), (0, 0, 0.0), "the band edge holds");
    }

    #[test]
    fn a_valid_permutation_places_chains_and_a_broken_one_is_ignored() {
        assert_eq!(antenna_slots([2, 0, 1], 3), [2, 0, 1]);
        assert_eq!(antenna_slots([1, 0, 3], 2)[..2], [1, 0], "chain 2 unused");
        assert_eq!(antenna_slots([1, 1, 0], 3), [0, 1, 2], "repeated");
        assert_eq!(antenna_slots([3, 0, 1], 3), [0, 1, 2], "out of range");
    }

    #[test]
    fn normalization_cancels_a_gain_change_and_keeps_the_phase() {
        let h =
            |gain: f32| -> Antenna { std::array::from_fn(|s| (gain * (1 + s % 5) as f32, gain)) };
        let (low, high) = (normalize(h(2.0)).unwrap(), normalize(h(6.0)).unwrap());
        for (l, h) in low.iter().zip(&high) {
            assert!((l.0 - h.0).abs() < 1e-5 && (l.1 - h.1).abs() < 1e-5);
        }
        assert!(normalize([(0.0, 0.0); WIFI_SUBCARRIERS]).is_none());
    }

    #[test]
    fn rows_without_a_mapping_give_nothing() {
        let picks = super::super::wifi::picked_subcarriers();
        let short = node::Csi {
            rssi: -40,
            noise_floor: -90,
            channel: 6,
            antenna: 0,
            bandwidth_mhz: 20,
            iq: vec![Iq { re: 5, im: 5 }; 63],
        };
        let frame = |csi: node::Csi| {
            Payload::Node(node::Frame {
                header: node::HeaderRepr::new(1, 0, node::Modality::Wifi, 0, 0),
                payload: node::Payload::Csi(csi),
            })
        };
        assert!(read(&frame(short.clone()), &picks).is_none(), "63 entries");
        let wide = node::Csi {
            bandwidth_mhz: 80,
            iq: vec![Iq { re: 5, im: 5 }; 256],
            ..short.clone()
        };
        assert!(read(&frame(wide), &picks).is_none(), "80 MHz");
        let fourth = node::Csi {
            antenna: 3,
            iq: vec![Iq { re: 5, im: 5 }; 64],
            ..short
        };
        assert!(read(&frame(fourth), &picks).is_none(), "antenna 3");
    }
}
