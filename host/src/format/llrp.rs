//! LLRP messages: each tag report of an RO_ACCESS_REPORT is an RFID record on the reader's
//! UTC clock (its reads as [`TagRead`]s); every other message is traffic for the LLRP
//! session.
//!
//! JSON: one object per message, `{"type", "id", "tags": [...]}` as DESIGN.md fixes it,
//! followed by optional details for non-report messages (`"status"`, `"event"`,
//! `"device"`), all written from typed structs.
use std::sync::Arc;

use dagr_protocols::llrp::{
    AntennaEvent, Body, Epc, Message, ReaderEvent, RoSpecEvent, Status, TagReport, Timestamp,
};
use serde::ser::{Serialize, Serializer};

use super::{Control, Decoded, Unit};
use crate::record::{DeviceTime, Modality, Payload, TagRead};

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
                Payload::Tags(vec![tag_read(tag)]),
            ));
        }
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        serde_json::to_writer(out, &message_json(self))
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

/// A tag report as the RFID preprocessor reads it: Impinj phase, Impinj peak RSSI (else
/// PeakRSSI), ChannelIndex and AntennaID, seen at the record's time.
fn tag_read(tag: TagReport) -> TagRead {
    TagRead {
        phase_rad: tag.phase_rad(),
        channel: tag.channel_index.unwrap_or(0),
        antenna: tag.antenna_id.unwrap_or(0),
        rssi_dbm: tag.impinj_peak_rssi_dbm().or(tag.peak_rssi.map(f64::from)),
        seen_offset_s: 0.0,
        epc: match tag.epc {
            Epc::Epc96(bytes) => bytes.to_vec(),
            Epc::Data { bytes, .. } => bytes,
        },
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

/// The JSON object of one message.
#[derive(serde::Serialize)]
struct MessageJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: u32,
    tags: Tags<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StatusJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<EventJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<DeviceJson<'a>>,
}

fn message_json(message: &Message) -> MessageJson<'_> {
    let mut json = MessageJson {
        kind: message.name(),
        id: message.id,
        tags: Tags(message.tags()),
        status: None,
        event: None,
        device: None,
    };
    match &message.body {
        Body::Status(s) | Body::ImpinjEnableExtensionsResponse(s) => {
            json.status = Some(status_json(s));
        }
        Body::ReaderEvent(ev) => json.event = Some(event_json(ev)),
        Body::Capabilities(caps) => {
            json.status = Some(status_json(&caps.status));
            json.device = caps.general.as_ref().map(|g| DeviceJson {
                manufacturer: g.manufacturer,
                model: g.model,
                firmware_version: &g.firmware_version,
                max_antennas: g.max_antennas,
            });
        }
        _ => {}
    }
    json
}

/// A message's tag reports.
struct Tags<'a>(&'a [TagReport]);

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(tag_json))
    }
}

/// One tag report with the fields DESIGN.md names (`null` where the reader sent none).
#[derive(serde::Serialize)]
struct TagJson<'a> {
    epc: EpcText<'a>,
    antenna: Option<u16>,
    peak_rssi: Option<i8>,
    channel: Option<u16>,
    first_seen_utc_us: Option<u64>,
    phase_rad: Option<f64>,
    impinj_peak_rssi_dbm: Option<f64>,
    doppler_hz: Option<f64>,
}

/// An EPC as lowercase hex, as the reader's bytes go.
struct EpcText<'a>(&'a Epc);

impl Serialize for EpcText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

fn tag_json(tag: &TagReport) -> TagJson<'_> {
    TagJson {
        epc: EpcText(&tag.epc),
        antenna: tag.antenna_id,
        peak_rssi: tag.peak_rssi,
        channel: tag.channel_index,
        first_seen_utc_us: tag.first_seen_utc_us,
        phase_rad: tag.phase_rad(),
        impinj_peak_rssi_dbm: tag.impinj_peak_rssi_dbm(),
        doppler_hz: tag.doppler_hz(),
    }
}

/// An LLRPStatus: its code and description.
#[derive(serde::Serialize)]
struct StatusJson<'a> {
    code: u16,
    description: &'a str,
}

fn status_json(status: &Status) -> StatusJson<'_> {
    StatusJson {
        code: status.code,
        description: &status.description,
    }
}

/// A reader's general device capabilities: who made it and what it runs.
#[derive(serde::Serialize)]
struct DeviceJson<'a> {
    manufacturer: u32,
    model: u32,
    firmware_version: &'a str,
    max_antennas: u16,
}

/// A READER_EVENT_NOTIFICATION's events (`null` where absent).
#[derive(serde::Serialize)]
struct EventJson<'a> {
    utc_us: Option<u64>,
    uptime_us: Option<u64>,
    connection_attempt: Option<u16>,
    connection_close: bool,
    ro_spec: Option<RoSpecJson>,
    antenna: Option<AntennaJson>,
    reader_exception: Option<&'a str>,
}

/// An ROSpecEvent: what happened to which ROSpec.
#[derive(serde::Serialize)]
struct RoSpecJson {
    event_type: u8,
    ro_spec_id: u32,
}

/// An AntennaEvent: which antenna was connected or disconnected.
#[derive(serde::Serialize)]
struct AntennaJson {
    event_type: u8,
    antenna_id: u16,
}

fn event_json(ev: &ReaderEvent) -> EventJson<'_> {
    let (utc_us, uptime_us) = match ev.timestamp {
        Timestamp::Utc(us) => (Some(us), None),
        Timestamp::Uptime(us) => (None, Some(us)),
    };
    EventJson {
        utc_us,
        uptime_us,
        connection_attempt: ev.connection_attempt,
        connection_close: ev.connection_close,
        ro_spec: ev.ro_spec_event.map(|e: RoSpecEvent| RoSpecJson {
            event_type: e.event_type,
            ro_spec_id: e.ro_spec_id,
        }),
        antenna: ev.antenna_event.map(|e: AntennaEvent| AntennaJson {
            event_type: e.event_type,
            antenna_id: e.antenna_id,
        }),
        reader_exception: ev.reader_exception.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagr_protocols::llrp::message_type;

    #[test]
    fn a_response_shows_its_status_after_the_design_fields_and_no_absent_details() {
        let message = Message {
            message_type: message_type::SET_READER_CONFIG_RESPONSE,
            id: 7,
            body: Body::Status(Status {
                code: 0,
                description: String::new(),
                details: Vec::new(),
            }),
        };
        let mut out = Vec::new();
        message.write_json(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"SET_READER_CONFIG_RESPONSE","id":7,"tags":[],"status":{"code":0,"description":""}}"#
        );
    }
}
