//! The format table: every device format the gateway reads, in one place.
//!
//! A row says what a format is called (on the command line, in source URIs and in capture
//! metadata), which model input its records feed, how its bytes arrive, and which streaming
//! decoder of `dagr-protocols` reads them. Each format's submodule says what one decoded
//! unit becomes for the gateway ([`Unit::into_decoded`]: records with their device time and
//! their modality's [`Payload`] — a point cloud, a CSI packet with its subcarrier layout,
//! tag reads —, time-sync exchanges, or protocol traffic for the source) and how it is
//! shown ([`Unit::write_json`], the object DESIGN.md fixes, and a one-line summary).
//!
//! Every stage reads the table (URIs, sources, capture channels, `dagr decode`, replay,
//! the pipeline) and the preprocessors read only the modality's payload, so adding a format
//! means a decoder in `dagr-protocols`, a variant of [`Format`] and a row in [`TABLE`], and
//! one submodule here — ARCHITECTURE.md lists the steps.
//!
//! This module must not know sources, captures, clocks' models or the command line: it is
//! what they share about bytes.
use std::fmt;
use std::io;
use std::sync::Arc;

use dagr_protocols::stream::{decode_chunk, decode_chunk_sized, StreamDecoder, StreamStats};

use crate::clock::TimeSyncExchange;
use crate::record::{DeviceTime, Modality, Payload, Record};

mod esp32_csi;
mod esp32_lltf;
mod esp_csi;
mod intel5300;
mod json;
mod llrp;
mod node;
mod ti_mmwave;

/// A device format: one row of [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// TI mmWave out-of-box demo, UART data port (TLV frames).
    TiMmwave,
    /// ESP32-CSI-Tool serial CSV rows.
    Esp32Csi,
    /// Espressif esp-csi serial CSV rows.
    EspCsi,
    /// Intel 5300 CSI Tool `.dat` files (bfee records).
    Intel5300,
    /// LLRP 1.0.1 messages (reader to client), with Impinj extensions.
    Llrp,
    /// The dagr node link protocol (firmware to host).
    Node,
}

/// How a format's bytes reach the gateway, which decides the source that reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A serial port (`NAME:///dev/tty...`).
    Serial,
    /// A TCP connection the gateway opens (`NAME://HOST:PORT`).
    Tcp,
    /// Files only (`dagr decode`, captures); no live source URI.
    File,
}

/// One row of the format table.
pub struct FormatRow {
    /// The format this row describes.
    pub format: Format,
    /// Name on the command line (`--format`), as URI scheme and in capture metadata.
    pub name: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    /// What its decoded units are called in messages, plural (`frames`, `rows`, `messages`).
    pub units: &'static str,
    /// The model input every record feeds; `None` when each record says (node links).
    pub modality: Option<Modality>,
    /// How the bytes arrive.
    pub transport: Transport,
    /// Whether a serial source releases the port's DTR and RTS lines once it is open: ESP32
    /// boards wire them to the chip's reset and boot pins, so asserted lines hold it in
    /// reset.
    pub releases_reset_lines: bool,
    /// A fresh streaming decoder.
    pub decoder: fn() -> Box<dyn UnitDecoder>,
}

/// Every format, in [`Format`] order.
pub static TABLE: [FormatRow; 6] = [
    FormatRow {
        format: Format::TiMmwave,
        name: "ti-mmwave",
        help: "TI mmWave out-of-box demo UART data port",
        units: "frames",
        modality: Some(Modality::Mmwave),
        transport: Transport::Serial,
        releases_reset_lines: false,
        decoder: || Box::new(dagr_protocols::ti_mmwave::FrameDecoder::new()),
    },
    FormatRow {
        format: Format::Esp32Csi,
        name: "esp32-csi",
        help: "ESP32-CSI-Tool CSV rows",
        units: "rows",
        modality: Some(Modality::Wifi),
        transport: Transport::Serial,
        releases_reset_lines: true,
        decoder: || Box::new(dagr_protocols::csi::esp32_csi_tool::RowDecoder::new()),
    },
    FormatRow {
        format: Format::EspCsi,
        name: "esp-csi",
        help: "Espressif esp-csi CSV rows",
        units: "rows",
        modality: Some(Modality::Wifi),
        transport: Transport::Serial,
        releases_reset_lines: true,
        decoder: || Box::new(dagr_protocols::csi::esp_csi::RowDecoder::new()),
    },
    FormatRow {
        format: Format::Intel5300,
        name: "intel5300",
        help: "Intel 5300 CSI Tool .dat file",
        units: "records",
        modality: Some(Modality::Wifi),
        transport: Transport::File,
        releases_reset_lines: false,
        decoder: || Box::new(dagr_protocols::csi::intel5300::BfeeDecoder::new()),
    },
    FormatRow {
        format: Format::Llrp,
        name: "llrp",
        help: "LLRP 1.0.1 reader messages",
        units: "messages",
        modality: Some(Modality::Rfid),
        transport: Transport::Tcp,
        releases_reset_lines: false,
        decoder: || Box::new(dagr_protocols::llrp::MessageDecoder::new()),
    },
    FormatRow {
        format: Format::Node,
        name: "node",
        help: "dagr node link frames",
        units: "frames",
        modality: None,
        transport: Transport::Serial,
        releases_reset_lines: false,
        decoder: || Box::new(dagr_protocols::node::FrameDecoder::new()),
    },
];

impl Format {
    /// Every format, in table order.
    pub const ALL: [Format; 6] = [
        Format::TiMmwave,
        Format::Esp32Csi,
        Format::EspCsi,
        Format::Intel5300,
        Format::Llrp,
        Format::Node,
    ];

    /// This format's row.
    pub fn row(self) -> &'static FormatRow {
        &TABLE[self as usize]
    }

    /// The name used on the command line (`--format NAME`), in URIs and in messages.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The modality every record feeds (`None`: node links carry any).
    pub fn modality(self) -> Option<Modality> {
        self.row().modality
    }

    /// How the bytes arrive.
    pub fn transport(self) -> Transport {
        self.row().transport
    }

    /// Whether a serial source releases DTR and RTS once the port is open (ESP32 boards).
    pub fn releases_reset_lines(self) -> bool {
        self.row().releases_reset_lines
    }

    /// What this format's decoded units are called in messages, plural.
    pub fn units(self) -> &'static str {
        self.row().units
    }

    /// A fresh streaming decoder for this format.
    pub fn decoder(self) -> Box<dyn UnitDecoder> {
        (self.row().decoder)()
    }

    /// The format called `name` (`ti-mmwave`, `llrp`...).
    pub fn from_name(name: &str) -> Option<Format> {
        TABLE
            .iter()
            .find(|row| row.name == name)
            .map(|row| row.format)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one decoded unit turned out to be for the gateway.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// Sensor data.
    Record(Record),
    /// A completed time-sync exchange with a node, for its clock model.
    TimeSync(TimeSyncExchange),
    /// Protocol traffic for the source itself.
    Control(Control),
}

impl Decoded {
    /// A record of `source`, completed by bytes that arrived at `arrival_ns`.
    pub fn record(
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
            wire_bytes: 0,
            payload,
        })
    }
}

/// Protocol traffic that is neither sensor data nor a time-sync answer.
#[derive(Debug, Clone)]
pub enum Control {
    /// An LLRP message other than RO_ACCESS_REPORT (responses, events, keepalives).
    Llrp(dagr_protocols::llrp::Message),
    /// A node frame without sensor data (heartbeat, ack, request, unknown kind).
    Node(dagr_protocols::node::Frame),
}

/// What the gateway needs of one unit a protocol decoder yields (a radar frame, a CSV row,
/// an LLRP message, a node frame).
pub trait Unit {
    /// Turns the unit into what the gateway acts on; `source` and `arrival_ns` are the
    /// stream's name and the arrival of the bytes that completed it.
    fn into_decoded(self, source: &Arc<str>, arrival_ns: u64, sink: &mut dyn FnMut(Decoded));

    /// Writes the unit's JSON object (field names fixed by DESIGN.md, no newline) to `out`
    /// as it is serialized: a large unit (a 1 MB LLRP report) is never held as text.
    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()>;

    /// A one-line human summary.
    fn summary(&self) -> String;

    /// The JSON object as a value, for programs that compare it field by field.
    fn to_json(&self) -> serde_json::Value {
        let mut bytes = Vec::new();
        self.write_json(&mut bytes)
            .and_then(|()| serde_json::from_slice(&bytes))
            .unwrap_or(serde_json::Value::Null)
    }
}

/// What [`UnitDecoder::feed_shown_decoded`] hands each unit to: the unit and what it turned
/// into.
pub type ShowDecoded<'a> = dyn FnMut(&dyn Unit, &[Decoded]) -> io::Result<()> + 'a;

/// A format's streaming decoder behind one interface: the table's `decoder` column.
pub trait UnitDecoder: Send {
    /// Feeds bytes; every completed unit is turned into what the gateway acts on.
    fn feed_decoded(
        &mut self,
        bytes: &[u8],
        source: &Arc<str>,
        arrival_ns: u64,
        sink: &mut dyn FnMut(Decoded),
    );

    /// Feeds bytes; every completed unit is handed over to be shown.
    fn feed_shown(
        &mut self,
        bytes: &[u8],
        show: &mut dyn FnMut(&dyn Unit) -> io::Result<()>,
    ) -> io::Result<()>;

    /// Feeds bytes; every completed unit is handed over to be shown together with what it
    /// turns into (records stamped with `source`, `arrival_ns` and their wire bytes, as
    /// [`feed_decoded`](Self::feed_decoded) makes them), so a replay can print a unit next to
    /// the gateway times of its records.
    fn feed_shown_decoded(
        &mut self,
        bytes: &[u8],
        source: &Arc<str>,
        arrival_ns: u64,
        show: &mut ShowDecoded<'_>,
    ) -> io::Result<()>;

    /// Ends the input: the next feed (of no bytes) yields a last unterminated unit.
    fn finish(&mut self);

    /// The decoder's counters (bytes skipped, frames rejected...).
    fn stats(&self) -> StreamStats;
}

/// Stamps a record with the byte length of the unit it came from.
fn with_wire_bytes(mut decoded: Decoded, wire_bytes: u32) -> Decoded {
    if let Decoded::Record(record) = &mut decoded {
        record.wire_bytes = wire_bytes;
    }
    decoded
}

impl<D> UnitDecoder for D
where
    D: StreamDecoder + Send,
    D::Item: Unit + Clone,
{
    fn feed_decoded(
        &mut self,
        bytes: &[u8],
        source: &Arc<str>,
        arrival_ns: u64,
        sink: &mut dyn FnMut(Decoded),
    ) {
        decode_chunk_sized(self, bytes, |unit, size| {
            let wire_bytes = u32::try_from(size).unwrap_or(u32::MAX);
            unit.into_decoded(source, arrival_ns, &mut |decoded| {
                sink(with_wire_bytes(decoded, wire_bytes))
            });
        });
    }

    fn feed_shown(
        &mut self,
        bytes: &[u8],
        show: &mut dyn FnMut(&dyn Unit) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut result = Ok(());
        decode_chunk(self, bytes, |unit| {
            if result.is_ok() {
                result = show(&unit);
            }
        });
        result
    }

    fn feed_shown_decoded(
        &mut self,
        bytes: &[u8],
        source: &Arc<str>,
        arrival_ns: u64,
        show: &mut ShowDecoded<'_>,
    ) -> io::Result<()> {
        let mut result = Ok(());
        let mut decoded = Vec::new();
        decode_chunk_sized(self, bytes, |unit, size| {
            if result.is_err() {
                return;
            }
            let wire_bytes = u32::try_from(size).unwrap_or(u32::MAX);
            decoded.clear();
            unit.clone().into_decoded(source, arrival_ns, &mut |d| {
                decoded.push(with_wire_bytes(d, wire_bytes))
            });
            result = show(&unit, &decoded);
        });
        result
    }

    fn finish(&mut self) {
        StreamDecoder::finish(self);
    }

    fn stats(&self) -> StreamStats {
        *StreamDecoder::stats(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_sits_at_its_formats_index_and_every_name_maps_back() {
        for format in Format::ALL {
            assert_eq!(format.row().format, format);
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(Format::from_name("pcap"), None);
    }
}
