//! Issue 8, points 5 and 7: a full disk. `dagr record`, `dagr sim --out` and `dagr dataset
//! export` write into a 1 MB tmpfs until it fills: each says "No space left on device" on
//! standard error naming its output (not the MCAP layer's "I/O error from writing, or
//! reading a compression stream") and exits 2 (an I/O error, README's exit codes); the
//! recorder's capture stays readable up to the failure, the simulator and the exporter leave
//! nothing behind (they write under a temporary name). Mounting needs root: run as another
//! user, each test prints why it is skipped and passes.
use crate::capture_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{dagr, json_lines, run_ok, scratch};
use capture_support::*;

/// Size of the filesystem that fills: far less than any of the outputs below.
const TMPFS_SIZE: &str = "1m";

/// A tmpfs mounted for one test, unmounted (and its mount point removed) when dropped,
/// whatever the test did.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a fresh tmpfs of [`TMPFS_SIZE`] at `dir`; `None`, saying why, when this
    /// process cannot (not root, or no mount allowed here).
    fn mount(dir: &Path) -> Option<Tmpfs> {
        if !is_root() {
            eprintln!("skipped: mounting a small tmpfs needs root (run the tests as root)");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let size = format!("size={TMPFS_SIZE}");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        if !out.status.success() {
            eprintln!(
                "skipped: cannot mount a tmpfs at {}: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }

    /// What the filesystem holds, by name.
    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1)) // effective uid
            == Some("0")
    })
}

/// A 12 s simulated capture (about 6 MB) outside the tmpfs.
fn sim_capture(dir: &Path) -> PathBuf {
    let capture = dir.join("room.mcap");
    run_ok(
        &["sim", "--duration", "12", "--seed", "8", "--out"]
            .into_iter()
            .chain([path_str(&capture)])
            .collect::<Vec<_>>(),
    );
    capture
}

/// Checks the failure is said as documented: exit 2, "No space left on device" on
/// standard error with the output's name.
fn assert_disk_full(out: &Output, output_name: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        !stderr.contains("compression stream"),
        "said in the MCAP layer's words: {stderr}"
    );
    assert!(
        stderr.contains(output_name),
        "the output is not named: {stderr}"
    );
    stderr
}

#[test]
fn record_onto_a_full_disk_says_so_exits_2_and_leaves_the_capture_readable_to_the_failure() {
    let dir = scratch("disk-full-record");
    let Some(tmpfs) = Tmpfs::mount(&dir.join("small")) else {
        return;
    };
    let source = format!("replay://{}?max", sim_capture(&dir).display());
    let out = tmpfs.dir.join("rec.mcap");
    let run = dagr()
        .args(["record", "--source", &source, "--duration", "60", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_disk_full(&run, "rec.mcap");
    // Read up to its last complete chunk, with a warning (exit 0, as for a cut-short file).
    let report = &json_lines(&run_ok(&["inspect", "--json", path_str(&out)]))[0];
    assert_eq!(report["complete"], false, "{report}");
    let records: u64 = report["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["records"].as_u64().unwrap())
        .sum();
    assert!(
        records > 1000,
        "{records} records before the disk filled: {report}"
    );
    let replayed = replay_json(&out);
    let units = replayed.iter().filter(|v| v.get("mapped_ns").is_some());
    assert!(units.count() > 1000, "the partial capture replays");
    drop(tmpfs);
}

#[test]
fn sim_onto_a_full_disk_says_so_exits_2_and_leaves_nothing() {
    let dir = scratch("disk-full-sim");
    let Some(tmpfs) = Tmpfs::mount(&dir.join("small")) else {
        return;
    };
    let out = tmpfs.dir.join("sim.mcap");
    let run = dagr()
        .args(["sim", "--duration", "12", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_disk_full(&run, "sim.mcap");
    assert_eq!(tmpfs.entries(), Vec::<String>::new(), "left behind");
    drop(tmpfs);
}

#[test]
fn dataset_export_onto_a_full_disk_says_so_exits_2_and_leaves_nothing() {
    let dir = scratch("disk-full-export");
    let Some(tmpfs) = Tmpfs::mount(&dir.join("small")) else {
        return;
    };
    let capture = sim_capture(&dir);
    let out = tmpfs.dir.join("data");
    let run = dagr()
        .args(["dataset", "export", path_str(&capture), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_disk_full(&run, "data");
    assert_eq!(tmpfs.entries(), Vec::<String>::new(), "left behind");
    drop(tmpfs);
}
