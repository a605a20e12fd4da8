//! The detection chain: echoes become range-Doppler-angle cells, cells are detected against a
//! CFAR threshold, detections become reported points.
//!
//! * Extended targets: a reflector of amplitude A spans `e = target_extent_m·√A`; it is split
//!   into n = clamp(round(2e / Δr), 1, 8) parts drawn each frame around its centre (Gaussian,
//!   σ = e/2 per axis) sharing its power equally, with radial velocities spread by
//!   `micro_doppler_fraction·|v|` (a torso or limb is not rigid). That is why one torso yields
//!   several points. A reflector that fits in one range bin stays a rigid point.
//! * Cells: range bin round(R/Δr), Doppler bin round(v/Δv) wrapped into [−N/2, N/2) (speeds
//!   past the maximum alias), azimuth bin round(u / (2/N_az)), elevation bin round(w /
//!   (2/N_el)). Parts in one cell merge: their mean powers add (random phases) and the cell
//!   reports the strongest part's direction.
//! * With clutter removal the zero-Doppler bin is emptied: power left there by a slow mover
//!   is reported in the adjacent bin of its sign.
//! * Detection (Swerling 1): the measured cell SNR is the mean times an Exp(1) draw, detected
//!   when it reaches the threshold T, so P_d = exp(−T/SNR): strong cells almost always,
//!   weak ones sometimes.
//! * Reported point: range = bin · Δr (the device reports bin centres); the direction
//!   cosines get angle-estimation noise σ = (2/N) / √(2·SNR) and are quantised to the angle
//!   FFT's 2/N_fft grid; x = R·u, z = R·w, y = √(R² − x² − z²); v = Doppler bin · Δv. So the
//!   cross-range error grows with range and falls with SNR.
//! * False alarms: Poisson(mean) points per frame at uniform range and angle, SNR just above
//!   the threshold. Their Doppler bin is Laplacian with a scale of
//!   [`FALSE_ALARM_DOPPLER_SCALE_BINS`] (wrapped into the Doppler range): most are slow (fans,
//!   curtains, vibrating surfaces), some fast (noise spikes, sidelobes and multipath ghosts
//!   land in any Doppler bin), so the speed of a point alone does not say a person is there.
use dagr_protocols::ti_mmwave::Point;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Poisson, StandardNormal};

use super::config::RadarConfig;
use super::physics::{self, Echo};
use crate::geometry::Vec3;
use crate::scene::Scatterer;

/// Most parts one reflector is split into.
const MAX_PARTS: usize = 8;
/// Scale (mean |bin|) of a false alarm's Laplacian Doppler bin.
pub const FALSE_ALARM_DOPPLER_SCALE_BINS: f64 = 3.0;
/// Mean excess over the threshold of a false alarm's SNR, dB.
const FALSE_ALARM_MEAN_EXCESS_DB: f64 = 2.0;
/// Standard deviation of the reported noise level around its model, dB.
const NOISE_JITTER_DB: f64 = 0.5;

/// A range-Doppler-angle cell. Ordered by range first, as the device lists its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Cell {
    /// Range bin.
    pub range: u16,
    /// Doppler bin, signed.
    pub doppler: i16,
    /// Azimuth bin in sine space.
    pub azimuth: i16,
    /// Elevation bin in sine space.
    pub elevation: i16,
}

/// What one reflector part puts into one cell.
#[derive(Debug, Clone, Copy)]
pub(super) struct Return {
    /// Where it lands.
    pub cell: Cell,
    /// Mean SNR, linear, after the antenna pattern and clutter removal.
    pub snr: f64,
    /// The part itself.
    pub echo: Echo,
}

/// A detected cell, ready to be sent.
#[derive(Debug, Clone, Copy)]
pub(super) struct Detection {
    /// Its cell (orders the output).
    pub cell: Cell,
    /// Measured SNR, dB (decides which points survive the cap).
    pub snr_db: f64,
    /// The point as the device reports it.
    pub point: Point,
}

/// Appends the returns of one reflector given in the radar frame.
pub(super) fn add_returns(
    config: &RadarConfig,
    reflector: &Scatterer,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Return>,
) {
    let centre = Echo::new(reflector.pos, reflector.vel);
    let extent = config.target_extent_m * reflector.amplitude.abs().sqrt();
    let parts = parts_for(config, extent);
    let part_amplitude = reflector.amplitude / (parts as f64).sqrt();
    let velocity_spread = config.micro_doppler_fraction * centre.radial_velocity.abs();
    if parts == 1 {
        out.extend(return_of(config, centre, reflector.amplitude));
        return;
    }
    for _ in 0..parts {
        let mut echo = Echo::new(
            reflector.pos + gaussian_offset(rng, extent / 2.0),
            reflector.vel,
        );
        echo.radial_velocity = centre.radial_velocity + velocity_spread * normal(rng);
        out.extend(return_of(config, echo, part_amplitude));
    }
}

/// Number of parts a reflector of physical size `extent` is split into.
fn parts_for(config: &RadarConfig, extent: f64) -> usize {
    let n = (2.0 * extent / config.range_resolution_m).round();
    if n.is_finite() && n > 1.0 {
        (n as usize).min(MAX_PARTS)
    } else {
        1
    }
}

/// The return of one part, or `None` outside the field of view or the range bins.
fn return_of(config: &RadarConfig, echo: Echo, amplitude: f64) -> Option<Return> {
    if !physics::in_field_of_view(config, &echo) {
        return None;
    }
    let cell = cell_of(config, &echo)?;
    let mean_db = physics::mean_snr_db(
        config,
        amplitude,
        echo.range,
        echo.azimuth(),
        echo.elevation(),
    );
    let snr = physics::db_to_linear(mean_db)
        * physics::clutter_removal_gain(config, echo.radial_velocity);
    Some(Return { cell, snr, echo })
}

/// The cell an echo falls in.
fn cell_of(config: &RadarConfig, echo: &Echo) -> Option<Cell> {
    let range = (echo.range / config.range_resolution_m).round();
    if !(range >= 0.0 && range < f64::from(config.num_range_bins)) {
        return None;
    }
    let mut doppler = doppler_bin(config, echo.radial_velocity);
    if config.clutter_removal && doppler == 0 && echo.radial_velocity != 0.0 {
        doppler = if echo.radial_velocity > 0.0 { 1 } else { -1 };
    }
    Some(Cell {
        range: range as u16,
        doppler,
        azimuth: bin(echo.u, config.azimuth_resolution()),
        elevation: bin(echo.w, config.elevation_resolution()),
    })
}

/// Doppler bin of radial velocity `v`, wrapped into [−N/2, N/2) (aliasing).
pub(super) fn doppler_bin(config: &RadarConfig, v: f64) -> i16 {
    let n = i64::from(config.num_doppler_bins);
    let raw = (v / config.velocity_resolution_mps()).round();
    let raw = if raw.is_finite() { raw as i64 } else { 0 };
    let wrapped = (raw + n / 2).rem_euclid(n) - n / 2;
    i16::try_from(wrapped).unwrap_or(0)
}

/// Index of `value` on a grid of step `step`.
fn bin(value: f64, step: f64) -> i16 {
    let b = (value / step).round();
    if b.is_finite() {
        b as i16
    } else {
        0
    }
}

/// Merges returns sharing a cell into `merged` (sorted by cell): powers add, the strongest
/// part's echo stays.
pub(super) fn merge_cells(returns: &mut [Return], merged: &mut Vec<Return>) {
    returns.sort_unstable_by(|a, b| a.cell.cmp(&b.cell).then(b.snr.total_cmp(&a.snr)));
    merged.clear();
    for r in returns.iter() {
        match merged.last_mut() {
            Some(last) if last.cell == r.cell => last.snr += r.snr,
            _ => merged.push(*r),
        }
    }
}

/// Applies the CFAR test to every merged cell and appends the detections.
pub(super) fn detect(
    config: &RadarConfig,
    merged: &[Return],
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Detection>,
) {
    let threshold = config.detection_threshold_db;
    for cell in merged {
        let fading: f64 = Exp1.sample(rng);
        let snr_db = physics::linear_to_db(cell.snr * fading);
        if snr_db >= threshold {
            out.push(detection(config, cell.cell, &cell.echo, snr_db, rng));
        }
    }
}

/// The point the device reports for a detected cell.
fn detection(
    config: &RadarConfig,
    cell: Cell,
    echo: &Echo,
    snr_db: f64,
    rng: &mut ChaCha8Rng,
) -> Detection {
    let range = f64::from(cell.range) * config.range_resolution_m;
    let snr = physics::db_to_linear(snr_db);
    let grid = 2.0 / f64::from(config.angle_fft_size);
    let u = estimate_sine(echo.u, config.azimuth_resolution(), snr, grid, rng);
    // A 2D radar (one elevation antenna) cannot measure elevation and reports z = 0.
    let w = if config.elevation_antennas > 1 {
        estimate_sine(echo.w, config.elevation_resolution(), snr, grid, rng)
    } else {
        0.0
    };
    // `+ 0.0` turns −0.0 into 0.0, as the device never reports negative zero.
    let (x, z) = (range * u + 0.0, range * w + 0.0);
    let y = (range * range - x * x - z * z).max(0.0).sqrt();
    let noise_db = physics::noise_db(config, echo.range) + NOISE_JITTER_DB * normal(rng);
    let point = Point {
        x: x as f32,
        y: y as f32,
        z: z as f32,
        v: (f64::from(cell.doppler) * config.velocity_resolution_mps()) as f32,
        snr: Some(tenths_of_db(snr_db)),
        noise: Some(tenths_of_db(noise_db)),
        bins: None,
    };
    Detection {
        cell,
        snr_db,
        point,
    }
}

/// A direction cosine as the angle FFT estimates it: true value plus noise of the
/// resolution over √(2·SNR), on the FFT grid, within [−1, 1].
fn estimate_sine(truth: f64, resolution: f64, snr: f64, grid: f64, rng: &mut ChaCha8Rng) -> f64 {
    let sigma = resolution / (2.0 * snr.max(1.0)).sqrt();
    let noisy = truth + sigma * normal(rng);
    ((noisy / grid).round() * grid).clamp(-1.0, 1.0)
}

/// Appends Poisson(`mean`) clutter false alarms.
pub(super) fn add_false_alarms(
    config: &RadarConfig,
    mean: f64,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Detection>,
) {
    let count = match Poisson::new(mean) {
        Ok(p) => p.sample(rng) as u32,
        Err(_) => 0,
    };
    for _ in 0..count {
        let range = rng.random_range(config.min_range_m..=config.max_range_m);
        let az = rng.random_range(-config.fov_azimuth_deg..=config.fov_azimuth_deg);
        let el = rng.random_range(-config.fov_elevation_deg..=config.fov_elevation_deg);
        let (az, el) = (az.to_radians(), el.to_radians());
        let pos = Vec3::new(el.cos() * az.sin(), el.cos() * az.cos(), el.sin()) * range;
        let velocity = false_alarm_doppler(config, rng) as f64 * config.velocity_resolution_mps();
        let echo = Echo::new(pos, pos.unit() * velocity);
        let excess: f64 = Exp1.sample(rng);
        let snr_db = config.detection_threshold_db + FALSE_ALARM_MEAN_EXCESS_DB * excess;
        if let Some(cell) = cell_of(config, &echo) {
            out.push(detection(config, cell, &echo, snr_db, rng));
        }
    }
}

/// A Laplacian Doppler bin within the Doppler range; never zero when clutter removal
/// empties that bin.
fn false_alarm_doppler(config: &RadarConfig, rng: &mut ChaCha8Rng) -> i16 {
    let magnitude: f64 = Exp1.sample(rng);
    let signed = if rng.random_bool(0.5) {
        magnitude
    } else {
        -magnitude
    };
    let half = f64::from(config.num_doppler_bins / 2);
    let bin = (signed * FALSE_ALARM_DOPPLER_SCALE_BINS)
        .round()
        .clamp(-half, half - 1.0) as i16;
    if bin == 0 && config.clutter_removal {
        if rng.random_bool(0.5) {
            1
        } else {
            -1
        }
    } else {
        bin
    }
}

/// Keeps the `max` strongest detections, then orders them by cell (range first).
pub(super) fn cap_and_order(detections: &mut Vec<Detection>, max: usize) {
    if detections.len() > max {
        detections.sort_unstable_by(|a, b| b.snr_db.total_cmp(&a.snr_db));
        detections.truncate(max);
    }
    detections.sort_by_key(|d| d.cell);
}

/// dB as TLV 7's i16 in 0.1 dB, saturating.
fn tenths_of_db(db: f64) -> i16 {
    (db * 10.0)
        .round()
        .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn gaussian_offset(rng: &mut ChaCha8Rng, sigma: f64) -> Vec3 {
    Vec3::new(normal(rng), normal(rng), normal(rng)) * sigma
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doppler_bins_alias_past_the_maximum_velocity() {
        let c = RadarConfig::default();
        let dv = c.velocity_resolution_mps();
        assert_eq!(doppler_bin(&c, 0.0), 0);
        assert_eq!(doppler_bin(&c, 3.0 * dv), 3);
        assert_eq!(doppler_bin(&c, -3.0 * dv), -3);
        // 2·vmax + 1 bin wraps back to +1 bin.
        assert_eq!(doppler_bin(&c, 2.0 * c.max_velocity_mps + dv), 1);
        assert_eq!(doppler_bin(&c, c.max_velocity_mps), -32);
        assert_eq!(doppler_bin(&c, f64::NAN), 0);
    }

    #[test]
    fn false_alarm_speeds_spread_beyond_a_slow_mover() {
        use rand::SeedableRng;
        let c = RadarConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut out = Vec::new();
        add_false_alarms(&c, 3000.0, &mut rng, &mut out);
        let share = |keep: &dyn Fn(f32) -> bool| {
            out.iter().filter(|d| keep(d.point.v.abs())).count() as f64 / out.len() as f64
        };
        let fast = share(&|v| v > 0.5);
        let slow = share(&|v| v < 0.45);
        assert!((0.1..0.4).contains(&fast), "{fast} faster than 0.5 m/s");
        assert!(slow > 0.5, "{slow} slower than 0.45 m/s");
        assert!(
            out.iter().any(|d| d.point.v.abs() > 1.5),
            "a few much faster"
        );
        assert!(out
            .iter()
            .all(|d| d.point.v.abs() <= c.max_velocity_mps as f32 + 1e-3));
    }

    #[test]
    fn tenths_of_db_saturate() {
        assert_eq!(tenths_of_db(24.74), 247);
        assert_eq!(tenths_of_db(1e9), i16::MAX);
        assert_eq!(tenths_of_db(-1e9), i16::MIN);
    }

    #[test]
    fn parts_grow_with_reflector_size() {
        let c = RadarConfig::default();
        assert_eq!(parts_for(&c, 0.0), 1);
        assert_eq!(parts_for(&c, 0.12), 5);
        assert_eq!(parts_for(&c, 10.0), MAX_PARTS);
        assert_eq!(parts_for(&c, f64::NAN), 1);
    }
}
