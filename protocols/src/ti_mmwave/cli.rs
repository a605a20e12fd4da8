//! The config (CLI) port, sans-IO: `.cfg` files, device responses, a session that sends a
//! configuration line by line, and the radar parameters a configuration implies.
//!
//! The device echoes each command after its prompt `mmwDemo:/>`, then prints `Done`,
//! `Error <n>` or `'<cmd>' is not recognized as a CLI command`; `sensorStop` on a stopped
//! sensor prints `Ignored: Sensor is already stopped` (then `Done` in the OOB demo, but not
//! in every lab demo). Line ends are `\n`, `\r\n` or even `\n\r` (seen in real logs), so
//! both bytes end a line and empty lines are ignored. Nothing here allocates or does I/O:
//! the caller writes the lines [`CfgSession::next_command`] gives it (plus `\n`), feeds what
//! the port returns to [`CfgSession::feed`], and owns timeouts.
use core::fmt;

use crate::error::{Error, Result};

/// The prompt the OOB demo prints before reading a command.
pub const PROMPT: &str = "mmwDemo:/>";
/// Longest response line kept; longer lines are cut (they are never one we act on).
pub const MAX_LINE: usize = 256;
/// Speed of light used by TI's tools for the derived quantities, m/s.
pub const SPEED_OF_LIGHT: f64 = 3e8;

/// One command of a `.cfg` file, with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgLine<'a> {
    /// 1-based line number in the file.
    pub line_number: usize,
    /// The command line, trimmed.
    pub text: &'a str,
}

impl<'a> CfgLine<'a> {
    /// The command name (first word), e.g. `profileCfg`.
    pub fn command(&self) -> &'a str {
        self.text.split_whitespace().next().unwrap_or("")
    }

    /// The arguments after the command name.
    pub fn args(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.text.split_whitespace().skip(1)
    }
}

/// The commands of a `.cfg` text: one per line, `%` comments and blank lines skipped,
/// whitespace trimmed.
#[derive(Debug, Clone)]
pub struct CfgLines<'a> {
    lines: core::iter::Enumerate<core::str::Lines<'a>>,
}

/// Iterates over the commands of a `.cfg` text.
pub fn parse_cfg(text: &str) -> CfgLines<'_> {
    CfgLines {
        lines: text.lines().enumerate(),
    }
}

impl<'a> Iterator for CfgLines<'a> {
    type Item = CfgLine<'a>;

    fn next(&mut self) -> Option<CfgLine<'a>> {
        for (index, line) in self.lines.by_ref() {
            let text = line.trim();
            if !text.is_empty() && !text.starts_with('%') {
                return Some(CfgLine {
                    line_number: index + 1,
                    text,
                });
            }
        }
        None
    }
}

/// What one response line from the config port means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseLine<'a> {
    /// `Done`: the command succeeded.
    Done,
    /// `Error <n>`: the command's handler returned `n`.
    Error(i32),
    /// `'<cmd>' is not recognized as a CLI command`, with `<cmd>`.
    NotRecognized(&'a str),
    /// `Ignored: <why>`, with `<why>` (success, nothing done).
    Ignored(&'a str),
    /// A bare prompt `mmwDemo:/>`.
    Prompt,
    /// The prompt followed by the echoed command.
    Echo(&'a str),
    /// Any other text (an echo without prompt, debug prints).
    Text(&'a str),
}

/// Classifies one response line (line end already removed; surrounding space ignored).
pub fn classify_line(line: &str) -> ResponseLine<'_> {
    let line = line.trim();
    let mut rest = line;
    let mut prompted = false;
    while let Some(after) = rest.strip_prefix(PROMPT) {
        rest = after.trim_start();
        prompted = true;
    }
    if prompted {
        return if rest.is_empty() {
            ResponseLine::Prompt
        } else {
            ResponseLine::Echo(rest)
        };
    }
    if line == "Done" {
        return ResponseLine::Done;
    }
    if let Some(code) = line
        .strip_prefix("Error")
        .and_then(|s| s.trim().parse().ok())
    {
        return ResponseLine::Error(code);
    }
    if let Some(why) = line.strip_prefix("Ignored:") {
        return ResponseLine::Ignored(why.trim());
    }
    if let Some(cmd) = line
        .strip_suffix("is not recognized as a CLI command")
        .and_then(|s| s.trim_end().strip_prefix('\''))
        .and_then(|s| s.strip_suffix('\''))
    {
        return ResponseLine::NotRecognized(cmd);
    }
    ResponseLine::Text(line)
}

/// How the device answered one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// `Done`.
    Done,
    /// `Ignored: ...` (followed by `Done` or a prompt): success, nothing to do.
    Ignored,
    /// `Error <n>`.
    Error(i32),
    /// The device does not know the command (wrong SDK or demo for this `.cfg`).
    NotRecognized,
}

impl CommandOutcome {
    /// True when the configuration can go on.
    pub fn is_success(self) -> bool {
        matches!(self, CommandOutcome::Done | CommandOutcome::Ignored)
    }
}

/// The answer to one command, naming the command and its `.cfg` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandReport<'a> {
    /// The command as sent, with its line number.
    pub line: CfgLine<'a>,
    /// What the device said.
    pub outcome: CommandOutcome,
}

impl fmt::Display for CommandReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.outcome {
            CommandOutcome::Done => "done",
            CommandOutcome::Ignored => "ignored",
            CommandOutcome::Error(_) => "error",
            CommandOutcome::NotRecognized => "not recognized",
        };
        write!(
            f,
            "line {}: `{}`: {what}",
            self.line.line_number, self.line.text
        )?;
        if let CommandOutcome::Error(code) = self.outcome {
            write!(f, " {code}")?;
        }
        Ok(())
    }
}

/// Where a [`CfgSession`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Ready to send the next command.
    Ready,
    /// A command was sent; waiting for its answer (`ignored` once `Ignored:` was seen).
    Awaiting {
        /// An `Ignored:` line arrived for this command.
        ignored: bool,
    },
    /// Every command succeeded.
    Finished,
    /// A command failed; the session stops there.
    Failed,
}

/// Drives a configuration over the CLI port without doing I/O: one command in flight,
/// responses fed in chunks of any size.
#[derive(Debug, Clone)]
pub struct CfgSession<'a> {
    lines: CfgLines<'a>,
    current: Option<CfgLine<'a>>,
    state: SessionState,
    line: [u8; MAX_LINE],
    line_len: usize,
    failure: Option<CommandReport<'a>>,
}

impl<'a> CfgSession<'a> {
    /// A session that will send the commands of `cfg_text` in order.
    pub fn new(cfg_text: &'a str) -> CfgSession<'a> {
        CfgSession {
            lines: parse_cfg(cfg_text),
            current: None,
            state: SessionState::Ready,
            line: [0; MAX_LINE],
            line_len: 0,
            failure: None,
        }
    }

    /// The next command line to write (append `\n`), or `None` while a command is in flight
    /// or when the session is over. Responses seen before this call are discarded.
    pub fn next_command(&mut self) -> Option<CfgLine<'a>> {
        if self.state != SessionState::Ready {
            return None;
        }
        self.line_len = 0;
        match self.lines.next() {
            Some(line) => {
                self.current = Some(line);
                self.state = SessionState::Awaiting { ignored: false };
                Some(line)
            }
            None => {
                self.state = SessionState::Finished;
                None
            }
        }
    }

    /// Feeds bytes read from the port; returns the report once the command in flight is
    /// answered. Bytes after that answer (the next prompt) are dropped.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<CommandReport<'a>> {
        let mut report = None;
        for &byte in bytes {
            if byte == b'\n' || byte == b'\r' {
                report = report.or_else(|| self.end_line());
            } else {
                if self.line_len < MAX_LINE {
                    self.line[self.line_len] = byte;
                    self.line_len += 1;
                }
                if self.partial_is_prompt() {
                    report = report.or_else(|| self.end_line());
                }
            }
        }
        report
    }

    /// True when the partial line is exactly the prompt, which is never followed by `\n`.
    fn partial_is_prompt(&self) -> bool {
        self.line.get(..self.line_len) == Some(PROMPT.as_bytes())
    }

    fn end_line(&mut self) -> Option<CommandReport<'a>> {
        let len = self.line_len;
        self.line_len = 0;
        let SessionState::Awaiting { ignored } = self.state else {
            return None;
        };
        let text = core::str::from_utf8(self.line.get(..len)?).ok()?;
        let outcome = match classify_line(text) {
            ResponseLine::Done if ignored => CommandOutcome::Ignored,
            ResponseLine::Done => CommandOutcome::Done,
            ResponseLine::Error(code) => CommandOutcome::Error(code),
            ResponseLine::NotRecognized(_) => CommandOutcome::NotRecognized,
            ResponseLine::Prompt if ignored => CommandOutcome::Ignored,
            ResponseLine::Ignored(_) => {
                self.state = SessionState::Awaiting { ignored: true };
                return None;
            }
            _ => return None,
        };
        self.complete(outcome)
    }

    fn complete(&mut self, outcome: CommandOutcome) -> Option<CommandReport<'a>> {
        let report = CommandReport {
            line: self.current?,
            outcome,
        };
        if outcome.is_success() {
            self.state = SessionState::Ready;
        } else {
            self.state = SessionState::Failed;
            self.failure = Some(report);
        }
        Some(report)
    }

    /// Where the session is.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The failing command, once the session has failed.
    pub fn failure(&self) -> Option<CommandReport<'a>> {
        self.failure
    }
}

/// Radar quantities a configuration implies (first `profileCfg`, `frameCfg`, `channelCfg`),
/// computed as TI's host tools do: what a host needs to size heatmaps and scale indices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadarParams {
    /// Receive antennas enabled (`channelCfg` rxChannelEn bits).
    pub num_rx: u32,
    /// Transmit antennas enabled (`channelCfg` txChannelEn bits).
    pub num_tx: u32,
    /// Virtual antennas, `num_rx * num_tx` (heatmap TLV 4 width).
    pub num_virtual_antennas: u32,
    /// `profileCfg` numAdcSamples.
    pub num_adc_samples: u32,
    /// Range bins: numAdcSamples rounded up to a power of two (TLV 2/3 length).
    pub num_range_bins: u32,
    /// Chirps per frame: (chirpEnd - chirpStart + 1) * numLoops.
    pub num_chirps_per_frame: u32,
    /// Doppler bins: chirps per frame / num_tx.
    pub num_doppler_bins: u32,
    /// Metres per range bin: c * digOutSampleRate / (2 * freqSlope * numRangeBins).
    pub range_resolution_m: f32,
    /// m/s per Doppler bin: c / (2 * startFreq * (idleTime + rampEndTime) * dopplerBins * numTx).
    pub doppler_resolution_mps: f32,
    /// `frameCfg` framePeriodicity, ms.
    pub frame_period_ms: f32,
}

impl RadarParams {
    /// Derives the parameters from a `.cfg` text.
    pub fn from_cfg(cfg_text: &str) -> Result<RadarParams> {
        let find = |name: &str| parse_cfg(cfg_text).find(|l| l.command() == name);
        let profile = find("profileCfg").ok_or(Error::Malformed("no profileCfg"))?;
        let frame = find("frameCfg").ok_or(Error::Malformed("no frameCfg"))?;
        let channel = find("channelCfg").ok_or(Error::Malformed("no channelCfg"))?;
        let arg = |line: &CfgLine<'_>, i: usize, what: &'static str| -> Result<f64> {
            line.args()
                .nth(i)
                .and_then(|a| a.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or(Error::Malformed(what))
        };
        let rx_mask = arg(&channel, 0, "channelCfg rxChannelEn")?;
        let tx_mask = arg(&channel, 1, "channelCfg txChannelEn")?;
        let num_rx = (to_u32(rx_mask) & 0xff).count_ones();
        let num_tx = (to_u32(tx_mask) & 0xff).count_ones();
        if num_rx == 0 || num_tx == 0 {
            return Err(Error::Malformed("channelCfg enables no antenna"));
        }
        let start_freq_ghz = arg(&profile, 1, "profileCfg startFreq")?;
        let idle_us = arg(&profile, 2, "profileCfg idleTime")?;
        let ramp_end_us = arg(&profile, 4, "profileCfg rampEndTime")?;
        let slope_mhz_us = arg(&profile, 7, "profileCfg freqSlopeConst")?;
        let num_adc_samples = to_u32(arg(&profile, 9, "profileCfg numAdcSamples")?);
        let sample_rate_ksps = arg(&profile, 10, "profileCfg digOutSampleRate")?;
        let chirp_start = to_u32(arg(&frame, 0, "frameCfg chirpStartIdx")?);
        let chirp_end = to_u32(arg(&frame, 1, "frameCfg chirpEndIdx")?);
        let num_loops = to_u32(arg(&frame, 2, "frameCfg numLoops")?);
        let frame_period_ms = arg(&frame, 4, "frameCfg framePeriodicity")?;
        if chirp_end < chirp_start {
            return Err(Error::Malformed("frameCfg chirpEndIdx < chirpStartIdx"));
        }
        let num_chirps_per_frame = (chirp_end - chirp_start + 1).saturating_mul(num_loops);
        let num_doppler_bins = num_chirps_per_frame / num_tx;
        let num_range_bins = num_adc_samples
            .checked_next_power_of_two()
            .ok_or(Error::Malformed("profileCfg numAdcSamples"))?;
        let range_resolution_m = SPEED_OF_LIGHT * sample_rate_ksps * 1e3
            / (2.0 * slope_mhz_us * 1e12 * f64::from(num_range_bins));
        let chirp_time_s = (idle_us + ramp_end_us) * 1e-6;
        let doppler_resolution_mps = SPEED_OF_LIGHT
            / (2.0
                * start_freq_ghz
                * 1e9
                * chirp_time_s
                * f64::from(num_doppler_bins)
                * f64::from(num_tx));
        Ok(RadarParams {
            num_rx,
            num_tx,
            num_virtual_antennas: num_rx * num_tx,
            num_adc_samples,
            num_range_bins,
            num_chirps_per_frame,
            num_doppler_bins,
            range_resolution_m: range_resolution_m as f32,
            doppler_resolution_mps: doppler_resolution_mps as f32,
            frame_period_ms: frame_period_ms as f32,
        })
    }
}

/// A non-negative integer argument (`as` saturates and maps NaN to 0).
fn to_u32(value: f64) -> u32 {
    value as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// TI's SDK 3.x xwr16xx OOB profile (2 TX, 4 RX, 256 range bins), with comments.
    const XWR16XX_CFG: &str = "% ***************************************************************
% Created for SDK ver:03.04
% Frequency:77
sensorStop
flushCfg
dfeDataOutputMode 1
channelCfg 15 3 0
adcCfg 2 1
adcbufCfg -1 0 1 1 1

profileCfg 0 77 429 7 57.14 0 0 70 1 256 5209 0 0 30
chirpCfg 0 0 0 0 0 0 0 1
chirpCfg 1 1 0 0 0 0 0 2
frameCfg 0 1 16 0 100 1 0
lowPower 0 0
guiMonitor -1 1 1 0 0 0 1
   cfarCfg -1 0 2 8 4 3 0 15 1   \r
sensorStart
";

    #[test]
    fn cfg_parser_skips_comments_and_blank_lines_and_trims() {
        let lines: Vec<CfgLine<'_>> = parse_cfg(XWR16XX_CFG).collect();
        assert_eq!(lines.len(), 14);
        assert_eq!(lines[0].text, "sensorStop");
        assert_eq!(lines[0].line_number, 4);
        let cfar = lines.iter().find(|l| l.command() == "cfarCfg").unwrap();
        assert_eq!(cfar.text, "cfarCfg -1 0 2 8 4 3 0 15 1");
        assert_eq!(cfar.line_number, 17);
        assert_eq!(cfar.args().count(), 9);
    }

    #[test]
    fn classifier_recognizes_every_ti_response() {
        assert_eq!(classify_line("Done"), ResponseLine::Done);
        assert_eq!(classify_line("Done\r"), ResponseLine::Done);
        assert_eq!(classify_line("Error -1"), ResponseLine::Error(-1));
        assert_eq!(classify_line("Error 2"), ResponseLine::Error(2));
        assert_eq!(
            classify_line("'bpmcfg' is not recognized as a CLI command"),
            ResponseLine::NotRecognized("bpmcfg")
        );
        assert_eq!(
            classify_line("Ignored: Sensor is already stopped"),
            ResponseLine::Ignored("Sensor is already stopped")
        );
        assert_eq!(classify_line("mmwDemo:/>"), ResponseLine::Prompt);
        assert_eq!(
            classify_line("mmwDemo:/>sensorStop"),
            ResponseLine::Echo("sensorStop")
        );
        assert_eq!(
            classify_line("Debug: Init Calibration Status = 0x1ffe"),
            ResponseLine::Text("Debug: Init Calibration Status = 0x1ffe")
        );
    }

    /// Runs a session against scripted device replies, delivered `chunk` bytes at a time.
    fn run_session<'a>(
        session: &mut CfgSession<'a>,
        reply: impl Fn(&str) -> &'static str,
        chunk: usize,
    ) -> Vec<CommandReport<'a>> {
        let mut reports = Vec::new();
        while let Some(line) = session.next_command() {
            let text = reply(line.command());
            for piece in text.as_bytes().chunks(chunk) {
                if let Some(r) = session.feed(piece) {
                    reports.push(r);
                }
            }
        }
        reports
    }

    fn ti_reply(cmd: &str) -> &'static str {
        match cmd {
            "sensorStop" => "sensorStop\nIgnored: Sensor is already stopped\nDone\nmmwDemo:/>",
            "sensorStart" => {
                "sensorStart\n\rDebug: Init Calibration Status = 0x1ffe\n\rDone\n\rmmwDemo:/>"
            }
            "cfarCfg" => "cfarCfg -1 0 2 8 4 3 0 15 1\nDone\nmmwDemo:/>",
            _ => "\nDone\nmmwDemo:/>",
        }
    }

    #[test]
    fn session_sends_every_command_in_any_chunking() {
        for chunk in [1, 3, 7, 1000] {
            let mut session = CfgSession::new(XWR16XX_CFG);
            let reports = run_session(&mut session, ti_reply, chunk);
            assert_eq!(reports.len(), 14, "chunk {chunk}");
            assert_eq!(reports[0].outcome, CommandOutcome::Ignored);
            assert!(reports[1..]
                .iter()
                .all(|r| r.outcome == CommandOutcome::Done));
            assert_eq!(reports[13].line.text, "sensorStart");
            assert_eq!(session.state(), SessionState::Finished);
        }
    }

    #[test]
    fn session_stops_at_an_error_naming_command_and_line() {
        let mut session = CfgSession::new(XWR16XX_CFG);
        let reply = |cmd: &str| match cmd {
            "frameCfg" => "mmwDemo:/>frameCfg 0 1 16 0 100 1 0\nError -1\nmmwDemo:/>",
            other => ti_reply(other),
        };
        let reports = run_session(&mut session, reply, 5);
        let last = reports.last().unwrap();
        assert_eq!(last.outcome, CommandOutcome::Error(-1));
        assert_eq!(last.line.command(), "frameCfg");
        assert_eq!(last.line.line_number, 14);
        assert_eq!(session.state(), SessionState::Failed);
        assert_eq!(session.failure(), Some(*last));
        assert!(session.next_command().is_none());
        assert_eq!(
            alloc::format!("{last}"),
            "line 14: `frameCfg 0 1 16 0 100 1 0`: error -1"
        );
    }

    #[test]
    fn session_reports_unrecognized_commands() {
        let mut session = CfgSession::new("sensorStop\nbpmCfg -1 0 0 1\n");
        let reply = |cmd: &str| match cmd {
            "bpmCfg" => "bpmCfg -1 0 0 1\n'bpmCfg' is not recognized as a CLI command\nmmwDemo:/>",
            other => ti_reply(other),
        };
        let reports = run_session(&mut session, reply, 2);
        assert_eq!(reports[1].outcome, CommandOutcome::NotRecognized);
        assert_eq!(reports[1].line.line_number, 2);
    }

    #[test]
    fn ignored_then_prompt_without_done_is_success() {
        let mut session = CfgSession::new("sensorStop\n");
        session.next_command().unwrap();
        let report = session
            .feed(b"sensorStop\r\nIgnored: Sensor is already stopped\r\nmmwDemo:/>")
            .unwrap();
        assert_eq!(report.outcome, CommandOutcome::Ignored);
        assert!(session.next_command().is_none());
        assert_eq!(session.state(), SessionState::Finished);
    }

    #[test]
    fn overlong_lines_are_cut_not_overflowed() {
        let mut session = CfgSession::new("flushCfg\n");
        session.next_command().unwrap();
        assert!(session.feed(&[b'x'; 1000]).is_none());
        assert_eq!(
            session.feed(b"\nDone\n").map(|r| r.outcome),
            Some(CommandOutcome::Done)
        );
    }

    #[test]
    fn radar_params_follow_the_spec_formulas() {
        let p = RadarParams::from_cfg(XWR16XX_CFG).unwrap();
        assert_eq!((p.num_rx, p.num_tx, p.num_virtual_antennas), (4, 2, 8));
        assert_eq!((p.num_adc_samples, p.num_range_bins), (256, 256));
        assert_eq!((p.num_chirps_per_frame, p.num_doppler_bins), (32, 16));
        // 3e8 * 5209e3 / (2 * 70e12 * 256)
        assert!((p.range_resolution_m - 0.043_603).abs() < 1e-5, "{p:?}");
        // 3e8 / (2 * 77e9 * 486.14e-6 * 16 * 2)
        assert!((p.doppler_resolution_mps - 0.125_225).abs() < 1e-5, "{p:?}");
        assert_eq!(p.frame_period_ms, 100.0);
    }

    #[test]
    fn radar_params_round_adc_samples_up_and_reject_missing_commands() {
        let cfg = "channelCfg 15 7 0\nprofileCfg 0 60 975 7 57.14 0 0 70 1 200 5209 0 0 158\nframeCfg 0 2 16 0 40 1 0";
        let p = RadarParams::from_cfg(cfg).unwrap();
        assert_eq!((p.num_range_bins, p.num_doppler_bins), (256, 16));
        assert!(matches!(
            RadarParams::from_cfg("channelCfg 15 7 0"),
            Err(Error::Malformed(_))
        ));
        assert!(RadarParams::from_cfg("channelCfg 0 0 0\nprofileCfg\nframeCfg").is_err());
    }
}
