//! ESP32-CSI-Tool rows: a WiFi record on the ESP32's wrapping µs clock.
//!
//! JSON: `{"mac", "rssi", "local_timestamp", "csi": [[re, im], ...]}` as DESIGN.md fixes
//! (subcarriers in buffer order, the firmware's imaginary-first pairs already swapped),
//! followed by the row's other columns for programs that want them.
//!
//! Record: one antenna's buffer (`rx_ctrl.ant`), laid out as [`esp32_lltf`] says.
use std::sync::Arc;

use dagr_protocols::csi::esp32_csi_tool::CsiRow;
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
    role: &'static str,
    channel: u8,
    secondary_channel: u8,
    bandwidth: u8,
    sig_mode: u8,
    noise_floor: i8,
    real_time_set: bool,
    real_timestamp: f64,
    len: u16,
    ant: u8,
}

impl Unit for CsiRow {
    fn into_decoded(self, source: &Arc<str>, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        let time = DeviceTime::MicrosU32(self.rx_ctrl.local_timestamp);
        // The tool prints no first-word flag: rows are read as printed (see esp32_lltf).
        let layout = esp32_lltf::of_secondary_channel(self.rx_ctrl.secondary_channel, false);
        let payload = esp32_lltf::payload(self.csi, self.rx_ctrl.ant, layout);
        sink(Decoded::record(
            source,
            Modality::Wifi,
            time,
            arrival_ns,
            payload,
        ));
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        json::write(
            out,
            &RowJson {
                mac: Mac(&self.mac),
                rssi: self.rx_ctrl.rssi,
                local_timestamp: self.rx_ctrl.local_timestamp,
                csi: IqPairs(&self.csi),
                role: self.role.as_str(),
                channel: self.rx_ctrl.channel,
                secondary_channel: self.rx_ctrl.secondary_channel,
                bandwidth: self.rx_ctrl.bandwidth,
                sig_mode: self.rx_ctrl.sig_mode,
                noise_floor: self.rx_ctrl.noise_floor,
                real_time_set: self.real_time_set,
                real_timestamp: self.real_timestamp,
                len: self.len,
                ant: self.rx_ctrl.ant,
            },
        )
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}
