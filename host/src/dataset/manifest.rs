//! `dataset.json` and `splits.json`: what an export holds and how to split it.
//!
//! # Split rule (`splits.json`)
//! Two splits, each holding out whole domains so a test score measures generalization to
//! an unseen room or person: `by_room` sorts the distinct room ids of the exported files;
//! the highest goes to `test` when there are at least two, the next highest to `val` when
//! there are at least three, the rest to `train` (a single id is all `train`). `by_subject` does the same with subject ids. Each part lists its
//! ids and its files.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::preprocess::{PreprocessSpec, Shapes};
use crate::record::Modality;

/// Format tag of `dataset.json`.
pub const FORMAT: &str = "dagr-dataset-1";

/// The labeling rule, as written into the manifest.
pub const LABEL_RULE: &str = "class of the capture label covering the window centre; windows \
                              without one, or with a class not in `classes`, are skipped";

/// One exported capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileEntry {
    /// Shard file name in the export directory (empty: nothing written, no labeled window).
    pub file: String,
    /// The capture it came from.
    pub capture: String,
    /// Room id (-1: unknown).
    pub room: i64,
    /// Subject id (-1: unknown).
    pub subject: i64,
    /// Samples written.
    pub windows: u64,
    /// Records decoded from the capture.
    pub records: u64,
    /// Windows skipped: no label covers their centre.
    pub unlabeled: u64,
    /// Windows skipped: their label's class is not one of `classes`.
    pub unknown_class: u64,
    /// Samples per class name.
    pub per_class: BTreeMap<String, u64>,
    /// Samples in which each modality is present.
    pub present: BTreeMap<String, u64>,
    /// The capture reader's warning (file cut short), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl FileEntry {
    /// An entry for shard `file` of `capture`, with nothing counted yet.
    pub fn new(file: &str, capture: &Path) -> Self {
        FileEntry {
            file: file.to_string(),
            capture: capture.display().to_string(),
            room: -1,
            subject: -1,
            windows: 0,
            records: 0,
            unlabeled: 0,
            unknown_class: 0,
            per_class: BTreeMap::new(),
            present: BTreeMap::new(),
            warning: None,
        }
    }

    /// Counts a sample of class `class` with presence mask `present`.
    pub fn count(&mut self, class: &str, present: &[f32; 3]) {
        self.windows += 1;
        *self.per_class.entry(class.to_string()).or_default() += 1;
        for m in Modality::ALL {
            if present[m.index()] > 0.0 {
                *self.present.entry(m.name().to_string()).or_default() += 1;
            }
        }
    }
}

/// Totals over all files.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Samples.
    pub windows: u64,
    /// Samples per class name.
    pub per_class: BTreeMap<String, u64>,
    /// Samples per room id.
    pub per_room: BTreeMap<i64, u64>,
    /// Samples per subject id.
    pub per_subject: BTreeMap<i64, u64>,
    /// Samples in which each modality is present.
    pub present: BTreeMap<String, u64>,
}

/// `dataset.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: &'static str,
    /// Class names in class-index order (`label` indexes this).
    pub classes: Vec<String>,
    /// Per-sample tensor shapes (the shard tensors add a batch axis first).
    pub shapes: Shapes,
    /// How the tensors were made.
    pub spec: PreprocessSpec,
    /// [`LABEL_RULE`].
    pub label_rule: &'static str,
    /// One entry per capture, in command-line order.
    pub files: Vec<FileEntry>,
    /// Totals.
    pub counts: Counts,
}

impl Manifest {
    /// An empty manifest for `spec` and `classes`.
    pub fn new(spec: PreprocessSpec, classes: &[&str]) -> Self {
        Manifest {
            format: FORMAT,
            classes: classes.iter().map(|c| c.to_string()).collect(),
            shapes: spec.shapes,
            spec,
            label_rule: LABEL_RULE,
            files: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// Adds a file and its counts to the totals.
    pub fn add(&mut self, entry: FileEntry) {
        let c = &mut self.counts;
        c.windows += entry.windows;
        for (class, n) in &entry.per_class {
            *c.per_class.entry(class.clone()).or_default() += n;
        }
        for (modality, n) in &entry.present {
            *c.present.entry(modality.clone()).or_default() += n;
        }
        *c.per_room.entry(entry.room).or_default() += entry.windows;
        *c.per_subject.entry(entry.subject).or_default() += entry.windows;
        self.files.push(entry);
    }
}

/// One side of a split: which domain ids and which files.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Part {
    /// Room or subject ids.
    pub ids: Vec<i64>,
    /// Shard files.
    pub files: Vec<String>,
}

/// A train/val/test split by one domain key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Split {
    /// Training files.
    pub train: Part,
    /// Validation files (empty with fewer than three distinct ids).
    pub val: Part,
    /// Test files: the highest id.
    pub test: Part,
}

/// `splits.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Splits {
    /// The rule, in words.
    pub rule: &'static str,
    /// Held-out rooms.
    pub by_room: Split,
    /// Held-out subjects.
    pub by_subject: Split,
}

impl Splits {
    /// The two splits of `files` (see the [module doc](self)); files without samples are left
    /// out.
    pub fn by_room_and_subject(files: &[FileEntry]) -> Splits {
        let written: Vec<&FileEntry> = files.iter().filter(|f| !f.file.is_empty()).collect();
        Splits {
            rule: "per key (room, subject): highest id -> test when there are at least 2 ids, \
                   next highest -> val when there are at least 3, the rest -> train",
            by_room: Split::by(&written, |f| f.room),
            by_subject: Split::by(&written, |f| f.subject),
        }
    }
}

impl Split {
    fn by(files: &[&FileEntry], key: impl Fn(&FileEntry) -> i64) -> Split {
        let ids: BTreeSet<i64> = files.iter().map(|f| key(f)).collect();
        let ids: Vec<i64> = ids.into_iter().collect();
        let test = (ids.len() >= 2).then(|| ids[ids.len() - 1]);
        let val = (ids.len() >= 3).then(|| ids[ids.len() - 2]);
        let mut split = Split::default();
        for &id in &ids {
            let part = if Some(id) == test {
                &mut split.test
            } else if Some(id) == val {
                &mut split.val
            } else {
                &mut split.train
            };
            part.ids.push(id);
            part.files.extend(
                files
                    .iter()
                    .filter(|f| key(f) == id)
                    .map(|f| f.file.clone()),
            );
        }
        split
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, room: i64, subject: i64) -> FileEntry {
        FileEntry {
            room,
            subject,
            ..FileEntry::new(name, Path::new("x.mcap"))
        }
    }

    #[test]
    fn the_highest_room_is_test_the_next_val_and_the_rest_train() {
        let files = [
            file("a", 0, 5),
            file("b", 2, 5),
            file("c", 7, 1),
            file("d", 2, 1),
        ];
        let s = Splits::by_room_and_subject(&files);
        assert_eq!(s.by_room.test.ids, [7]);
        assert_eq!(s.by_room.test.files, ["c"]);
        assert_eq!(s.by_room.val.ids, [2]);
        assert_eq!(s.by_room.val.files, ["b", "d"]);
        assert_eq!(s.by_room.train.files, ["a"]);
        // Two subjects: no validation part.
        assert_eq!(s.by_subject.test.files, ["a", "b"]);
        assert!(s.by_subject.val.files.is_empty());
        assert_eq!(s.by_subject.train.files, ["c", "d"]);
    }

    #[test]
    fn a_single_domain_is_all_train_and_empty_files_are_left_out() {
        let files = [file("", 3, 3), file("a", 0, 0)];
        let s = Splits::by_room_and_subject(&files);
        assert_eq!(s.by_room.train.ids, [0]);
        assert_eq!(s.by_room.train.files, ["a"]);
        assert!(s.by_room.test.ids.is_empty() && s.by_room.val.ids.is_empty());
    }
}
