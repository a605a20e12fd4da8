//! The simulated devices `dagr sim` runs: each renderer (radar, CSI link, RFID reader) behind
//! the [`DeviceRenderer`] contract, with its own device clock and its emission schedule.
//!
//! - radar: one TI frame every frame period (20 Hz), frame counter starting at a seeded value,
//!   as the OOB demo's data port sends it;
//! - CSI: one receiver per link: an ESP32-CSI-Tool console (one row per receive antenna every
//!   packet interval, 100 packets/s by default, `local_timestamp` from the link's free-running
//!   µs clock) or, by choice, an Intel 5300 log (one bfee record per packet);
//! - RFID: one LLRP reader whose tag reads fall at their own (Poisson) times; the reader's
//!   RO_ACCESS_REPORTs leave in TCP batches every [`RFID_BATCH_S`], stamped with the
//!   reader's UTC clock at each read.
//!
//! A renderer error (an encoder refusing a value) loses that emission, as a device drops a
//! packet; configurations are validated when the renderers are built.
//!
//! The devices `dagr sim` runs ([`room_devices_with`]) have [`Spells`]: during an outage a
//! device sends nothing (the radar skips frames, a CSI receiver packets, the reader's
//! reports are lost; the access point's outages silence every CSI link at once); during a noisy spell the radar sees [`NOISY_CLUTTER_FACTOR`] times its
//! room's false alarms, a CSI receiver loses [`NOISY_CSI_LOSS`] of its packets and estimates
//! the channel at [`NOISY_CSI_SNR_DB`] dB, and the reader misses [`NOISY_RFID_MISS`] of its
//! attempts. [`RoomDevices`] builds them for `dagr sim --out` and `dagr sim --serve` alike;
//! devices built alone (`RadarDevice::new` and the like) have none.
use super::csi::{CsiBandwidth, CsiConfig, CsiRenderer};
use super::draw::{integer, seed_for, seeded, Stream};
use super::radar::{InvalidConfig, RadarConfig, RadarRenderer};
use super::rfid::{RfidConfig, RfidRenderer};
use super::run::{DeviceClock, DeviceRenderer};
use super::run::{DeviceFormat, DeviceStream};
use super::scene::{Scatterer, Scene};
use super::spells::Spells;
use super::world::World;

/// How often the simulated reader sends the reports of the reads since its last send, s.
pub const RFID_BATCH_S: f64 = 0.02;

/// False alarms during a radar's noisy spell, as a multiple of the room's rate.
pub const NOISY_CLUTTER_FACTOR: f64 = 6.0;
/// Share of CSI packets lost during a noisy spell.
pub const NOISY_CSI_LOSS: f64 = 0.4;
/// Channel estimation SNR during a CSI receiver's noisy spell, dB.
pub const NOISY_CSI_SNR_DB: f64 = 8.0;
/// Chance that a reader's inventory attempt fails during a noisy spell.
pub const NOISY_RFID_MISS: f64 = 0.6;
/// Spells are drawn this long past the schedule's end, s.
const SPELL_MARGIN_S: f64 = 60.0;

/// Device numbers keeping the devices' seeds and clocks apart.
const RADAR: u64 = 0;
const RFID: u64 = 1;
/// The WiFi access point the CSI receivers listen to (its outages silence every link).
const ACCESS_POINT: u64 = 2;
const FIRST_CSI_LINK: u64 = 16;

/// What the CSI receivers send: ESP32-CSI-Tool console rows or Intel 5300 bfee records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsiOutput {
    /// One ESP32-CSI-Tool row per receive antenna per packet (64 subcarriers).
    #[default]
    Esp32Rows,
    /// One Intel 5300 bfee record per packet (all receive antennas, 30 grouped subcarriers).
    Intel5300,
}

/// Choices a user makes about the simulated devices (`dagr sim --csi-rate --csi-format
/// --csi-bandwidth --radar-cfg`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceOptions {
    /// Packets per second per WiFi link.
    pub csi_rate_hz: f64,
    /// What the CSI receivers send.
    pub csi_output: CsiOutput,
    /// The width of the frames the ESP32 receivers measure: HT20 (default, 256-byte
    /// buffers) or HT40 (384-byte buffers, as the real capture); Intel 5300 records are
    /// HT20 either way.
    pub csi_bandwidth: CsiBandwidth,
    /// What the radar runs from its first frame (a user's `.cfg`); `None`: the default
    /// IWR6843-like configuration.
    pub radar: Option<RadarCfg>,
    /// The ESP32 receivers smooth their estimate across neighbouring subcarriers
    /// ([`crate::csi::receiver::Impairments::channel_filter`]); off by default, as in the corpora the
    /// reference model was trained on.
    pub csi_channel_filter: bool,
}

/// A user's radar `.cfg`: the file it came from (named in the radar's `sim://radar?cfg=`
/// URI, as `dagr record` names a real radar's) and the configuration it runs
/// ([`RadarConfig::from_cfg`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RadarCfg {
    /// The file as the user named it.
    pub file: String,
    /// What the radar runs.
    pub config: RadarConfig,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        DeviceOptions {
            csi_rate_hz: CsiConfig::default().packet_rate_hz,
            csi_output: CsiOutput::default(),
            csi_bandwidth: CsiBandwidth::default(),
            radar: None,
            csi_channel_filter: false,
        }
    }
}

/// The devices of `world`'s room, seeded from `seed`, with the default options.
pub fn room_devices(world: &World, seed: u64) -> Vec<Box<dyn DeviceRenderer>> {
    room_devices_with(world, seed, &DeviceOptions::default())
        .expect("the default radar configuration is valid")
}

/// The devices of `world`'s room, seeded from `seed`: the radar, one CSI receiver per WiFi
/// link, and the RFID reader (when the room has tags and antennas); an error when
/// `options.radar` cannot run.
pub fn room_devices_with(
    world: &World,
    seed: u64,
    options: &DeviceOptions,
) -> Result<Vec<Box<dyn DeviceRenderer>>, InvalidConfig> {
    Ok(RoomDevices::new(world, seed, options)?.into_renderers())
}

/// One room's devices by kind, spells included: what `dagr sim --out` writes and what
/// `dagr sim --serve` serves are built here, so both render the same physics (the models
/// are trained on the first and meet the second in `dagr demo`).
pub struct RoomDevices {
    /// The TI radar.
    pub radar: RadarDevice,
    /// One receiver per WiFi link, in link order.
    pub csi: Vec<CsiDevice>,
    /// The LLRP reader, when the room has tags and antennas.
    pub rfid: Option<RfidDevice>,
}

impl RoomDevices {
    /// The devices of `world`'s room seeded from `seed`, each with its [`Spells`] drawn up to
    /// a minute past the schedule's end; an error when `options.radar` cannot run.
    pub fn new(
        world: &World,
        seed: u64,
        options: &DeviceOptions,
    ) -> Result<RoomDevices, InvalidConfig> {
        let room = world.room();
        let horizon = world.plan_end() + SPELL_MARGIN_S;
        let spells = |device: u64| Spells::draw(seed, device, horizon);
        let mut radar = RadarDevice::new(seed);
        if let Some(cfg) = &options.radar {
            radar.set_config(cfg.config.clone())?;
            radar.cfg_file = Some(cfg.file.clone());
        }
        radar.spells = spells(RADAR);
        let access_point = spells(ACCESS_POINT);
        let csi = (0..room.wifi.len())
            .map(|link| {
                let mut csi = CsiDevice::with_options(seed, link, options);
                csi.spells = spells(FIRST_CSI_LINK + link as u64).with_outages_of(&access_point);
                csi
            })
            .collect();
        let rfid = (!room.rfid.tags.is_empty() && !room.rfid.antennas.is_empty()).then(|| {
            let mut rfid = RfidDevice::new(seed);
            rfid.spells = spells(RFID);
            rfid
        });
        Ok(RoomDevices { radar, csi, rfid })
    }

    /// The devices as renderers in capture order: radar, CSI links, reader.
    pub fn into_renderers(self) -> Vec<Box<dyn DeviceRenderer>> {
        let mut devices: Vec<Box<dyn DeviceRenderer>> = vec![Box::new(self.radar)];
        for csi in self.csi {
            devices.push(Box::new(csi));
        }
        if let Some(rfid) = self.rfid {
            devices.push(Box::new(rfid));
        }
        devices
    }
}

/// The TI radar's data port.
pub struct RadarDevice {
    renderer: RadarRenderer,
    first_frame: u32,
    sent: u32,
    /// Scene time and frame count when the current configuration took effect.
    origin: (f64, u32),
    body: Vec<Scatterer>,
    /// Outages and noisy spells.
    pub spells: Spells,
    /// The user's `.cfg` file it runs, if any (named in its URI).
    cfg_file: Option<String>,
}

impl RadarDevice {
    /// The radar with the default (IWR6843-like, 20 Hz) configuration.
    pub fn new(seed: u64) -> Self {
        let renderer = RadarRenderer::new(
            RadarConfig::default(),
            seed_for(Stream::Renderer, seed, RADAR),
        )
        .expect("the default radar configuration is valid");
        let first_frame = integer(&mut seeded(Stream::Device, seed, RADAR), 1, 100_000);
        RadarDevice {
            renderer,
            first_frame,
            sent: 0,
            origin: (0.0, 0),
            body: Vec::new(),
            spells: Spells::none(),
            cfg_file: None,
        }
    }
}

impl RadarDevice {
    /// Runs `config` from the next frame on (a `.cfg` sent to the device and `sensorStart`),
    /// keeping the seed and the frame counter; an invalid configuration changes nothing.
    pub fn set_config(&mut self, config: RadarConfig) -> Result<(), InvalidConfig> {
        let seed = self.renderer.seed();
        let next = self.next_due();
        self.renderer = RadarRenderer::new(config, seed)?;
        self.origin = (next, self.sent);
        Ok(())
    }

    /// The configuration in use.
    pub fn config(&self) -> &RadarConfig {
        self.renderer.config()
    }
}

impl DeviceRenderer for RadarDevice {
    fn stream(&self) -> DeviceStream {
        DeviceStream {
            name: "sim-radar".into(),
            format: DeviceFormat::TiMmwave,
            uri: match &self.cfg_file {
                Some(file) => format!("sim://radar?cfg={file}"),
                None => "sim://radar".into(),
            },
        }
    }

    fn next_due(&self) -> f64 {
        let (t0, n0) = self.origin;
        t0 + self.renderer.frame_time(self.sent - n0)
    }

    fn render(&mut self, scene: &dyn Scene, t: f64, out: &mut Vec<u8>) {
        self.body.clear();
        scene.body_at(t, &mut self.body);
        let frame_number = self.first_frame.wrapping_add(self.sent);
        self.sent += 1;
        if self.spells.out_at(t) {
            return;
        }
        let extra = if self.spells.noisy_at(t) {
            (NOISY_CLUTTER_FACTOR - 1.0) * scene.room().clutter_per_frame
        } else {
            0.0
        };
        self.renderer.set_extra_clutter(extra);
        if let Ok(bytes) = self
            .renderer
            .render_bytes(scene.room(), &self.body, t, frame_number)
        {
            out.extend_from_slice(&bytes);
        }
    }
}

/// One WiFi link's receiver: an ESP32-CSI-Tool console or an Intel 5300 log.
pub struct CsiDevice {
    renderer: CsiRenderer,
    output: CsiOutput,
    link: usize,
    clock: DeviceClock,
    sent: u64,
    body: Vec<Scatterer>,
    /// Outages and noisy spells.
    pub spells: Spells,
    clean_snr_db: f64,
}

impl CsiDevice {
    /// The receiver of link `link` with the default configuration (ESP32 rows, 100 packets/s).
    pub fn new(seed: u64, link: usize) -> Self {
        Self::with_options(seed, link, &DeviceOptions::default())
    }

    /// The receiver of link `link` at `options.csi_rate_hz`, sending `options.csi_output`
    /// of `options.csi_bandwidth` frames.
    pub fn with_options(seed: u64, link: usize, options: &DeviceOptions) -> Self {
        let device = FIRST_CSI_LINK + link as u64;
        let mut config = CsiConfig {
            packet_rate_hz: options.csi_rate_hz,
            bandwidth: options.csi_bandwidth,
            ..CsiConfig::default()
        };
        config.impairments.channel_filter = options.csi_channel_filter;
        let renderer = CsiRenderer::new(config.clone(), seed_for(Stream::Renderer, seed, device));
        let clock = DeviceClock::free_running(seed, device);
        CsiDevice {
            clean_snr_db: config.impairments.estimation_snr_db,
            spells: Spells::none(),
            renderer,
            output: options.csi_output,
            link,
            clock,
            sent: 0,
            body: Vec::new(),
        }
    }
}

impl DeviceRenderer for CsiDevice {
    fn stream(&self) -> DeviceStream {
        let format = match self.output {
            CsiOutput::Esp32Rows => DeviceFormat::Esp32Csi,
            CsiOutput::Intel5300 => DeviceFormat::Intel5300,
        };
        DeviceStream {
            name: format!("sim-wifi-{}", self.link + 1).into(),
            format,
            uri: format!("sim://wifi/{}", self.link + 1),
        }
    }

    fn next_due(&self) -> f64 {
        self.sent as f64 * self.renderer.config().packet_interval_s()
    }

    fn render(&mut self, scene: &dyn Scene, t: f64, out: &mut Vec<u8>) {
        let n = self.sent;
        self.sent += 1;
        let noisy = self.spells.noisy_at(t);
        if self.spells.out_at(t) || (noisy && lost(n, self.link)) {
            return;
        }
        self.renderer.config_mut().impairments.estimation_snr_db = if noisy {
            NOISY_CSI_SNR_DB
        } else {
            self.clean_snr_db
        };
        self.body.clear();
        scene.body_at(t, &mut self.body);
        let local_us = self.clock.micros_u32(t);
        let before = out.len();
        let (room, link, body) = (scene.room(), self.link, &self.body);
        let rendered = match self.output {
            CsiOutput::Esp32Rows => self
                .renderer
                .render_packet(room, link, body, t, local_us, out),
            CsiOutput::Intel5300 => self
                .renderer
                .render_intel(room, link, body, t, local_us, out),
        };
        if rendered.is_err() {
            // A packet that could not be rendered is lost whole.
            out.truncate(before);
        }
    }
}

/// Whether packet `n` of link `link` is lost in a noisy spell ([`NOISY_CSI_LOSS`] of them,
/// by a hash of the two: no random stream is disturbed).
fn lost(n: u64, link: usize) -> bool {
    let mut h = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (link as u64).wrapping_mul(0xbf58_476d);
    h ^= h >> 31;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 29;
    ((h >> 11) as f64 / (1u64 << 53) as f64) < NOISY_CSI_LOSS
}

/// The LLRP reader.
pub struct RfidDevice {
    renderer: RfidRenderer,
    clock: DeviceClock,
    batches: u64,
    /// Outages and noisy spells.
    pub spells: Spells,
    clean_miss: f64,
}

impl RfidDevice {
    /// The reader with the default configuration (~30 reads/s per tag, FCC hopping).
    pub fn new(seed: u64) -> Self {
        let config = RfidConfig {
            seed: seed_for(Stream::Renderer, seed, RFID),
            ..RfidConfig::default()
        };
        RfidDevice {
            clean_miss: config.miss_probability,
            spells: Spells::none(),
            renderer: RfidRenderer::new(config),
            clock: DeviceClock::utc(seed, RFID),
            batches: 0,
        }
    }

    /// Starts the reader's UTC clock at `base_us` µs since the Unix epoch at scene time 0
    /// (a served reader reads the real wall clock), keeping its seeded offset and drift.
    pub fn set_utc_base(&mut self, base_us: u64) {
        self.clock.base_us = base_us;
    }

    /// The reader's UTC clock.
    pub fn clock(&self) -> DeviceClock {
        self.clock
    }
}

impl DeviceRenderer for RfidDevice {
    fn stream(&self) -> DeviceStream {
        DeviceStream {
            name: "sim-rfid".into(),
            format: DeviceFormat::Llrp,
            uri: "sim://rfid".into(),
        }
    }

    fn next_due(&self) -> f64 {
        (self.batches + 1) as f64 * RFID_BATCH_S
    }

    fn render(&mut self, scene: &dyn Scene, t: f64, out: &mut Vec<u8>) {
        let clock = self.clock;
        let mut batch = Vec::new();
        self.renderer.config_mut().miss_probability = if self.spells.noisy_at(t) {
            NOISY_RFID_MISS
        } else {
            self.clean_miss
        };
        let rendered = self
            .renderer
            .render_scene_until(scene, t, |at| clock.micros(at), &mut batch)
            .is_ok();
        if rendered && !self.spells.out_at(t) {
            out.extend_from_slice(&batch);
        }
        self.batches += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_radar_config_takes_over_from_the_next_frame_at_its_own_rate() {
        let world = World::new(
            crate::Room::generate(1),
            crate::body::Subject::generate(1),
            crate::scenario::Schedule::random(1, 10.0),
            1,
        );
        let mut radar = RadarDevice::new(3);
        let mut out = Vec::new();
        for _ in 0..10 {
            let t = radar.next_due();
            radar.render(&world, t, &mut out);
        }
        let switch = radar.next_due();
        assert!((switch - 0.5).abs() < 1e-9, "10 frames at 20 Hz");
        let slower = RadarConfig {
            frame_rate_hz: 10.0,
            clutter_removal: false,
            ..RadarConfig::default()
        };
        radar.set_config(slower).unwrap();
        assert!((radar.next_due() - switch).abs() < 1e-9, "no jump in time");
        radar.render(&world, switch, &mut out);
        assert!(
            (radar.next_due() - switch - 0.1).abs() < 1e-9,
            "then every 100 ms"
        );
        assert!(!radar.config().clutter_removal);
        let invalid = RadarConfig {
            frame_rate_hz: 0.0,
            ..RadarConfig::default()
        };
        assert!(radar.set_config(invalid).is_err());
        assert!(
            (radar.config().frame_rate_hz - 10.0).abs() < 1e-9,
            "unchanged"
        );
    }
}
