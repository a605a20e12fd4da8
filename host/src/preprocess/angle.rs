//! The argument of a complex number for the WiFi phase differences, `atan2(im, re)` of
//! `f32`s evaluated in `f64` (a polynomial on `0..=1` after folding the octants): the
//! correctly rounded angle for all but a few inputs in 10^6, the same bits on every
//! platform (only IEEE `f64` arithmetic; glibc 2.36's `atan2f` is one ulp off on a sixth of
//! CSI angles, and other C libraries differ from it), in a fraction of libm's time (its
//! `atan2f` was 5 % of a replay).
use std::f64::consts::{FRAC_PI_2, PI};

/// `atan(z) / z ≈ P(z²)` for `0 ≤ z ≤ 1`, lowest power first: a Chebyshev fit of degree
/// 15 in `z²`, `|z·P(z²) − atan z| < 2e-13`.
const ATAN_OVER_Z: [f64; 16] = [
    0.999999999999968,
    -0.3333333333162417,
    0.19999999847012132,
    -0.14285708848380918,
    0.11111009104871523,
    -0.09089743773836463,
    0.07683484245168787,
    -0.06619878260295294,
    0.057018296447046354,
    -0.04741854154042068,
    0.03608872440066232,
    -0.023501115455417852,
    0.012140598921826912,
    -0.004547274377446073,
    0.0010801013478505999,
    -0.00012091617593512883,
];

/// `y.atan2(x)` for finite `y`, `x`, signed zeros included (`atan2(±0, −0) = ±π`).
#[inline]
pub(crate) fn atan2(y: f32, x: f32) -> f32 {
    let (ay, ax) = (f64::from(y).abs(), f64::from(x).abs());
    let steep = ay > ax;
    let (num, den) = if steep { (ax, ay) } else { (ay, ax) };
    // Both zero: z = 0, and the signs below give libm's answer.
    let z = num / den.max(f64::MIN_POSITIVE);
    let t = z * z;
    let p = z * ATAN_OVER_Z.iter().rev().fold(0.0, |acc, &c| acc * t + c);
    let r = if steep { FRAC_PI_2 - p } else { p };
    let r = if x.is_sign_negative() { PI - r } else { r };
    r.copysign(f64::from(y)) as f32
}

/// `x.hypot(y)` for finite `f32`s, as libm's `hypotf` computes it (in `f64`).
#[inline]
pub(crate) fn hypot(x: f32, y: f32) -> f32 {
    let (x, y) = (f64::from(x), f64::from(y));
    (x * x + y * y).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phase-difference products of CSI samples (`b · conj(a)`, parts in -128..=127).
    fn products() -> impl Iterator<Item = (f32, f32)> {
        let mut state = 7u64;
        std::iter::repeat_with(move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let part = |k: u32| ((state >> (16 + 8 * k)) & 0xff) as u8 as i8 as f32;
            let (ar, ai, br, bi) = (part(0), part(1), part(2), part(3));
            (br * ar + bi * ai, bi * ar - br * ai)
        })
        .take(1_000_000)
    }

    #[test]
    fn atan2_is_the_correctly_rounded_angle_and_within_one_ulp_of_libm() {
        let mut rounded_otherwise = 0;
        for (re, im) in products() {
            let ours = atan2(im, re);
            let exact = f64::from(im).atan2(f64::from(re)) as f32;
            rounded_otherwise += usize::from(ours != exact);
            let libm = im.atan2(re);
            let ulps = (ours.to_bits() as i64 - libm.to_bits() as i64).abs();
            assert!(ulps <= 1, "atan2({im}, {re}): {ours} against libm's {libm}");
        }
        assert!(
            rounded_otherwise <= 10,
            "{rounded_otherwise} in 10^6 not correctly rounded"
        );
    }

    #[test]
    fn atan2_gives_libms_signed_zeros_axes_and_diagonals() {
        let cases = [
            (0.0f32, 0.0f32),
            (0.0, -0.0),
            (-0.0, 0.0),
            (-0.0, -0.0),
            (1.0, 0.0),
            (1.0, -0.0),
            (-1.0, 0.0),
            (0.0, -1.0),
            (-0.0, -1.0),
            (0.0, 5.0),
            (3.0, 3.0),
            (-3.0, 3.0),
            (3.0, -3.0),
            (-3.0, -3.0),
        ];
        for (y, x) in cases {
            assert_eq!(
                atan2(y, x).to_bits(),
                y.atan2(x).to_bits(),
                "atan2({y}, {x})"
            );
        }
    }

    #[test]
    fn hypot_is_libms_bit_for_bit() {
        for (re, im) in products() {
            assert_eq!(hypot(re, im).to_bits(), re.hypot(im).to_bits(), "{re} {im}");
        }
    }
}
