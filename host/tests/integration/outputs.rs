//! No output destroyed by a mistake (issue 8, point 1): a usage error leaves an existing
//! output as it was, nothing is overwritten without --force, two recorders on one file do
//! not both succeed, and a failed writer leaves no partial output.
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use crate::capture_support::{path_str, write_capture};
use crate::support::dagr;

const PRECIOUS: &[u8] = b"a capture worth keeping";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn record(args: &[&str]) -> Output {
    dagr().arg("record").args(args).output().unwrap()
}

#[test]
fn record_checks_every_source_before_touching_an_existing_out() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("keep.mcap");
    let cfg_missing = dir.path().join("missing.cfg");
    for (uri, says) in [
        (
            "esp32-csi:///dev/null?bogus=1",
            "unknown parameter \"bogus\"",
        ),
        (
            &*format!(
                "ti-mmwave:///dev/null?cli=/dev/null&cfg={}",
                cfg_missing.display()
            ),
            "cannot read radar config",
        ),
        ("llrp://127.0.0.1:1?keepalive_ms=x", "keepalive_ms=\"x\""),
        ("replay:///nonexistent.mcap?speed=2", "/nonexistent.mcap"),
    ] {
        std::fs::write(&keep, PRECIOUS).unwrap();
        let out = record(&["--source", uri, "--out", path_str(&keep), "--force"]);
        assert_eq!(out.status.code(), Some(2), "{uri}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{uri}: {}", stderr(&out));
        assert_eq!(std::fs::read(&keep).unwrap(), PRECIOUS, "{uri}");
    }
}

#[test]
fn record_refuses_an_existing_out_without_force_and_replaces_it_with() {
    let dir = tempfile::tempdir().unwrap();
    let (source, keep) = (dir.path().join("a.mcap"), dir.path().join("keep.mcap"));
    write_capture(&source, 1.0);
    std::fs::write(&keep, PRECIOUS).unwrap();
    let uri = format!("replay://{}?max", source.display());
    let out = record(&["--source", &uri, "--out", path_str(&keep)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let expected = format!(
        "dagr record: --out {}: exists (use --force to overwrite)",
        keep.display()
    );
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    assert_eq!(std::fs::read(&keep).unwrap(), PRECIOUS);

    let out = record(&["--source", &uri, "--out", path_str(&keep), "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inspect = dagr().args(["inspect", "--json", path_str(&keep)]).output();
    let report: serde_json::Value = serde_json::from_slice(&inspect.unwrap().stdout).unwrap();
    assert_eq!(report["complete"], true, "{report}");
}

#[test]
fn a_second_recorder_on_the_same_out_fails_and_the_first_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (source, out) = (dir.path().join("a.mcap"), dir.path().join("b.mcap"));
    write_capture(&source, 2.0);
    let uri = format!("replay://{}?speed=1", source.display());
    let first = dagr()
        .args(["record", "--source", &uri, "--out", path_str(&out)])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first recorder holds `out` open (and locked, from the moment it opens it).
    let pid = first.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !holds_open(pid, &out) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first recorder never opened {out:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = record(&["--source", &uri, "--out", path_str(&out), "--force"]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("another process is writing it"),
        "{}",
        stderr(&second)
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let inspect = dagr().args(["inspect", "--json", path_str(&out)]).output();
    let report: serde_json::Value = serde_json::from_slice(&inspect.unwrap().stdout).unwrap();
    assert_eq!(report["complete"], true, "{report}");
}

fn sim(out: &Path, extra: &[&str]) -> Output {
    dagr()
        .args(["sim", "--out", path_str(out)])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn sim_out_is_never_overwritten_without_force_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("sim.mcap");
    std::fs::write(&keep, PRECIOUS).unwrap();
    let out = sim(&keep, &["--duration", "0.5"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("exists (use --force to overwrite)"));
    assert_eq!(std::fs::read(&keep).unwrap(), PRECIOUS);

    let out = sim(&keep, &["--duration", "0.5", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(std::fs::read(&keep).unwrap(), PRECIOUS);
    assert_eq!(entries(dir.path()), ["sim.mcap"]);
}

fn export(captures: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["dataset", "export"];
    args.extend(captures.iter().map(|c| path_str(c)));
    args.extend(["--out", path_str(out)]);
    args.extend(extra);
    dagr().args(args).output().unwrap()
}

#[test]
fn a_failed_dataset_export_leaves_no_partial_directory_and_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mcap");
    let scenario = dir.path().join("scenario.txt");
    std::fs::write(&scenario, "0 2 clapping\n").unwrap();
    assert!(sim(&good, &["--scenario", path_str(&scenario)])
        .status
        .success());
    let bad = dir.path().join("bad.mcap");
    std::fs::write(&bad, b"not a capture").unwrap();
    let data = dir.path().join("data");

    let out = export(&[&good, &bad], &data, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.mcap"), "{}", stderr(&out));
    assert_eq!(
        entries(dir.path()),
        ["bad.mcap", "good.mcap", "scenario.txt"]
    );

    let out = export(&[&good], &data, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = std::fs::read(data.join("dataset.json")).unwrap();
    let out = export(&[&good], &data, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("exists (use --force to overwrite)"));
    let out = export(&[&good, &bad], &data, &["--force"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read(data.join("dataset.json")).unwrap(), manifest);
    assert_eq!(
        entries(dir.path()),
        ["bad.mcap", "data", "good.mcap", "scenario.txt"]
    );
    let out = export(&[&good], &data, &["--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        entries(dir.path()),
        ["bad.mcap", "data", "good.mcap", "scenario.txt"]
    );
}

/// Issue 8, point 4: no panic from any number a user can type; each is refused with its
/// range before anything is written.
#[test]
fn out_of_range_numbers_are_refused_with_their_range_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (source, out) = (dir.path().join("a.mcap"), dir.path().join("out.mcap"));
    write_capture(&source, 1.0);
    let replay = |query: &str| format!("replay://{}?{query}", source.display());
    let scenario = dir.path().join("long.txt");
    std::fs::write(&scenario, "0 1e19 walking\n").unwrap();
    let (src, o, sc) = (path_str(&source), path_str(&out), path_str(&scenario));
    let (slow, fast) = (replay("speed=1e-300"), replay("speed=1e300"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["record", "--source", &slow, "--out", o],
            "speed \"1e-300\"",
        ),
        (
            vec!["record", "--source", &fast, "--out", o],
            "expected a factor",
        ),
        (
            vec!["record", "--source", src, "--out", o, "--duration", "1e19"],
            "[0, 320000000]",
        ),
        (
            vec!["record", "--source", src, "--out", o, "--duration=-1"],
            "expected seconds",
        ),
        (
            vec!["replay", "--speed", "1e-300", src],
            "expected a factor",
        ),
        (
            vec!["sim", "--out", o, "--duration", "1e19"],
            "(0, 1000000]",
        ),
        (
            vec!["sim", "--out", o, "--duration", "NaN"],
            "expected seconds",
        ),
        (
            vec!["sim", "--out", o, "--scenario", sc],
            "expected at most 1000000 s",
        ),
        (
            vec!["dataset", "export", src, "--out", o, "--window", "1e9"],
            "[0.05, 60]",
        ),
        (
            vec!["dataset", "export", src, "--out", o, "--hop", "0"],
            "[0.01, 60]",
        ),
        (
            vec!["dataset", "export", src, "--out", o, "--hop", "3"],
            "at most --window 2",
        ),
    ];
    for (args, says) in cases {
        let run = dagr().args(&args).output().unwrap();
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote {o}");
    }
}

/// True when process `pid` has `path` open (one of its /proc fds names it).
fn holds_open(pid: u32, path: &std::path::Path) -> bool {
    let Ok(target) = path.canonicalize() else {
        return false;
    };
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == target))
    })
}
