//! The TI radar's config (CLI) port: sending a `.cfg` before frames flow, and
//! `sensorStop` at shutdown. The protocol (line classification, one command in flight)
//! is the protocol crate's [`CfgSession`]; this module adds the port and the timeouts.
use std::time::{Duration, Instant};

use dagr_protocols::ti_mmwave::cli::{CfgSession, CommandReport};

use super::error::DeviceError;
use super::port::{self, Port, ReadOutcome};
use super::settings::TiCliSettings;
use crate::events::StopFlag;

/// Longest wait for a command's `Done` (`sensorStart` calibrates first, which takes a
/// few hundred ms on an xWR16xx).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for the answer to `sensorStop` at shutdown.
pub const STOP_TIMEOUT: Duration = Duration::from_millis(500);

/// Why a configuration did not complete.
#[derive(Debug)]
pub enum ConfigureError {
    /// The source was asked to stop meanwhile.
    Stopped,
    /// The radar refused a command, did not answer, or the port failed.
    Failed(DeviceError),
}

/// Opens the CLI port and sends the whole `.cfg`, one command at a time, each waiting
/// for its answer; returns the open port (needed for `sensorStop` later).
pub fn configure(cli: &TiCliSettings, stop: &StopFlag) -> Result<Port, ConfigureError> {
    let mut port = port::open(&cli.path, cli.baud).map_err(ConfigureError::Failed)?;
    // Whatever the radar printed before (boot banner, old prompts) is not an answer.
    let _ = port.clear(serialport::ClearBuffer::Input);
    let mut session = CfgSession::new(&cli.cfg_text);
    while let Some(line) = session.next_command() {
        let command = format!("{}\n", line.text);
        port::write(&mut port, command.as_bytes(), &cli.path).map_err(ConfigureError::Failed)?;
        let report = await_answer(&mut port, &mut session, &cli.path, COMMAND_TIMEOUT, stop)
            .map_err(|e| match e {
                Wait::Stopped => {
                    // The command in flight may have been `sensorStart`.
                    stop_sensor(&mut port, &cli.path);
                    ConfigureError::Stopped
                }
                Wait::TimedOut => ConfigureError::Failed(DeviceError::NoAnswer {
                    cfg: cli.cfg_file.clone(),
                    line: line.line_number,
                    command: line.text.to_string(),
                    timeout_ms: COMMAND_TIMEOUT.as_millis(),
                }),
                Wait::Lost(reason) => ConfigureError::Failed(reason),
            })?;
        if !report.outcome.is_success() {
            return Err(ConfigureError::Failed(DeviceError::Refused {
                cfg: cli.cfg_file.clone(),
                report: report.to_string(),
            }));
        }
    }
    Ok(port)
}

/// Sends `sensorStop` and waits briefly for the radar's answer: best effort, as the
/// gateway is shutting down and the radar may already be gone.
pub fn stop_sensor(port: &mut Port, path: &str) {
    let mut session = CfgSession::new("sensorStop");
    if session.next_command().is_none() || port::write(port, b"sensorStop\n", path).is_err() {
        return;
    }
    let never = StopFlag::default();
    let _ = await_answer(port, &mut session, path, STOP_TIMEOUT, &never);
}

/// Why no answer came.
enum Wait {
    Stopped,
    TimedOut,
    Lost(DeviceError),
}

/// Reads until the command in flight is answered, the timeout passes or `stop` is raised.
fn await_answer<'a>(
    port: &mut Port,
    session: &mut CfgSession<'a>,
    path: &str,
    timeout: Duration,
    stop: &StopFlag,
) -> Result<CommandReport<'a>, Wait> {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 256];
    loop {
        if stop.is_stopped() {
            return Err(Wait::Stopped);
        }
        if Instant::now() >= deadline {
            return Err(Wait::TimedOut);
        }
        match port::read(port, &mut buf, path) {
            ReadOutcome::Bytes(n) => {
                if let Some(report) = session.feed(&buf[..n]) {
                    return Ok(report);
                }
            }
            ReadOutcome::Idle => {}
            ReadOutcome::Lost(reason) => return Err(Wait::Lost(reason)),
        }
    }
}
