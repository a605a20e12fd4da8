//! `dagr run` keeps a modality that turns to noise (issue 11 point 5): over real links (the
//! simulated room's radar on pseudo-terminals, its RFID reader on LLRP at 127.0.0.1, one
//! CSI receiver's console relayed through a pseudo-terminal the test holds), the relay
//! replaces the CSI values of every row with random numbers for a while. The receiver still
//! sends well-formed rows at its rate, only their content is noise (interference, a broken
//! antenna), so WiFi stays in every prediction's `present` and predictions keep coming one
//! per hop: noise is not an outage.
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dagr_tests::binaries::dagr;
use dagr_tests::process::ChildGuard;
use serialport::{SerialPort, TTYPort};

use dagr_tests::live_run::{serial_path, serve_room};

use super::live_outage::Predictions;

/// Largest |value| of a noise CSI component (the simulator's rows stay within ±127).
const NOISE_AMPLITUDE: i64 = 60;

/// Relays an ESP32-CSI-Tool console to a pseudo-terminal the gateway opens, turning each
/// row's CSI values into noise while `noisy` is set.
struct NoisyRelay {
    /// The pseudo-terminal the gateway opens.
    path: String,
    noisy: Arc<AtomicBool>,
    /// Rows whose CSI values were replaced.
    rewritten: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
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
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, count, done) = (noisy.clone(), rewritten.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
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
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for NoisyRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `line` with each number of its `[...]` CSI list replaced by a random one in
/// ±[`NOISE_AMPLITUDE`] (same count, so the row stays well-formed).
fn with_noise(line: &[u8], seed: &mut u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(line);
    let (Some(open), Some(close)) = (text.find('['), text.rfind(']')) else {
        return line.to_vec();
    };
    let count = text[open + 1..close].split_whitespace().count();
    let mut out = text[..=open].to_string();
    for _ in 0..count {
        // xorshift64: a fixed, dependency-free noise source.
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let value = (*seed % (2 * NOISE_AMPLITUDE as u64 + 1)) as i64 - NOISE_AMPLITUDE;
        out.push_str(&format!("{value} "));
    }
    out.push_str(&text[close..]);
    out.into_bytes()
}

/// The served room is `live_outage`'s (seed 5), whose devices have no outage or noisy spell
/// of their own in their first 50 s: the only disturbance in that time is the relay's noise.
#[test]
fn a_device_that_turns_to_noise_stays_present_and_predictions_keep_coming() {
    let dir = dagr_tests::scratch_dir("live-noise");
    let (_sim, uris) = serve_room(&dir);
    let radar = uris[0].clone();
    let console = serial_path(&uris[1], "esp32-csi");
    let reader = uris.last().expect("an LLRP URI").clone();
    let relay = NoisyRelay::start(&console);
    let log = dir.join("run.log");
    let child = Command::new(dagr())
        .args(["run", "--json", "--duration", "120"])
        .args(["--source", &radar])
        .args(["--source", &format!("esp32-csi://{}?name=wifi", relay.path)])
        .args(["--source", &reader])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("create the log"))
        .spawn()
        .expect("dagr runs");
    let mut run = ChildGuard(child);
    let mut predictions = Predictions::follow(&mut run);
    let all = "mmwave+wifi+rfid";
    predictions.until_present(all, 3, Duration::from_secs(60));

    relay.noisy.store(true, Ordering::Relaxed);
    let noise_from = predictions.seen.len();
    let started = Instant::now();
    // 20 windows (10 s): the last 16 are wholly inside the noise.
    predictions.until_present(all, 20, Duration::from_secs(30));
    relay.noisy.store(false, Ordering::Relaxed);
    let noisy_s = started.elapsed().as_secs_f64();
    let rows = relay.rewritten.load(Ordering::Relaxed) as f64;
    // 100 packets/s x 3 antennas reached the gateway as noise all along.
    assert!(
        rows > 0.8 * 300.0 * noisy_s,
        "{rows} noisy rows in {noisy_s:.1} s: the relay did not keep up"
    );
    let during: Vec<&str> = predictions.seen[noise_from..]
        .iter()
        .map(|s| s.present.as_str())
        .collect();
    assert!(
        during.iter().all(|p| *p == all),
        "a modality dropped out during the noise: {during:?}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    predictions.until_present(all, 3, Duration::from_secs(20));
    predictions.assert_one_per_hop();
    drop(run);
    drop(relay);
    let _ = std::fs::remove_dir_all(&dir);
}
