//! Intel 5300 CSI Tool bfee records: a WiFi record on the NIC's wrapping 1 MHz clock.
//!
//! The JSON object is the one DESIGN.md fixes; `csi` is nested `[tx][rx][subcarrier]`
//! arrays of `[re, im]` pairs, in the NIC's chain order (the `perm` is reported, not
//! applied).
use std::sync::Arc;

use dagr_protocols::csi::intel5300::{Bfee, SUBCARRIERS};
use serde::ser::{Serialize, Serializer};

use super::json;
use super::{Decoded, Unit};
use crate::record::{DeviceTime, Modality, Payload};

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
            Payload::Intel5300(self),
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
    fn summary_is_one_line_with_shape_and_count() {
        let s = sample_bfee().summary();
        assert!(!s.contains('\n'));
        assert!(s.contains("bfee #9"), "{s}");
        assert!(s.contains("2x3"), "{s}");
    }
}
