//! The host port (`std` feature): the same core on a PC, attached to a serial device or a
//! pseudo-terminal, with synthetic drivers. `dagr-node-sim` is a thin command line over
//! [`run`]; tests call [`run`] in a thread against a pty pair.
//!
//! Two threads, as on a board: the driver thread plays the sensor interrupts (it owns the
//! ring's producer half and follows the [`Switchboard`]), the calling thread plays the main
//! loop (reads the port, calls [`Node::poll`]).
pub use crate::drivers;

use std::boxed::Box;
use std::eprintln;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dagr_protocols::node::Modality;

use crate::health::Counters;
use crate::node::{Node, NodeConfig};
use crate::port::{Clock, Link, LinkError};
use crate::ring::{SampleProducer, SampleRing};
use crate::sample::AnySample;
use crate::sensors::{SensorControl, Switchboard};
use drivers::{CsiGenerator, RadarGenerator, RfidGenerator, CSI_STREAM, RADAR_STREAM, RFID_STREAM};

/// Ring slots of the simulated node (a PC can afford more than a board).
pub const SIM_RING_SLOTS: usize = 64;
/// How long the main loop waits for host bytes before sending queued samples.
pub const READ_TIMEOUT: Duration = Duration::from_millis(2);

/// The node clock on a host: µs since the node started.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    boot: Instant,
}

impl SystemClock {
    /// A clock reading 0 now.
    pub fn new() -> Self {
        SystemClock {
            boot: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_us(&self) -> u64 {
        u64::try_from(self.boot.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Any `io::Write` (serial port, pty, socket) as the node's link.
#[derive(Debug)]
pub struct IoLink<W>(pub W);

impl<W: Write> Link for IoLink<W> {
    fn write(&mut self, bytes: &[u8]) -> Result<usize, LinkError> {
        loop {
            return match self.0.write(bytes) {
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(match e.kind() {
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => LinkError::Timeout,
                    io::ErrorKind::BrokenPipe | io::ErrorKind::NotConnected => {
                        LinkError::Disconnected
                    }
                    _ if e.raw_os_error() == Some(5) => LinkError::Disconnected, // EIO: pty closed
                    _ => LinkError::Other,
                }),
            };
        }
    }
}

/// What the simulated node runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Node id at boot.
    pub node_id: u16,
    /// CSI packets per second, or `None` for no CSI stream.
    pub csi_rate_hz: Option<f64>,
    /// Run the 20 Hz radar.
    pub radar: bool,
    /// Run the RFID reader (10 rounds/s, three tags).
    pub rfid: bool,
    /// Stop after this long (`None`: until `stop`).
    pub duration: Option<Duration>,
    /// Heartbeat period, ms (0 = off).
    pub heartbeat_ms: u32,
}

/// What the node did, for the exit summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimReport {
    /// The core's counters at exit.
    pub counters: Counters,
    /// Samples dropped because the ring was full.
    pub dropped: u32,
}

/// Why the simulated node stopped early.
#[derive(Debug)]
pub enum SimError {
    /// Reading from the port failed (device gone, pty closed).
    Read(io::Error),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Read(e) => write!(f, "reading from the port failed: {e}"),
        }
    }
}

impl std::error::Error for SimError {}

/// Runs a node on `reader`/`writer` (two handles of one port) until `stop` is set, the
/// duration has passed, or the port fails. `reader` should time out quickly (a few ms) so
/// queued samples go out while the host is silent.
pub fn run<R: Read, W: Write>(
    mut reader: R,
    writer: W,
    options: &SimOptions,
    stop: &AtomicBool,
) -> Result<SimReport, SimError> {
    let clock = SystemClock::new();
    let csi_rate_mhz = options.csi_rate_hz.map_or(1_000, |hz| {
        (hz * 1_000.0).round().clamp(1.0, u32::MAX as f64) as u32
    });
    let board = Switchboard::new(drivers::switches(csi_rate_mhz));
    let mut control = &board;
    for (id, wanted) in [
        (CSI_STREAM, options.csi_rate_hz.is_some()),
        (RADAR_STREAM, options.radar),
        (RFID_STREAM, options.rfid),
    ] {
        // The three streams exist on this board, so this cannot be refused.
        let _ = control.set_enabled(id, wanted);
    }
    let modality = match (options.csi_rate_hz, options.radar) {
        (Some(_), _) => Modality::Wifi,
        (None, true) => Modality::Mmwave,
        _ => Modality::Rfid,
    };
    let config = NodeConfig {
        heartbeat_interval_ms: options.heartbeat_ms,
        ..NodeConfig::new(options.node_id, modality)
    };
    let mut ring: Box<SampleRing<AnySample, SIM_RING_SLOTS>> = Box::default();
    let (producer, mut consumer) = ring.split();
    let mut node: Node<_, _, _, 3> = Node::new(config, IoLink(writer), clock, &board);
    let deadline = options.duration.map(|d| Instant::now() + d);
    let drivers_done = AtomicBool::new(false);

    std::thread::scope(|scope| {
        scope.spawn(|| drive(producer, &board, clock, &drivers_done));
        let mut buf = [0u8; 256];
        let result = loop {
            if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                break Ok(());
            }
            let received = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    0
                }
                Err(e) => break Err(SimError::Read(e)),
            };
            node.poll(&buf[..received], &mut consumer);
        };
        drivers_done.store(true, Ordering::Relaxed);
        result
    })?;
    Ok(SimReport {
        counters: node.counters(),
        dropped: consumer.dropped(),
    })
}

/// The driver thread: polls each synthetic sensor like its timer interrupt would.
fn drive(
    mut ring: SampleProducer<'_, AnySample>,
    board: &Switchboard<3>,
    clock: SystemClock,
    done: &AtomicBool,
) {
    let (mut csi, mut radar, mut rfid) = (
        CsiGenerator::default(),
        RadarGenerator::default(),
        RfidGenerator::default(),
    );
    let switch = |id| board.stream(id).expect("the three simulated streams exist");
    while !done.load(Ordering::Relaxed) {
        let now = clock.now_us();
        let due = [
            csi.poll(now, switch(CSI_STREAM)),
            radar.poll(now, switch(RADAR_STREAM)),
            rfid.poll(now, switch(RFID_STREAM)),
        ];
        for sample in due.into_iter().flatten() {
            ring.push(sample);
        }
        if let Some(ms) = board.take_identify() {
            eprintln!("dagr-node-sim: identify requested for {ms} ms");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}
