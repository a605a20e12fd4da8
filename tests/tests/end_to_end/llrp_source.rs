//! The `llrp://` source against real readers' stand-ins: the llrpkit emulator (a separate
//! implementation of the reader side) and, where a test must control exactly what the
//! reader says or see exactly what the client sent, a scripted reader on 127.0.0.1.
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dagr_host::clock::GatewayClock;
use dagr_host::events::{
    channel, EventReceiver, OverflowPolicy, RawChunk, SourceCounters, SourceEvent, SourceQueue,
    SourceState, StopFlag,
};
use dagr_host::format::Decoded;
use dagr_host::format::Format;
use dagr_host::pipeline::RecordDecoder;
use dagr_host::record::{DeviceTime, Payload, Record, TagRead};
use dagr_host::source::llrp::{spawn_with_info, ReaderInfo};
use dagr_host::source::{Output, SourceContext, SourceUri};
use dagr_protocols::llrp::message_type as mt;
use dagr_protocols::llrp::{
    Body, Capabilities, DeviceCapabilities, Message, MessageDecoder, Status, TagReport,
};
use dagr_protocols::stream::StreamDecoder;
use dagr_tests::llrp_emulator::Emulator;
use dagr_tests::process::{line_within, ChildGuard};
use dagr_tests::reserved_port::ReservedPort;

const EMULATOR_EPC_PREFIX: &str = "e2000017010b01621000";
const IMPINJ: u32 = 25882;

// ---------------------------------------------------------------------------------------
// Processes and the source under test

/// An `llrp://` source running on its thread, with everything it sent so far.
struct Running {
    handle: Option<JoinHandle<()>>,
    events: EventReceiver,
    stop: StopFlag,
    info: ReaderInfo,
    chunks: Vec<RawChunk>,
    records: Vec<Record>,
    states: Vec<SourceState>,
}

impl Running {
    fn start(uri: &str) -> Running {
        let uri = SourceUri::parse(uri).unwrap();
        let counters = Arc::new(SourceCounters::default());
        let (events, rx) = channel(
            SourceQueue {
                capacity: 1 << 16,
                policy: OverflowPolicy::DropNewest,
                ..SourceQueue::default()
            },
            counters,
        );
        let stop = StopFlag::default();
        let ctx = SourceContext {
            name: uri.name().into(),
            events,
            stop: stop.clone(),
            clock: GatewayClock::new(),
            output: Output::ChunksAndRecords,
        };
        let info = ReaderInfo::default();
        let handle = spawn_with_info(&uri, ctx, info.clone()).expect("source starts");
        Running {
            handle: Some(handle),
            events: rx,
            stop,
            info,
            chunks: Vec::new(),
            records: Vec::new(),
            states: Vec::new(),
        }
    }

    /// Collects events until `done` holds; panics with `what` after `timeout`.
    fn until(&mut self, what: &str, timeout: Duration, done: impl Fn(&Running) -> bool) {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; states {:?}",
                self.states
            );
            if let Ok(event) = self
                .events
                .recv_timeout(left.min(Duration::from_millis(50)))
            {
                self.take(event);
            }
        }
    }

    fn take(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Chunk(c) => self.chunks.push(c),
            SourceEvent::Records(r) => self.records.extend(r),
            SourceEvent::Status(s) => self.states.push(s.state),
            SourceEvent::TimeSync(_) => panic!("an LLRP source sends no node time sync"),
        }
    }

    fn count(&self, want: impl Fn(&SourceState) -> bool) -> usize {
        self.states.iter().filter(|s| want(s)).count()
    }

    fn connected(&self) -> usize {
        self.count(|s| *s == SourceState::Connected)
    }

    fn disconnects(&self) -> Vec<(String, u64)> {
        self.states
            .iter()
            .filter_map(|s| match s {
                SourceState::Disconnected {
                    reason,
                    retry_in_ms,
                } => Some((reason.clone(), *retry_in_ms)),
                _ => None,
            })
            .collect()
    }

    /// Asks the source to stop; it must report Finished and end its thread in time.
    fn stop_within(&mut self, timeout: Duration) -> Duration {
        let asked = Instant::now();
        self.stop.stop();
        self.until("Finished", timeout, |r| {
            r.states.last() == Some(&SourceState::Finished)
        });
        let handle = self.handle.take().expect("stopped once");
        while !handle.is_finished() {
            assert!(asked.elapsed() < timeout, "source thread still running");
            std::thread::sleep(Duration::from_millis(5));
        }
        handle.join().expect("source thread did not panic");
        while let Ok(event) = self.events.try_recv() {
            self.take(event);
        }
        asked.elapsed()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

fn tag_reads(record: &Record) -> &[TagRead] {
    match &record.payload {
        Payload::Tags(reads) => reads,
        other => panic!("expected tag reads, got {other:?}"),
    }
}

/// The tag reports in `chunks`, in order, as the protocol crate decodes them.
fn tag_reports(chunks: &[RawChunk]) -> Vec<TagReport> {
    let mut decoder = MessageDecoder::new();
    let mut reports = Vec::new();
    for chunk in chunks {
        dagr_protocols::stream::decode_chunk(&mut decoder, &chunk.bytes, |m: Message| {
            reports.extend_from_slice(m.tags())
        });
    }
    reports
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ---------------------------------------------------------------------------------------
// Against the llrpkit emulator

#[test]
fn emulator_tag_reads_arrive_as_records_with_impinj_phase_rssi_and_doppler() {
    let emulator = Emulator::start(0);
    let mut source = Running::start(&format!("llrp://127.0.0.1:{}", emulator.port));
    source.until("30 tag records", secs(8), |r| r.records.len() >= 30);
    let stopped_in = source.stop_within(secs(3));
    assert!(stopped_in < secs(2), "stop took {stopped_in:?}");
    assert_eq!(source.states.first(), Some(&SourceState::Connected));
    assert_eq!(source.disconnects(), vec![]);

    let identity = source.info.get().expect("reader identity kept");
    assert_eq!((identity.manufacturer, identity.model), (IMPINJ, 700));
    assert!(identity.impinj_extensions);

    let now = now_us();
    let reports = tag_reports(&source.chunks);
    assert!(reports.len() >= source.records.len());
    for (record, t) in source.records.iter().zip(&reports) {
        let [read] = tag_reads(record) else {
            panic!("one read per tag report: {:?}", record.payload)
        };
        assert_eq!(read.epc, t.epc.as_bytes(), "records follow the reports");
        assert_eq!(read.phase_rad, t.phase_rad());
        assert_eq!(read.rssi_dbm, t.impinj_peak_rssi_dbm());
        let epc = t.epc.to_string();
        assert!(epc.starts_with(EMULATOR_EPC_PREFIX), "{epc}");
        let index = u16::from_str_radix(&epc[EMULATOR_EPC_PREFIX.len()..], 16).unwrap();
        assert!(index < 6, "tag index {index} outside the 6 emulated tags");
        assert!(matches!(t.antenna_id, Some(1..=4)), "{t}");
        assert!(matches!(t.peak_rssi, Some(-80..=-30)), "{t}");
        assert!(matches!(t.channel_index, Some(1..=50)), "{t}");
        let DeviceTime::UtcMicros(first_seen) = record.device_time else {
            panic!(
                "expected FirstSeenTimestampUTC, got {:?}",
                record.device_time
            );
        };
        assert!(
            now.abs_diff(first_seen) < 15_000_000,
            "{first_seen} vs now {now}"
        );
        let phase = t.phase_rad().expect("ImpinjRFPhaseAngle selected");
        assert!((0.0..std::f64::consts::TAU).contains(&phase));
        let rssi = t.impinj_peak_rssi_dbm().expect("ImpinjPeakRSSI selected");
        assert!((rssi - f64::from(t.peak_rssi.unwrap())).abs() <= 0.5 + 1e-9);
        let doppler = t.doppler_hz().expect("ImpinjRFDopplerFrequency selected");
        assert!(doppler.abs() <= 20.0, "{doppler}");
    }
}

#[test]
fn replaying_the_received_chunks_yields_the_same_records() {
    let emulator = Emulator::start(0);
    let mut source = Running::start(&format!("llrp://127.0.0.1:{}", emulator.port));
    source.until("20 tag records", secs(8), |r| r.records.len() >= 20);
    source.stop_within(secs(3));

    let mut replay = RecordDecoder::new(Format::Llrp, "llrp:127.0.0.1".into());
    let mut replayed = Vec::new();
    for chunk in &source.chunks {
        replay.feed(&chunk.bytes, chunk.arrival_ns, &mut |d| {
            if let Decoded::Record(r) = d {
                replayed.push(r);
            }
        });
    }
    let key = |r: &Record| (tag_reads(r).to_vec(), r.device_time, r.arrival_ns);
    let live: Vec<_> = source.records.iter().map(key).collect();
    let again: Vec<_> = replayed.iter().map(key).collect();
    assert_eq!(live, again);
}

#[test]
fn keepalives_are_acknowledged_and_the_session_outlives_many_periods() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/llrp_emulator_acks.py");
    let mut child = Command::new(dagr_tests::python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the emulator peer");
    let stdin = child.stdin.take().expect("piped stdin");
    let out = child.stdout.take().expect("piped stdout");
    let _guard = ChildGuard(child);
    let (line, out) = line_within(BufReader::new(out), secs(10));
    let port: u16 = line.trim().strip_prefix("port ").unwrap().parse().unwrap();

    let mut source = Running::start(&format!("llrp://127.0.0.1:{port}?keepalive_ms=100"));
    source.until("Connected", secs(5), |r| r.connected() == 1);
    let connected_at = Instant::now();
    source.until("1.5 s of streaming", secs(3), |_| {
        connected_at.elapsed() >= Duration::from_millis(1500)
    });
    source.stop_within(secs(3));
    assert_eq!(source.disconnects(), vec![]);

    drop(stdin); // end of input: the peer reports and exits
    let (line, _) = line_within(out, secs(5));
    let acks: u32 = line
        .trim()
        .strip_prefix("keepalive_acks ")
        .unwrap_or_else(|| panic!("unexpected peer output {line:?}"))
        .parse()
        .unwrap();
    // 15 periods of 100 ms; allow for timer slack on a loaded machine.
    assert!(acks >= 8, "only {acks} KEEPALIVE_ACKs in 1.5 s");
}

#[test]
fn reader_killed_and_restarted_on_the_same_port_is_reconnected_and_reads_resume() {
    // Reserved: nothing else can take the port while the reader is down.
    let reserved = ReservedPort::new();
    let port = reserved.port();
    let emulator = Emulator::start(port);
    let mut source = Running::start(&format!(
        "llrp://127.0.0.1:{port}?retry_ms=50&max_retry_ms=400"
    ));
    source.until("records", secs(8), |r| r.records.len() >= 5);

    drop(emulator); // SIGKILL: no CLOSE, no FIN from LLRP, just a dead process
    source.until("Disconnected", secs(3), |r| !r.disconnects().is_empty());
    let before = source.records.len();

    let emulator = Emulator::start(port);
    assert_eq!(emulator.port, port);
    source.until("second Connected", secs(8), |r| r.connected() == 2);
    source.until("records after reconnecting", secs(5), |r| {
        r.records.len() >= before + 5
    });
    source.stop_within(secs(3));

    let states: String = source
        .states
        .iter()
        .map(|s| match s {
            SourceState::Connected => "C",
            SourceState::Disconnected { .. } => "D",
            SourceState::Finished => "F",
        })
        .collect::<Vec<_>>()
        .join("");
    assert!(
        states.starts_with("CD") && states.ends_with("CF"),
        "states {states}"
    );
    let (reason, retry) = &source.disconnects()[0];
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");
    assert_eq!(*retry, 50);
}

#[test]
fn a_reader_busy_with_another_client_refuses_us_and_we_retry_until_it_is_free() {
    let emulator = Emulator::start(0);
    let mut occupant = TcpStream::connect(("127.0.0.1", emulator.port)).unwrap();
    let mut first = [0u8; 10];
    occupant.set_read_timeout(Some(secs(5))).unwrap();
    occupant.read_exact(&mut first).unwrap(); // its ConnectionAttemptEvent: it holds the reader

    let mut source = Running::start(&format!(
        "llrp://127.0.0.1:{}?retry_ms=100&max_retry_ms=200",
        emulator.port
    ));
    source.until("Disconnected", secs(5), |r| !r.disconnects().is_empty());
    let (reason, _) = &source.disconnects()[0];
    assert!(
        reason.contains("ConnectionAttemptEvent status 2"),
        "{reason}"
    );
    assert!(
        reason.contains("client-initiated connection already exists"),
        "{reason}"
    );

    drop(occupant);
    source.until("Connected once the reader is free", secs(5), |r| {
        r.connected() == 1
    });
    source.until("records", secs(5), |r| !r.records.is_empty());
    source.stop_within(secs(3));
}

// ---------------------------------------------------------------------------------------
// Without a reader

#[test]
fn refused_connections_are_retried_with_growing_backoff_and_stop_finishes_promptly() {
    let reserved = ReservedPort::new(); // nothing listens there, nobody can
    let port = reserved.port();
    let mut source = Running::start(&format!(
        "llrp://127.0.0.1:{port}?retry_ms=20&max_retry_ms=160"
    ));
    source.until("5 failed attempts", secs(5), |r| r.disconnects().len() >= 5);
    let stopped_in = source.stop_within(secs(2));
    assert!(
        stopped_in < Duration::from_millis(500),
        "stop took {stopped_in:?}"
    );

    let disconnects = source.disconnects();
    let retries: Vec<u64> = disconnects.iter().take(5).map(|(_, ms)| *ms).collect();
    assert_eq!(retries, [20, 40, 80, 160, 160]);
    for (reason, _) in &disconnects {
        assert!(
            reason.contains(&format!("cannot connect to 127.0.0.1:{port}")),
            "{reason}"
        );
        assert!(reason.to_lowercase().contains("refused"), "{reason}");
    }
    assert_eq!(source.connected(), 0);
    assert_eq!(source.states.last(), Some(&SourceState::Finished));
}

// ---------------------------------------------------------------------------------------
// Against a scripted reader that records what the client sent

/// What the scripted reader does.
#[derive(Clone, Default)]
struct Script {
    /// GeneralDeviceCapabilities manufacturer.
    manufacturer: u32,
    /// Answer this request type with this (error) status.
    refuse: Option<(u16, Status)>,
    /// After START_ROSPEC: send a KEEPALIVE with this ID, then one tag report once acked.
    keepalive_id: Option<u32>,
    /// After answering START_ROSPEC: close the connection (a reader that accepts, then drops
    /// every client).
    close_after_start: bool,
    /// After answering START_ROSPEC: send one byte that is no LLRP message at this period,
    /// and nothing else (a dead reader behind something that emits noise).
    garbage_every: Option<Duration>,
    /// After answering START_ROSPEC: send tag reports as fast as the socket takes them.
    flood: bool,
    /// After answering START_ROSPEC: send this one message a byte at a time, one byte per
    /// `trickle_every`, and nothing else.
    trickle: Option<Vec<u8>>,
    /// The period of `trickle`'s bytes.
    trickle_every: Duration,
}

/// Accepts one client, answers it per `script`, returns every message the client sent.
fn scripted_reader(script: Script) -> (u16, JoinHandle<Vec<Message>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + secs(10);
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("no client connected: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(secs(10))).unwrap();
        serve(&mut stream, &script)
    });
    (port, handle)
}

fn serve(stream: &mut TcpStream, script: &Script) -> Vec<Message> {
    let mut writer = stream.try_clone().unwrap();
    let mut send = |m: Message| writer.write_all(&m.to_vec().unwrap());
    let accepted = dagr_protocols::llrp::ReaderEvent {
        timestamp: dagr_protocols::llrp::Timestamp::Utc(now_us()),
        connection_attempt: Some(0),
        ..Default::default()
    };
    send(Message::reader_event_notification(0, accepted)).unwrap();
    let mut decoder = MessageDecoder::new();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return received,
            Ok(n) => n,
        };
        decoder.push(&buf[..n]);
        while let Some(m) = decoder.next_item() {
            received.push(m.clone());
            let ok = Status::success();
            let status = match &script.refuse {
                Some((t, s)) if *t == m.message_type => s.clone(),
                _ => ok.clone(),
            };
            let reply = match (&m.body, m.message_type) {
                (Body::ImpinjEnableExtensions, _) => {
                    Some(Message::impinj_enable_extensions_response(m.id, status))
                }
                (_, mt::GET_READER_CAPABILITIES) => Some(Message {
                    message_type: mt::GET_READER_CAPABILITIES_RESPONSE,
                    id: m.id,
                    body: Body::Capabilities(Capabilities {
                        status,
                        general: Some(DeviceCapabilities {
                            max_antennas: 1,
                            manufacturer: script.manufacturer,
                            model: 9,
                            firmware_version: "scripted".into(),
                            ..Default::default()
                        }),
                        other: vec![],
                    }),
                }),
                (_, mt::KEEPALIVE_ACK) => Some(Message::ro_access_report(
                    1,
                    vec![TagReport {
                        epc: dagr_protocols::llrp::Epc::Epc96([7; 12]),
                        first_seen_utc_us: Some(now_us()),
                        ..Default::default()
                    }],
                )),
                (_, mt::CLOSE_CONNECTION) => {
                    let _ = send(Message::status_response(
                        mt::CLOSE_CONNECTION_RESPONSE,
                        m.id,
                        ok,
                    ));
                    return received;
                }
                (_, t) => Some(Message::status_response(t + 10, m.id, status)),
            };
            if let Some(reply) = reply {
                let _ = send(reply);
            }
            if m.message_type == mt::START_ROSPEC {
                if let Some(id) = script.keepalive_id {
                    let _ = send(Message::keepalive(id));
                }
                if script.close_after_start {
                    return received;
                }
                if script.flood {
                    let mut flood = stream.try_clone().unwrap();
                    std::thread::spawn(move || {
                        let tags = (0..200u8)
                            .map(|i| TagReport {
                                epc: dagr_protocols::llrp::Epc::Epc96([i; 12]),
                                antenna_id: Some(1),
                                peak_rssi: Some(-50),
                                first_seen_utc_us: Some(now_us()),
                                ..Default::default()
                            })
                            .collect();
                        let report = Message::ro_access_report(1, tags).to_vec().unwrap();
                        while flood.write_all(&report).is_ok() {}
                    });
                }
                if let Some(bytes) = script.trickle.clone() {
                    let mut slow = stream.try_clone().unwrap();
                    let every = script.trickle_every;
                    std::thread::spawn(move || {
                        for byte in bytes {
                            if slow.write_all(&[byte]).is_err() {
                                return;
                            }
                            std::thread::sleep(every);
                        }
                    });
                }
                if let Some(period) = script.garbage_every {
                    let mut noise = stream.try_clone().unwrap();
                    std::thread::spawn(move || {
                        while noise.write_all(&[0xff]).is_ok() {
                            std::thread::sleep(period);
                        }
                    });
                }
            }
        }
    }
}

#[test]
fn clean_stop_stops_the_rospec_then_closes_the_connection() {
    let (port, reader) = scripted_reader(Script {
        manufacturer: IMPINJ,
        keepalive_id: Some(4242),
        ..Default::default()
    });
    let mut source = Running::start(&format!(
        "llrp://127.0.0.1:{port}?keepalive_ms=250&rospec_id=9"
    ));
    // The scripted reader sends its tag report only after our KEEPALIVE_ACK.
    source.until("the tag report that follows the ack", secs(5), |r| {
        !r.records.is_empty()
    });
    source.stop_within(secs(3));
    assert_eq!(
        source.states,
        [SourceState::Connected, SourceState::Finished]
    );

    let sent = reader.join().expect("scripted reader ran");
    let names: Vec<&str> = sent.iter().map(Message::name).collect();
    assert_eq!(
        names,
        [
            "GET_READER_CAPABILITIES",
            "IMPINJ_ENABLE_EXTENSIONS",
            "SET_READER_CONFIG",
            "DELETE_ROSPEC",
            "ADD_ROSPEC",
            "ENABLE_ROSPEC",
            "START_ROSPEC",
            "KEEPALIVE_ACK",
            "STOP_ROSPEC",
            "CLOSE_CONNECTION",
        ]
    );
    let ack = sent
        .iter()
        .find(|m| m.message_type == mt::KEEPALIVE_ACK)
        .unwrap();
    assert_eq!(ack.id, 4242, "KEEPALIVE_ACK echoes the KEEPALIVE's ID");
    for m in &sent {
        match &m.body {
            Body::SetReaderConfig(c) => assert_eq!(c.keepalive_ms, Some(250)),
            Body::AddRoSpec(spec) => {
                assert_eq!(spec.id, 9);
                let selector = spec.report.as_ref().unwrap().impinj;
                assert!(
                    selector.rf_phase_angle && selector.peak_rssi && selector.rf_doppler_frequency
                );
            }
            Body::RoSpecId(id) => assert_eq!(*id, 9, "{m}"),
            _ => {}
        }
    }
}

#[test]
fn an_error_status_disconnects_with_the_readers_description_and_no_impinj_request_for_others() {
    let refusal = Status {
        code: 100,
        description: "antenna 9 does not exist".into(),
        details: vec![],
    };
    let (port, reader) = scripted_reader(Script {
        manufacturer: 161, // not Impinj
        refuse: Some((mt::ADD_ROSPEC, refusal)),
        ..Default::default()
    });
    let mut source = Running::start(&format!("llrp://127.0.0.1:{port}?retry_ms=1000"));
    source.until("Disconnected", secs(5), |r| !r.disconnects().is_empty());
    source.stop_within(secs(3));

    let (reason, _) = &source.disconnects()[0];
    assert!(
        reason.contains("refused ADD_ROSPEC: M_ParameterError 100: antenna 9 does not exist"),
        "{reason}"
    );
    assert_eq!(source.connected(), 0);
    let sent = reader.join().expect("scripted reader ran");
    assert!(sent.iter().all(|m| m.message_type != mt::CUSTOM_MESSAGE));
    let spec = sent
        .iter()
        .find_map(|m| match &m.body {
            Body::AddRoSpec(spec) => Some(spec.clone()),
            _ => None,
        })
        .expect("ADD_ROSPEC sent");
    assert!(spec.report.unwrap().impinj.is_empty());
    assert_eq!(
        source.info.get(),
        None,
        "identity is published for working connections only"
    );
}

#[test]
fn a_reader_silent_for_three_keepalive_periods_is_declared_lost() {
    let (port, _reader) = scripted_reader(Script {
        manufacturer: IMPINJ,
        ..Default::default()
    });
    let mut source = Running::start(&format!(
        "llrp://127.0.0.1:{port}?keepalive_ms=100&retry_ms=1000"
    ));
    source.until("Connected", secs(5), |r| r.connected() == 1);
    let connected_at = Instant::now();
    source.until("Disconnected", secs(3), |r| !r.disconnects().is_empty());
    let lost_after = connected_at.elapsed();
    source.stop_within(secs(3));

    assert!(
        lost_after >= Duration::from_millis(250),
        "lost after {lost_after:?}"
    );
    assert!(
        lost_after < Duration::from_millis(1200),
        "lost after {lost_after:?}"
    );
    let (reason, _) = &source.disconnects()[0];
    assert!(reason.contains("no message from"), "{reason}");
    assert!(reason.contains("keepalive period 100 ms"), "{reason}");
}

#[test]
fn garbage_bytes_do_not_keep_a_dead_session_alive() {
    // Only whole LLRP messages count as the reader being alive; a byte every 20 ms that
    // completes none must not hold off the silence limit (300 ms here).
    let (port, _reader) = scripted_reader(Script {
        manufacturer: IMPINJ,
        garbage_every: Some(Duration::from_millis(20)),
        ..Default::default()
    });
    let source = lost_to_silence(port);
    assert!(
        source.chunks.iter().any(|c| c.bytes == [0xff]),
        "the garbage reached the source (and was still kept as received bytes)"
    );
}

#[test]
fn a_reader_that_accepts_then_drops_every_client_is_retried_ever_more_slowly() {
    // Each connection completes the handshake, then the reader closes it. Only a connection
    // that streamed for the silence limit resets the backoff, so the delays keep growing.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            stream.set_read_timeout(Some(secs(5))).unwrap();
            let script = Script {
                manufacturer: IMPINJ,
                close_after_start: true,
                ..Default::default()
            };
            serve(&mut stream, &script);
        }
    });
    let mut source = Running::start(&format!(
        "llrp://127.0.0.1:{port}?keepalive_ms=1000&retry_ms=20&max_retry_ms=320"
    ));
    source.until("6 dropped connections", secs(10), |r| {
        r.disconnects().len() >= 6
    });
    source.stop_within(secs(3));

    assert!(source.connected() >= 5, "states {:?}", source.states);
    let retries: Vec<u64> = source
        .disconnects()
        .iter()
        .take(6)
        .map(|(_, ms)| *ms)
        .collect();
    assert_eq!(retries, [20, 40, 80, 160, 320, 320]);
    for (reason, _) in source.disconnects() {
        assert!(reason.contains("closed the connection"), "{reason}");
    }
}

/// A scripted reader on 127.0.0.1 that floods its first client with tag reports.
fn flooding_reader() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Some(Ok(mut stream)) = listener.incoming().next() {
            stream.set_read_timeout(Some(secs(30))).unwrap();
            let script = Script {
                manufacturer: IMPINJ,
                flood: true,
                ..Default::default()
            };
            serve(&mut stream, &script);
        }
    });
    port
}

#[test]
fn a_flooding_reader_is_recorded_in_bounded_memory_and_on_time_with_drops_counted() {
    // A reader sending tag reports as fast as the gateway reads them. The source's queue
    // is bounded in bytes (64 MiB by default) and a stop drains it for at most STOP_GRACE
    // (3 s), so `dagr record` stays in bounded memory, stops within --duration + 3 s (+ 2 s
    // for a loaded machine), and says how many events it dropped.
    let dir = dagr_tests::scratch_dir("llrp-flood");
    let port = flooding_reader();
    let out = dir.join("flood.mcap");
    let started = Instant::now();
    let record =
        dagr_tests::dagr_cli::start_record(&[format!("llrp://127.0.0.1:{port}")], &out, 4.0);
    let pid = record.id();
    let mut peak_kb = 0;
    while let Some(kb) = dagr_tests::process::peak_rss_kb(pid) {
        peak_kb = kb;
        if started.elapsed() > secs(20) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stderr = dagr_tests::dagr_cli::finish_record(record, secs(20));
    let took = started.elapsed();
    assert!(took < secs(9), "--duration 4 took {took:?}: {stderr}");
    assert!(
        peak_kb < 200 * 1024,
        "peak RSS {} MB under the flood: {stderr}",
        peak_kb / 1024
    );
    let dropped: u64 = stderr
        .lines()
        .find_map(|l| {
            l.split(": ")
                .nth(1)?
                .strip_suffix(" events dropped")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no drop count in: {stderr}"));
    let info = dagr_tests::dagr_cli::inspect(&out);
    let stream = &info["streams"][0];
    let bytes = stream["bytes"].as_u64().unwrap();
    assert!(bytes > 10_000_000, "{bytes} bytes recorded in 4 s of flood");
    assert!(stream["end"].as_f64().unwrap() > 3.5, "{info}");
    eprintln!(
        "flood: took {took:?}, peak RSS {} MB, {} MB recorded, {dropped} events dropped",
        peak_kb / 1024,
        bytes >> 20
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn killed_while_a_reader_floods_the_capture_is_readable_up_to_its_last_seconds() {
    // kill -9 three seconds into a flood: the file must hold data up to shortly before the
    // kill (chunks close every second; the queue lets the recorder lag by what it holds).
    let dir = dagr_tests::scratch_dir("llrp-flood-kill");
    let port = flooding_reader();
    let out = dir.join("killed.mcap");
    let record =
        dagr_tests::dagr_cli::start_record(&[format!("llrp://127.0.0.1:{port}")], &out, 60.0);
    // The capture's stream end (s) once its first chunk is on disk.
    let stream_end = || dagr_tests::dagr_cli::inspect(&out)["streams"][0]["end"].as_f64();
    let mut first_end = None;
    dagr_tests::process::wait_for("a first chunk in the capture", secs(20), || {
        first_end = std::fs::metadata(&out)
            .is_ok_and(|m| m.len() > 0)
            .then(stream_end)
            .flatten();
        first_end.is_some()
    });
    std::thread::sleep(secs(3));
    drop(record); // SIGKILL
    let first_end = first_end.unwrap();
    let end = stream_end().unwrap();
    assert!(
        end > first_end + 1.0,
        "3 s of flood after the first chunk at {first_end:.2} s, the killed capture ends at {end:.2} s"
    );
    let lag = first_end + 3.0 - end;
    eprintln!("killed after 3 s of flood: the capture lags the kill by about {lag:.2} s");
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs a source against the scripted reader on `port` with 100 ms keepalives until the
/// reader is declared lost for silence (300 ms without a whole LLRP message), then stops it.
fn lost_to_silence(port: u16) -> Running {
    let mut source = Running::start(&format!(
        "llrp://127.0.0.1:{port}?keepalive_ms=100&retry_ms=1000"
    ));
    source.until("Connected", secs(5), |r| r.connected() == 1);
    source.until("Disconnected", secs(5), |r| !r.disconnects().is_empty());
    source.stop_within(secs(3));
    let (reason, _) = &source.disconnects()[0];
    assert!(reason.contains("no message from"), "{reason}");
    source
}

/// Peak resident memory of this test process so far, KiB.
fn own_peak_rss_kb() -> u64 {
    dagr_tests::process::peak_rss_kb(std::process::id()).unwrap()
}

#[test]
fn a_header_announcing_a_huge_message_allocates_nothing_and_the_silent_reader_is_dropped() {
    // An LLRP header whose length field says 2 GiB, then a trickle of its "body": the
    // decoder bounds the length before buffering (1 MiB), and since no whole message comes,
    // the session is declared lost at the silence limit.
    let mut header = vec![0x04, 0x3d]; // version 1, RO_ACCESS_REPORT
    header.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
    header.extend_from_slice(&1u32.to_be_bytes());
    header.extend_from_slice(&[0xab; 200]);
    let (port, _reader) = scripted_reader(Script {
        manufacturer: IMPINJ,
        trickle: Some(header),
        trickle_every: Duration::from_millis(5),
        ..Default::default()
    });
    let before_kb = own_peak_rss_kb();
    lost_to_silence(port);
    let grew_kb = own_peak_rss_kb().saturating_sub(before_kb);
    assert!(grew_kb < 64 * 1024, "peak RSS grew {grew_kb} KiB");
}

#[test]
fn a_reader_trickling_a_keepalive_a_byte_at_a_time_is_declared_lost() {
    // 10 bytes, one per 100 ms: a whole message takes 1 s, over the 300 ms silence limit.
    let (port, _reader) = scripted_reader(Script {
        manufacturer: IMPINJ,
        trickle: Some(Message::keepalive(77).to_vec().unwrap()),
        trickle_every: Duration::from_millis(100),
        ..Default::default()
    });
    lost_to_silence(port);
}
