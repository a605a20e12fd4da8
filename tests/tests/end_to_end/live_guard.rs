//! `dagr run` with an RFID reader turned to noise, and the norm guard (model.json's
//! `head.norm_band`) live: the simulated room's radar and CSI on pseudo-terminals, its RFID
//! reader on LLRP at 127.0.0.1 behind a relay the test holds, which for a while replaces the
//! RF phase and peak RSSI of every tag read with random values (a reader whose antenna cable
//! picks up interference). The reader keeps reporting at its rate, so RFID stays present and
//! predictions keep coming one per hop; the guard sets nothing aside in clean windows, and
//! inside the noise it may set aside RFID but never a sensor that stayed clean.
//!
//! Whether the guard sets RFID aside inside the noise is the model's property, not the
//! gateway's: with the reference trained without noisy sensors (w seed 1) it did in 13 of 13
//! windows of one run; the reference trained with them keeps most of its embeddings of noise
//! in band (0 and 2 of 13 in two runs) and needs the guard less (models/README.md, "Norm guard").
//! So the count is printed, not asserted.
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dagr_protocols::llrp::{message_type, Body, Header, Message, HEADER_LEN};
use dagr_tests::live_run::serve_room;
use dagr_tests::process::BackgroundThread;

use super::live_outage::run_gateway;

/// Windows wholly inside the noise that are counted.
const NOISY_WINDOWS: usize = 12;

/// Relays an LLRP reader to the gateway, turning the RF phase and RSSI of every tag report
/// into noise while `noisy` is set.
struct NoisyReader {
    /// The address the gateway connects to.
    port: u16,
    noisy: Arc<AtomicBool>,
    /// Tag reads whose values were replaced.
    rewritten: Arc<AtomicU64>,
    _relay: BackgroundThread,
}

impl NoisyReader {
    fn start(reader: &str) -> NoisyReader {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (noisy, rewritten) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (flag, count) = (noisy.clone(), rewritten.clone());
        let reader = reader.to_string();
        let relay_thread = BackgroundThread::spawn(move |done| {
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((gateway, _)) => {
                        relay(gateway, &reader, &flag, &count, done);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
        });
        NoisyReader {
            port,
            noisy,
            rewritten,
            _relay: relay_thread,
        }
    }
}

/// One gateway connection: its requests go to the reader as they are, the reader's
/// messages come back one by one, tag reports rewritten while `noisy` is set. Returns when
/// either side closes or `done` is set.
fn relay(
    gateway: TcpStream,
    reader: &str,
    noisy: &AtomicBool,
    count: &AtomicU64,
    done: &AtomicBool,
) {
    let Ok(upstream) = TcpStream::connect(reader) else {
        return;
    };
    let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
    let (mut gw_read, mut gw_write) = (gateway.try_clone().unwrap(), gateway);
    let requests = std::thread::spawn(move || {
        let _ = std::io::copy(&mut gw_read, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Both);
    });
    up_read
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    while !done.load(Ordering::Relaxed) {
        let Some(mut message) = read_message(&mut up_read, done) else {
            break;
        };
        if noisy.load(Ordering::Relaxed) {
            count.fetch_add(with_noise(&mut message, &mut seed), Ordering::Relaxed);
        }
        if gw_write.write_all(&message).is_err() {
            break;
        }
    }
    let _ = gw_write.shutdown(Shutdown::Both);
    let _ = requests.join();
}

/// The next whole LLRP message from `stream`, `None` when it closes (or `done`).
fn read_message(stream: &mut TcpStream, done: &AtomicBool) -> Option<Vec<u8>> {
    let mut message = vec![0u8; HEADER_LEN];
    read_exactly(stream, &mut message, done)?;
    let length = u32::from_be_bytes(message[2..6].try_into().unwrap()) as usize;
    assert!(
        (HEADER_LEN..1 << 20).contains(&length),
        "LLRP length {length}"
    );
    message.resize(length, 0);
    read_exactly(stream, &mut message[HEADER_LEN..], done)?;
    Some(message)
}

fn read_exactly(stream: &mut TcpStream, buf: &mut [u8], done: &AtomicBool) -> Option<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return None,
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if done.load(Ordering::Relaxed) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    Some(())
}

/// Replaces an RO_ACCESS_REPORT's tag reads' RF phase (uniform over the circle) and peak
/// RSSI (uniform over -75..-35 dBm, the simulated reader's range) with random values;
/// returns the reads changed (0 for any other message, left as it was).
fn with_noise(message: &mut Vec<u8>, seed: &mut u64) -> u64 {
    let header = Header::new_checked(&message[..]).expect("an LLRP header");
    if header.message_type() != message_type::RO_ACCESS_REPORT {
        return 0;
    }
    let mut parsed = Message::parse(&header).expect("the reader's report parses");
    let Body::RoAccessReport { tags, .. } = &mut parsed.body else {
        return 0;
    };
    let mut next = || {
        // xorshift64: a fixed, dependency-free noise source.
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    for tag in tags.iter_mut() {
        tag.impinj_phase = tag.impinj_phase.map(|_| (next() % 4096) as u16);
        let rssi_cdbm = -7500 + (next() % 4001) as i16;
        tag.impinj_peak_rssi = tag.impinj_peak_rssi.map(|_| rssi_cdbm);
        tag.peak_rssi = tag.peak_rssi.map(|_| (rssi_cdbm / 100) as i8);
    }
    let n = tags.len() as u64;
    *message = parsed.to_vec().expect("the rewritten report encodes");
    n
}

/// The reader's `host:port` in a served `llrp://` URI.
fn reader_address(uri: &str) -> &str {
    let rest = uri.strip_prefix("llrp://").expect("an llrp URI");
    rest.split(['?', '/']).next().unwrap()
}

/// The served room (seed 5) has no device outage or noisy spell of its own in its first
/// 50 s: the only disturbance in that time is the relay's noise. As in `live_noise`, the
/// windows that count are those starting inside the noise by the gateway's own clock.
#[test]
fn a_reader_turned_to_noise_stays_present_and_only_it_may_be_set_aside() {
    let dir = dagr_tests::scratch_dir("live-guard");
    let (_sim, uris) = serve_room(&dir);
    let reader = uris.last().expect("an LLRP URI").clone();
    let relay = NoisyReader::start(reader_address(&reader));
    let log = dir.join("run.log");
    let spawned = Instant::now();
    let mut sources = uris[..uris.len() - 1].to_vec();
    sources.push(format!("llrp://127.0.0.1:{}?name=rfid", relay.port));
    let (run, mut predictions) = run_gateway(&sources, 600, &log);
    let all = "mmwave+wifi+rfid";
    predictions.until_present(all, 6, Duration::from_secs(80));
    let clean_before = predictions.seen.len();

    // A window starting this late lies wholly inside the noise.
    let noise_from_s = spawned.elapsed().as_secs_f64();
    relay.noisy.store(true, Ordering::Relaxed);
    predictions.until_present_from(all, NOISY_WINDOWS, noise_from_s, Duration::from_secs(120));
    relay.noisy.store(false, Ordering::Relaxed);
    // Every window seen so far ended before this, by the gateway's clock.
    let noise_to_s = spawned.elapsed().as_secs_f64();
    let rewritten = relay.rewritten.load(Ordering::Relaxed);
    predictions.until_present_from(all, 10, noise_to_s, Duration::from_secs(60));
    // The set-aside lists of the windows lying wholly within `from..to` (gateway time).
    let set_aside = |from: f64, to: f64| -> Vec<&str> {
        (predictions.seen.iter())
            .filter(|s| s.start >= from && s.t <= to)
            .map(|s| s.set_aside.as_str())
            .collect()
    };
    let inside = set_aside(noise_from_s, noise_to_s);
    let mut clean = set_aside(f64::NEG_INFINITY, predictions.seen[clean_before - 1].t);
    clean.extend(set_aside(noise_to_s, f64::INFINITY));
    eprintln!("{rewritten} noisy reads; set aside inside the noise {inside:?}, clean {clean:?}");
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(rewritten > 0, "the relay changed no read\n{}", log_text());
    let rfid_aside = inside.iter().filter(|a| a.contains("rfid")).count();
    eprintln!(
        "RFID set aside in {rfid_aside} of {} windows inside the noise",
        inside.len()
    );
    assert!(inside.len() >= NOISY_WINDOWS, "{inside:?}");
    assert!(
        inside
            .iter()
            .all(|a| !a.contains("mmwave") && !a.contains("wifi")),
        "only RFID is set aside: {inside:?}"
    );
    let clean_aside = clean.iter().filter(|a| !a.is_empty()).count();
    assert!(
        clean_aside <= 1,
        "{clean_aside} of {} clean windows had a modality set aside: {clean:?}",
        clean.len()
    );
    predictions.assert_one_per_hop();
    drop(run);
    drop(relay);
    let _ = std::fs::remove_dir_all(&dir);
}
