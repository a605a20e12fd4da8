//! How `dagr decode --format llrp` shows LLRP messages: one JSON object per message,
//! `{"type", "id", "tags": [...]}` as DESIGN.md fixes it, followed by optional details
//! for non-report messages (`"status"`, `"event"`, `"device"`).
use std::io::{Read, Write};

use dagr_protocols::llrp::{
    Body, Message, MessageDecoder, ReaderEvent, Status, TagReport, Timestamp,
};
use serde_json::{json, Map, Value};

use super::{DecodeReport, ShowRecord};

/// Decodes `input` and prints its messages.
pub fn decode(
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<DecodeReport> {
    super::run(MessageDecoder::new(), input, json, out)
}

impl ShowRecord for Message {
    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("type".into(), json!(self.name()));
        object.insert("id".into(), json!(self.id));
        let tags: Vec<Value> = self.tags().iter().map(tag_json).collect();
        object.insert("tags".into(), Value::Array(tags));
        match &self.body {
            Body::Status(s) | Body::ImpinjEnableExtensionsResponse(s) => {
                object.insert("status".into(), status_json(s));
            }
            Body::ReaderEvent(ev) => {
                object.insert("event".into(), event_json(ev));
            }
            Body::Capabilities(caps) => {
                object.insert("status".into(), status_json(&caps.status));
                if let Some(g) = &caps.general {
                    let device = json!({"manufacturer": g.manufacturer, "model": g.model,
                        "firmware_version": g.firmware_version, "max_antennas": g.max_antennas});
                    object.insert("device".into(), device);
                }
            }
            _ => {}
        }
        Value::Object(object)
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

/// One tag report with the fields DESIGN.md names (`null` where the reader sent none).
fn tag_json(tag: &TagReport) -> Value {
    json!({
        "epc": tag.epc.to_string(),
        "antenna": tag.antenna_id,
        "peak_rssi": tag.peak_rssi,
        "channel": tag.channel_index,
        "first_seen_utc_us": tag.first_seen_utc_us,
        "phase_rad": tag.phase_rad(),
        "impinj_peak_rssi_dbm": tag.impinj_peak_rssi_dbm(),
        "doppler_hz": tag.doppler_hz(),
    })
}

fn status_json(status: &Status) -> Value {
    json!({"code": status.code, "description": status.description})
}

fn event_json(ev: &ReaderEvent) -> Value {
    let (utc, uptime) = match ev.timestamp {
        Timestamp::Utc(us) => (Some(us), None),
        Timestamp::Uptime(us) => (None, Some(us)),
    };
    json!({
        "utc_us": utc,
        "uptime_us": uptime,
        "connection_attempt": ev.connection_attempt,
        "connection_close": ev.connection_close,
        "ro_spec": ev.ro_spec_event.map(|e| json!({"event_type": e.event_type, "ro_spec_id": e.ro_spec_id})),
        "antenna": ev.antenna_event.map(|e| json!({"event_type": e.event_type, "antenna_id": e.antenna_id})),
        "reader_exception": ev.reader_exception,
    })
}
