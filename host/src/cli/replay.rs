//! `dagr replay` (without a model): a capture's records, printed as `dagr decode` prints
//! them, with their source, modality and gateway time, and the capture's labels among them.
//!
//! Printing uses each format's own streaming decoder and [`ShowRecord`], so a replayed
//! stream prints exactly the objects `dagr decode` prints for the same bytes (one per LLRP
//! message, as decode does, where the gateway's records are per tag report). Node frames
//! keep their own `"modality"` field.
use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use dagr_host::capture::{seconds, CaptureReader, Entry, Label, Pacer, Speed, StreamInfo};
use dagr_host::decode::{Format, ShowRecord};
use dagr_protocols::csi::{esp32_csi_tool, esp_csi, intel5300};
use dagr_protocols::stream::StreamDecoder;
use dagr_protocols::{llrp, node, ti_mmwave};
use serde_json::{json, Value};

/// Replays `file` at `speed`, printing records and labels.
pub fn run(file: &Path, speed: Speed, json: bool) -> ExitCode {
    let labels = match CaptureReader::catalog(file) {
        Ok((_, labels)) => labels,
        Err(e) => return fail(&e),
    };
    let reader = match CaptureReader::open(file) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let stdout = io::stdout();
    let mut printer = Printer::new(BufWriter::new(stdout.lock()), json, labels);
    let outcome = printer.replay(reader, speed);
    match outcome {
        Ok(Some(warning)) => eprintln!("dagr replay: warning: {warning}"),
        Ok(None) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dagr replay: writing output: {e}");
            return ExitCode::from(2);
        }
    }
    if printer.records == 0 && printer.bytes > 0 {
        eprintln!(
            "dagr replay: {}: no records decoded from {} bytes",
            file.display(),
            printer.bytes
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("dagr replay: {e}");
    ExitCode::from(2)
}

/// One format's streaming decoder, yielding items that know how to show themselves.
trait ShowDecoder {
    /// Feeds bytes (none at all with `finish`), handing every completed item to `each`.
    fn feed(&mut self, bytes: &[u8], finish: bool, each: &mut dyn FnMut(&dyn ShowRecord));
}

impl<D> ShowDecoder for D
where
    D: StreamDecoder,
    D::Item: ShowRecord,
{
    fn feed(&mut self, mut bytes: &[u8], finish: bool, each: &mut dyn FnMut(&dyn ShowRecord)) {
        if finish {
            self.finish();
        }
        loop {
            let taken = self.push(bytes);
            bytes = &bytes[taken..];
            while let Some(item) = self.next_item() {
                each(&item);
            }
            if bytes.is_empty() {
                break;
            }
        }
    }
}

fn show_decoder(format: Format) -> Box<dyn ShowDecoder> {
    match format {
        Format::TiMmwave => Box::new(ti_mmwave::FrameDecoder::new()),
        Format::Esp32Csi => Box::new(esp32_csi_tool::RowDecoder::new()),
        Format::EspCsi => Box::new(esp_csi::RowDecoder::new()),
        Format::Intel5300 => Box::new(intel5300::BfeeDecoder::new()),
        Format::Llrp => Box::new(llrp::MessageDecoder::new()),
        Format::Node => Box::new(node::FrameDecoder::new()),
    }
}

struct Stream {
    info: Arc<StreamInfo>,
    decoder: Box<dyn ShowDecoder>,
    last_ns: u64,
}

struct Printer<W: Write> {
    out: W,
    json: bool,
    /// Labels not printed yet, latest first (popped from the end).
    labels: Vec<Label>,
    streams: HashMap<Arc<str>, Stream>,
    /// Stream names in order of first appearance (to finish them in a stable order).
    order: Vec<Arc<str>>,
    records: u64,
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
            order: Vec::new(),
            records: 0,
            bytes: 0,
        }
    }

    /// Prints the whole capture; returns the reader's truncation warning.
    fn replay(&mut self, mut reader: CaptureReader, speed: Speed) -> io::Result<Option<String>> {
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
            let stream = self
                .streams
                .remove(&name)
                .expect("every ordered stream exists");
            self.show(stream, &[], true)?;
        }
        while let Some(label) = self.labels.pop() {
            self.print_label(&label)?;
        }
        self.out.flush()?;
        Ok(reader.warning())
    }

    fn chunk(&mut self, info: &Arc<StreamInfo>, log_ns: u64, bytes: &[u8]) -> io::Result<()> {
        self.bytes += bytes.len() as u64;
        let mut stream = self.streams.remove(&info.name).unwrap_or_else(|| {
            self.order.push(info.name.clone());
            Stream {
                info: info.clone(),
                decoder: show_decoder(info.format),
                last_ns: log_ns,
            }
        });
        stream.last_ns = log_ns;
        let stream = self.show(stream, bytes, false)?;
        self.streams.insert(info.name.clone(), stream);
        Ok(())
    }

    /// Decodes and prints; hands the stream back.
    fn show(&mut self, mut stream: Stream, bytes: &[u8], finish: bool) -> io::Result<Stream> {
        let mut lines = Vec::new();
        let t = seconds(stream.last_ns);
        stream.decoder.feed(bytes, finish, &mut |item| {
            lines.push(if self.json {
                record_json(item.to_json(), &stream.info, t).to_string()
            } else {
                format!("{t:.3} {}: {}", stream.info.name, item.summary())
            });
        });
        if !lines.is_empty() {
            self.print_labels_until(t)?;
        }
        for line in lines {
            self.records += 1;
            writeln!(self.out, "{line}")?;
        }
        Ok(stream)
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

/// Decode's object plus `"source"`, `"modality"` (unless the record has its own) and `"t"`.
fn record_json(mut value: Value, stream: &StreamInfo, t: f64) -> Value {
    if let Value::Object(object) = &mut value {
        object.insert("source".into(), json!(&*stream.name));
        object
            .entry("modality")
            .or_insert_with(|| json!(stream.modality_name()));
        object.insert("t".into(), json!(t));
    }
    value
}
