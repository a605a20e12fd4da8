//! The gateway runtime: sources started from their URIs, supervised, stopped and drained.
//!
//! [`Gateway::start`] gives every source its thread and its own bounded channel (so a
//! flooding device drops its own oldest events, never another's); [`Gateway::pump`] moves
//! their events to an [`EventSink`] until a deadline, a signal ([`watch_signals`]) or the end
//! of every source; [`Gateway::stop`] asks the threads to finish, waits a grace period and
//! hands over what they queued meanwhile. `dagr record` is this runtime with the capture
//! recorder as its sink; `dagr run` will be this runtime with the pipeline, inference and
//! sinks.
//!
//! The runtime must not know what its sink does with events (record, infer, print), nor any
//! device protocol: that is the sources' business.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Select;

use crate::clock::GatewayClock;
use crate::events::{
    self, EventReceiver, EventSink, SourceCounters, SourceEvent, SourceQueue, SourceState,
    SourceStatus, StopFlag,
};
use crate::source::{self, Output, Scheme, SourceContext, SourceError, SourceUri};

/// How long sources get to wind down after a stop request, and the sink to take what they
/// queued: the most a stop adds to a run.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// Longest wait for events before the sink's periodic work runs anyway.
const MAX_WAIT: Duration = Duration::from_millis(100);

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A source refused its URI or could not start its thread.
    #[error("{uri}")]
    Source {
        /// The URI as given.
        uri: String,
        /// Why.
        #[source]
        source: SourceError,
    },
    /// SIGINT/SIGTERM could not be watched.
    #[error("cannot watch signal {signal}")]
    Signal {
        /// The signal number.
        signal: i32,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Says a source's state change as it happens (tracing, on standard error with the
/// binary's subscriber): connected, disconnected with the reason and the retry delay,
/// finished. A replay's states are history, not news: said at debug level only.
fn say_state(replayed: bool, status: &SourceStatus) {
    let source = &*status.source;
    match &status.state {
        state if replayed => tracing::debug!("source {source}: replayed state {state:?}"),
        SourceState::Connected => tracing::info!("source {source}: connected"),
        SourceState::Disconnected {
            reason,
            retry_in_ms,
        } => tracing::warn!(
            "source {source}: disconnected: {reason}; retrying in {} s",
            *retry_in_ms as f64 / 1000.0
        ),
        SourceState::Finished => tracing::info!("source {source}: finished"),
    }
}

/// A source thread panicked: a bug in dagr, said with the source it hit so the command
/// exits non-zero instead of reporting a silently empty stream.
#[derive(Debug, thiserror::Error)]
#[error("source {uri}: its thread panicked: {message}")]
pub struct SourcePanicked {
    /// The source's URI as given.
    pub uri: String,
    /// The panic's message.
    pub message: String,
}

/// Set by SIGINT or SIGTERM (see [`watch_signals`]).
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// True once a signal arrived.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the flag as a signal would: a command stopping its own helpers (the demo's
    /// simulated devices) when it ends for another reason.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// The flag itself, for loops that take an `&AtomicBool`.
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }
}

/// Watches SIGINT and SIGTERM: the first sets the returned [`Interrupt`] so the process
/// can stop cleanly; a second ends the process at once (exit 1), for a stop that hangs.
pub fn watch_signals() -> Result<Interrupt, StartError> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone())
            .and_then(|_| signal_hook::flag::register(signal, flag.clone()))
            .map_err(|source| StartError::Signal { signal, source })?;
    }
    Ok(Interrupt(flag))
}

/// One started source.
pub struct RunningSource {
    /// Its URI.
    pub uri: SourceUri,
    /// Its counters (bytes, records, drops, connects).
    pub counters: Arc<SourceCounters>,
    events: EventReceiver,
    thread: JoinHandle<()>,
}

impl RunningSource {
    /// Hands `event` to `sink`, saying a state change on standard error first.
    fn deliver<S: EventSink>(&self, event: SourceEvent, sink: &mut S) -> Result<(), S::Error> {
        if let SourceEvent::Status(status) = &event {
            say_state(self.uri.scheme == Scheme::Replay, status);
        }
        sink.handle(event)
    }

    /// Bytes the source has delivered so far.
    pub fn bytes_in(&self) -> u64 {
        SourceCounters::get(&self.counters.bytes_in)
    }

    /// True once the thread ended and its queue is empty.
    fn is_done(&self) -> bool {
        self.thread.is_finished() && self.events.is_empty()
    }
}

/// When [`Gateway::pump`] returns, besides every source being done.
#[derive(Debug, Clone, Default)]
pub struct Until {
    /// A time to stop at.
    pub deadline: Option<Instant>,
    /// A signal to stop at.
    pub interrupt: Option<Interrupt>,
}

/// Running sources sharing one clock and one stop flag.
pub struct Gateway {
    sources: Vec<RunningSource>,
    stop: StopFlag,
}

impl Gateway {
    /// Starts a thread per URI, each sending `output` on its own channel of
    /// [`events::DEFAULT_CAPACITY`] events (dropping its oldest when full). If one cannot
    /// start, those already started are stopped.
    pub fn start(
        uris: &[SourceUri],
        clock: GatewayClock,
        output: Output,
    ) -> Result<Gateway, StartError> {
        Gateway::start_with_queue(uris, clock, output, SourceQueue::default())
    }

    /// Like [`start`](Self::start), with each source's channel shaped by `queue`
    /// (gateway.toml's `[queue]`).
    pub fn start_with_queue(
        uris: &[SourceUri],
        clock: GatewayClock,
        output: Output,
        queue: SourceQueue,
    ) -> Result<Gateway, StartError> {
        let stop = StopFlag::default();
        let mut sources = Vec::new();
        for uri in uris {
            let counters = Arc::new(SourceCounters::default());
            let (sender, events) = events::channel(queue, counters.clone());
            let ctx = SourceContext {
                name: uri.name().into(),
                events: sender,
                stop: stop.clone(),
                clock,
                output,
            };
            let thread = source::spawn(uri, ctx).map_err(|source| {
                stop.stop();
                StartError::Source {
                    uri: uri.text.clone(),
                    source,
                }
            })?;
            sources.push(RunningSource {
                uri: uri.clone(),
                counters,
                events,
                thread,
            });
        }
        Ok(Gateway { sources, stop })
    }

    /// The started sources, in URI order.
    pub fn sources(&self) -> &[RunningSource] {
        &self.sources
    }

    /// Moves events into `sink` until `until` says stop or every source is done.
    pub fn pump<S: EventSink>(&self, sink: &mut S, until: &Until) -> Result<(), S::Error> {
        let mut select = Select::new();
        for source in &self.sources {
            source.events.select_on(&mut select);
        }
        loop {
            let now = Instant::now();
            let interrupted = until.interrupt.as_ref().is_some_and(Interrupt::is_set);
            if interrupted || until.deadline.is_some_and(|d| now >= d) {
                return Ok(());
            }
            if self.sources.iter().all(RunningSource::is_done) {
                return Ok(());
            }
            let mut wait = sink.due_in().min(MAX_WAIT);
            if let Some(deadline) = until.deadline {
                wait = wait.min(deadline - now);
            }
            if let Ok(op) = select.select_timeout(wait) {
                let index = op.index();
                let source = &self.sources[index];
                match source.events.complete(op) {
                    Ok(event) => source.deliver(event, sink)?,
                    // The source's thread ended and its queue is empty: stop watching it.
                    Err(_) => select.remove(index),
                }
            }
            sink.tick()?;
        }
    }

    /// Asks every source to stop and hands what they queued to `sink` while they wind down,
    /// for at most [`STOP_GRACE`] in all: a sink slower than a flooding device cannot hold
    /// the exit back. Data events still queued then are counted as dropped (the source's
    /// `dropped_events`); state changes are always delivered.
    pub fn stop<S: EventSink>(&self, sink: &mut S) -> Result<(), S::Error> {
        self.stop.stop();
        let grace_end = Instant::now() + STOP_GRACE;
        while Instant::now() < grace_end {
            let mut delivered = 0;
            for source in &self.sources {
                for event in source.events.try_iter().take(64) {
                    source.deliver(event, sink)?;
                    delivered += 1;
                }
            }
            if delivered == 0 {
                if self.sources.iter().all(RunningSource::is_done) {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for source in &self.sources {
            let mut dropped = 0;
            for event in source.events.try_iter() {
                match event {
                    SourceEvent::Status(_) => source.deliver(event, sink)?,
                    _ => dropped += 1,
                }
            }
            SourceCounters::add(&source.counters.dropped_events, dropped);
        }
        Ok(())
    }
}

impl Gateway {
    /// Ends the gateway after [`stop`](Self::stop): joins the source threads that ended and
    /// reports the first that panicked (a thread still winding down is left to the exit).
    pub fn join(self) -> Result<(), SourcePanicked> {
        for source in self.sources {
            if !source.thread.is_finished() {
                continue;
            }
            if let Err(payload) = source.thread.join() {
                return Err(SourcePanicked {
                    uri: source.uri.text,
                    message: panic_message(payload.as_ref()),
                });
            }
        }
        Ok(())
    }
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(text), _) => (*text).to_string(),
        (_, Some(text)) => text.clone(),
        _ => "(no message)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what it is handed.
    #[derive(Default)]
    struct Tally {
        chunks: usize,
        finished: usize,
    }

    impl EventSink for Tally {
        type Error = std::convert::Infallible;

        fn handle(&mut self, event: SourceEvent) -> Result<(), Self::Error> {
            match event {
                SourceEvent::Chunk(_) => self.chunks += 1,
                SourceEvent::Status(s) if s.state == SourceState::Finished => self.finished += 1,
                _ => {}
            }
            Ok(())
        }

        fn tick(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }

        fn due_in(&self) -> Duration {
            MAX_WAIT
        }
    }

    #[test]
    fn a_panicked_source_thread_is_reported_with_its_uri_and_message() {
        let uri = SourceUri::parse("esp32-csi:///dev/ttyUSB0").unwrap();
        let counters = Arc::new(SourceCounters::default());
        let (_sender, events) = events::channel(events::SourceQueue::default(), counters.clone());
        let thread = std::thread::spawn(|| panic!("speed overflow"));
        while !thread.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let source = RunningSource {
            uri,
            counters,
            events,
            thread,
        };
        let gateway = Gateway {
            sources: vec![source],
            stop: StopFlag::default(),
        };
        let error = gateway.join().unwrap_err().to_string();
        assert_eq!(
            error,
            "source esp32-csi:///dev/ttyUSB0: its thread panicked: speed overflow"
        );
    }

    #[test]
    fn a_source_that_cannot_start_names_its_uri_and_the_cause() {
        let uri = SourceUri::parse("replay:///nonexistent/capture.mcap").unwrap();
        let Err(error) = Gateway::start(&[uri], GatewayClock::new(), Output::ChunksOnly) else {
            panic!("a missing capture must not start");
        };
        assert_eq!(error.to_string(), "replay:///nonexistent/capture.mcap");
        let cause = std::error::Error::source(&error)
            .expect("the cause is kept")
            .to_string();
        assert!(cause.contains("/nonexistent/capture.mcap"), "{cause}");
    }

    #[test]
    fn pump_delivers_every_event_of_a_replayed_capture_until_its_sources_finish() {
        use crate::capture::{CaptureWriter, StreamInfo};
        use crate::format::Format;
        let path = std::env::temp_dir().join(format!("dagr-runtime-{}.mcap", std::process::id()));
        let mut writer = CaptureWriter::create(&path, 0).unwrap();
        for name in ["a", "b"] {
            let stream = StreamInfo {
                name: name.into(),
                format: Format::Esp32Csi,
                uri: String::new(),
            };
            writer.add_stream(&stream).unwrap();
            for i in 0..5u64 {
                writer
                    .write_chunk(&stream.name, i, i, b"garbage\n")
                    .unwrap();
            }
        }
        writer.finish().unwrap();
        let uri = SourceUri::parse(&format!("replay://{}?max", path.display())).unwrap();
        let gateway = Gateway::start(&[uri], GatewayClock::new(), Output::ChunksOnly).unwrap();
        let mut tally = Tally::default();
        gateway.pump(&mut tally, &Until::default()).unwrap();
        gateway.stop(&mut tally).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!((tally.chunks, tally.finished), (10, 2));
    }
}
