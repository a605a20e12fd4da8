//! From raw bytes of one source to [`Record`]s: the step every live source and every
//! replay share, so a replayed capture goes through exactly the decoders a live run used.
//!
//! A [`RecordDecoder`] wraps the protocol crate's streaming decoder for one format. Data
//! become records; protocol traffic that is not sensor data (LLRP responses and keepalives,
//! node heartbeats and time-sync answers) is handed back as [`Decoded::Control`] for the
//! source that speaks the protocol.
use std::sync::Arc;

use dagr_protocols::csi::{esp32_csi_tool, esp_csi, intel5300};
use dagr_protocols::stream::{decode_chunk, StreamDecoder, StreamStats};
use dagr_protocols::{llrp, node, ti_mmwave};

use crate::decode::Format;
use crate::record::{DeviceTime, Modality, Payload, Record};

/// What one decoded unit turned out to be.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// Sensor data.
    Record(Record),
    /// Protocol traffic for the source itself.
    Control(Control),
}

/// Protocol traffic that is not sensor data.
#[derive(Debug, Clone)]
pub enum Control {
    /// An LLRP message other than RO_ACCESS_REPORT (responses, events, keepalives).
    Llrp(llrp::Message),
    /// A node frame without sensor data (heartbeat, time sync, ack, unknown kind).
    Node(node::Frame),
}

enum Inner {
    TiMmwave(ti_mmwave::FrameDecoder),
    Esp32Csi(esp32_csi_tool::RowDecoder),
    EspCsi(esp_csi::RowDecoder),
    Intel5300(intel5300::BfeeDecoder),
    Llrp(llrp::MessageDecoder),
    Node(Box<node::FrameDecoder>),
}

/// The streaming decoder of one source, producing records stamped with the source's name
/// and the arrival time of the bytes that completed them.
pub struct RecordDecoder {
    source: Arc<str>,
    inner: Inner,
}

impl RecordDecoder {
    /// A decoder for `format` whose records carry `source` as their source name.
    pub fn new(format: Format, source: Arc<str>) -> Self {
        let inner = match format {
            Format::TiMmwave => Inner::TiMmwave(ti_mmwave::FrameDecoder::new()),
            Format::Esp32Csi => Inner::Esp32Csi(esp32_csi_tool::RowDecoder::new()),
            Format::EspCsi => Inner::EspCsi(esp_csi::RowDecoder::new()),
            Format::Intel5300 => Inner::Intel5300(intel5300::BfeeDecoder::new()),
            Format::Llrp => Inner::Llrp(llrp::MessageDecoder::new()),
            Format::Node => Inner::Node(Box::default()),
        };
        RecordDecoder { source, inner }
    }

    /// The source name records are stamped with.
    pub fn source(&self) -> &Arc<str> {
        &self.source
    }

    /// Feeds bytes that arrived at `arrival_ns`; every completed unit goes to `sink`.
    pub fn feed(&mut self, bytes: &[u8], arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        let source = &self.source;
        match &mut self.inner {
            Inner::TiMmwave(d) => decode_chunk(d, bytes, |f| sink(radar(source, arrival_ns, f))),
            Inner::Esp32Csi(d) => decode_chunk(d, bytes, |r| sink(esp32(source, arrival_ns, r))),
            Inner::EspCsi(d) => decode_chunk(d, bytes, |r| sink(espressif(source, arrival_ns, r))),
            Inner::Intel5300(d) => decode_chunk(d, bytes, |b| sink(intel(source, arrival_ns, b))),
            Inner::Llrp(d) => decode_chunk(d, bytes, |m| llrp_message(source, arrival_ns, m, sink)),
            Inner::Node(d) => decode_chunk(d.as_mut(), bytes, |f| {
                sink(node_frame(source, arrival_ns, f))
            }),
        }
    }

    /// Ends the input (end of a replayed channel): decodes a last unterminated unit.
    pub fn finish(&mut self, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        match &mut self.inner {
            Inner::TiMmwave(d) => d.finish(),
            Inner::Esp32Csi(d) => d.finish(),
            Inner::EspCsi(d) => d.finish(),
            Inner::Intel5300(d) => d.finish(),
            Inner::Llrp(d) => d.finish(),
            Inner::Node(d) => d.finish(),
        }
        self.feed(&[], arrival_ns, sink);
    }

    /// The underlying decoder's counters (bytes skipped, frames rejected...).
    pub fn stats(&self) -> StreamStats {
        match &self.inner {
            Inner::TiMmwave(d) => *d.stats(),
            Inner::Esp32Csi(d) => *d.stats(),
            Inner::EspCsi(d) => *d.stats(),
            Inner::Intel5300(d) => *d.stats(),
            Inner::Llrp(d) => *d.stats(),
            Inner::Node(d) => *d.stats(),
        }
    }
}

fn record(
    source: &Arc<str>,
    modality: Modality,
    device_time: DeviceTime,
    arrival_ns: u64,
    payload: Payload,
) -> Decoded {
    Decoded::Record(Record {
        source: source.clone(),
        modality,
        device_time,
        arrival_ns,
        payload,
    })
}

fn radar(source: &Arc<str>, arrival_ns: u64, frame: ti_mmwave::Frame) -> Decoded {
    let time = DeviceTime::TiFrame {
        frame_number: frame.frame_number,
        cpu_cycles: frame.time_cpu_cycles,
    };
    record(
        source,
        Modality::Mmwave,
        time,
        arrival_ns,
        Payload::Radar(frame),
    )
}

fn esp32(source: &Arc<str>, arrival_ns: u64, row: esp32_csi_tool::CsiRow) -> Decoded {
    let time = DeviceTime::MicrosU32(row.rx_ctrl.local_timestamp);
    record(
        source,
        Modality::Wifi,
        time,
        arrival_ns,
        Payload::Esp32Csi(row),
    )
}

fn espressif(source: &Arc<str>, arrival_ns: u64, row: esp_csi::CsiRow) -> Decoded {
    let time = DeviceTime::MicrosU32(row.rx_ctrl.local_timestamp());
    record(
        source,
        Modality::Wifi,
        time,
        arrival_ns,
        Payload::EspCsi(row),
    )
}

fn intel(source: &Arc<str>, arrival_ns: u64, bfee: intel5300::Bfee) -> Decoded {
    let time = DeviceTime::MicrosU32(bfee.timestamp_low);
    record(
        source,
        Modality::Wifi,
        time,
        arrival_ns,
        Payload::Intel5300(bfee),
    )
}

/// An RO_ACCESS_REPORT becomes one record per tag report; a report without a
/// FirstSeenTimestampUTC falls back to its LastSeen time, then to the uptime clock.
fn llrp_message(
    source: &Arc<str>,
    arrival_ns: u64,
    message: llrp::Message,
    sink: &mut dyn FnMut(Decoded),
) {
    match message.body {
        llrp::Body::RoAccessReport { tags, .. } => {
            for tag in tags {
                let time = tag_time(&tag);
                sink(record(
                    source,
                    Modality::Rfid,
                    time,
                    arrival_ns,
                    Payload::Tag(tag),
                ));
            }
        }
        _ => sink(Decoded::Control(Control::Llrp(message))),
    }
}

fn tag_time(tag: &llrp::TagReport) -> DeviceTime {
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

fn node_frame(source: &Arc<str>, arrival_ns: u64, frame: node::Frame) -> Decoded {
    let modality = match frame.header.modality {
        node::Modality::Mmwave => Modality::Mmwave,
        node::Modality::Wifi => Modality::Wifi,
        node::Modality::Rfid => Modality::Rfid,
        _ => return Decoded::Control(Control::Node(frame)),
    };
    let is_data = matches!(
        frame.payload,
        node::Payload::Csi(_) | node::Payload::Radar(_) | node::Payload::Rfid(_)
    );
    if !is_data {
        return Decoded::Control(Control::Node(frame));
    }
    let time = DeviceTime::NodeMicros(frame.header.timestamp_us);
    record(source, modality, time, arrival_ns, Payload::Node(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(path: &str) -> Vec<u8> {
        let full = format!(
            "{}/../../shared/fixtures/real/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    fn decode_all(format: Format, bytes: &[u8]) -> (Vec<Record>, usize) {
        let mut dec = RecordDecoder::new(format, "src".into());
        let (mut records, mut control) = (Vec::new(), 0);
        let mut sink = |d: Decoded| match d {
            Decoded::Record(r) => records.push(r),
            Decoded::Control(_) => control += 1,
        };
        for (i, chunk) in bytes.chunks(777).enumerate() {
            dec.feed(chunk, i as u64, &mut sink);
        }
        dec.finish(u64::MAX, &mut sink);
        (records, control)
    }

    #[test]
    fn radar_frames_become_mmwave_records_stamped_with_frame_numbers() {
        let (records, control) = decode_all(
            Format::TiMmwave,
            &real("ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat"),
        );
        assert_eq!((records.len(), control), (101, 0));
        assert!(records
            .iter()
            .all(|r| r.modality == Modality::Mmwave && &*r.source == "src"));
        assert!(matches!(
            records[0].device_time,
            DeviceTime::TiFrame {
                frame_number: 370,
                ..
            }
        ));
        // arrival time is that of the chunk completing the frame (736-byte frames, 777-byte chunks)
        assert_eq!(records[0].arrival_ns, 0);
        assert_eq!(records[1].arrival_ns, 1);
    }

    #[test]
    fn each_llrp_tag_report_becomes_one_rfid_record_with_utc_time() {
        let (records, control) =
            decode_all(Format::Llrp, &real("llrp/impinj_ro_access_reports.bin"));
        assert_eq!(records.len(), 45);
        assert_eq!(control, 0);
        assert!(records.iter().all(|r| r.modality == Modality::Rfid));
        assert_eq!(
            records[0].device_time,
            DeviceTime::UtcMicros(1_385_585_041_558_537)
        );
        let (records, control) =
            decode_all(Format::Llrp, &real("llrp/reader_event_notification.bin"));
        assert_eq!((records.len(), control), (0, 1));
    }

    #[test]
    fn esp32_rows_become_wifi_records_with_the_u32_microsecond_clock() {
        let (records, _) = decode_all(Format::Esp32Csi, &real("esp32_csi/example_csi.csv"));
        assert_eq!(records.len(), 13);
        assert_eq!(records[0].device_time, DeviceTime::MicrosU32(80_272_146));
        assert!(records.iter().all(|r| r.modality == Modality::Wifi));
    }
}
