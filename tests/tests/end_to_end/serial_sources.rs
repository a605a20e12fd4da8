//! Serial sources against real pseudo-terminals: real device recordings played into the
//! pty master, a fake TI CLI answering on a second pty, unplug/replug by re-pointing a
//! symlink (as udev does with /dev/serial/by-id), and a node answering time-sync requests.
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dagr_host::clock::GatewayClock;
use dagr_host::clock::TimeSyncExchange;
use dagr_host::events::{
    self, EventReceiver, OverflowPolicy, SourceCounters, SourceEvent, SourceQueue, SourceState,
    StopFlag,
};
use dagr_host::record::{DeviceTime, Record};
use dagr_host::source::{self, Output, SourceContext, SourceError, SourceUri};
use dagr_protocols::node::{
    self, encode_frame, CsiRepr, FrameDecoder, HeaderRepr, Modality, Payload, PayloadRepr,
    TimeSyncResponse,
};
use dagr_protocols::stream::StreamDecoder;
use dagr_tests::{fixture, scratch_dir, scratch_file, ScratchFile};
use serialport::{SerialPort, TTYPort};

const TI_DAT: &str = "ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat";
const ESP32_CSV: &str = "esp32_csi/example_csi.csv";
/// Longest any single expectation may take.
const WAIT: Duration = Duration::from_secs(10);

/// A pseudo-terminal: the test holds the master (the "device"); the source opens the
/// slave by path. The slave fd from `pair()` stays open so the pty lives on however the
/// source opens and closes it.
struct Pty {
    master: TTYPort,
    _slave: TTYPort,
    path: String,
}

impl Pty {
    fn new() -> Pty {
        let (mut master, slave) = TTYPort::pair().expect("create a pty pair");
        master.set_timeout(Duration::from_millis(50)).unwrap();
        let path = slave.name().expect("pty slave has a path");
        Pty {
            master,
            _slave: slave,
            path,
        }
    }

    /// Writes `bytes` in chunks of odd, varying sizes, as a UART driver hands them over.
    fn write_in_odd_chunks(&mut self, bytes: &[u8]) {
        let sizes = [1, 7, 333, 1021, 61, 4099, 3];
        let mut rest = bytes;
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            self.master.write_all(chunk).expect("write to pty master");
            rest = tail;
        }
    }
}

/// A running source and everything it sent so far.
struct Running {
    rx: EventReceiver,
    stop: StopFlag,
    counters: Arc<SourceCounters>,
    handle: Option<JoinHandle<()>>,
    seen: Seen,
}

/// The events received, sorted by kind.
#[derive(Default)]
struct Seen {
    chunks: Vec<u8>,
    records: Vec<Record>,
    states: Vec<SourceState>,
    time_syncs: Vec<TimeSyncExchange>,
}

impl Running {
    fn start(uri: &str) -> Running {
        let uri = SourceUri::parse(uri).expect("valid URI");
        let counters = Arc::new(SourceCounters::default());
        let (events, rx) = events::channel(
            SourceQueue {
                capacity: 4096,
                policy: OverflowPolicy::DropNewest,
                ..SourceQueue::default()
            },
            counters.clone(),
        );
        let stop = StopFlag::default();
        let ctx = SourceContext {
            name: uri.name().into(),
            events,
            stop: stop.clone(),
            clock: GatewayClock::new(),
            output: Output::ChunksAndRecords,
        };
        let handle = source::spawn(&uri, ctx).expect("source starts");
        Running {
            rx,
            stop,
            counters,
            handle: Some(handle),
            seen: Seen::default(),
        }
    }

    /// Receives events until `done` holds, failing the test after [`WAIT`].
    fn until(&mut self, what: &str, done: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) => self.note(event),
                Err(_) => panic!(
                    "timed out waiting for {what}; states so far: {:?}, {} records",
                    self.seen.states,
                    self.seen.records.len()
                ),
            }
        }
    }

    fn note(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Chunk(chunk) => self.seen.chunks.extend_from_slice(&chunk.bytes),
            SourceEvent::Records(batch) => {
                assert!(!batch.is_empty(), "record batches are never empty");
                self.seen.records.extend(batch);
            }
            SourceEvent::Status(status) => self.seen.states.push(status.state),
            SourceEvent::TimeSync(exchange) => self.seen.time_syncs.push(exchange),
        }
    }

    fn connects(&self) -> usize {
        count(&self.seen.states, |s| *s == SourceState::Connected)
    }

    fn disconnects(&self) -> usize {
        count(&self.seen.states, |s| {
            matches!(s, SourceState::Disconnected { .. })
        })
    }

    /// Raises the stop flag and waits (bounded) for the thread to end with `Finished`.
    fn stop(&mut self) -> Duration {
        let asked = Instant::now();
        self.stop.stop();
        let handle = self.handle.take().expect("not stopped yet");
        while !handle.is_finished() {
            assert!(
                asked.elapsed() < WAIT,
                "source thread did not end after stop"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let took = asked.elapsed();
        handle.join().expect("source thread did not panic");
        while let Ok(event) = self.rx.try_recv() {
            self.note(event);
        }
        assert_eq!(self.seen.states.last(), Some(&SourceState::Finished));
        took
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed assertion must not leave the thread reading a pty.
        self.stop.stop();
    }
}

fn count<T>(items: &[T], pred: impl Fn(&T) -> bool) -> usize {
    items.iter().filter(|i| pred(i)).count()
}

fn frame_numbers(records: &[Record]) -> Vec<u32> {
    records
        .iter()
        .map(|r| match r.device_time {
            DeviceTime::TiFrame { frame_number, .. } => frame_number,
            other => panic!("not a radar record: {other:?}"),
        })
        .collect()
}

#[test]
fn ti_recording_through_a_pty_yields_every_frame_and_the_exact_bytes() {
    let bytes = fixture(TI_DAT);
    let (expected, _) = dagr_protocols::ti_mmwave::decode_bytes(&bytes);
    let expected: Vec<u32> = expected.iter().map(|f| f.frame_number).collect();
    assert_eq!(expected.len(), 101);

    let mut pty = Pty::new();
    let mut src = Running::start(&format!("ti-mmwave://{}", pty.path));
    src.until("Connected", |s| s.states.contains(&SourceState::Connected));
    pty.write_in_odd_chunks(&bytes);
    src.until("101 frames", |s| s.records.len() >= 101);
    src.until("every byte", |s| s.chunks.len() >= bytes.len());
    src.stop();

    assert_eq!(frame_numbers(&src.seen.records), expected);
    assert_eq!(expected[0], 370);
    assert!(
        src.seen.chunks == bytes,
        "raw chunks concatenate to the bytes written"
    );
    assert_eq!(
        SourceCounters::get(&src.counters.bytes_in),
        bytes.len() as u64
    );
    assert_eq!(SourceCounters::get(&src.counters.records), 101);
    assert_eq!(SourceCounters::get(&src.counters.connects), 1);
    assert_eq!(SourceCounters::get(&src.counters.disconnects), 0);
}

#[test]
fn esp32_rows_through_a_pty_become_thirteen_wifi_records() {
    let bytes = fixture(ESP32_CSV);
    let mut pty = Pty::new();
    let mut src = Running::start(&format!("esp32-csi://{}?baud=115200", pty.path));
    src.until("Connected", |s| s.states.contains(&SourceState::Connected));
    pty.write_in_odd_chunks(&bytes);
    src.until("13 records", |s| s.records.len() >= 13);
    src.until("every byte", |s| s.chunks.len() >= bytes.len());
    src.stop();
    assert_eq!(src.seen.records.len(), 13);
    assert_eq!(
        src.seen.records[0].device_time,
        DeviceTime::MicrosU32(80_272_146)
    );
    assert!(src
        .seen
        .records
        .windows(2)
        .all(|w| w[0].arrival_ns <= w[1].arrival_ns));
}

/// What the fake radar's CLI port received, line by line.
type Received = Arc<Mutex<Vec<String>>>;

/// A TI OOB demo's CLI on a pty master: echoes each command after the prompt, then the
/// verdict `answer` gives for the command's name (`None`: says nothing more).
struct FakeTiCli {
    received: Received,
    quit: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    path: String,
}

/// A radar that accepts every command.
fn accepts_all(_: &str) -> Option<&'static str> {
    Some("Done")
}

impl FakeTiCli {
    fn start(answer: fn(&str) -> Option<&'static str>) -> FakeTiCli {
        let Pty {
            mut master,
            _slave,
            path,
        } = Pty::new();
        let received = Received::default();
        let quit = Arc::new(AtomicBool::new(false));
        let (log, done) = (received.clone(), quit.clone());
        let thread = std::thread::spawn(move || {
            let _slave = _slave;
            let mut line = Vec::new();
            let mut buf = [0u8; 256];
            while !done.load(Ordering::Relaxed) {
                let n = master.read(&mut buf).unwrap_or(0);
                for &b in &buf[..n] {
                    if b != b'\n' {
                        line.push(b);
                        continue;
                    }
                    let command = String::from_utf8_lossy(&line).trim().to_string();
                    line.clear();
                    log.lock().unwrap().push(command.clone());
                    let name = command.split_whitespace().next().unwrap_or("");
                    let mut reply = format!("mmwDemo:/>{command}\r\n");
                    if let Some(verdict) = answer(name) {
                        reply.push_str(&format!("{verdict}\r\nmmwDemo:/>"));
                    }
                    let _ = master.write_all(reply.as_bytes());
                }
            }
        });
        FakeTiCli {
            received,
            quit,
            thread: Some(thread),
            path,
        }
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until the device has received `n` commands.
    fn until_received(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.received.lock().unwrap().len() < n {
            assert!(
                Instant::now() < deadline,
                "CLI got only {:?}",
                self.received()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for FakeTiCli {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A radar config without `sensorStart` (the source must append it), with a comment.
const RADAR_CFG: &str =
    "% xwr16xx, shortened\nsensorStop\nflushCfg\nchannelCfg 15 3 0\n\nframeCfg 0 1 16 0 100 1 0\n";

fn cfg_file(tag: &str) -> ScratchFile {
    scratch_file(tag, "radar.cfg", RADAR_CFG.as_bytes())
}

#[test]
fn ti_cfg_goes_out_in_order_ending_with_sensor_start_and_shutdown_sends_sensor_stop() {
    let cli = FakeTiCli::start(accepts_all);
    let cfg = cfg_file("ti-cfg-ok");
    let mut data = Pty::new();
    let mut src = Running::start(&format!(
        "ti-mmwave://{}?cli={}&cfg={}",
        data.path,
        cli.path,
        cfg.display()
    ));
    src.until("Connected", |s| s.states.contains(&SourceState::Connected));
    assert_eq!(
        cli.received(),
        [
            "sensorStop",
            "flushCfg",
            "channelCfg 15 3 0",
            "frameCfg 0 1 16 0 100 1 0",
            "sensorStart"
        ]
    );
    // Frames flow on the data port once configured.
    let bytes = fixture(TI_DAT);
    data.write_in_odd_chunks(&bytes[..5000]);
    src.until("frames", |s| !s.records.is_empty());

    src.stop();
    cli.until_received(6);
    assert_eq!(
        cli.received().last().map(String::as_str),
        Some("sensorStop")
    );
}

#[test]
fn ti_cfg_error_names_file_line_and_command_then_is_retried() {
    let cli = FakeTiCli::start(|cmd| match cmd {
        "channelCfg" => Some("Error -1"),
        _ => Some("Done"),
    });
    let cfg = cfg_file("ti-cfg-error");
    let data = Pty::new();
    let mut src = Running::start(&format!(
        "ti-mmwave://{}?cli={}&cfg={}",
        data.path,
        cli.path,
        cfg.display()
    ));
    src.until("two failed attempts", |s| {
        count(&s.states, |s| matches!(s, SourceState::Disconnected { .. })) >= 2
    });
    let SourceState::Disconnected {
        reason,
        retry_in_ms,
    } = &src.seen.states[0]
    else {
        panic!("first state is {:?}", src.seen.states[0]);
    };
    let expected = format!(
        "radar config {} line 4: `channelCfg 15 3 0`: error -1",
        cfg.display()
    );
    assert_eq!(reason, &expected);
    assert_eq!(*retry_in_ms, 100);
    assert_eq!(src.connects(), 0);
    // Each attempt starts the cfg from the top and stops at the failing command.
    cli.until_received(6);
    assert_eq!(
        cli.received()[..6],
        [
            "sensorStop",
            "flushCfg",
            "channelCfg 15 3 0",
            "sensorStop",
            "flushCfg",
            "channelCfg 15 3 0"
        ]
    );
    src.stop();
}

/// Issue 8, point 5, through the command line: `dagr record` says the radar's `Error -1`
/// on standard error as each attempt fails (file, line, command, retry delay), then that
/// the source sent nothing, and exits 1.
#[test]
fn record_says_a_ti_error_on_stderr_naming_the_cfg_line_and_exits_1() {
    let cli = FakeTiCli::start(|cmd| match cmd {
        "channelCfg" => Some("Error -1"),
        _ => Some("Done"),
    });
    let cfg = cfg_file("ti-cfg-error-record");
    let data = Pty::new();
    let uri = format!(
        "ti-mmwave://{}?cli={}&cfg={}",
        data.path,
        cli.path,
        cfg.display()
    );
    let out = cfg.with_file_name("x.mcap");
    let run = dagr_tests::process::spawn_piped(
        std::process::Command::new(dagr_tests::binaries::dagr())
            .args(["record", "--source", &uri, "--duration", "0.5", "--out"])
            .arg(&out),
    )
    .wait_output("dagr record", Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let said = format!(
        "disconnected: radar config {} line 4: `channelCfg 15 3 0`: error -1; retrying in 0.1 s",
        cfg.display()
    );
    assert!(stderr.contains(&said), "{stderr}");
    assert!(
        stderr.contains(&format!("dagr record: no byte from {uri}")),
        "{stderr}"
    );
    std::fs::remove_dir_all(cfg.parent().unwrap()).ok();
}

#[test]
fn a_radar_that_does_not_answer_a_command_is_reported_after_the_timeout() {
    let cli = FakeTiCli::start(|cmd| (cmd != "frameCfg").then_some("Done"));
    let cfg = cfg_file("ti-cfg-silent");
    let data = Pty::new();
    let mut src = Running::start(&format!(
        "ti-mmwave://{}?cli={}&cfg={}",
        data.path,
        cli.path,
        cfg.display()
    ));
    let started = Instant::now();
    src.until("Disconnected", |s| !s.states.is_empty());
    let waited = started.elapsed();
    let expected = format!(
        "radar config {} line 6: `frameCfg 0 1 16 0 100 1 0`: no answer within 2000 ms",
        cfg.display()
    );
    assert!(
        matches!(&src.seen.states[0], SourceState::Disconnected { reason, .. } if *reason == expected),
        "{:?}",
        src.seen.states
    );
    assert!(waited >= Duration::from_secs(2), "gave up after {waited:?}");
    src.stop();
}

#[test]
fn unplug_and_replug_report_disconnected_then_connected_and_data_flows_again() {
    let rows = fixture(ESP32_CSV);
    let lines: Vec<&[u8]> = rows.split_inclusive(|&b| b == b'\n').collect();
    let dir = scratch_dir("unplug");
    let link = dir.join("ttyUSB0");
    let _ = std::fs::remove_file(&link);

    let mut first = Pty::new();
    std::os::unix::fs::symlink(&first.path, &link).unwrap();
    let mut src = Running::start(&format!("esp32-csi://{}", link.display()));
    src.until("Connected", |s| s.states.contains(&SourceState::Connected));
    // Five whole rows, then half a row that the unplug cuts.
    first.write_in_odd_chunks(&lines[..5].concat());
    first.write_in_odd_chunks(&lines[5][..40]);
    src.until("5 records", |s| s.records.len() >= 5);
    let written = lines[..5].concat().len() + 40;
    src.until("the cut row's bytes", |s| s.chunks.len() >= written);

    // Unplug: the device node goes, then the device.
    std::fs::remove_file(&link).unwrap();
    drop(first);
    src.until("Disconnected", |s| {
        count(&s.states, |s| matches!(s, SourceState::Disconnected { .. })) >= 2
    });

    // Replug: a new device appears under the same name.
    let mut second = Pty::new();
    std::os::unix::fs::symlink(&second.path, &link).unwrap();
    src.until("Connected again", |s| {
        count(&s.states, |s| *s == SourceState::Connected) == 2
    });
    // The new device starts mid-row (its first 40 bytes lost), then sends every row.
    second.write_in_odd_chunks(&lines[7][40..]);
    second.write_in_odd_chunks(&rows);
    src.until("13 more records", |s| s.records.len() >= 18);
    src.stop();

    // The head cut by the unplug is dropped, not glued to the tail that starts the new
    // connection (which would make a plausible row out of two devices' bytes).
    assert_eq!(src.seen.records.len(), 18);
    assert_eq!(
        src.seen.records[5].device_time,
        DeviceTime::MicrosU32(80_272_146)
    );
    let first_disconnect = src
        .seen
        .states
        .iter()
        .position(|s| matches!(s, SourceState::Disconnected { .. }))
        .unwrap();
    assert_eq!(first_disconnect, 1, "{:?}", src.seen.states);
    assert_eq!(src.connects(), 2);
    assert_eq!(SourceCounters::get(&src.counters.connects), 2);
    assert_eq!(SourceCounters::get(&src.counters.disconnects), 1);
    let _ = std::fs::remove_file(&link);
}

#[test]
fn a_port_that_never_exists_is_retried_with_growing_backoff_until_stop() {
    let dir = scratch_dir("absent");
    let path = dir.join("ttyUSB9");
    let mut src = Running::start(&format!("node://{}", path.display()));
    // After the sixth attempt the source waits 3.2 s; a stop must cut that wait short. The
    // bound leaves a loaded machine 1.5 s to wake the thread and still tells a cut wait
    // from one waited out.
    src.until("six attempts", |s| s.states.len() >= 6);
    let took = src.stop();
    assert!(took < Duration::from_millis(1500), "stop took {took:?}");

    let states = &src.seen.states;
    let retries: Vec<u64> = states
        .iter()
        .filter_map(|s| match s {
            SourceState::Disconnected { retry_in_ms, .. } => Some(*retry_in_ms),
            _ => None,
        })
        .collect();
    assert_eq!(retries[..6], [100, 200, 400, 800, 1600, 3200]);
    let SourceState::Disconnected { reason, .. } = &states[0] else {
        unreachable!()
    };
    assert!(reason.contains(&path.display().to_string()), "{reason}");
    assert_eq!(src.connects(), 0);
    assert_eq!(src.disconnects(), states.len() - 1);
    assert_eq!(SourceCounters::get(&src.counters.disconnects), 0);
}

#[test]
fn bad_parameters_are_refused_at_spawn_naming_what_is_wrong() {
    let refused = |uri: &str| {
        let uri = SourceUri::parse(uri).unwrap();
        let counters = Arc::new(SourceCounters::default());
        let (events, _rx) = events::channel(
            SourceQueue {
                capacity: 4,
                policy: OverflowPolicy::DropNewest,
                ..SourceQueue::default()
            },
            counters,
        );
        let ctx = SourceContext {
            name: uri.name().into(),
            events,
            stop: StopFlag::default(),
            clock: GatewayClock::new(),
            output: Output::ChunksAndRecords,
        };
        match source::spawn(&uri, ctx) {
            Err(e @ SourceError::Config { .. }) => dagr_host::errors::chain(&e),
            Err(other) => panic!("expected a config error, got {other}"),
            Ok(_) => panic!("{} was accepted", uri.text),
        }
    };
    let m = refused("esp32-csi:///dev/ttyUSB0?baud=lots");
    assert!(m.contains("baud=\"lots\""), "{m}");
    let m = refused("ti-mmwave:///dev/ttyACM1?cli=/dev/ttyACM0&cfg=/no/such/radar.cfg");
    assert!(m.contains("/no/such/radar.cfg"), "{m}");
    let cfg = cfg_file("bad-params");
    let m = refused(&format!(
        "ti-mmwave:///dev/ttyACM1?cli=/dev/ttyACM0&cfg={}&cli_baud=-1",
        cfg.display()
    ));
    assert!(m.contains("cli_baud=\"-1\""), "{m}");
}

/// One node CSI frame with `timestamp_us`, on the wire.
fn csi_frame(seq: u32, timestamp_us: u64) -> Vec<u8> {
    let iq = [dagr_protocols::csi::Iq { re: 3, im: -4 }; 52];
    let header = HeaderRepr::new(7, 0, Modality::Wifi, seq, timestamp_us);
    let payload = PayloadRepr::Csi(CsiRepr {
        rssi: -60,
        noise_floor: -92,
        channel: 6,
        antenna: 0,
        bandwidth_mhz: 20,
        iq: &iq,
    });
    encode(&header, &payload)
}

fn encode(header: &HeaderRepr, payload: &PayloadRepr<'_>) -> Vec<u8> {
    let mut wire = [0u8; node::MAX_WIRE_LEN];
    let len = encode_frame(header, payload, &mut wire).unwrap();
    wire[..len].to_vec()
}

/// Reads the pty master until a time-sync request arrives; returns its `t1`.
fn await_time_sync_request(pty: &mut Pty) -> u64 {
    let mut decoder = FrameDecoder::new();
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no time-sync request");
        if let Ok(n) = pty.master.read(&mut buf) {
            decoder.push(&buf[..n]);
        }
        while let Some(frame) = decoder.next_item() {
            if let Payload::TimeSyncRequest(request) = frame.payload {
                assert_eq!(frame.header.stream, 0xFF);
                return request.t1;
            }
        }
    }
}

#[test]
fn node_frames_become_records_on_node_time_and_time_sync_is_requested_and_forwarded() {
    let mut pty = Pty::new();
    let mut src = Running::start(&format!("node://{}", pty.path));
    src.until("Connected", |s| s.states.contains(&SourceState::Connected));

    let stream: Vec<u8> = (0..20u32)
        .flat_map(|i| csi_frame(i, 1_000_000 + u64::from(i) * 10_000))
        .collect();
    pty.write_in_odd_chunks(&stream);
    src.until("20 records", |s| s.records.len() >= 20);
    let times: Vec<DeviceTime> = src.seen.records.iter().map(|r| r.device_time).collect();
    let expected: Vec<DeviceTime> = (0..20u64)
        .map(|i| DeviceTime::NodeMicros(1_000_000 + i * 10_000))
        .collect();
    assert_eq!(times, expected);

    // The node answers the gateway's request; the exchange reaches the gateway.
    let t1 = await_time_sync_request(&mut pty);
    let answer = TimeSyncResponse {
        t1,
        t2: 5_000_000,
        t3: 5_000_040,
    };
    let header = HeaderRepr::new(7, 0xFF, Modality::None, 0, answer.t3);
    pty.master
        .write_all(&encode(&header, &PayloadRepr::TimeSyncResponse(answer)))
        .unwrap();
    src.until("a time-sync exchange", |s| !s.time_syncs.is_empty());
    src.stop();

    let exchange = &src.seen.time_syncs[0];
    assert_eq!(
        (exchange.t1_ns, exchange.t2_us, exchange.t3_us),
        (t1 * 1000, 5_000_000, 5_000_040)
    );
    assert!(exchange.t4_ns > exchange.t1_ns);
    assert!(exchange.estimate().delay_us >= 0);
    assert_eq!(src.seen.records.len(), 20, "time sync is not a record");
}
