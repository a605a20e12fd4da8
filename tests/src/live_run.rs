//! What the tests of a live gateway share: the simulated room served on real links
//! (`dagr sim --serve`), a child's output lines followed as they come, and the gateway's
//! HTTP endpoints read and polled until a condition holds (never a fixed sleep).
//!
//! `live_outage`, `live_noise`, `online_adapt` and `http_status` start their gateways and
//! wait on them through these, so a change to how `dagr run` or `dagr sim --serve` start
//! up, or to how long a loaded machine may take, is made once.
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::binaries::dagr;
use crate::process::{line_within, spawn_piped, ChildGuard};

/// How often [`poll_json`] asks again.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Starts `dagr sim --serve` on the room the live tests share (room 47, subject 67, seed 5:
/// no device outage or noisy spell of its own in its first 50 s) with its work files under
/// `dir`; returns it with the URIs it prints: the radar first, then the CSI consoles, then
/// the LLRP reader.
pub fn serve_room(dir: &Path) -> (ChildGuard, Vec<String>) {
    let mut sim = spawn_piped(
        Command::new(dagr())
            .args(["sim", "--serve", "--room", "47", "--subject", "67"])
            .args(["--seed", "5", "--duration", "300"])
            .env("TMPDIR", dir),
    );
    let mut out = BufReader::new(sim.0.stdout.take().expect("piped stdout"));
    let mut uris = Vec::new();
    while !uris
        .last()
        .is_some_and(|u: &String| u.starts_with("llrp://"))
    {
        let (line, rest) = line_within(out, Duration::from_secs(20));
        assert!(
            !line.is_empty(),
            "dagr sim --serve ended; URIs so far {uris:?}"
        );
        uris.push(line.trim().to_string());
        out = rest;
    }
    (sim, uris)
}

/// The device path of a served serial URI of `scheme` (`esp32-csi:///dev/pts/3?name=x` ->
/// `/dev/pts/3`), for tests that put a relay between the device and the gateway; panics if
/// `uri` is not of that scheme.
pub fn serial_path(uri: &str, scheme: &str) -> String {
    uri.strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix("://"))
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("not a {scheme} URI: {uri}"))
        .to_string()
}

/// The lines of `output` (a child's stdout or stderr), each turned into a value by `parse`,
/// on a channel as they come; the channel ends with the output.
pub fn follow_lines<T: Send + 'static>(
    output: impl Read + Send + 'static,
    parse: fn(String) -> T,
) -> Receiver<T> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if tx.send(parse(line)).is_err() {
                break;
            }
        }
    });
    rx
}

/// One JSON line (a prediction of `dagr run --json`); panics naming the line otherwise.
pub fn json_line(line: String) -> Value {
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
}

/// `GET http://ADDRESS/PATH`: the status code and the body as JSON (any status: an error
/// reply's body is JSON too).
pub fn get_json(address: SocketAddr, path: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(&format!("http://{address}{path}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
    (status, body)
}

/// GETs `path` (which must answer 200) until its JSON satisfies `done`, every 50 ms;
/// returns that reply. Panics with the last reply, naming `what`, after `timeout`.
pub fn poll_json(
    address: SocketAddr,
    path: &str,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let (status, now) = get_json(address, path);
        assert_eq!(status, 200, "GET {path}: {now}");
        if done(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}: {now:#}"
        );
        std::thread::sleep(POLL_EVERY);
    }
}
