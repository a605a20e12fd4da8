//! Output files no mistake destroys: the overwrite rule and the two ways dagr writes.
//!
//! The rule, for every command that writes (`record`, `sim --out`, `dataset export`): an
//! existing output is replaced only when the user said so ([`Overwrite::Replace`], the
//! `--force` flag); and it is touched only once everything else was checked.
//!
//! - A capture being recorded lives at its final name from its first chunk (a recorder killed
//!   mid-run leaves a file readable up to its last chunk), so [`create_locked`] takes an
//!   exclusive lock on it instead: a second recorder on the same file fails at start.
//! - Everything else is written to a temporary name in the same directory
//!   ([`StagedFile`], [`StagedDir`]) and renamed on success, so a failure leaves no partial
//!   output behind and the previous output, if any, untouched.
//!
//! This module knows files only: not what goes in them, nor the command line.
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};
use tempfile::{NamedTempFile, TempDir};

/// Whether an existing output may be replaced (`--force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// An existing output is an error; it stays as it was.
    Refuse,
    /// An existing output is replaced (once the new one is complete, where staged).
    Replace,
}

impl Overwrite {
    /// `--force` given or not.
    pub fn forced(force: bool) -> Overwrite {
        if force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        }
    }
}

/// Why an output could not be created or put in place.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output exists and [`Overwrite::Refuse`] was asked.
    #[error("{}: exists", path.display())]
    Exists {
        /// The output.
        path: PathBuf,
    },
    /// Another process holds the output's lock (another recorder writes it).
    #[error("{}: another process is writing it", path.display())]
    Busy {
        /// The output.
        path: PathBuf,
    },
    /// The file system refused.
    #[error("{}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| match source.kind() {
        ErrorKind::AlreadyExists => OutputError::Exists { path: path.into() },
        _ => OutputError::Io {
            path: path.into(),
            source,
        },
    }
}

/// Opens `path` for writing from its start under an exclusive lock held as long as the
/// file is open. With [`Overwrite::Refuse`] the file must not exist (checked atomically);
/// with [`Overwrite::Replace`] an existing file is emptied only once the lock is held, so a
/// file another recorder is writing is never truncated.
pub fn create_locked(path: &Path, overwrite: Overwrite) -> Result<File, OutputError> {
    let mut options = OpenOptions::new();
    options.write(true).read(true);
    match overwrite {
        Overwrite::Refuse => options.create_new(true),
        Overwrite::Replace => options.create(true),
    };
    let file = options.open(path).map_err(io(path))?;
    flock(&file, FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| OutputError::Busy { path: path.into() })?;
    file.set_len(0).map_err(io(path))?;
    Ok(file)
}

/// Fails with [`OutputError::Exists`] when `path` exists and may not be replaced: checked
/// before the work starts, so a long run does not end in a refusal.
pub fn check_target(path: &Path, overwrite: Overwrite) -> Result<(), OutputError> {
    if overwrite == Overwrite::Refuse && path.symlink_metadata().is_ok() {
        return Err(OutputError::Exists { path: path.into() });
    }
    Ok(())
}

/// The directory a temporary sibling of `path` goes in (the current one for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A temporary name beside `path`, hidden and recognisable: `.NAME.`.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.")
}

/// A file written under a temporary name beside its target and renamed onto it by
/// [`commit`](Self::commit); dropped uncommitted (an error), the temporary file is removed.
pub struct StagedFile {
    temp: NamedTempFile,
    target: PathBuf,
    overwrite: Overwrite,
}

impl StagedFile {
    /// Checks the overwrite rule for `target` and creates the temporary file.
    pub fn new(target: &Path, overwrite: Overwrite) -> Result<StagedFile, OutputError> {
        check_target(target, overwrite)?;
        let dir = parent_of(target);
        let temp = tempfile::Builder::new()
            .prefix(&temp_prefix(target))
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(io(dir))?;
        Ok(StagedFile {
            temp,
            target: target.to_path_buf(),
            overwrite,
        })
    }

    /// Where to write meanwhile.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Renames the written file onto the target (which must still not exist unless
    /// [`Overwrite::Replace`]: two writers racing to it do not both succeed silently).
    pub fn commit(self) -> Result<(), OutputError> {
        let target = self.target;
        let result = match self.overwrite {
            Overwrite::Replace => self.temp.persist(&target),
            Overwrite::Refuse => self.temp.persist_noclobber(&target),
        };
        result.map(drop).map_err(|e| io(&target)(e.error))
    }
}

/// A directory built under a temporary name beside its target and renamed onto it by
/// [`commit`](Self::commit); dropped uncommitted (an error), it is removed with its files.
pub struct StagedDir {
    temp: TempDir,
    target: PathBuf,
    overwrite: Overwrite,
}

impl StagedDir {
    /// Checks the overwrite rule for `target` and creates the temporary directory.
    pub fn new(target: &Path, overwrite: Overwrite) -> Result<StagedDir, OutputError> {
        check_target(target, overwrite)?;
        let dir = parent_of(target);
        let temp = tempfile::Builder::new()
            .prefix(&temp_prefix(target))
            .suffix(".partial")
            .tempdir_in(dir)
            .map_err(io(dir))?;
        Ok(StagedDir {
            temp,
            target: target.to_path_buf(),
            overwrite,
        })
    }

    /// Where to write meanwhile.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Puts the directory in place. An existing target (allowed by
    /// [`Overwrite::Replace`]) is first moved aside, then removed once the new one is in.
    pub fn commit(self) -> Result<(), OutputError> {
        let target = self.target.clone();
        check_target(&target, self.overwrite)?;
        let old = match target.symlink_metadata() {
            Ok(_) => Some(self.move_aside(&target)?),
            Err(_) => None,
        };
        let built = self.temp.keep();
        if let Err(e) = std::fs::rename(&built, &target) {
            let _ = std::fs::remove_dir_all(&built);
            if let Some(old) = &old {
                let _ = std::fs::rename(old.path(), &target);
            }
            return Err(io(&target)(e));
        }
        Ok(()) // `old`, if any, is removed as it drops
    }

    /// Renames the existing `target` to a temporary directory that removes itself.
    fn move_aside(&self, target: &Path) -> Result<TempDir, OutputError> {
        let aside = tempfile::Builder::new()
            .prefix(&temp_prefix(target))
            .suffix(".old")
            .tempdir_in(parent_of(target))
            .map_err(io(target))?;
        std::fs::rename(target, aside.path()).map_err(io(target))?;
        Ok(aside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_locked_file_refuses_an_existing_one_and_a_second_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.mcap");
        std::fs::write(&path, b"precious").unwrap();
        let e = create_locked(&path, Overwrite::Refuse).unwrap_err();
        assert!(matches!(e, OutputError::Exists { .. }), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");

        let first = create_locked(&path, Overwrite::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        std::fs::write(&path, b"being recorded").unwrap();
        let e = create_locked(&path, Overwrite::Replace).unwrap_err();
        assert!(
            e.to_string().contains("another process is writing it"),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"being recorded");
        drop(first);
        assert!(create_locked(&path, Overwrite::Replace).is_ok());
    }

    #[test]
    fn a_staged_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sim.mcap");
        let staged = StagedFile::new(&target, Overwrite::Refuse).unwrap();
        std::fs::write(staged.path(), b"half").unwrap();
        drop(staged); // a failure
        assert!(entries(dir.path()).is_empty());

        let staged = StagedFile::new(&target, Overwrite::Refuse).unwrap();
        std::fs::write(staged.path(), b"whole").unwrap();
        staged.commit().unwrap();
        assert_eq!(entries(dir.path()), ["sim.mcap"]);
        let e = StagedFile::new(&target, Overwrite::Refuse).err().unwrap();
        assert!(matches!(e, OutputError::Exists { .. }), "{e}");
    }

    #[test]
    fn two_staged_writers_to_one_target_do_not_both_succeed_without_replace() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.mcap");
        let (a, b) = (
            StagedFile::new(&target, Overwrite::Refuse).unwrap(),
            StagedFile::new(&target, Overwrite::Refuse).unwrap(),
        );
        std::fs::write(a.path(), b"a").unwrap();
        std::fs::write(b.path(), b"b").unwrap();
        a.commit().unwrap();
        assert!(matches!(b.commit(), Err(OutputError::Exists { .. })));
        assert_eq!(std::fs::read(&target).unwrap(), b"a");
        assert_eq!(entries(dir.path()), ["x.mcap"]);
    }

    #[test]
    fn a_staged_dir_replaces_only_when_allowed_and_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("data");
        let staged = StagedDir::new(&target, Overwrite::Refuse).unwrap();
        std::fs::write(staged.path().join("a.safetensors"), b"1").unwrap();
        drop(staged);
        assert!(entries(dir.path()).is_empty());

        let staged = StagedDir::new(&target, Overwrite::Refuse).unwrap();
        std::fs::write(staged.path().join("old.json"), b"1").unwrap();
        staged.commit().unwrap();
        assert!(StagedDir::new(&target, Overwrite::Refuse).is_err());
        let staged = StagedDir::new(&target, Overwrite::Replace).unwrap();
        std::fs::write(staged.path().join("new.json"), b"2").unwrap();
        staged.commit().unwrap();
        assert_eq!(entries(dir.path()), ["data"]);
        assert_eq!(entries(&target), ["new.json"]);
    }
}
