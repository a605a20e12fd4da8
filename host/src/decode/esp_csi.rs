//! How `dagr decode --format esp-csi` shows Espressif esp-csi rows.
//!
//! JSON: `{"mac", "rssi", "local_timestamp", "csi": [[re, im], ...]}` as DESIGN.md fixes
//! (MAC in the same uppercase form as ESP32-CSI-Tool rows, so one receiver has one name
//! whatever firmware it runs), followed by the row's other columns.
use std::io::{Read, Write};

use dagr_protocols::csi::esp_csi::{ChipRxCtrl, CsiRow, RowDecoder};
use serde_json::json;

use super::esp32_csi::{csi_json, mac_text};
use super::{DecodeReport, ShowRecord};

/// Decodes `input` and prints its records.
pub fn decode(
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<DecodeReport> {
    super::run(RowDecoder::new(), input, json, out)
}

impl ShowRecord for CsiRow {
    fn to_json(&self) -> serde_json::Value {
        let mut v = json!({
            "mac": mac_text(&self.mac),
            "rssi": self.rx_ctrl.rssi(),
            "local_timestamp": self.rx_ctrl.local_timestamp(),
            "csi": csi_json(&self.csi),
            "id": self.id,
            "channel": self.rx_ctrl.channel(),
            "noise_floor": self.rx_ctrl.noise_floor(),
            "first_word_invalid": self.first_word_invalid,
            "len": self.len(),
        });
        let extra = match self.rx_ctrl {
            ChipRxCtrl::Esp32(c) => json!({
                "secondary_channel": c.secondary_channel,
                "bandwidth": c.bandwidth,
                "sig_mode": c.sig_mode,
            }),
            ChipRxCtrl::C5C6(c) => json!({ "fft_gain": c.fft_gain, "agc_gain": c.agc_gain }),
        };
        if let (Some(obj), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
            obj.extend(more);
        }
        v
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}
