//! The simulation loop: the world played out at each device's own rate, every device's
//! bytes written to a capture as a gateway would have received them, with the schedule's
//! labels. Same world, renderers, duration and seed: byte-identical file.
//!
//! # Renderers
//! A device is a [`DeviceRenderer`]: it names its capture channel, says when it next sends
//! (`next_due`, scene seconds) and, when asked, appends the bytes it sends at that instant
//! (encoded with the protocol crate, stamped with its own [`DeviceClock`]). The loop always
//! serves the device due earliest (ties: the first in the list), so renderers run in scene
//! time order and each sees the scene at exactly its emission time.
//!
//! # Times in the capture
//! Scene time 0 is gateway time 0. The capture's wall-clock epoch is fixed at
//! [`SIM_EPOCH_UNIX_NS`] (2026-01-01T00:00:00Z) so files do not depend on when they were
//! made. A chunk sent at scene time `t` arrives (`log_time`) after a delivery delay: a
//! fixed link latency plus exponential jitter (serial: 1 ms + mean 0.5 ms; LLRP over TCP:
//! 2 ms + mean 2 ms), never before the device's previous chunk (links keep order).
//! `publish_time` is `t` itself: the true device time mapped to the gateway, which a
//! recorder could only estimate. Labels are logged at their start. Messages are written
//! in `log_time` order; a chunk is closed every simulated second.
//!
//! # Memory
//! The capture is written as the world plays: a chunk leaves memory every simulated
//! second, and what waits in between is the chunks still in flight (delivery delays are
//! milliseconds) and the labels not yet started. What stays for the whole run is the
//! world's own plan (schedule, motions, spells: a few MB per simulated day) and the MCAP
//! summary's index (one entry per chunk, written at the end).
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;

use super::draw::{exponential, seeded, uniform, Stream};
use super::scene::Scene;
use super::world::World;
use crate::capture::{nanos, CaptureError, CaptureWriter, Label, StreamInfo};
use crate::events::{SourceState, SourceStatus};
use crate::format::Format;

/// Wall-clock time of gateway time 0 in simulated captures, ns since the Unix epoch
/// (2026-01-01T00:00:00Z).
pub const SIM_EPOCH_UNIX_NS: u64 = 1_767_225_600_000_000_000;

/// A simulated device: what it is called and sends, and when (see the [module doc](self)).
///
/// Contract: `next_due` is non-decreasing and strictly greater after each `render`, or
/// infinite when the device sends nothing more; `render(scene, t, out)` is called with
/// `t == next_due()`, appends the device's bytes for that instant (nothing for a lost
/// packet) and advances `next_due`. Randomness comes from a generator seeded at
/// construction, so a renderer's bytes depend only on its seed and the scene.
pub trait DeviceRenderer {
    /// The capture channel: source name (unique per run), format of the bytes, and a URI
    /// describing the simulated device (`sim://...`).
    fn stream(&self) -> StreamInfo;
    /// Scene time of the next emission, s (`f64::INFINITY`: done).
    fn next_due(&self) -> f64;
    /// Appends the bytes sent at `t` to `out` and advances [`next_due`](Self::next_due).
    fn render(&mut self, scene: &dyn Scene, t: f64, out: &mut Vec<u8>);
}

/// The device renderers `dagr sim` runs for `world` (radar, CSI links, RFID reader), each
/// seeded from `seed`. The renderers are built in their own modules; this list is where
/// they are wired in.
pub fn default_renderers(world: &World, seed: u64) -> Vec<Box<dyn DeviceRenderer>> {
    super::devices::room_devices(world, seed)
}

/// [`default_renderers`] with the user's device options (CSI rate and format).
pub fn renderers_with(
    world: &World,
    seed: u64,
    options: &super::devices::DeviceOptions,
) -> Vec<Box<dyn DeviceRenderer>> {
    super::devices::room_devices_with(world, seed, options)
}

pub use crate::capture::{META_ROOM, META_SEED, META_SUBJECT};

/// What a simulated capture records about its own making (room, subject, seed), so a
/// dataset export can group windows by domain.
fn sim_metadata(world: &World, seed: u64) -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        (META_ROOM.to_string(), world.room().id.to_string()),
        (META_SUBJECT.to_string(), world.subject().id.to_string()),
        (META_SEED.to_string(), seed.to_string()),
    ])
}

/// A simulated device's own clock: it started `base_us` µs before scene time 0 (its boot,
/// or the Unix epoch for a UTC clock), is off by `offset_s` and runs `ppm` parts per million
/// fast (negative: slow). Renderers stamp their records with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceClock {
    /// Reading at scene time 0 before the offset, µs.
    pub base_us: u64,
    /// Offset from true time, s.
    pub offset_s: f64,
    /// Rate error, parts per million.
    pub ppm: f64,
}

impl DeviceClock {
    /// A free-running µs counter (ESP32 `local_timestamp`, TI CPU clock, node clock) of
    /// device `device`: booted 1–4000 s before the run (so a u32 µs counter may wrap within
    /// minutes), drifting ±20 ppm.
    pub fn free_running(seed: u64, device: u64) -> DeviceClock {
        let mut rng = seeded(Stream::Device, seed, device);
        DeviceClock {
            base_us: (uniform(&mut rng, 1.0, 4000.0) * 1e6) as u64,
            offset_s: 0.0,
            ppm: uniform(&mut rng, -20.0, 20.0),
        }
    }

    /// A UTC clock (LLRP reader): the simulated wall clock, off by ±50 ms, drifting ±20 ppm.
    pub fn utc(seed: u64, device: u64) -> DeviceClock {
        let mut rng = seeded(Stream::Device, seed, device);
        DeviceClock {
            base_us: SIM_EPOCH_UNIX_NS / 1000,
            offset_s: uniform(&mut rng, -0.05, 0.05),
            ppm: uniform(&mut rng, -20.0, 20.0),
        }
    }

    /// Device seconds elapsed since its `base` at scene time `t`.
    fn elapsed(&self, t: f64) -> f64 {
        self.offset_s + t * (1.0 + self.ppm * 1e-6)
    }

    /// The device's µs reading at scene time `t` (saturating at 0).
    pub fn micros(&self, t: f64) -> u64 {
        let elapsed_us = (self.elapsed(t) * 1e6).round();
        if elapsed_us >= 0.0 {
            self.base_us.saturating_add(elapsed_us as u64)
        } else {
            self.base_us.saturating_sub((-elapsed_us) as u64)
        }
    }

    /// The reading as a u32 µs counter that wraps (ESP32 `local_timestamp`).
    pub fn micros_u32(&self, t: f64) -> u32 {
        self.micros(t) as u32
    }

    /// Ticks of a `hz` counter driven by this clock (e.g. a TI CPU cycle counter), wrapping.
    pub fn ticks(&self, t: f64, hz: f64) -> u64 {
        (self.micros(t) as f64 * hz * 1e-6) as u64
    }

    /// The scene time at which the device read `us` (inverse of [`micros`](Self::micros)).
    pub fn scene_time(&self, us: u64) -> f64 {
        let since_base = us as f64 - self.base_us as f64;
        (since_base * 1e-6 - self.offset_s) / (1.0 + self.ppm * 1e-6)
    }
}

/// How late a device's bytes reach the gateway.
#[derive(Debug, Clone)]
struct Delivery {
    latency: f64,
    jitter_mean: f64,
    last_ns: u64,
    rng: ChaCha8Rng,
}

impl Delivery {
    fn for_format(format: Format, rng: ChaCha8Rng) -> Delivery {
        let (latency, jitter_mean) = match format {
            Format::Llrp => (0.002, 0.002),
            _ => (0.001, 0.0005),
        };
        Delivery {
            latency,
            jitter_mean,
            last_ns: 0,
            rng,
        }
    }

    /// Gateway arrival of bytes sent at `t`, ns: in order per link.
    fn arrival_ns(&mut self, t: f64) -> u64 {
        let delay = self.latency + exponential(&mut self.rng, self.jitter_mean);
        self.last_ns = self.last_ns.max(nanos(t + delay));
        self.last_ns
    }
}

/// Why a simulation could not be written.
#[derive(Debug)]
pub enum SimError {
    /// The capture file.
    Capture(CaptureError),
    /// A renderer broke its contract.
    Renderer {
        /// Its source name.
        source: String,
        /// What it did.
        reason: String,
    },
    /// The stop flag was raised (SIGINT/SIGTERM) before the run was complete.
    Interrupted {
        /// Simulated seconds written by then.
        at_s: f64,
        /// The run's duration, s.
        duration: f64,
    },
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Capture(e) => e.fmt(f),
            SimError::Renderer { source, reason } => write!(f, "renderer {source}: {reason}"),
            SimError::Interrupted { at_s, duration } => {
                write!(f, "interrupted at {at_s} s of {duration} s")
            }
        }
    }
}

impl std::error::Error for SimError {
    /// The capture error's own causes (its text is this error's): a full disk is said as
    /// "No space left on device", not only as the MCAP layer's summary.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SimError::Capture(e) => std::error::Error::source(e),
            SimError::Renderer { .. } | SimError::Interrupted { .. } => None,
        }
    }
}

impl From<CaptureError> for SimError {
    fn from(e: CaptureError) -> Self {
        SimError::Capture(e)
    }
}

/// What a run wrote, per stream and in labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimSummary {
    /// Per stream: name, messages, bytes.
    pub streams: Vec<(String, u64, u64)>,
    /// Label annotations written.
    pub labels: usize,
}

/// Something waiting to be written at its arrival time.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pending {
    /// Raw bytes of stream `index`, published at `publish_ns`.
    Chunk {
        stream: usize,
        publish_ns: u64,
        bytes: Vec<u8>,
    },
    /// Label `index` of the world's labels.
    Label(usize),
}

/// Runs `world` for `duration` s with `renderers` and writes the capture to `path`
/// (replacing it); `seed` draws the delivery delays.
pub fn write_capture(
    path: &Path,
    world: &World,
    renderers: &mut [Box<dyn DeviceRenderer>],
    duration: f64,
    seed: u64,
) -> Result<SimSummary, SimError> {
    write_capture_until(
        path,
        world,
        renderers,
        duration,
        seed,
        &AtomicBool::new(false),
    )
}

/// [`write_capture`] that gives up with [`SimError::Interrupted`] once `stop` is set
/// (looked at every simulated second), so `dagr sim` can end on a signal and remove its
/// unfinished file. The bytes written do not depend on `stop`.
pub fn write_capture_until(
    path: &Path,
    world: &World,
    renderers: &mut [Box<dyn DeviceRenderer>],
    duration: f64,
    seed: u64,
    stop: &AtomicBool,
) -> Result<SimSummary, SimError> {
    let mut writer = CaptureWriter::create(path, SIM_EPOCH_UNIX_NS)?.without_age_flush();
    writer.write_metadata(sim_metadata(world, seed))?;
    let streams: Vec<StreamInfo> = renderers.iter().map(|r| r.stream()).collect();
    for (i, stream) in streams.iter().enumerate() {
        if streams[..i].iter().any(|s| s.name == stream.name) {
            return Err(SimError::Renderer {
                source: stream.name.to_string(),
                reason: "two renderers use this source name".into(),
            });
        }
        writer.add_stream(stream)?;
        writer.write_status(&status(&stream.name, 0, SourceState::Connected))?;
    }
    // Activities cut short by the end of the run are labeled up to the end.
    let labels: Vec<Label> = world
        .labels()
        .into_iter()
        .filter(|l| l.start < duration)
        .map(|l| Label {
            end: l.end.min(duration),
            ..l
        })
        .collect();
    let mut queue = BinaryHeap::new();
    let mut order = 0u64;
    for (i, label) in labels.iter().enumerate() {
        queue.push(Reverse((nanos(label.start), order, Pending::Label(i))));
        order += 1;
    }
    let mut deliveries: Vec<Delivery> = streams
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Delivery::for_format(s.format, seeded(Stream::Device, seed, 1 << 32 | i as u64))
        })
        .collect();
    let mut summary = SimSummary {
        streams: streams.iter().map(|s| (s.name.to_string(), 0, 0)).collect(),
        labels: labels.len(),
    };
    let mut out = Vec::new();
    let mut next_flush_ns = nanos(1.0);
    while let Some((index, t)) = earliest(renderers).filter(|&(_, t)| t < duration) {
        out.clear();
        renderers[index].render(world, t, &mut out);
        if renderers[index].next_due().partial_cmp(&t) != Some(std::cmp::Ordering::Greater) {
            return Err(SimError::Renderer {
                source: streams[index].name.to_string(),
                reason: format!("next_due did not advance past {t} s"),
            });
        }
        if !out.is_empty() {
            let log_ns = deliveries[index].arrival_ns(t);
            let bytes = std::mem::take(&mut out);
            let chunk = Pending::Chunk {
                stream: index,
                publish_ns: nanos(t),
                bytes,
            };
            queue.push(Reverse((log_ns, order, chunk)));
            order += 1;
        }
        // Everything still to come arrives at or after `t`.
        let now_ns = nanos(t);
        while queue
            .peek()
            .is_some_and(|Reverse((log, _, _))| *log <= now_ns)
        {
            let Some(Reverse((log_ns, _, pending))) = queue.pop() else {
                break;
            };
            if log_ns >= next_flush_ns {
                if stop.load(Ordering::Relaxed) {
                    return Err(SimError::Interrupted {
                        at_s: (next_flush_ns / 1_000_000_000) as f64,
                        duration,
                    });
                }
                writer.flush()?;
                next_flush_ns = (log_ns / 1_000_000_000 + 1) * 1_000_000_000;
            }
            write_pending(
                &mut writer,
                &streams,
                &labels,
                &mut summary,
                log_ns,
                pending,
            )?;
        }
    }
    let mut end_ns = nanos(duration);
    while let Some(Reverse((log_ns, _, pending))) = queue.pop() {
        end_ns = end_ns.max(log_ns);
        write_pending(
            &mut writer,
            &streams,
            &labels,
            &mut summary,
            log_ns,
            pending,
        )?;
    }
    for stream in &streams {
        writer.write_status(&status(&stream.name, end_ns, SourceState::Finished))?;
    }
    writer.finish()?;
    Ok(summary)
}

/// The renderer due first and when (ties: the lower index).
fn earliest(renderers: &[Box<dyn DeviceRenderer>]) -> Option<(usize, f64)> {
    renderers
        .iter()
        .map(|r| r.next_due())
        .enumerate()
        .filter(|(_, t)| t.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

fn write_pending(
    writer: &mut CaptureWriter,
    streams: &[StreamInfo],
    labels: &[Label],
    summary: &mut SimSummary,
    log_ns: u64,
    pending: Pending,
) -> Result<(), CaptureError> {
    match pending {
        Pending::Chunk {
            stream,
            publish_ns,
            bytes,
        } => {
            writer.write_chunk(&streams[stream].name, log_ns, publish_ns, &bytes)?;
            summary.streams[stream].1 += 1;
            summary.streams[stream].2 += bytes.len() as u64;
            Ok(())
        }
        Pending::Label(i) => writer.write_label(&labels[i]),
    }
}

fn status(name: &Arc<str>, at_ns: u64, state: SourceState) -> SourceStatus {
    SourceStatus {
        source: name.clone(),
        at_ns,
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::PathBuf;

    use crate::sim::body::Subject;
    use crate::sim::scenario::Schedule;
    use crate::sim::Room;

    #[test]
    fn a_full_disk_under_a_simulation_keeps_its_cause() {
        let full = std::io::Error::from_raw_os_error(28); // ENOSPC
        let error = SimError::from(CaptureError::new(Path::new("sim.mcap"), full));
        let cause = std::error::Error::source(&error).map(|c| c.to_string());
        assert!(
            cause.is_some_and(|c| c.contains("No space left on device")),
            "{error}"
        );
    }

    /// A renderer that sends `b"x"` at `times` (or stalls at its first when `stall`).
    struct Stub {
        name: &'static str,
        times: Vec<f64>,
        stall: bool,
    }

    impl DeviceRenderer for Stub {
        fn stream(&self) -> StreamInfo {
            StreamInfo {
                name: self.name.into(),
                format: Format::Llrp,
                uri: String::new(),
            }
        }
        fn next_due(&self) -> f64 {
            self.times.first().copied().unwrap_or(f64::INFINITY)
        }
        fn render(&mut self, _: &dyn Scene, _: f64, out: &mut Vec<u8>) {
            out.push(b'x');
            if !self.stall {
                self.times.remove(0);
            }
        }
    }

    fn run_stubs(name: &str, stubs: Vec<Stub>) -> Result<(SimSummary, PathBuf), SimError> {
        let dir = std::env::temp_dir().join(format!("dagr-run-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let schedule = Schedule::parse("1 3 waving\n4 9 walking").unwrap();
        let world = World::new(Room::generate(0), Subject::generate(0), schedule, 0);
        let mut renderers: Vec<Box<dyn DeviceRenderer>> = stubs
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn DeviceRenderer>)
            .collect();
        let path = dir.join("a.mcap");
        let written = write_capture(&path, &world, &mut renderers, 5.0, 0);
        if written.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        written.map(|summary| (summary, path))
    }

    #[test]
    fn a_renderer_that_does_not_advance_is_an_error_naming_it() {
        let stall = Stub {
            name: "stuck",
            times: vec![0.5],
            stall: true,
        };
        let err = run_stubs("stall", vec![stall]).unwrap_err().to_string();
        assert!(
            err.contains("stuck") && err.contains("did not advance"),
            "{err}"
        );
    }

    #[test]
    fn two_renderers_with_one_name_are_refused() {
        let a = Stub {
            name: "same",
            times: vec![],
            stall: false,
        };
        let b = Stub {
            name: "same",
            times: vec![],
            stall: false,
        };
        let err = run_stubs("dup", vec![a, b]).unwrap_err().to_string();
        assert!(err.contains("same"), "{err}");
    }

    #[test]
    fn emissions_at_or_after_the_duration_are_not_rendered_and_labels_end_with_the_run() {
        let stub = Stub {
            name: "s",
            times: vec![0.0, 4.9, 5.0, 6.0],
            stall: false,
        };
        let (summary, path) = run_stubs("end", vec![stub]).unwrap();
        assert_eq!(summary.streams, vec![("s".to_string(), 2, 2)]);
        let (_, labels) = crate::capture::CaptureReader::catalog(&path).unwrap();
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        let spans: Vec<(f64, f64)> = labels.iter().map(|l| (l.start, l.end)).collect();
        assert_eq!(spans, [(1.0, 3.0), (4.0, 5.0)]);
    }

    #[test]
    fn a_raised_stop_flag_ends_the_run_at_the_first_simulated_second() {
        let dir = std::env::temp_dir().join(format!("dagr-run-{}-stop", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let schedule = Schedule::parse("1 3 waving").unwrap();
        let world = World::new(Room::generate(0), Subject::generate(0), schedule, 0);
        let mut renderers: Vec<Box<dyn DeviceRenderer>> = vec![Box::new(Stub {
            name: "s",
            times: (0..40).map(|i| f64::from(i) * 0.1).collect(),
            stall: false,
        })];
        let stop = AtomicBool::new(true);
        let written =
            write_capture_until(&dir.join("a.mcap"), &world, &mut renderers, 4.0, 0, &stop);
        std::fs::remove_dir_all(&dir).unwrap();
        let err = written.unwrap_err().to_string();
        assert_eq!(err, "interrupted at 1 s of 4 s");
    }

    #[test]
    fn a_device_clock_maps_back_to_scene_time() {
        let clock = DeviceClock::free_running(3, 1);
        for t in [0.0, 1.5, 123.456] {
            assert!((clock.scene_time(clock.micros(t)) - t).abs() < 2e-6, "{t}");
        }
        let drift = clock.micros(100.0) - clock.micros(0.0);
        assert!((drift as f64 - 100e6 * (1.0 + clock.ppm * 1e-6)).abs() <= 1.0);
        assert_ne!(clock, DeviceClock::free_running(3, 2));
    }

    #[test]
    fn a_utc_clock_reads_the_simulated_wall_clock() {
        let clock = DeviceClock::utc(0, 0);
        let error_s = clock.micros(10.0) as f64 * 1e-6 - (SIM_EPOCH_UNIX_NS as f64 * 1e-9 + 10.0);
        assert!(error_s.abs() < 0.051, "{error_s}");
    }

    #[test]
    fn an_esp32_counter_wraps_at_2_pow_32() {
        let clock = DeviceClock {
            base_us: u64::from(u32::MAX) - 10,
            offset_s: 0.0,
            ppm: 0.0,
        };
        assert_eq!(clock.micros_u32(0.0), u32::MAX - 10);
        assert_eq!(clock.micros_u32(20e-6), 9);
    }

    #[test]
    fn deliveries_keep_link_order_and_are_late() {
        let mut d = Delivery::for_format(Format::Esp32Csi, seeded(Stream::Device, 0, 9));
        let mut last = 0;
        for i in 0..1000 {
            let t = i as f64 * 1e-4;
            let at = d.arrival_ns(t);
            assert!(at >= nanos(t + 0.001) && at >= last);
            last = at;
        }
    }
}
