//! Where an ESP32-class radio's CSI buffer keeps which subcarrier: shared by the formats
//! that print or send that buffer (ESP32-CSI-Tool and esp-csi rows, node-link CSI).
//!
//! Both firmwares print the radio's buffer, which starts with the legacy LTF: 64 entries
//! of the primary 20 MHz channel. Its order depends on the secondary channel (ESP-IDF CSI
//! guide, checked on the real ESP32-CSI-Tool capture in `fixtures/real/esp32_csi`, whose DC
//! null sits at entry 32 and guard nulls at 2..=4 and 60..=63):
//! - secondary channel none: `k = 0..=31` then `−32..=−1` (entry `k mod 64`);
//! - secondary above or below (an HT40 BSS, whether the frame is 20 or 40 MHz wide):
//!   `k = −32..=31` in order (entry `k + 32`).
//!
//! Only the legacy LTF is read, so HT20, HT40, STBC and LLTF-only rows (ESP32-CSI-Tool's
//! `SHOULD_COLLECT_ONLY_LLTF`, 128 values whatever `len` says) all map the same way; the
//! HT-LTF blocks after it are ignored, and a buffer of fewer than 64 entries gives nothing.
//! When an esp-csi row flags `first_word_invalid` (the ESP32's first four buffer bytes are
//! junk), entries 0 and 1 are not trusted: with secondary none they are `k = 0` and
//! `k = 1`, left out of the layout, so `k = 1` is interpolated between `k = −1` and
//! `k = 2`; otherwise they are guard bins and nothing changes. (ESP32-CSI-Tool does not
//! print the flag, so its rows are read as printed, exactly as the reference model was
//! trained.)
use dagr_protocols::csi::Iq;

use crate::record::{CsiAntenna, CsiPacket, Payload, SubcarrierLayout};

/// Entries of the legacy LTF at the start of an ESP32 CSI buffer.
pub const LLTF_ENTRIES: usize = 64;

/// `k = −32..=31` without `skip` (`−32..=31` when `skip` is outside it), ascending.
const fn lltf_k<const N: usize>(skip: [i32; 2]) -> [i32; N] {
    let mut out = [0; N];
    let (mut k, mut i) = (-32, 0);
    while k < 32 {
        if k != skip[0] && k != skip[1] {
            out[i] = k;
            i += 1;
        }
        k += 1;
    }
    out
}

/// The entries of `k` in the secondary-none order (`k mod 64`).
const fn zero_first_entries<const N: usize>(k: [i32; N]) -> [u16; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = k[i].rem_euclid(LLTF_ENTRIES as i32) as u16;
        i += 1;
    }
    out
}

/// The entries of `k` in the HT40 order (`k + 32`).
const fn ascending_entries<const N: usize>(k: [i32; N]) -> [u16; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = (k[i] + 32) as u16;
        i += 1;
    }
    out
}

const ALL_K: [i32; 64] = lltf_k([i32::MAX, i32::MAX]);
const TRUSTED_K: [i32; 62] = lltf_k([0, 1]);

/// Secondary channel none: `k = 0..=31` then `−32..=−1`.
pub static ZERO_FIRST: SubcarrierLayout = SubcarrierLayout {
    k: &ALL_K,
    entry: &zero_first_entries(ALL_K),
};

/// Secondary channel none with entries 0 and 1 (`k = 0`, `k = 1`) not trusted.
pub static ZERO_FIRST_FIRST_WORD_INVALID: SubcarrierLayout = SubcarrierLayout {
    k: &TRUSTED_K,
    entry: &zero_first_entries(TRUSTED_K),
};

/// Secondary channel above or below: `k = −32..=31` in order.
pub static ASCENDING: SubcarrierLayout = SubcarrierLayout {
    k: &ALL_K,
    entry: &ascending_entries(ALL_K),
};

/// The layout of a buffer printed with `rx_ctrl.secondary_channel` = `secondary` (0 none,
/// 1 above, 2 below).
pub fn of_secondary_channel(secondary: u8, first_word_invalid: bool) -> &'static SubcarrierLayout {
    match (secondary, first_word_invalid) {
        (0, false) => &ZERO_FIRST,
        (0, true) => &ZERO_FIRST_FIRST_WORD_INVALID,
        _ => &ASCENDING,
    }
}

/// The WiFi payload of one antenna's buffer.
pub fn payload(csi: Vec<Iq>, antenna: u8, layout: &'static SubcarrierLayout) -> Payload {
    Payload::Csi(CsiPacket {
        layout,
        values: csi,
        antennas: vec![CsiAntenna { antenna, offset: 0 }],
    })
}

/// The WiFi payload of a buffer whose layout is unknown (a chip or bandwidth Espressif
/// documents none for): kept, but with no antenna the WiFi tensor can read, so the record
/// is counted unused rather than read wrongly.
pub fn without_layout(csi: Vec<Iq>) -> Payload {
    Payload::Csi(CsiPacket {
        layout: &ZERO_FIRST,
        values: csi,
        antennas: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffer entry of subcarrier `k` in `layout`.
    fn entry(layout: &SubcarrierLayout, k: i32) -> u16 {
        let (i, _, w) = layout.neighbours(k);
        assert_eq!((layout.k[i], w), (k, 0.0), "k = {k} is reported");
        layout.entry[i]
    }

    #[test]
    fn lltf_entries_follow_the_secondary_channel() {
        let zero_first = of_secondary_channel(0, false);
        assert_eq!(
            [-26, -1, 1, 26].map(|k| entry(zero_first, k)),
            [38, 63, 1, 26]
        );
        for secondary in [1, 2] {
            let ascending = of_secondary_channel(secondary, false);
            assert_eq!(
                [-26, -1, 1, 26].map(|k| entry(ascending, k)),
                [6, 31, 33, 58]
            );
            assert_eq!(
                of_secondary_channel(secondary, true),
                ascending,
                "guard bins"
            );
        }
        for layout in [&ZERO_FIRST, &ASCENDING, &ZERO_FIRST_FIRST_WORD_INVALID] {
            assert_eq!(layout.span(), LLTF_ENTRIES);
        }
    }

    #[test]
    fn an_untrusted_first_word_bridges_k_0_and_1_from_k_minus_1_and_2() {
        let layout = of_secondary_channel(0, true);
        let (i, j, w) = layout.neighbours(1);
        assert_eq!((layout.k[i], layout.k[j], w), (-1, 2, 2.0 / 3.0));
        assert_eq!((layout.entry[i], layout.entry[j]), (63, 2));
        assert_eq!(layout.neighbours(0).2, 1.0 / 3.0);
        assert_eq!(entry(layout, -1), 63);
    }
}
