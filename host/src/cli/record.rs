//! `dagr record`: the gateway runtime with the capture recorder as its sink, until a
//! duration, the sources' end, or a signal.
use std::path::Path;
use std::time::{Duration, Instant};

use dagr_host::capture::writer::epoch_unix_ns;
use dagr_host::capture::{CaptureReader, CaptureWriter, Label, Recorder, StreamInfo};
use dagr_host::clock::GatewayClock;
use dagr_host::events::SourceCounters;
use dagr_host::output::{create_locked, Overwrite};
use dagr_host::runtime::{watch_signals, Gateway, Until};
use dagr_host::source::serial::settings::wire_rate;
use dagr_host::source::{self, Output, Scheme, SourceUri};

use super::{Failure, Outcome, UsageError};

/// Records `sources` into `out`; see `dagr record --help`.
pub fn run(sources: &[String], out: &Path, duration: Option<f64>, overwrite: Overwrite) -> Outcome {
    let deadline = match duration {
        Some(s) => Some(deadline_after(s)?),
        None => None,
    };
    let uris = sources
        .iter()
        .map(|s| SourceUri::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    for uri in &uris {
        source::check(uri)?; // its errors name the URI
    }
    refuse_to_overwrite_a_replayed_capture(&uris, out)?;
    let (streams, labels) = catalog(&uris)?;
    let interrupt = watch_signals()?;
    let clock = GatewayClock::new();
    // Only now, with every source checked, is --out touched.
    let file = super::out_error(create_locked(out, overwrite))?;
    let mut recorder = Recorder::new(CaptureWriter::with_file(file, out, epoch_unix_ns(&clock))?);
    for stream in &streams {
        recorder.add_stream(stream)?;
        if let Some(rate) = wire_rate(&stream.uri) {
            recorder.set_wire(&stream.name, rate);
        }
    }
    for label in &labels {
        recorder.write_label(label)?;
    }
    let gateway = Gateway::start(&uris, clock, Output::ChunksOnly)?;
    let until = Until {
        deadline,
        interrupt: Some(interrupt),
    };
    let pumped = gateway.pump(&mut recorder, &until);
    let drained = gateway.stop(&mut recorder);
    pumped.and(drained)?;
    let unregistered = recorder.unregistered_chunks();
    let tallies = recorder.finish()?;
    eprintln!("dagr record: wrote {}", out.display());
    for (name, t) in &tallies {
        eprintln!(
            "  {name}: {} bytes, {} chunks, {} records",
            t.bytes, t.chunks, t.records
        );
    }
    for source in gateway.sources() {
        let dropped = SourceCounters::get(&source.counters.dropped_events);
        eprintln!("  source {}: {dropped} events dropped", source.uri.text);
    }
    if unregistered > 0 {
        eprintln!("  {unregistered} chunks from undeclared sources skipped");
    }
    let silent: Vec<String> = gateway
        .sources()
        .iter()
        .filter(|s| s.bytes_in() == 0)
        .map(|s| s.uri.text.clone())
        .collect();
    gateway.join()?;
    if !silent.is_empty() {
        return Err(Failure::NothingDecodable(format!(
            "no byte from {} (the reasons are above and in the capture's /status)",
            silent.join(", ")
        )));
    }
    Ok(())
}

/// The instant `s` seconds from now, when the clock can hold it.
fn deadline_after(s: f64) -> Result<Instant, UsageError> {
    Duration::try_from_secs_f64(s)
        .ok()
        .and_then(|d| Instant::now().checked_add(d))
        .ok_or_else(|| UsageError(format!("--duration {s}: expected seconds from 0 to 3.2e8")))
}

/// The streams the capture will hold, and the labels to carry over from replayed captures.
fn catalog(uris: &[SourceUri]) -> Result<(Vec<StreamInfo>, Vec<Label>), super::Failure> {
    let (mut streams, mut labels) = (Vec::new(), Vec::new());
    for uri in uris {
        let format = match uri.scheme {
            Scheme::Device(format) => format,
            Scheme::Replay => {
                let (replayed, replayed_labels) = CaptureReader::catalog(Path::new(&uri.target))?;
                streams.extend(replayed.iter().map(|s| StreamInfo::clone(s)));
                labels.extend(replayed_labels);
                continue;
            }
        };
        streams.push(StreamInfo {
            name: uri.name().into(),
            format,
            uri: uri.text.clone(),
        });
    }
    for (i, stream) in streams.iter().enumerate() {
        if streams[..i].iter().any(|s| s.name == stream.name) {
            return Err(UsageError(format!(
                "two sources are named {:?}; give one a name with ?name=NAME",
                stream.name
            ))
            .into());
        }
    }
    Ok((streams, labels))
}

/// `--out` naming a capture being replayed would destroy it before it is read.
fn refuse_to_overwrite_a_replayed_capture(uris: &[SourceUri], out: &Path) -> Outcome {
    let Ok(out) = out.canonicalize() else {
        return Ok(()); // does not exist yet
    };
    for uri in uris.iter().filter(|u| u.scheme == Scheme::Replay) {
        if Path::new(&uri.target)
            .canonicalize()
            .is_ok_and(|t| t == out)
        {
            return Err(UsageError(format!(
                "--out {} is the capture {} replays; write to another file",
                out.display(),
                uri.text
            ))
            .into());
        }
    }
    Ok(())
}
