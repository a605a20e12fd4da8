//! Why a serial device could not be used or was lost: the reason a source's
//! `Disconnected` state says, kept typed (with its cause) until `errors::chain` puts it into
//! words there.
use std::path::PathBuf;

/// What went wrong with a serial device or the radar's configuration.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The port could not be opened (absent, busy, no permission).
    #[error("cannot open {path}")]
    Open {
        /// The device path.
        path: String,
        /// Why, from the serial library.
        #[source]
        source: serialport::Error,
    },
    /// A read failed (the device hung up or was unplugged).
    #[error("{path}: read failed")]
    Read {
        /// The device path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A write failed.
    #[error("{path}: write failed")]
    Write {
        /// The device path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The port reported end of file: the device closed it.
    #[error("{path}: end of file (device closed)")]
    Closed {
        /// The device path.
        path: String,
    },
    /// The radar did not answer a `.cfg` command in time.
    #[error("radar config {} line {line}: `{command}`: no answer within {timeout_ms} ms", .cfg.display())]
    NoAnswer {
        /// The `.cfg` file.
        cfg: PathBuf,
        /// The command's line in it.
        line: usize,
        /// The command.
        command: String,
        /// How long the gateway waited.
        timeout_ms: u128,
    },
    /// The radar refused a `.cfg` command (its report names the line and the answer).
    #[error("radar config {} {report}", .cfg.display())]
    Refused {
        /// The `.cfg` file.
        cfg: PathBuf,
        /// The radar's answer, as the protocol crate reports it.
        report: String,
    },
}
