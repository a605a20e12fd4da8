//! The HTTP sink over a live gateway: real sources (the real ESP32 recording played into a
//! pty, a node link on a second pty sending CSI and heartbeats, the llrpkit reader emulator
//! on 127.0.0.1) run by `Gateway::start`, their events through the pipeline and the status
//! tracker, and `/status`, `/metrics`, `/events` and `/healthz` read over HTTP on
//! 127.0.0.1 by a real client.
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use dagr_host::capture::{CaptureWriter, StreamInfo};
use dagr_host::clock::GatewayClock;
use dagr_host::events::{EventSink, SourceEvent};
use dagr_host::format::Format;
use dagr_host::http::{self, PredictionFeed, STOP_GRACE};
use dagr_host::pipeline::Pipeline;
use dagr_host::record::Modality;
use dagr_host::runtime::{Gateway, Interrupt, Until};
use dagr_host::source::{Output, SourceUri};
use dagr_host::status::tracker::REFRESH_EVERY;
use dagr_host::status::{ModelStatus, StatusBoard, StatusTracker};
use dagr_host::sync::SyncConfig;
use dagr_protocols::node::{self, encode_frame, CsiRepr, HeaderRepr, Heartbeat, PayloadRepr};
use dagr_tests::fixture;
use dagr_tests::live_run::{get_json, poll_json};
use dagr_tests::llrp_emulator::Emulator;
use serde_json::Value;
use serialport::{SerialPort, TTYPort};

/// Longest any expectation may take.
const WAIT: Duration = Duration::from_secs(20);
const IMPINJ: u64 = 25882;
/// The node id and counters the fake node's heartbeats carry.
const NODE: u16 = 7;
const RING_CAPACITY: u32 = 64;
const DROPPED_BACKPRESSURE: u32 = 3;

// ---------------------------------------------------------------------------------------
// Devices

/// A pty whose master a feeder thread writes device bytes to until stopped.
struct FedPty {
    path: String,
    stop: Arc<AtomicBool>,
    feeder: Option<JoinHandle<()>>,
}

impl FedPty {
    /// Starts writing `next(i)` every `every` into a new pty, i = 0, 1, 2...
    fn start(every: Duration, next: impl Fn(u64) -> Vec<u8> + Send + 'static) -> FedPty {
        let (mut master, slave) = TTYPort::pair().expect("create a pty pair");
        let path = slave.name().expect("pty slave has a path");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let feeder = std::thread::spawn(move || {
            // Keeping the slave open keeps the pty alive however the source opens it.
            let _slave = slave;
            let mut i = 0;
            while !stopped.load(Ordering::Relaxed) {
                // A full pty buffer (nobody reading yet) is not an error of the device.
                let _ = master.write_all(&next(i));
                i += 1;
                std::thread::sleep(every);
            }
        });
        FedPty {
            path,
            stop,
            feeder: Some(feeder),
        }
    }
}

impl Drop for FedPty {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
    }
}

/// The real ESP32-CSI-Tool recording, one CSV row per write, over and over.
fn esp32_rows() -> Vec<Vec<u8>> {
    fixture("esp32_csi/example_csi.csv")
        .split_inclusive(|b| *b == b'\n')
        .filter(|row| row.starts_with(b"CSI_DATA"))
        .map(<[u8]>::to_vec)
        .collect()
}

fn encode(header: &HeaderRepr, payload: &PayloadRepr<'_>) -> Vec<u8> {
    let mut wire = [0u8; node::MAX_WIRE_LEN];
    let len = encode_frame(header, payload, &mut wire).expect("a frame that fits");
    wire[..len].to_vec()
}

/// A node's traffic: a CSI frame every step, and a heartbeat every fifth.
fn node_step(i: u64) -> Vec<u8> {
    let timestamp_us = 1_000_000 + i * 50_000;
    let iq = [dagr_protocols::csi::Iq { re: 3, im: -4 }; 52];
    let csi = PayloadRepr::Csi(CsiRepr {
        rssi: -60,
        noise_floor: -92,
        channel: 6,
        antenna: 0,
        bandwidth_mhz: 20,
        iq: &iq,
    });
    let seq = u32::try_from(i).unwrap_or(u32::MAX);
    let mut bytes = encode(
        &HeaderRepr::new(NODE, 0, node::Modality::Wifi, seq, timestamp_us),
        &csi,
    );
    if i % 5 == 0 {
        let beat = PayloadRepr::Heartbeat(Heartbeat {
            uptime_us: timestamp_us,
            samples_produced: i,
            frames_sent: i,
            dropped_backpressure: DROPPED_BACKPRESSURE,
            link_errors: 0,
            crc_errors: 1,
            ring_high_water: 9,
            ring_capacity: RING_CAPACITY,
        });
        let header = HeaderRepr::new(NODE, 0xFF, node::Modality::None, seq, timestamp_us);
        bytes.extend(encode(&header, &beat));
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// The run loop under test: pipeline + status tracker + prediction feed

/// What `dagr run` does with events, minus inference: records into the pipeline, status
/// tracked, and one JSON line per window published (its start and present modalities).
struct RunLoop {
    pipeline: Pipeline,
    tracker: StatusTracker,
    feed: PredictionFeed,
    clock: GatewayClock,
}

impl EventSink for RunLoop {
    type Error = Infallible;

    fn handle(&mut self, event: SourceEvent) -> Result<(), Infallible> {
        self.tracker.note_event(&event);
        match event {
            SourceEvent::Records(records) => records.into_iter().for_each(|r| {
                self.pipeline.push_record(r);
            }),
            SourceEvent::TimeSync(exchange) => self.pipeline.push_time_sync(&exchange),
            SourceEvent::Chunk(_) | SourceEvent::Status(_) => {}
        }
        Ok(())
    }

    fn tick(&mut self) -> Result<(), Infallible> {
        for window in self.pipeline.poll(self.clock.now_ns()) {
            let present: Vec<&str> = Modality::ALL
                .iter()
                .filter(|m| window.coverage(**m).present)
                .map(|m| m.name())
                .collect();
            let line = serde_json::json!({"window": window.index, "present": present});
            self.feed.publish(line.to_string().into());
            self.tracker.note_prediction("window", window.present());
            let after_end = self.clock.now_ns().saturating_sub(window.end_ns);
            self.tracker.note_latency(Duration::from_nanos(after_end));
        }
        self.tracker.refresh_if_due(Some(&self.pipeline));
        Ok(())
    }

    fn due_in(&self) -> Duration {
        REFRESH_EVERY
    }
}

/// The gateway and its run loop on a thread of their own, until interrupted.
struct LiveGateway {
    interrupt: Interrupt,
    thread: Option<JoinHandle<()>>,
}

impl LiveGateway {
    fn start(uris: &[String], board: &StatusBoard, feed: &PredictionFeed) -> LiveGateway {
        let uris: Vec<SourceUri> = uris.iter().map(|u| SourceUri::parse(u).unwrap()).collect();
        let clock = GatewayClock::new();
        let gateway = Gateway::start(&uris, clock, Output::ChunksAndRecords).expect("start");
        let sync = SyncConfig {
            window_ns: 1_000_000_000,
            hop_ns: 500_000_000,
            ..SyncConfig::default()
        };
        let mut run = RunLoop {
            pipeline: Pipeline::with_windows(sync).unwrap(),
            tracker: StatusTracker::new(board.clone(), clock, gateway.sources()),
            feed: feed.clone(),
            clock,
        };
        let interrupt = Interrupt::default();
        let until = Until {
            deadline: Some(Instant::now() + Duration::from_secs(120)),
            interrupt: Some(interrupt.clone()),
        };
        let thread = std::thread::spawn(move || {
            gateway.pump(&mut run, &until).unwrap();
            gateway.stop(&mut run).unwrap();
            run.tracker.refresh(Some(&run.pipeline));
            gateway.join().expect("no source thread panicked");
        });
        LiveGateway {
            interrupt,
            thread: Some(thread),
        }
    }

    /// Stops the sources and waits for the last status update.
    fn stop(mut self) {
        self.interrupt.flag().store(true, Ordering::Relaxed);
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("run loop ends cleanly");
    }
}

impl Drop for LiveGateway {
    fn drop(&mut self) {
        self.interrupt.flag().store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP helpers

fn get(address: SocketAddr, path: &str) -> (String, String) {
    let mut response = ureq::get(&format!("http://{address}{path}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response.body_mut().read_to_string().unwrap();
    (content_type, body)
}

fn status(address: SocketAddr) -> Value {
    let (code, status) = get_json(address, "/status");
    assert_eq!(code, 200, "{status}");
    status
}

/// Polls /status until `done` holds; fails with the last status after [`WAIT`].
fn status_until(address: SocketAddr, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    poll_json(address, "/status", what, WAIT, done)
}

/// The source whose URI starts with `scheme`, once the run loop has published it.
fn find_source<'a>(status: &'a Value, scheme: &str) -> Option<&'a Value> {
    status["sources"]
        .as_array()?
        .iter()
        .find(|s| s["uri"].as_str().is_some_and(|u| u.starts_with(scheme)))
}

fn source<'a>(status: &'a Value, scheme: &str) -> &'a Value {
    find_source(status, scheme).unwrap_or_else(|| panic!("no {scheme} source in {status:#}"))
}

/// The samples of a Prometheus text exposition, keyed `name{labels}`; checks that every
/// line is a comment (`# HELP` / `# TYPE` naming a family before its samples; a
/// histogram's samples are its `_bucket`, `_sum` and `_count`) or a sample
/// `name{label="value",...} number`.
fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    let mut typed = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(kind == "HELP" || kind == "TYPE", "bad comment {line:?}");
            if kind == "TYPE" {
                let t = parts.next().unwrap();
                assert!(
                    ["counter", "gauge", "histogram"].contains(&t),
                    "type {t} in {line:?}"
                );
                if t == "histogram" {
                    typed.extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")));
                } else {
                    typed.push(name.to_string());
                }
            }
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let name = key.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name {name:?}"
        );
        assert!(
            typed.iter().any(|t| t == name),
            "{name} has no TYPE line before it"
        );
        if let Some(labels) = key.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line:?}");
                assert!(labels.contains("=\""), "{line:?}");
            }
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value in {line:?}"));
        assert!(
            samples.insert(key.to_string(), value).is_none(),
            "twice: {key}"
        );
    }
    samples
}

/// An `/events` client that reads every data line and hands it over a channel.
fn sse_reader(address: SocketAddr) -> Receiver<String> {
    let response = ureq::get(&format!("http://{address}/events"))
        .call()
        .expect("GET /events");
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let (tx, rx) = crossbeam_channel::unbounded();
    let reader = BufReader::new(response.into_body().into_reader());
    std::thread::spawn(move || {
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(data) = line.strip_prefix("data: ") {
                if tx.send(data.to_string()).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The test's own lines (`{"seq": N}`) a client received, waiting until it has `n`.
fn seqs(rx: &Receiver<String>, n: usize) -> (Vec<u64>, usize) {
    let (mut got, mut windows) = (Vec::new(), 0);
    let deadline = Instant::now() + WAIT;
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out with {} of {n} lines", got.len()));
        let value: Value = serde_json::from_str(&line).expect("each event is one JSON line");
        match value.get("seq") {
            Some(seq) => got.push(seq.as_u64().unwrap()),
            None => windows += usize::from(value.get("window").is_some()),
        }
    }
    (got, windows)
}

// ---------------------------------------------------------------------------------------

#[test]
fn http_shows_a_live_gateway_and_streams_its_predictions() {
    let rows = esp32_rows();
    let esp32 = FedPty::start(Duration::from_millis(40), move |i| {
        rows[i as usize % rows.len()].clone()
    });
    let node = FedPty::start(Duration::from_millis(50), node_step);
    let reader = Emulator::start(0);
    let uris = [
        format!("esp32-csi://{}?baud=921600", esp32.path),
        format!("node://{}", node.path),
        format!("llrp://127.0.0.1:{}", reader.port),
    ];
    let board = StatusBoard::new(ModelStatus {
        name: "reference".into(),
        engine: "tract".into(),
    });
    let feed = PredictionFeed::new(16, board.clone());
    let server = http::start("127.0.0.1:0".parse().unwrap(), board.clone(), feed.clone())
        .expect("serve on a free loopback port");
    let address = server.local_addr();
    assert!(address.ip().is_loopback());
    let live = LiveGateway::start(&uris, &board, &feed);

    status_shows_every_source_live(address);
    assert_eq!(
        get(address, "/healthz").1,
        "ok\n",
        "the run loop keeps the board fresh"
    );
    let stuck = events_reach_every_reader_in_order(address, &feed);
    a_client_that_does_not_read_loses_its_oldest_lines(address, &feed);
    drop(reader);
    a_lost_reader_keeps_its_last_error_and_identity(address);
    live.stop();
    metrics_agree_with_status(address);

    // Stopping the server does not wait on the client that never reads beyond the grace.
    let asked = Instant::now();
    server.stop().expect("a clean stop");
    let took = asked.elapsed();
    assert!(took < STOP_GRACE + Duration::from_secs(1), "{took:?}");
    assert!(TcpStream::connect(address).is_err(), "no longer listening");
    drop(stuck);
}

/// /status: every source connected and delivering, the reader and the node identified.
fn status_shows_every_source_live(address: SocketAddr) {
    let now = status_until(
        address,
        "every source connected with records flowing",
        |s| {
            let flowing = |scheme| {
                find_source(s, scheme).is_some_and(|src| {
                    src["connected"] == true && src["rate_hz"].as_f64() > Some(0.0)
                })
            };
            ["esp32-csi", "node", "llrp"].into_iter().all(flowing)
                && find_source(s, "node").is_some_and(|n| n["nodes"][0].is_object())
                && find_source(s, "llrp").is_some_and(|r| r["reader"].is_object())
        },
    );
    let llrp = source(&now, "llrp");
    assert_eq!(llrp["state"], "connected");
    assert_eq!(llrp["reader"]["manufacturer"].as_u64(), Some(IMPINJ));
    assert_eq!(llrp["reader"]["impinj_extensions"], true);
    let node = &source(&now, "node")["nodes"][0];
    assert_eq!(node["node"].as_u64(), Some(u64::from(NODE)));
    assert_eq!(
        node["ring_capacity"].as_u64(),
        Some(u64::from(RING_CAPACITY))
    );
    let dropped = node["dropped_backpressure"].as_u64();
    assert_eq!(dropped, Some(u64::from(DROPPED_BACKPRESSURE)));
    let esp = source(&now, "esp32-csi");
    assert!(esp["records"].as_u64().unwrap() > 0);
    assert!(esp["clock"]["samples"].as_u64().unwrap() > 0, "{esp:#}");
    assert_eq!(now["model"]["name"], "reference");
}

/// /events: two readers get every line in order while a third client never reads (it is
/// returned, still connected).
fn events_reach_every_reader_in_order(address: SocketAddr, feed: &PredictionFeed) -> TcpStream {
    let (first, second) = (sse_reader(address), sse_reader(address));
    let mut stuck = TcpStream::connect(address).unwrap();
    stuck
        .write_all(b"GET /events HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .unwrap();
    status_until(address, "three /events clients", |s| {
        s["events"]["clients"] == 3
    });
    for seq in 0..12u64 {
        feed.publish(format!("{{\"seq\":{seq}}}").into());
    }
    let (first_got, _) = seqs(&first, 12);
    let (second_got, _) = seqs(&second, 12);
    assert_eq!(first_got, (0..12).collect::<Vec<_>>());
    assert_eq!(second_got, first_got);
    let windows = status_until(address, "a window line", |s| {
        s["predictions"]["total"].as_u64() > Some(0)
    });
    assert!(windows["synchronizer"]["windows"].as_u64().unwrap() > 0);
    stuck
}

/// With the readers gone, the client that does not read falls behind: its oldest lines
/// are dropped and counted, and the publisher never waits.
fn a_client_that_does_not_read_loses_its_oldest_lines(address: SocketAddr, feed: &PredictionFeed) {
    status_until(address, "only the stuck client left", |s| {
        s["events"]["clients"] == 1
    });
    let big = "x".repeat(4096);
    let (mut published, mut publishing) = (0u32, Duration::ZERO);
    while status(address)["events"]["dropped"] == 0 {
        assert!(published < 200_000, "no drop after {published} lines");
        for _ in 0..500 {
            let line = format!("{{\"seq\":{published},\"pad\":\"{big}\"}}").into();
            let started = Instant::now();
            feed.publish(line);
            publishing += started.elapsed();
            published += 1;
        }
    }
    let per_line = publishing / published;
    assert!(
        per_line < Duration::from_millis(1),
        "{per_line:?} per publish"
    );
}

/// A reader lost: its source says so and keeps its last error and its reader's identity;
/// the others go on.
fn a_lost_reader_keeps_its_last_error_and_identity(address: SocketAddr) {
    let lost = status_until(address, "the reader's loss", |s| {
        find_source(s, "llrp").is_some_and(|r| r["state"] == "disconnected")
    });
    let llrp = source(&lost, "llrp");
    assert!(llrp["disconnects"].as_u64() >= Some(1), "{llrp:#}");
    assert!(!llrp["last_error"].as_str().unwrap().is_empty(), "{llrp:#}");
    assert_eq!(llrp["reader"]["manufacturer"].as_u64(), Some(IMPINJ));
    assert_eq!(source(&lost, "esp32-csi")["connected"], true);
}

/// Once the run loop stopped updating the board, /metrics and /status say the same.
fn metrics_agree_with_status(address: SocketAddr) {
    let frozen = status(address);
    let (content_type, text) = get(address, "/metrics");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let metrics = parse_prometheus(&text);
    let metric = |key: &str| -> f64 {
        *metrics
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in\n{text}"))
    };
    // serde_json's default float parsing may land one ulp off the exact value.
    let agree = |key: &str, shown: &Value| {
        let (exposed, shown) = (metric(key), shown.as_f64().unwrap());
        assert!(
            (exposed - shown).abs() <= 1e-12 * shown.abs().max(1.0),
            "{key}: {exposed} in /metrics, {shown} in /status"
        );
    };
    for src in frozen["sources"].as_array().unwrap() {
        let label = format!("{{source=\"{}\"}}", src["name"].as_str().unwrap());
        for (name, field) in [
            ("dagr_source_records_total", "records"),
            ("dagr_source_bytes_total", "bytes"),
            ("dagr_source_gaps_total", "gaps"),
            ("dagr_source_dropped_events_total", "dropped_events"),
            ("dagr_source_connects_total", "connects"),
            ("dagr_source_disconnects_total", "disconnects"),
            ("dagr_source_records_per_second", "rate_hz"),
        ] {
            agree(&format!("{name}{label}"), &src[field]);
        }
        let connected = f64::from(u8::from(src["connected"] == true));
        assert_eq!(metric(&format!("dagr_source_connected{label}")), connected);
    }
    let llrp_name = source(&frozen, "llrp")["name"]
        .as_str()
        .unwrap()
        .to_string();
    let reader_info = metrics.keys().find(|k| k.starts_with("dagr_reader_info{"));
    let reader_info = reader_info.expect("reader info");
    assert!(reader_info.contains(&format!("source=\"{llrp_name}\"")));
    assert!(reader_info.contains("manufacturer=\"25882\""));
    let node_uptime = |k: &&String| k.starts_with("dagr_node_uptime_seconds{");
    assert!(metrics
        .keys()
        .filter(node_uptime)
        .any(|k| k.contains("node=\"7\"")));
    agree(
        "dagr_sync_windows_total",
        &frozen["synchronizer"]["windows"],
    );
    agree(
        "dagr_sync_records_total",
        &frozen["synchronizer"]["records"],
    );
    agree("dagr_predictions_total", &frozen["predictions"]["total"]);
    let latency = &frozen["predictions"]["latency"];
    assert_eq!(latency["count"], frozen["predictions"]["total"]);
    agree("dagr_prediction_latency_seconds_count", &latency["count"]);
    agree("dagr_prediction_latency_seconds_sum", &latency["sum_s"]);
    agree(
        "dagr_prediction_latency_seconds_bucket{le=\"+Inf\"}",
        &latency["count"],
    );
    assert!(metric("process_resident_memory_bytes") > 1e6, "{text}");
    assert!(frozen["process"]["resident_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(metric("process_cpu_seconds_total") > 0.0, "{text}");
    for modality in ["mmwave", "wifi", "rfid"] {
        let key = format!("dagr_predictions_absent_total{{modality=\"{modality}\"}}");
        agree(&key, &frozen["predictions"]["absent"][modality]);
        let key = format!("dagr_predictions_set_aside_total{{modality=\"{modality}\"}}");
        agree(&key, &frozen["predictions"]["set_aside"][modality]);
    }
    // No radar among the sources: every window was made without it.
    let predictions = &frozen["predictions"];
    assert_eq!(predictions["absent"]["mmwave"], predictions["total"]);
    assert!(frozen["events"]["dropped"].as_u64().unwrap() > 0);
    agree("dagr_events_dropped_total", &frozen["events"]["dropped"]);
    agree(
        "dagr_events_published_total",
        &frozen["events"]["published"],
    );
    assert_eq!(metric("dagr_events_clients"), 1.0);
    assert!(metric("dagr_uptime_seconds") > 0.0);
    let model = metric("dagr_model_info{model=\"reference\",engine=\"tract\"}");
    assert_eq!(model, 1.0);
}

#[test]
fn a_replayed_node_capture_shows_its_heartbeats_and_per_stream_sync_counts() {
    // The node traffic of the live test, 4 s of it, written as a capture and replayed in
    // real time: status shows the recorded node's heartbeats under the replay source, and
    // the synchronizer's counts per recorded stream (records, late).
    let dir = dagr_tests::scratch_dir("status-replay");
    let capture = dir.join("node.mcap");
    let mut writer = CaptureWriter::create(&capture, 1_700_000_000_000_000_000).unwrap();
    writer
        .add_stream(&StreamInfo {
            name: "node-a".into(),
            format: Format::Node,
            uri: "node:///dev/ttyUSB1".into(),
        })
        .unwrap();
    for i in 0..80u64 {
        let t = 100_000_000 + i * 50_000_000;
        writer.write_chunk("node-a", t, t, &node_step(i)).unwrap();
    }
    writer.finish().unwrap();

    let board = StatusBoard::new(ModelStatus::default());
    let feed = PredictionFeed::new(16, board.clone());
    let server = http::start("127.0.0.1:0".parse().unwrap(), board.clone(), feed.clone())
        .expect("serve on a free loopback port");
    let address = server.local_addr();
    let uri = format!("replay://{}?speed=1", capture.display());
    let live = LiveGateway::start(&[uri], &board, &feed);
    let now = status_until(address, "the replayed node's heartbeat", |s| {
        find_source(s, "replay").is_some_and(|r| r["nodes"][0].is_object())
    });
    let node = &find_source(&now, "replay").unwrap()["nodes"][0];
    assert_eq!(node["node"], u64::from(NODE));
    assert_eq!(node["ring_capacity"], u64::from(RING_CAPACITY));
    let now = status_until(address, "the node stream in the synchronizer", |s| {
        s["synchronizer"]["streams"][0]["records"].as_u64() > Some(10)
    });
    let stream = &now["synchronizer"]["streams"][0];
    assert_eq!(stream["source"], "node-a");
    assert_eq!(stream["modality"], "wifi");
    assert_eq!(stream["late"], 0, "{stream}");
    live.stop();
    server.stop().expect("a clean stop");
    std::fs::remove_dir_all(&dir).ok();
}
