//! Pieces of JSON several formats share, serialized straight from the decoded values (no
//! intermediate `serde_json::Value`).
use std::fmt;

use dagr_protocols::csi::Iq;
use serde::ser::{Serialize, Serializer};

/// A MAC address as both CSI formats show it: `3C:71:BF:6D:2A:78`.
pub struct Mac<'a>(pub &'a [u8; 6]);

impl fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl Serialize for Mac<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// CSI samples as `[[re, im], ...]`, in buffer order.
pub struct IqPairs<'a>(pub &'a [Iq]);

impl Serialize for IqPairs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|iq| (iq.re, iq.im)))
    }
}

/// Writes `value` as one JSON object onto `out`.
pub fn write(out: &mut dyn std::io::Write, value: &impl Serialize) -> serde_json::Result<()> {
    serde_json::to_writer(out, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_upper_case_hex_pairs_and_iq_pairs_nest() {
        let mut out = Vec::new();
        write(&mut out, &Mac(&[0x3c, 0x71, 0xbf, 0x6d, 0x2a, 0x78])).unwrap();
        assert_eq!(out, b"\"3C:71:BF:6D:2A:78\"");
        out.clear();
        let iq = [Iq { re: -48, im: 101 }, Iq { re: 0, im: -1 }];
        write(&mut out, &IqPairs(&iq)).unwrap();
        assert_eq!(out, b"[[-48,101],[0,-1]]");
    }
}
