//! `dagr record`: sources in, capture out, until a duration, the sources' end, or a signal.
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select};
use dagr_host::capture::writer::epoch_unix_ns;
use dagr_host::capture::{CaptureReader, CaptureWriter, Label, Recorder, StreamInfo};
use dagr_host::clock::GatewayClock;
use dagr_host::decode::Format;
use dagr_host::events::{self, OverflowPolicy, SourceCounters, SourceEvent, StopFlag};
use dagr_host::source::{self, Output, Scheme, SourceContext, SourceUri};

/// How long sources get to wind down after a stop request.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// One started source.
struct Running {
    uri: SourceUri,
    counters: Arc<SourceCounters>,
    events: Receiver<SourceEvent>,
    thread: JoinHandle<()>,
}

/// Records `sources` into `out`; see `dagr record --help`.
pub fn run(sources: &[String], out: &Path, duration: Option<f64>) -> ExitCode {
    match record(sources, out, duration) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dagr record: {message}");
            ExitCode::from(2)
        }
    }
}

fn record(sources: &[String], out: &Path, duration: Option<f64>) -> Result<(), String> {
    let deadline = match duration {
        Some(s) if s.is_finite() && s >= 0.0 => Some(Instant::now() + Duration::from_secs_f64(s)),
        Some(s) => return Err(format!("--duration {s} is not a number of seconds >= 0")),
        None => None,
    };
    let uris = sources
        .iter()
        .map(|s| SourceUri::parse(s).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    refuse_to_overwrite_a_replayed_capture(&uris, out)?;
    let (streams, labels) = catalog(&uris)?;
    let interrupted = watch_signals()?;
    let clock = GatewayClock::new();
    let writer = CaptureWriter::create(out, epoch_unix_ns(&clock)).map_err(|e| e.to_string())?;
    let mut recorder = Recorder::new(writer);
    for stream in &streams {
        recorder.add_stream(stream).map_err(|e| e.to_string())?;
    }
    for label in &labels {
        recorder.write_label(label).map_err(|e| e.to_string())?;
    }
    let stop = StopFlag::default();
    let running = start(&uris, &clock, &stop)?;
    let outcome = pump(&mut recorder, &running, deadline, &interrupted);
    stop.stop();
    let wound_down = Instant::now() + STOP_GRACE;
    while running.iter().any(|r| !r.thread.is_finished()) && Instant::now() < wound_down {
        std::thread::sleep(Duration::from_millis(10));
    }
    let drained = running
        .iter()
        .flat_map(|r| r.events.try_iter())
        .try_for_each(|event| recorder.handle(event));
    outcome.and(drained).map_err(|e| e.to_string())?;
    let unregistered = recorder.unregistered_chunks();
    let tallies = recorder.finish().map_err(|e| e.to_string())?;
    eprintln!("dagr record: wrote {}", out.display());
    for (name, t) in &tallies {
        eprintln!(
            "  {name}: {} bytes, {} chunks, {} records",
            t.bytes, t.chunks, t.records
        );
    }
    for r in &running {
        let dropped = SourceCounters::get(&r.counters.dropped_events);
        eprintln!("  source {}: {dropped} events dropped", r.uri.text);
    }
    if unregistered > 0 {
        eprintln!("  {unregistered} chunks from undeclared sources skipped");
    }
    Ok(())
}

/// The streams the capture will hold, and the labels to carry over from replayed captures.
fn catalog(uris: &[SourceUri]) -> Result<(Vec<StreamInfo>, Vec<Label>), String> {
    let (mut streams, mut labels) = (Vec::new(), Vec::new());
    for uri in uris {
        let format = match uri.scheme {
            Scheme::Serial(format) => format,
            Scheme::Llrp => Format::Llrp,
            Scheme::Replay => {
                let (replayed, replayed_labels) =
                    CaptureReader::catalog(Path::new(&uri.target)).map_err(|e| e.to_string())?;
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
            return Err(format!(
                "two sources are named {:?}; give one a name with ?name=NAME",
                stream.name
            ));
        }
    }
    Ok((streams, labels))
}

/// `--out` naming a capture being replayed would destroy it before it is read.
fn refuse_to_overwrite_a_replayed_capture(uris: &[SourceUri], out: &Path) -> Result<(), String> {
    let Ok(out) = out.canonicalize() else {
        return Ok(()); // does not exist yet
    };
    for uri in uris.iter().filter(|u| u.scheme == Scheme::Replay) {
        if Path::new(&uri.target)
            .canonicalize()
            .is_ok_and(|t| t == out)
        {
            return Err(format!(
                "--out {} is the capture {} replays; write to another file",
                out.display(),
                uri.text
            ));
        }
    }
    Ok(())
}

/// A flag set by SIGINT or SIGTERM; a second signal ends the process at once (exit 1),
/// leaving the file readable up to its last closed chunk.
fn watch_signals() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone())
            .and_then(|_| signal_hook::flag::register(signal, flag.clone()))
            .map_err(|e| format!("cannot watch signal {signal}: {e}"))?;
    }
    Ok(flag)
}

fn start(
    uris: &[SourceUri],
    clock: &GatewayClock,
    stop: &StopFlag,
) -> Result<Vec<Running>, String> {
    let mut running = Vec::new();
    for uri in uris {
        let counters = Arc::new(SourceCounters::default());
        let (events, receiver) = events::channel(
            events::DEFAULT_CAPACITY,
            OverflowPolicy::DropOldest,
            counters.clone(),
        );
        let ctx = SourceContext {
            name: uri.name().into(),
            events,
            stop: stop.clone(),
            clock: *clock,
            output: Output::ChunksOnly,
        };
        match source::spawn(uri, ctx) {
            Ok(thread) => running.push(Running {
                uri: uri.clone(),
                counters,
                events: receiver,
                thread,
            }),
            Err(e) => {
                stop.stop();
                return Err(format!("{}: {e}", uri.text));
            }
        }
    }
    Ok(running)
}

/// Moves events into the recorder until the deadline, a signal, or every source is done.
fn pump(
    recorder: &mut Recorder,
    running: &[Running],
    deadline: Option<Instant>,
    interrupted: &AtomicBool,
) -> Result<(), dagr_host::capture::CaptureError> {
    let mut select = Select::new();
    for r in running {
        select.recv(&r.events);
    }
    loop {
        let now = Instant::now();
        if interrupted.load(Ordering::Relaxed) || deadline.is_some_and(|d| now >= d) {
            return Ok(());
        }
        let all_done = running
            .iter()
            .all(|r| r.thread.is_finished() && r.events.is_empty());
        if all_done {
            return Ok(());
        }
        let mut wait = recorder.tick_due_in().min(Duration::from_millis(100));
        if let Some(d) = deadline {
            wait = wait.min(d - now);
        }
        if let Ok(op) = select.select_timeout(wait) {
            let index = op.index();
            match op.recv(&running[index].events) {
                Ok(event) => recorder.handle(event)?,
                // The source's thread ended and its queue is empty: stop watching it.
                Err(_) => select.remove(index),
            }
        }
        recorder.tick()?;
    }
}
