//! Printing decoded units for people and programs: `dagr decode` (one byte stream in, one
//! line per unit out) and the lines `dagr replay` prints per stream.
//!
//! A unit is shown as the JSON object DESIGN.md fixes (field names are a contract with
//! tests and users' scripts), written straight from the decoded values into the output
//! buffer, or as a one-line human summary. Every skipped or rejected byte is counted in the
//! [`DecodeReport`], so nothing is dropped without a count.
//!
//! This module must not know sources, captures or the command line: it reads bytes and
//! writes lines.
use std::io::{self, Read, Write};

use dagr_protocols::stream::StreamStats;

use crate::format::{Format, Unit};
use crate::record::Modality;

/// What a decode run saw: units printed plus the decoder's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeReport {
    /// Units printed (records, or protocol messages for LLRP and node links).
    pub units: u64,
    /// The decoder's counters at end of input.
    pub stats: StreamStats,
}

/// Why printing a stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The input could not be read.
    #[error("reading input")]
    Read(#[source] io::Error),
    /// The output could not be written (a closed pipe, a full disk).
    #[error("writing output")]
    Write(#[source] io::Error),
}

impl PrintError {
    /// True when the reader of our output went away (`| head`): not worth reporting.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, PrintError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Appends `unit`'s line to `line`: its JSON object or its summary, plus a newline.
pub fn unit_line(unit: &dyn Unit, json: bool, line: &mut Vec<u8>) {
    if json {
        // Serializing into memory fails only for maps with non-string keys, which no
        // format has; an object that cannot be written is shown as `null`, never dropped.
        if unit.write_json(line).is_err() {
            line.extend_from_slice(b"null");
        }
    } else {
        line.extend_from_slice(unit.summary().as_bytes());
    }
    line.push(b'\n');
}

/// Writes `unit`'s line to `out` as [`unit_line`] would make it, without holding it: the
/// JSON object goes out as it is serialized.
fn write_unit_line(unit: &dyn Unit, json: bool, out: &mut dyn Write) -> io::Result<()> {
    if json {
        if let Err(e) = unit.write_json(out) {
            // Only the writer can fail here (see unit_line); a broken pipe is reported.
            return Err(e
                .io_error_kind()
                .map_or_else(|| io::Error::other(e), io::Error::from));
        }
    } else {
        out.write_all(unit.summary().as_bytes())?;
    }
    out.write_all(b"\n")
}

/// Where a replayed unit sits in time: the gateway time of the chunk that completed it and
/// where the synchronizer places each of its records.
#[derive(Debug, Clone, Copy)]
pub struct ReplayedTimes<'a> {
    /// Arrival of the chunk that completed the unit (its MCAP log time), s.
    pub t: f64,
    /// Each record the unit gave, in order, at its device time mapped to gateway ns by its
    /// source's clock model: the time windows are cut on. Empty for a unit without records.
    pub mapped_ns: &'a [u64],
}

/// Appends the line `dagr replay` prints for `unit` of stream `source`: JSON — decode's
/// object plus `"source"`, `"modality"` (when the stream's format has one; node frames
/// carry their own), `"t"` and, when the unit gave records, `"mapped_ns"`; human —
/// `T SOURCE: SUMMARY`.
pub fn replayed_unit_line(
    unit: &dyn Unit,
    json: bool,
    source: &str,
    modality: Option<Modality>,
    times: ReplayedTimes<'_>,
    line: &mut Vec<u8>,
) -> io::Result<()> {
    let t = times.t;
    if !json {
        line.extend_from_slice(format!("{t:.3} {source}: ").as_bytes());
        unit_line(unit, false, line);
        return Ok(());
    }
    unit_line(unit, true, line);
    // unit_line ends an object with `}\n`: reopen it for the fields a replay adds.
    if !line.ends_with(b"}\n") {
        return Ok(());
    }
    line.truncate(line.len() - 2);
    line.extend_from_slice(b",\"source\":");
    serde_json::to_writer(&mut *line, source)?;
    if let Some(modality) = modality {
        line.extend_from_slice(b",\"modality\":");
        serde_json::to_writer(&mut *line, modality.name())?;
    }
    line.extend_from_slice(b",\"t\":");
    serde_json::to_writer(&mut *line, &t)?;
    if !times.mapped_ns.is_empty() {
        line.extend_from_slice(b",\"mapped_ns\":");
        serde_json::to_writer(&mut *line, times.mapped_ns)?;
    }
    line.extend_from_slice(b"}\n");
    Ok(())
}

/// Decodes `input` as `format`, printing one line per unit to `out`.
pub fn print_stream(
    format: Format,
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> Result<DecodeReport, PrintError> {
    let mut decoder = format.decoder();
    let mut units = 0u64;
    let mut print = |unit: &dyn Unit| {
        units += 1;
        write_unit_line(unit, json, &mut *out)
    };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(PrintError::Read(e)),
        };
        decoder
            .feed_shown(&chunk[..n], &mut print)
            .map_err(PrintError::Write)?;
    }
    decoder.finish();
    decoder
        .feed_shown(&[], &mut print)
        .map_err(PrintError::Write)?;
    out.flush().map_err(PrintError::Write)?;
    Ok(DecodeReport {
        units,
        stats: decoder.stats(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_a_csv_stream_is_one_json_line_and_garbage_is_counted() {
        let rows = "noise\nCSI_DATA,AP,3C:71:BF:6D:2A:78,-73,11,1,0,1,1,1,0,0,0,0,-93,0,6,1,\
                    80272146,0,101,0,0,80.363225,4,[1 2 3 4 ]\n";
        let mut out = Vec::new();
        let report = print_stream(Format::Esp32Csi, &mut rows.as_bytes(), true, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(report.units, 1, "{text}");
        assert!(report.stats.bytes_skipped > 0);
        assert!(
            text.starts_with(r#"{"mac":"3C:71:BF:6D:2A:78","rssi":-73,"#),
            "{text}"
        );
        assert!(text.ends_with("}\n"), "{text}");
    }

    #[test]
    fn a_replayed_line_is_the_decoded_object_with_source_modality_and_times_appended() {
        let row = "CSI_DATA,AP,3C:71:BF:6D:2A:78,-73,11,1,0,1,1,1,0,0,0,0,-93,0,6,1,\
                   80272146,0,101,0,0,80.363225,4,[1 2 3 4 ]\n";
        let mut decoder = Format::Esp32Csi.decoder();
        let mut line = Vec::new();
        let times = ReplayedTimes {
            t: 1.5,
            mapped_ns: &[1_499_000_000],
        };
        decoder
            .feed_shown(row.as_bytes(), &mut |unit| {
                replayed_unit_line(unit, true, "esp\"1", Some(Modality::Wifi), times, &mut line)
            })
            .unwrap();
        let text = String::from_utf8(line).unwrap();
        let tail = "\"ant\":0,\"source\":\"esp\\\"1\",\"modality\":\"wifi\",\"t\":1.5,\
                    \"mapped_ns\":[1499000000]}\n";
        assert!(text.ends_with(tail), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["mac"], "3C:71:BF:6D:2A:78");
    }
}
