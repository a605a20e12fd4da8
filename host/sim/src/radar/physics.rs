//! The deterministic physics of one echo: where a reflector is as the radar sees it, how
//! strong its return is, and what clutter removal leaves of it.
//!
//! * Geometry (TI radar frame: y boresight, x right, z up): range R = |p|, direction cosines
//!   u = x/R (azimuth spatial frequency, = cos(el)·sin(az)) and w = z/R (= sin(el)); the
//!   radial velocity is v·p̂, positive when moving away (TI convention).
//! * Radar equation: received power ∝ σ / R⁴ with σ = amplitude², so the mean SNR is
//!   `SNR_ref + 20·log10(A) − 40·log10(R / R_ref) + G(az, el) − leakage(R)` dB.
//! * Antenna pattern G: a Gaussian beam, −3 dB at the configured one-way half-widths, applied
//!   for both the transmit and receive ways (so −6 dB two-way there).
//! * Noise: the thermal floor plus TX-to-RX leakage `L·exp(−R/scale)` near the radar, the
//!   shape the real device's TLV 7 `noise` shows (90 dB at 0.3 m falling to ~50 dB at 1 m).
//! * Clutter removal subtracts the mean over a frame's chirps. A reflector whose Doppler is a
//!   fraction f = v / Δv of a Doppler bin has slow-time mean sinc(f), so the power left is
//!   1 − sinc²(f); a perfectly static one keeps only `clutter_residual_db` (vibration, phase
//!   noise).
//!
//! Not modelled: range/Doppler sidelobes, near-field effects, polarisation, occlusion of one
//! body part by another, antenna coupling.
use super::config::RadarConfig;
use crate::geometry::Vec3;

/// One reflector (or part of one) as the radar sees it this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Echo {
    /// Position in the radar frame, m.
    pub pos: Vec3,
    /// Distance to the radar, m.
    pub range: f64,
    /// x / R.
    pub u: f64,
    /// z / R.
    pub w: f64,
    /// Radial velocity, m/s, positive away.
    pub radial_velocity: f64,
}

impl Echo {
    /// The echo of a reflector at `pos` moving with `vel`, both in the radar frame.
    pub fn new(pos: Vec3, vel: Vec3) -> Echo {
        let range = pos.norm();
        let dir = pos.unit();
        Echo {
            pos,
            range,
            u: dir.x,
            w: dir.z,
            radial_velocity: vel.dot(dir),
        }
    }

    /// Azimuth, radians from boresight, positive to the right.
    pub fn azimuth(&self) -> f64 {
        self.pos.x.atan2(self.pos.y)
    }

    /// Elevation, radians above the x-y plane.
    pub fn elevation(&self) -> f64 {
        if self.range > 0.0 {
            (self.pos.z / self.range).clamp(-1.0, 1.0).asin()
        } else {
            0.0
        }
    }
}

/// True when the echo lies in the searched range interval and the angle field of view.
pub(super) fn in_field_of_view(config: &RadarConfig, echo: &Echo) -> bool {
    let az = echo.azimuth().to_degrees().abs();
    let el = echo.elevation().to_degrees().abs();
    echo.range >= config.min_range_m
        && echo.range <= config.max_range_m
        && az <= config.fov_azimuth_deg
        && el <= config.fov_elevation_deg
}

/// Mean SNR of a reflector of `amplitude` at `range` (m), azimuth `az` and elevation `el`
/// (radians), dB, before clutter removal: the radar equation, the two-way antenna gain and
/// the near-range leakage.
pub fn mean_snr_db(config: &RadarConfig, amplitude: f64, range: f64, az: f64, el: f64) -> f64 {
    let r = range.max(1e-3);
    config.reference_snr_db + 20.0 * amplitude.max(1e-12).log10()
        - 40.0 * (r / config.reference_range_m).log10()
        + antenna_gain_db(config, az, el)
        - leakage_db(config, r)
}

/// Two-way antenna gain relative to boresight, dB (≤ 0).
pub fn antenna_gain_db(config: &RadarConfig, az: f64, el: f64) -> f64 {
    let a = az.to_degrees() / config.beam_azimuth_deg;
    let e = el.to_degrees() / config.beam_elevation_deg;
    -6.0 * (a * a + e * e)
}

/// Noise the device reports at `range`, dB: thermal floor plus near-range leakage.
pub(super) fn noise_db(config: &RadarConfig, range: f64) -> f64 {
    config.noise_floor_db + leakage_db(config, range)
}

/// TX-to-RX leakage above the thermal floor at `range`, dB.
fn leakage_db(config: &RadarConfig, range: f64) -> f64 {
    config.near_range_noise_db * (-range / config.near_range_scale_m).exp()
}

/// Fraction of a reflector's power clutter removal leaves, linear, for radial velocity `v`.
pub fn clutter_removal_gain(config: &RadarConfig, v: f64) -> f64 {
    let floor = db_to_linear(config.clutter_residual_db);
    if !config.clutter_removal {
        return 1.0;
    }
    let f = v / config.velocity_resolution_mps();
    let sinc = if f.abs() < 1e-9 {
        1.0
    } else {
        let x = std::f64::consts::PI * f;
        x.sin() / x
    };
    (1.0 - sinc * sinc).max(floor)
}

/// dB to a linear power ratio.
pub(super) fn db_to_linear(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// A linear power ratio to dB.
pub(super) fn linear_to_db(linear: f64) -> f64 {
    10.0 * linear.max(1e-30).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snr_falls_forty_db_per_decade_of_range() {
        let c = RadarConfig {
            near_range_noise_db: 0.0,
            ..RadarConfig::default()
        };
        let near = mean_snr_db(&c, 1.0, 2.0, 0.0, 0.0);
        let far = mean_snr_db(&c, 1.0, 4.0, 0.0, 0.0);
        assert!((near - far - 40.0 * 2f64.log10()).abs() < 1e-9);
        let decade = mean_snr_db(&c, 1.0, 0.5, 0.0, 0.0) - mean_snr_db(&c, 1.0, 5.0, 0.0, 0.0);
        assert!((decade - 40.0).abs() < 1e-9);
    }

    #[test]
    fn a_torso_at_three_metres_is_twenty_to_thirty_db_above_noise() {
        let snr = mean_snr_db(&RadarConfig::default(), 1.0, 3.0, 0.0, 0.0);
        assert!((20.0..=30.0).contains(&snr), "{snr}");
    }

    #[test]
    fn snr_grows_with_amplitude_squared() {
        let c = RadarConfig::default();
        let d = mean_snr_db(&c, 2.0, 3.0, 0.0, 0.0) - mean_snr_db(&c, 1.0, 3.0, 0.0, 0.0);
        assert!((d - 20.0 * 2f64.log10()).abs() < 1e-9);
    }

    #[test]
    fn gain_is_three_db_down_per_way_at_the_beam_half_width() {
        let c = RadarConfig::default();
        assert_eq!(antenna_gain_db(&c, 0.0, 0.0), 0.0);
        let edge = antenna_gain_db(&c, c.beam_azimuth_deg.to_radians(), 0.0);
        assert!((edge + 6.0).abs() < 1e-9);
    }

    #[test]
    fn radial_velocity_is_positive_moving_away() {
        let away = Echo::new(Vec3::new(0.0, 3.0, 0.0), Vec3::new(0.0, 1.0, 0.0));
        let toward = Echo::new(Vec3::new(1.0, 1.0, 0.0), Vec3::new(-1.0, -1.0, 0.0));
        let across = Echo::new(Vec3::new(0.0, 2.0, 0.0), Vec3::new(1.0, 0.0, 0.0));
        assert!((away.radial_velocity - 1.0).abs() < 1e-12);
        assert!((toward.radial_velocity + 2f64.sqrt()).abs() < 1e-12);
        assert!(across.radial_velocity.abs() < 1e-12);
    }

    #[test]
    fn clutter_removal_keeps_movers_and_suppresses_static_reflectors() {
        let on = RadarConfig::default();
        let dv = on.velocity_resolution_mps();
        assert!(
            (linear_to_db(clutter_removal_gain(&on, 0.0)) - on.clutter_residual_db).abs() < 1e-9
        );
        assert!(clutter_removal_gain(&on, dv) > 0.99);
        assert!(clutter_removal_gain(&on, 0.1 * dv) < 0.05);
        let off = RadarConfig {
            clutter_removal: false,
            ..on
        };
        assert_eq!(clutter_removal_gain(&off, 0.0), 1.0);
    }

    #[test]
    fn field_of_view_excludes_wide_angles_and_targets_behind() {
        let c = RadarConfig::default();
        let ahead = Echo::new(Vec3::new(0.5, 3.0, 0.2), Vec3::ZERO);
        let wide = Echo::new(Vec3::new(3.0, 1.0, 0.0), Vec3::ZERO);
        let behind = Echo::new(Vec3::new(0.0, -3.0, 0.0), Vec3::ZERO);
        let high = Echo::new(Vec3::new(0.0, 2.0, 1.5), Vec3::ZERO);
        assert!(in_field_of_view(&c, &ahead));
        assert!(!in_field_of_view(&c, &wide));
        assert!(!in_field_of_view(&c, &behind));
        assert!(!in_field_of_view(&c, &high));
    }
}
