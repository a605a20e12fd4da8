//! The simulated UHF RFID reader: an Impinj-style reader inventorying the room's tags,
//! rendered as the LLRP RO_ACCESS_REPORT bytes it would send.
//!
//! # What is simulated
//! - **Inventory timing** ([`RfidRenderer::next_read`]): each tag is read as a Poisson
//!   process of mean rate [`RfidConfig::reads_per_tag_hz`] (~30 Hz), the random gaps
//!   standing in for Gen2's slotted-ALOHA singulation. Internally the reads of all tags
//!   form one merged Poisson process of rate `n_tags·rate`, each event picking a tag
//!   uniformly, so reads come out in time order.
//! - **Antennas** are time-multiplexed: antenna `⌊t / antenna_dwell⌋ mod n + 1` is the
//!   only one active at `t`, so a tag is read only by the active antenna.
//! - **Frequency hopping** over the FCC plan ([`channels`]): 50 channels 902.75–927.25 MHz,
//!   a pseudo-random channel every 0.2–0.4 s; LLRP ChannelIndex is 1-based.
//! - **The channel** ([`link`]): line of sight plus one bounce off every body scatterer
//!   and (scaled by `room.multipath`) every static reflector, body shadowing of the line
//!   of sight, two-way link budget (∝ 1/d⁴), Doppler from the paths' rates of change.
//! - **Sensitivity and misses**: a tag is read only if the forward power reaching it is at
//!   least [`RfidConfig::tag_sensitivity_dbm`] and its backscatter at the reader at least
//!   [`RfidConfig::reader_sensitivity_dbm`]; above that, an attempt still fails with
//!   probability [`RfidConfig::miss_probability`] (collisions, a corrupted reply) and, near
//!   the reader's sensitivity, more often (decoding succeeds with probability
//!   `1 / (1 + exp(−(RSSI − sensitivity − 3 dB) / 1.5 dB))`).
//! - **Tag orientation**: each tag's antenna gain is off by a fixed −6..+1 dB (keyed by its
//!   EPC): tags are not all facing the reader, so RSSI differs between tags at one distance.
//! - **Tags on objects** ([`Scene::moved_tags`]): a cup or phone tag is read where the
//!   person holds or carries it, moving with the hand (its phase then turns by 4π per
//!   wavelength of path change), and not at all when it left the room with the person.
//! - **The measurement**: reported phase
//!   `φ = (arg h + θ_tag + θ_reader(antenna, channel) + n_φ) mod 2π`, where `arg h` is
//!   `4πd/λ(f_ch)` in free space, `θ_tag` a fixed per-tag offset (seeded from the EPC),
//!   `θ_reader` a fixed offset per antenna and channel (cables, the receive chain: real
//!   readers have one per channel, which is why RFID sensing calibrates per channel), and
//!   `n_φ` Gaussian noise (a few degrees). RSSI gets Gaussian noise in dB, Doppler
//!   Gaussian noise in Hz (real single-read Doppler estimates are coarse).
//! - **Encoding** ([`report`]): the reader's quantisation and the protocol crate's LLRP
//!   encoder; FirstSeen/LastSeen UTC from the caller's reader clock.
//!
//! Doppler sign: `f_D = −(2/λ)·dd/dt`, positive for an approaching tag or a shortening
//! reflection path. Impinj describes ImpinjRFDopplerFrequency as the frequency shift of
//! the tag's reply, which physically has this sign; it was not checked against a capture
//! of a real moving tag.
//!
//! Not simulated: detuning of a tag touching the body, tag-to-tag
//! collisions beyond the random read gaps, reader mode/Tari timing, the π phase ambiguity
//! some readers show, antenna patterns.
//!
//! Deterministic: the same config, room and body trajectory give the same reads and bytes,
//! however the time range is split across calls.
pub mod channels;
pub mod link;
pub mod report;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};
use std::f64::consts::TAU;

use self::channels::{HopSequence, FCC_CHANNELS};
use self::link::{LinkBudget, Surroundings, TagPose};
use self::report::ReportBatcher;
use super::{MovedTag, Room, Scatterer, Scene, Vec3};

/// Everything that shapes the simulated reader's output.
#[derive(Debug, Clone, PartialEq)]
pub struct RfidConfig {
    /// Seed of every random choice (hops, read times, noise, phase offsets).
    pub seed: u64,
    /// Mean reads per second of a tag in range of every antenna (all tags together are
    /// capped at [`MAX_ATTEMPTS_PER_S`]).
    pub reads_per_tag_hz: f64,
    /// Shortest and longest dwell on one channel, s.
    pub hop_dwell_s: (f64, f64),
    /// How long each antenna is active before the reader switches to the next, s.
    pub antenna_dwell_s: f64,
    /// Radio constants of the link.
    pub link: LinkBudget,
    /// Least forward power that wakes a tag, dBm (modern tag ICs: −18 to −22).
    pub tag_sensitivity_dbm: f64,
    /// Least backscatter power the reader decodes, dBm.
    pub reader_sensitivity_dbm: f64,
    /// Standard deviation of the phase noise, degrees.
    pub phase_noise_deg: f64,
    /// Standard deviation of the RSSI noise, dB.
    pub rssi_noise_db: f64,
    /// Standard deviation of the Doppler noise, Hz.
    pub doppler_noise_hz: f64,
    /// Chance that an attempt on a tag well above sensitivity still yields no read.
    pub miss_probability: f64,
    /// TagReportData per RO_ACCESS_REPORT (1 = one message per read, as the llrpkit
    /// emulator does).
    pub reads_per_report: usize,
}

impl Default for RfidConfig {
    /// An Impinj Speedway-like reader: ~30 reads/s per tag, FCC hopping every 0.2–0.4 s,
    /// 50 ms per antenna, 30 dBm, a −18 dBm tag IC, 3° phase noise, one read per report.
    fn default() -> Self {
        RfidConfig {
            seed: 0,
            reads_per_tag_hz: 30.0,
            hop_dwell_s: (0.2, 0.4),
            antenna_dwell_s: 0.05,
            link: LinkBudget::default(),
            tag_sensitivity_dbm: -18.0,
            reader_sensitivity_dbm: -84.0,
            phase_noise_deg: 3.0,
            rssi_noise_db: 0.5,
            doppler_noise_hz: 4.0,
            miss_probability: 0.15,
            reads_per_report: 1,
        }
    }
}

/// One simulated tag read, before the reader's quantisation: what the report will carry,
/// plus ground truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagRead {
    /// Scene time of the read, s.
    pub t_s: f64,
    /// Index of the tag in `room.rfid.tags`.
    pub tag: usize,
    /// LLRP AntennaID (1-based).
    pub antenna_id: u16,
    /// LLRP ChannelIndex (1-based into the FCC plan).
    pub channel_index: u16,
    /// Carrier frequency, Hz.
    pub frequency_hz: f64,
    /// Reported phase including offsets and noise, rad in [0, 2π).
    pub phase_rad: f64,
    /// Reported RSSI with noise, dBm.
    pub rssi_dbm: f64,
    /// Reported Doppler with noise, Hz.
    pub doppler_hz: f64,
    /// Ground truth: antenna–tag distance, m.
    pub distance_m: f64,
}

/// What the reader asks of the scene per attempt: `observe(t, body, moved)` appends the
/// body and the moved object tags at `t`.
type Observe<'a> = dyn FnMut(f64, &mut Vec<Scatterer>, &mut Vec<MovedTag>) + 'a;

/// Ceiling on inventory attempts per second (all tags together), so that an absurd rate
/// still lets time advance.
pub const MAX_ATTEMPTS_PER_S: f64 = 1e6;

/// Independent random streams, so that e.g. changing the noise does not move the hops.
mod stream {
    pub const READS: u64 = 1;
    pub const HOPS: u64 = 2;
}

/// The simulated reader. Renders reads in time order from scene time 0 on; see the module
/// doc for the model.
///
/// Two ways to drive it: [`render_until`](Self::render_until) appends the LLRP bytes of
/// every read before a time; [`next_read`](Self::next_read) and
/// [`encode`](Self::encode) do the same one read at a time (for per-message timestamps, or
/// to look at ground truth).
#[derive(Debug, Clone)]
pub struct RfidRenderer {
    config: RfidConfig,
    rng: ChaCha8Rng,
    hops: HopSequence,
    next_attempt_s: f64,
    batcher: ReportBatcher,
    body: Vec<Scatterer>,
    moved: Vec<MovedTag>,
}

impl RfidRenderer {
    /// A reader with `config`, at scene time 0.
    pub fn new(config: RfidConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(stream::READS);
        let mut hop_seeder = ChaCha8Rng::seed_from_u64(config.seed);
        hop_seeder.set_stream(stream::HOPS);
        let hops = HopSequence::new(hop_seeder.random(), config.hop_dwell_s);
        RfidRenderer {
            batcher: ReportBatcher::new(config.reads_per_report),
            config,
            rng,
            hops,
            next_attempt_s: 0.0,
            body: Vec::new(),
            moved: Vec::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &RfidConfig {
        &self.config
    }

    /// The configuration, to change between emissions (a device's noisy spell).
    pub fn config_mut(&mut self) -> &mut RfidConfig {
        &mut self.config
    }

    /// Appends to `out` the RO_ACCESS_REPORT bytes of every read before scene time `t_to`
    /// (s); returns the number of reads. `body_at(t, out)` appends the person's scatterers
    /// at `t`; `utc_us(t)` is the reader's UTC clock (µs since the epoch) at scene time `t`.
    /// With batching, reads of an unfinished batch wait for the next call or
    /// [`finish`](Self::finish).
    pub fn render_until(
        &mut self,
        room: &Room,
        mut body_at: impl FnMut(f64, &mut Vec<Scatterer>),
        t_to: f64,
        utc_us: impl Fn(f64) -> u64,
        out: &mut Vec<u8>,
    ) -> dagr_protocols::Result<usize> {
        let mut observe =
            |t: f64, body: &mut Vec<Scatterer>, _: &mut Vec<MovedTag>| body_at(t, body);
        self.render_observed(room, &mut observe, t_to, &utc_us, out)
    }

    /// [`render_until`](Self::render_until) with the body and the moved object tags taken
    /// from a [`Scene`].
    pub fn render_scene_until(
        &mut self,
        scene: &(impl Scene + ?Sized),
        t_to: f64,
        utc_us: impl Fn(f64) -> u64,
        out: &mut Vec<u8>,
    ) -> dagr_protocols::Result<usize> {
        let mut observe = |t: f64, body: &mut Vec<Scatterer>, moved: &mut Vec<MovedTag>| {
            scene.body_at(t, body);
            scene.moved_tags(t, body, moved);
        };
        self.render_observed(scene.room(), &mut observe, t_to, &utc_us, out)
    }

    fn render_observed(
        &mut self,
        room: &Room,
        observe: &mut Observe<'_>,
        t_to: f64,
        utc_us: &dyn Fn(f64) -> u64,
        out: &mut Vec<u8>,
    ) -> dagr_protocols::Result<usize> {
        let mut reads = 0;
        while let Some(read) = self.next_observed(room, observe, t_to) {
            self.encode(room, &read, utc_us(read.t_s), out)?;
            reads += 1;
        }
        Ok(reads)
    }

    /// Appends the report of `read` (seen at reader time `utc_us`) to `out`; returns true
    /// when that completed a message.
    pub fn encode(
        &mut self,
        room: &Room,
        read: &TagRead,
        utc_us: u64,
        out: &mut Vec<u8>,
    ) -> dagr_protocols::Result<bool> {
        let epc = room.rfid.tags.get(read.tag).map_or([0; 12], |t| t.epc);
        self.batcher
            .push(report::tag_report(read, epc, utc_us), out)
    }

    /// Appends a last, partial batch of reports to `out` (nothing when reports are not
    /// batched).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> dagr_protocols::Result<()> {
        self.batcher.flush(out)
    }

    /// The next read before scene time `t_to`, or `None` when there is none (the reader
    /// then resumes from there on the next call).
    pub fn next_read(
        &mut self,
        room: &Room,
        mut body_at: impl FnMut(f64, &mut Vec<Scatterer>),
        t_to: f64,
    ) -> Option<TagRead> {
        let mut observe =
            |t: f64, body: &mut Vec<Scatterer>, _: &mut Vec<MovedTag>| body_at(t, body);
        self.next_observed(room, &mut observe, t_to)
    }

    /// [`next_read`](Self::next_read) with `observe(t, body, moved)` appending the body and
    /// the moved object tags at `t`.
    fn next_observed(
        &mut self,
        room: &Room,
        observe: &mut Observe<'_>,
        t_to: f64,
    ) -> Option<TagRead> {
        let tags = room.rfid.tags.len();
        let antennas = room.rfid.antennas.len();
        let rate = (self.config.reads_per_tag_hz * tags as f64).min(MAX_ATTEMPTS_PER_S);
        if antennas == 0 || rate.is_nan() || rate <= 0.0 {
            return None;
        }
        loop {
            if self.next_attempt_s >= t_to {
                return None;
            }
            let t = self.next_attempt_s;
            self.next_attempt_s += self.rng.sample::<f64, _>(Exp1) / rate;
            let tag = self.rng.random_range(0..tags);
            let antenna = self.active_antenna(t, antennas);
            let channel = self.hops.channel_at(t);
            self.body.clear();
            self.moved.clear();
            observe(t, &mut self.body, &mut self.moved);
            if let Some(read) = self.measure(room, t, tag, antenna, channel) {
                return Some(read);
            }
        }
    }

    /// The antenna index (0-based) active at `t`.
    fn active_antenna(&self, t: f64, antennas: usize) -> usize {
        let dwell = self.config.antenna_dwell_s.max(1e-6);
        ((t / dwell).floor() as u64 % antennas as u64) as usize
    }

    /// One inventory attempt of `tag` on `antenna` and `channel` against the body in
    /// `self.body`: the read, or `None` when the tag or the reader is below sensitivity.
    fn measure(
        &mut self,
        room: &Room,
        t: f64,
        tag: usize,
        antenna: usize,
        channel: u16,
    ) -> Option<TagRead> {
        let (tag_pos, tag_vel) = match self.moved.iter().find(|m| m.tag == tag) {
            Some(MovedTag { pose: None, .. }) => return None,
            Some(MovedTag {
                pose: Some((pos, vel)),
                ..
            }) => (*pos, *vel),
            None => (room.rfid.tags[tag].pos, Vec3::ZERO),
        };
        let antenna_pos = room.rfid.antennas[antenna];
        let around = Surroundings {
            body: &self.body,
            statics: &room.statics,
            multipath: room.multipath,
        };
        let pose = TagPose {
            pos: tag_pos,
            vel: tag_vel,
        };
        let wavelength = channels::wavelength_m(channel);
        let b = self
            .config
            .link
            .backscatter(antenna_pos, pose, wavelength, around);
        let orientation = tag_gain_db(self.config.seed, &room.rfid.tags[tag].epc);
        let rssi = b.rssi_dbm + 2.0 * orientation + self.noise(self.config.rssi_noise_db);
        if b.tag_power_dbm + orientation < self.config.tag_sensitivity_dbm
            || rssi < self.config.reader_sensitivity_dbm
        {
            return None;
        }
        let margin = (rssi - self.config.reader_sensitivity_dbm - DECODE_MARGIN_DB) / 1.5;
        let decoded = 1.0 / (1.0 + (-margin).exp());
        let draw: f64 = self.rng.random();
        if draw < self.config.miss_probability || draw > decoded {
            return None;
        }
        let offsets = self.phase_offset(&room.rfid.tags[tag].epc, antenna, channel);
        let phase_noise = self.noise(self.config.phase_noise_deg.to_radians());
        Some(TagRead {
            t_s: t,
            tag,
            antenna_id: antenna as u16 + 1,
            channel_index: channel,
            frequency_hz: channels::frequency_hz(channel),
            phase_rad: (b.phase_rad + offsets + phase_noise).rem_euclid(TAU),
            rssi_dbm: rssi,
            doppler_hz: b.doppler_hz + self.noise(self.config.doppler_noise_hz),
            distance_m: antenna_pos.distance(tag_pos),
        })
    }

    /// Gaussian noise of standard deviation `sigma` (0 or less: none, and no draw).
    fn noise(&mut self, sigma: f64) -> f64 {
        if sigma > 0.0 {
            sigma * self.rng.sample::<f64, _>(StandardNormal)
        } else {
            0.0
        }
    }

    /// The fixed phase offset `θ_tag + θ_reader(antenna, channel)` added to a read of the
    /// tag `epc` (rad, in [0, 2π)): the part of the reported phase that is not the channel.
    pub fn phase_offset(&self, epc: &[u8; 12], antenna: usize, channel: u16) -> f64 {
        let tag = unit_hash(self.config.seed, epc);
        let key = (antenna as u64) * u64::from(FCC_CHANNELS) + u64::from(channel);
        let reader = unit_hash(self.config.seed ^ 0x5eed_a27e, &key.to_le_bytes());
        ((tag + reader) * TAU).rem_euclid(TAU)
    }
}

/// RSSI above the reader's sensitivity at which half the replies decode, dB.
const DECODE_MARGIN_DB: f64 = 3.0;

/// The fixed gain error of the tag `epc` from its orientation, dB (−6..+1).
pub(crate) fn tag_gain_db(seed: u64, epc: &[u8; 12]) -> f64 {
    -6.0 + 7.0 * unit_hash(seed ^ 0x07_1e47, epc)
}

/// A number in [0, 1) fixed by `seed` and `bytes` (FNV-1a then a splitmix64 finaliser):
/// a stable random draw keyed by identity rather than by call order.
fn unit_hash(seed: u64, bytes: &[u8]) -> f64 {
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests;
