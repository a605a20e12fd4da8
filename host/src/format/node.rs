//! Frames of the dagr node link protocol: data frames are records (of the modality their
//! header names) on the node's own µs clock, their payloads read as the ESP32 formats'
//! CSI, radar point clouds and tag reads; a time-sync answer completes an exchange for
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

use dagr_protocols::node::{self, AckStatus, Frame, Opcode, Payload, RadarPoint, RfidRead};
use serde::Serialize;

use super::json::{self, IqPairs};
use super::{esp32_lltf, Control, Decoded, Unit};
use crate::clock::TimeSyncExchange;
use crate::record::{self, DeviceTime, Modality, PointCloud, TagRead};

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
        let sent_us = self.header.timestamp_us;
        let payload = match self.payload {
            Payload::Csi(csi) => csi_payload(csi),
            Payload::Radar(radar) => radar_payload(radar),
            Payload::Rfid(reads) => tags_payload(reads, sent_us),
            _ => return sink(Decoded::Control(Control::Node(self))),
        };
        let time = DeviceTime::NodeMicros(sent_us);
        sink(Decoded::record(source, modality, time, arrival_ns, payload));
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        json::write(out, &FrameJson::of(self))
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

/// A CSI payload (an ESP32-class radio's buffer with its antenna index): at 20 MHz laid out
/// in the secondary-none order, at 40 MHz in the HT40 order (see [`esp32_lltf`]); other
/// bandwidths hold no antenna the WiFi tensor can read.
fn csi_payload(csi: node::Csi) -> record::Payload {
    let layout = match csi.bandwidth_mhz {
        20 => &esp32_lltf::ZERO_FIRST,
        40 => &esp32_lltf::ASCENDING,
        _ => return esp32_lltf::without_layout(csi.iq),
    };
    esp32_lltf::payload(csi.iq, csi.antenna, layout)
}

/// A radar payload: one part of frame `frame_number` (a node sends a frame of more than 50
/// points as several payloads with the same number), its points in TLV 7 SNR units.
fn radar_payload(radar: node::Radar) -> record::Payload {
    let points = radar.points.iter().map(|p| record::RadarPoint {
        x: p.x,
        y: p.y,
        z: p.z,
        v: p.v,
        snr: Some(p.snr),
    });
    record::Payload::Radar(PointCloud {
        points: points.collect(),
        part_of_frame: Some(radar.frame_number),
    })
}

/// An RFID payload: each read seen its `first_seen_us` minus the frame's `sent_us` (both
/// on the node's clock) after the record's time, so a batch keeps its reads' spacing.
fn tags_payload(reads: Vec<RfidRead>, sent_us: u64) -> record::Payload {
    let reads = reads.iter().map(|read| TagRead {
        epc: read.epc.as_bytes().to_vec(),
        phase_rad: Some(read.phase_rad()),
        channel: read.channel,
        antenna: u16::from(read.antenna),
        rssi_dbm: Some(f64::from(read.peak_rssi_cdbm) / 100.0),
        seen_offset_s: (read.first_seen_us as f64 - sent_us as f64) * 1e-6,
    });
    record::Payload::Tags(reads.collect())
}

/// A frame's JSON object: the header, then the payload's fields flattened beside it.
#[derive(Serialize)]
struct FrameJson<'a> {
    version: String,
    node: u16,
    stream: u8,
    modality: String,
    seq: u32,
    timestamp_us: u64,
    kind: &'static str,
    #[serde(flatten)]
    payload: PayloadJson<'a>,
}

impl<'a> FrameJson<'a> {
    fn of(frame: &'a Frame) -> Self {
        let h = &frame.header;
        FrameJson {
            version: format!("1.{}", h.version_minor),
            node: h.node,
            stream: h.stream,
            modality: h.modality.to_string(),
            seq: h.seq,
            timestamp_us: h.timestamp_us,
            kind: frame.payload.kind().name(),
            payload: PayloadJson::of(&frame.payload),
        }
    }
}

/// The payload's fields, in the order the module doc lists them.
#[derive(Serialize)]
#[serde(untagged)]
enum PayloadJson<'a> {
    Csi {
        rssi: i8,
        noise_floor: i8,
        channel: u8,
        antenna: u8,
        bandwidth_mhz: u16,
        csi: IqPairs<'a>,
    },
    Radar {
        frame: u32,
        points: Vec<PointJson>,
    },
    Rfid {
        tags: Vec<TagJson>,
    },
    Heartbeat {
        uptime_us: u64,
        samples_produced: u64,
        frames_sent: u64,
        dropped_backpressure: u32,
        link_errors: u32,
        crc_errors: u32,
        ring_high_water: u32,
        ring_capacity: u32,
    },
    TimeSyncRequest {
        t1: u64,
    },
    TimeSyncResponse {
        t1: u64,
        t2: u64,
        t3: u64,
    },
    Command {
        opcode: String,
        target_stream: u8,
        arg: u32,
    },
    Ack {
        command_seq: u32,
        opcode: String,
        status: String,
        ok: bool,
    },
    Unknown {
        kind_code: u8,
        payload_hex: String,
    },
}

impl<'a> PayloadJson<'a> {
    fn of(payload: &'a Payload) -> Self {
        match payload {
            Payload::Csi(csi) => PayloadJson::Csi {
                rssi: csi.rssi,
                noise_floor: csi.noise_floor,
                channel: csi.channel,
                antenna: csi.antenna,
                bandwidth_mhz: csi.bandwidth_mhz,
                csi: IqPairs(&csi.iq),
            },
            Payload::Radar(radar) => PayloadJson::Radar {
                frame: radar.frame_number,
                points: radar.points.iter().map(PointJson::of).collect(),
            },
            Payload::Rfid(reads) => PayloadJson::Rfid {
                tags: reads.iter().map(TagJson::of).collect(),
            },
            Payload::Heartbeat(hb) => PayloadJson::Heartbeat {
                uptime_us: hb.uptime_us,
                samples_produced: hb.samples_produced,
                frames_sent: hb.frames_sent,
                dropped_backpressure: hb.dropped_backpressure,
                link_errors: hb.link_errors,
                crc_errors: hb.crc_errors,
                ring_high_water: hb.ring_high_water,
                ring_capacity: hb.ring_capacity,
            },
            Payload::TimeSyncRequest(r) => PayloadJson::TimeSyncRequest { t1: r.t1 },
            Payload::TimeSyncResponse(r) => PayloadJson::TimeSyncResponse {
                t1: r.t1,
                t2: r.t2,
                t3: r.t3,
            },
            Payload::Command(c) => PayloadJson::Command {
                opcode: opcode_name(c.opcode),
                target_stream: c.stream,
                arg: c.arg,
            },
            Payload::Ack(a) => PayloadJson::Ack {
                command_seq: a.command_seq,
                opcode: opcode_name(a.opcode),
                status: status_name(a.status),
                ok: a.status == AckStatus::Ok,
            },
            Payload::Unknown { kind, bytes } => PayloadJson::Unknown {
                kind_code: *kind,
                payload_hex: hex(bytes),
            },
        }
    }
}

/// One radar point; coordinates in their shortest decimal form.
#[derive(Serialize)]
struct PointJson {
    x: Option<f64>,
    y: Option<f64>,
    z: Option<f64>,
    v: Option<f64>,
    snr: i16,
    noise: i16,
}

impl PointJson {
    fn of(p: &RadarPoint) -> Self {
        PointJson {
            x: number(p.x),
            y: number(p.y),
            z: number(p.z),
            v: number(p.v),
            snr: p.snr,
            noise: p.noise,
        }
    }
}

/// One tag read, with LLRP's names where the meaning matches.
#[derive(Serialize)]
struct TagJson {
    epc: String,
    antenna: u8,
    peak_rssi: f64,
    channel: u16,
    phase_rad: f64,
    doppler_hz: f64,
    first_seen_us: u64,
}

impl TagJson {
    fn of(read: &RfidRead) -> Self {
        TagJson {
            epc: read.epc.to_string(),
            antenna: read.antenna,
            peak_rssi: read.peak_rssi_dbm(),
            channel: read.channel,
            phase_rad: read.phase_rad(),
            doppler_hz: read.doppler_hz(),
            first_seen_us: read.first_seen_us,
        }
    }
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
fn number(value: f32) -> Option<f64> {
    if !value.is_finite() {
        return None;
    }
    value.to_string().parse::<f64>().ok()
}
