//! Adapting the head of a running `dagr run`: a labeled capture of a room and a person the
//! model never saw (`dagr sim --out`) replayed at twice real time, labels sent over HTTP
//! from the capture's own ground truth, adaptation in the background while predictions keep
//! coming one per hop, the new head named by every later prediction, rollback, the
//! accepted head kept in `[adapt] dir` and used again by the next start, and the bad
//! requests (no or wrong token, unknown class, empty span) refused with nothing changed.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use dagr_tests::binaries::dagr;
use dagr_tests::dagr_cli;
use dagr_tests::live_run::{follow_lines, get_json, json_line, poll_json};
use dagr_tests::process::{run_ok, spawn_piped, ChildGuard};
use dagr_tests::scratch_dir;
use serde_json::{json, Value};

/// The write token of the test's gateway.
const TOKEN: &str = "test-token-0123456789";
/// The reference model's hop, s.
const HOP_S: f64 = 0.5;
/// Longest any expectation may take.
const WAIT: Duration = Duration::from_secs(60);

/// What the simulated person does: four activities of 8 s, twice (labels name whole
/// windows of 2 s inside each), then more for the run to go on while it adapts.
const SCENARIO: &str = "\
 0.5  8.5 walking
 9.0 17.0 waving
17.5 25.5 empty_room
26.0 34.0 clapping
34.5 42.5 walking
43.0 51.0 waving
51.5 59.5 empty_room
60.0 68.0 clapping
68.5 76.5 walking
";

/// A running `dagr run`: its HTTP address, its prediction lines and its standard error.
struct Gateway {
    _child: ChildGuard,
    address: SocketAddr,
    predictions: Receiver<Value>,
    stderr: Receiver<String>,
    /// Standard error's lines read so far.
    said: Vec<String>,
    seen: Vec<Value>,
}

impl Gateway {
    /// Starts `dagr run --config CONFIG --http 127.0.0.1:0 --json` and waits for the
    /// address it serves on (said on standard error).
    fn start(config: &Path) -> Gateway {
        let mut child = spawn_piped(
            Command::new(dagr())
                .args(["run", "--json", "--http", "127.0.0.1:0", "--config"])
                .arg(config),
        );
        let stdout = child.0.stdout.take().expect("piped stdout");
        let errors = child.0.stderr.take().expect("piped stderr");
        let mut gateway = Gateway {
            _child: child,
            address: "127.0.0.1:0".parse().unwrap(),
            predictions: follow_lines(stdout, json_line),
            stderr: follow_lines(errors, |line| line),
            said: Vec::new(),
            seen: Vec::new(),
        };
        let line = gateway.stderr_line("serving");
        let url = line
            .split("http://")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        gateway.address = url.trim().parse().expect("a socket address");
        gateway
    }

    /// The first line of standard error containing `needle`, waiting for it.
    fn stderr_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(line) = self.said.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => self.said.push(line),
                Err(_) => panic!("dagr run never said {needle:?}; it said {:#?}", self.said),
            }
        }
    }

    /// Reads predictions until one satisfies `done`; returns it.
    fn prediction_until(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.predictions.recv_timeout(left) {
                Ok(p) => {
                    self.seen.push(p.clone());
                    if done(&p) {
                        return p;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no prediction {what} in {WAIT:?}"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("dagr run ended before a prediction {what}")
                }
            }
        }
    }

    /// Sends a request; the status and the JSON body.
    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        if method == "GET" {
            return get_json(self.address, path);
        }
        let url = format!("http://{}{path}", self.address);
        let mut post = agent.post(&url);
        if let Some(token) = token {
            post = post.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = match body {
            Some(body) => post
                .header("Content-Type", "application/json")
                .send(body.to_string().as_bytes()),
            None => post.send_empty(),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        (status, body)
    }

    fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        self.request("POST", path, Some(TOKEN), body)
    }

    fn adapt_state(&self) -> Value {
        let (status, body) = get_json(self.address, "/adapt");
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Polls `GET /adapt` until `done` holds.
    fn adapt_until(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        poll_json(self.address, "/adapt", what, WAIT, done)
    }

    /// Adapts on the labeled windows and waits for the outcome.
    fn adapt(&self) -> Value {
        let before = self.adapt_state()["last"]["took_s"].clone();
        let (status, body) = self.post("/adapt", None);
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["state"], "running");
        let done = self.adapt_until("the adaptation's outcome", |s| {
            s["state"] == "idle" && s["last"].is_object() && s["last"]["took_s"] != before
        });
        done["last"].clone()
    }
}

/// The capture's ground truth: (class, start, end) per label, gateway time.
fn truth(capture: &Path) -> Vec<(String, f64, f64)> {
    dagr_cli::replay(capture)
        .into_iter()
        .filter(|v| v.get("label").is_some() && v.get("modality").is_none())
        .map(|v| {
            let class = v["label"].as_str().unwrap().to_string();
            (
                class,
                v["start"].as_f64().unwrap(),
                v["end"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn write_config(dir: &Path, capture: &Path, state: &Path) -> PathBuf {
    let config = dir.join("gateway.toml");
    let text = format!(
        "sources = [\"replay://{}?speed=2\"]\n[adapt]\ntoken = \"{TOKEN}\"\ndir = \"{}\"\n",
        capture.display(),
        state.display()
    );
    std::fs::write(&config, text).unwrap();
    config
}

/// Every prediction a hop after the one before: none missing, none twice.
fn assert_one_per_hop(predictions: &[Value]) {
    for pair in predictions.windows(2) {
        let (a, b) = (
            pair[0]["t"].as_f64().unwrap(),
            pair[1]["t"].as_f64().unwrap(),
        );
        assert!(
            (b - a - HOP_S).abs() < 1e-6,
            "a gap or a repeat between t {a} and t {b}"
        );
    }
}

#[test]
fn a_running_gateway_adapts_its_head_from_labels_without_pausing_and_rolls_back() {
    let dir = scratch_dir("online-adapt");
    let capture = dir.join("room.mcap");
    let scenario = dir.join("scenario.txt");
    std::fs::write(&scenario, SCENARIO).unwrap();
    run_ok(
        Command::new(dagr())
            .args(["sim", "--room", "612", "--subject", "733", "--seed", "4"])
            .arg("--scenario")
            .arg(&scenario)
            .arg("--out")
            .arg(&capture),
        Duration::from_secs(120),
    );
    let truth = truth(&capture);
    assert!(truth.len() > 5, "{truth:?}");
    let state = dir.join("state");
    let config = write_config(&dir, &capture, &state);

    let mut gateway = Gateway::start(&config);
    gateway.adapt_until("30 s of recent windows", |s| {
        s["recent"]["to"].as_f64() > Some(30.0)
    });
    bad_requests_change_nothing(&gateway);

    let labeled = label_truth(&gateway, &truth);
    assert!(labeled >= 20, "{labeled} windows labeled");
    let outcome = gateway.adapt();
    eprintln!("first adaptation: {outcome}");
    assert_eq!(outcome["accepted"], true, "{outcome:#}");
    assert_eq!(outcome["head"], 1, "{outcome:#}");
    assert!(outcome["after"]["accuracy"].as_f64() >= outcome["before"]["accuracy"].as_f64());
    assert!(state.join("head-1").join("model.json").is_file());
    gateway.prediction_until("by head 1", |p| p["head"] == 1);
    let status: Value = {
        let (code, body) = gateway.request("GET", "/adapt", None, None);
        assert_eq!(code, 200);
        body
    };
    assert_eq!(status["head"], 1);
    assert_eq!(status["previous_head"], 0);

    let (code, body) = gateway.post("/head/rollback", None);
    assert_eq!(
        (code, &body["head"], &body["replaced"]),
        (200, &json!(0), &json!(1)),
        "{body}"
    );
    gateway.prediction_until("by head 0 again", |p| p["head"] == 0);
    assert!(!state.join("head-1").exists() && state.join("rolled-back-1").is_dir());
    let (code, body) = gateway.post("/head/rollback", None);
    assert_eq!(code, 409, "only one head back is kept: {body}");

    let outcome = gateway.adapt();
    assert_eq!(
        (&outcome["accepted"], &outcome["head"]),
        (&json!(true), &json!(2)),
        "{outcome:#}"
    );
    gateway.prediction_until("by head 2", |p| p["head"] == 2);
    let heads: Vec<u64> = gateway
        .seen
        .iter()
        .map(|p| p["head"].as_u64().unwrap())
        .collect();
    let mut changes = heads.clone();
    changes.dedup();
    assert_eq!(changes, [0, 1, 0, 2], "head versions in prediction order");
    assert_one_per_hop(&gateway.seen);
    // Killed (SIGKILL, as a crash) right after a third adaptation started: whether it died
    // before or after storing head 3, the state holds only whole packages.
    let (code, body) = gateway.post("/adapt", None);
    assert_eq!(code, 202, "{body}");
    drop(gateway);

    let mut restarted = Gateway::start(&config);
    let resumed = restarted.stderr_line("adapted head");
    eprintln!("restart: {resumed}");
    let newest: u64 = if resumed.contains("using adapted head 3 from") {
        3
    } else {
        2
    };
    assert!(
        resumed.contains(&format!("using adapted head {newest} from")),
        "{resumed}"
    );
    assert!(resumed.contains("adapted from model "), "{resumed}");
    let before = if newest == 3 { 2 } else { 0 };
    assert!(
        resumed.contains(&format!("head {before} before it is kept for rollback")),
        "{resumed}"
    );
    let first = restarted.prediction_until("after the restart", |_| true);
    assert_eq!(first["head"], newest);
    assert_eq!(restarted.adapt_state()["head"], newest);
    drop(restarted);

    // Stopped, it rolls back from the command line to the head before.
    let out = run_ok(
        Command::new(dagr())
            .args(["head", "rollback", "--state"])
            .arg(&state),
        Duration::from_secs(20),
    );
    let said = String::from_utf8_lossy(&out);
    assert!(
        said.contains(&format!("rolled back head {newest}")),
        "{said}"
    );
    let next = match before {
        0 => "the next start uses the model's own head".to_string(),
        n => format!("the next start uses adapted head {n}"),
    };
    assert!(said.contains(&next), "{said}");
    assert!(!state.join(format!("head-{newest}")).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Labels every truth segment the recent windows cover; the windows labeled.
fn label_truth(gateway: &Gateway, truth: &[(String, f64, f64)]) -> u64 {
    let covered = gateway.adapt_state()["recent"]["to"].as_f64().unwrap();
    let mut labeled = 0;
    for (class, start, end) in truth.iter().filter(|(_, _, end)| *end <= covered) {
        let body = json!({"class": class, "start": start, "end": end});
        let (code, reply) = gateway.post("/labels", Some(body));
        match code {
            200 => labeled += reply["labeled"].as_u64().unwrap(),
            // A segment shorter than a window names none.
            422 if end - start < 2.0 + HOP_S => {}
            _ => panic!("{class} {start}..{end}: {code} {reply}"),
        }
    }
    assert_eq!(
        gateway.adapt_state()["labels"]["windows"].as_u64(),
        Some(labeled)
    );
    labeled
}

/// Writes without the token or with a wrong one, an unknown class, a span with no window,
/// adapting with no label and rolling back with no previous head: each refused with its
/// reason, and the labeled buffer and head unchanged.
fn bad_requests_change_nothing(gateway: &Gateway) {
    let walking = json!({"class": "walking", "last_s": 10});
    let (code, body) = gateway.request("POST", "/labels", None, Some(walking.clone()));
    assert_eq!(code, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{body}"
    );
    let (code, _) = gateway.request(
        "POST",
        "/labels",
        Some("wrong-token-0123456789"),
        Some(walking),
    );
    assert_eq!(code, 401);
    let (code, _) = gateway.request("POST", "/adapt", Some("nope"), None);
    assert_eq!(code, 401);

    let (code, body) = gateway.post("/labels", Some(json!({"class": "dancing", "last_s": 10})));
    assert_eq!(code, 422);
    let message = body["error"].as_str().unwrap();
    assert!(
        message
            .starts_with("class `dancing` is not one of the model's classes: empty_room, walking"),
        "{message}"
    );
    let (code, body) = gateway.post(
        "/labels",
        Some(json!({"class": "walking", "start": 5000, "end": 5010})),
    );
    assert_eq!(code, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("the recent windows cover"),
        "{body}"
    );
    let (code, body) = gateway.post("/labels", Some(json!({"class": "walking"})));
    assert_eq!(code, 400, "{body}");

    let (code, body) = gateway.post("/adapt", None);
    assert_eq!(code, 422, "{body}");
    let (code, body) = gateway.post("/head/rollback", None);
    assert_eq!(code, 409, "{body}");

    let state = gateway.adapt_state();
    assert_eq!(state["labels"]["windows"], 0, "{state:#}");
    assert_eq!(state["head"], 0);
    assert_eq!(state["last"], Value::Null);
}
