//! Stage one of the pipeline: the bytes of one stream to [`Decoded`] units — records,
//! time-sync exchanges, protocol traffic — through the format table's decoder, so live
//! sources, replays, the recorder and dataset export run exactly the same decoders.
//!
//! [`RecordDecoder`] is one stream's decoder; [`StreamDecoders`] holds one per stream of a
//! capture or gateway run, created on a stream's first chunk and finished in name order at
//! the end of the input.
use std::collections::BTreeMap;
use std::sync::Arc;

use dagr_protocols::stream::StreamStats;

use crate::format::{Decoded, Format, UnitDecoder};

/// The streaming decoder of one source, producing units stamped with the source's name
/// and the arrival time of the bytes that completed them.
pub struct RecordDecoder {
    source: Arc<str>,
    format: Format,
    inner: Box<dyn UnitDecoder>,
}

impl RecordDecoder {
    /// A decoder for `format` whose records carry `source` as their source name.
    pub fn new(format: Format, source: Arc<str>) -> Self {
        RecordDecoder {
            source,
            format,
            inner: format.decoder(),
        }
    }

    /// The source name records are stamped with.
    pub fn source(&self) -> &Arc<str> {
        &self.source
    }

    /// The format it decodes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Feeds bytes that arrived at `arrival_ns`; every completed unit goes to `sink`.
    pub fn feed(&mut self, bytes: &[u8], arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        self.inner
            .feed_decoded(bytes, &self.source, arrival_ns, sink);
    }

    /// Ends the input (end of a replayed channel): decodes a last unterminated unit.
    pub fn finish(&mut self, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        self.inner.finish();
        self.feed(&[], arrival_ns, sink);
    }

    /// The underlying decoder's counters (bytes skipped, frames rejected...).
    pub fn stats(&self) -> StreamStats {
        self.inner.stats()
    }
}

/// One [`RecordDecoder`] per stream, with the arrival time of each stream's last chunk.
#[derive(Default)]
pub struct StreamDecoders {
    streams: BTreeMap<Arc<str>, (RecordDecoder, u64)>,
}

impl StreamDecoders {
    /// No stream yet.
    pub fn new() -> Self {
        StreamDecoders::default()
    }

    /// The decoder of `source` (a `format` stream, created on its first chunk), noting
    /// `arrival_ns` as the stream's last arrival.
    pub fn stream(
        &mut self,
        source: &Arc<str>,
        format: Format,
        arrival_ns: u64,
    ) -> &mut RecordDecoder {
        // Looked up by reference: the name is cloned only for a new stream.
        if !self.streams.contains_key(source) {
            let decoder = RecordDecoder::new(format, source.clone());
            self.streams.insert(source.clone(), (decoder, arrival_ns));
        }
        let (decoder, last_ns) = self
            .streams
            .get_mut(source)
            .expect("inserted above if it was missing");
        *last_ns = arrival_ns;
        decoder
    }

    /// Decodes a chunk of `source` (a `format` stream, created on its first chunk).
    pub fn feed(
        &mut self,
        source: &Arc<str>,
        format: Format,
        bytes: &[u8],
        arrival_ns: u64,
        sink: &mut dyn FnMut(Decoded),
    ) {
        self.stream(source, format, arrival_ns)
            .feed(bytes, arrival_ns, sink);
    }

    /// Hands every stream over for its end of input, in name order, with the arrival of its
    /// last chunk (the time its last units are stamped with); none is left.
    pub fn take_all(&mut self) -> Vec<(Arc<str>, RecordDecoder, u64)> {
        std::mem::take(&mut self.streams)
            .into_iter()
            .map(|(name, (decoder, last_ns))| (name, decoder, last_ns))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{DeviceTime, Modality, Record};

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
            Decoded::Control(_) | Decoded::TimeSync(_) => control += 1,
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
        // each frame's byte length, for its wire time
        assert!(records.iter().all(|r| r.wire_bytes == 736));
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
        // one CSV row each, its line ending included
        let text = real("esp32_csi/example_csi.csv");
        let rows: Vec<usize> = text
            .split_inclusive(|b| *b == b'\n')
            .filter(|l| l.starts_with(b"CSI_DATA"))
            .map(<[u8]>::len)
            .collect();
        let lengths: Vec<usize> = records.iter().map(|r| r.wire_bytes as usize).collect();
        assert_eq!(lengths, rows);
        assert!(records.iter().all(|r| r.modality == Modality::Wifi));
    }
}
