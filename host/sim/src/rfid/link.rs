//! The radio link between one reader antenna and one tag: the backscatter channel whose
//! phase, strength and rate of change the reader measures.
//!
//! # Model
//! The reader is monostatic: the same antenna sends the carrier and hears the tag's
//! backscatter. By reciprocity the return channel equals the forward one, so with the
//! forward (one-way) complex gain `h_f` the round trip is `h = h_f²`.
//!
//! `h_f` is the line of sight plus one bounce off every scatterer, all in the free-space
//! normalisation λ/4π:
//!
//! ```text
//! h_f = (λ/4π) · [ s_los · e^{jκd}/d  +  Σ_k  g_k · e^{jκ(d1_k + d2_k)} / (d1_k · d2_k) ]
//! κ = 2π/λ, d = |antenna − tag|, d1 = |antenna − scatterer|, d2 = |scatterer − tag|
//! g_k = a_k / √(4π)  (a_k = √RCS in m, the [`Scatterer`] amplitude; bistatic radar equation)
//! ```
//! Body scatterers enter with `g_k` as is; the room's static reflectors are scaled by
//! `room.multipath`. `d1`, `d2` are floored at [`MIN_BOUNCE_M`]: nearer than that, a point
//! scatterer is no model of a body part (near-field detuning is not modelled).
//!
//! Phase: `arg h = 2·arg h_f`, which for the line of sight alone is `4πd/λ` (phase grows
//! with distance; the per-tag and per-antenna/channel offsets are added by the renderer).
//!
//! Blocking: a body scatterer near the antenna–tag segment shadows the line of sight. With
//! `δ` its distance to the segment and `r` the body radius, its shadow is
//! `min(a, 1)·max(0, 1 − δ/r)`; the strongest shadow `σ` attenuates the one-way line of
//! sight by `σ·L_block` dB (so a torso squarely in the way costs `2·L_block` round trip).
//!
//! Power (dBm): forward power at the tag `P_tag = P_tx + G_ant + G_tag + 20·log10|h_f|`;
//! backscatter at the reader `P_rx = P_tx + 2G_ant + 2G_tag − L_bs + 20·log10|h|`, i.e.
//! `∝ 1/d⁴` in free space (−12 dB per doubling of distance).
//!
//! Doppler: the instantaneous frequency of the backscatter,
//! `f_D = −(1/2π)·d(arg h)/dt = −(1/π)·Im(ḣ_f / h_f)`, with each path's rate
//! `ḣ/h = Ȧ/A + jκ·dL/dt` from the scatterer's (and the tag's) velocity, so a moving
//! reflector beating against the line of sight gives the Doppler the reader would measure;
//! the change of the body's shadow is neglected. For the line of sight alone this is
//! `f_D = −(2/λ)·dd/dt`: positive while the path shortens (approach), negative while it
//! lengthens — the radar convention, which is also the sign of the physical frequency
//! shift of the backscatter.
//!
//! Not modelled: antenna patterns and polarisation (antennas are isotropic apart from a
//! fixed gain), second-order bounces, diffraction, tag detuning and coupling between tags.
use crate::{Scatterer, Vec3};
use std::f64::consts::{PI, TAU};

/// Distances below this (m) are floored in the bounce term's `1/(d1·d2)`.
pub const MIN_BOUNCE_M: f64 = 0.25;
/// Line-of-sight distances below this (m) are floored (the antenna's near field).
pub const MIN_DISTANCE_M: f64 = 0.05;

/// A complex number; just the arithmetic this model needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Complex {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Complex {
    /// `amplitude · e^{j·phase}`.
    pub fn polar(amplitude: f64, phase: f64) -> Self {
        let (s, c) = phase.sin_cos();
        Complex {
            re: amplitude * c,
            im: amplitude * s,
        }
    }

    /// |z|.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// arg z in (−π, π].
    pub fn arg(self) -> f64 {
        self.im.atan2(self.re)
    }

    fn add(self, o: Complex) -> Complex {
        Complex {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }

    fn mul(self, o: Complex) -> Complex {
        Complex {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }

    /// Im(self / o).
    fn im_ratio(self, o: Complex) -> f64 {
        (self.im * o.re - self.re * o.im) / (o.re * o.re + o.im * o.im)
    }
}

/// A tag's position and velocity (m, m/s); room tags are still, tags on a person move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagPose {
    /// Position, m.
    pub pos: Vec3,
    /// Velocity, m/s.
    pub vel: Vec3,
}

/// Radio and room constants of the link (see the module doc for the formulas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkBudget {
    /// Conducted transmit power, dBm.
    pub tx_power_dbm: f64,
    /// Reader antenna gain, dBi (counted on the way out and back).
    pub antenna_gain_dbi: f64,
    /// Tag antenna gain, dBi (counted on the way in and out).
    pub tag_gain_dbi: f64,
    /// Backscatter modulation and polarisation loss `L_bs`, dB.
    pub backscatter_loss_db: f64,
    /// One-way line-of-sight loss through a body squarely in the way `L_block`, dB.
    pub blocking_loss_db: f64,
    /// Radius within which a body scatterer shadows the line of sight, m.
    pub body_radius_m: f64,
}

impl Default for LinkBudget {
    /// An Impinj-class reader at 30 dBm with 6 dBi antennas, dipole-like tags; the 16 dB
    /// backscatter loss (modulation efficiency, polarisation mismatch of a circular reader
    /// antenna, cable) puts a well-oriented tag 1–6 m away at about −33 to −64 dBm, the RSSI
    /// range Impinj readers report indoors.
    fn default() -> Self {
        LinkBudget {
            tx_power_dbm: 30.0,
            antenna_gain_dbi: 6.0,
            tag_gain_dbi: 2.0,
            backscatter_loss_db: 16.0,
            blocking_loss_db: 12.0,
            body_radius_m: 0.15,
        }
    }
}

/// What the channel is at one instant, before measurement noise and phase offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backscatter {
    /// Round-trip channel phase `arg h` in [0, 2π), rad.
    pub phase_rad: f64,
    /// Forward power reaching the tag, dBm (the tag answers only above its sensitivity).
    pub tag_power_dbm: f64,
    /// Backscatter power at the reader, dBm.
    pub rssi_dbm: f64,
    /// Doppler shift of the backscatter, Hz (positive = paths shortening).
    pub doppler_hz: f64,
}

/// The scatterers and room constants the link sees at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    /// The person's scatterers.
    pub body: &'a [Scatterer],
    /// The room's static reflectors.
    pub statics: &'a [Scatterer],
    /// Scale of the static reflectors (`Room::multipath`).
    pub multipath: f64,
}

impl LinkBudget {
    /// The channel between `antenna` and `tag` at wavelength `wavelength_m`.
    pub fn backscatter(
        &self,
        antenna: Vec3,
        tag: TagPose,
        wavelength_m: f64,
        around: Surroundings<'_>,
    ) -> Backscatter {
        let kappa = TAU / wavelength_m;
        let mut forward = Complex::default();
        let mut forward_rate = Complex::default();

        let los = tag.pos - antenna;
        let d = los.norm().max(MIN_DISTANCE_M);
        let shadow = self.shadow(antenna, tag.pos, around.body);
        let los_amp = 10f64.powf(-self.blocking_loss_db * shadow / 20.0) / d;
        let los_term = Complex::polar(los_amp, kappa * d);
        let los_rate = los.unit().dot(tag.vel);
        forward = forward.add(los_term);
        forward_rate = forward_rate.add(los_term.mul(Complex {
            re: -los_rate / d,
            im: kappa * los_rate,
        }));

        let inv_sqrt_4pi = 1.0 / (4.0 * PI).sqrt();
        let bounces = around.body.iter().map(|s| (s, inv_sqrt_4pi)).chain(
            around
                .statics
                .iter()
                .map(|s| (s, inv_sqrt_4pi * around.multipath)),
        );
        for (s, scale) in bounces {
            let (term, rate) = bounce(antenna, tag, s, kappa, scale * s.amplitude);
            forward = forward.add(term);
            forward_rate = forward_rate.add(term.mul(rate));
        }

        let norm = wavelength_m / (4.0 * PI);
        let forward_gain_db = 20.0 * (norm * forward.abs()).max(1e-300).log10();
        let gains = self.antenna_gain_dbi + self.tag_gain_dbi;
        Backscatter {
            phase_rad: (2.0 * forward.arg()).rem_euclid(TAU),
            tag_power_dbm: self.tx_power_dbm + gains + forward_gain_db,
            rssi_dbm: self.tx_power_dbm + 2.0 * gains - self.backscatter_loss_db
                + 2.0 * forward_gain_db,
            doppler_hz: -forward_rate.im_ratio(forward) / PI,
        }
    }

    /// The strongest shadow any body scatterer casts on the antenna–tag segment, 0..=1.
    fn shadow(&self, antenna: Vec3, tag: Vec3, body: &[Scatterer]) -> f64 {
        if self.body_radius_m <= 0.0 {
            return 0.0;
        }
        body.iter()
            .map(|s| {
                let closeness = 1.0 - distance_to_segment(s.pos, antenna, tag) / self.body_radius_m;
                s.amplitude.min(1.0) * closeness.max(0.0)
            })
            .fold(0.0, f64::max)
    }
}

/// One bounce antenna → scatterer → tag: its term in `h_f` (without λ/4π) and its
/// logarithmic rate of change `ḣ/h = Ȧ/A + jκ·L̇` (amplitude `A = g/(d1·d2)`, path
/// `L = d1 + d2`), 1/s.
fn bounce(antenna: Vec3, tag: TagPose, s: &Scatterer, kappa: f64, gain: f64) -> (Complex, Complex) {
    let to_s = s.pos - antenna;
    let s_to_tag = tag.pos - s.pos;
    let (d1, d2) = (to_s.norm(), s_to_tag.norm());
    let (f1, f2) = (d1.max(MIN_BOUNCE_M), d2.max(MIN_BOUNCE_M));
    let term = Complex::polar(gain / (f1 * f2), kappa * (d1 + d2));
    let d1_rate = to_s.unit().dot(s.vel);
    let d2_rate = s_to_tag.unit().dot(tag.vel - s.vel);
    // A floored distance no longer changes the amplitude.
    let amp_rate = -(if d1 > MIN_BOUNCE_M { d1_rate / d1 } else { 0.0 })
        - (if d2 > MIN_BOUNCE_M { d2_rate / d2 } else { 0.0 });
    let rate = Complex {
        re: amp_rate,
        im: kappa * (d1_rate + d2_rate),
    };
    (term, rate)
}

/// Distance from `p` to the segment `a`–`b`, m.
fn distance_to_segment(p: Vec3, a: Vec3, b: Vec3) -> f64 {
    let ab = b - a;
    let len2 = ab.dot(ab);
    let t = if len2 > 0.0 {
        ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    p.distance(a + ab * t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfid::channels::wavelength_m;

    const ANT: Vec3 = Vec3::new(0.0, 0.0, 1.0);

    fn still(pos: Vec3) -> TagPose {
        TagPose {
            pos,
            vel: Vec3::ZERO,
        }
    }

    fn empty() -> Surroundings<'static> {
        Surroundings {
            body: &[],
            statics: &[],
            multipath: 0.0,
        }
    }

    fn wrap(a: f64) -> f64 {
        (a + PI).rem_euclid(TAU) - PI
    }

    #[test]
    fn free_space_phase_is_4_pi_d_over_lambda() {
        let lambda = wavelength_m(10);
        let d = 2.345;
        let b = LinkBudget::default().backscatter(
            ANT,
            still(ANT + Vec3::new(d, 0.0, 0.0)),
            lambda,
            empty(),
        );
        let expected = (4.0 * PI * d / lambda).rem_euclid(TAU);
        assert!(wrap(b.phase_rad - expected).abs() < 1e-9);
    }

    #[test]
    fn free_space_power_falls_12_db_per_doubling_of_distance() {
        let link = LinkBudget::default();
        let lambda = wavelength_m(25);
        let at = |d| link.backscatter(ANT, still(ANT + Vec3::new(0.0, d, 0.0)), lambda, empty());
        let (near, far) = (at(1.5), at(3.0));
        assert!((near.rssi_dbm - far.rssi_dbm - 40.0 * 2f64.log10()).abs() < 1e-9);
        assert!((near.tag_power_dbm - far.tag_power_dbm - 20.0 * 2f64.log10()).abs() < 1e-9);
    }

    #[test]
    fn only_a_body_near_the_line_of_sight_shadows_it_and_in_proportion_to_its_size() {
        let link = LinkBudget::default();
        let tag = ANT + Vec3::new(4.0, 0.0, 0.0);
        let at = |offset: f64, amplitude: f64| Scatterer {
            pos: ANT + Vec3::new(2.0, offset, 0.0),
            vel: Vec3::ZERO,
            amplitude,
        };
        assert_eq!(link.shadow(ANT, tag, &[at(0.0, 1.0)]), 1.0);
        assert_eq!(link.shadow(ANT, tag, &[at(0.5, 1.0)]), 0.0);
        assert!((link.shadow(ANT, tag, &[at(0.0, 0.1)]) - 0.1).abs() < 1e-12);
        assert!((link.shadow(ANT, tag, &[at(0.075, 1.0), at(0.0, 0.1)]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_torso_on_the_line_of_sight_lowers_rssi() {
        let link = LinkBudget::default();
        let lambda = wavelength_m(1);
        let tag = still(ANT + Vec3::new(4.0, 0.0, 0.0));
        let torso = [Scatterer {
            pos: ANT + Vec3::new(2.0, 0.0, 0.0),
            vel: Vec3::ZERO,
            amplitude: 1.0,
        }];
        let around = Surroundings {
            body: &torso,
            ..empty()
        };
        let blocked = link.backscatter(ANT, tag, lambda, around);
        let clear = link.backscatter(ANT, tag, lambda, empty());
        // Line of sight down by 12 dB one way; the torso's own echo cannot make up for it.
        let loss = clear.rssi_dbm - blocked.rssi_dbm;
        assert!(loss > 5.0, "loss {loss} dB");
    }

    #[test]
    fn doppler_is_positive_approaching_and_negative_receding() {
        let link = LinkBudget::default();
        let lambda = wavelength_m(30);
        let pos = ANT + Vec3::new(3.0, 0.0, 0.0);
        let speed = 1.0;
        let moving = |vx| TagPose {
            pos,
            vel: Vec3::new(vx, 0.0, 0.0),
        };
        let approach = link.backscatter(ANT, moving(-speed), lambda, empty());
        let recede = link.backscatter(ANT, moving(speed), lambda, empty());
        let expected = 2.0 * speed / lambda;
        assert!((approach.doppler_hz - expected).abs() < 1e-9);
        assert!((recede.doppler_hz + expected).abs() < 1e-9);
    }

    #[test]
    fn a_reflector_moving_toward_the_link_gives_the_doppler_of_its_path_rate() {
        // With the line of sight blocked, the bounce path dominates: its Doppler follows the
        // rate of change of antenna → scatterer → tag (a reflector closing in on both).
        let link = LinkBudget {
            blocking_loss_db: 200.0,
            ..LinkBudget::default()
        };
        let lambda = wavelength_m(5);
        let tag = still(ANT + Vec3::new(2.0, 0.0, 0.0));
        let s = Scatterer {
            pos: ANT + Vec3::new(1.0, 0.0, 0.0),
            vel: Vec3::new(0.0, 0.5, 0.0),
            amplitude: 1.0,
        };
        let body = [s];
        let b = link.backscatter(
            ANT,
            tag,
            lambda,
            Surroundings {
                body: &body,
                ..empty()
            },
        );
        // On the segment, moving sideways: the path length is at a minimum, rate 0.
        assert!(b.doppler_hz.abs() < 1e-6, "doppler {}", b.doppler_hz);
        let s_off = Scatterer {
            pos: ANT + Vec3::new(1.0, 0.1, 0.0),
            vel: Vec3::new(0.0, -0.5, 0.0),
            amplitude: 1.0,
        };
        let body = [s_off];
        let b = link.backscatter(
            ANT,
            tag,
            lambda,
            Surroundings {
                body: &body,
                ..empty()
            },
        );
        assert!(
            b.doppler_hz > 0.0,
            "closing path must give positive Doppler"
        );
    }
}
