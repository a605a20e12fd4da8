//! Issue 8, point 5: failures are said where the user looks. A source that cannot reach
//! its device makes `dagr record` print each failed attempt on standard error as it happens
//! (the reason and the retry delay), then `no byte from URI`, and exit 1 (README's exit
//! codes: a source that never delivered a byte). The missing device and the empty input are
//! host/tests/integration/cli.rs, the TI `Error -1` serial_sources.rs, the full disk
//! host/tests/integration/disk_full.rs; here the refused connection and the locked pty.
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use dagr_tests::binaries::dagr;
use dagr_tests::process::spawn_piped;
use dagr_tests::reserved_port::ReservedPort;
use dagr_tests::scratch_dir;
use serialport::{SerialPort, TTYPort};

/// `dagr record --source URI --duration 0.5` into `dir`, run by `command` (dagr itself,
/// or dagr under another user).
fn record_briefly(mut command: Command, uri: &str, dir: &Path) -> (Output, String) {
    command
        .args(["record", "--source", uri, "--duration", "0.5", "--out"])
        .arg(dir.join("x.mcap"));
    let out = spawn_piped(&mut command).wait_output("dagr record", Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

/// Exit 1, each attempt's reason with its retry, and the closing `no byte from URI`.
fn assert_said(out: &Output, stderr: &str, uri: &str, reason: &str) {
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let shown = uri.replacen("://", ":", 1);
    let attempt = format!("source {shown}: disconnected: ");
    let attempts: Vec<&str> = stderr.lines().filter(|l| l.contains(&attempt)).collect();
    assert!(!attempts.is_empty(), "no failed attempt said: {stderr}");
    for line in &attempts {
        assert!(line.contains(reason), "{line}");
        assert!(line.contains("; retrying in "), "{line}");
    }
    let closing = format!("dagr record: no byte from {uri}");
    assert!(stderr.contains(&closing), "{stderr}");
}

#[test]
fn a_refused_connection_is_said_on_stderr_and_record_exits_1() {
    let dir = scratch_dir("said-refused");
    let refused = ReservedPort::new();
    let uri = format!("llrp://127.0.0.1:{}", refused.port());
    let (out, stderr) = record_briefly(Command::new(dagr()), &uri, &dir);
    let reason = format!("cannot connect to 127.0.0.1:{}", refused.port());
    assert_said(&out, &stderr, &uri, &reason);
    assert!(stderr.contains("Connection refused"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_exclusively_locked_pty_is_said_on_stderr_and_record_exits_1() {
    let dir = scratch_dir("said-locked");
    let (_master, slave) = TTYPort::pair().expect("create a pty pair");
    let path = slave.name().expect("pty slave has a path");
    // Another program holds the port: opened exclusively (TIOCEXCL, serialport's default).
    let _holder = serialport::new(&path, 921_600)
        .open_native()
        .expect("open the pty exclusively");
    let uri = format!("esp32-csi://{path}");
    // Root ignores TIOCEXCL, so as root dagr runs as nobody, given the pty and the folder.
    let command = if is_root() {
        use std::os::unix::fs::PermissionsExt;
        let anyone = std::fs::Permissions::from_mode(0o777);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::fs::set_permissions(&dir, anyone).unwrap();
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(dagr());
        command
    } else {
        Command::new(dagr())
    };
    let (out, stderr) = record_briefly(command, &uri, &dir);
    let reason = format!("cannot open {path}: Device or resource busy");
    assert_said(&out, &stderr, &uri, &reason);
    drop(slave);
    std::fs::remove_dir_all(&dir).ok();
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}
