//! The radar's config (CLI) port as the TI OOB demo (SDK 3.x) answers it, sans-IO: bytes
//! typed in, bytes printed back, and whether the sensor is running.
//!
//! Per line: the echo of the command after the prompt, then `Done`, `Ignored: Sensor is
//! already stopped` + `Done` (a `sensorStop` on a stopped sensor), or `'<cmd>' is not
//! recognized as a CLI command`, then the prompt `mmwDemo:/>` again. The data port sends
//! frames only between `sensorStart` and `sensorStop`. Argument values are not checked
//! here; the lines typed since the last `flushCfg` are kept, and at `sensorStart` they are
//! handed to the server ([`TiCli::take_started_cfg`]), which makes the simulated radar run
//! them ([`RadarConfig::from_cfg`](crate::radar::RadarConfig::from_cfg)).
use dagr_protocols::ti_mmwave::cli::{MAX_LINE, PROMPT};

/// The `.cfg` the served radar is described by (SDK 3.4 OOB demo, IWR6843AOP, 20 frames/s:
/// `frameCfg` periodicity 50 ms), written for the client to send.
///
/// It describes the radar `dagr sim --out` renders (the default [`RadarConfig`]), which is
/// the radar the models were trained on: 0.044 m range bins (`profileCfg` 60 MHz/µs slope, 256
/// samples at 4506 ksps), 64 Doppler bins up to ±4.5 m/s (3 transmitters, 64 loops, 92.59 µs
/// chirps: 0.14 m/s per bin). A coarser Doppler grid (the 32 loops of 31 µs chirps this cfg
/// once had: 0.84 m/s per bin) renders other point clouds than training saw.
///
/// [`RadarConfig`]: crate::radar::RadarConfig
pub const RADAR_CFG: &str = "\
% dagr sim: IWR6843AOP, SDK 3.4 out-of-box demo, short range indoor, 20 frames/s
% the radar of `dagr sim --out`: 0.044 m range bins, 64 Doppler bins to +-4.5 m/s
sensorStop
flushCfg
dfeDataOutputMode 1
channelCfg 15 7 0
adcCfg 2 1
adcbufCfg -1 0 1 1 1
profileCfg 0 60 30 3 62.59 0 0 60 1 256 4506 0 0 158
chirpCfg 0 0 0 0 0 0 0 1
chirpCfg 1 1 0 0 0 0 0 2
chirpCfg 2 2 0 0 0 0 0 4
frameCfg 0 2 64 0 50 1 0
lowPower 0 0
guiMonitor -1 1 1 0 0 0 1
cfarCfg -1 0 2 8 4 3 0 15 1
cfarCfg -1 1 0 4 2 3 1 15 1
multiObjBeamForming -1 1 0.5
clutterRemoval -1 1
calibDcRangeSig -1 0 -5 8 256
extendedMaxVelocity -1 0
lvdsStreamCfg -1 0 0 0
compRangeBiasAndRxChanPhase 0.0 1 0 -1 0 1 0 -1 0 1 0 -1 0 1 0 -1 0 1 0 -1 0 1 0 -1 0
measureRangeBiasAndRxChanPhase 0 1.5 0.2
CQRxSatMonitor 0 3 5 121 0
CQSigImgMonitor 0 127 4
analogMonitor 0 0
aoaFovCfg -1 -90 90 -90 90
cfarFovCfg -1 0 0.25 9.0
cfarFovCfg -1 1 -4.5 4.5
calibData 0 0 0
sensorStart
";

/// Commands of the SDK 3.x OOB demo's CLI.
const KNOWN_COMMANDS: &[&str] = &[
    "sensorStart",
    "sensorStop",
    "flushCfg",
    "dfeDataOutputMode",
    "channelCfg",
    "adcCfg",
    "adcbufCfg",
    "profileCfg",
    "chirpCfg",
    "frameCfg",
    "advFrameCfg",
    "subFrameCfg",
    "lowPower",
    "guiMonitor",
    "cfarCfg",
    "multiObjBeamForming",
    "clutterRemoval",
    "calibDcRangeSig",
    "extendedMaxVelocity",
    "bpmCfg",
    "lvdsStreamCfg",
    "compRangeBiasAndRxChanPhase",
    "measureRangeBiasAndRxChanPhase",
    "CQRxSatMonitor",
    "CQSigImgMonitor",
    "analogMonitor",
    "aoaFovCfg",
    "cfarFovCfg",
    "calibData",
    "idlePowerCycle",
];

/// The CLI's state: the line being typed and whether the sensor runs.
#[derive(Debug, Default)]
pub struct TiCli {
    line: Vec<u8>,
    running: bool,
    /// Lines typed since the last `flushCfg`.
    cfg: String,
    /// The cfg in force at the last `sensorStart`, until taken.
    started: Option<String>,
    /// Commands answered so far.
    pub commands: u64,
}

impl TiCli {
    /// A CLI with the sensor stopped.
    pub fn new() -> TiCli {
        TiCli::default()
    }

    /// True between `sensorStart` and `sensorStop`: the data port sends frames.
    pub fn running(&self) -> bool {
        self.running
    }

    /// Takes typed bytes; appends what the device prints in answer to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &byte in bytes {
            if byte == b'\n' || byte == b'\r' {
                let line = std::mem::take(&mut self.line);
                let text = String::from_utf8_lossy(&line);
                if !text.trim().is_empty() {
                    self.answer(text.trim(), out);
                }
            } else if self.line.len() < MAX_LINE {
                self.line.push(byte);
            }
        }
    }

    /// The cfg lines typed before the latest `sensorStart`, once per start.
    pub fn take_started_cfg(&mut self) -> Option<String> {
        self.started.take()
    }

    fn answer(&mut self, line: &str, out: &mut Vec<u8>) {
        self.commands += 1;
        if line.starts_with("flushCfg") {
            self.cfg.clear();
        } else {
            self.cfg.push_str(line);
            self.cfg.push('\n');
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
        let command = line.split_whitespace().next().unwrap_or("");
        let reply = match command {
            "sensorStop" if !self.running => "Ignored: Sensor is already stopped\r\nDone",
            "sensorStop" => {
                self.running = false;
                "Done"
            }
            "sensorStart" => {
                self.running = true;
                self.started = Some(self.cfg.clone());
                "Done"
            }
            known if KNOWN_COMMANDS.contains(&known) => "Done",
            unknown => {
                let text = format!("'{unknown}' is not recognized as a CLI command\r\n{PROMPT}");
                out.extend_from_slice(text.as_bytes());
                return;
            }
        };
        out.extend_from_slice(reply.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(PROMPT.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use dagr_protocols::ti_mmwave::cli::{CfgSession, CommandOutcome, RadarParams};

    /// Plays a whole `.cfg` through the gateway's own session logic; returns the outcomes.
    fn play(cli: &mut TiCli, cfg: &str) -> Vec<CommandOutcome> {
        let mut session = CfgSession::new(cfg);
        let mut outcomes = Vec::new();
        while let Some(line) = session.next_command() {
            let mut printed = Vec::new();
            cli.feed(format!("{}\n", line.text).as_bytes(), &mut printed);
            let report = session.feed(&printed).expect("every command is answered");
            outcomes.push(report.outcome);
        }
        outcomes
    }

    #[test]
    fn the_served_cfg_is_accepted_line_by_line_and_starts_the_sensor() {
        let mut cli = TiCli::new();
        let outcomes = play(&mut cli, RADAR_CFG);
        assert_eq!(
            outcomes[0],
            CommandOutcome::Ignored,
            "sensorStop when stopped"
        );
        assert!(outcomes[1..].iter().all(|o| *o == CommandOutcome::Done));
        assert!(cli.running());
        assert_eq!(play(&mut cli, "sensorStop"), [CommandOutcome::Done]);
        assert!(!cli.running());
    }

    #[test]
    fn the_served_cfg_describes_a_20_hz_radar() {
        let params = RadarParams::from_cfg(RADAR_CFG).unwrap();
        assert!((params.frame_period_ms - 50.0).abs() < 1e-3, "{params:?}");
        assert_eq!(params.num_range_bins, 256);
    }

    #[test]
    fn the_lines_since_flush_are_handed_over_at_sensor_start() {
        let mut cli = TiCli::new();
        let mut out = Vec::new();
        cli.feed(
            b"clutterRemoval -1 1\nflushCfg\nframeCfg 0 1 16 0 100 1 0\n",
            &mut out,
        );
        assert_eq!(cli.take_started_cfg(), None);
        cli.feed(b"sensorStart\n", &mut out);
        let cfg = cli.take_started_cfg().unwrap();
        assert!(
            cfg.contains("frameCfg 0 1 16") && !cfg.contains("clutterRemoval"),
            "{cfg}"
        );
        assert_eq!(cli.take_started_cfg(), None, "once per start");
    }

    #[test]
    fn an_unknown_command_is_not_recognized_and_changes_nothing() {
        let mut cli = TiCli::new();
        assert_eq!(
            play(&mut cli, "bogusCfg 1 2"),
            [CommandOutcome::NotRecognized]
        );
        assert!(!cli.running());
    }

    #[test]
    fn a_command_split_across_reads_is_answered_once() {
        let mut cli = TiCli::new();
        let mut out = Vec::new();
        cli.feed(b"sensorSt", &mut out);
        assert!(out.is_empty());
        cli.feed(b"art\r\n", &mut out);
        assert_eq!(out, b"sensorStart\r\nDone\r\nmmwDemo:/>");
    }
}
