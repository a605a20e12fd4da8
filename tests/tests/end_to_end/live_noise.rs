//! `dagr run` keeps a modality that turns to noise (issue 11 point 5): over real links (the
//! simulated room's radar on pseudo-terminals, its RFID reader on LLRP at 127.0.0.1, one
//! CSI receiver's console relayed through a pseudo-terminal the test holds), the relay
//! replaces the CSI values of every row with random numbers for a while. The receiver still
//! sends well-formed rows at its rate, only their content is noise (interference, a broken
//! antenna), so WiFi stays in every prediction's `present` and predictions keep coming one
//! per hop: noise is not an outage.
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dagr_tests::process::BackgroundThread;
use serialport::{SerialPort, TTYPort};

use dagr_tests::live_run::{serial_path, serve_room};

use super::live_outage::run_gateway;

/// Largest |value| of a noise CSI component (the simulator's rows stay within ±127).
const NOISE_AMPLITUDE: i64 = 60;
/// Windows wholly inside the noise that must all keep every modality.
const NOISY_WINDOWS: usize = 16;
/// Rows per second of device time the served receiver sends: 100 packets x 3 antennas.
const ROWS_PER_S: f64 = 300.0;
/// The `local_timestamp` column of an ESP32-CSI-Tool row (`CSI_DATA` is column 0).
const LOCAL_TIMESTAMP_COLUMN: usize = 18;

/// Relays an ESP32-CSI-Tool console to a pseudo-terminal the gateway opens, turning each
/// row's CSI values into noise while `noisy` is set.
struct NoisyRelay {
    /// The pseudo-terminal the gateway opens.
    path: String,
    noisy: Arc<AtomicBool>,
    /// Rows whose CSI values were replaced.
    rewritten: Arc<AtomicU64>,
    /// The device's `local_timestamp` (µs) of the first and of the latest replaced row.
    noisy_us: Arc<Mutex<Option<(u32, u32)>>>,
    _relay: BackgroundThread,
}

impl NoisyRelay {
    fn start(console: &str) -> NoisyRelay {
        let (mut master, slave) = TTYPort::pair().expect("create a pty pair");
        master.set_timeout(Duration::from_millis(50)).unwrap();
        let path = slave.name().expect("pty slave has a path");
        let mut device = serialport::new(console, 921_600)
            .timeout(Duration::from_millis(20))
            .open()
            .unwrap_or_else(|e| panic!("open {console}: {e}"));
        let noisy = Arc::new(AtomicBool::new(false));
        let rewritten = Arc::new(AtomicU64::new(0));
        let noisy_us = Arc::new(Mutex::new(None));
        let (flag, count) = (noisy.clone(), rewritten.clone());
        let span = noisy_us.clone();
        let relay = BackgroundThread::spawn(move |done| {
            // The slave stays open here so the pty lives however often the gateway opens it.
            let _slave = slave;
            let mut pending = Vec::new();
            let mut buf = [0u8; 8192];
            let mut seed = 0x2545_f491_4f6c_dd1d_u64;
            while !done.load(Ordering::Relaxed) {
                if let Ok(n) = device.read(&mut buf) {
                    pending.extend_from_slice(&buf[..n]);
                }
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let out = match flag.load(Ordering::Relaxed) {
                        true if line.starts_with(b"CSI_DATA") => {
                            count.fetch_add(1, Ordering::Relaxed);
                            if let Some(us) = local_timestamp(&line) {
                                let mut span = span.lock().unwrap();
                                let first = span.map_or(us, |(first, _)| first);
                                *span = Some((first, us));
                            }
                            with_noise(&line, &mut seed)
                        }
                        _ => line,
                    };
                    // Nobody reading yet (the gateway not started): the row is lost, as on
                    // a UART.
                    let _ = master.write_all(&out);
                }
            }
        });
        NoisyRelay {
            path,
            noisy,
            rewritten,
            noisy_us,
            _relay: relay,
        }
    }
}

/// A row's `local_timestamp`, µs of the device's clock (printed with `%d`: negative from
/// 2^31 on, so read as i64 and taken modulo 2^32).
fn local_timestamp(line: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(line).ok()?;
    let field = text.split(',').nth(LOCAL_TIMESTAMP_COLUMN)?;
    Some(field.trim().parse::<i64>().ok()? as u32)
}

/// `line` with each number of its `[...]` CSI list replaced by a random one in
/// ±[`NOISE_AMPLITUDE`] (same count, so the row stays well-formed).
///
/// Byte work without a formatter or an allocation per value: the relay must keep up with
/// 300 rows of ~1.5 kB a second even when the machine leaves it little time (a relay that
/// falls behind makes the served receiver drop bytes, and WiFi would drop out for that,
/// not for the noise).
fn with_noise(line: &[u8], seed: &mut u64) -> Vec<u8> {
    let open = line.iter().position(|&b| b == b'[');
    let close = line.iter().rposition(|&b| b == b']');
    let (Some(open), Some(close)) = (open, close) else {
        return line.to_vec();
    };
    let count = line[open + 1..close]
        .split(u8::is_ascii_whitespace)
        .filter(|v| !v.is_empty())
        .count();
    let mut out = Vec::with_capacity(line.len() + count);
    out.extend_from_slice(&line[..=open]);
    for _ in 0..count {
        // xorshift64: a fixed, dependency-free noise source.
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let value = (*seed % (2 * NOISE_AMPLITUDE as u64 + 1)) as i64 - NOISE_AMPLITUDE;
        if value < 0 {
            out.push(b'-');
        }
        let magnitude = value.unsigned_abs() as u8;
        if magnitude >= 10 {
            out.push(b'0' + magnitude / 10);
        }
        out.push(b'0' + magnitude % 10);
        out.push(b' ');
    }
    out.extend_from_slice(&line[close..]);
    out
}

/// The served room is `live_outage`'s (seed 5), whose devices have no outage or noisy spell
/// of their own in their first 50 s: the only disturbance in that time is the relay's noise.
///
/// Nothing here is bounded by the wall clock but the hang guards: on a loaded machine the
/// gateway may start slowly and fall behind, so the windows that count are those that
/// started inside the noise by the gateway's own clock (whatever their number after the
/// noise was switched on), and the relay's rate is measured in the device's time.
#[test]
fn a_device_that_turns_to_noise_stays_present_and_predictions_keep_coming() {
    let dir = dagr_tests::scratch_dir("live-noise");
    let (_sim, uris) = serve_room(&dir);
    let radar = uris[0].clone();
    let console = serial_path(&uris[1], "esp32-csi");
    let reader = uris.last().expect("an LLRP URI").clone();
    let relay = NoisyRelay::start(&console);
    let log = dir.join("run.log");
    // The gateway's clock starts after this (once its model is loaded): its time is never
    // more than the time since.
    let spawned = Instant::now();
    let wifi = format!("esp32-csi://{}?name=wifi", relay.path);
    let (run, mut predictions) = run_gateway(&[radar, wifi, reader], 600, &log);
    let all = "mmwave+wifi+rfid";
    // Hang guards only (the served room lasts 300 s): 80 + 160 + 40 s.
    predictions.until_present(all, 3, Duration::from_secs(80));

    let noise_from_s = spawned.elapsed().as_secs_f64();
    relay.noisy.store(true, Ordering::Relaxed);
    let noise_from = predictions.seen.len();
    predictions.until_present_from(all, NOISY_WINDOWS, noise_from_s, Duration::from_secs(160));
    relay.noisy.store(false, Ordering::Relaxed);
    let rows = relay.rewritten.load(Ordering::Relaxed) as f64;
    let (first_us, last_us) = relay
        .noisy_us
        .lock()
        .unwrap()
        .expect("the relay replaced rows");
    let device_s = f64::from(last_us.wrapping_sub(first_us)) / 1e6;
    let seen = &predictions.seen[noise_from..];
    eprintln!(
        "{} predictions after the noise began, {NOISY_WINDOWS} of windows inside it \
         (from {noise_from_s:.1} s of gateway time at most); {rows} noisy rows over {device_s:.1} s \
         of the receiver's clock",
        seen.len()
    );
    // Every row the receiver sent reached the gateway as noise (it did not, if the relay
    // fell behind its reads), for the whole stretch of the windows counted.
    assert!(
        device_s >= 0.5 * (NOISY_WINDOWS - 1) as f64,
        "{device_s:.1} s of noisy rows for {NOISY_WINDOWS} windows"
    );
    assert!(
        rows > 0.8 * ROWS_PER_S * device_s,
        "{rows} noisy rows in {device_s:.1} s of the receiver's clock: the relay did not keep up"
    );
    let aside: Vec<&str> = seen.iter().map(|s| s.set_aside.as_str()).collect();
    eprintln!("set aside during the noise: {aside:?}");
    let during: Vec<&str> = seen.iter().map(|s| s.present.as_str()).collect();
    assert!(
        during.iter().all(|p| *p == all),
        "a modality dropped out during the noise: {during:?}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    predictions.until_present(all, 3, Duration::from_secs(40));
    predictions.assert_one_per_hop();
    drop(run);
    drop(relay);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn noise_keeps_a_rows_shape_and_its_values_in_range() {
    let row = b"CSI_DATA,AP,3C:71:BF:6D:2A:78,-73,11,1,0,1,1,1,1,0,0,0,-91,0,6,1,80272146,0,104,0,0,0.0,8,[1 -2 30 -127 5 6 7 8 ]\n";
    let mut seed = 7;
    let noisy = with_noise(row, &mut seed);
    let text = std::str::from_utf8(&noisy).unwrap();
    let (open, close) = (text.find('[').unwrap(), text.rfind(']').unwrap());
    assert_eq!(&noisy[..=open], &row[..=open]);
    assert!(text.ends_with("]\n"), "{text}");
    let values: Vec<i64> = text[open + 1..close]
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values.len(), 8, "{text}");
    assert!(
        values.iter().all(|v| v.abs() <= NOISE_AMPLITUDE),
        "{values:?}"
    );
    assert!(values.windows(2).any(|w| w[0] != w[1]), "{values:?}");
    assert_eq!(local_timestamp(row), Some(80_272_146));
}
