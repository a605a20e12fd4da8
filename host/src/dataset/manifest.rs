//! `dataset.json` and `splits.json`: what an export holds and how to split it.
//!
//! # Split rule (`splits.json`)
//! Two splits, each holding out whole domains so a test score measures generalization to
//! an unseen room or person: `by_room` sorts the distinct room ids of the exported files;
//! the highest goes to `test` when there are at least two, the next highest to `val` when
//! there are at least three, the rest to `train` (a single id is all `train`).
//! `by_subject` does the same with subject ids. Each part lists its ids and its files.
//!
//! `by_room_and_subject` holds out rooms and people together, the split the calibration and
//! the model's headline figure use: the highest fifth of the room ids (at least one when
//! there are two or more) and the highest fifth of the subject ids are `test`, the next
//! fifth of each `val`; a file is `test` when its room and its subject are both test ids,
//! `val` when both are val ids, `train` when neither is a test or val id, and `excluded`
//! otherwise (it would leak a test or val room or person into training).
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
    /// What was lost to damage in the capture (skipped chunks), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
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
            lost: None,
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

/// One side of a split by room and subject together.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JointPart {
    /// Room ids of this part.
    pub rooms: Vec<i64>,
    /// Subject ids of this part.
    pub subjects: Vec<i64>,
    /// Shard files whose room and subject both belong here.
    pub files: Vec<String>,
}

/// A train/val/test split holding out rooms and people together.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JointSplit {
    /// Training files: neither their room nor their person is held out.
    pub train: JointPart,
    /// Validation files.
    pub val: JointPart,
    /// Test files: unseen room and unseen person.
    pub test: JointPart,
    /// Files that mix a held-out room or person with a training one: in no part.
    pub excluded: Vec<String>,
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
    /// Held-out rooms and subjects together.
    pub by_room_and_subject: JointSplit,
}

impl Splits {
    /// The two splits of `files` (see the [module doc](self)); files without samples are left
    /// out.
    pub fn by_room_and_subject(files: &[FileEntry]) -> Splits {
        let written: Vec<&FileEntry> = files.iter().filter(|f| !f.file.is_empty()).collect();
        Splits {
            rule: "per key (room, subject): highest id -> test when there are at least 2 ids, \
                   next highest -> val when there are at least 3, the rest -> train; \
                   by_room_and_subject: highest fifth of room ids and of subject ids -> test, \
                   next fifth -> val, a file in test/val only when both its ids are, in \
                   train only when neither is held out, otherwise excluded",
            by_room: Split::by(&written, |f| f.room),
            by_subject: Split::by(&written, |f| f.subject),
            by_room_and_subject: JointSplit::by(&written),
        }
    }
}

impl JointSplit {
    fn by(files: &[&FileEntry]) -> JointSplit {
        let (rooms, subjects) = (
            held_out(files.iter().map(|f| f.room)),
            held_out(files.iter().map(|f| f.subject)),
        );
        let mut split = JointSplit::default();
        for (part, i) in [
            (&mut split.train, 0),
            (&mut split.val, 1),
            (&mut split.test, 2),
        ] {
            part.rooms = rooms[i].clone();
            part.subjects = subjects[i].clone();
        }
        for f in files {
            let side = |ids: &[Vec<i64>; 3], id: i64| ids.iter().position(|p| p.contains(&id));
            let part = match (side(&rooms, f.room), side(&subjects, f.subject)) {
                (Some(2), Some(2)) => Some(&mut split.test),
                (Some(1), Some(1)) => Some(&mut split.val),
                (Some(0), Some(0)) => Some(&mut split.train),
                _ => None,
            };
            match part {
                Some(p) => p.files.push(f.file.clone()),
                None => split.excluded.push(f.file.clone()),
            }
        }
        split
    }
}

/// Distinct `ids` sorted and cut into [train, val, test]: the highest fifth (at least one
/// with two or more ids) test, the next fifth (at least one with three or more) val.
fn held_out(ids: impl Iterator<Item = i64>) -> [Vec<i64>; 3] {
    let ids: Vec<i64> = ids.collect::<BTreeSet<i64>>().into_iter().collect();
    let n = ids.len();
    let fifth = n.div_ceil(5);
    let test = if n >= 2 { fifth } else { 0 };
    let val = if n >= 3 { fifth.min(n - test - 1) } else { 0 };
    let train_end = n - test - val;
    [
        ids[..train_end].to_vec(),
        ids[train_end..n - test].to_vec(),
        ids[n - test..].to_vec(),
    ]
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
    fn the_joint_split_holds_out_rooms_and_people_together() {
        // Rooms 1..=10 with subjects 1..=10 on the diagonal, plus mixed files.
        let mut files: Vec<FileEntry> = (1..=10).map(|k| file(&format!("d{k}"), k, k)).collect();
        files.push(file("mix", 10, 1));
        files.push(file("mix2", 1, 9));
        let s = Splits::by_room_and_subject(&files).by_room_and_subject;
        assert_eq!(
            (s.test.rooms.clone(), s.test.subjects.clone()),
            (vec![9, 10], vec![9, 10])
        );
        assert_eq!(s.val.rooms, [7, 8]);
        assert_eq!(s.test.files, ["d9", "d10"]);
        assert_eq!(s.val.files, ["d7", "d8"]);
        assert_eq!(s.train.files.len(), 6);
        assert_eq!(s.excluded, ["mix", "mix2"]);
        for part in [&s.val, &s.test] {
            assert!(part.rooms.iter().all(|r| !s.train.rooms.contains(r)));
            assert!(part.subjects.iter().all(|p| !s.train.subjects.contains(p)));
        }
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
