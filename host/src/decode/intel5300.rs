//! How `dagr decode --format intel5300` shows Intel 5300 CSI Tool bfee records.
//!
//! The JSON object is the one DESIGN.md fixes; `csi` is nested `[tx][rx][subcarrier]`
//! arrays of `[re, im]` pairs, in the NIC's chain order (the `perm` is reported, not applied).
use std::io::{Read, Write};

use dagr_protocols::csi::intel5300::{Bfee, BfeeDecoder, SUBCARRIERS};
use serde_json::{json, Value};

use super::{DecodeReport, ShowRecord};

/// Decodes `input` as a `.dat` byte stream and prints its bfee records.
pub fn decode(
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<DecodeReport> {
    super::run(BfeeDecoder::new(), input, json, out)
}

/// `csi` as `[tx][rx][subcarrier] -> [re, im]` nested arrays.
fn csi_json(bfee: &Bfee) -> Value {
    let streams: Vec<Value> = (0..bfee.ntx)
        .map(|tx| {
            let chains: Vec<Value> = (0..bfee.nrx)
                .map(|rx| {
                    let samples: Vec<Value> = (0..SUBCARRIERS)
                        .map(|s| {
                            let iq = bfee.csi_at(tx, rx, s).unwrap_or_default();
                            json!([iq.re, iq.im])
                        })
                        .collect();
                    Value::Array(samples)
                })
                .collect();
            Value::Array(chains)
        })
        .collect();
    Value::Array(streams)
}

impl ShowRecord for Bfee {
    fn to_json(&self) -> Value {
        json!({
            "timestamp_low": self.timestamp_low,
            "bfee_count": self.bfee_count,
            "nrx": self.nrx,
            "ntx": self.ntx,
            "rssi_a": self.rssi_a,
            "rssi_b": self.rssi_b,
            "rssi_c": self.rssi_c,
            "noise": self.noise,
            "agc": self.agc,
            "rate": self.rate,
            "perm": self.perm(),
            "csi": csi_json(self),
        })
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagr_protocols::csi::Iq;

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
