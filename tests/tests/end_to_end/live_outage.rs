//! `dagr run` keeps predicting through a device outage: over real links (the simulated
//! room's radar and CSI receivers on pseudo-terminals, a WiFi receiver behind a socat relay
//! that the test unplugs, the llrpkit reader emulator on 127.0.0.1 that the test kills), a
//! dead device's modality drops out of each prediction's `present` while predictions keep
//! coming window after window, and it comes back once the device does.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use dagr_tests::binaries::dagr;
use dagr_tests::live_run::{follow_lines, json_line, serial_path, serve_room};
use dagr_tests::llrp_emulator::Emulator;
use dagr_tests::process::{wait_for, ChildGuard};
use dagr_tests::reserved_port::ReservedPort;
use serde_json::Value;

/// A prediction line's `present`, joined (`"mmwave+wifi+rfid"`), its `t` (the window's
/// end) and its window's `start`, gateway s.
pub(super) struct Seen {
    pub(super) t: f64,
    pub(super) start: f64,
    pub(super) present: String,
    /// The modalities the norm guard set aside, `+`-joined (empty: none).
    pub(super) set_aside: String,
}

/// `dagr run`'s predictions as they come (also followed by `live_noise`).
pub(super) struct Predictions {
    lines: Receiver<Value>,
    pub(super) seen: Vec<Seen>,
}

/// A prediction's list of modality names, `+`-joined.
fn joined(list: &Value) -> String {
    let names: Vec<&str> = (list.as_array().expect("a list of modalities").iter())
        .map(|m| m.as_str().expect("modality names"))
        .collect();
    names.join("+")
}

/// Starts `dagr run --json --duration DURATION_S` on `sources` (its standard error to
/// `log`, to read on failure; a full pipe cannot stall it) and follows its predictions.
pub(super) fn run_gateway(
    sources: &[String],
    duration_s: u32,
    log: &Path,
) -> (ChildGuard, Predictions) {
    let mut command = Command::new(dagr());
    command.args(["run", "--json", "--duration", &duration_s.to_string()]);
    for source in sources {
        command.args(["--source", source]);
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("create the log"))
        .spawn()
        .expect("dagr runs");
    let mut run = ChildGuard(child);
    let predictions = Predictions::follow(&mut run);
    (run, predictions)
}

impl Predictions {
    pub(super) fn follow(run: &mut ChildGuard) -> Predictions {
        let out = run.0.stdout.take().expect("piped stdout");
        Predictions {
            lines: follow_lines(out, json_line),
            seen: Vec::new(),
        }
    }

    /// Reads predictions until `n` in a row have exactly `present`; panics after `timeout`.
    pub(super) fn until_present(&mut self, present: &str, n: usize, timeout: Duration) {
        self.until_present_from(present, n, f64::NEG_INFINITY, timeout);
    }

    /// Reads predictions until `n` in a row of windows starting at gateway time `from_s` or
    /// later have exactly `present` (earlier windows are kept in `seen` but neither count
    /// nor break the run); panics after `timeout`.
    pub(super) fn until_present_from(
        &mut self,
        present: &str,
        n: usize,
        from_s: f64,
        timeout: Duration,
    ) {
        let deadline = Instant::now() + timeout;
        let mut run = 0;
        while run < n {
            let left = deadline.saturating_duration_since(Instant::now());
            let value = match self.lines.recv_timeout(left) {
                Ok(value) => value,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no {n} predictions in a row with present {present}{} within {timeout:?}; \
                     last: {:?}",
                    match from_s.is_finite() {
                        true => format!(" of windows from {from_s:.1} s"),
                        false => String::new(),
                    },
                    self.seen
                        .iter()
                        .rev()
                        .take(5)
                        .map(|s| &s.present)
                        .collect::<Vec<_>>()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!("dagr run ended early"),
            };
            let seen = Seen {
                t: value["t"].as_f64().expect("t is a number"),
                start: value["start"].as_f64().expect("start is a number"),
                present: joined(&value["present"]),
                set_aside: joined(&value["set_aside"]),
            };
            if seen.start >= from_s {
                run = if seen.present == present { run + 1 } else { 0 };
            }
            self.seen.push(seen);
        }
    }

    /// Asserts predictions never stopped: one per 0.5 s hop, none skipped or repeated.
    pub(super) fn assert_one_per_hop(&self) {
        let hops: Vec<f64> = self.seen.windows(2).map(|w| w[1].t - w[0].t).collect();
        assert!(
            hops.iter().all(|h| (h - 0.5).abs() < 1e-6),
            "windows skipped or repeated: hops {hops:?}"
        );
    }
}

/// A socat relay from a device's pseudo-terminal to a stable name the gateway opens:
/// killing it is pulling the USB cable, starting it again is plugging it back.
struct Cable {
    device: String,
    end: PathBuf,
    socat: Option<ChildGuard>,
}

impl Cable {
    fn plug(device: &str, end: &Path) -> Cable {
        let mut cable = Cable {
            device: device.to_string(),
            end: end.to_path_buf(),
            socat: None,
        };
        cable.replug();
        cable
    }

    fn unplug(&mut self) {
        drop(self.socat.take());
        let _ = std::fs::remove_file(&self.end);
    }

    fn replug(&mut self) {
        self.unplug();
        let child = Command::new("socat")
            .arg(format!("FILE:{},raw,echo=0", self.device))
            .arg(format!("pty,raw,echo=0,link={}", self.end.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat runs (.ci/run installs it)");
        self.socat = Some(ChildGuard(child));
        let end = self.end.clone();
        wait_for("socat's pseudo-terminal", Duration::from_secs(5), || {
            end.exists()
        });
    }
}

#[test]
fn a_device_that_dies_is_masked_and_used_again_when_it_returns() {
    let dir = dagr_tests::scratch_dir("live-outage");
    let (_sim, uris) = serve_room(&dir);
    let radar = uris[0].clone();
    let console = serial_path(&uris[1], "esp32-csi");
    let mut cable = Cable::plug(&console, &dir.join("wifi"));
    // Reserved: nothing else can take the port while the reader is down.
    let reserved = ReservedPort::new();
    let port = reserved.port();
    let mut reader = Emulator::start(port);

    let log = dir.join("run.log");
    let wifi = format!("esp32-csi://{}?name=wifi", dir.join("wifi").display());
    let rfid = format!("llrp://127.0.0.1:{port}?name=rfid");
    let (run, mut predictions) = run_gateway(&[radar, wifi, rfid], 120, &log);
    let all = "mmwave+wifi+rfid";
    predictions.until_present(all, 3, Duration::from_secs(60));

    drop(reader); // the RFID reader dies
    predictions.until_present("mmwave+wifi", 3, Duration::from_secs(20));
    cable.unplug(); // and the WiFi receiver's cable is pulled
    predictions.until_present("mmwave", 3, Duration::from_secs(20));

    reader = Emulator::start(port);
    cable.replug();
    predictions.until_present(all, 3, Duration::from_secs(40));
    drop(reader);

    // Predictions never stopped: one per hop, no window skipped, through it all.
    predictions.assert_one_per_hop();
    drop(run);
    cable.unplug();
    let _ = std::fs::remove_dir_all(&dir);
}
