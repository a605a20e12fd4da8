//! Frames of the dagr node link protocol: data frames are records (of the modality their
//! header names) on the node's own µs clock; a time-sync answer completes an exchange for
//! the clock model; heartbeats, acks and the rest are traffic for the source.
//!
//! DESIGN.md leaves this format's JSON open; it is fixed here (and in protocols/SPEC.md).
//! Every object starts with the header, then the payload's fields flattened beside it:
//!
//! - header: `"version"` ("1.0"), `"node"`, `"stream"`, `"modality"` ("none", "mmwave",
//!   "wifi", "rfid", or "unknown(N)"), `"seq"`, `"timestamp_us"`, `"kind"`;
//! - `csi`: `"rssi"`, `"noise_floor"`, `"channel"`, `"antenna"`, `"bandwidth_mhz"`,
//!   `"csi": [[re, im], ...]` (buffer order, as for esp32-csi);
//! - `radar`: `"frame"`, `"points": [{"x","y","z","v","snr","noise"}]` (as for ti-mmwave);
//! - `rfid`: `"tags": [{"epc" (hex), "antenna", "peak_rssi" (dBm, 0.01 resolution),
//!   "channel", "phase_rad", "doppler_hz", "first_seen_us"}]` — LLRP's names where the
//!   meaning matches; first-seen is on the node's µs clock, not UTC, hence not
//!   `first_seen_utc_us`;
//! - `heartbeat`: `"uptime_us"`, `"samples_produced"`, `"frames_sent"`,
//!   `"dropped_backpressure"`, `"link_errors"`, `"crc_errors"`, `"ring_high_water"`,
//!   `"ring_capacity"`;
//! - `time_sync_request`: `"t1"`; `time_sync_response`: `"t1"`, `"t2"`, `"t3"`;
//! - `command`: `"opcode"` (name), `"target_stream"`, `"arg"`;
//! - `ack`: `"command_seq"`, `"opcode"`, `"status"` (name), `"ok"` (status is ok);
//! - `unknown` (a kind from a newer minor version): `"kind_code"`, `"payload_hex"`.
use std::fmt::Write as _;
use std::sync::Arc;

use dagr_protocols::node::{
    self, AckStatus, Csi, Frame, Opcode, Payload, Radar, RadarPoint, RfidRead,
};
use serde_json::{json, Map, Value};

use super::{Control, Decoded, Unit};
use crate::clock::TimeSyncExchange;
use crate::record::{self, DeviceTime, Modality};

impl Unit for Frame {
    fn into_decoded(self, source: &Arc<str>, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        if let Some(exchange) = TimeSyncExchange::from_frame(source, &self, arrival_ns) {
            return sink(Decoded::TimeSync(exchange));
        }
        let modality = match self.header.modality {
            node::Modality::Mmwave => Modality::Mmwave,
            node::Modality::Wifi => Modality::Wifi,
            node::Modality::Rfid => Modality::Rfid,
            _ => return sink(Decoded::Control(Control::Node(self))),
        };
        let is_data = matches!(
            self.payload,
            Payload::Csi(_) | Payload::Radar(_) | Payload::Rfid(_)
        );
        if !is_data {
            return sink(Decoded::Control(Control::Node(self)));
        }
        let time = DeviceTime::NodeMicros(self.header.timestamp_us);
        let payload = record::Payload::Node(self);
        sink(Decoded::record(source, modality, time, arrival_ns, payload));
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        serde_json::to_writer(out, &frame_json(self))
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

fn frame_json(frame: &Frame) -> Value {
    let h = &frame.header;
    let mut object = Map::new();
    let mut put = |k: &str, v: Value| {
        object.insert(k.to_owned(), v);
    };
    put("version", json!(format!("1.{}", h.version_minor)));
    put("node", json!(h.node));
    put("stream", json!(h.stream));
    put("modality", json!(h.modality.to_string()));
    put("seq", json!(h.seq));
    put("timestamp_us", json!(h.timestamp_us));
    put("kind", json!(frame.payload.kind().name()));
    if let Value::Object(fields) = payload_json(&frame.payload) {
        object.extend(fields);
    }
    Value::Object(object)
}

fn payload_json(payload: &Payload) -> Value {
    match payload {
        Payload::Csi(csi) => csi_json(csi),
        Payload::Radar(radar) => radar_json(radar),
        Payload::Rfid(reads) => json!({ "tags": reads.iter().map(tag_json).collect::<Vec<_>>() }),
        Payload::Heartbeat(hb) => json!({
            "uptime_us": hb.uptime_us,
            "samples_produced": hb.samples_produced,
            "frames_sent": hb.frames_sent,
            "dropped_backpressure": hb.dropped_backpressure,
            "link_errors": hb.link_errors,
            "crc_errors": hb.crc_errors,
            "ring_high_water": hb.ring_high_water,
            "ring_capacity": hb.ring_capacity,
        }),
        Payload::TimeSyncRequest(r) => json!({ "t1": r.t1 }),
        Payload::TimeSyncResponse(r) => json!({ "t1": r.t1, "t2": r.t2, "t3": r.t3 }),
        Payload::Command(c) => json!({
            "opcode": opcode_name(c.opcode),
            "target_stream": c.stream,
            "arg": c.arg,
        }),
        Payload::Ack(a) => json!({
            "command_seq": a.command_seq,
            "opcode": opcode_name(a.opcode),
            "status": status_name(a.status),
            "ok": a.status == AckStatus::Ok,
        }),
        Payload::Unknown { kind, bytes } => json!({
            "kind_code": kind,
            "payload_hex": hex(bytes),
        }),
    }
}

fn csi_json(csi: &Csi) -> Value {
    json!({
        "rssi": csi.rssi,
        "noise_floor": csi.noise_floor,
        "channel": csi.channel,
        "antenna": csi.antenna,
        "bandwidth_mhz": csi.bandwidth_mhz,
        "csi": csi.iq.iter().map(|s| [s.re, s.im]).collect::<Vec<_>>(),
    })
}

fn radar_json(radar: &Radar) -> Value {
    json!({
        "frame": radar.frame_number,
        "points": radar.points.iter().map(point_json).collect::<Vec<_>>(),
    })
}

fn point_json(p: &RadarPoint) -> Value {
    json!({
        "x": number(p.x),
        "y": number(p.y),
        "z": number(p.z),
        "v": number(p.v),
        "snr": p.snr,
        "noise": p.noise,
    })
}

fn tag_json(read: &RfidRead) -> Value {
    json!({
        "epc": read.epc.to_string(),
        "antenna": read.antenna,
        "peak_rssi": read.peak_rssi_dbm(),
        "channel": read.channel,
        "phase_rad": read.phase_rad(),
        "doppler_hz": read.doppler_hz(),
        "first_seen_us": read.first_seen_us,
    })
}

/// An opcode's name, or `unknown(N)` for codes from a newer version.
fn opcode_name(op: Opcode) -> String {
    match op {
        Opcode::Unknown(code) => format!("unknown({code})"),
        known => known.name().to_owned(),
    }
}

/// A status's name, or `unknown(N)`.
fn status_name(status: AckStatus) -> String {
    match status {
        AckStatus::Unknown(code) => format!("unknown({code})"),
        known => known.name().to_owned(),
    }
}

/// Lower-case hex, as EPCs are printed.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// An f32 as the JSON number with its shortest decimal form, or `null` when not finite.
fn number(value: f32) -> Value {
    if !value.is_finite() {
        return Value::Null;
    }
    value
        .to_string()
        .parse::<f64>()
        .map_or(Value::Null, Value::from)
}
