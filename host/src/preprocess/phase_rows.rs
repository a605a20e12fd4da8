//! The WiFi phase rows' two per-window loops, unwrapping along time and turning about the
//! circular mean, four values at a time where the processor has AVX2 and FMA.
//!
//! Both loops are chains of [`wrap_pi`], which branches on the value's size; written
//! plainly the compiler keeps them scalar, and they were about a third of the WiFi
//! tensor's time in a replay. The four-lane forms compute both sides of every branch and
//! select (the remainder only when a lane needs it), with the same operations on each
//! value as [`wrap_pi`] (the remainder by one fused multiply-add, as its scalar
//! `mul_add`), so they give the same bits; values
//! `wrap_pi` hands to `fmod` (NaN, magnitudes of `2^40` and more) are left to it. The
//! processor is asked once per call; without AVX2 and FMA (or off x86-64) the scalar
//! forms run.
use super::grid::wrap_pi;

/// Unwraps every column of `values` (rows of `width` values, time along rows) along time.
///
/// Each column is its own chain (a value depends on the previous one of its column), so
/// the columns are walked side by side, a row at a time, in groups of [`COLUMN_GROUP`]:
/// the processor overlaps the independent chains instead of waiting on one. Every column
/// sees the same operations in the same order as walking it alone.
pub(super) fn unwrap_columns(values: &mut [f32], width: usize) {
    if width == 0 || values.len() < 2 * width {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if lanes::available() {
        return lanes::unwrap_columns(values, width);
    }
    scalar::unwrap_columns(values, width)
}

/// Turns each row of `rows` (rows of `steps` values) by minus `means[r]`, wraps it to ±π
/// and divides it by `scale`.
pub(super) fn turn_rows(rows: &mut [f32], steps: usize, means: &[f64], scale: f32) {
    #[cfg(target_arch = "x86_64")]
    if lanes::available() {
        return lanes::turn_rows(rows, steps, means, scale);
    }
    scalar::turn_rows(rows, steps, means, scale)
}

/// Columns unwrapped side by side (at least a link's 30 subcarriers).
const COLUMN_GROUP: usize = 32;

/// The plain forms, for every processor; the lane forms must equal them bit for bit.
mod scalar {
    use super::{wrap_pi, COLUMN_GROUP};

    /// [`super::unwrap_columns`] a value at a time.
    pub(super) fn unwrap_columns(values: &mut [f32], width: usize) {
        let mut first = 0;
        while first < width {
            let group = (width - first).min(COLUMN_GROUP);
            let mut level = [0.0f64; COLUMN_GROUP];
            for (l, &v) in level.iter_mut().zip(&values[first..first + group]) {
                *l = f64::from(v);
            }
            for row in values.chunks_exact_mut(width).skip(1) {
                for (l, now) in level.iter_mut().zip(&mut row[first..first + group]) {
                    *now = step(l, *now);
                }
            }
            first += group;
        }
    }

    /// One unwrap step of a column: moves `level` by the wrapped difference between `now`
    /// and the previous sample as stored (the level rounded to f32); returns the new level
    /// as stored.
    pub(super) fn step(level: &mut f64, now: f32) -> f32 {
        let wrapped_prev = wrap_pi(f64::from(*level as f32));
        *level += wrap_pi(f64::from(now) - wrapped_prev);
        *level as f32
    }

    /// [`super::turn_rows`] a value at a time.
    pub(super) fn turn_rows(rows: &mut [f32], steps: usize, means: &[f64], scale: f32) {
        for (row, &mean) in rows.chunks_exact_mut(steps).zip(means) {
            row.iter_mut().for_each(|x| *x = turn(*x, mean, scale));
        }
    }

    /// One value turned by minus `mean`, wrapped and scaled.
    pub(super) fn turn(x: f32, mean: f64, scale: f32) -> f32 {
        wrap_pi(f64::from(x) - mean) as f32 / scale
    }
}

/// The four-lane forms (AVX2 and FMA, x86-64).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // the intrinsics' loads and stores, and calls behind the run-time check
mod lanes {
    use super::{scalar, COLUMN_GROUP};
    use std::arch::x86_64::*;
    use std::f64::consts::{PI, TAU};

    /// True when this processor runs the four-lane forms (the answer is cached by std).
    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// [`super::unwrap_columns`] four columns at a time; the caller checked [`available`].
    pub(super) fn unwrap_columns(values: &mut [f32], width: usize) {
        // SAFETY: `available()` said the processor has AVX2 and FMA.
        unsafe { unwrap_columns_avx2(values, width) }
    }

    /// [`super::turn_rows`] four values at a time; the caller checked [`available`].
    pub(super) fn turn_rows(rows: &mut [f32], steps: usize, means: &[f64], scale: f32) {
        // SAFETY: `available()` said the processor has AVX2 and FMA.
        unsafe { turn_rows_avx2(rows, steps, means, scale) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn unwrap_columns_avx2(values: &mut [f32], width: usize) {
        let mut first = 0;
        while first < width {
            let group = (width - first).min(COLUMN_GROUP);
            let full = group - group % 4;
            let mut level = [0.0f64; COLUMN_GROUP];
            for (l, &v) in level.iter_mut().zip(&values[first..first + group]) {
                *l = f64::from(v);
            }
            for row in values.chunks_exact_mut(width).skip(1) {
                let row = &mut row[first..first + group];
                for (l, now) in level[..full]
                    .chunks_exact_mut(4)
                    .zip(row.chunks_exact_mut(4))
                {
                    step4(l, now);
                }
                for (l, now) in level[full..group].iter_mut().zip(&mut row[full..]) {
                    *now = scalar::step(l, *now);
                }
            }
            first += group;
        }
    }

    /// [`scalar::step`] on four columns: `level` and `now` hold four values each.
    #[target_feature(enable = "avx2,fma")]
    fn step4(level: &mut [f64], now: &mut [f32]) {
        assert!(level.len() == 4 && now.len() == 4);
        // SAFETY: both slices hold four values (asserted); unaligned loads and stores.
        unsafe {
            let l = _mm256_loadu_pd(level.as_ptr());
            let stored_prev = _mm256_cvtps_pd(_mm256_cvtpd_ps(l));
            let now_v = _mm256_cvtps_pd(_mm_loadu_ps(now.as_ptr()));
            let Some(wrapped_prev) = wrap_pi4(stored_prev) else {
                return step4_scalar(level, now);
            };
            let Some(turn) = wrap_pi4(_mm256_sub_pd(now_v, wrapped_prev)) else {
                return step4_scalar(level, now);
            };
            let l = _mm256_add_pd(l, turn);
            _mm256_storeu_pd(level.as_mut_ptr(), l);
            _mm_storeu_ps(now.as_mut_ptr(), _mm256_cvtpd_ps(l));
        }
    }

    /// Four columns' step by the scalar form (a value `wrap_pi` leaves to `fmod`).
    fn step4_scalar(level: &mut [f64], now: &mut [f32]) {
        for (l, n) in level.iter_mut().zip(now) {
            *n = scalar::step(l, *n);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn turn_rows_avx2(rows: &mut [f32], steps: usize, means: &[f64], scale: f32) {
        let scale4 = _mm_set1_ps(scale);
        for (row, &mean) in rows.chunks_exact_mut(steps).zip(means) {
            let mean4 = _mm256_set1_pd(mean);
            let full = steps - steps % 4;
            for x in row[..full].chunks_exact_mut(4) {
                // SAFETY: the chunk holds four values; unaligned loads and stores.
                unsafe {
                    let v = _mm256_cvtps_pd(_mm_loadu_ps(x.as_ptr()));
                    match wrap_pi4(_mm256_sub_pd(v, mean4)) {
                        Some(w) => {
                            _mm_storeu_ps(x.as_mut_ptr(), _mm_div_ps(_mm256_cvtpd_ps(w), scale4))
                        }
                        None => x
                            .iter_mut()
                            .for_each(|x| *x = scalar::turn(*x, mean, scale)),
                    }
                }
            }
            for x in &mut row[full..] {
                *x = scalar::turn(*x, mean, scale);
            }
        }
    }

    /// [`super::wrap_pi`] on four lanes, or `None` when a lane is NaN or at least `2^40`
    /// in size (where `wrap_pi` calls `fmod`).
    ///
    /// Most values an unwrap or a turn meets are below TAU in size, where the remainder is
    /// the value itself: then the remainder's dozen dependent operations are skipped,
    /// which shortens each column's chain of unwraps by a factor of about four.
    #[target_feature(enable = "avx2,fma")]
    fn wrap_pi4(x: __m256d) -> Option<__m256d> {
        let tau = _mm256_set1_pd(TAU);
        let magnitude = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
        let small = _mm256_cmp_pd::<_CMP_LT_OQ>(magnitude, tau);
        let r = if _mm256_movemask_pd(small) == 0b1111 {
            x
        } else {
            _mm256_blendv_pd(rem_tau4(x, magnitude)?, x, small)
        };
        // Into (-π, π].
        let negative = _mm256_cmp_pd::<_CMP_LT_OQ>(r, _mm256_setzero_pd());
        let y = _mm256_blendv_pd(r, _mm256_add_pd(r, tau), negative);
        let past_pi = _mm256_cmp_pd::<_CMP_GT_OQ>(y, _mm256_set1_pd(PI));
        Some(_mm256_blendv_pd(y, _mm256_sub_pd(y, tau), past_pi))
    }

    /// `rem_tau` (`x % TAU`) on four lanes, given `|x|`, or `None` when a lane is NaN or
    /// at least `2^40` in size: the truncated quotient by the rounded reciprocal, one off
    /// at most, corrected by the remainder's sign or size.
    #[target_feature(enable = "avx2,fma")]
    fn rem_tau4(x: __m256d, magnitude: __m256d) -> Option<__m256d> {
        let left_to_fmod = _mm256_or_pd(
            _mm256_cmp_pd::<_CMP_UNORD_Q>(x, x),
            _mm256_cmp_pd::<_CMP_GE_OQ>(magnitude, _mm256_set1_pd((1u64 << 40) as f64)),
        );
        if _mm256_movemask_pd(left_to_fmod) != 0 {
            return None;
        }
        let (tau, one) = (_mm256_set1_pd(TAU), _mm256_set1_pd(1.0));
        let n = _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(_mm256_mul_pd(
            magnitude,
            _mm256_set1_pd(1.0 / TAU),
        ));
        let r = _mm256_fnmadd_pd(n, tau, magnitude);
        let below = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(r, _mm256_setzero_pd()), one);
        let above = _mm256_and_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(r, tau), one);
        let n = _mm256_add_pd(_mm256_sub_pd(n, below), above);
        let r = _mm256_fnmadd_pd(n, tau, magnitude);
        // The sign of `x`, as `copysign` gives it (also on a zero remainder).
        let sign = _mm256_set1_pd(-0.0);
        Some(_mm256_or_pd(
            _mm256_andnot_pd(sign, r),
            _mm256_and_pd(sign, x),
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Whether this processor runs the lane forms; says so on stderr when not.
        fn lanes_here() -> bool {
            let here = available();
            if !here {
                eprintln!("no AVX2 and FMA here: the scalar forms are the only ones");
            }
            here
        }

        fn bits(v: &[f32]) -> Vec<u32> {
            v.iter().map(|x| x.to_bits()).collect()
        }

        /// Values an unwrap or a turn meets, and the edges of every branch of `wrap_pi`:
        /// multiples of TAU and π and their neighbours, zeros of both signs, large
        /// magnitudes, the `fmod` side (NaN, infinities, beyond `2^40`).
        fn awkward_values() -> Vec<f32> {
            let mut v = vec![
                0.0,
                -0.0,
                f32::NAN,
                f32::INFINITY,
                -f32::INFINITY,
                2e12,
                -3e12,
            ];
            for k in -40..=40 {
                for base in [k as f64 * TAU, k as f64 * PI] {
                    let b = base as f32;
                    v.extend([b, b.next_up(), b.next_down(), -b]);
                }
            }
            let mut state = 0x2545_f491_4f6c_dd1du64;
            for _ in 0..4000 {
                let state = super::super::super::grid::xorshift(&mut state);
                let unit = (state >> 40) as f32 / (1u64 << 24) as f32;
                v.push((unit - 0.5) * [7.0, 60.0, 4000.0][(state % 3) as usize]);
            }
            v
        }

        /// `wrap_pi4` on `lanes`, lane by lane as `wrap_pi` would give it (`fmod` lanes
        /// through the scalar form, as the loops do).
        fn wrap_pi4_lanes(lanes: [f64; 4]) -> [f64; 4] {
            // SAFETY: the caller checked `available()`; four values in and out.
            unsafe {
                let x = _mm256_loadu_pd(lanes.as_ptr());
                let Some(w) = wrap_pi4(x) else {
                    return lanes.map(super::super::wrap_pi);
                };
                let mut out = [0.0; 4];
                _mm256_storeu_pd(out.as_mut_ptr(), w);
                out
            }
        }

        #[test]
        fn four_lane_wrap_equals_the_scalar_one_on_the_remainders_edges() {
            if !lanes_here() {
                return;
            }
            // Multiples of TAU and their neighbours, where the rounded quotient is one off,
            // beside values below TAU (the fast lanes) and of either sign.
            let mut checked = 0;
            for k in 0..20_000 {
                let m = f64::from(k) * TAU;
                for x in [m, m.next_up(), m.next_down(), m + 1e-9, m - 1e-9] {
                    for lanes in [[x, -x, 0.5, -3.0], [x, x, x, x], [-x, 1.0, x, -0.0]] {
                        let want = lanes.map(super::super::wrap_pi);
                        let got = wrap_pi4_lanes(lanes);
                        assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{lanes:?}");
                        checked += 1;
                    }
                }
            }
            assert_eq!(checked, 300_000);
        }

        #[test]
        fn four_lane_unwrap_equals_the_scalar_one_bit_for_bit() {
            if !lanes_here() {
                return;
            }
            let values = awkward_values();
            // 30 columns (a link), 70 (more than one group, a remainder), 3 (no lane).
            for width in [30, 70, 3] {
                let rows = values.len() / width;
                let mut lanes_out = values[..rows * width].to_vec();
                let mut scalar_out = lanes_out.clone();
                unwrap_columns(&mut lanes_out, width);
                scalar::unwrap_columns(&mut scalar_out, width);
                assert_eq!(bits(&lanes_out), bits(&scalar_out), "width {width}");
            }
        }

        #[test]
        fn four_lane_turn_equals_the_scalar_one_bit_for_bit() {
            if !lanes_here() {
                return;
            }
            let values = awkward_values();
            for steps in [200, 7, 3] {
                let rows = values.len() / steps;
                let means: Vec<f64> = (0..rows).map(|r| (r as f64 * 0.77).sin() * PI).collect();
                let mut lanes_out = values[..rows * steps].to_vec();
                let mut scalar_out = lanes_out.clone();
                turn_rows(&mut lanes_out, steps, &means, 0.7);
                scalar::turn_rows(&mut scalar_out, steps, &means, 0.7);
                assert_eq!(bits(&lanes_out), bits(&scalar_out), "steps {steps}");
            }
        }
    }
}
