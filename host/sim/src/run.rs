//! The simulation loop: the world played out at each device's own rate, every device's
//! bytes handed to a [`RunSink`] as a gateway would have received them, with the schedule's
//! labels. Same world, renderers, duration and seed: the same calls in the same order
//! (the gateway's `sim_capture` writes them to a byte-identical file).
//!
//! # Renderers
//! A device is a [`DeviceRenderer`]: it names its capture channel, says when it next sends
//! (`next_due`, scene seconds) and, when asked, appends the bytes it sends at that instant
//! (encoded with the protocol crate, stamped with its own [`DeviceClock`]). The loop always
//! serves the device due earliest (ties: the first in the list), so renderers run in scene
//! time order and each sees the scene at exactly its emission time.
//!
//! # Times
//! Scene time 0 is gateway time 0. The capture's wall-clock epoch is fixed at
//! [`SIM_EPOCH_UNIX_NS`] (2026-01-01T00:00:00Z) so files do not depend on when they were
//! made. A chunk sent at scene time `t` arrives (`log_time`) after a delivery delay: a
//! fixed link latency plus exponential jitter (serial: 1 ms + mean 0.5 ms; LLRP over TCP:
//! 2 ms + mean 2 ms), never before the device's previous chunk (links keep order).
//! `publish_time` is `t` itself: the true device time mapped to the gateway, which a
//! recorder could only estimate. Labels are handed over at their start. Everything is
//! handed over in `log_time` order, and the sink is told when a new simulated second
//! begins (a capture closes its chunk there).
//!
//! # Memory
//! Bytes leave the loop as soon as nothing can arrive before them: what waits is the chunks
//! still in flight (delivery delays are milliseconds). Labels are built from the activities
//! as they start, none held ahead. The world's plan (activities, motions, micro-motion) and
//! the devices' spells are drawn as scene time advances and forgotten behind it, so nothing
//! here grows with the duration.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dagr_classes::Label;
use rand_chacha::ChaCha8Rng;

use super::draw::{exponential, seeded, uniform, Stream};
use super::scenario::{Activities, ActivityDraw, Scheduled};
use super::scene::Scene;
use super::world::World;

/// Wall-clock time of gateway time 0 in simulated captures, ns since the Unix epoch
/// (2026-01-01T00:00:00Z).
pub const SIM_EPOCH_UNIX_NS: u64 = 1_767_225_600_000_000_000;

/// The device formats the twin's renderers send: the gateway reads them with the decoders
/// of its format table under these `--format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceFormat {
    /// A TI mmWave radar's data port (`ti-mmwave`).
    TiMmwave,
    /// ESP32-CSI-Tool console rows (`esp32-csi`).
    Esp32Csi,
    /// Intel 5300 CSI Tool bfee records (`intel5300`).
    Intel5300,
    /// LLRP messages of an RFID reader (`llrp`).
    Llrp,
}

impl DeviceFormat {
    /// The gateway's `--format` name of these bytes.
    pub fn name(self) -> &'static str {
        match self {
            DeviceFormat::TiMmwave => "ti-mmwave",
            DeviceFormat::Esp32Csi => "esp32-csi",
            DeviceFormat::Intel5300 => "intel5300",
            DeviceFormat::Llrp => "llrp",
        }
    }
}

/// A simulated device's channel: what a capture (or a served port) calls it and what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStream {
    /// Source name, unique per run (the capture channel's topic).
    pub name: Arc<str>,
    /// Format of the bytes.
    pub format: DeviceFormat,
    /// A URI describing the simulated device (`sim://...`).
    pub uri: String,
}

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
    fn stream(&self) -> DeviceStream;
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

/// [`default_renderers`] with the user's device options (CSI rate and format, the radar's
/// configuration); an error when the radar configuration cannot run.
pub fn renderers_with(
    world: &World,
    seed: u64,
    options: &super::devices::DeviceOptions,
) -> Result<Vec<Box<dyn DeviceRenderer>>, super::radar::InvalidConfig> {
    super::devices::room_devices_with(world, seed, options)
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
    fn for_format(format: DeviceFormat, rng: ChaCha8Rng) -> Delivery {
        let (latency, jitter_mean) = match format {
            DeviceFormat::Llrp => (0.002, 0.002),
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

/// Gateway nanoseconds from seconds, as captures count them (negative and non-finite
/// clamp to 0).
pub fn nanos(s: f64) -> u64 {
    if s.is_finite() && s > 0.0 {
        (s * 1e9).round() as u64
    } else {
        0
    }
}

/// Where a played-out run goes, in arrival order (a capture writer, in the gateway).
pub trait RunSink {
    /// Why the sink could not take something.
    type Error;
    /// A new simulated second begins with the next message (a capture closes its chunk).
    fn next_second(&mut self) -> Result<(), Self::Error>;
    /// `bytes` of stream `stream` (index into the renderers) arrived at `log_ns`, sent at
    /// `publish_ns` (gateway ns).
    fn chunk(
        &mut self,
        stream: usize,
        log_ns: u64,
        publish_ns: u64,
        bytes: &[u8],
    ) -> Result<(), Self::Error>;
    /// The activity of `label` starts now.
    fn label(&mut self, label: &Label) -> Result<(), Self::Error>;
}

/// Why a run could not be played out.
#[derive(Debug)]
pub enum PlayError<E> {
    /// The sink refused something.
    Sink(E),
    /// A renderer broke its contract.
    Renderer {
        /// Its source name.
        source: String,
        /// What it did.
        reason: String,
    },
    /// The stop flag was raised (SIGINT/SIGTERM) before the run was complete.
    Interrupted {
        /// Simulated seconds handed over by then.
        at_s: f64,
        /// The run's duration, s.
        duration: f64,
    },
}

impl<E: std::fmt::Display> std::fmt::Display for PlayError<E> {
    /// The sink's error as it says itself; the others in words.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlayError::Sink(e) => e.fmt(f),
            PlayError::Renderer { source, reason } => write!(f, "renderer {source}: {reason}"),
            PlayError::Interrupted { at_s, duration } => {
                write!(f, "interrupted at {at_s} s of {duration} s")
            }
        }
    }
}

impl<E: std::error::Error> std::error::Error for PlayError<E> {
    /// The sink error's own causes (its text is this error's): a full disk under a capture
    /// writer is said as "No space left on device", not only as the writer's summary.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlayError::Sink(e) => e.source(),
            PlayError::Renderer { .. } | PlayError::Interrupted { .. } => None,
        }
    }
}

/// A chunk in flight: raw bytes of stream `stream`, published at `publish_ns`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Chunk {
    stream: usize,
    publish_ns: u64,
    bytes: Vec<u8>,
}

/// Chunks in flight, earliest arrival first (ties: the order they were sent in).
type InFlight = BinaryHeap<Reverse<(u64, u64, Chunk)>>;

/// What is handed over next.
enum Due {
    Chunk(Chunk),
    Label(Label),
}

/// The schedule's labels, each built when its start comes rather than all held ahead
/// (the activities are drawn in start order); activities cut short by the end of the run
/// are labeled up to the end.
struct DueLabels {
    draw: ActivityDraw,
    /// The next activity, drawn and not yet handed over.
    next: Option<Scheduled>,
    duration: f64,
}

impl DueLabels {
    fn new(activities: &Activities, duration: f64) -> DueLabels {
        let mut draw = activities.draw();
        DueLabels {
            next: draw.next(),
            draw,
            duration,
        }
    }

    /// Arrival of the next label, ns (`None`: no activity starts before the end).
    fn next_ns(&self) -> Option<u64> {
        self.next
            .filter(|s| s.start < self.duration)
            .map(|s| nanos(s.start))
    }

    /// The next label (after [`next_ns`](Self::next_ns) said there is one).
    fn take(&mut self) -> Option<Label> {
        let item = self.next.take()?;
        self.next = self.draw.next();
        Some(Label {
            end: item.end.min(self.duration),
            ..item.label()
        })
    }
}

/// The next thing arriving by `limit_ns` and when: a label when it arrives no later than
/// the earliest chunk in flight (a label wins a tie), else that chunk.
fn next_due(queue: &mut InFlight, labels: &mut DueLabels, limit_ns: u64) -> Option<(u64, Due)> {
    let chunk_ns = queue.peek().map(|Reverse((log, _, _))| *log);
    match labels.next_ns() {
        Some(label_ns) if label_ns <= limit_ns && chunk_ns.is_none_or(|c| label_ns <= c) => {
            labels.take().map(|label| (label_ns, Due::Label(label)))
        }
        _ if chunk_ns.is_some_and(|c| c <= limit_ns) => queue
            .pop()
            .map(|Reverse((log_ns, _, chunk))| (log_ns, Due::Chunk(chunk))),
        _ => None,
    }
}

/// Plays `world` for `duration` s with `renderers` into `sink` (`seed` draws the delivery
/// delays), giving up with [`PlayError::Interrupted`] once `stop` is set (looked at every
/// simulated second); what is handed over does not depend on `stop`. Returns the arrival
/// of the last message or the duration, whichever is later, in gateway ns.
pub fn play<S: RunSink>(
    world: &World,
    renderers: &mut [Box<dyn DeviceRenderer>],
    duration: f64,
    seed: u64,
    stop: &AtomicBool,
    sink: &mut S,
) -> Result<u64, PlayError<S::Error>> {
    let streams: Vec<DeviceStream> = renderers.iter().map(|r| r.stream()).collect();
    let mut labels = DueLabels::new(world.activities(), duration);
    let mut queue = InFlight::new();
    let mut order = 0u64;
    let mut deliveries: Vec<Delivery> = streams
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Delivery::for_format(s.format, seeded(Stream::Device, seed, 1 << 32 | i as u64))
        })
        .collect();
    let mut out = Vec::new();
    let mut next_flush_ns = nanos(1.0);
    while let Some((index, t)) = earliest(renderers).filter(|&(_, t)| t < duration) {
        out.clear();
        renderers[index].render(world, t, &mut out);
        if renderers[index].next_due().partial_cmp(&t) != Some(std::cmp::Ordering::Greater) {
            return Err(PlayError::Renderer {
                source: streams[index].name.to_string(),
                reason: format!("next_due did not advance past {t} s"),
            });
        }
        if !out.is_empty() {
            let log_ns = deliveries[index].arrival_ns(t);
            let bytes = std::mem::take(&mut out);
            let chunk = Chunk {
                stream: index,
                publish_ns: nanos(t),
                bytes,
            };
            queue.push(Reverse((log_ns, order, chunk)));
            order += 1;
        }
        // Everything still to come arrives at or after `t`.
        while let Some((log_ns, due)) = next_due(&mut queue, &mut labels, nanos(t)) {
            if log_ns >= next_flush_ns {
                if stop.load(Ordering::Relaxed) {
                    return Err(PlayError::Interrupted {
                        at_s: (next_flush_ns / 1_000_000_000) as f64,
                        duration,
                    });
                }
                sink.next_second().map_err(PlayError::Sink)?;
                next_flush_ns = (log_ns / 1_000_000_000 + 1) * 1_000_000_000;
            }
            hand_over(sink, log_ns, due).map_err(PlayError::Sink)?;
        }
    }
    let mut end_ns = nanos(duration);
    while let Some((log_ns, due)) = next_due(&mut queue, &mut labels, u64::MAX) {
        end_ns = end_ns.max(log_ns);
        hand_over(sink, log_ns, due).map_err(PlayError::Sink)?;
    }
    Ok(end_ns)
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

fn hand_over<S: RunSink>(sink: &mut S, log_ns: u64, due: Due) -> Result<(), S::Error> {
    match due {
        Due::Chunk(chunk) => sink.chunk(chunk.stream, log_ns, chunk.publish_ns, &chunk.bytes),
        Due::Label(label) => sink.label(&label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut d = Delivery::for_format(DeviceFormat::Esp32Csi, seeded(Stream::Device, 0, 9));
        let mut last = 0;
        for i in 0..1000 {
            let t = i as f64 * 1e-4;
            let at = d.arrival_ns(t);
            assert!(at >= nanos(t + 0.001) && at >= last);
            last = at;
        }
    }
}
