//! A simulated run written as a capture: the `dagr-sim` twin's loop ([`dagr_sim::run::play`])
//! handed to a [`CaptureWriter`], with the run's room, subject and seed as metadata and each
//! device's status at its start and end. Same world, renderers, duration and seed:
//! byte-identical file (the loop's module doc says what the times in it mean).
//!
//! The gateway's only door to the simulator's capture path, behind the `sim` cargo feature:
//! this module must not know the physics (that is `dagr-sim`), only captures and formats.
//!
//! # Memory
//! The capture is written as the world plays: a chunk leaves memory every simulated second,
//! and the world draws its plan as it plays. What grows with the run is the MCAP summary's
//! index (one entry per chunk written, written at the end).
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use dagr_sim::run::{play, DeviceFormat, DeviceRenderer, DeviceStream, PlayError, RunSink};
use dagr_sim::scene::Scene;
use dagr_sim::world::World;

use crate::capture::{CaptureError, CaptureWriter, Label, StreamInfo};
pub use crate::capture::{META_ROOM, META_SEED, META_SUBJECT};
use crate::events::{SourceState, SourceStatus};
use crate::format::Format;

pub use dagr_sim::run::SIM_EPOCH_UNIX_NS;

/// `dagr` metadata key of the radar `.cfg` text a simulated radar ran (`dagr sim
/// --radar-cfg`); absent when it ran the default configuration.
pub const META_RADAR_CFG: &str = "sim_radar_cfg";

/// Why a simulation could not be written: the capture writer refused (a full disk), a
/// renderer broke its contract, or a signal stopped the run.
pub type SimError = PlayError<CaptureError>;

impl From<CaptureError> for SimError {
    fn from(e: CaptureError) -> Self {
        PlayError::Sink(e)
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

/// The capture channel of a simulated device: its name, its format in the gateway's format
/// table, its `sim://` URI.
pub fn stream_info(stream: &DeviceStream) -> StreamInfo {
    let format = match stream.format {
        DeviceFormat::TiMmwave => Format::TiMmwave,
        DeviceFormat::Esp32Csi => Format::Esp32Csi,
        DeviceFormat::Intel5300 => Format::Intel5300,
        DeviceFormat::Llrp => Format::Llrp,
    };
    StreamInfo {
        name: stream.name.clone(),
        format,
        uri: stream.uri.clone(),
    }
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
        BTreeMap::new(),
    )
}

/// [`write_capture`] that gives up with [`SimError::Interrupted`] once `stop` is set
/// (looked at every simulated second), so `dagr sim` can end on a signal and remove its
/// unfinished file, and records `notes` beside the room, subject and seed (e.g.
/// [`META_RADAR_CFG`]). The bytes written do not depend on `stop`.
pub fn write_capture_until(
    path: &Path,
    world: &World,
    renderers: &mut [Box<dyn DeviceRenderer>],
    duration: f64,
    seed: u64,
    stop: &AtomicBool,
    notes: BTreeMap<String, String>,
) -> Result<SimSummary, SimError> {
    let mut writer = CaptureWriter::create(path, SIM_EPOCH_UNIX_NS)?.without_age_flush();
    let mut metadata = sim_metadata(world, seed);
    metadata.extend(notes);
    writer.write_metadata(metadata)?;
    let streams: Vec<StreamInfo> = renderers.iter().map(|r| stream_info(&r.stream())).collect();
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
    let mut sink = CaptureSink {
        writer,
        streams: &streams,
        summary: SimSummary {
            streams: streams.iter().map(|s| (s.name.to_string(), 0, 0)).collect(),
            labels: 0,
        },
    };
    let end_ns = play(world, renderers, duration, seed, stop, &mut sink)?;
    let CaptureSink {
        mut writer,
        summary,
        ..
    } = sink;
    for stream in &streams {
        writer.write_status(&status(&stream.name, end_ns, SourceState::Finished))?;
    }
    writer.finish()?;
    Ok(summary)
}

/// What a simulated capture records about its own making (room, subject, seed), so a
/// dataset export can group windows by domain.
fn sim_metadata(world: &World, seed: u64) -> BTreeMap<String, String> {
    BTreeMap::from([
        (META_ROOM.to_string(), world.room().id.to_string()),
        (META_SUBJECT.to_string(), world.subject().id.to_string()),
        (META_SEED.to_string(), seed.to_string()),
    ])
}

/// The played-out run into the capture, counted per stream.
struct CaptureSink<'a> {
    writer: CaptureWriter,
    streams: &'a [StreamInfo],
    summary: SimSummary,
}

impl RunSink for CaptureSink<'_> {
    type Error = CaptureError;

    fn next_second(&mut self) -> Result<(), CaptureError> {
        self.writer.flush()
    }

    fn chunk(
        &mut self,
        stream: usize,
        log_ns: u64,
        publish_ns: u64,
        bytes: &[u8],
    ) -> Result<(), CaptureError> {
        self.writer
            .write_chunk(&self.streams[stream].name, log_ns, publish_ns, bytes)?;
        self.summary.streams[stream].1 += 1;
        self.summary.streams[stream].2 += bytes.len() as u64;
        Ok(())
    }

    fn label(&mut self, label: &Label) -> Result<(), CaptureError> {
        self.summary.labels += 1;
        self.writer.write_label(label)
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

    use dagr_sim::body::Subject;
    use dagr_sim::scenario::Schedule;
    use dagr_sim::Room;

    #[test]
    fn the_twin_counts_nanoseconds_as_captures_do() {
        for s in [
            -1.0,
            0.0,
            1e-9,
            0.4e-9,
            1.5,
            123.456_789_012,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert_eq!(dagr_sim::run::nanos(s), crate::capture::nanos(s), "{s}");
        }
    }

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
        fn stream(&self) -> DeviceStream {
            DeviceStream {
                name: self.name.into(),
                format: DeviceFormat::Llrp,
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
        let written = write_capture_until(
            &dir.join("a.mcap"),
            &world,
            &mut renderers,
            4.0,
            0,
            &stop,
            BTreeMap::new(),
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let err = written.unwrap_err().to_string();
        assert_eq!(err, "interrupted at 1 s of 4 s");
    }
}
