//! The live gateway's sink: the runtime's source events through the pipeline, each window
//! recognized as soon as its deadline passes.
//!
//! [`LiveRecognizer`] is an [`EventSink`]: records and time-sync exchanges go into the
//! [`Pipeline`] (clock models, synchronizer with the model's window geometry); at every
//! tick it polls the synchronizer at the gateway clock's now and recognizes each window
//! that is due. A source that goes silent (dead, unplugged, reconnecting) leaves its
//! modality without records: its windows come out on time with that modality absent from
//! the presence mask and from each prediction's `present`, and the modality is used again
//! as soon as records flow. A noisy source still sends records: it stays present.
//!
//! Each prediction is handed to the caller's output with its latency, from the window's
//! deadline (end + allowed lateness, the earliest it could go out) to the moment its
//! prediction exists, and every latency is kept in a [`LatencyLog`] for the run's summary.
//!
//! For adaptation on the running gateway ([`LiveRecognizer::with_adaptation`]), each window's
//! backbone features go into a shared [`RecentWindows`] ring (a copy into reserved room,
//! no allocation), and a new head arrives as a [`HeadUpdate`] over a channel: the sink
//! takes it between two windows and swaps it in, so predictions never wait for training.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::Receiver;
use dagr_head::NormBand;

use super::recent::{FeatureLengthError, RecentWindows};
use super::{Prediction, RecognizeError, Recognizer, Tally};
use crate::clock::GatewayClock;
use crate::events::{EventSink, SourceEvent, SourceState};
use crate::pipeline::Pipeline;
use crate::status::StatusTracker;
use crate::sync::{SyncConfig, Window};

/// Longest the runtime waits between polls when no window is due sooner.
const MAX_TICK: Duration = Duration::from_millis(100);

/// What gives a window its ground truth, when the caller knows it (the demo's simulated
/// schedule); `None` for live hardware.
pub type Labeler = Box<dyn FnMut(&Window) -> Option<Arc<str>> + Send>;

/// Where predictions go, with their deadline-to-prediction latency; an error ends the run.
pub type PredictionOutput = Box<dyn FnMut(&Prediction, Duration) -> std::io::Result<()> + Send>;

/// Why the live run stopped.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A window could not be recognized.
    #[error(transparent)]
    Recognize(#[from] RecognizeError),
    /// The output failed (a closed pipe, a full disk).
    #[error("writing predictions")]
    Output(#[source] std::io::Error),
    /// A window's features did not fit the recent-windows ring (a bug: both come from
    /// the same model).
    #[error("keeping the window's features")]
    Recent(#[from] FeatureLengthError),
}

/// A head to put in use from the next window on.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadUpdate {
    /// Its parameters, in the head's flat layout.
    pub params: Vec<f32>,
    /// Its version, named by every prediction it makes.
    pub version: u64,
    /// Its norm guard band (an adapted head's own, see `adapt::follow_band`).
    pub norm_band: Option<NormBand>,
}

/// What online adaptation shares with the live sink: the ring it records windows into
/// and the channel new heads come over.
pub struct Adaptation {
    /// The last windows' features, read by whoever labels them.
    pub recent: Arc<Mutex<RecentWindows>>,
    /// Heads to swap in between windows.
    pub heads: Receiver<HeadUpdate>,
}

/// Deadline-to-prediction latencies of a run, ns, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct LatencyLog {
    ns: Vec<u64>,
}

impl LatencyLog {
    /// Adds one latency.
    pub fn add(&mut self, latency: Duration) {
        self.ns
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Latencies recorded.
    pub fn len(&self) -> usize {
        self.ns.len()
    }

    /// True before the first prediction.
    pub fn is_empty(&self) -> bool {
        self.ns.is_empty()
    }

    /// The `q` quantile (0..=1, nearest rank), `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let mut sorted = self.ns.clone();
        sorted.sort_unstable();
        let last = sorted.len().checked_sub(1)?;
        let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).clamp(1, last + 1);
        Some(Duration::from_nanos(sorted[rank - 1]))
    }
}

/// Per source, what the live run saw of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceSeen {
    /// Its latest state (`None` before any status).
    pub state: Option<SourceState>,
    /// Records received.
    pub records: u64,
}

/// Source events in, predictions out (see the [module doc](self)).
pub struct LiveRecognizer {
    pipeline: Pipeline,
    recognizer: Recognizer,
    clock: GatewayClock,
    lateness_ns: u64,
    labeler: Option<Labeler>,
    /// The predictions scored against the labeler's truth, when there is a labeler.
    tally: Option<Tally>,
    output: PredictionOutput,
    latencies: LatencyLog,
    sources: BTreeMap<Arc<str>, SourceSeen>,
    /// The window being recognized, its buffers reused from one window to the next.
    window: Window,
    /// The status board's writer, when something reads status (HTTP).
    status: Option<StatusTracker>,
    /// Online adaptation's ring and head channel, when it is on.
    adaptation: Option<Adaptation>,
}

impl LiveRecognizer {
    /// A sink recognizing with `recognizer` the windows `config` cuts (see
    /// [`Recognizer::sync_config`]), on the gateway's `clock` (the one the sources stamp
    /// arrivals with), handing predictions to `output`.
    pub fn new(
        recognizer: Recognizer,
        config: SyncConfig,
        clock: GatewayClock,
        output: PredictionOutput,
    ) -> Result<Self, crate::sync::SyncConfigError> {
        Ok(LiveRecognizer {
            pipeline: Pipeline::with_windows(config)?,
            recognizer,
            clock,
            lateness_ns: config.lateness_ns,
            labeler: None,
            tally: None,
            output,
            latencies: LatencyLog::default(),
            sources: BTreeMap::new(),
            window: Window::empty(),
            status: None,
            adaptation: None,
        })
    }

    /// Records each window's features into `adaptation.recent` and swaps in the heads
    /// that arrive on `adaptation.heads`, between windows.
    pub fn with_adaptation(mut self, adaptation: Adaptation) -> Self {
        self.adaptation = Some(adaptation);
        self
    }

    /// Keeps `tracker`'s board up to date: source states, predictions, clocks and
    /// synchronizer totals.
    pub fn with_status(mut self, tracker: StatusTracker) -> Self {
        self.status = Some(tracker);
        self
    }

    /// Gives each window its ground truth from `labeler`, and scores the predictions
    /// against it ([`tally`](Self::tally)).
    pub fn with_labeler(mut self, labeler: Labeler) -> Self {
        self.labeler = Some(labeler);
        self.tally = Some(Tally::new(self.recognizer.classes().clone()));
        self
    }

    /// The score against the labeler's truth so far (`None` without a labeler), so a live
    /// run on known activities (`dagr demo`) says how often it was right, as a replay does.
    pub fn tally(&self) -> Option<&Tally> {
        self.tally.as_ref()
    }

    /// The latencies so far.
    pub fn latencies(&self) -> &LatencyLog {
        &self.latencies
    }

    /// Per source, its state and records so far.
    pub fn sources(&self) -> &BTreeMap<Arc<str>, SourceSeen> {
        &self.sources
    }

    /// The pipeline (clock models, synchronizer totals).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Swaps in the newest head waiting on the channel, if any (older ones are skipped:
    /// only the latest decision counts).
    fn take_new_head(&mut self) {
        let Some(adaptation) = &self.adaptation else {
            return;
        };
        let Some(update) = adaptation.heads.try_iter().last() else {
            return;
        };
        let HeadUpdate {
            params,
            version,
            norm_band,
        } = update;
        match self.recognizer.replace_head(params, norm_band, version) {
            Ok(_) => tracing::info!("head {version} in use from the next window"),
            Err(error) => tracing::error!("head {version} refused, the current one stays: {error}"),
        }
    }

    /// Keeps the last window's features for labels given later.
    fn remember(&self, prediction: &Prediction) -> Result<(), LiveError> {
        if let Some(adaptation) = &self.adaptation {
            // A poisoned lock only means a labeler panicked mid-read: the ring is whole.
            let mut recent = adaptation.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.push(
                prediction.start,
                prediction.t,
                self.recognizer.last_features(),
                prediction.present,
            )?;
        }
        Ok(())
    }

    /// Recognizes every window due at the clock's now.
    fn recognize_due(&mut self) -> Result<(), LiveError> {
        self.take_new_head();
        while self
            .pipeline
            .poll_into(self.clock.now_ns(), &mut self.window)
        {
            let window = &self.window;
            let label = self.labeler.as_mut().and_then(|label| label(window));
            let prediction = self.recognizer.recognize(window, label)?;
            let deadline = window.end_ns.saturating_add(self.lateness_ns);
            let latency = Duration::from_nanos(self.clock.now_ns().saturating_sub(deadline));
            self.latencies.add(latency);
            self.remember(&prediction)?;
            if let Some(status) = &mut self.status {
                status.note_prediction(&prediction.class, prediction.present);
                status.note_set_aside(prediction.set_aside);
                status.note_head(prediction.head);
                status.note_latency(latency);
            }
            if let Some(tally) = &mut self.tally {
                tally.add(&prediction);
            }
            (self.output)(&prediction, latency).map_err(LiveError::Output)?;
        }
        if let Some(status) = &mut self.status {
            status.refresh_if_due(Some(&self.pipeline));
        }
        Ok(())
    }
}

impl EventSink for LiveRecognizer {
    type Error = LiveError;

    fn handle(&mut self, event: SourceEvent) -> Result<(), LiveError> {
        if let Some(status) = &mut self.status {
            status.note_event(&event);
        }
        match event {
            SourceEvent::Records(records) => {
                for record in records {
                    self.sources
                        .entry(record.source.clone())
                        .or_default()
                        .records += 1;
                    self.pipeline.push_record(record);
                }
            }
            SourceEvent::TimeSync(exchange) => self.pipeline.push_time_sync(&exchange),
            SourceEvent::Status(status) => {
                self.sources.entry(status.source).or_default().state = Some(status.state);
            }
            SourceEvent::Chunk(_) => {}
        }
        Ok(())
    }

    fn tick(&mut self) -> Result<(), LiveError> {
        self.recognize_due()
    }

    fn due_in(&self) -> Duration {
        self.pipeline
            .next_deadline_ns()
            .map_or(MAX_TICK, |deadline| {
                Duration::from_nanos(deadline.saturating_sub(self.clock.now_ns()))
            })
            .min(MAX_TICK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let mut log = LatencyLog::default();
        assert_eq!(log.quantile(0.5), None);
        for ms in [5, 1, 4, 2, 3, 100, 6, 7, 8, 9] {
            log.add(Duration::from_millis(ms));
        }
        assert_eq!(log.quantile(0.5), Some(Duration::from_millis(5)));
        assert_eq!(log.quantile(0.99), Some(Duration::from_millis(100)));
        assert_eq!(log.quantile(0.0), Some(Duration::from_millis(1)));
    }
}
