//! The command line's contract for scripts: error messages that name the file, and exit codes.
use crate::support::{dagr, scratch};

#[test]
fn missing_input_file_exits_2_and_names_the_file() {
    let out = dagr()
        .args(["decode", "--format", "llrp", "/nonexistent/capture.bin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/capture.bin"), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

#[test]
fn unknown_format_is_a_usage_error_listing_the_formats() {
    let out = dagr()
        .args(["decode", "--format", "pcap", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in [
        "ti-mmwave",
        "esp32-csi",
        "esp-csi",
        "intel5300",
        "llrp",
        "node",
    ] {
        assert!(err.contains(name), "stderr lacks {name}: {err}");
    }
}

#[test]
fn every_format_reports_garbage_as_nothing_decodable() {
    let dir = scratch("cli-garbage");
    let path = dir.join("garbage.bin");
    // Text with no frame of any format in it: no magic word, no CSI_DATA row, no LLRP
    // header (version bits 0), no 0x00 delimiter for node frames.
    std::fs::write(&path, "hello, this is not a capture\n".repeat(50)).unwrap();
    for format in [
        "ti-mmwave",
        "esp32-csi",
        "esp-csi",
        "intel5300",
        "llrp",
        "node",
    ] {
        let out = dagr()
            .args(["decode", "--format", format])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {err}");
        assert!(out.stdout.is_empty(), "{format} printed records");
        assert!(
            err.contains(&format!("no {format} ")) && err.contains(" found in "),
            "{format}: {err}"
        );
        assert!(!err.contains("panicked"), "{format}: {err}");
    }
}

#[test]
fn an_empty_input_is_nothing_decodable_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.bin");
    std::fs::write(&path, b"").unwrap();
    for format in ["ti-mmwave", "llrp"] {
        let out = dagr()
            .args(["decode", "--format", format])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {err}");
        assert!(
            err.contains("empty.bin: empty (0 bytes)"),
            "{format}: {err}"
        );
    }
}

/// Issue 8, point 5: a missing device is said on standard error as it happens (with the
/// reason and the retry delay), and a source that never delivered a byte fails the run.
#[test]
fn record_says_each_state_change_and_fails_when_a_source_sent_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.mcap");
    let uri = "esp32-csi:///nonexistent/ttyUSB9";
    let run = |log: &str| {
        dagr()
            .args([
                "record",
                "--source",
                uri,
                "--duration",
                "0.5",
                "--force",
                "--out",
            ])
            .arg(&out)
            .env("RUST_LOG", log)
            .output()
            .unwrap()
    };
    let said = run("info");
    let err = String::from_utf8_lossy(&said.stderr);
    assert_eq!(said.status.code(), Some(1), "{err}");
    assert!(
        err.contains("source esp32-csi:/nonexistent/ttyUSB9: disconnected: cannot open")
            && err.contains("No such file or directory; retrying in 0.1 s"),
        "{err}"
    );
    assert!(
        err.contains(&format!("dagr record: no byte from {uri}")),
        "{err}"
    );
    assert!(out.exists(), "the capture with the /status history is kept");

    let quiet = run("off");
    let err = String::from_utf8_lossy(&quiet.stderr);
    assert_eq!(quiet.status.code(), Some(1), "{err}");
    assert!(
        !err.contains("disconnected"),
        "RUST_LOG=off still said: {err}"
    );
}
