//! `dagr sim`: the digital twin written to a capture: room K, subject K, a scripted or
//! random schedule, every simulated device's bytes and the ground-truth labels.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use dagr_host::runtime::watch_signals;
use dagr_host::sim_capture::{write_capture_until, META_RADAR_CFG};
use dagr_sim::csi::{CsiBandwidth, SecondaryChannel};
use dagr_sim::devices::{CsiOutput, DeviceOptions, RadarCfg};
use dagr_sim::radar::RadarConfig;
use dagr_sim::run::renderers_with;
use dagr_sim::scenario::{Activities, Schedule};
use dagr_sim::world::World;
use dagr_sim::{body::Subject, Room};

use dagr_host::output::{Overwrite, StagedFile};

use super::{out_error, Outcome, UsageError};

/// What `dagr sim` was asked for.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The scene, whether written to a file or served live.
    #[command(flatten)]
    pub scene: SceneArgs,
    /// The capture file to write. It must not exist unless --force is given; it is
    /// written under a temporary name beside it and renamed when complete.
    #[arg(long, value_name = "FILE.mcap", required_unless_present = "serve")]
    pub out: Option<PathBuf>,
    /// Replace --out if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Serve the simulated devices live instead: pseudo-terminals for the radar and
    /// the CSI receivers, an LLRP reader on 127.0.0.1; prints one source URI per line
    /// for `dagr record` and serves until --duration or SIGINT/SIGTERM.
    #[arg(long, conflicts_with = "out")]
    pub serve: bool,
    /// With --serve: the simulated LLRP reader's TCP port (default: any free port).
    #[arg(long, value_name = "PORT", requires = "serve", default_value = "0")]
    pub llrp_port: u16,
    /// With --serve: seconds the simulated LLRP reader lets a client stay silent (no
    /// request, no KEEPALIVE_ACK) before dropping it, so a dead client cannot hold the
    /// reader's single client slot; at least three of the client's keepalive periods.
    #[arg(long, value_name = "S", requires = "serve", default_value = "30",
          value_parser = super::seconds_in(0.0, super::MAX_SIM_S, true))]
    pub llrp_idle_timeout: f64,
    /// With --serve: append each activity label as a JSON line when it starts.
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub labels: Option<PathBuf>,
    /// CSI packets per second per WiFi link (with --out).
    #[arg(long, value_name = "HZ", default_value = "100")]
    pub csi_rate: f64,
    /// What the CSI receivers send (with --out).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = CsiFormat::Esp32Csi)]
    pub csi_format: CsiFormat,
    /// The width of the frames the ESP32 CSI receivers measure (with --out or --serve):
    /// 20 (HT20, 256-byte buffers, the LLTF's 64 subcarriers printed) or 40 (HT40, as the
    /// real ESP32 capture: 384-byte buffers, LLTF 64 + HT-LTF 128 subcarriers printed).
    #[arg(long, value_name = "MHZ", value_enum, default_value_t = CsiWidth::Mhz20)]
    pub csi_bandwidth: CsiWidth,
    /// With --csi-bandwidth 40: where the secondary 20 MHz channel lies [default: above].
    #[arg(long, value_name = "SIDE", value_enum)]
    pub csi_secondary: Option<CsiSecondary>,
    /// The radar's `.cfg` (with --out): the simulated radar runs what it asks for from
    /// the first frame (2D IWR1642 or 3D IWR6843 antennas, clutter removal, frame rate,
    /// range and Doppler resolution); the capture names the file in the radar's URI and
    /// keeps its text. Default: an IWR6843 at 20 frames/s with clutter removal on.
    #[arg(long, value_name = "FILE", conflicts_with = "serve")]
    pub radar_cfg: Option<PathBuf>,
    /// The ESP32 CSI receivers smooth their estimate across neighbouring subcarriers, as
    /// ESP-IDF does with `channel_filter_en` (on in Espressif's CSI examples): each used
    /// subcarrier becomes [1, 2, 1]/4 of itself and its used neighbours (with --out). Off by
    /// default: the reference model was trained without it.
    #[arg(long, conflicts_with = "serve")]
    pub csi_channel_filter: bool,
}

/// The room, the person, what they do and for how long.
#[derive(Debug, Args)]
pub struct SceneArgs {
    /// Seed of everything random in the run (schedule, motions, device noise).
    #[arg(long, value_name = "N", default_value = "0")]
    pub seed: u64,
    /// Which room (geometry, furniture, devices, multipath, clutter).
    #[arg(long, value_name = "K", default_value = "0")]
    pub room: u32,
    /// Which person (height, build, speed, habits).
    #[arg(long, value_name = "K", default_value = "0")]
    pub subject: u32,
    /// Activity schedule file (default: random activities).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Seconds to simulate, at most 1e6 (default with --scenario: until its last activity
    /// ends, plus 1 s).
    #[arg(long, value_name = "S", value_parser = super::seconds_in(0.0, super::MAX_SIM_S, true))]
    pub duration: Option<f64>,
}

/// What the simulated CSI receivers log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsiFormat {
    /// ESP32-CSI-Tool CSV rows
    #[value(name = "esp32-csi")]
    Esp32Csi,
    /// Intel 5300 CSI Tool bfee records
    #[value(name = "intel5300")]
    Intel5300,
}

/// The channel width of `--csi-bandwidth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsiWidth {
    /// HT20
    #[value(name = "20")]
    Mhz20,
    /// HT40
    #[value(name = "40")]
    Mhz40,
}

/// The secondary channel of `--csi-secondary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsiSecondary {
    /// 20 MHz above the primary (HT40+)
    Above,
    /// 20 MHz below the primary (HT40-)
    Below,
}

impl SimArgs {
    /// What `--csi-bandwidth`, `--csi-secondary` and `--csi-format` ask of the ESP32
    /// receivers; a secondary channel without HT40, or HT40 from the Intel 5300 (which the
    /// twin renders at HT20 only), is a usage error.
    pub fn csi_bandwidth(&self) -> Result<CsiBandwidth, UsageError> {
        let side = match self.csi_secondary {
            None | Some(CsiSecondary::Above) => SecondaryChannel::Above,
            Some(CsiSecondary::Below) => SecondaryChannel::Below,
        };
        match (self.csi_bandwidth, self.csi_secondary) {
            (CsiWidth::Mhz20, Some(_)) => Err(UsageError(
                "--csi-secondary: only with --csi-bandwidth 40 (HT20 frames have no secondary \
                 channel)"
                    .into(),
            )),
            (CsiWidth::Mhz20, None) => Ok(CsiBandwidth::Ht20),
            (CsiWidth::Mhz40, _) if self.csi_format == CsiFormat::Intel5300 => Err(UsageError(
                "--csi-bandwidth 40: the simulated Intel 5300 reports HT20 only; expected \
                 --csi-format esp32-csi"
                    .into(),
            )),
            (CsiWidth::Mhz40, _) => Ok(CsiBandwidth::Ht40(side)),
        }
    }

    /// `--csi-channel-filter`, an ESP32 setting: with `--csi-format intel5300` it is a
    /// usage error rather than silently ignored.
    pub fn csi_channel_filter(&self) -> Result<bool, UsageError> {
        if self.csi_channel_filter && self.csi_format == CsiFormat::Intel5300 {
            return Err(UsageError(
                "--csi-channel-filter: an ESP32 receiver setting; expected --csi-format \
                 esp32-csi"
                    .into(),
            ));
        }
        Ok(self.csi_channel_filter)
    }
}

impl SceneArgs {
    /// The world these arguments describe, playing `activities`.
    pub fn world(&self, activities: Activities) -> World {
        World::new(
            Room::generate(self.room),
            Subject::generate(self.subject),
            activities,
            self.seed,
        )
    }
}

/// Runs the simulation; see `dagr sim --help`.
pub fn run(args: &SimArgs) -> Outcome {
    if args.serve {
        return super::sim_serve::serve(args);
    }
    let Some(out) = &args.out else {
        return Err(UsageError("--out FILE.mcap is required".into()).into());
    };
    let scene = &args.scene;
    let (schedule, duration) = schedule_and_duration(scene)?;
    let world = scene.world(schedule);
    if !(args.csi_rate > 0.0 && args.csi_rate <= 5000.0) {
        return Err(UsageError(format!(
            "--csi-rate {}: expected packets per second in (0, 5000]",
            args.csi_rate
        ))
        .into());
    }
    let csi_bandwidth = args.csi_bandwidth()?;
    let radar = args.radar_cfg.as_deref().map(radar_cfg).transpose()?;
    let mut notes = BTreeMap::new();
    if let Some((_, text)) = &radar {
        notes.insert(META_RADAR_CFG.to_string(), text.clone());
    }
    let options = DeviceOptions {
        csi_rate_hz: args.csi_rate,
        csi_output: match args.csi_format {
            CsiFormat::Esp32Csi => CsiOutput::Esp32Rows,
            CsiFormat::Intel5300 => CsiOutput::Intel5300,
        },
        csi_bandwidth,
        radar: radar.map(|(cfg, _)| cfg),
        csi_channel_filter: args.csi_channel_filter()?,
    };
    let mut renderers = renderers_with(&world, scene.seed, &options)
        .map_err(|e| UsageError(format!("--radar-cfg: {e}")))?;
    // A first SIGINT/SIGTERM stops the run at the next simulated second; the unfinished
    // file is removed when `staged` drops, and an existing --out stays as it was.
    let interrupt = watch_signals()?;
    let staged = out_error(StagedFile::new(out, Overwrite::forced(args.force)))?;
    let summary = write_capture_until(
        staged.path(),
        &world,
        &mut renderers,
        duration,
        scene.seed,
        interrupt.flag(),
        notes,
    )
    .map_err(super::context(format!("{}: not written", out.display())))?;
    out_error(staged.commit())?;
    eprintln!(
        "dagr sim: wrote {} ({duration} s, room {}, subject {}, seed {}, {} labels)",
        out.display(),
        scene.room,
        scene.subject,
        scene.seed,
        summary.labels
    );
    for (name, messages, bytes) in &summary.streams {
        eprintln!("  {name}: {messages} chunks, {bytes} bytes");
    }
    if renderers.is_empty() {
        eprintln!("  no device renderers are built in yet: the capture holds labels only");
    }
    Ok(())
}

/// The radar configuration of `--radar-cfg FILE` and the file's text, read and checked
/// before anything is written; an error names the file and, when it has one, the line.
fn radar_cfg(path: &Path) -> Result<(RadarCfg, String), super::Failure> {
    let text = std::fs::read_to_string(path).map_err(super::context(format!(
        "--radar-cfg {}: cannot read",
        path.display()
    )))?;
    let config = RadarConfig::from_cfg(&text).map_err(|e| {
        let at = e.line.map(|n| format!(" line {n}")).unwrap_or_default();
        UsageError(format!(
            "--radar-cfg {}{at}: {}; expected a TI mmWave .cfg the simulated radar can run",
            path.display(),
            e.reason
        ))
    })?;
    let file = path.display().to_string();
    Ok((RadarCfg { file, config }, text))
}

/// The activities to play and for how long: a scenario runs to its last activity's end
/// plus one second unless `--duration` says otherwise; a random schedule needs `--duration`
/// and is drawn as the run plays.
fn schedule_and_duration(scene: &SceneArgs) -> Result<(Activities, f64), super::Failure> {
    let duration = scene.duration;
    match &scene.scenario {
        Some(path) => {
            let schedule = Schedule::load(Path::new(path))?;
            let end = schedule.items.last().map_or(0.0, |s| s.end) + 1.0;
            if duration.is_none() && end > super::MAX_SIM_S {
                return Err(UsageError(format!(
                    "--scenario {}: ends at {end} s; expected at most {} s (or give --duration)",
                    path.display(),
                    super::MAX_SIM_S
                ))
                .into());
            }
            Ok((schedule.into(), duration.unwrap_or(end)))
        }
        None => {
            let duration = duration
                .ok_or_else(|| UsageError("--duration S is required without --scenario".into()))?;
            Ok((Activities::random(scene.seed, duration), duration))
        }
    }
}
