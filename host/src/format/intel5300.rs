//! Intel 5300 CSI Tool bfee records: a WiFi record on the NIC's wrapping 1 MHz clock.
//!
//! The JSON object is the one DESIGN.md fixes; `csi` is nested `[tx][rx][subcarrier]`
//! arrays of `[re, im]` pairs, in the NIC's chain order (the `perm` is reported, not
//! applied).
//!
//! Record: a 5300 NIC (one source) is one link, like an ESP32 receiver, and one record is
//! one whole packet: `Nrx` receive chains × `Ntx` streams × 30 subcarriers grouped in pairs
//! over the HT20 band ([`INTEL5300_SUBCARRIERS`], `−28..=28`). Stream 0 is read (further
//! streams are other transmit antennas' channels to the same receive antennas). Receive
//! chain `i` is antenna `perm[i]` (the record's `antenna_sel` permutation, as the CSI
//! Tool's `read_bfee` applies it); a permutation that is not one (repeated or out-of-range
//! entries) is ignored and chain `i` is antenna `i`. A subcarrier the 5300 does not report
//! is interpolated by the WiFi preprocessor between the two reported around it (for the
//! default 30: `k = −21` from `−22` and `−20`, and so on; `±1` and the even `k` are
//! reported as such); `get_scaled_csi`'s per-packet factor is common to all antennas and
//! cancels in its per-antenna normalization.
use std::sync::Arc;

use dagr_protocols::csi::intel5300::{Bfee, SUBCARRIERS};
use serde::ser::{Serialize, Serializer};

use super::json;
use super::{Decoded, Unit};
use crate::record::{CsiAntenna, CsiPacket, DeviceTime, Modality, Payload, SubcarrierLayout};

/// Subcarrier indices `k` of a bfee record at 20 MHz, in record order (802.11n grouping
/// Ng = 2 over `±1..=±28`).
pub const INTEL5300_SUBCARRIERS: [i32; SUBCARRIERS] = [
    -28, -26, -24, -22, -20, -18, -16, -14, -12, -10, -8, -6, -4, -2, -1, 1, 3, 5, 7, 9, 11, 13,
    15, 17, 19, 21, 23, 25, 27, 28,
];

/// Receive antennas of a 5300 NIC.
const ANTENNAS: usize = 3;

/// One chain's 30 values in record order.
static LAYOUT: SubcarrierLayout = SubcarrierLayout {
    k: &INTEL5300_SUBCARRIERS,
    entry: &{
        let mut entry = [0u16; SUBCARRIERS];
        let mut i = 0;
        while i < SUBCARRIERS {
            entry[i] = i as u16;
            i += 1;
        }
        entry
    },
};

/// Which antenna each of `chains` receive chains is: `perm` when its first `chains`
/// entries are distinct antennas, else chain `i` is antenna `i`.
fn antenna_slots(perm: [u8; 3], chains: usize) -> [u8; 3] {
    let used = &perm[..chains.min(3)];
    let valid = used.iter().all(|&p| usize::from(p) < ANTENNAS)
        && (0..used.len()).all(|i| !used[i + 1..].contains(&used[i]));
    if valid {
        perm
    } else {
        [0, 1, 2]
    }
}

/// The WiFi payload of a record: stream 0's chains (stored first, chain after chain) on
/// their antennas.
fn payload(bfee: Bfee) -> Payload {
    let chains = usize::from(bfee.nrx).min(ANTENNAS);
    let slots = antenna_slots(bfee.perm(), chains);
    let antennas = (0..chains)
        .map(|chain| CsiAntenna {
            antenna: slots[chain],
            offset: chain * SUBCARRIERS,
        })
        .collect();
    Payload::Csi(CsiPacket {
        layout: &LAYOUT,
        values: bfee.csi,
        antennas,
    })
}

/// The JSON object of one record.
#[derive(serde::Serialize)]
struct BfeeJson<'a> {
    timestamp_low: u32,
    bfee_count: u16,
    nrx: u8,
    ntx: u8,
    rssi_a: u8,
    rssi_b: u8,
    rssi_c: u8,
    noise: i8,
    agc: u8,
    rate: u16,
    perm: [u8; 3],
    csi: Streams<'a>,
}

/// `csi` as `[tx][rx][subcarrier] -> [re, im]`.
struct Streams<'a>(&'a Bfee);

/// One transmit stream: `[rx][subcarrier] -> [re, im]`.
struct Chains<'a>(&'a Bfee, u8);

/// One chain of one stream: `[subcarrier] -> [re, im]`.
struct Subcarriers<'a>(&'a Bfee, u8, u8);

impl Serialize for Streams<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((0..self.0.ntx).map(|tx| Chains(self.0, tx)))
    }
}

impl Serialize for Chains<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((0..self.0.nrx).map(|rx| Subcarriers(self.0, self.1, rx)))
    }
}

impl Serialize for Subcarriers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Subcarriers(bfee, tx, rx) = *self;
        serializer.collect_seq((0..SUBCARRIERS).map(|s| {
            let iq = bfee.csi_at(tx, rx, s).unwrap_or_default();
            (iq.re, iq.im)
        }))
    }
}

impl Unit for Bfee {
    fn into_decoded(self, source: &Arc<str>, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        let time = DeviceTime::MicrosU32(self.timestamp_low);
        sink(Decoded::record(
            source,
            Modality::Wifi,
            time,
            arrival_ns,
            payload(self),
        ));
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        json::write(
            out,
            &BfeeJson {
                timestamp_low: self.timestamp_low,
                bfee_count: self.bfee_count,
                nrx: self.nrx,
                ntx: self.ntx,
                rssi_a: self.rssi_a,
                rssi_b: self.rssi_b,
                rssi_c: self.rssi_c,
                noise: self.noise,
                agc: self.agc,
                rate: self.rate,
                perm: self.perm(),
                csi: Streams(self),
            },
        )
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagr_protocols::csi::Iq;
    use serde_json::json;

    fn sample_bfee() -> Bfee {
        let (nrx, ntx) = (2u8, 3u8);
        let csi = (0..usize::from(nrx) * usize::from(ntx) * SUBCARRIERS)
            .map(|i| Iq {
                re: (i % 100) as i8,
                im: -((i % 50) as i8),
            })
            .collect();
        Bfee {
            timestamp_low: 123_456,
            bfee_count: 9,
            nrx,
            ntx,
            rssi_a: 40,
            rssi_b: 41,
            rssi_c: 0,
            noise: -95,
            agc: 37,
            antenna_sel: 0b00_10_01,
            rate: 0x4111,
            csi,
        }
    }

    #[test]
    fn json_nests_csi_as_tx_rx_subcarrier_pairs() {
        let bfee = sample_bfee();
        let v = bfee.to_json();
        assert_eq!(v["perm"], json!([1, 2, 0]));
        assert_eq!(v["noise"], json!(-95));
        let csi = v["csi"].as_array().unwrap();
        assert_eq!(csi.len(), 3, "ntx");
        assert_eq!(csi[0].as_array().unwrap().len(), 2, "nrx");
        assert_eq!(csi[0][0].as_array().unwrap().len(), SUBCARRIERS);
        // tx 2, rx 1, subcarrier 4 is flat index (2 * 2 + 1) * 30 + 4 = 154
        assert_eq!(csi[2][1][4], json!([54, -4]));
    }

    #[test]
    fn a_valid_permutation_places_chains_and_a_broken_one_is_ignored() {
        assert_eq!(antenna_slots([2, 0, 1], 3), [2, 0, 1]);
        assert_eq!(antenna_slots([1, 0, 3], 2)[..2], [1, 0], "chain 2 unused");
        assert_eq!(antenna_slots([1, 1, 0], 3), [0, 1, 2], "repeated");
        assert_eq!(antenna_slots([3, 0, 1], 3), [0, 1, 2], "out of range");
    }

    #[test]
    fn stream_0s_chains_are_antennas_at_their_permuted_slots() {
        let bfee = sample_bfee();
        let Payload::Csi(packet) = payload(bfee.clone()) else {
            panic!("a CSI payload")
        };
        // antenna_sel 0b00_10_01: chain 0 is antenna 1, chain 1 antenna 2.
        let antennas: Vec<(u8, usize)> = packet
            .antennas
            .iter()
            .map(|a| (a.antenna, a.offset))
            .collect();
        assert_eq!(antennas, [(1, 0), (2, SUBCARRIERS)]);
        for (chain, antenna) in packet.antennas.iter().enumerate() {
            let values = packet.values_of(antenna).unwrap();
            for (s, &k) in INTEL5300_SUBCARRIERS.iter().enumerate() {
                let (i, _, w) = LAYOUT.neighbours(k);
                assert_eq!(w, 0.0, "k = {k} is reported");
                let at = values[usize::from(LAYOUT.entry[i])];
                assert_eq!(
                    Some(at),
                    bfee.csi_at(0, chain as u8, s),
                    "chain {chain}, k = {k}"
                );
            }
        }
        assert_eq!(LAYOUT.neighbours(-21), (3, 4, 0.5));
        assert_eq!(LAYOUT.neighbours(8), (18, 19, 0.5));
    }

    #[test]
    fn summary_is_one_line_with_shape_and_count() {
        let s = sample_bfee().summary();
        assert!(!s.contains('\n'));
        assert!(s.contains("bfee #9"), "{s}");
        assert!(s.contains("2x3"), "{s}");
    }
}
