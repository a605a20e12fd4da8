//! The synchronizer: sliding windows over mapped device time, emitted at a deadline.
//!
//! Records come in with their device time already mapped to gateway ns by their source's
//! clock model ([`crate::clock`]); windows of `window_ns` every `hop_ns` are cut on that
//! time, never on arrival. A window goes out once the gateway clock passed to
//! [`Synchronizer::poll`] reaches its end plus the allowed lateness, whether or not every
//! source delivered: a dead sensor makes its modality absent, it never stalls the output.
//!
//! Each window says what it holds: per modality, the fraction of its sub-slots holding data
//! (coverage) and whether that makes the modality present, and per source its record
//! count. A record arriving after all of its windows went out is counted as late, per
//! source; one that missed only some of its (overlapping) windows is placed in the rest and
//! counted as partly late. Records are kept only while an open window can still use them.
//!
//! The synchronizer must not know devices, decoders or clocks' models: it sees records with
//! a gateway time already given, and the gateway clock passed to `poll`.
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::record::{Modality, Record};

mod window;

use window::SlotTally;
pub use window::{ModalityCoverage, SourceCount, TimedRecord, Window};

/// Window geometry and emission rules (later read from model.json).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncConfig {
    /// Window length, ns.
    pub window_ns: u64,
    /// Distance between window starts, ns (at most `window_ns`: windows overlap or touch).
    pub hop_ns: u64,
    /// How long after a window's end records may still arrive for it, ns.
    pub lateness_ns: u64,
    /// Sub-slots per window for coverage, 1..=64.
    pub slots: u32,
    /// Coverage a modality needs to count as present, per modality in [`Modality::ALL`]
    /// order.
    pub min_coverage: [f64; 3],
    /// Most records held at once; beyond, new records are dropped and counted.
    pub max_buffered: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            window_ns: 2_000_000_000,
            hop_ns: 500_000_000,
            lateness_ns: 500_000_000,
            slots: 20,
            min_coverage: [0.25; 3],
            max_buffered: 1 << 20,
        }
    }
}

/// A [`SyncConfig`] field out of range: names the field and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("synchronizer `{field}`: expected {expected}")]
pub struct SyncConfigError {
    /// The field.
    pub field: &'static str,
    /// What it must be.
    pub expected: &'static str,
}

impl SyncConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), SyncConfigError> {
        let fail = |field, expected| Err(SyncConfigError { field, expected });
        if self.window_ns == 0 {
            return fail("window_ns", "a window length above 0");
        }
        if self.hop_ns == 0 || self.hop_ns > self.window_ns {
            return fail("hop_ns", "a hop above 0 and at most the window length");
        }
        if !(1..=64).contains(&self.slots) {
            return fail("slots", "1 to 64 coverage sub-slots");
        }
        if !self.min_coverage.iter().all(|c| (0.0..=1.0).contains(c)) {
            return fail("min_coverage", "fractions between 0 and 1");
        }
        if self.max_buffered == 0 {
            return fail("max_buffered", "room for at least one record");
        }
        Ok(())
    }
}

/// Where a pushed record went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Into every window it belongs to.
    Placed,
    /// Into the windows still open; earlier ones it belonged to had gone out.
    PartlyLate,
    /// Nowhere: every window it belonged to had gone out.
    Late,
    /// Nowhere: the buffer was full.
    Overflow,
}

/// Totals since the start, for status and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Records pushed.
    pub records: u64,
    /// Records dropped because all their windows had gone out.
    pub late: u64,
    /// Records that missed some of their windows.
    pub partly_late: u64,
    /// Records dropped because the buffer was full.
    pub overflow: u64,
    /// Windows emitted.
    pub windows: u64,
    /// Records held now.
    pub buffered: usize,
}

/// Per-source totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceTally {
    /// The source's modality (of its latest record).
    pub modality: Modality,
    /// Records pushed.
    pub records: u64,
    /// Records dropped as late.
    pub late: u64,
}

/// Cuts mapped records into sliding windows and emits them at their deadlines.
#[derive(Debug)]
pub struct Synchronizer {
    config: SyncConfig,
    buffer: VecDeque<Arc<TimedRecord>>,
    next: Option<u64>,
    sources: BTreeMap<Arc<str>, SourceTally>,
    stats: SyncStats,
}

impl Synchronizer {
    /// A synchronizer with checked `config`.
    pub fn new(config: SyncConfig) -> Result<Self, SyncConfigError> {
        config.validate()?;
        Ok(Synchronizer {
            config,
            buffer: VecDeque::new(),
            next: None,
            sources: BTreeMap::new(),
            stats: SyncStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Adds a record whose device time maps to gateway `t_ns`.
    pub fn push(&mut self, record: Record, t_ns: u64) -> Placement {
        let placement = self.placement(t_ns);
        self.stats.records += 1;
        let tally = self
            .sources
            .entry(record.source.clone())
            .or_insert(SourceTally {
                modality: record.modality,
                records: 0,
                late: 0,
            });
        tally.modality = record.modality;
        tally.records += 1;
        match placement {
            Placement::Late => {
                tally.late += 1;
                self.stats.late += 1;
                return placement;
            }
            Placement::Overflow => {
                self.stats.overflow += 1;
                return placement;
            }
            Placement::PartlyLate => self.stats.partly_late += 1,
            Placement::Placed => {}
        }
        let at = self.buffer.partition_point(|r| r.t_ns <= t_ns);
        self.buffer
            .insert(at, Arc::new(TimedRecord { t_ns, record }));
        placement
    }

    /// Emits every window whose deadline (end + lateness) is at or before gateway `now_ns`.
    ///
    /// Windows start at the first record's window (aligned to the hop) once a record is
    /// held; from then on one window per hop goes out, empty or not.
    pub fn poll(&mut self, now_ns: u64) -> Vec<Window> {
        let mut out = Vec::new();
        let Some(mut next) = self.first_window() else {
            return out;
        };
        while self.end(next).saturating_add(self.config.lateness_ns) <= now_ns {
            out.push(self.emit(next));
            next += 1;
            self.release(next);
        }
        self.next = Some(next);
        out
    }

    /// Emits every window up to the one holding the latest record, deadlines or not (the
    /// end of a replay).
    pub fn flush(&mut self) -> Vec<Window> {
        let mut out = Vec::new();
        let (Some(mut next), Some(last)) = (self.first_window(), self.buffer.back()) else {
            return out;
        };
        let last_t = last.t_ns;
        while self.start(next) <= last_t {
            out.push(self.emit(next));
            next += 1;
            self.release(next);
        }
        self.next = Some(next);
        out
    }

    /// Totals since the start.
    pub fn stats(&self) -> SyncStats {
        SyncStats {
            buffered: self.buffer.len(),
            ..self.stats
        }
    }

    /// Per-source totals, by name.
    pub fn sources(&self) -> &BTreeMap<Arc<str>, SourceTally> {
        &self.sources
    }

    fn placement(&self, t_ns: u64) -> Placement {
        match self.next {
            Some(next) if t_ns < self.start(next) => Placement::Late,
            _ if self.buffer.len() >= self.config.max_buffered => Placement::Overflow,
            Some(next) if next > 0 && t_ns < self.end(next - 1) => Placement::PartlyLate,
            _ => Placement::Placed,
        }
    }

    fn start(&self, index: u64) -> u64 {
        index.saturating_mul(self.config.hop_ns)
    }

    fn end(&self, index: u64) -> u64 {
        self.start(index).saturating_add(self.config.window_ns)
    }

    /// The next window to emit, fixed by the earliest record held when first needed.
    fn first_window(&mut self) -> Option<u64> {
        if self.next.is_none() {
            self.next = self.buffer.front().map(|r| r.t_ns / self.config.hop_ns);
        }
        self.next
    }

    fn emit(&mut self, index: u64) -> Window {
        let (start, end) = (self.start(index), self.end(index));
        let from = self.buffer.partition_point(|r| r.t_ns < start);
        let to = self.buffer.partition_point(|r| r.t_ns < end);
        let records: Vec<Arc<TimedRecord>> = self.buffer.range(from..to).cloned().collect();
        let mut slots = SlotTally::default();
        let mut per_source: BTreeMap<&Arc<str>, usize> =
            self.sources.keys().map(|name| (name, 0)).collect();
        for r in &records {
            let len = self.config.window_ns;
            slots.add(r.record.modality, r.t_ns - start, len, self.config.slots);
            *per_source.entry(&r.record.source).or_default() += 1;
        }
        let sources = per_source
            .into_iter()
            .map(|(name, records)| SourceCount {
                source: name.clone(),
                modality: self.sources[name].modality,
                records,
            })
            .collect();
        self.stats.windows += 1;
        Window {
            index,
            start_ns: start,
            end_ns: end,
            modalities: slots.coverage(self.config.slots, self.config.min_coverage),
            sources,
            records,
        }
    }

    /// Drops records no window from `next` on can hold.
    fn release(&mut self, next: u64) {
        let start = self.start(next);
        while self.buffer.front().is_some_and(|r| r.t_ns < start) {
            self.buffer.pop_front();
        }
    }
}

#[cfg(test)]
mod tests;
