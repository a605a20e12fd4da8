//! `dagr sim --serve`: the simulated devices live, on real interfaces, so the gateway's own
//! sources (`dagr record`, `dagr run`) read them as they would read hardware.
//!
//! The world and the device renderers are those of `dagr sim --out`; scene time is wall
//! time since the devices started. Each device appears where its real counterpart would:
//!
//! - the TI radar as two pseudo-terminals, the data port and the CLI port; the CLI answers
//!   like the OOB demo ([`ti_cli`]) and the data port sends frames only between
//!   `sensorStart` and `sensorStop`, so the client's `.cfg` (see [`ti_cli::RADAR_CFG`])
//!   drives it;
//! - each WiFi link's ESP32-CSI-Tool receiver as one pseudo-terminal, printing the
//!   firmware's header line whenever a client opens it (opening an ESP32 board resets it),
//!   then one row per antenna and packet;
//! - the RFID reader as an LLRP server on 127.0.0.1 ([`llrp_server`]) sending tag reports
//!   while the client's ROSpec runs.
//!
//! One thread renders and does all device I/O without blocking, polling the ports at least
//! every [`IO_POLL`]. What a client does not read in time is dropped whole and counted
//! ([`outbox`]); what a device sends while no client has its port open is lost, as on a
//! UART. The reader's UTC clock reads the real wall clock (with its seeded offset and
//! drift); the serial devices keep their free-running counters.
//!
//! The devices are `dagr sim --out`'s ([`RoomDevices`]: same seeds, outages and noisy
//! spells), and the `.cfg` the client sends ([`ti_cli::RADAR_CFG`]) describes the radar
//! `--out` renders, so what is served has the statistics the models were trained on.
pub mod llrp_reader;
pub mod llrp_server;
pub mod outbox;
pub mod pty;
pub mod ti_cli;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dagr_protocols::csi::esp32_csi_tool::field::HEADER;

use super::csi::CsiBandwidth;
use super::devices::{CsiDevice, DeviceOptions, RadarDevice, RfidDevice, RoomDevices};
use super::run::DeviceRenderer;
use super::scene::Scene;
use super::world::World;
use dagr_classes::Label;
use llrp_server::LlrpServer;
use pty::{Attachment, VirtualPort};
use ti_cli::TiCli;

/// Longest the simulation thread waits before looking at the ports again.
pub const IO_POLL: Duration = Duration::from_millis(2);

/// The radar: its renderer, its two ports and its CLI.
struct Radar {
    device: RadarDevice,
    data: VirtualPort,
    cli_port: VirtualPort,
    cli: TiCli,
}

/// One WiFi link's receiver console.
struct CsiConsole {
    device: CsiDevice,
    port: VirtualPort,
}

/// The RFID reader.
struct Reader {
    device: RfidDevice,
    server: LlrpServer,
}

/// A label as served: when its activity starts, in scene time and on the wall clock.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedLabel {
    /// The activity and its scene-time span (s since the devices started).
    pub label: Label,
    /// Wall-clock time of `label.start`, ns since the Unix epoch.
    pub start_unix_ns: u64,
}

impl ServedLabel {
    /// One JSON line: `{"start", "end", "class", "start_unix_ns"}`.
    pub fn to_json_line(&self) -> String {
        let mut value = self.label.to_json();
        value["start_unix_ns"] = self.start_unix_ns.into();
        value.to_string()
    }
}

/// What a serving run did, for the closing summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServeSummary {
    /// Seconds served.
    pub seconds: f64,
    /// Per device: source name and chunks dropped because its client did not keep up.
    pub dropped: Vec<(String, u64)>,
    /// Radar CLI commands answered.
    pub cli_commands: u64,
    /// LLRP clients accepted.
    pub llrp_connections: u64,
    /// LLRP clients dropped for staying silent past the idle timeout.
    pub llrp_idle_drops: u64,
}

/// The room's devices, live.
pub struct VirtualDevices {
    world: World,
    radar: Radar,
    consoles: Vec<CsiConsole>,
    reader: Option<Reader>,
    cfg_path: PathBuf,
    epoch: Instant,
    epoch_unix_us: u64,
}

impl VirtualDevices {
    /// Creates every device of `world`'s room (seeded from `seed`): pseudo-terminals, the
    /// LLRP listener on 127.0.0.1:`llrp_port` (0: any), and the radar `.cfg` in `work_dir`.
    pub fn start(
        world: World,
        seed: u64,
        llrp_port: u16,
        work_dir: &Path,
    ) -> Result<VirtualDevices, String> {
        Self::start_with(world, seed, llrp_port, work_dir, CsiBandwidth::Ht20)
    }

    /// As [`start`](Self::start), the CSI receivers measuring frames of `csi_bandwidth`
    /// (`dagr sim --serve --csi-bandwidth`).
    pub fn start_with(
        world: World,
        seed: u64,
        llrp_port: u16,
        work_dir: &Path,
        csi_bandwidth: CsiBandwidth,
    ) -> Result<VirtualDevices, String> {
        let cfg_path = work_dir.join("radar.cfg");
        std::fs::write(&cfg_path, ti_cli::RADAR_CFG)
            .map_err(|e| format!("cannot write {}: {e}", cfg_path.display()))?;
        let options = DeviceOptions {
            csi_bandwidth,
            ..DeviceOptions::default()
        };
        let devices = RoomDevices::new(&world, seed, &options)
            .expect("the default radar configuration is valid");
        let radar = Radar {
            device: devices.radar,
            data: VirtualPort::create()?,
            cli_port: VirtualPort::create()?,
            cli: TiCli::new(),
        };
        let consoles = devices
            .csi
            .into_iter()
            .map(|device| {
                Ok(CsiConsole {
                    device,
                    port: VirtualPort::create()?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let epoch_unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let antennas = u16::try_from(world.room().rfid.antennas.len()).unwrap_or(u16::MAX);
        let reader = match devices.rfid {
            Some(mut device) => {
                device.set_utc_base(epoch_unix_us);
                Some(Reader {
                    device,
                    server: LlrpServer::bind(llrp_port, antennas)?,
                })
            }
            None => None,
        };
        Ok(VirtualDevices {
            world,
            radar,
            consoles,
            reader,
            cfg_path,
            epoch: Instant::now(),
            epoch_unix_us,
        })
    }

    /// How long the LLRP reader lets a silent client hold its single client slot
    /// ([`llrp_server::IDLE_TIMEOUT`] unless set).
    pub fn set_llrp_idle_timeout(&mut self, timeout: Duration) {
        if let Some(reader) = self.reader.as_mut() {
            reader.server.set_idle_timeout(timeout);
        }
    }

    /// The source URIs a gateway opens, one per device (named like `dagr sim --out`'s
    /// streams).
    pub fn uris(&self) -> Result<Vec<String>, String> {
        let mut uris = vec![format!(
            "ti-mmwave://{}?cli={}&cfg={}&name=sim-radar",
            self.radar.data.path(),
            self.radar.cli_port.path(),
            self.cfg_path.display()
        )];
        for (i, console) in self.consoles.iter().enumerate() {
            uris.push(format!(
                "esp32-csi://{}?name=sim-wifi-{}",
                console.port.path(),
                i + 1
            ));
        }
        if let Some(reader) = &self.reader {
            uris.push(format!("llrp://{}?name=sim-rfid", reader.server.address()?));
        }
        Ok(uris)
    }

    /// Serves until `stop` is raised or `duration` s have passed; hands each label to
    /// `on_label` when its activity starts.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        duration: Option<f64>,
        mut on_label: impl FnMut(&ServedLabel),
    ) -> ServeSummary {
        let end = duration.unwrap_or(f64::INFINITY);
        // The activities drawn one at a time, each label built when its activity starts.
        let mut activities = self.world.activities().draw().peekable();
        let mut t = 0.0;
        while !stop.load(Ordering::Relaxed) && t < end {
            t = self.epoch.elapsed().as_secs_f64().min(end);
            while let Some(item) = activities.next_if(|s| s.start <= t) {
                let label = item.label();
                on_label(&ServedLabel {
                    start_unix_ns: self.epoch_unix_us * 1000 + (label.start * 1e9) as u64,
                    label,
                });
            }
            self.step(t);
            let wake = self.next_due().min(t + IO_POLL.as_secs_f64()).min(end);
            let now = self.epoch.elapsed().as_secs_f64();
            if wake > now {
                std::thread::sleep(Duration::from_secs_f64(wake - now));
            }
        }
        self.summary(t)
    }

    /// One pass: client input answered, every emission due by `t` rendered and queued,
    /// queued bytes written.
    fn step(&mut self, t: f64) {
        let mut out = Vec::new();
        let world = &self.world;
        let radar = &mut self.radar;
        radar.data.attachment();
        if radar.cli_port.attachment() != Attachment::Closed {
            let mut typed = Vec::new();
            radar.cli_port.receive(&mut typed);
            radar.cli.feed(&typed, &mut out);
            radar.cli_port.send(&out);
            radar.cli_port.flush();
            if let Some(cfg) = radar.cli.take_started_cfg() {
                apply_cfg(&mut radar.device, &cfg);
            }
        }
        render_due(&mut radar.device, world, t, |bytes| {
            if radar.cli.running() {
                radar.data.send(bytes);
            }
        });
        radar.data.flush();
        for console in &mut self.consoles {
            if console.port.attachment() == Attachment::Opened {
                console.port.send(format!("{HEADER}\n").as_bytes());
            }
            let port = &mut console.port;
            render_due(&mut console.device, world, t, |bytes| port.send(bytes));
            port.flush();
        }
        if let Some(reader) = self.reader.as_mut() {
            let now_us = reader.device.clock().micros(t);
            reader.server.pump(now_us);
            let server = &mut reader.server;
            render_due(&mut reader.device, world, t, |bytes| {
                server.send_reports(bytes)
            });
            reader.server.pump(now_us);
        }
    }

    /// Scene time of the earliest next emission.
    fn next_due(&self) -> f64 {
        let mut due = self.radar.device.next_due();
        for console in &self.consoles {
            due = due.min(console.device.next_due());
        }
        if let Some(reader) = &self.reader {
            due = due.min(reader.device.next_due());
        }
        due
    }

    fn summary(&self, seconds: f64) -> ServeSummary {
        let mut dropped = vec![("sim-radar".to_string(), self.radar.data.dropped_chunks())];
        for (i, console) in self.consoles.iter().enumerate() {
            dropped.push((format!("sim-wifi-{}", i + 1), console.port.dropped_chunks()));
        }
        let (mut llrp_connections, mut llrp_idle_drops) = (0, 0);
        if let Some(reader) = &self.reader {
            dropped.push(("sim-rfid".to_string(), reader.server.dropped_reports));
            llrp_connections = reader.server.connections;
            llrp_idle_drops = reader.server.idle_drops;
        }
        ServeSummary {
            seconds,
            dropped,
            cli_commands: self.radar.cli.commands,
            llrp_connections,
            llrp_idle_drops,
        }
    }
}

/// Renders every emission of `device` due by `t`, handing each non-empty one to `sink`.
fn render_due(
    device: &mut dyn DeviceRenderer,
    scene: &dyn Scene,
    t: f64,
    mut sink: impl FnMut(&[u8]),
) {
    let mut out = Vec::new();
    while device.next_due() <= t {
        let due = device.next_due();
        out.clear();
        device.render(scene, due, &mut out);
        if !out.is_empty() {
            sink(&out);
        }
        if device.next_due() <= due {
            // A renderer that does not advance would spin this thread forever.
            break;
        }
    }
}

/// Makes the served radar run the `.cfg` the client sent before `sensorStart`; a cfg the
/// simulator cannot run leaves the previous configuration and says why on stderr.
fn apply_cfg(device: &mut RadarDevice, cfg: &str) {
    let applied = crate::radar::RadarConfig::from_cfg(cfg)
        .map_err(|e| e.to_string())
        .and_then(|c| device.set_config(c).map_err(|e| e.to_string()));
    if let Err(e) = applied {
        eprintln!("dagr sim --serve: {e}; the radar keeps its previous configuration");
    }
}
