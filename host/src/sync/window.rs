//! What the synchronizer emits: one window of records on mapped device time, saying what it
//! holds per modality and per source.
use std::sync::Arc;

use crate::record::{Modality, Record};

/// A record with its device time mapped to gateway ns by its source's clock model.
#[derive(Debug, Clone)]
pub struct TimedRecord {
    /// Mapped device time, gateway ns: the time windows are cut on.
    pub t_ns: u64,
    /// The record.
    pub record: Record,
}

/// How well one modality fills a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModalityCoverage {
    /// Whether the modality counts as present (coverage reached its minimum); the model's
    /// `present` mask.
    pub present: bool,
    /// Fraction of the window's sub-slots holding at least one record, 0..=1.
    pub coverage: f64,
    /// Records of this modality in the window.
    pub records: usize,
}

/// Records of one source in a window (zero for a known source that sent nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCount {
    /// Source name.
    pub source: Arc<str>,
    /// Its modality.
    pub modality: Modality,
    /// Its records in the window.
    pub records: usize,
}

/// One window: `[start_ns, end_ns)` of mapped time, with everything that fell in it.
#[derive(Debug, Clone)]
pub struct Window {
    /// Window number: `start_ns = index * hop`.
    pub index: u64,
    /// Start, gateway ns (inclusive).
    pub start_ns: u64,
    /// End, gateway ns (exclusive).
    pub end_ns: u64,
    /// Per modality, in [`Modality::ALL`] order.
    pub modalities: [ModalityCoverage; 3],
    /// Per known source, by name.
    pub sources: Vec<SourceCount>,
    /// The records, by mapped time (shared with the overlapping windows).
    pub records: Vec<Arc<TimedRecord>>,
    /// Per modality ([`Modality::ALL`] order), where its records are in `records`, in
    /// order, with their time and source: each preprocessor walks its own records only,
    /// and without loading a record it does not read (each is a separate allocation: a
    /// cache miss). The synchronizer fills it with `records`; a window made otherwise
    /// builds it with [`Window::index_modalities`].
    pub(crate) by_modality: [Vec<RecordRef>; 3],
}

/// One record of a window as its modality's list holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef {
    /// Its position in [`Window::records`].
    pub index: usize,
    /// Its mapped time, gateway ns (the record's `t_ns`).
    pub t_ns: u64,
    /// Its source's position in [`Window::sources`] (`None`: not listed there).
    pub source: Option<usize>,
}

impl Window {
    /// A window holding nothing, whose buffers [`Synchronizer::poll_into`] fills and reuses.
    ///
    /// [`Synchronizer::poll_into`]: super::Synchronizer::poll_into
    pub fn empty() -> Window {
        let none = ModalityCoverage {
            present: false,
            coverage: 0.0,
            records: 0,
        };
        Window {
            index: 0,
            start_ns: 0,
            end_ns: 0,
            modalities: [none; 3],
            sources: Vec::new(),
            records: Vec::new(),
            by_modality: Default::default(),
        }
    }

    /// Rebuilds the per-modality lists from `records` and `sources`, for a window whose
    /// records were set by hand (the synchronizer keeps them as it cuts a window).
    pub fn index_modalities(&mut self) {
        self.by_modality.iter_mut().for_each(Vec::clear);
        for (index, r) in self.records.iter().enumerate() {
            let source = (self.sources.iter()).position(|s| s.source == r.record.source);
            self.by_modality[r.record.modality.index()].push(RecordRef {
                index,
                t_ns: r.t_ns,
                source,
            });
        }
    }

    /// The records of one modality as positions in `records` with their time and
    /// source, by mapped time.
    pub fn refs_of(&self, modality: Modality) -> &[RecordRef] {
        debug_assert_eq!(
            self.by_modality.iter().map(Vec::len).sum::<usize>(),
            self.records.len(),
            "records set without Window::index_modalities"
        );
        &self.by_modality[modality.index()]
    }

    /// The presence mask in model input order.
    pub fn present(&self) -> [bool; 3] {
        self.modalities.map(|m| m.present)
    }

    /// The coverage of one modality.
    pub fn coverage(&self, modality: Modality) -> &ModalityCoverage {
        &self.modalities[modality.index()]
    }

    /// The records of one modality, by mapped time.
    pub fn records_of(&self, modality: Modality) -> impl Iterator<Item = &TimedRecord> + '_ {
        (self.refs_of(modality).iter()).map(|r| &*self.records[r.index])
    }

    /// The records of one source in this window (0 if unknown).
    pub fn source_records(&self, source: &str) -> usize {
        self.sources
            .iter()
            .find(|s| &*s.source == source)
            .map_or(0, |s| s.records)
    }
}

/// Counts records per modality in `slots` equal sub-slots of `[start, start + len)`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SlotTally {
    filled: [u64; 3],
    records: [usize; 3],
}

impl SlotTally {
    /// Marks the sub-slot holding `t_ns`.
    pub(crate) fn add(&mut self, modality: Modality, offset_ns: u64, len_ns: u64, slots: u32) {
        let slot = (u128::from(offset_ns) * u128::from(slots) / u128::from(len_ns)) as u32;
        let m = modality.index();
        self.filled[m] |= 1u64 << slot.min(slots - 1);
        self.records[m] += 1;
    }

    /// Coverage per modality; present when at least `min_coverage` of the slots hold data.
    pub(crate) fn coverage(&self, slots: u32, min_coverage: [f64; 3]) -> [ModalityCoverage; 3] {
        std::array::from_fn(|m| {
            let coverage = f64::from(self.filled[m].count_ones()) / f64::from(slots);
            ModalityCoverage {
                present: self.records[m] > 0 && coverage >= min_coverage[m],
                coverage,
                records: self.records[m],
            }
        })
    }
}
