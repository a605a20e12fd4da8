//! Espressif esp-csi rows: a WiFi record on the ESP32's wrapping µs clock.
//!
//! JSON: `{"mac", "rssi", "local_timestamp", "csi": [[re, im], ...]}` as DESIGN.md fixes
//! (MAC in the same uppercase form as ESP32-CSI-Tool rows, so one receiver has one name
//! whatever firmware it runs), followed by the row's other columns and the chip's own
//! fields (ESP32: `secondary_channel`, `bandwidth`, `sig_mode`; C5/C6: `fft_gain`,
//! `agc_gain`).
//!
//! Record: one antenna's buffer (ESP32 chips: `rx_ctrl.ant`, laid out as [`esp32_lltf`]
//! says, `first_word_invalid` honoured); rows of C5/C6 chips (15 columns) hold no antenna
//! the WiFi tensor can read, as Espressif publishes no buffer layout for them.
use std::sync::Arc;

use dagr_protocols::csi::esp_csi::{ChipRxCtrl, CsiRow};
use serde::Serialize;

use super::json::{self, IqPairs, Mac};
use super::{esp32_lltf, Decoded, Unit};
use crate::record::{DeviceTime, Modality};

/// The JSON object of one row, in DESIGN.md's field order.
#[derive(Serialize)]
struct RowJson<'a> {
    mac: Mac<'a>,
    rssi: i8,
    local_timestamp: u32,
    csi: IqPairs<'a>,
    id: u32,
    channel: u8,
    noise_floor: i8,
    first_word_invalid: bool,
    len: usize,
    #[serde(flatten)]
    chip: ChipJson,
}

/// The chip-specific fields, flattened into the row's object.
#[derive(Serialize)]
#[serde(untagged)]
enum ChipJson {
    Esp32 {
        secondary_channel: u8,
        bandwidth: u8,
        sig_mode: u8,
    },
    C5C6 {
        fft_gain: u8,
        agc_gain: u8,
    },
}

impl Unit for CsiRow {
    fn into_decoded(self, source: &Arc<str>, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        let time = DeviceTime::MicrosU32(self.rx_ctrl.local_timestamp());
        let payload = match self.rx_ctrl {
            ChipRxCtrl::Esp32(rx) => {
                let layout =
                    esp32_lltf::of_secondary_channel(rx.secondary_channel, self.first_word_invalid);
                esp32_lltf::payload(self.csi, rx.ant, layout)
            }
            // Espressif publishes no buffer layout for C5/C6 chips: no antenna to read.
            ChipRxCtrl::C5C6(_) => esp32_lltf::without_layout(self.csi),
        };
        sink(Decoded::record(
            source,
            Modality::Wifi,
            time,
            arrival_ns,
            payload,
        ));
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        let chip = match self.rx_ctrl {
            ChipRxCtrl::Esp32(c) => ChipJson::Esp32 {
                secondary_channel: c.secondary_channel,
                bandwidth: c.bandwidth,
                sig_mode: c.sig_mode,
            },
            ChipRxCtrl::C5C6(c) => ChipJson::C5C6 {
                fft_gain: c.fft_gain,
                agc_gain: c.agc_gain,
            },
        };
        json::write(
            out,
            &RowJson {
                mac: Mac(&self.mac),
                rssi: self.rx_ctrl.rssi(),
                local_timestamp: self.rx_ctrl.local_timestamp(),
                csi: IqPairs(&self.csi),
                id: self.id,
                channel: self.rx_ctrl.channel(),
                noise_floor: self.rx_ctrl.noise_floor(),
                first_word_invalid: self.first_word_invalid,
                len: self.len(),
                chip,
            },
        )
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}
