//! LLRP messages: each tag report of an RO_ACCESS_REPORT is an RFID record on the reader's
//! UTC clock; every other message is traffic for the LLRP session.
//!
//! JSON: one object per message, `{"type", "id", "tags": [...]}` as DESIGN.md fixes it,
//! followed by optional details for non-report messages (`"status"`, `"event"`,
//! `"device"`). Built as a `serde_json::Value` (messages are few and varied; the per-row
//! formats are the ones written straight from typed structs).
use std::sync::Arc;

use dagr_protocols::llrp::{Body, Message, ReaderEvent, Status, TagReport, Timestamp};
use serde_json::{json, Map, Value};

use super::{Control, Decoded, Unit};
use crate::record::{DeviceTime, Modality, Payload};

impl Unit for Message {
    /// An RO_ACCESS_REPORT becomes one record per tag report; a report without a
    /// FirstSeenTimestampUTC falls back to its LastSeen time, then to the uptime clock.
    fn into_decoded(self, source: &Arc<str>, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        let Body::RoAccessReport { tags, .. } = self.body else {
            return sink(Decoded::Control(Control::Llrp(self)));
        };
        for tag in tags {
            let time = tag_time(&tag);
            sink(Decoded::record(
                source,
                Modality::Rfid,
                time,
                arrival_ns,
                Payload::Tag(tag),
            ));
        }
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &message_json(self))
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

fn tag_time(tag: &TagReport) -> DeviceTime {
    match (
        tag.first_seen_utc_us,
        tag.last_seen_utc_us,
        tag.first_seen_uptime_us,
    ) {
        (Some(us), _, _) | (None, Some(us), _) => DeviceTime::UtcMicros(us),
        (None, None, Some(us)) => DeviceTime::NodeMicros(us),
        (None, None, None) => DeviceTime::UtcMicros(0),
    }
}

fn message_json(message: &Message) -> Value {
    let mut object = Map::new();
    object.insert("type".into(), json!(message.name()));
    object.insert("id".into(), json!(message.id));
    let tags: Vec<Value> = message.tags().iter().map(tag_json).collect();
    object.insert("tags".into(), Value::Array(tags));
    match &message.body {
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
