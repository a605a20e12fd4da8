//! The WiFi CSI renderer: the channel of each simulated link, as an ESP32-CSI-Tool receiver
//! (or an Intel 5300) would report it, encoded with the protocol crate.
//!
//! Per packet and link, for each receive antenna:
//! 1. [`channel`]: the true channel `H(f_k) = Σ_p a_p · exp(−j 2π f_k τ_p)` over the line of
//!    sight, wall/floor/ceiling image sources scaled by `room.multipath`, the room's static
//!    scatterers and the body's scatterers, on the 64 subcarriers `f_k = f_c + k · 312.5 kHz`.
//! 2. [`receiver`]: what the radio does to it: a random common phase and phase slope per
//!    packet, automatic gain control with occasional jumps, noise, int8 quantization.
//! 3. The report: one [`CsiRow`] per antenna (64 subcarriers in ESP32 buffer order, see
//!    [`subcarriers`]; DC and guard bins 0), or one Intel 5300 [`Bfee`] for all antennas.
//!
//! Power and RSSI ([`levels`] gives the numbers and their sources): received power
//! `P = P_tx · G_antennas · mean_k |H(f_k)|²` over the used subcarriers; the row's RSSI is
//! `10·log10(P + N_floor)` dBm, rounded. The RSSI is measured before the gain control, so it
//! keeps the absolute level (and the room's and the body's effect on it) that the CSI,
//! brought to a constant RMS by the gain control, loses.
//!
//! Row header (HT20 as a station hears its access point's frames, values as in the real
//! recording of wire-formats §2.1): `sig_mode` 1 (HT), `rate` 11, `mcs` from the config,
//! `bandwidth` (cwb) 0 (20 MHz), secondary channel 0, `smoothing` 1, `not_sounding` 1,
//! `noise_floor` from the config (−93 dBm), `len` 256 (the HT20 buffer: LLTF + HT-LTF, of
//! which the tool prints the LLTF's 64 subcarriers, as `SHOULD_COLLECT_ONLY_LLTF` builds do).
//!
//! HT40 ([`CsiConfig::bandwidth`] = [`CsiBandwidth::Ht40`], the real capture's kind): `cwb`
//! 1, secondary channel 1 (above) or 2 (below), `len` 384 and all 192 buffer entries
//! printed (LLTF 64 + HT-LTF 128, laid out as [`subcarriers::ht40_entries`] says). The
//! channel is computed on the primary 20 MHz channel's 64 bins and on the secondary's 64
//! bins (centre ±20 MHz) from the same paths, so each entry is the channel at its own
//! frequency over the 40 MHz span; the LLTF entries are the same frequencies as HT20's.
//! The packet's phase offsets apply at each entry's frequency, the noise per entry is the
//! HT20 formula (the HT-LTF one symbol, the LLTF two), and the RSSI and the gain control
//! take one power measurement, as HT20's: the primary's LLTF (the legacy preamble every
//! frame starts with). The LLTF takes the same random draws as the HT20 packet of the same
//! seed (the HT-LTF's noise comes from a stream of its own), so an HT40 capture's LLTF is
//! the HT20 capture's of the same scene and seed, value for value. (The real capture
//! was printed by an LLTF-only build: 128 values under `len` 384; both decode alike.)
pub mod channel;
pub mod levels;
pub mod receiver;
pub mod subcarriers;

use std::fmt;

use dagr_protocols::csi::esp32_csi_tool::{CsiRow, Role};
use dagr_protocols::csi::intel5300::Bfee;
use dagr_protocols::csi::{Iq, RxCtrl};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use self::channel::{
    add_response, add_responses, body_paths, response_of, shadowable_paths, shadowing_paths,
    static_paths, Path, Response, ShadowablePath,
};
use self::levels::{
    dbm_to_mw, mw_to_dbm, ESP32_AGC_RMS, ESP32_NOISE_FLOOR_DBM, ESP32_TX_POWER_DBM, LLTF_SYMBOLS,
    SMALL_DEVICE_ANTENNA_GAINS_DB,
};
use self::receiver::{
    mean_power, peak_magnitude, report, report_ht40, AgcState, Ht40Channel, Impairments,
};
use self::receiver::{PacketDistortion, RotatedPacket};
use self::subcarriers::{
    bin_of_subcarrier, carrier_hz, ht40_entries, BufferEntry, Occupancy, BINS,
    INTEL5300_SUBCARRIERS, SPACING_HZ,
};
pub use self::subcarriers::{CsiBandwidth, SecondaryChannel};
use super::{Room, Scatterer, Vec3, WifiLink, C};

/// `len` of an HT20 row with no secondary channel: the ESP32's buffer bytes (LLTF + HT-LTF).
pub const ESP32_HT20_BUFFER_LEN: u16 = 256;

/// `len` of an HT40 row (secondary above or below, no STBC): LLTF 64 + HT-LTF 128 entries.
pub const ESP32_HT40_BUFFER_LEN: u16 = 384;

/// Intel 5300 `antenna_sel` mapping chain `i` to antenna `i` (2 bits per chain).
const INTEL_IDENTITY_ANTENNA_SEL: u8 = 0b10_01_00;

/// Intel `rate_n_flags`: HT (bit 8) sent from antenna A (bit 14); the MCS is or-ed in.
const INTEL_HT_ANT_A: u16 = 0x4100;

/// The Intel driver reports per-chain RSSI as `P_dBm + 44 + agc`; the AGC aims this level.
const INTEL_RSSI_TARGET: f64 = 40.0;

/// What the renderer simulates: packet timing, radio levels and the receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct CsiConfig {
    /// Packets per second per link (the driver calls [`CsiRenderer::render_packet`] at this
    /// rate; see [`packet_interval_s`](Self::packet_interval_s)).
    pub packet_rate_hz: f64,
    /// The transmitter's conducted power, dBm.
    pub tx_power_dbm: f64,
    /// Effective gain of the transmit and receive antennas together, dB.
    pub antenna_gains_db: f64,
    /// Receiver noise floor over the 20 MHz band, dBm (also printed in each row).
    pub noise_floor_dbm: f64,
    /// int8 RMS over the legacy LTF's used subcarriers (signal plus noise) that the ESP32's
    /// gain control brings the received power to.
    pub esp32_agc_rms: f64,
    /// int8 level the Intel 5300's gain control puts the strongest subcarrier at (no real
    /// 5300 capture to set it from: a level that uses most of the int8 range).
    pub intel_agc_target: f64,
    /// The receiver's imperfections.
    pub impairments: Impairments,
    /// Which ESP32-CSI-Tool firmware prints the rows.
    pub role: Role,
    /// MCS of the measured frames.
    pub mcs: u8,
    /// Length of the measured frames, bytes (`sig_len`).
    pub sig_len: u16,
    /// The width of the ESP32's measured frames (the Intel 5300 is always HT20).
    pub bandwidth: CsiBandwidth,
}

impl Default for CsiConfig {
    /// 100 packets/s per link, the ESP32 levels of [`levels`] (those of the real capture),
    /// realistic impairments.
    fn default() -> Self {
        CsiConfig {
            packet_rate_hz: 100.0,
            tx_power_dbm: ESP32_TX_POWER_DBM,
            antenna_gains_db: SMALL_DEVICE_ANTENNA_GAINS_DB,
            noise_floor_dbm: ESP32_NOISE_FLOOR_DBM,
            esp32_agc_rms: ESP32_AGC_RMS,
            intel_agc_target: 40.0,
            impairments: Impairments::default(),
            role: Role::Sta,
            mcs: 0,
            sig_len: 101,
            bandwidth: CsiBandwidth::Ht20,
        }
    }
}

impl CsiConfig {
    /// Time between two packets of one link, s.
    pub fn packet_interval_s(&self) -> f64 {
        1.0 / self.packet_rate_hz
    }

    /// Transmit power times the antennas' gains, mW: the received power of a channel of
    /// power gain 1.
    fn radiated_mw(&self) -> f64 {
        dbm_to_mw(self.tx_power_dbm + self.antenna_gains_db)
    }

    fn noise_mw(&self) -> f64 {
        dbm_to_mw(self.noise_floor_dbm)
    }

    /// Thermal noise per subcarrier in the channel's power-gain units (the noise floor
    /// relative to the received power of a unit channel), as one training symbol carries
    /// it; 0 when the impairments leave it out.
    fn thermal_noise_var(&self) -> f64 {
        if self.impairments.thermal_noise {
            self.noise_mw() / self.radiated_mw()
        } else {
            0.0
        }
    }

    /// Where the secondary channel lies when the ESP32 receives HT40.
    fn secondary_channel(&self) -> Option<SecondaryChannel> {
        match self.bandwidth {
            CsiBandwidth::Ht20 => None,
            CsiBandwidth::Ht40(side) => Some(side),
        }
    }
}

/// Why a packet could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsiError {
    /// The room has fewer WiFi links.
    NoSuchLink {
        /// Index asked for.
        link: usize,
        /// Links in the room.
        links: usize,
    },
    /// The link has no receive antenna.
    NoAntennas {
        /// Index of the link.
        link: usize,
    },
}

impl fmt::Display for CsiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsiError::NoSuchLink { link, links } => write!(
                f,
                "csi: room has {links} WiFi link(s), no link index {link}"
            ),
            CsiError::NoAntennas { link } => {
                write!(f, "csi: WiFi link {link} has no receive antenna")
            }
        }
    }
}

impl std::error::Error for CsiError {}

/// The two receivers the renderer can play; each keeps its own gain control per link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receiver {
    Esp32,
    Intel5300,
}

impl Receiver {
    fn occupancy(self) -> Occupancy {
        match self {
            Receiver::Esp32 => Occupancy::LegacyLtf,
            Receiver::Intel5300 => Occupancy::Ht20,
        }
    }
}

/// Renders CSI reports of a room's WiFi links. Seeded: the same seed and the same calls give
/// byte-identical output.
#[derive(Debug, Clone)]
pub struct CsiRenderer {
    config: CsiConfig,
    rng: ChaCha8Rng,
    /// The HT40 HT-LTF's estimation noise: a stream of its own, so the LLTF of an HT40
    /// packet takes the same draws from `rng` as the HT20 packet of the same seed.
    ht_ltf_rng: ChaCha8Rng,
    /// Gain control per link, created at a link's first packet.
    esp32_agc: Vec<Option<AgcState>>,
    intel_agc: Vec<Option<AgcState>>,
    /// Running bfee count per link.
    bfee_count: Vec<u16>,
    /// Person-independent channel per link.
    statics: Vec<Option<StaticChannel>>,
    /// Scratch: paths of one antenna, true channel and report per antenna, the row.
    paths: Vec<Path>,
    responses: Vec<Response>,
    reports: Vec<[Iq; BINS]>,
    row: CsiRow,
    /// Scratch for HT40: the secondary channel's bins and the 192-entry report per
    /// antenna, and the buffer layout.
    secondary: Vec<Response>,
    ht40_reports: Vec<Vec<Iq>>,
    ht40_layout: Vec<BufferEntry>,
    /// The side `ht40_layout` was laid out for.
    ht40_side: Option<SecondaryChannel>,
    /// The packet being reported, its subcarriers' rotations computed once for all
    /// antennas.
    packet: RotatedPacket,
}

impl CsiRenderer {
    /// A renderer drawing its randomness from `seed`.
    pub fn new(config: CsiConfig, seed: u64) -> Self {
        CsiRenderer {
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
            ht_ltf_rng: ht_ltf_rng(seed),
            esp32_agc: Vec::new(),
            intel_agc: Vec::new(),
            bfee_count: Vec::new(),
            statics: Vec::new(),
            paths: Vec::new(),
            responses: Vec::new(),
            reports: Vec::new(),
            row: empty_row(),
            secondary: Vec::new(),
            ht40_reports: Vec::new(),
            ht40_layout: Vec::new(),
            ht40_side: None,
            packet: RotatedPacket::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CsiConfig {
        &self.config
    }

    /// The configuration, to change between emissions (a device's noisy spell).
    pub fn config_mut(&mut self) -> &mut CsiConfig {
        &mut self.config
    }

    /// Appends to `out` one ESP32-CSI-Tool row per receive antenna of `room.wifi[link]`:
    /// the packet received at scene time `t` (s) with the person's scatterers `body`,
    /// stamped with the receiver's µs counter `device_time_us`. Row `ant` is the antenna's
    /// index in the link. A link that does not exist or has no antenna is an error and
    /// writes nothing.
    pub fn render_packet(
        &mut self,
        room: &Room,
        link: usize,
        body: &[Scatterer],
        t: f64,
        device_time_us: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), CsiError> {
        let wifi = wifi_link(room, link)?;
        let side = self.config.secondary_channel();
        match side {
            None => self.receive(room, link, body, t, Receiver::Esp32)?,
            Some(side) => self.receive_ht40(room, link, body, t, side)?,
        }
        self.fill_row_header(wifi, device_time_us);
        // A row prints at most ~4 bytes per value and ~200 of columns before them.
        let values = 2 * BINS * if side.is_some() { 3 } else { 1 };
        out.reserve(wifi.rx.len() * (200 + 4 * values));
        for antenna in 0..wifi.rx.len() {
            self.row.rx_ctrl.rssi = self.rssi_dbm(antenna);
            self.row.rx_ctrl.ant = u8::try_from(antenna).unwrap_or(u8::MAX);
            self.row.csi.clear();
            match side {
                None => self.row.csi.extend_from_slice(&self.reports[antenna]),
                Some(_) => self.row.csi.extend_from_slice(&self.ht40_reports[antenna]),
            }
            // Writing into a Vec cannot fail.
            let _ = self.row.write_row(&mut VecWriter(out));
        }
        Ok(())
    }

    /// Appends to `out` one Intel 5300 bfee record (`.dat` framing) of the same channel as
    /// [`render_packet`](Self::render_packet): one transmit stream, the link's first three
    /// antennas as receive chains, 30 grouped subcarriers; errors as `render_packet`. The
    /// 5300 is a receiver of its own: its gain control and randomness are separate draws.
    pub fn render_intel(
        &mut self,
        room: &Room,
        link: usize,
        body: &[Scatterer],
        t: f64,
        device_time_us: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), CsiError> {
        self.receive(room, link, body, t, Receiver::Intel5300)?;
        let bfee = self.bfee(link, device_time_us);
        // The shape (1..=3 chains, 30 samples each) is valid by construction.
        let _ = bfee.encode_into(out);
        Ok(())
    }

    /// The true (impairment-free, unquantized) channel of every antenna of `room.wifi[link]`
    /// at this instant, in ESP32 buffer order: what the reports are made from (for HT40,
    /// the primary channel's bins; [`secondary_channel`](Self::secondary_channel) has the
    /// secondary's).
    pub fn channel(
        &mut self,
        room: &Room,
        link: usize,
        body: &[Scatterer],
    ) -> Result<&[Response], CsiError> {
        let wifi = wifi_link(room, link)?;
        if wifi.rx.is_empty() {
            return Err(CsiError::NoAntennas { link });
        }
        let carrier = carrier_hz(wifi.channel);
        let wavelength = C / carrier;
        let secondary_hz = self.secondary_carrier_hz(carrier);
        self.refresh_static_channel(room, link, secondary_hz);
        let Some(statics) = self.statics[link].as_ref() else {
            return Ok(&self.responses);
        };
        self.responses.clear();
        self.responses.extend_from_slice(&statics.responses);
        self.secondary.clear();
        self.secondary
            .extend_from_slice(&statics.secondary_responses);
        for (a, (rx, h)) in wifi.rx.iter().zip(self.responses.iter_mut()).enumerate() {
            self.paths.clear();
            body_paths(wifi.tx, *rx, body, wavelength, &mut self.paths);
            if let Some(paths) = statics.shadowable.get(a) {
                shadowing_paths(paths, body, &mut self.paths);
            }
            match (secondary_hz, self.secondary.get_mut(a)) {
                (Some(hz), Some(h2)) => add_responses(&self.paths, &mut [(carrier, h), (hz, h2)]),
                _ => add_response(&self.paths, carrier, h),
            }
        }
        Ok(&self.responses)
    }

    /// The secondary 20 MHz channel's true channel per antenna, as computed by the last
    /// [`channel`](Self::channel) call of an HT40 renderer (empty for HT20).
    pub fn secondary_channel(&self) -> &[Response] {
        &self.secondary
    }

    /// Centre of the secondary channel when the ESP32 receives HT40, Hz.
    fn secondary_carrier_hz(&self, carrier: f64) -> Option<f64> {
        self.config
            .secondary_channel()
            .map(|side| carrier + f64::from(side.secondary_offset()) * SPACING_HZ)
    }

    /// Makes `self.statics[link]` the person-independent part of the link's channel (line of
    /// sight, walls, statics), recomputing it only when the room or the link changed.
    fn refresh_static_channel(&mut self, room: &Room, link: usize, secondary_hz: Option<f64>) {
        if self.statics.len() <= link {
            self.statics.resize_with(link + 1, || None);
        }
        let cached = &mut self.statics[link];
        if !cached
            .as_ref()
            .is_some_and(|c| c.is_for(room, link, secondary_hz))
        {
            *cached = Some(StaticChannel::new(
                room,
                link,
                secondary_hz,
                &mut self.paths,
            ));
        }
    }

    /// Computes the channel and the receiver's report of it into `self.reports`.
    fn receive(
        &mut self,
        room: &Room,
        link: usize,
        body: &[Scatterer],
        t: f64,
        receiver: Receiver,
    ) -> Result<(), CsiError> {
        self.channel(room, link, body)?;
        let occupancy = receiver.occupancy();
        let imp = &self.config.impairments;
        let (agcs, target) = match receiver {
            Receiver::Esp32 => (&mut self.esp32_agc, self.config.esp32_agc_rms),
            Receiver::Intel5300 => (&mut self.intel_agc, self.config.intel_agc_target),
        };
        if agcs.len() <= link {
            agcs.resize(link + 1, None);
        }
        let agc = agcs[link].get_or_insert_with(|| AgcState::new(t, imp, &mut self.rng));
        let offset_db = agc.offset_at(t, imp, &mut self.rng);
        let thermal = self.config.thermal_noise_var();
        let level = match receiver {
            // The ESP32 aims the band's power (all antennas, signal plus noise) at an RMS.
            Receiver::Esp32 => {
                let n = self.responses.len().max(1) as f64;
                let signal: f64 = self
                    .responses
                    .iter()
                    .map(|h| mean_power(h, occupancy))
                    .sum();
                (signal / n + thermal).sqrt()
            }
            Receiver::Intel5300 => peak_magnitude(&self.responses, occupancy),
        };
        let packet = PacketDistortion::draw(imp, level, target, offset_db, &mut self.rng);
        // The ESP32 reports the LLTF (two symbols), the 5300 the HT-LTF (one).
        let symbols = match receiver {
            Receiver::Esp32 => LLTF_SYMBOLS,
            Receiver::Intel5300 => 1.0,
        };
        let estimation = 10f64.powf(-imp.estimation_snr_db / 10.0);
        let half = BINS as i32 / 2;
        self.packet.set(packet, -half..=half - 1);
        self.reports
            .resize(self.responses.len(), [Iq::default(); BINS]);
        for (h, out) in self.responses.iter().zip(self.reports.iter_mut()) {
            let noise_var = thermal / symbols + mean_power(h, occupancy) * estimation;
            let smooth = imp.channel_filter && receiver == Receiver::Esp32;
            report(
                h,
                &self.packet,
                noise_var,
                occupancy,
                smooth,
                &mut self.rng,
                out,
            );
        }
        Ok(())
    }

    /// Computes an HT40 packet's channel and the ESP32's 192-entry reports of it into
    /// `self.ht40_reports`: the same steps as [`receive`](Self::receive), over the buffer.
    fn receive_ht40(
        &mut self,
        room: &Room,
        link: usize,
        body: &[Scatterer],
        t: f64,
        side: SecondaryChannel,
    ) -> Result<(), CsiError> {
        self.channel(room, link, body)?;
        if self.ht40_side != Some(side) {
            self.ht40_layout.clear();
            self.ht40_layout.extend(ht40_entries(side));
            self.ht40_side = Some(side);
        }
        let imp = &self.config.impairments;
        if self.esp32_agc.len() <= link {
            self.esp32_agc.resize(link + 1, None);
        }
        let agc = self.esp32_agc[link].get_or_insert_with(|| AgcState::new(t, imp, &mut self.rng));
        let offset_db = agc.offset_at(t, imp, &mut self.rng);
        let channels = |a: usize| Ht40Channel {
            primary: &self.responses[a],
            secondary: &self.secondary[a],
            side,
        };
        let thermal = self.config.thermal_noise_var();
        // The gain control's power measurement is the RSSI's: the primary's legacy LTF.
        let n = self.responses.len().max(1) as f64;
        let signal: f64 = self
            .responses
            .iter()
            .map(|h| mean_power(h, Occupancy::LegacyLtf))
            .sum();
        let level = (signal / n + thermal).sqrt();
        let target = self.config.esp32_agc_rms;
        let packet = PacketDistortion::draw(imp, level, target, offset_db, &mut self.rng);
        let estimation = 10f64.powf(-imp.estimation_snr_db / 10.0);
        let used = self.ht40_layout.iter().filter(|e| e.used).map(|e| e.offset);
        let (lo, hi) = used.fold((0, 0), |(lo, hi), k| (k.min(lo), k.max(hi)));
        self.packet.set(packet, lo..=hi);
        self.ht40_reports
            .resize_with(self.responses.len(), Vec::new);
        let mut lltf = [Iq::default(); BINS];
        for (a, out) in self.ht40_reports.iter_mut().enumerate() {
            let h = &self.responses[a];
            let estimation_var = mean_power(h, Occupancy::LegacyLtf) * estimation;
            // The LLTF exactly as HT20 reports it (same draws), in HT40's ascending order.
            report(
                h,
                &self.packet,
                thermal / LLTF_SYMBOLS + estimation_var,
                Occupancy::LegacyLtf,
                imp.channel_filter,
                &mut self.rng,
                &mut lltf,
            );
            out.clear();
            out.extend(
                self.ht40_layout[..BINS]
                    .iter()
                    .map(|e| lltf[bin_of_subcarrier(e.offset)]),
            );
            let ht_ltf = &self.ht40_layout[BINS..];
            let rng = &mut self.ht_ltf_rng;
            let noise_var = thermal + estimation_var;
            let smooth = imp.channel_filter;
            report_ht40(
                channels(a),
                ht_ltf,
                &self.packet,
                noise_var,
                smooth,
                rng,
                out,
            );
        }
        Ok(())
    }

    /// Received power of `antenna` over the used subcarriers plus noise, dBm.
    fn received_dbm(&self, antenna: usize, occupancy: Occupancy) -> f64 {
        let gain = mean_power(&self.responses[antenna], occupancy);
        mw_to_dbm(self.config.radiated_mw() * gain + self.config.noise_mw())
    }

    fn rssi_dbm(&self, antenna: usize) -> i8 {
        let dbm = self.received_dbm(antenna, Occupancy::LegacyLtf);
        dbm.round().clamp(-128.0, 127.0) as i8
    }

    /// Sets the columns that are the same for every antenna of a packet.
    fn fill_row_header(&mut self, wifi: &WifiLink, device_time_us: u32) {
        let row = &mut self.row;
        row.role = self.config.role;
        row.mac = wifi.mac;
        row.rx_ctrl.mcs = self.config.mcs;
        row.rx_ctrl.noise_floor = self.config.noise_floor_dbm.round().clamp(-128.0, 127.0) as i8;
        row.rx_ctrl.channel = wifi.channel;
        row.rx_ctrl.local_timestamp = device_time_us;
        row.rx_ctrl.sig_len = self.config.sig_len;
        let (cwb, secondary, len) = match self.config.bandwidth {
            CsiBandwidth::Ht20 => (0, 0, ESP32_HT20_BUFFER_LEN),
            CsiBandwidth::Ht40(side) => (1, side.wire_value(), ESP32_HT40_BUFFER_LEN),
        };
        row.rx_ctrl.bandwidth = cwb;
        row.rx_ctrl.secondary_channel = secondary;
        row.len = len;
        row.real_timestamp = f64::from(device_time_us) / 1e6;
    }

    /// The bfee record of the reports in `self.reports` (chains = first three antennas).
    fn bfee(&mut self, link: usize, device_time_us: u32) -> Bfee {
        let nrx = self.reports.len().min(3);
        let occupancy = Receiver::Intel5300.occupancy();
        let dbm: Vec<f64> = (0..nrx).map(|a| self.received_dbm(a, occupancy)).collect();
        let strongest = dbm.iter().copied().fold(f64::MIN, f64::max);
        let agc = (INTEL_RSSI_TARGET - 44.0 - strongest)
            .round()
            .clamp(0.0, 63.0);
        let rssi = |a: usize| {
            dbm.get(a)
                .map_or(0, |p| (p + 44.0 + agc).round().clamp(0.0, 255.0) as u8)
        };
        let mut csi = Vec::with_capacity(nrx * INTEL5300_SUBCARRIERS.len());
        for report in &self.reports[..nrx] {
            csi.extend(
                INTEL5300_SUBCARRIERS
                    .iter()
                    .map(|&k| report[bin_of_subcarrier(k)]),
            );
        }
        if self.bfee_count.len() <= link {
            self.bfee_count.resize(link + 1, 0);
        }
        let count = &mut self.bfee_count[link];
        *count = count.wrapping_add(1);
        Bfee {
            timestamp_low: device_time_us,
            bfee_count: *count,
            nrx: nrx as u8,
            ntx: 1,
            rssi_a: rssi(0),
            rssi_b: rssi(1),
            rssi_c: rssi(2),
            noise: self.config.noise_floor_dbm.round().clamp(-128.0, 127.0) as i8,
            agc: agc as u8,
            antenna_sel: INTEL_IDENTITY_ANTENNA_SEL,
            rate: INTEL_HT_ANT_A | u16::from(self.config.mcs),
            csi,
        }
    }
}

/// The channel of a link's antennas without the person, with what it was computed from.
#[derive(Debug, Clone)]
struct StaticChannel {
    link: WifiLink,
    size: Vec3,
    multipath: f64,
    statics: Vec<Scatterer>,
    responses: Vec<Response>,
    /// Centre of the secondary channel (HT40) and the static channel there.
    secondary_hz: Option<f64>,
    secondary_responses: Vec<Response>,
    /// Per antenna, the static paths a body can block.
    shadowable: Vec<Vec<ShadowablePath>>,
}

impl StaticChannel {
    fn new(room: &Room, link: usize, secondary_hz: Option<f64>, paths: &mut Vec<Path>) -> Self {
        let wifi = room.wifi[link].clone();
        let carrier = carrier_hz(wifi.channel);
        let mut responses = Vec::with_capacity(wifi.rx.len());
        let mut secondary_responses = Vec::new();
        for rx in &wifi.rx {
            paths.clear();
            static_paths(room, wifi.tx, *rx, C / carrier, paths);
            responses.push(response_of(paths, carrier));
            if let Some(hz) = secondary_hz {
                secondary_responses.push(response_of(paths, hz));
            }
        }
        let shadowable = wifi
            .rx
            .iter()
            .map(|rx| {
                let mut out = Vec::new();
                shadowable_paths(room, wifi.tx, *rx, C / carrier, &mut out);
                out
            })
            .collect();
        StaticChannel {
            shadowable,
            link: wifi,
            size: room.size,
            multipath: room.multipath,
            statics: room.statics.clone(),
            responses,
            secondary_hz,
            secondary_responses,
        }
    }

    /// Whether this is still the static channel of `room.wifi[link]`.
    fn is_for(&self, room: &Room, link: usize, secondary_hz: Option<f64>) -> bool {
        self.secondary_hz == secondary_hz
            && room.wifi.get(link) == Some(&self.link)
            && room.size == self.size
            && room.multipath == self.multipath
            && room.statics == self.statics
    }
}

fn wifi_link(room: &Room, link: usize) -> Result<&WifiLink, CsiError> {
    room.wifi.get(link).ok_or(CsiError::NoSuchLink {
        link,
        links: room.wifi.len(),
    })
}

/// The HT20 row every packet starts from (per-packet columns are overwritten).
fn empty_row() -> CsiRow {
    CsiRow {
        len: ESP32_HT20_BUFFER_LEN,
        ..CsiRow::new(Role::Sta, [0; 6], RxCtrl::ht20(1), Vec::with_capacity(BINS))
    }
}

/// The HT-LTF noise stream of a renderer seeded `seed`: stream 1 of the same key.
fn ht_ltf_rng(seed: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    rng
}

/// `fmt::Write` into a byte vector, so rows are formatted without a temporary string.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests;
