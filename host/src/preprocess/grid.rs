//! The uniform time grid every modality is resampled onto, and the two signal helpers the
//! per-modality modules share: linear resampling of irregular series and phase unwrapping.
use std::f64::consts::{PI, TAU};

/// Times of `steps` uniform grid points over a window of `window_s` seconds, relative to
/// its start: the centre of each of `steps` equal cells, `(k + 0.5) · window_s / steps`.
pub fn grid_times(window_s: f64, steps: usize) -> Vec<f64> {
    let mut grid = Vec::with_capacity(steps);
    grid_times_into(window_s, steps, &mut grid);
    grid
}

/// [`grid_times`] into a caller's buffer (replacing its content), so a preprocessor can
/// keep one grid per modality without allocating per window.
pub fn grid_times_into(window_s: f64, steps: usize, grid: &mut Vec<f64>) {
    grid.clear();
    grid.extend((0..steps).map(|k| (k as f64 + 0.5) * window_s / steps as f64));
}

/// An irregularly sampled vector series: `times[i]` (s, non-decreasing) holds the
/// `width` values `values[i * width..(i + 1) * width]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Sample times, s from the window's start, non-decreasing.
    pub times: Vec<f64>,
    /// Row-major samples, `width` values each.
    pub values: Vec<f32>,
}

impl Series {
    /// Appends one sample (`row.len()` must be the series' width).
    pub fn push(&mut self, t: f64, row: &[f32]) {
        self.times.push(t);
        self.values.extend_from_slice(row);
    }

    /// Forgets every sample and keeps the buffers' capacity (reuse between windows).
    pub fn clear(&mut self) {
        self.times.clear();
        self.values.clear();
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when the series holds no sample.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Resamples onto `grid` by linear interpolation between the neighbouring samples (the
    /// last at or before a grid point and the first after it; holding the first/last
    /// sample before/after them) and writes value `j` at grid point
    /// `k` to `out[j * grid.len() + k]`: a `[width, steps]` block, time along rows. Leaves
    /// `out` untouched when the series is empty.
    pub fn resample_into(&self, grid: &[f64], out: &mut [f32]) {
        let n = self.len();
        if n == 0 {
            return;
        }
        let width = self.values.len() / n;
        let row = |i: usize| &self.values[i * width..(i + 1) * width];
        // The first sample after grid point `g`: the grid rises, so it only moves forward
        // (from the start again should a grid point come before the previous one).
        let mut after = 0;
        let mut previous = f64::NEG_INFINITY;
        for (k, &g) in grid.iter().enumerate() {
            if g < previous {
                after = 0;
            }
            previous = g;
            while after < n && self.times[after] <= g {
                after += 1;
            }
            let (a, b, w) = match after {
                0 => (0, 0, 0.0),
                i if i == n => (n - 1, n - 1, 0.0),
                i => {
                    let (t0, t1) = (self.times[i - 1], self.times[i]);
                    let w = if t1 > t0 { (g - t0) / (t1 - t0) } else { 0.0 };
                    (i - 1, i, w as f32)
                }
            };
            for (j, (&va, &vb)) in row(a).iter().zip(row(b)).enumerate() {
                out[j * grid.len() + k] = va + (vb - va) * w;
            }
        }
    }
}

/// `x` wrapped into `(-π, π]`.
pub fn wrap_pi(x: f64) -> f64 {
    // `x.rem_euclid(TAU)` spelled out, skipping the `fmod` call where `x % TAU` is `x`
    // itself (|x| < TAU) and computing it without `fmod` elsewhere ([`rem_tau`]), so the
    // result is bit for bit the same and a window's unwrap is several times cheaper.
    let r = if x.abs() < TAU { x } else { rem_tau(x) };
    let y = if r < 0.0 { r + TAU } else { r };
    if y > PI {
        y - TAU
    } else {
        y
    }
}

/// `x % TAU` (truncated remainder, the sign of `x`), bit for bit, without the software
/// `fmod` (a loop over the exponent difference, the unwrap's largest cost after `atan2`).
///
/// The remainder `x - n·TAU` (`n` the truncated quotient) is always representable, so one
/// fused multiply-add with the right `n` gives it exactly. The quotient estimated with the
/// rounded reciprocal can be one off when `x / TAU` is close to an integer; the remainder then falls
/// outside `[0, TAU)` (or `(-TAU, 0]`), with its sign or size kept by the rounding, and
/// the neighbouring `n` is taken. Outside `|x| < 2^40` (never in a phase unwrap) and for
/// NaN and infinities, `%` itself.
fn rem_tau(x: f64) -> f64 {
    const LIMIT: f64 = (1u64 << 40) as f64;
    if x.is_nan() || x.abs() >= LIMIT {
        return x % TAU;
    }
    let magnitude = x.abs();
    // The reciprocal's rounding moves the quotient by far less than one below the limit.
    let mut n = (magnitude * (1.0 / TAU)).trunc();
    let mut r = (-n).mul_add(TAU, magnitude);
    if r < 0.0 {
        n -= 1.0;
        r = (-n).mul_add(TAU, magnitude);
    } else if r >= TAU {
        n += 1.0;
        r = (-n).mul_add(TAU, magnitude);
    }
    // An exact multiple: `fmod` keeps the sign of `x` on the zero (`-0.0` for negative x),
    // which the signed copy below does too.
    r.copysign(x)
}

/// Unwraps `phases` (rad) in place: each step is replaced by its wrapped difference from the
/// previous sample, so jumps of more than π become the smaller turn the other way.
pub fn unwrap(phases: &mut [f64]) {
    let mut offset = 0.0;
    for i in 1..phases.len() {
        let raw_prev = phases[i - 1] - offset;
        let step = wrap_pi(phases[i] - raw_prev);
        let unwrapped = phases[i - 1] + step;
        offset = unwrapped - phases[i];
        phases[i] = unwrapped;
    }
}

/// The next state of a 64-bit xorshift: the tests' fixed-seed stream of awkward values.
#[cfg(test)]
pub(super) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_sit_at_cell_centres() {
        assert_eq!(grid_times(2.0, 4), vec![0.25, 0.75, 1.25, 1.75]);
    }

    #[test]
    fn resampling_interpolates_between_samples_and_holds_the_ends() {
        let mut s = Series::default();
        s.push(0.5, &[0.0, 10.0]);
        s.push(1.5, &[1.0, 20.0]);
        let grid = [0.0, 0.5, 1.0, 1.25, 2.0];
        let mut out = [f32::NAN; 10];
        s.resample_into(&grid, &mut out);
        assert_eq!(&out[..5], &[0.0, 0.0, 0.5, 0.75, 1.0]);
        assert_eq!(&out[5..], &[10.0, 10.0, 15.0, 17.5, 20.0]);
    }

    #[test]
    fn resampling_finds_the_same_neighbours_as_a_search_on_any_grid() {
        let mut s = Series::default();
        for (t, v) in [(0.1, 1.0), (0.1, 2.0), (0.4, 3.0), (0.4, 5.0), (0.9, -1.0)] {
            s.push(t, &[v]);
        }
        // Rising with repeats and sample times hit exactly, then falling back.
        let grid = [0.0, 0.1, 0.1, 0.25, 0.4, 0.6, 0.9, 1.2, 0.3, 0.1, 0.5];
        let mut out = [f32::NAN; 11];
        s.resample_into(&grid, &mut out);
        let searched: Vec<f32> = grid
            .iter()
            .map(|&g| {
                let after = s.times.partition_point(|&t| t <= g);
                match after {
                    0 => s.values[0],
                    5 => s.values[4],
                    i => {
                        let (t0, t1) = (s.times[i - 1], s.times[i]);
                        let w = if t1 > t0 { (g - t0) / (t1 - t0) } else { 0.0 };
                        let (a, b) = (s.values[i - 1], s.values[i]);
                        a + (b - a) * w as f32
                    }
                }
            })
            .collect();
        assert_eq!(out.to_vec(), searched);
        assert_eq!(out[2], 2.0, "at a repeated sample time: the last of them");
    }

    #[test]
    fn an_empty_series_leaves_the_output_alone() {
        let mut out = [7.0f32; 3];
        Series::default().resample_into(&[0.0, 1.0, 2.0], &mut out);
        assert_eq!(out, [7.0; 3]);
    }

    #[test]
    fn unwrapping_recovers_a_ramp_through_many_turns() {
        let truth: Vec<f64> = (0..100).map(|i| 0.3 * i as f64).collect();
        let mut wrapped: Vec<f64> = truth.iter().map(|p| p.rem_euclid(TAU)).collect();
        unwrap(&mut wrapped);
        let first = wrapped[0] - truth[0];
        for (u, t) in wrapped.iter().zip(&truth) {
            assert!((u - t - first).abs() < 1e-9, "{u} vs {t}");
        }
        let mut falling: Vec<f64> = truth.iter().map(|p| (-p).rem_euclid(TAU)).collect();
        unwrap(&mut falling);
        assert!((falling[99] - falling[0] + 0.3 * 99.0).abs() < 1e-9);
    }

    #[test]
    fn wrap_pi_equals_the_rem_euclid_definition_bit_for_bit() {
        let reference = |x: f64| {
            let y = x.rem_euclid(TAU);
            if y > PI {
                y - TAU
            } else {
                y
            }
        };
        let mut x = -40.0;
        while x < 40.0 {
            for v in [x, TAU, -TAU, PI, -PI, 0.0, -0.0, TAU - 1e-15, -TAU + 1e-15] {
                assert_eq!(wrap_pi(v).to_bits(), reference(v).to_bits(), "{v}");
            }
            x += 0.0137;
        }
        assert!(wrap_pi(f64::NAN).is_nan() && wrap_pi(f64::INFINITY).is_nan());
    }

    #[test]
    fn rem_tau_equals_fmod_bit_for_bit() {
        let mut checked = 0;
        let mut check = |x: f64| {
            assert_eq!(rem_tau(x).to_bits(), (x % TAU).to_bits(), "{x:e}");
            checked += 1;
        };
        // Multiples of TAU and their neighbours (where the rounded quotient can be one
        // off), zeros, the limit and beyond, non-finite values.
        for k in 0..5000 {
            let m = f64::from(k) * TAU;
            for x in [m, m.next_up(), m.next_down(), m + 1e-9, m - 1e-9] {
                check(x);
                check(-x);
            }
        }
        let limit = (1u64 << 40) as f64;
        for x in [
            0.0,
            -0.0,
            limit,
            limit.next_down(),
            1e300,
            f64::INFINITY,
            f64::NAN,
        ] {
            if !x.is_nan() {
                check(x);
                check(-x);
            }
        }
        assert!(rem_tau(f64::NAN).is_nan());
        // Pseudo-random values over many magnitudes (an xorshift, fixed seed).
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            let state = xorshift(&mut state);
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            let exponent = (state % 48) as i32 - 8;
            let x = mantissa * 2f64.powi(exponent);
            check(if state & 1 == 0 { x } else { -x });
        }
        assert!(checked > 250_000);
    }

    #[test]
    fn wrap_pi_lands_in_the_half_open_interval() {
        assert!((wrap_pi(3.0 * PI) - PI).abs() < 1e-12);
        assert!((wrap_pi(-PI) - PI).abs() < 1e-12);
        assert!((wrap_pi(0.5) - 0.5).abs() < 1e-12);
    }
}
