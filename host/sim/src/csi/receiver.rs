//! What a WiFi receiver does to the true channel before it reports it: per-packet phase
//! offsets, automatic gain control, noise and 8-bit quantization.
//!
//! For a packet, with `H_a(k)` the channel of antenna `a` on subcarrier `k`, the reported
//! estimate is
//!
//! ```text
//! Ĥ_a(k) = Q( g · ( exp(j (φ0 − 2π k Δf δ)) · H_a(k) + n_a(k) ) )
//! ```
//!
//! * `φ0 ~ U(0, 2π)`: the residual carrier frequency offset and phase noise, a new random
//!   value each packet.
//! * `δ ~ U(0, max_timing_offset_s)`: the packet-detection delay plus sampling-frequency
//!   offset, a linear phase slope `−2π Δf δ` per subcarrier, new each packet.
//! * `g`: automatic gain control, times a gain error: a per-packet jitter
//!   `N(0, agc_jitter_db)` plus an offset that stays put and jumps by ±U(min, max) dB at
//!   Poisson times (`agc_jump_rate_hz`), drifting back towards 0 dB. The ESP32's scales
//!   the received power (mean `|H|²` over the legacy LTF's used subcarriers and the
//!   antennas, plus the thermal noise) to an RMS of `esp32_agc_rms` int8 units (see
//!   [`super::levels`]); the Intel 5300's the strongest used subcarrier to
//!   `intel_agc_target`.
//! * `n ~ CN(0, σ²)`: thermal noise `σ² = N_floor / (P_tx · G_antennas)` (the noise floor
//!   over the band relative to the received power of a unit channel, in the channel's
//!   power-gain units; halved for the legacy LTF, whose two symbols are averaged) plus
//!   channel estimation error `mean|H_a|² / 10^(estimation_snr_db/10)`; independent per
//!   antenna and subcarrier.
//! * optionally the ESP32's channel filter ([`Impairments::channel_filter`]): the estimate
//!   smoothed over adjacent subcarriers before `Q`;
//! * `Q`: rounding to the nearest integer and clipping to −128..=127 (never wrapping).
//!
//! The antennas of a link are the chains of one receiver: they share the oscillator, the
//! sampling clock and the gain, so `φ0`, `δ` and `g` are common to all antennas of a packet
//! and cancel in `Ĥ_a · conj(Ĥ_b)`. Subcarriers the receiver does not estimate (DC,
//! guards) are reported as exactly 0, as the firmware does.
use std::ops::RangeInclusive;

use dagr_protocols::csi::Iq;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp, StandardNormal};

use super::channel::{Complex, Response};
use super::subcarriers::{
    bin_of_subcarrier, subcarrier_of_bin, BufferEntry, Occupancy, SecondaryChannel, BINS,
    SPACING_HZ,
};

/// The receiver's imperfections; [`Impairments::none`] turns every one off.
#[derive(Debug, Clone, PartialEq)]
pub struct Impairments {
    /// Rotate each packet by a random common phase `φ0 ~ U(0, 2π)`.
    pub random_common_phase: bool,
    /// Upper bound of the per-packet timing offset `δ`, s (0 = no phase slope).
    pub max_timing_offset_s: f64,
    /// Standard deviation of the per-packet gain error, dB.
    pub agc_jitter_db: f64,
    /// Mean rate of AGC gain jumps, per second (0 = never).
    pub agc_jump_rate_hz: f64,
    /// Smallest gain jump, dB.
    pub agc_jump_min_db: f64,
    /// Largest gain jump, dB.
    pub agc_jump_max_db: f64,
    /// Add receiver thermal noise at the noise floor.
    pub thermal_noise: bool,
    /// Signal-to-error ratio of the channel estimate itself, dB (`f64::INFINITY` = exact).
    pub estimation_snr_db: f64,
    /// Smooth the estimate over adjacent subcarriers before reporting it (ESP-IDF's
    /// `channel_filter_en`, which Espressif's CSI examples turn on): each used subcarrier
    /// becomes `(Ĥ(k−1) + 2Ĥ(k) + Ĥ(k+1)) / 4` over its used neighbours (weights
    /// renormalized at the band edges and beside DC). ESP32 receivers only. Off by default
    /// while the reference model is the one trained without it (host/sim/CALIBRATION.md:
    /// with it the CSI's second-difference SNR is the real capture's; the WiFi encoder's
    /// validation accuracy did not change).
    pub channel_filter: bool,
}

impl Default for Impairments {
    /// An ESP32-like receiver: random phase, up to 150 ns (3 samples) of detection delay,
    /// a gain jump every 5 s on average, ~25 dB estimation SNR.
    fn default() -> Self {
        Impairments {
            random_common_phase: true,
            max_timing_offset_s: 150e-9,
            agc_jitter_db: 0.2,
            agc_jump_rate_hz: 0.2,
            agc_jump_min_db: 1.0,
            agc_jump_max_db: 3.0,
            thermal_noise: true,
            estimation_snr_db: 25.0,
            channel_filter: false,
        }
    }
}

impl Impairments {
    /// A perfect receiver: only the gain normalisation and the quantization remain.
    pub fn none() -> Self {
        Impairments {
            random_common_phase: false,
            max_timing_offset_s: 0.0,
            agc_jitter_db: 0.0,
            agc_jump_rate_hz: 0.0,
            agc_jump_min_db: 0.0,
            agc_jump_max_db: 0.0,
            thermal_noise: false,
            estimation_snr_db: f64::INFINITY,
            channel_filter: false,
        }
    }
}

/// The slowly changing part of one receiver's gain: an offset that jumps now and then.
#[derive(Debug, Clone, PartialEq)]
pub struct AgcState {
    /// Current gain offset from the ideal, dB.
    offset_db: f64,
    /// Scene time of the next jump, s (`None`: jumps are off).
    next_jump_s: Option<f64>,
}

impl AgcState {
    /// A receiver whose gain is right at `t`, first jump scheduled after it.
    pub fn new(t: f64, impairments: &Impairments, rng: &mut ChaCha8Rng) -> Self {
        let mut state = AgcState {
            offset_db: 0.0,
            next_jump_s: None,
        };
        state.next_jump_s = state.wait(t, impairments, rng);
        state
    }

    /// The gain offset in force at `t`, dB, after applying every jump due by then.
    pub fn offset_at(&mut self, t: f64, impairments: &Impairments, rng: &mut ChaCha8Rng) -> f64 {
        while let Some(due) = self.next_jump_s.filter(|&due| due <= t) {
            self.offset_db += self.jump_db(impairments, rng);
            self.next_jump_s = self.wait(due, impairments, rng);
        }
        self.offset_db
    }

    /// A jump of random size; its sign pulls the offset back once it exceeds one jump.
    fn jump_db(&self, impairments: &Impairments, rng: &mut ChaCha8Rng) -> f64 {
        let (lo, hi) = (impairments.agc_jump_min_db, impairments.agc_jump_max_db);
        let size = if hi > lo {
            rng.random_range(lo..hi)
        } else {
            lo
        };
        let up = if self.offset_db.abs() > hi {
            self.offset_db < 0.0
        } else {
            rng.random_bool(0.5)
        };
        if up {
            size
        } else {
            -size
        }
    }

    /// The time of the jump after `from`: exponential waiting times.
    fn wait(&self, from: f64, impairments: &Impairments, rng: &mut ChaCha8Rng) -> Option<f64> {
        let exp = Exp::new(impairments.agc_jump_rate_hz).ok()?;
        (impairments.agc_jump_rate_hz > 0.0).then(|| from + rng.sample(exp))
    }
}

/// What one packet's receiver did, common to all its antennas.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PacketDistortion {
    /// Common phase `φ0`, rad.
    pub common_phase: f64,
    /// Timing offset `δ`, s.
    pub timing_offset_s: f64,
    /// Linear gain `g`, int8 units per unit of channel amplitude.
    pub gain: f64,
}

impl PacketDistortion {
    /// Draws the phase and timing offsets; `gain` sets a received `level` (channel units:
    /// the RMS or the peak the gain control measures) to `target` int8 units after a gain
    /// error of `error_db`.
    pub fn draw(
        impairments: &Impairments,
        level: f64,
        target: f64,
        error_db: f64,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let common_phase = if impairments.random_common_phase {
            rng.random_range(0.0..std::f64::consts::TAU)
        } else {
            0.0
        };
        let timing_offset_s = if impairments.max_timing_offset_s > 0.0 {
            rng.random_range(0.0..impairments.max_timing_offset_s)
        } else {
            0.0
        };
        let jitter_db = if impairments.agc_jitter_db > 0.0 {
            impairments.agc_jitter_db * rng.sample::<f64, _>(StandardNormal)
        } else {
            0.0
        };
        let gain = if level > 0.0 {
            target / level * db_to_amplitude(error_db + jitter_db)
        } else {
            0.0
        };
        PacketDistortion {
            common_phase,
            timing_offset_s,
            gain,
        }
    }

    /// The unit phasor this packet multiplies subcarrier `k` by.
    pub fn rotation(&self, k: i32) -> Complex {
        let slope = -std::f64::consts::TAU * SPACING_HZ * self.timing_offset_s;
        Complex::from_polar(1.0, self.common_phase + slope * f64::from(k))
    }
}

/// A packet's distortion with its rotation of each subcarrier of a range computed once for
/// all the packet's antennas (the values [`PacketDistortion::rotation`] gives, so a report
/// is the same bit for bit; a subcarrier outside the range is computed when asked).
#[derive(Debug, Clone, Default)]
pub struct RotatedPacket {
    packet: PacketDistortion,
    /// Subcarrier of `phasors[0]`.
    first: i32,
    phasors: Vec<Complex>,
}

impl RotatedPacket {
    /// Makes this `packet` with the rotations of `subcarriers` computed.
    pub fn set(&mut self, packet: PacketDistortion, subcarriers: RangeInclusive<i32>) {
        self.packet = packet;
        self.first = *subcarriers.start();
        self.phasors.clear();
        self.phasors.extend(subcarriers.map(|k| packet.rotation(k)));
    }

    /// The packet's distortion.
    pub fn packet(&self) -> &PacketDistortion {
        &self.packet
    }

    fn rotation(&self, k: i32) -> Complex {
        usize::try_from(k - self.first)
            .ok()
            .and_then(|i| self.phasors.get(i))
            .copied()
            .unwrap_or_else(|| self.packet.rotation(k))
    }
}

/// `10^(db/20)`.
pub fn db_to_amplitude(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Largest `|H(k)|` over the used subcarriers of all `responses`.
pub fn peak_magnitude(responses: &[Response], occupancy: Occupancy) -> f64 {
    largest_abs(responses.iter().flat_map(|h| {
        h.iter()
            .enumerate()
            .filter(|&(b, _)| occupancy.bin_is_used(b))
            .map(|(_, z)| *z)
    }))
}

/// The largest [`Complex::abs`] of `values` (0 for none), exactly as the largest of every
/// `abs`, with `abs` (a `hypot`) taken only of the values whose `|z|²` is within 10⁻⁹ of
/// the largest `|z|²`: a value further below cannot have the largest `abs`, since both
/// are within a few ulp (10⁻¹⁶) of the true magnitude. Tiny or non-finite peaks take
/// every `abs`.
pub fn largest_abs(values: impl Iterator<Item = Complex> + Clone) -> f64 {
    let peak_sqr = values.clone().map(Complex::norm_sqr).fold(0.0, f64::max);
    let candidates = values.filter(|z| {
        let ordinary = peak_sqr > 1e-300 && peak_sqr.is_finite();
        !ordinary || z.norm_sqr() >= peak_sqr * (1.0 - 1e-9)
    });
    candidates.map(Complex::abs).fold(0.0, f64::max)
}

/// Mean `|H(k)|²` over the used subcarriers: the channel's power gain.
pub fn mean_power(h: &Response, occupancy: Occupancy) -> f64 {
    let (sum, n) = h
        .iter()
        .enumerate()
        .filter(|&(b, _)| occupancy.bin_is_used(b))
        .fold((0.0, 0usize), |(s, n), (_, z)| (s + z.norm_sqr(), n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// Rounds to the nearest integer (halves away from zero, as [`f64::round`]) and clips to
/// the `i8` range; NaN is 0. Without a call to `round`: the whole part by truncation and
/// the fraction, which `x − trunc(x)` gives exactly.
pub fn quantize(x: f64) -> i8 {
    let x = x.clamp(-129.0, 128.0);
    let whole = x as i32;
    let fraction = x - f64::from(whole);
    let rounded = whole + i32::from(fraction >= 0.5) - i32::from(fraction <= -0.5);
    rounded.clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8
}

/// One antenna's reported estimate: `h` distorted by `packet`, plus complex Gaussian noise of
/// variance `noise_var` (channel units), quantized; unused bins are 0.
pub fn report(
    h: &Response,
    packet: &RotatedPacket,
    noise_var: f64,
    occupancy: Occupancy,
    smooth: bool,
    rng: &mut ChaCha8Rng,
    out: &mut [Iq; BINS],
) {
    let sigma = (noise_var / 2.0).sqrt();
    let mut estimate = [Complex::ZERO; BINS];
    for (bin, (z, y)) in h.iter().zip(estimate.iter_mut()).enumerate() {
        let k = subcarrier_of_bin(bin);
        if !occupancy.is_used(k) {
            continue;
        }
        *y = *z * packet.rotation(k);
        if sigma > 0.0 {
            let n_re: f64 = rng.sample(StandardNormal);
            let n_im: f64 = rng.sample(StandardNormal);
            *y += Complex::new(n_re, n_im).scale(sigma);
        }
    }
    for (bin, iq) in out.iter_mut().enumerate() {
        let k = subcarrier_of_bin(bin);
        if !occupancy.is_used(k) {
            *iq = Iq::default();
            continue;
        }
        let y = if smooth {
            smoothed(&estimate, k, occupancy)
        } else {
            estimate[bin]
        };
        let y = y.scale(packet.packet.gain);
        *iq = Iq {
            re: quantize(y.re),
            im: quantize(y.im),
        };
    }
}

/// The channel filter at subcarrier `k`: `[1, 2, 1] / 4` over `k` and its used neighbours.
fn smoothed(estimate: &[Complex; BINS], k: i32, occupancy: Occupancy) -> Complex {
    let neighbours = [k - 1, k + 1]
        .into_iter()
        .filter(|&n| occupancy.is_used(n))
        .map(|n| estimate[bin_of_subcarrier(n)]);
    channel_filter(estimate[bin_of_subcarrier(k)], neighbours)
}

/// `[1, 2, 1] / 4` at `centre` given its used neighbours (one or two; the weights are
/// renormalized where one is missing, at a band edge or beside DC).
fn channel_filter(centre: Complex, neighbours: impl Iterator<Item = Complex>) -> Complex {
    let (sum, weight) = neighbours.fold((centre.scale(2.0), 2.0), |(s, w), z| (s + z, w + 1.0));
    sum.scale(1.0 / weight)
}

/// One antenna's true channel over an HT40 packet's 40 MHz: the primary and the secondary
/// 20 MHz channels' 64 bins each, and on which side the secondary lies.
#[derive(Debug, Clone, Copy)]
pub struct Ht40Channel<'a> {
    /// The primary channel's bins (ESP32 buffer order).
    pub primary: &'a Response,
    /// The secondary channel's bins (ESP32 buffer order, around its own centre).
    pub secondary: &'a Response,
    /// Where the secondary lies.
    pub side: SecondaryChannel,
}

impl Ht40Channel<'_> {
    /// The channel at a buffer entry's frequency: from the primary's bins when it lies
    /// within them, else from the secondary's.
    pub fn at(&self, entry: BufferEntry) -> Complex {
        let half = BINS as i32 / 2;
        if (-half..half).contains(&entry.offset) {
            self.primary[bin_of_subcarrier(entry.offset)]
        } else {
            self.secondary[bin_of_subcarrier(entry.offset - self.side.secondary_offset())]
        }
    }
}

/// Appends to `out` one antenna's report of the HT40 buffer `entries`, as [`report`] does
/// for HT20: each used entry is the channel at its own frequency, rotated by `packet`'s
/// phase at that frequency, plus noise of variance `noise_var`, scaled and quantized;
/// unused entries are 0.
pub fn report_ht40(
    channel: Ht40Channel<'_>,
    entries: &[BufferEntry],
    packet: &RotatedPacket,
    noise_var: f64,
    smooth: bool,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Iq>,
) {
    let sigma = (noise_var / 2.0).sqrt();
    // The estimate of each used entry, by frequency (offset + HT40_SPAN / 2).
    let mut estimate = [None; HT40_SPAN];
    for &entry in entries.iter().filter(|e| e.used) {
        let mut y = channel.at(entry) * packet.rotation(entry.offset);
        if sigma > 0.0 {
            let n_re: f64 = rng.sample(StandardNormal);
            let n_im: f64 = rng.sample(StandardNormal);
            y += Complex::new(n_re, n_im).scale(sigma);
        }
        estimate[ht40_slot(entry.offset)] = Some(y);
    }
    for &entry in entries {
        let slot = ht40_slot(entry.offset);
        let y = match estimate[slot] {
            Some(y) if entry.used => y,
            _ => {
                out.push(Iq::default());
                continue;
            }
        };
        let y = if smooth {
            let neighbours = [slot.wrapping_sub(1), slot + 1]
                .into_iter()
                .filter_map(|n| estimate.get(n).copied().flatten());
            channel_filter(y, neighbours)
        } else {
            y
        };
        let y = y.scale(packet.packet.gain);
        out.push(Iq {
            re: quantize(y.re),
            im: quantize(y.im),
        });
    }
}

/// Frequencies an HT40 buffer can hold, in subcarrier spacings (both 20 MHz channels).
const HT40_SPAN: usize = 4 * BINS;

/// Index of HT40 buffer offset `k` in a by-frequency array of [`HT40_SPAN`].
fn ht40_slot(k: i32) -> usize {
    (k + HT40_SPAN as i32 / 2) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn quantization_clips_instead_of_wrapping() {
        assert_eq!(quantize(127.4), 127);
        assert_eq!(quantize(1e9), 127);
        assert_eq!(quantize(-1e9), -128);
        assert_eq!(quantize(-128.6), -128);
        assert_eq!(quantize(f64::INFINITY), 127);
        assert_eq!(quantize(-3.5), -4);
    }

    #[test]
    fn quantization_rounds_as_f64_round_does() {
        let reference = |x: f64| x.round().clamp(-128.0, 127.0) as i8;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let halves = (-260..=260).map(|i| f64::from(i) * 0.5);
        let near_halves = (-260..=260).flat_map(|i| {
            let x = f64::from(i) * 0.5;
            [x.next_up(), x.next_down()]
        });
        let random = (0..100_000).map(|_| rng.random_range(-300.0..300.0));
        let odd = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.49999999999999994,
        ];
        for x in halves.chain(near_halves).chain(random).chain(odd) {
            assert_eq!(quantize(x), reference(x), "{x:?}");
        }
    }

    #[test]
    fn the_largest_magnitude_is_the_largest_of_every_hypot() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let reference = |v: &[Complex]| v.iter().map(|z| z.abs()).fold(0.0, f64::max);
        for n in [0, 1, 2, 5, 64, 192] {
            for scale in [1e-6, 1.0, 1e200, 1e-170] {
                let mut v: Vec<Complex> = (0..n)
                    .map(|_| {
                        let re: f64 = rng.sample(StandardNormal);
                        let im: f64 = rng.sample(StandardNormal);
                        Complex::new(re, im).scale(scale)
                    })
                    .collect();
                // Near-ties: the same magnitude at other angles.
                if let Some(&z) = v.first() {
                    v.push(Complex::new(z.im, z.re));
                    v.push(Complex::new(-z.re, z.im).scale(1.0 + 1e-16));
                }
                let got = largest_abs(v.iter().copied());
                assert_eq!(
                    got.to_bits(),
                    reference(&v).to_bits(),
                    "n {n} scale {scale}"
                );
            }
        }
        let odd = [Complex::new(f64::NAN, 1.0), Complex::new(3.0, 4.0)];
        assert_eq!(largest_abs(odd.iter().copied()), 5.0);
    }

    #[test]
    fn a_rotated_packet_rotates_as_its_packet_inside_and_outside_its_range() {
        let packet = PacketDistortion {
            common_phase: 1.3,
            timing_offset_s: 80e-9,
            gain: 2.0,
        };
        let mut rotated = RotatedPacket::default();
        rotated.set(packet, -32..=31);
        for k in -100..100 {
            assert_eq!(rotated.rotation(k), packet.rotation(k), "{k}");
        }
    }

    #[test]
    fn agc_offset_jumps_by_the_configured_steps_and_stays_bounded() {
        let imp = Impairments {
            agc_jump_rate_hz: 5.0,
            ..Impairments::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut agc = AgcState::new(0.0, &imp, &mut rng);
        let mut last = 0.0;
        let mut jumps = 0;
        for i in 1..=2000 {
            let now = agc.offset_at(f64::from(i) * 0.01, &imp, &mut rng);
            let step = (now - last).abs();
            if step > 0.0 {
                jumps += 1;
                assert!((1.0..=6.0).contains(&step), "one or two jumps: {step}");
            }
            assert!(now.abs() <= 2.0 * imp.agc_jump_max_db, "offset {now}");
            last = now;
        }
        assert!((50..=150).contains(&jumps), "~100 jumps in 20 s: {jumps}");
    }

    /// The channel filter keeps a smooth channel and removes most of the noise that
    /// subcarrier second differences see (what the realism table's CSI SNR measures).
    #[test]
    fn the_channel_filter_keeps_a_smooth_channel_and_cuts_second_difference_noise() {
        let mut packet = RotatedPacket::default();
        let distortion = PacketDistortion {
            common_phase: 0.0,
            timing_offset_s: 0.0,
            gain: 1.0,
        };
        packet.set(distortion, -32..=31);
        let occupancy = Occupancy::LegacyLtf;
        // A flat channel of 100 (int8 units at gain 1) stays 100 on every used subcarrier,
        // band edges and DC neighbours included (their weights are renormalized).
        let flat = [Complex::new(100.0, 0.0); BINS];
        let mut out = [Iq::default(); BINS];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        report(&flat, &packet, 0.0, occupancy, true, &mut rng, &mut out);
        for (bin, iq) in out.iter().enumerate() {
            let k = subcarrier_of_bin(bin);
            let want = if occupancy.is_used(k) { 100 } else { 0 };
            assert_eq!((iq.re, iq.im), (want, 0), "subcarrier {k}");
        }
        // Noise alone, many packets: second differences over the positive subcarriers.
        let mut second_difference_power = |smooth: bool| {
            let zero = [Complex::ZERO; BINS];
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let mut sum = 0.0;
            for _ in 0..200 {
                report(&zero, &packet, 400.0, occupancy, smooth, &mut rng, &mut out);
                let v = |k: i32| f64::from(out[bin_of_subcarrier(k)].re);
                sum += (3..=25)
                    .map(|k| (v(k - 1) - 2.0 * v(k) + v(k + 1)).powi(2))
                    .sum::<f64>();
            }
            sum
        };
        let ratio = second_difference_power(true) / second_difference_power(false);
        // [1, 2, 1] / 4 passes 1/16 of white noise's second-difference power in theory.
        assert!((0.04..0.09).contains(&ratio), "{ratio}");
    }

    #[test]
    fn agc_never_jumps_when_the_rate_is_zero() {
        let imp = Impairments::none();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut agc = AgcState::new(0.0, &imp, &mut rng);
        assert_eq!(agc.offset_at(1e6, &imp, &mut rng), 0.0);
    }
}
