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
//! The history windows are cut from is one fixed-capacity ring per modality (`ringbuf`),
//! sized by [`SyncConfig::ring_capacity`] (from the model's rates and window, see
//! [`SyncConfig::sized_for`]): a full ring drops the new record and counts it as overflow,
//! it never grows. [`Synchronizer::poll_into`] cuts a window into a caller-owned
//! [`Window`] whose buffers are reused, so in steady state cutting a window allocates
//! nothing (the records themselves are shared `Arc`s, allocated once when pushed).
//!
//! The synchronizer must not know devices, decoders or clocks' models: it sees records with
//! a gateway time already given, and the gateway clock passed to `poll`.
use std::collections::BTreeMap;
use std::sync::Arc;

use ringbuf::traits::{Consumer, Observer, Producer};
use ringbuf::HeapRb;

use crate::record::{Modality, Record};

mod window;

use window::SlotTally;
pub use window::{ModalityCoverage, RecordRef, SourceCount, TimedRecord, Window};

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
    /// Most records held at once per modality, in [`Modality::ALL`] order: the capacity
    /// of its ring; beyond, new records are dropped and counted as overflow.
    pub ring_capacity: [usize; 3],
}

/// The longest run of empty windows, ns, that is cut window by window. Across a longer
/// hole — between records further apart, or from the last record to a clock that jumped
/// far ahead — the windows that could hold nothing are skipped (and counted): otherwise
/// one record or one arrival time far off (a damaged capture, a device clock that jumped)
/// makes a replay or an export cut every empty window up to it, time and memory without
/// bound. A live gateway polls every few ms, so its windows fall due one by one as the
/// clock passes them, data or not, and none is skipped.
pub const MAX_EMPTY_GAP_NS: u64 = 60_000_000_000;

/// How many times the nominal rate a ring holds: room for bursts, extra devices and clock
/// jitter before anything is dropped.
pub const RING_MARGIN: f64 = 4.0;

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            window_ns: 2_000_000_000,
            hop_ns: 500_000_000,
            lateness_ns: 500_000_000,
            slots: 20,
            min_coverage: [0.25; 3],
            ring_capacity: [1; 3],
        }
        .sized_for(DEFAULT_RATES_HZ)
    }
}

/// Records per second per modality of the gateway's usual devices: one radar at 20
/// frames/s; three CSI links at 100 packets/s; 23 tags read 30 times a second each.
pub const DEFAULT_RATES_HZ: [f64; 3] = [20.0, 300.0, 690.0];

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
    /// This geometry with rings sized for `rates_hz` records per second per modality:
    /// [`RING_MARGIN`] times what one window, its lateness and one hop hold.
    pub fn sized_for(self, rates_hz: [f64; 3]) -> SyncConfig {
        self.sized_with(rates_hz, RING_MARGIN)
    }

    /// This geometry with rings sized for `rates_hz` records per second per modality:
    /// `margin` times what one window, its lateness and one hop hold.
    pub fn sized_with(self, rates_hz: [f64; 3], margin: f64) -> SyncConfig {
        let span_s = (self.window_ns + self.lateness_ns + self.hop_ns) as f64 * 1e-9;
        SyncConfig {
            ring_capacity: rates_hz.map(|hz| ((hz * span_s * margin).ceil() as usize).max(1)),
            ..self
        }
    }

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
        if self.ring_capacity.contains(&0) {
            return fail("ring_capacity", "room for at least one record per modality");
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
    /// Nowhere: its modality's ring was full.
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
    /// Records dropped because their modality's ring was full.
    pub overflow: u64,
    /// Windows emitted.
    pub windows: u64,
    /// Empty windows not emitted because they lay inside a hole in the data longer than
    /// [`MAX_EMPTY_GAP_NS`] (a capture with a gap, a clock that jumped).
    pub skipped_windows: u64,
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

/// One held record: its mapped time and arrival order (ties keep the order records were
/// pushed in), its source's id (index into `Synchronizer::names`) and the record, shared
/// with every window that holds it.
#[derive(Debug)]
struct Held {
    t_ns: u64,
    seq: u64,
    source: usize,
    record: Arc<TimedRecord>,
}

/// Cuts mapped records into sliding windows and emits them at their deadlines.
pub struct Synchronizer {
    config: SyncConfig,
    rings: [HeapRb<Held>; 3],
    pushed: u64,
    next: Option<u64>,
    sources: BTreeMap<Arc<str>, SourceTally>,
    stats: SyncStats,
    /// The names of the sources with records held or once held, by id ([`Held::source`]):
    /// a window counts its records per source by id, without comparing names.
    names: Vec<Arc<str>>,
    /// Per ring, where the window being cut finds its records (positions in the ring's
    /// [`Consumer::as_slices`], by time); kept to reuse their allocations.
    runs: [Vec<usize>; 3],
    /// Per source id, its place in the window being cut's `sources`.
    places: Vec<Option<usize>>,
}

impl std::fmt::Debug for Synchronizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Synchronizer")
            .field("config", &self.config)
            .field("next", &self.next)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Synchronizer {
    /// A synchronizer with checked `config`; its rings are allocated here, once.
    pub fn new(config: SyncConfig) -> Result<Self, SyncConfigError> {
        config.validate()?;
        Ok(Synchronizer {
            config,
            rings: config.ring_capacity.map(HeapRb::new),
            pushed: 0,
            next: None,
            sources: BTreeMap::new(),
            stats: SyncStats::default(),
            names: Vec::new(),
            runs: Default::default(),
            places: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Adds a record whose device time maps to gateway `t_ns`.
    pub fn push(&mut self, record: Record, t_ns: u64) -> Placement {
        let m = record.modality.index();
        let placement = self.placement(t_ns, m);
        self.stats.records += 1;
        let tally = match self.sources.get_mut(&record.source) {
            Some(tally) => tally,
            None => self
                .sources
                .entry(record.source.clone())
                .or_insert(SourceTally {
                    modality: record.modality,
                    records: 0,
                    late: 0,
                }),
        };
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
        let held = Held {
            t_ns,
            seq: self.pushed,
            source: self.source_id(&record.source),
            record: Arc::new(TimedRecord { t_ns, record }),
        };
        self.pushed += 1;
        if self.rings[m].try_push(held).is_err() {
            unreachable!("placement checked the ring has room");
        }
        placement
    }

    /// Emits every window whose deadline (end + lateness) is at or before gateway `now_ns`.
    ///
    /// Windows start at the first record's window (aligned to the hop) once a record is
    /// held; from then on one window per hop goes out, empty or not.
    pub fn poll(&mut self, now_ns: u64) -> Vec<Window> {
        let mut out = Vec::new();
        let mut window = Window::empty();
        while self.poll_into(now_ns, &mut window) {
            out.push(std::mem::replace(&mut window, Window::empty()));
        }
        out
    }

    /// Cuts the next window into `window` (its buffers reused) if its deadline (end +
    /// lateness) is at or before gateway `now_ns`; false when none is due. Call until
    /// false to emit every due window; in steady state this allocates nothing.
    pub fn poll_into(&mut self, now_ns: u64, window: &mut Window) -> bool {
        let Some(next) = self.first_window() else {
            return false;
        };
        // Looking for a hole scans the held records: only once a window is due, not on
        // every poll of a live loop waiting for the next deadline.
        if !self.due(next, now_ns) {
            return false;
        }
        let next = self.skip_gap(next, Some(now_ns));
        if !self.representable(next) || !self.due(next, now_ns) {
            return false;
        }
        self.emit_into(next, window);
        self.next = Some(next + 1);
        self.release(next + 1);
        true
    }

    /// Emits every window up to the one holding the latest record, deadlines or not (the
    /// end of a replay).
    pub fn flush(&mut self) -> Vec<Window> {
        let mut out = Vec::new();
        let (Some(mut next), Some(last_t)) = (self.first_window(), self.latest()) else {
            return out;
        };
        while self.start(next) <= last_t {
            next = self.skip_gap(next, None);
            if !self.representable(next) {
                break;
            }
            let mut window = Window::empty();
            self.emit_into(next, &mut window);
            out.push(window);
            next += 1;
            self.release(next);
        }
        self.next = Some(next);
        out
    }

    /// Gateway ns at which the next window is due (its end plus the allowed lateness),
    /// once a record fixed where windows start; a live caller sleeps until then.
    pub fn next_deadline_ns(&self) -> Option<u64> {
        let next = self
            .next
            .or_else(|| self.earliest().map(|t| t / self.config.hop_ns))?;
        Some(self.end(next).saturating_add(self.config.lateness_ns))
    }

    /// Totals since the start.
    pub fn stats(&self) -> SyncStats {
        SyncStats {
            buffered: self.rings.iter().map(|r| r.occupied_len()).sum(),
            ..self.stats
        }
    }

    /// Per-source totals, by name.
    pub fn sources(&self) -> &BTreeMap<Arc<str>, SourceTally> {
        &self.sources
    }

    fn placement(&self, t_ns: u64, modality: usize) -> Placement {
        match self.next {
            Some(next) if t_ns < self.start(next) => Placement::Late,
            _ if self.rings[modality].is_full() => Placement::Overflow,
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

    /// Whether window `index`'s deadline (end + lateness) has come at gateway `now_ns`.
    fn due(&self, index: u64, now_ns: u64) -> bool {
        self.end(index).saturating_add(self.config.lateness_ns) <= now_ns
    }

    /// Whether window `index` ends within u64 ns (later ones are never cut: a record
    /// stamped near the end of time stays held, counted in `buffered`).
    fn representable(&self, index: u64) -> bool {
        index
            .checked_mul(self.config.hop_ns)
            .and_then(|start| start.checked_add(self.config.window_ns))
            .is_some()
    }

    /// The earliest mapped time held.
    fn earliest(&self) -> Option<u64> {
        self.rings
            .iter()
            .flat_map(|r| r.iter())
            .map(|h| h.t_ns)
            .min()
    }

    /// The latest mapped time held.
    fn latest(&self) -> Option<u64> {
        self.rings
            .iter()
            .flat_map(|r| r.iter())
            .map(|h| h.t_ns)
            .max()
    }

    /// The next window to emit, fixed by the earliest record held when first needed.
    fn first_window(&mut self) -> Option<u64> {
        if self.next.is_none() {
            self.next = self.earliest().map(|t| t / self.config.hop_ns);
        }
        self.next
    }

    /// `next`, or the first window ending after the horizon when that lies more than
    /// [`MAX_EMPTY_GAP_NS`] past `end(next)`, counting the empty windows passed over. The
    /// horizon is the earliest record held, or with none held the clock `now_ns` (so a
    /// clock that jumps far ahead of the data does not cut every window up to it). The skip
    /// is committed (`self.next`), so a window is never cut twice.
    fn skip_gap(&mut self, next: u64, now_ns: Option<u64>) -> u64 {
        let Some(horizon) = self.earliest().or(now_ns) else {
            return next;
        };
        if horizon < self.end(next).saturating_add(MAX_EMPTY_GAP_NS) {
            return next;
        }
        // The first window whose end is past the horizon (it starts at or before it, as
        // windows overlap or touch).
        let first = match horizon.checked_sub(self.config.window_ns) {
            Some(t) => t / self.config.hop_ns + 1,
            None => 0,
        };
        if first <= next {
            return next;
        }
        self.stats.skipped_windows += first - next;
        self.next = Some(first);
        first
    }

    /// The id of source `name` in [`Self::names`], given on its first held record.
    fn source_id(&mut self, name: &Arc<str>) -> usize {
        // A source's records usually share one name allocation: compare pointers first.
        let found = (self.names.iter().position(|n| Arc::ptr_eq(n, name)))
            .or_else(|| self.names.iter().position(|n| n == name));
        found.unwrap_or_else(|| {
            self.names.push(name.clone());
            self.names.len() - 1
        })
    }

    /// Fills `window` with window `index`: its records by mapped time (ties in push
    /// order), per-modality coverage and per-source counts, reusing its buffers.
    ///
    /// Each ring's records of the window are found in push order, which is by time but for
    /// records that came late or from another source with a skewed clock; only a ring
    /// whose run is out of order is sorted, and the three runs are merged by (time, push
    /// order), the same order as sorting all of them together.
    fn emit_into(&mut self, index: u64, window: &mut Window) {
        let (start, end) = (self.start(index), self.end(index));
        window.sources.clear();
        window
            .sources
            .extend(self.sources.iter().map(|(name, tally)| SourceCount {
                source: name.clone(),
                modality: tally.modality,
                records: 0,
            }));
        self.places.clear();
        let sources = &window.sources;
        self.places.extend(
            (self.names.iter()).map(|n| sources.binary_search_by(|s| s.source.cmp(n)).ok()),
        );
        for (ring, run) in self.rings.iter().zip(&mut self.runs) {
            let (a, b) = ring.as_slices();
            run.clear();
            run.extend(
                (a.iter().chain(b).enumerate())
                    .filter(|(_, h)| (start..end).contains(&h.t_ns))
                    .map(|(i, _)| i),
            );
            let key = |i: &usize| held_at((a, b), *i).order();
            if !run.is_sorted_by_key(key) {
                run.sort_unstable_by_key(key);
            }
        }
        window.records.clear();
        window.by_modality.iter_mut().for_each(Vec::clear);
        let rings: [_; 3] = std::array::from_fn(|m| self.rings[m].as_slices());
        let mut slots = SlotTally::default();
        let mut heads = [0usize; 3];
        // Each run's next record and its order key; only the run just taken from moves.
        let head_at = |m: usize, head: usize| {
            let held = held_at(rings[m], *self.runs[m].get(head)?);
            Some((held.order(), held))
        };
        let mut next: [_; 3] = std::array::from_fn(|m| head_at(m, 0));
        while let Some((m, held)) = earliest(&next) {
            heads[m] += 1;
            next[m] = head_at(m, heads[m]);
            let (len, n_slots) = (self.config.window_ns, self.config.slots);
            slots.add(Modality::ALL[m], held.t_ns - start, len, n_slots);
            let place = self.places[held.source];
            if let Some(place) = place {
                window.sources[place].records += 1;
            }
            window.by_modality[m].push(RecordRef {
                index: window.records.len(),
                t_ns: held.t_ns,
                source: place,
            });
            window.records.push(held.record.clone());
        }
        self.stats.windows += 1;
        window.index = index;
        window.start_ns = start;
        window.end_ns = end;
        window.modalities = slots.coverage(self.config.slots, self.config.min_coverage);
    }

    /// Drops records no window from `next` on can hold.
    fn release(&mut self, next: u64) {
        let start = self.start(next);
        for ring in &mut self.rings {
            while ring.first().is_some_and(|h| h.t_ns < start) {
                ring.try_pop();
            }
        }
    }
}

impl Held {
    /// The order windows hold records in: by mapped time, ties in push order.
    fn order(&self) -> (u64, u64) {
        (self.t_ns, self.seq)
    }
}

/// The run whose next record comes first by order key (keys are unique: push order breaks
/// ties of time) and that record, or `None` when every run is used up.
fn earliest<'a>(next: &[Option<((u64, u64), &'a Held)>; 3]) -> Option<(usize, &'a Held)> {
    (0..3)
        .filter_map(|m| Some((m, next[m]?)))
        .min_by_key(|&(_, (key, _))| key)
        .map(|(m, (_, held))| (m, held))
}

/// Entry `i` of a ring seen as its two slices (oldest first).
fn held_at<'a>((a, b): (&'a [Held], &'a [Held]), i: usize) -> &'a Held {
    a.get(i).unwrap_or_else(|| &b[i - a.len()])
}

#[cfg(test)]
mod tests;
