//! Adapting the head of a running gateway: labels over HTTP, adaptation in the background,
//! the head swapped between two windows, the previous one kept for rollback, accepted heads
//! kept across restarts.
//!
//! [`OnlineAdaptation`] answers the HTTP control endpoints ([`Control`]):
//! - `POST /labels` ([`labels`]): the recent windows a label names (from the live sink's
//!   [`RecentWindows`] ring, features already computed) go into a bounded buffer of labeled
//!   windows ([`LabeledFeatures`], `[adapt] max_labeled`; beyond it the oldest are dropped
//!   and counted);
//! - `POST /adapt`: a copy of that buffer is adapted on by
//!   [`adapt_head`](crate::adapt::adapt_head) on a thread of its own, starting from the
//!   head in use, while predictions go on; a head the validation gate refuses (no better
//!   on the held-out labeled windows, or not validated) is not used, and the outcome says so. An accepted head takes
//!   the next version number, is written to the [`store`] (when `[adapt] dir` is set) and
//!   only then sent to the live sink, which swaps it in between two windows;
//! - `GET /adapt`: what runs (epoch), the last outcome (before/after, accepted), the heads,
//!   the labeled buffer and the recent windows' time coverage;
//! - `POST /head/rollback`: the previous head back in use (and the newest stored head
//!   renamed away, so a restart agrees).
//!
//! A crash during an adaptation loses only that adaptation: the head in use changes only
//! after its package is complete on disk, and packages are written under a temporary name
//! and renamed.
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crossbeam_channel::Sender;
use dagr_head::{EpochReport, HeadShape, NormBand};
use dagr_infer::ModelPackage;
use serde_json::{json, Value};

use crate::adapt::{adapt_head, AdaptSettings, AdaptationRecord, LabeledFeatures};
use crate::http::{Control, Reply};
use crate::recognize::live::{Adaptation, HeadUpdate};
use crate::recognize::recent::RecentWindows;

pub mod job;
pub mod labels;
pub mod store;

use job::{per_class_json, scores_json, JobState};
use labels::Label;
use store::{HeadStore, StoredHead};

/// What an adapted package's model.json says its windows came from.
pub const ONLINE_DATA: &str = "online labels";

/// A head and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadVersion {
    /// Its version (0: the model package's own head).
    pub version: u64,
    /// Its parameters.
    pub params: Vec<f32>,
    /// Its norm guard band (`None`: the model has no guard).
    pub norm_band: Option<NormBand>,
}

/// What online adaptation starts from.
pub struct Setup {
    /// The package whose files adapted packages are made from (the one the gateway runs).
    pub package: ModelPackage,
    /// The head in use at start.
    pub current: HeadVersion,
    /// The head a rollback returns to, if any.
    pub previous: Option<HeadVersion>,
    /// How adaptation trains.
    pub settings: AdaptSettings,
    /// Where accepted heads are kept (`None`: in memory only).
    pub store: Option<HeadStore>,
    /// Recent windows kept for labels.
    pub recent_windows: usize,
    /// Labeled windows kept.
    pub max_labeled: usize,
}

/// The labeled windows waiting for adaptation.
struct LabeledBuffer {
    data: LabeledFeatures,
    capacity: usize,
    /// Labeled windows dropped (oldest first) to stay within `capacity`.
    dropped: u64,
}

/// The head in use, the one before it, and the next version number.
struct Heads {
    current: HeadVersion,
    previous: Option<HeadVersion>,
    next_version: u64,
}

/// Shared between the HTTP handlers and the adaptation thread.
struct Shared {
    package: ModelPackage,
    classes: Vec<String>,
    shape: HeadShape,
    settings: AdaptSettings,
    store: Option<HeadStore>,
    recent: Arc<Mutex<RecentWindows>>,
    to_live: Sender<HeadUpdate>,
    labeled: Mutex<LabeledBuffer>,
    heads: Mutex<Heads>,
    job: Mutex<JobState>,
    /// The last adaptation's outcome, as `GET /adapt` shows it.
    last: Mutex<Option<Value>>,
}

/// Labels, background adaptation, rollback (see the [module doc](self)); clones share
/// one state.
#[derive(Clone)]
pub struct OnlineAdaptation(Arc<Shared>);

/// Locks `mutex`; a poisoned lock only means a thread panicked while holding it, and
/// every value kept here is whole between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl OnlineAdaptation {
    /// The adaptation side, and what the live sink needs of it (the ring it fills and the
    /// channel new heads come over).
    pub fn new(setup: Setup) -> (OnlineAdaptation, Adaptation) {
        let shape = setup.package.head_shape();
        let recent = Arc::new(Mutex::new(RecentWindows::new(
            setup.recent_windows,
            shape.feat_dim,
        )));
        let (to_live, heads) = crossbeam_channel::unbounded();
        let highest = setup
            .previous
            .iter()
            .chain([&setup.current])
            .map(|h| h.version)
            .max()
            .unwrap_or(0);
        let stored = setup
            .store
            .as_ref()
            .and_then(|s| s.highest_version().ok())
            .unwrap_or(0);
        let shared = Shared {
            classes: setup.package.classes().to_vec(),
            shape,
            settings: setup.settings,
            store: setup.store,
            recent: recent.clone(),
            to_live,
            labeled: Mutex::new(LabeledBuffer {
                data: LabeledFeatures::new(shape),
                capacity: setup.max_labeled.max(1),
                dropped: 0,
            }),
            heads: Mutex::new(Heads {
                current: setup.current,
                previous: setup.previous,
                next_version: highest.max(stored) + 1,
            }),
            job: Mutex::new(JobState::Idle),
            last: Mutex::new(None),
            package: setup.package,
        };
        (
            OnlineAdaptation(Arc::new(shared)),
            Adaptation { recent, heads },
        )
    }

    /// Labels the recent windows `body` names (see [`labels`]); nothing changes on a
    /// refusal.
    fn add_labels(&self, body: &[u8]) -> Reply {
        let shared = &self.0;
        let recent = lock(&shared.recent);
        let label = match Label::parse(body, &shared.classes, &recent) {
            Ok(label) => label,
            Err(error) => return Reply::error(error.status(), error.to_string()),
        };
        let mut buffer = lock(&shared.labeled);
        let named: Vec<_> = label.windows(&recent).collect();
        // Only the newest `capacity` of a label's windows can be kept.
        let keep = &named[named.len().saturating_sub(buffer.capacity)..];
        let overflow = (buffer.data.len() + keep.len()).saturating_sub(buffer.capacity);
        buffer.data.remove_oldest(overflow);
        buffer.dropped += (overflow + named.len() - keep.len()) as u64;
        for window in keep {
            if let Err(error) =
                buffer
                    .data
                    .push(window.features, window.present, label.class, window.start)
            {
                return Reply::error(500, format!("keeping a labeled window: {error}"));
            }
        }
        let class = &shared.classes[usize::from(label.class)];
        tracing::info!(
            "labeled {} windows {class} ({:.2}..{:.2} s)",
            named.len(),
            label.from,
            label.to
        );
        Reply::ok(json!({
            "labeled": named.len(),
            "class": class,
            "from": named.first().map(|w| w.start),
            "to": named.last().map(|w| w.end),
            "labeled_windows": buffer.data.len(),
            "dropped": buffer.dropped,
        }))
    }

    /// Starts an adaptation on a copy of the labeled windows (409 while one runs).
    fn start(&self) -> Reply {
        let shared = &self.0;
        let mut job = lock(&shared.job);
        if job.is_running() {
            return Reply::error(409, "an adaptation is already running; see GET /adapt");
        }
        let data = lock(&shared.labeled).data.clone();
        if data.is_empty() {
            return Reply::error(
                422,
                "no labeled windows: label some with POST /labels first",
            );
        }
        let start = lock(&shared.heads).current.clone();
        *job = JobState::Running {
            epoch: 0,
            epochs: shared.settings.train.epochs,
            windows: data.len(),
            from_head: start.version,
            started: Instant::now(),
        };
        let reply = job.to_json();
        drop(job);
        let this = self.clone();
        let spawned = std::thread::Builder::new()
            .name("adapt".into())
            .spawn(move || this.adapt(&start, &data));
        if let Err(error) = spawned {
            *lock(&shared.job) = JobState::Idle;
            return Reply::error(500, format!("cannot start the adaptation thread: {error}"));
        }
        Reply {
            status: 202,
            body: reply,
        }
    }

    /// The adaptation thread: trains, gates, stores, hands the head to the live sink.
    fn adapt(&self, start: &HeadVersion, data: &LabeledFeatures) {
        let shared = &self.0;
        let mut on_epoch = |report: &EpochReport| {
            if let JobState::Running { epoch, .. } = &mut *lock(&shared.job) {
                *epoch = report.epoch;
            }
        };
        let started = Instant::now();
        // A panic in the trainer (a bug) must not leave the state "running" for ever.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            adapt_head(
                &start.params,
                start.norm_band.as_ref(),
                shared.shape,
                data,
                &shared.settings,
                &mut on_epoch,
            )
        }));
        let failed = |error: String| json!({ "from_head": start.version, "accepted": false, "error": error });
        let outcome = match result {
            Err(_) => failed("the adaptation thread panicked (a bug in dagr)".into()),
            Ok(Err(error)) => failed(crate::errors::chain(&error)),
            Ok(Ok(outcome)) => self.conclude(start, outcome, started),
        };
        tracing::info!("adaptation: {outcome}");
        *lock(&shared.last) = Some(outcome);
        *lock(&shared.job) = JobState::Idle;
    }

    /// What becomes of a finished adaptation: a refused head is dropped; an accepted one
    /// is stored, then put in use.
    fn conclude(
        &self,
        start: &HeadVersion,
        outcome: crate::adapt::AdaptOutcome,
        started: Instant,
    ) -> Value {
        let shared = &self.0;
        let report = outcome.report;
        let mut summary = json!({
            "from_head": start.version,
            "accepted": outcome.accepted,
            "windows": outcome.windows,
            "per_class": per_class_json(&shared.classes, &outcome.per_class),
            "epochs": report.epochs,
            "steps": report.steps,
            "before": scores_json(report.before),
            "after": scores_json(report.after),
            "took_s": started.elapsed().as_secs_f64(),
        });
        if let Some(band) = &outcome.norm_band {
            summary["norm_band"] = json!({
                "source_bounds": band.source,
                "bounds": band.bounds,
                "ratio": band.ratio,
                "windows": band.windows,
            });
        }
        if !outcome.accepted {
            summary["message"] = json!(rejection(start.version, &report));
            return summary;
        }
        let version = {
            let mut heads = lock(&shared.heads);
            let version = heads.next_version;
            heads.next_version += 1;
            version
        };
        if let Some(store) = &shared.store {
            let record = adaptation_record(shared, &outcome);
            if let Err(error) = store.write(version, &shared.package, &outcome.params, &record) {
                summary["accepted"] = json!(false);
                summary["error"] = json!(crate::errors::chain(&error));
                summary["message"] = json!(format!(
                    "not used: the head could not be stored; head {} stays in use",
                    start.version
                ));
                return summary;
            }
        }
        let new = HeadVersion {
            version,
            params: outcome.params,
            norm_band: outcome.norm_band.map(|b| b.bounds),
        };
        let mut heads = lock(&shared.heads);
        let previous = std::mem::replace(&mut heads.current, new.clone());
        heads.previous = Some(previous);
        // The live sink ends only with the run, when nobody reads this any more.
        let _ = shared.to_live.send(HeadUpdate {
            params: new.params,
            version,
            norm_band: new.norm_band,
        });
        summary["head"] = json!(version);
        summary["message"] = json!(format!("head {version} in use from the next window"));
        summary
    }

    /// Puts the previous head back (409 without one).
    fn roll_back(&self) -> Reply {
        let shared = &self.0;
        let mut heads = lock(&shared.heads);
        let Some(previous) = heads.previous.clone() else {
            return Reply::error(
                409,
                format!(
                    "no previous head to roll back to; head {} is in use",
                    heads.current.version
                ),
            );
        };
        let stored_current = |store: &HeadStore| -> Result<bool, store::StoreError> {
            let newest = store.heads()?.into_iter().next();
            Ok(newest.is_some_and(|h: StoredHead| h.version == heads.current.version))
        };
        if let Some(store) = &shared.store {
            let rolled = stored_current(store).and_then(|is| match is {
                true => store.roll_back().map(|_| ()),
                false => Ok(()),
            });
            if let Err(error) = rolled {
                return Reply::error(
                    500,
                    format!("rollback refused: {}", crate::errors::chain(&error)),
                );
            }
        }
        let replaced = std::mem::replace(&mut heads.current, previous.clone());
        heads.previous = None;
        let _ = shared.to_live.send(HeadUpdate {
            params: previous.params,
            version: previous.version,
            norm_band: previous.norm_band,
        });
        tracing::info!(
            "rollback: head {} replaces head {}",
            previous.version,
            replaced.version
        );
        Reply::ok(json!({
            "head": previous.version,
            "replaced": replaced.version,
            "message": format!("head {} in use from the next window", previous.version),
        }))
    }

    /// `GET /adapt`'s body.
    fn state(&self) -> Value {
        let shared = &self.0;
        let mut body = lock(&shared.job).to_json();
        let heads = lock(&shared.heads);
        body["head"] = json!(heads.current.version);
        body["previous_head"] = json!(heads.previous.as_ref().map(|h| h.version));
        drop(heads);
        let buffer = lock(&shared.labeled);
        body["labels"] = json!({
            "windows": buffer.data.len(),
            "capacity": buffer.capacity,
            "dropped": buffer.dropped,
            "per_class": per_class_json(&shared.classes, &buffer.data.per_class(shared.classes.len())),
        });
        drop(buffer);
        let recent = lock(&shared.recent);
        let coverage = recent.coverage();
        body["recent"] = json!({
            "windows": recent.len(),
            "capacity": recent.capacity(),
            "from": coverage.map(|c| c.0),
            "to": coverage.map(|c| c.1),
        });
        drop(recent);
        body["store"] = json!(shared.store.as_ref().map(|s| s.dir().display().to_string()));
        body["last"] = lock(&shared.last).clone().unwrap_or(Value::Null);
        body["classes"] = json!(shared.classes);
        body
    }
}

impl Control for OnlineAdaptation {
    fn label(&self, body: &[u8]) -> Reply {
        self.add_labels(body)
    }

    fn start_adaptation(&self) -> Reply {
        self.start()
    }

    fn adaptation(&self) -> Reply {
        Reply::ok(self.state())
    }

    fn rollback(&self) -> Reply {
        self.roll_back()
    }
}

/// Why the validation gate refused an adapted head, for `GET /adapt`.
fn rejection(from: u64, report: &dagr_head::FitReport) -> String {
    match (report.before, report.after) {
        (Some(before), Some(after)) => format!(
            "not used: no better than head {from} on the held-out labeled windows (accuracy \
             {:.3} -> {:.3}, loss {:.4} -> {:.4}); head {from} stays in use",
            before.accuracy, after.accuracy, before.loss, after.loss
        ),
        _ => format!(
            "not used: it could not be validated (no class has two labeled windows to hold \
             one out; label more); head {from} stays in use"
        ),
    }
}

/// What the stored package's model.json records about this adaptation.
fn adaptation_record(shared: &Shared, outcome: &crate::adapt::AdaptOutcome) -> AdaptationRecord {
    AdaptationRecord::new(
        vec![ONLINE_DATA.to_string()],
        outcome,
        &shared.settings,
        shared.package.name(),
        &shared.classes,
    )
}

#[cfg(test)]
mod tests;
