//! The radio channel from a WiFi transmitter to one receive antenna: its propagation paths
//! and their frequency response over the 64 subcarriers of a 20 MHz channel.
//!
//! Each path is a delayed, scaled copy of the transmitted signal, so per subcarrier
//!
//! ```text
//! H(f_k) = Σ_p a_p · exp(−j 2π f_k τ_p),   τ_p = L_p / c,   f_k = f_c + k · 312.5 kHz
//! ```
//!
//! with `a_p` a field-amplitude ratio (so `|H|²` is the power gain) and `L_p` the path length:
//! * line of sight, Friis: `a = λ / (4π d)`;
//! * wall, floor and ceiling: first-order image sources (the transmitter mirrored in each of
//!   the six planes of the box room), `a = Γ · λ / (4π d_image)` with `Γ = −room.multipath`
//!   (the sign is the π phase flip of a dielectric reflection), and second-order ones (each
//!   image mirrored again in the five other planes, `a = Γ² · λ / (4π d)`): their 5–20 m
//!   excess lengths are what makes an indoor channel frequency-selective across 20 MHz;
//! * point scatterer (room statics and the body), bistatic radar equation in amplitude:
//!   `a = σ · λ / ((4π)^{3/2} · d1 · d2)`, `σ` = [`Scatterer::amplitude`] (√RCS, m),
//!   `d1` = TX→scatterer, `d2` = scatterer→RX, each leg at least [`MIN_LEG_M`].
//!
//! Body shadowing ([`shadow`]): the line of sight, the first-order wall paths and the static
//! scatterers' paths lose `BODY_LOSS_DB · σ` dB of field when a body part is near one of
//! their legs, `σ = max over parts of min(A, 1) · exp(−(δ / r)²)`, `δ` the part's distance to
//! the leg, `A` its amplitude, and `r` the radius of the first Fresnel zone at that point of
//! the leg, `r = √(λ · d₁ · d₂ / (d₁ + d₂))` (`d₁`, `d₂` the distances along the leg to its
//! ends; at least [`MIN_SHADOW_RADIUS_M`]): the zone that carries most of the path's energy,
//! 0.3–0.5 m wide in the middle of a room-sized link at 2.4 GHz, narrow near the antennas. A
//! torso squarely on the line of sight blocks about 10 dB (measured human-body losses at
//! 2.4 GHz are 5–15 dB), a hand a fifth of that.
//!
//! λ is taken at the carrier for the amplitudes (the 20 MHz band is <1 % of `f_c`).
//! Not modelled: antenna patterns and polarisation, third and higher-order reflections,
//! wall–body paths, shadowing of second-order paths, Doppler within one packet (~100 µs),
//! motion of statics.
use std::ops::{Add, AddAssign, Mul, Sub};

use super::subcarriers::{bin_of_subcarrier, BINS, SPACING_HZ};
use crate::{Room, Scatterer, Vec3, C};

/// Shortest leg of a scattered path, m: closer than this the far-field formula would let a
/// scatterer touching an antenna dominate without bound.
pub const MIN_LEG_M: f64 = 0.2;

/// A complex number, for channel coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Complex {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Complex {
    /// 0.
    pub const ZERO: Complex = Complex { re: 0.0, im: 0.0 };

    /// From real and imaginary parts.
    pub const fn new(re: f64, im: f64) -> Self {
        Complex { re, im }
    }

    /// `r · exp(j θ)`.
    pub fn from_polar(r: f64, theta: f64) -> Self {
        let (s, c) = theta.sin_cos();
        Complex::new(r * c, r * s)
    }

    /// Complex conjugate.
    pub fn conj(self) -> Self {
        Complex::new(self.re, -self.im)
    }

    /// `|z|²`.
    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }

    /// `|z|`.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// Phase, radians in (−π, π].
    pub fn arg(self) -> f64 {
        self.im.atan2(self.re)
    }

    /// `k · z` for real `k`.
    pub fn scale(self, k: f64) -> Self {
        Complex::new(self.re * k, self.im * k)
    }
}

impl Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl AddAssign for Complex {
    fn add_assign(&mut self, o: Complex) {
        *self = *self + o;
    }
}

impl Sub for Complex {
    type Output = Complex;
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

/// One propagation path: how much of the field arrives and how late.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Path {
    /// Field amplitude ratio (signed: a reflection may flip the phase).
    pub amplitude: f64,
    /// Propagation delay, s.
    pub delay_s: f64,
}

impl Path {
    /// A path of `length_m` metres.
    fn of_length(amplitude: f64, length_m: f64) -> Path {
        Path {
            amplitude,
            delay_s: length_m / C,
        }
    }
}

/// A channel estimate over the 64 bins, in ESP32 buffer order (see [`super::subcarriers`]).
pub type Response = [Complex; BINS];

/// The direct path from `tx` to `rx` (Friis).
pub fn line_of_sight(tx: Vec3, rx: Vec3, wavelength_m: f64) -> Path {
    let d = tx.distance(rx).max(MIN_LEG_M);
    Path::of_length(wavelength_m / (4.0 * std::f64::consts::PI * d), d)
}

/// The path `tx` → `scatterer` → `rx` (bistatic radar equation, amplitude form).
pub fn scattered(tx: Vec3, rx: Vec3, scatterer: &Scatterer, wavelength_m: f64) -> Path {
    let d1 = tx.distance(scatterer.pos).max(MIN_LEG_M);
    let d2 = scatterer.pos.distance(rx).max(MIN_LEG_M);
    let four_pi = 4.0 * std::f64::consts::PI;
    let amplitude = scatterer.amplitude * wavelength_m / (four_pi.powf(1.5) * d1 * d2);
    Path::of_length(amplitude, d1 + d2)
}

/// The transmitter mirrored in each of the six planes of a room spanning `[0, size]`.
fn images(size: Vec3, tx: Vec3) -> [Vec3; 6] {
    [
        Vec3::new(-tx.x, tx.y, tx.z),
        Vec3::new(2.0 * size.x - tx.x, tx.y, tx.z),
        Vec3::new(tx.x, -tx.y, tx.z),
        Vec3::new(tx.x, 2.0 * size.y - tx.y, tx.z),
        Vec3::new(tx.x, tx.y, -tx.z),
        Vec3::new(tx.x, tx.y, 2.0 * size.z - tx.z),
    ]
}

/// Appends the first-order reflections off the four walls, the floor and the ceiling
/// (none when `room.multipath` is 0).
pub fn wall_reflections(room: &Room, tx: Vec3, rx: Vec3, wavelength_m: f64, out: &mut Vec<Path>) {
    if room.multipath == 0.0 {
        return;
    }
    for image in images(room.size, tx) {
        let d = image.distance(rx).max(MIN_LEG_M);
        let amplitude = -room.multipath * wavelength_m / (4.0 * std::f64::consts::PI * d);
        out.push(Path::of_length(amplitude, d));
    }
}

/// Appends the second-order wall reflections: each first-order image mirrored in the five
/// other planes (none when `room.multipath` is 0).
pub fn second_order_reflections(
    room: &Room,
    tx: Vec3,
    rx: Vec3,
    wavelength_m: f64,
    out: &mut Vec<Path>,
) {
    if room.multipath == 0.0 {
        return;
    }
    let gamma2 = room.multipath * room.multipath;
    for (i, first) in images(room.size, tx).into_iter().enumerate() {
        for (j, image) in images(room.size, first).into_iter().enumerate() {
            if i != j {
                let d = image.distance(rx).max(MIN_LEG_M);
                let amplitude = gamma2 * wavelength_m / (4.0 * std::f64::consts::PI * d);
                out.push(Path::of_length(amplitude, d));
            }
        }
    }
}

/// Appends every path that does not depend on the person: line of sight, walls (first and
/// second order), statics.
pub fn static_paths(room: &Room, tx: Vec3, rx: Vec3, wavelength_m: f64, out: &mut Vec<Path>) {
    let mut shadowable = Vec::new();
    shadowable_paths(room, tx, rx, wavelength_m, &mut shadowable);
    out.extend(shadowable.iter().map(|s| s.path));
    second_order_reflections(room, tx, rx, wavelength_m, out);
}

/// One-way field loss of a path squarely blocked by a torso, dB.
pub const BODY_LOSS_DB: f64 = 10.0;
/// Smallest shadow radius, m (near an antenna the Fresnel zone shrinks to nothing, a body
/// part does not).
pub const MIN_SHADOW_RADIUS_M: f64 = 0.1;

/// A static path with the straight legs it travels (for body shadowing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShadowablePath {
    /// The path.
    pub path: Path,
    /// Its legs as (from, to) points; only the first `legs` are used.
    pub ends: [(Vec3, Vec3); 2],
    /// Number of legs (1 or 2).
    pub legs: usize,
    /// Wavelength, m (sets the Fresnel zone).
    pub wavelength_m: f64,
}

/// Appends the paths a body can stand in: line of sight, first-order walls (legs through
/// the reflection point) and statics (legs through the scatterer).
pub fn shadowable_paths(
    room: &Room,
    tx: Vec3,
    rx: Vec3,
    wavelength_m: f64,
    out: &mut Vec<ShadowablePath>,
) {
    out.push(ShadowablePath {
        path: line_of_sight(tx, rx, wavelength_m),
        ends: [(tx, rx); 2],
        legs: 1,
        wavelength_m,
    });
    let mut walls = Vec::new();
    wall_reflections(room, tx, rx, wavelength_m, &mut walls);
    for (i, (path, image)) in walls.into_iter().zip(images(room.size, tx)).enumerate() {
        let bounce = reflection_point(room.size, i, image, rx);
        out.push(ShadowablePath {
            path,
            ends: [(tx, bounce), (bounce, rx)],
            legs: 2,
            wavelength_m,
        });
    }
    for s in &room.statics {
        out.push(ShadowablePath {
            path: scattered(tx, rx, s, wavelength_m),
            ends: [(tx, s.pos), (s.pos, rx)],
            legs: 2,
            wavelength_m,
        });
    }
}

/// Where the line from `image` (mirrored in plane `plane` of [`images`]) to `rx` meets
/// that plane.
fn reflection_point(size: Vec3, plane: usize, image: Vec3, rx: Vec3) -> Vec3 {
    let axis = plane / 2;
    let wall = if plane % 2 == 0 {
        0.0
    } else {
        [size.x, size.y, size.z][axis]
    };
    let coord = |v: Vec3| [v.x, v.y, v.z][axis];
    let span = coord(rx) - coord(image);
    let t = if span.abs() > 1e-12 {
        ((wall - coord(image)) / span).clamp(0.0, 1.0)
    } else {
        0.0
    };
    image + (rx - image) * t
}

/// How much of `path` the `body` blocks, 0..=1 (see the [module doc](self)).
pub fn shadow(path: &ShadowablePath, body: &[Scatterer]) -> f64 {
    let mut strongest: f64 = 0.0;
    for &(a, b) in &path.ends[..path.legs] {
        let ab = b - a;
        let len2 = ab.dot(ab);
        let length = len2.sqrt();
        // Widest the zone gets (its middle): parts beyond three of it cast nothing.
        let widest = (path.wavelength_m * length / 4.0)
            .sqrt()
            .max(MIN_SHADOW_RADIUS_M);
        let reach2 = 9.0 * widest * widest;
        for s in body {
            let ap = s.pos - a;
            let t = if len2 > 0.0 {
                (ap.dot(ab) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let off = ap - ab * t;
            let delta2 = off.dot(off);
            if delta2 >= reach2 {
                continue;
            }
            let along = t * length;
            let fresnel = (path.wavelength_m * along * (length - along) / length.max(1e-9))
                .sqrt()
                .max(MIN_SHADOW_RADIUS_M);
            let d2 = delta2 / (fresnel * fresnel);
            if d2 < 9.0 {
                strongest = strongest.max(s.amplitude.min(1.0) * (-d2).exp());
            }
        }
    }
    strongest
}

/// Appends, for each path of `paths` the body shadows, the change it makes: the path's
/// amplitude times `10^(−BODY_LOSS_DB·σ/20) − 1`.
pub fn shadowing_paths(paths: &[ShadowablePath], body: &[Scatterer], out: &mut Vec<Path>) {
    for p in paths {
        let sigma = shadow(p, body);
        if sigma > 1e-3 {
            let kept = 10f64.powf(-BODY_LOSS_DB * sigma / 20.0);
            out.push(Path {
                amplitude: p.path.amplitude * (kept - 1.0),
                delay_s: p.path.delay_s,
            });
        }
    }
}

/// Appends the paths reflected by the person's scatterers.
pub fn body_paths(tx: Vec3, rx: Vec3, body: &[Scatterer], wavelength_m: f64, out: &mut Vec<Path>) {
    out.extend(body.iter().map(|s| scattered(tx, rx, s, wavelength_m)));
}

/// Paths advanced together by [`add_response`]: enough independent multiplications to
/// keep the CPU's vector units busy while each one waits for its previous step.
const LANES: usize = 8;

/// Adds `Σ_p a_p · exp(−j 2π f_k τ_p)` for the 64 subcarriers around `carrier_hz` to
/// `response` (ESP32 buffer order).
///
/// Per path the phasor of subcarrier `k + 1` is that of `k` times `exp(−j 2π Δf τ)`, so one
/// `sin_cos` pair per path replaces 64 (the product drifts by ~1e-14 over 64 steps). Paths
/// go in groups of eight, stepped side by side.
pub fn add_response(paths: &[Path], carrier_hz: f64, response: &mut Response) {
    add_responses(paths, &mut [(carrier_hz, response)]);
}

/// [`add_response`] for several 20 MHz channels at once (HT40's primary and secondary):
/// each path's step from one subcarrier to the next is the same in every channel, so it is
/// computed once; each response gets exactly what `add_response` would add.
pub fn add_responses(paths: &[Path], bands: &mut [(f64, &mut Response)]) {
    let half = BINS as i32 / 2;
    for group in paths.chunks(LANES) {
        let mut step = [Complex::ZERO; LANES];
        for (path, step) in group.iter().zip(&mut step) {
            let two_pi_tau = -2.0 * std::f64::consts::PI * path.delay_s;
            *step = Complex::from_polar(1.0, two_pi_tau * SPACING_HZ);
        }
        for (carrier_hz, response) in bands.iter_mut() {
            let first_hz = *carrier_hz - f64::from(half) * SPACING_HZ;
            let mut phasor = [Complex::ZERO; LANES];
            for (path, phasor) in group.iter().zip(&mut phasor) {
                let two_pi_tau = -2.0 * std::f64::consts::PI * path.delay_s;
                *phasor = Complex::from_polar(path.amplitude, two_pi_tau * first_hz);
            }
            for k in -half..half {
                let mut sum = Complex::ZERO;
                for (phasor, step) in phasor.iter_mut().zip(&step) {
                    sum += *phasor;
                    *phasor = *phasor * *step;
                }
                response[bin_of_subcarrier(k)] += sum;
            }
        }
    }
}

/// The response of `paths` alone.
pub fn response_of(paths: &[Path], carrier_hz: f64) -> Response {
    let mut response = [Complex::ZERO; BINS];
    add_response(paths, carrier_hz, &mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::super::subcarriers::{carrier_hz, subcarrier_of_bin, Occupancy};
    use super::*;
    use crate::scene::{RadarMount, RfidSetup};
    use std::f64::consts::PI;

    fn empty_room(multipath: f64) -> Room {
        Room {
            id: 0,
            size: Vec3::new(5.0, 6.0, 3.0),
            statics: Vec::new(),
            multipath,
            clutter_per_frame: 0.0,
            radar: RadarMount {
                pos: Vec3::ZERO,
                yaw: 0.0,
            },
            wifi: Vec::new(),
            rfid: RfidSetup {
                antennas: Vec::new(),
                tags: Vec::new(),
            },
        }
    }

    /// Wraps a phase to (−π, π].
    fn wrap(phase: f64) -> f64 {
        let w = phase.rem_euclid(2.0 * PI);
        if w > PI {
            w - 2.0 * PI
        } else {
            w
        }
    }

    fn hz(bin: usize) -> f64 {
        carrier_hz(6) + f64::from(subcarrier_of_bin(bin)) * SPACING_HZ
    }

    fn used_bins() -> impl Iterator<Item = usize> {
        (0..BINS).filter(|&b| Occupancy::LegacyLtf.bin_is_used(b))
    }

    const TX: Vec3 = Vec3::new(0.5, 0.5, 1.0);
    const RX: Vec3 = Vec3::new(4.5, 5.0, 1.0);

    #[test]
    fn los_only_phase_is_linear_with_slope_of_the_los_delay() {
        let lambda = C / carrier_hz(6);
        let mut paths = Vec::new();
        static_paths(&empty_room(0.0), TX, RX, lambda, &mut paths);
        assert_eq!(paths.len(), 1, "only the line of sight");
        let h = response_of(&paths, carrier_hz(6));
        let tau = TX.distance(RX) / C;
        let slope = -2.0 * PI * SPACING_HZ * tau;
        for b in used_bins() {
            let k = f64::from(subcarrier_of_bin(b));
            let expected = -2.0 * PI * carrier_hz(6) * tau + slope * k;
            assert!(wrap(h[b].arg() - expected).abs() < 1e-9, "bin {b}");
            let next = bin_of_subcarrier(subcarrier_of_bin(b) + 1);
            if Occupancy::LegacyLtf.bin_is_used(next) {
                assert!(wrap(h[next].arg() - h[b].arg() - slope).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn amplitude_falls_with_path_length() {
        let lambda = C / carrier_hz(6);
        let near = line_of_sight(TX, TX + Vec3::new(2.0, 0.0, 0.0), lambda);
        let far = line_of_sight(TX, TX + Vec3::new(4.0, 0.0, 0.0), lambda);
        assert!((near.amplitude / far.amplitude - 2.0).abs() < 1e-12);
        let hand = |pos| Scatterer {
            pos,
            vel: Vec3::ZERO,
            amplitude: 0.1,
        };
        let close = scattered(TX, RX, &hand(Vec3::new(2.5, 2.75, 1.5)), lambda);
        let mid = scattered(TX, RX, &hand(Vec3::new(2.5, 2.75, 2.5)), lambda);
        assert!(close.delay_s < mid.delay_s);
        assert!(mid.amplitude < close.amplitude);
        let h = response_of(&[far], carrier_hz(6));
        assert!(used_bins().all(|b| (h[b].abs() - far.amplitude).abs() < 1e-15));
    }

    #[test]
    fn body_path_phase_rotates_by_the_path_length_change() {
        let lambda = C / carrier_hz(6);
        let room = empty_room(0.3);
        let mut statics = Vec::new();
        static_paths(&room, TX, RX, lambda, &mut statics);
        let h_static = response_of(&statics, carrier_hz(6));
        let at = |pos: Vec3| {
            let body = [Scatterer {
                pos,
                vel: Vec3::ZERO,
                amplitude: 1.0,
            }];
            let mut paths = statics.clone();
            body_paths(TX, RX, &body, lambda, &mut paths);
            (
                response_of(&paths, carrier_hz(6)),
                TX.distance(pos) + pos.distance(RX),
            )
        };
        let (h1, l1) = at(Vec3::new(2.0, 3.0, 1.2));
        let (h2, l2) = at(Vec3::new(1.95, 3.045, 1.2));
        let delta = l2 - l1;
        assert!(
            delta.abs() > lambda / 10.0,
            "the move is a visible rotation"
        );
        let carrier_rotation = -2.0 * PI * delta / lambda;
        for b in used_bins() {
            let d1 = h1[b] - h_static[b];
            let d2 = h2[b] - h_static[b];
            let measured = (d2 * d1.conj()).arg();
            let expected = -2.0 * PI * hz(b) * delta / C;
            assert!(wrap(measured - expected).abs() < 1e-9, "bin {b}");
            assert!(wrap(measured - carrier_rotation).abs() < 0.01, "bin {b}");
        }
    }

    #[test]
    fn a_torso_on_the_line_of_sight_costs_the_body_loss_and_a_hand_a_fifth() {
        let lambda = C / carrier_hz(6);
        let mut paths = Vec::new();
        shadowable_paths(&empty_room(0.0), TX, RX, lambda, &mut paths);
        let los = paths[0].path.amplitude;
        let on_line = |amplitude: f64| {
            let body = [Scatterer {
                pos: (TX + RX) * 0.5,
                vel: Vec3::ZERO,
                amplitude,
            }];
            let mut all = vec![paths[0].path];
            // Shadows beyond the LoS (walls) do not matter in an anechoic room.
            shadowing_paths(&paths, &body, &mut all);
            let h = response_of(&all, carrier_hz(6));
            20.0 * (h[1].abs() / los).log10()
        };
        assert!(
            (on_line(1.0) + BODY_LOSS_DB).abs() < 1e-6,
            "{}",
            on_line(1.0)
        );
        assert!((on_line(0.2) + 0.2 * BODY_LOSS_DB).abs() < 1e-6);
        let aside = [Scatterer {
            pos: (TX + RX) * 0.5 + Vec3::new(0.0, 0.0, 1.5),
            vel: Vec3::ZERO,
            amplitude: 1.0,
        }];
        let mut none = Vec::new();
        shadowing_paths(&paths, &aside, &mut none);
        assert!(none.is_empty(), "a body 1.5 m off the path casts no shadow");
        // Inside the first Fresnel zone (0.45 m here) but off the line: a partial shadow.
        let near = [Scatterer {
            pos: (TX + RX) * 0.5 + Vec3::new(0.0, 0.0, 0.3),
            vel: Vec3::ZERO,
            amplitude: 1.0,
        }];
        let sigma = shadow(&paths[0], &near);
        assert!((0.3..0.9).contains(&sigma), "{sigma}");
    }

    #[test]
    fn wall_paths_bounce_on_their_wall() {
        let lambda = C / carrier_hz(6);
        let room = empty_room(0.4);
        let mut paths = Vec::new();
        shadowable_paths(&room, TX, RX, lambda, &mut paths);
        assert_eq!(paths.len(), 7);
        for p in &paths[1..] {
            let (a, bounce) = p.ends[0];
            assert_eq!(a, TX);
            let length = TX.distance(bounce) + bounce.distance(RX);
            assert!((length - p.path.delay_s * C).abs() < 1e-9, "{length}");
        }
        let mut all = Vec::new();
        static_paths(&room, TX, RX, lambda, &mut all);
        assert_eq!(all.len(), 1 + 6 + 30);
    }

    #[test]
    fn two_bands_at_once_are_each_band_alone_bit_for_bit() {
        let paths: Vec<Path> = (0..19)
            .map(|i| Path {
                amplitude: 0.01 + 0.003 * f64::from(i),
                delay_s: (3.0 + 0.37 * f64::from(i)) / C,
            })
            .collect();
        let (primary, secondary) = (carrier_hz(6), carrier_hz(6) + 64.0 * SPACING_HZ);
        let (mut a, mut b) = ([Complex::new(0.5, -0.25); BINS], [Complex::ZERO; BINS]);
        add_responses(&paths, &mut [(primary, &mut a), (secondary, &mut b)]);
        let mut alone_a = [Complex::new(0.5, -0.25); BINS];
        add_response(&paths, primary, &mut alone_a);
        assert_eq!(a, alone_a);
        assert_eq!(b, response_of(&paths, secondary));
    }

    #[test]
    fn walls_add_six_longer_paths_scaled_by_multipath() {
        let lambda = C / carrier_hz(1);
        let los = line_of_sight(TX, RX, lambda);
        let mut walls = Vec::new();
        wall_reflections(&empty_room(0.0), TX, RX, lambda, &mut walls);
        assert!(walls.is_empty(), "anechoic room");
        wall_reflections(&empty_room(0.5), TX, RX, lambda, &mut walls);
        assert_eq!(walls.len(), 6);
        for wall in &walls {
            assert!(wall.delay_s > los.delay_s);
            assert!(wall.amplitude < 0.0 && wall.amplitude.abs() < 0.5 * los.amplitude);
        }
        // The floor image of a transmitter at height 1 m is at z = −1.
        let floor = Vec3::new(TX.x, TX.y, -TX.z).distance(RX);
        assert!(walls.iter().any(|w| (w.delay_s * C - floor).abs() < 1e-9));
    }
}
