//! How `dagr decode --format esp32-csi` shows ESP32-CSI-Tool rows.
//!
//! JSON: `{"mac", "rssi", "local_timestamp", "csi": [[re, im], ...]}` as DESIGN.md fixes
//! (subcarriers in buffer order, the firmware's imaginary-first pairs already swapped),
//! followed by the row's other columns for programs that want them.
use std::io::{Read, Write};

use dagr_protocols::csi::esp32_csi_tool::{CsiRow, RowDecoder};
use serde_json::json;

use super::{DecodeReport, ShowRecord};

/// Decodes `input` and prints its records.
pub fn decode(
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<DecodeReport> {
    super::run(RowDecoder::new(), input, json, out)
}

/// `3C:71:BF:6D:2A:78`: the MAC as both CSI formats show it in JSON.
pub(crate) fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The `csi` array: one `[re, im]` per subcarrier.
pub(crate) fn csi_json(csi: &[dagr_protocols::csi::Iq]) -> serde_json::Value {
    csi.iter().map(|iq| json!([iq.re, iq.im])).collect()
}

impl ShowRecord for CsiRow {
    fn to_json(&self) -> serde_json::Value {
        json!({
            "mac": mac_text(&self.mac),
            "rssi": self.rx_ctrl.rssi,
            "local_timestamp": self.rx_ctrl.local_timestamp,
            "csi": csi_json(&self.csi),
            "role": self.role.as_str(),
            "channel": self.rx_ctrl.channel,
            "secondary_channel": self.rx_ctrl.secondary_channel,
            "bandwidth": self.rx_ctrl.bandwidth,
            "sig_mode": self.rx_ctrl.sig_mode,
            "noise_floor": self.rx_ctrl.noise_floor,
            "real_time_set": self.real_time_set,
            "real_timestamp": self.real_timestamp,
            "len": self.len,
        })
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}
