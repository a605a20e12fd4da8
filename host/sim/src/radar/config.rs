//! What the simulated radar is configured to be: the chirp/frame parameters a `.cfg` file
//! would set on the device, the detection chain's thresholds, and which TLVs it sends.
use std::fmt;

use dagr_protocols::ti_mmwave::DEFAULT_VERSION;

/// `platform` of an IWR6843 (AOP): the device with both azimuth and elevation.
pub const PLATFORM_XWR68XX: u32 = 0xA6843;

/// Which optional TLVs the device sends, as `guiMonitor` selects them.
///
/// Points (TLV 1) and side info (TLV 7) are always sent (`detectedObjects = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuiMonitor {
    /// `logMagRange = 1`: TLV 2, the log-magnitude range profile at zero Doppler.
    pub range_profile: bool,
    /// `statsInfo = 1`: TLV 6 processing statistics and TLV 9 temperatures.
    pub stats: bool,
}

impl Default for GuiMonitor {
    /// `guiMonitor -1 1 1 0 0 0 1`, the usual OOB setting (TLVs 1, 7, 2, 6, 9 per frame, as
    /// in the real recordings).
    fn default() -> Self {
        GuiMonitor {
            range_profile: true,
            stats: true,
        }
    }
}

/// The simulated radar's parameters. Defaults describe an IWR6843AOP running the SDK 3.4 OOB
/// demo with a short-range indoor configuration at 20 frames/s.
#[derive(Debug, Clone, PartialEq)]
pub struct RadarConfig {
    /// Frames per second (`frameCfg` periodicity = 1000 / rate ms).
    pub frame_rate_hz: f64,
    /// Metres per range bin: c / (2 · bandwidth).
    pub range_resolution_m: f64,
    /// Range FFT size (TLV 2 length).
    pub num_range_bins: u16,
    /// Nearest range searched for detections (`cfarFovCfg` range minimum), m.
    pub min_range_m: f64,
    /// Farthest range searched for detections (`cfarFovCfg` range maximum), m.
    pub max_range_m: f64,
    /// Largest |azimuth| reported (`aoaFovCfg`), degrees.
    pub fov_azimuth_deg: f64,
    /// Largest |elevation| reported (`aoaFovCfg`), degrees.
    pub fov_elevation_deg: f64,
    /// One-way 3 dB half-width of the antenna pattern in azimuth, degrees.
    pub beam_azimuth_deg: f64,
    /// One-way 3 dB half-width of the antenna pattern in elevation, degrees.
    pub beam_elevation_deg: f64,
    /// Virtual antennas along the azimuth axis (angular resolution 2/N in sine space).
    pub azimuth_antennas: u16,
    /// Virtual antennas along the elevation axis (1: a 2D radar such as the IWR1642, which
    /// reports every point at z = 0).
    pub elevation_antennas: u16,
    /// Angle FFT size (reported sines are quantised to 2/N).
    pub angle_fft_size: u16,
    /// Largest unambiguous |radial velocity|, m/s (λ / (4 · chirp repetition time)).
    pub max_velocity_mps: f64,
    /// Doppler FFT size (chirp loops per frame).
    pub num_doppler_bins: u16,
    /// Mean SNR of a reflector of amplitude 1 on boresight at `reference_range_m`, dB.
    pub reference_snr_db: f64,
    /// Range at which `reference_snr_db` holds, m.
    pub reference_range_m: f64,
    /// Thermal noise level the device reports far from the radar (TLV 7 `noise`), dB.
    pub noise_floor_db: f64,
    /// Extra noise at zero range from TX-to-RX leakage, dB; it decays as exp(-R / scale).
    pub near_range_noise_db: f64,
    /// Decay length of the near-range leakage, m.
    pub near_range_scale_m: f64,
    /// CFAR threshold: a cell is detected when its measured SNR reaches this, dB.
    pub detection_threshold_db: f64,
    /// `clutterRemoval` enabled: the mean over the chirps of a frame is subtracted.
    pub clutter_removal: bool,
    /// Power left of a perfectly static reflector after clutter removal (vibration and phase
    /// noise), dB (negative).
    pub clutter_residual_db: f64,
    /// Physical size of a reflector of amplitude 1, m; a reflector of amplitude A spans
    /// `target_extent_m · √A` and returns from that many range bins (0 = point targets).
    pub target_extent_m: f64,
    /// Spread of radial velocity across one reflector's extent, as a fraction of its speed
    /// (micro-Doppler of a limb or torso that is not rigid).
    pub micro_doppler_fraction: f64,
    /// Most points sent per frame; the strongest are kept.
    pub max_points: usize,
    /// Header `version`.
    pub version: u32,
    /// Header `platform`.
    pub platform: u32,
    /// Optional TLVs.
    pub gui_monitor: GuiMonitor,
}

impl Default for RadarConfig {
    fn default() -> Self {
        RadarConfig {
            frame_rate_hz: 20.0,
            range_resolution_m: 0.044,
            num_range_bins: 256,
            min_range_m: 0.25,
            max_range_m: 9.0,
            fov_azimuth_deg: 60.0,
            fov_elevation_deg: 20.0,
            beam_azimuth_deg: 50.0,
            beam_elevation_deg: 30.0,
            azimuth_antennas: 4,
            elevation_antennas: 3,
            angle_fft_size: 64,
            max_velocity_mps: 4.5,
            num_doppler_bins: 64,
            reference_snr_db: 30.0,
            reference_range_m: 3.0,
            noise_floor_db: 45.0,
            near_range_noise_db: 90.0,
            near_range_scale_m: 0.45,
            detection_threshold_db: 13.0,
            clutter_removal: true,
            clutter_residual_db: -30.0,
            target_extent_m: 0.12,
            micro_doppler_fraction: 0.15,
            max_points: 64,
            version: DEFAULT_VERSION,
            platform: PLATFORM_XWR68XX,
            gui_monitor: GuiMonitor::default(),
        }
    }
}

/// A configuration field outside the range the renderer can work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidConfig {
    /// The `RadarConfig` field.
    pub field: &'static str,
    /// What it must be.
    pub expected: &'static str,
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "radar config `{}`: expected {}",
            self.field, self.expected
        )
    }
}

impl std::error::Error for InvalidConfig {}

impl RadarConfig {
    /// Checks every field the arithmetic divides by or bins with.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let positive = [
            ("frame_rate_hz", self.frame_rate_hz),
            ("range_resolution_m", self.range_resolution_m),
            ("max_velocity_mps", self.max_velocity_mps),
            ("reference_range_m", self.reference_range_m),
            ("near_range_scale_m", self.near_range_scale_m),
            ("beam_azimuth_deg", self.beam_azimuth_deg),
            ("beam_elevation_deg", self.beam_elevation_deg),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(invalid(field, "a finite number > 0"));
            }
        }
        let counts = [
            ("num_range_bins", self.num_range_bins),
            ("num_doppler_bins", self.num_doppler_bins),
            ("azimuth_antennas", self.azimuth_antennas),
            ("angle_fft_size", self.angle_fft_size),
        ];
        for (field, value) in counts {
            if value < 2 {
                return Err(invalid(field, "at least 2"));
            }
        }
        if self.elevation_antennas < 1 {
            return Err(invalid(
                "elevation_antennas",
                "at least 1 (1: no elevation, 2D)",
            ));
        }
        if !(self.min_range_m >= 0.0 && self.max_range_m > self.min_range_m) {
            return Err(invalid("max_range_m", "greater than min_range_m >= 0"));
        }
        let fov = 0.0..=90.0;
        if !fov.contains(&self.fov_azimuth_deg) || !fov.contains(&self.fov_elevation_deg) {
            return Err(invalid(
                "fov_azimuth_deg/fov_elevation_deg",
                "0 to 90 degrees",
            ));
        }
        if !(self.target_extent_m >= 0.0 && self.micro_doppler_fraction >= 0.0) {
            return Err(invalid(
                "target_extent_m/micro_doppler_fraction",
                "values >= 0",
            ));
        }
        Ok(())
    }

    /// m/s per Doppler bin: 2 · max velocity / bins.
    pub fn velocity_resolution_mps(&self) -> f64 {
        2.0 * self.max_velocity_mps / f64::from(self.num_doppler_bins)
    }

    /// Seconds between frames.
    pub fn frame_period_s(&self) -> f64 {
        1.0 / self.frame_rate_hz
    }

    /// Azimuth resolution in sine space (2 / virtual antennas along azimuth).
    pub(super) fn azimuth_resolution(&self) -> f64 {
        2.0 / f64::from(self.azimuth_antennas)
    }

    /// Elevation resolution in sine space.
    pub(super) fn elevation_resolution(&self) -> f64 {
        2.0 / f64::from(self.elevation_antennas)
    }
}

fn invalid(field: &'static str, expected: &'static str) -> InvalidConfig {
    InvalidConfig { field, expected }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_matches_the_oob_setting() {
        let c = RadarConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.frame_rate_hz, 20.0);
        assert!((c.velocity_resolution_mps() - 0.140625).abs() < 1e-12);
    }

    #[test]
    fn zero_doppler_bins_is_rejected_by_name() {
        let c = RadarConfig {
            num_doppler_bins: 0,
            ..RadarConfig::default()
        };
        let err = c.validate().unwrap_err();
        assert_eq!(err.field, "num_doppler_bins");
        assert!(err.to_string().contains("at least 2"));
    }
}
