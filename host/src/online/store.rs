//! Where a gateway keeps the heads it adapted, so a restart goes on with them: a state
//! directory (`[adapt] dir`) holding one complete model package per accepted head,
//! `head-N/` for head version N.
//!
//! The newest `head-N/` is the head in use at start, the one before it the head a
//! rollback returns to (with a single one, the model's own head, version 0). Each package
//! is written whole by [`write_package`](crate::adapt::write_package) under a temporary
//! name and renamed into place, so a crash mid-write leaves the previous packages as
//! they were and no half package under a `head-N` name. A rollback renames the newest
//! away to `rolled-back-N/` (kept for inspection, never loaded). Heads older than the two
//! newest are removed once a new one is in place.
use std::path::{Path, PathBuf};

use dagr_infer::ModelPackage;

use crate::adapt::{write_package, AdaptError, AdaptationRecord};

/// The prefix of a stored head's directory (`head-3`).
const HEAD_PREFIX: &str = "head-";

/// The prefix a rolled-back head's directory takes.
const ROLLED_BACK_PREFIX: &str = "rolled-back-";

/// Why the state directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory could not be created, listed or changed.
    #[error("adaptation state directory {}: {what}", dir.display())]
    Io {
        /// The directory or entry.
        dir: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A stored head's package is not a usable package.
    #[error("stored head {}", dir.display())]
    Package {
        /// Its directory.
        dir: PathBuf,
        /// What is wrong with it.
        #[source]
        source: dagr_infer::PackageError,
    },
    /// A stored head does not belong to the gateway's model.
    #[error(
        "stored head {}: {what}; it was adapted from another model (remove the directory \
         or set another [adapt] dir)", dir.display()
    )]
    OtherModel {
        /// Its directory.
        dir: PathBuf,
        /// What differs, with both values.
        what: String,
    },
    /// Writing a new head's package failed.
    #[error("writing head {version} into {}", dir.display())]
    Write {
        /// The state directory.
        dir: PathBuf,
        /// The head's version.
        version: u64,
        /// Why.
        #[source]
        source: Box<AdaptError>,
    },
}

/// A stored head: its version and package directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    /// Its version.
    pub version: u64,
    /// Its package directory (`DIR/head-N`).
    pub dir: PathBuf,
}

impl StoredHead {
    /// The model it was adapted from, as its model.json's `adaptation.parent` says
    /// (`None` when unreadable).
    pub fn parent(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.join("model.json")).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        Some(json["adaptation"]["parent"].as_str()?.to_string())
    }
}

/// The state directory of adapted heads (see the [module doc](self)).
#[derive(Debug, Clone)]
pub struct HeadStore {
    dir: PathBuf,
}

impl HeadStore {
    /// The store in `dir` (created when missing).
    pub fn open(dir: &Path) -> Result<HeadStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            dir: dir.to_path_buf(),
            what: "cannot create it",
            source,
        })?;
        Ok(HeadStore {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored heads, newest first.
    pub fn heads(&self) -> Result<Vec<StoredHead>, StoreError> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|(prefix, _)| *prefix == HEAD_PREFIX)
            .map(|(_, head)| head)
            .collect())
    }

    /// The highest version ever stored here, rolled back or not (0: none), so that a new
    /// head never takes the number of an earlier one.
    pub fn highest_version(&self) -> Result<u64, StoreError> {
        Ok(self
            .entries()?
            .iter()
            .map(|(_, head)| head.version)
            .max()
            .unwrap_or(0))
    }

    /// Every `head-N` and `rolled-back-N` directory with its prefix, newest first.
    fn entries(&self) -> Result<Vec<(&'static str, StoredHead)>, StoreError> {
        let io = |what| {
            let dir = self.dir.clone();
            move |source| StoreError::Io { dir, what, source }
        };
        let mut heads = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io("cannot list it"))? {
            let entry = entry.map_err(io("cannot list it"))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            for prefix in [HEAD_PREFIX, ROLLED_BACK_PREFIX] {
                let version = name
                    .strip_prefix(prefix)
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| n.parse::<u64>().ok());
                if let (Some(version), true) = (version, entry.path().is_dir()) {
                    let dir = entry.path();
                    heads.push((prefix, StoredHead { version, dir }));
                }
            }
        }
        heads.sort_by_key(|(_, head)| std::cmp::Reverse(head.version));
        Ok(heads)
    }

    /// Loads stored `head` and checks that it is a head of `model` (same classes and head
    /// shape).
    pub fn load(
        &self,
        head: &StoredHead,
        model: &ModelPackage,
    ) -> Result<ModelPackage, StoreError> {
        let package = ModelPackage::load(&head.dir).map_err(|source| StoreError::Package {
            dir: head.dir.clone(),
            source,
        })?;
        let other = |what: String| StoreError::OtherModel {
            dir: head.dir.clone(),
            what,
        };
        if package.classes() != model.classes() {
            return Err(other(format!(
                "its classes {:?} are not the model's {:?}",
                package.classes(),
                model.classes()
            )));
        }
        if package.head_shape() != model.head_shape() {
            return Err(other(format!(
                "its head is {:?}, the model's {:?}",
                package.head_shape(),
                model.head_shape()
            )));
        }
        Ok(package)
    }

    /// Writes head `version` (`params`, described by `record`) as a complete package made
    /// from `source`, then removes heads older than the one before it.
    pub fn write(
        &self,
        version: u64,
        source: &ModelPackage,
        params: &[f32],
        record: &AdaptationRecord,
    ) -> Result<StoredHead, StoreError> {
        let dir = self.dir.join(format!("{HEAD_PREFIX}{version}"));
        write_package(source, &dir, params, record, false).map_err(|source| StoreError::Write {
            dir: self.dir.clone(),
            version,
            source: Box::new(source),
        })?;
        for old in self.heads()?.into_iter().skip(2) {
            if let Err(error) = std::fs::remove_dir_all(&old.dir) {
                tracing::warn!("cannot remove old head {}: {error}", old.dir.display());
            }
        }
        Ok(StoredHead { version, dir })
    }

    /// Renames the newest stored head away (`rolled-back-N`), so that the next start uses
    /// the one before it; `None` when there is none.
    pub fn roll_back(&self) -> Result<Option<StoredHead>, StoreError> {
        let Some(newest) = self.heads()?.into_iter().next() else {
            return Ok(None);
        };
        let away = self
            .dir
            .join(format!("{ROLLED_BACK_PREFIX}{}", newest.version));
        if away.exists() {
            std::fs::remove_dir_all(&away).map_err(|source| StoreError::Io {
                dir: away.clone(),
                what: "cannot remove an earlier rolled-back head of the same version",
                source,
            })?;
        }
        std::fs::rename(&newest.dir, &away).map_err(|source| StoreError::Io {
            dir: newest.dir.clone(),
            what: "cannot rename it away",
            source,
        })?;
        Ok(Some(newest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/reference")
    }

    /// A copy of the reference package in `dir`, its first class renamed when `rename`.
    fn copy_reference(dir: &Path, rename: Option<&str>) {
        std::fs::create_dir_all(dir).unwrap();
        for file in ["model.onnx", "head.safetensors"] {
            std::fs::copy(reference_dir().join(file), dir.join(file)).unwrap();
        }
        let text = std::fs::read_to_string(reference_dir().join("model.json")).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(name) = rename {
            json["classes"][0] = name.into();
        }
        std::fs::write(dir.join("model.json"), json.to_string()).unwrap();
    }

    #[test]
    fn the_newest_head_comes_first_and_a_rollback_renames_it_away() {
        let scratch = tempfile::tempdir().unwrap();
        let store = HeadStore::open(&scratch.path().join("state")).unwrap();
        assert_eq!(store.heads().unwrap(), []);
        assert_eq!(store.roll_back().unwrap(), None);
        for name in [
            "head-2",
            "head-10",
            "head-x",
            "rolled-back-11",
            "head-3.tmp",
        ] {
            std::fs::create_dir(store.dir().join(name)).unwrap();
        }
        let versions: Vec<u64> = store.heads().unwrap().iter().map(|h| h.version).collect();
        assert_eq!(versions, [10, 2]);
        assert_eq!(
            store.highest_version().unwrap(),
            11,
            "rolled-back numbers are not reused"
        );
        let rolled = store.roll_back().unwrap().unwrap();
        assert_eq!(rolled.version, 10);
        assert!(store.dir().join("rolled-back-10").is_dir());
        assert_eq!(store.heads().unwrap()[0].version, 2);
    }

    #[test]
    fn a_stored_head_of_another_model_is_refused_by_name() {
        let scratch = tempfile::tempdir().unwrap();
        let store = HeadStore::open(scratch.path()).unwrap();
        let model = ModelPackage::load(&reference_dir()).unwrap();
        copy_reference(&store.dir().join("head-1"), None);
        copy_reference(&store.dir().join("head-2"), Some("sleeping"));
        let heads = store.heads().unwrap();
        let error = store.load(&heads[0], &model).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "stored head {}: its classes",
                heads[0].dir.display()
            )),
            "{error}"
        );
        assert!(error.contains("\"sleeping\""), "{error}");
        assert!(
            error.ends_with("(remove the directory or set another [adapt] dir)"),
            "{error}"
        );
        let same = store.load(&heads[1], &model).unwrap();
        assert_eq!(same.head_params(), model.head_params());
    }
}
