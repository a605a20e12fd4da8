//! The simulated TI mmWave radar: the scene's scatterers at one instant become one OOB demo
//! data-port frame (SDK 3.x, TLVs 1 and 7, plus 2, 6 and 9 with the usual `guiMonitor`).
//!
//! Per frame, in order (each step's physics is stated in its module's documentation):
//! 1. `reflectors`: body and room statics, plus their multipath images, in the radar frame;
//! 2. [`physics`]: range, direction, radial velocity (v·r̂, + away), mean SNR from the radar
//!    equation (∝ A²/R⁴, 20–30 dB for a torso at 3 m), antenna pattern, clutter removal;
//! 3. `detect`: extended targets split over cells, parts in one range-Doppler-angle cell
//!    merged, Swerling-1 CFAR detection, reported points with range-growing position noise,
//!    Poisson clutter false alarms, cap at `max_points`;
//! 4. `housekeeping`: range profile, statistics, temperatures, CPU cycle counter.
//!
//! What the radar is ([`RadarConfig`]): an IWR6843 OOB setup by default; a user's `.cfg`
//! through [`RadarConfig::from_cfg`] (frame rate, resolutions, 2D IWR1642 or 3D IWR6843,
//! clutter removal), which `dagr sim --serve` applies at `sensorStart`.
//!
//! Randomness comes from a ChaCha8 stream chosen by (seed, frame number), so a frame depends
//! only on its inputs: the same seed always gives the same bytes, in any rendering order.
//!
//! Not modelled: the SDK 3.x quirk that sends an empty TLV 1 when nothing is detected (the
//! protocol crate's `Frame` writes no TLV 1 for zero points, which decoders read the same
//! way), peak grouping across neighbouring cells, multi-object beamforming thresholds,
//! tracking, and occlusion.
mod cfg;
mod config;
mod detect;
mod housekeeping;
pub mod physics;
mod reflectors;

use dagr_protocols::ti_mmwave::{Frame, Stats};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use cfg::{CfgError, PLATFORM_XWR16XX};
pub use config::{GuiMonitor, InvalidConfig, RadarConfig, PLATFORM_XWR68XX};

use super::scene::{Room, Scatterer};
use detect::{Detection, Return};

/// Renders frames of a simulated radar. Holds its configuration, its seed and scratch
/// buffers reused from frame to frame (rendering allocates only the frame itself).
#[derive(Debug, Clone)]
pub struct RadarRenderer {
    config: RadarConfig,
    seed: u64,
    extra_clutter: f64,
    reflectors: Vec<Scatterer>,
    returns: Vec<Return>,
    merged: Vec<Return>,
    detections: Vec<Detection>,
}

impl RadarRenderer {
    /// A renderer for `config`, drawing its randomness from `seed`.
    pub fn new(config: RadarConfig, seed: u64) -> Result<RadarRenderer, InvalidConfig> {
        config.validate()?;
        Ok(RadarRenderer {
            config,
            seed,
            extra_clutter: 0.0,
            reflectors: Vec::new(),
            returns: Vec::new(),
            merged: Vec::new(),
            detections: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RadarConfig {
        &self.config
    }

    /// The seed the frames' randomness is drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Adds `per_frame` mean false alarms per frame to the room's own (a noisy spell; 0 ends
    /// it; negative or NaN counts as 0).
    pub fn set_extra_clutter(&mut self, per_frame: f64) {
        self.extra_clutter = if per_frame > 0.0 { per_frame } else { 0.0 };
    }

    /// Time of frame `frame_number` after the first, s (frames come at `frame_rate_hz`).
    pub fn frame_time(&self, frame_number: u32) -> f64 {
        f64::from(frame_number) * self.config.frame_period_s()
    }

    /// The frame the radar sends for the scene at time `t` (s), given the body scatterers
    /// (room frame) at that instant.
    pub fn render_frame(
        &mut self,
        room: &Room,
        body: &[Scatterer],
        t: f64,
        frame_number: u32,
    ) -> Frame {
        let mut rng = self.frame_rng(frame_number);
        self.detect_points(room, body, &mut rng);
        let points = self.detections.iter().map(|d| d.point).collect();
        let mut frame = Frame::new(frame_number, points);
        frame.version = self.config.version;
        frame.platform = self.config.platform;
        frame.time_cpu_cycles = housekeeping::cpu_cycles(t);
        self.add_housekeeping(&mut frame, t, &mut rng);
        frame
    }

    /// [`render_frame`](Self::render_frame) encoded as the data-port bytes (header, TLVs,
    /// padding to 32 bytes).
    pub fn render_bytes(
        &mut self,
        room: &Room,
        body: &[Scatterer],
        t: f64,
        frame_number: u32,
    ) -> Result<Vec<u8>, dagr_protocols::Error> {
        self.render_frame(room, body, t, frame_number).encode()
    }

    fn frame_rng(&self, frame_number: u32) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(u64::from(frame_number));
        rng
    }

    /// Fills `self.detections` with this frame's points, strongest kept, range-ordered.
    fn detect_points(&mut self, room: &Room, body: &[Scatterer], rng: &mut ChaCha8Rng) {
        reflectors::gather(room, body, &mut self.reflectors);
        self.returns.clear();
        for reflector in &self.reflectors {
            detect::add_returns(&self.config, reflector, rng, &mut self.returns);
        }
        detect::merge_cells(&mut self.returns, &mut self.merged);
        self.detections.clear();
        detect::detect(&self.config, &self.merged, rng, &mut self.detections);
        detect::add_false_alarms(
            &self.config,
            room.clutter_per_frame + self.extra_clutter,
            rng,
            &mut self.detections,
        );
        detect::cap_and_order(&mut self.detections, self.config.max_points);
    }

    /// Adds the TLVs `guiMonitor` selects besides points and side info.
    fn add_housekeeping(&self, frame: &mut Frame, t: f64, rng: &mut ChaCha8Rng) {
        let gui = self.config.gui_monitor;
        if gui.range_profile {
            frame.range_profile =
                Some(housekeeping::range_profile(&self.config, &self.merged, rng));
        }
        if gui.stats {
            frame.temperature = Some(housekeeping::temperature(t));
            frame.stats = Some(Stats::default());
            let len = frame.buffer_len();
            frame.stats = Some(housekeeping::stats(&self.config, frame.points.len(), len));
        }
    }
}

#[cfg(test)]
mod tests;
