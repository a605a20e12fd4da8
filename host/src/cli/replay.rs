//! `dagr replay` (without a model): a capture's units, printed as `dagr decode` prints
//! them, with their source, modality and gateway time, and the capture's labels among them.
//!
//! Each stream is decoded by its format's decoder from the format table and printed by
//! [`replayed_unit_line`], so a replayed stream prints exactly the objects `dagr decode` prints for
//! the same bytes (one per LLRP message, as decode does, where the gateway's records are
//! per tag report). Node frames keep their own `"modality"` field. With `--json`, each unit
//! also gives `"mapped_ns"`: where the synchronizer places each of its records (the
//! records through their source's clock model, wire time taken off serial arrivals, exactly
//! as `dataset export` and `replay --model` map them), so a program can cut the windows
//! those commands cut.
use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use dagr_host::capture::{seconds, CaptureReader, Entry, Label, Pacer, Speed, StreamInfo};
use dagr_host::clock::SourceClocks;
use dagr_host::format::{Decoded, UnitDecoder};
use dagr_host::print::{replayed_unit_line, ReplayedTimes};
use dagr_host::source::serial::settings::wire_rate;
use serde_json::json;

use super::{context, Failure, Outcome};

/// Replays `file` at `speed`, printing units and labels.
pub fn run(file: &Path, speed: Speed, json: bool) -> Outcome {
    let (_, labels) = CaptureReader::catalog(file)?;
    let reader = CaptureReader::open(file)?;
    let stdout = io::stdout();
    let mut printer = Printer::new(
        BufWriter::with_capacity(1 << 16, stdout.lock()),
        json,
        labels,
    );
    let lost = match printer.replay(reader, speed) {
        Ok((warning, lost)) => {
            if let Some(warning) = warning {
                eprintln!("dagr replay: warning: {warning}");
            }
            lost
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(context("writing output")(e).into()),
    };
    if let Some(lost) = lost {
        return Err(Failure::DataLost(lost));
    }
    if printer.units == 0 && printer.bytes > 0 {
        return Err(Failure::NothingDecodable(format!(
            "{}: no records decoded from {} bytes",
            file.display(),
            printer.bytes
        )));
    }
    Ok(())
}

struct Stream {
    info: Arc<StreamInfo>,
    decoder: Box<dyn UnitDecoder>,
    last_ns: u64,
}

struct Printer<W: Write> {
    out: W,
    json: bool,
    /// Labels not printed yet, latest first (popped from the end).
    labels: Vec<Label>,
    streams: HashMap<Arc<str>, Stream>,
    /// Every stream's clock model, fed as the pipeline feeds it.
    clocks: SourceClocks,
    /// The mapped times of the unit being printed (reused between units).
    mapped: Vec<u64>,
    /// Stream names in order of first appearance (to finish them in a stable order).
    order: Vec<Arc<str>>,
    /// The lines of one chunk, printed after the labels that start before them.
    lines: Vec<u8>,
    units: u64,
    bytes: u64,
}

impl<W: Write> Printer<W> {
    fn new(out: W, json: bool, mut labels: Vec<Label>) -> Self {
        labels.sort_by(|a, b| b.start.total_cmp(&a.start));
        Printer {
            out,
            json,
            labels,
            streams: HashMap::new(),
            clocks: SourceClocks::new(),
            mapped: Vec::new(),
            order: Vec::new(),
            lines: Vec::new(),
            units: 0,
            bytes: 0,
        }
    }

    /// Prints the whole capture; returns the reader's truncation warning and data loss.
    fn replay(
        &mut self,
        mut reader: CaptureReader,
        speed: Speed,
    ) -> io::Result<(Option<String>, Option<String>)> {
        let mut pacer = Pacer::new(speed);
        for entry in reader.by_ref() {
            let Entry::Chunk {
                stream,
                log_ns,
                bytes,
                ..
            } = entry
            else {
                continue;
            };
            pacer.wait_until(log_ns, &|| false);
            self.chunk(&stream, log_ns, &bytes)?;
            if speed != Speed::Max {
                self.out.flush()?;
            }
        }
        for name in std::mem::take(&mut self.order) {
            let mut stream = self
                .streams
                .remove(&name)
                .expect("every ordered stream exists");
            stream.decoder.finish();
            self.show(&mut stream, &[])?;
        }
        while let Some(label) = self.labels.pop() {
            self.print_label(&label)?;
        }
        self.out.flush()?;
        Ok((reader.warning(), reader.loss()))
    }

    fn chunk(&mut self, info: &Arc<StreamInfo>, log_ns: u64, bytes: &[u8]) -> io::Result<()> {
        self.bytes += bytes.len() as u64;
        let mut stream = self.streams.remove(&info.name).unwrap_or_else(|| {
            self.order.push(info.name.clone());
            if let Some(rate) = wire_rate(&info.uri) {
                self.clocks.set_wire(&info.name, rate);
            }
            Stream {
                info: info.clone(),
                decoder: info.format.decoder(),
                last_ns: log_ns,
            }
        });
        stream.last_ns = log_ns;
        let shown = self.show(&mut stream, bytes);
        self.streams.insert(info.name.clone(), stream);
        shown
    }

    /// Decodes and prints; with `--json`, maps the records' times too (the human lines do
    /// not show them).
    fn show(&mut self, stream: &mut Stream, bytes: &[u8]) -> io::Result<()> {
        let t = seconds(stream.last_ns);
        let (json, info) = (self.json, &stream.info);
        let (lines, units) = (&mut self.lines, &mut self.units);
        let (clocks, mapped) = (&mut self.clocks, &mut self.mapped);
        lines.clear();
        let modality = info.format.modality();
        if json {
            let mut each = |unit: &dyn dagr_host::format::Unit, decoded: &[Decoded]| {
                *units += 1;
                map_times(clocks, decoded, mapped);
                let times = ReplayedTimes {
                    t,
                    mapped_ns: mapped,
                };
                replayed_unit_line(unit, true, &info.name, modality, times, lines)
            };
            let (name, at) = (&info.name, stream.last_ns);
            stream
                .decoder
                .feed_shown_decoded(bytes, name, at, &mut each)?;
        } else {
            let times = ReplayedTimes { t, mapped_ns: &[] };
            stream.decoder.feed_shown(bytes, &mut |unit| {
                *units += 1;
                replayed_unit_line(unit, false, &info.name, modality, times, lines)
            })?;
        }
        if !self.lines.is_empty() {
            self.print_labels_until(t)?;
            self.out.write_all(&self.lines)?;
        }
        Ok(())
    }

    fn print_labels_until(&mut self, t: f64) -> io::Result<()> {
        while self.labels.last().is_some_and(|l| l.start <= t) {
            let label = self.labels.pop().expect("checked above");
            self.print_label(&label)?;
        }
        Ok(())
    }

    fn print_label(&mut self, label: &Label) -> io::Result<()> {
        if self.json {
            let line = json!({"label": label.class, "start": label.start, "end": label.end});
            writeln!(self.out, "{line}")
        } else {
            writeln!(
                self.out,
                "{:.3}-{:.3} label: {}",
                label.start, label.end, label.class
            )
        }
    }
}

/// Takes a unit's records and time-sync answers through the clock models, as the pipeline
/// does, leaving the records' mapped times in `mapped`.
fn map_times(clocks: &mut SourceClocks, decoded: &[Decoded], mapped: &mut Vec<u64>) {
    mapped.clear();
    for d in decoded {
        match d {
            Decoded::Record(record) => mapped.push(clocks.map(record)),
            // A rejected exchange leaves the model as it was, as in the pipeline.
            Decoded::TimeSync(exchange) => {
                let _ = clocks.time_sync(exchange);
            }
            Decoded::Control(_) => {}
        }
    }
}
