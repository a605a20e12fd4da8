//! `dagr decode --format llrp` on the real Impinj recordings and on bad input.
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde_json::Value;

fn fixture(name: &str) -> String {
    format!(
        "{}/../../shared/fixtures/real/llrp/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn decode_json(path: &str) -> (Vec<Value>, std::process::Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(["decode", "--format", "llrp", path, "--json"])
        .output()
        .expect("run dagr");
    let lines = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (lines, out)
}

#[test]
fn json_of_real_impinj_capture_lists_45_tags_with_fixed_fields() {
    let (messages, out) = decode_json(&fixture("impinj_ro_access_reports.bin"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(messages.iter().all(|m| m["type"] == "RO_ACCESS_REPORT"));
    let tags: Vec<&Value> = messages
        .iter()
        .flat_map(|m| m["tags"].as_array().unwrap())
        .collect();
    assert_eq!(tags.len(), 45);
    let first = tags[0];
    assert_eq!(first["epc"], "3005fb63ac1f3841ec880467");
    assert_eq!(first["antenna"], 1);
    assert_eq!(first["peak_rssi"], -50);
    assert_eq!(first["first_seen_utc_us"], 1385585041558537u64);
    assert_eq!(first["channel"], Value::Null);
    assert_eq!(first["phase_rad"], Value::Null);
    assert_eq!(first["impinj_peak_rssi_dbm"], Value::Null);
    assert_eq!(first["doppler_hz"], Value::Null);
    assert_eq!(messages[0]["id"], 0x4095892f);
}

#[test]
fn json_of_reader_event_has_empty_tags_and_connection_event() {
    let (messages, out) = decode_json(&fixture("reader_event_notification.bin"));
    assert!(out.status.success());
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m["type"], "READER_EVENT_NOTIFICATION");
    assert_eq!(m["tags"], serde_json::json!([]));
    assert_eq!(m["event"]["connection_attempt"], 0);
    assert_eq!(m["event"]["utc_us"], 1398936810740479u64);
}

#[test]
fn human_output_is_one_line_per_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(["decode", "--format", "llrp"])
        .arg(fixture("impinj_ro_access_reports.bin"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(
            "RO_ACCESS_REPORT id 1083541807: 1 tag(s) 3005fb63ac1f3841ec880467 ant 1 -50 dBm"
        ),
        "{first}"
    );
}

#[test]
fn garbage_input_fails_with_a_clear_message_and_no_panic() {
    let path = std::env::temp_dir().join(format!("dagr-llrp-garbage-{}.bin", std::process::id()));
    std::fs::write(&path, b"this is not an LLRP stream at all\n".repeat(20)).unwrap();
    let (messages, out) = decode_json(path.to_str().unwrap());
    let _ = std::fs::remove_file(&path);
    assert!(messages.is_empty());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no llrp messages found"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Tags in [`maximal_report`]: as many 17-byte TagReportData (an EPC-96 each) as the
/// decoder's 1 MiB message limit holds.
const MAXIMAL_TAGS: usize = 61_680;

/// An RO_ACCESS_REPORT of the largest size the decoder accepts (1 MiB less 6 bytes):
/// [`MAXIMAL_TAGS`] TagReportData parameters, each holding one EPC-96.
fn maximal_report(id: u32) -> Vec<u8> {
    let len = 10 + MAXIMAL_TAGS * 17;
    let mut message = Vec::with_capacity(len);
    message.extend_from_slice(&((1u16 << 10) | 61).to_be_bytes()); // version 1, type 61
    message.extend_from_slice(&(len as u32).to_be_bytes());
    message.extend_from_slice(&id.to_be_bytes());
    for i in 0..MAXIMAL_TAGS as u32 {
        message.extend_from_slice(&240u16.to_be_bytes()); // TagReportData
        message.extend_from_slice(&17u16.to_be_bytes());
        message.push(0x80 | 13); // EPC-96, a TV parameter
        message.extend_from_slice(&[0x30; 8]);
        message.extend_from_slice(&i.to_be_bytes());
    }
    message
}

/// What `dagr decode --format llrp -` (`--json` when `json`) held at most by the time it
/// had decoded and printed two maximal reports (VmHWM, kB), and its output's line lengths.
/// Read while it waits for more of its standard input: three reports are written, and
/// the third cannot pass through the 64 KiB pipe and dagr's 64 KiB reads unless the first
/// two were decoded and printed before (one thread reads, decodes and prints in turn).
fn peak_after_two_maximal_reports(json: bool) -> (u64, Vec<usize>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dagr"));
    command.args(["decode", "--format", "llrp", "-"]);
    if json {
        command.arg("--json");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run dagr");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        stdout.read_to_end(&mut text).unwrap();
        text.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::len)
            .collect::<Vec<usize>>()
    });
    let mut stdin = child.stdin.take().unwrap();
    for id in 1..=3 {
        stdin.write_all(&maximal_report(id)).unwrap();
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    drop(stdin);
    assert!(child.wait().unwrap().success(), "dagr decode failed");
    (peak_kb, reader.join().unwrap())
}

/// Issue 8 point 3: the JSON of a maximal report (a 1 MiB message, 10 MB of JSON) is
/// written as it is serialized, never held as a whole line: printing it as JSON takes no
/// more memory than its one-line human summary.
#[test]
fn json_of_a_maximal_report_is_written_as_it_is_serialized() {
    let (human_kb, human_lines) = peak_after_two_maximal_reports(false);
    let (json_kb, json_lines) = peak_after_two_maximal_reports(true);
    assert_eq!((human_lines.len(), json_lines.len()), (3, 3));
    let line_kb = (json_lines[0] / 1024) as u64;
    eprintln!(
        "peak RSS after two maximal reports: human {human_kb} kB, JSON {json_kb} kB; \
         a JSON line {line_kb} kB"
    );
    assert!(
        line_kb > 4096,
        "a JSON line of {MAXIMAL_TAGS} tags is {line_kb} kB"
    );
    assert!(
        json_kb < human_kb + line_kb / 4,
        "JSON output held {} kB more than the human summary (a line is {line_kb} kB)",
        json_kb.saturating_sub(human_kb)
    );
}
