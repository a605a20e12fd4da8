//! `dagr decode`: one recorded byte stream in, one record per line out.
//!
//! Each device format has a submodule that names its streaming decoder and says how one
//! of its records is shown: as the JSON object DESIGN.md fixes (field names are a contract
//! with tests and users' scripts) and as a one-line human summary. This module owns the
//! loop they share: read the input in chunks, feed the decoder, print, and report what was
//! skipped or rejected, so no byte is dropped without a count.
use std::io::{self, Read, Write};

use anyhow::Context;
use dagr_protocols::stream::{StreamDecoder, StreamStats};

pub mod esp32_csi;
pub mod esp_csi;
pub mod intel5300;
pub mod llrp;
pub mod node;
pub mod ti_mmwave;

/// The device formats `dagr decode` understands (the `--format` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Format {
    /// The name used on the command line (`--format NAME`) and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::TiMmwave => "ti-mmwave",
            Format::Esp32Csi => "esp32-csi",
            Format::EspCsi => "esp-csi",
            Format::Intel5300 => "intel5300",
            Format::Llrp => "llrp",
            Format::Node => "node",
        }
    }
}

/// How a decoded record is shown to people and to programs.
pub trait ShowRecord {
    /// The JSON object for `--json` output; field names are fixed by DESIGN.md.
    fn to_json(&self) -> serde_json::Value;
    /// A one-line human summary.
    fn summary(&self) -> String;
}

/// What a decode run saw: records yielded plus the decoder's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeReport {
    /// Records printed.
    pub records: u64,
    /// The decoder's counters at end of input.
    pub stats: StreamStats,
}

/// Decodes `input` as `format`, printing one line per record to `out`.
pub fn decode(
    format: Format,
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<DecodeReport> {
    match format {
        Format::TiMmwave => ti_mmwave::decode(input, json, out),
        Format::Esp32Csi => esp32_csi::decode(input, json, out),
        Format::EspCsi => esp_csi::decode(input, json, out),
        Format::Intel5300 => intel5300::decode(input, json, out),
        Format::Llrp => llrp::decode(input, json, out),
        Format::Node => node::decode(input, json, out),
    }
}

/// The loop every format shares: chunks in, records out, counters back.
pub fn run<D>(
    mut decoder: D,
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<DecodeReport>
where
    D: StreamDecoder,
    D::Item: ShowRecord,
{
    let mut records = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut print = |item: D::Item, out: &mut dyn Write| -> io::Result<()> {
        records += 1;
        if json {
            serde_json::to_writer(&mut *out, &item.to_json())?;
            out.write_all(b"\n")
        } else {
            writeln!(out, "{}", item.summary())
        }
    };
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading input"),
        };
        let mut rest = &chunk[..n];
        while !rest.is_empty() {
            let taken = decoder.push(rest);
            rest = &rest[taken..];
            while let Some(item) = decoder.next_item() {
                print(item, out)?;
            }
        }
    }
    decoder.finish();
    while let Some(item) = decoder.next_item() {
        print(item, out)?;
    }
    out.flush()?;
    Ok(DecodeReport {
        records,
        stats: *decoder.stats(),
    })
}
