//! Opening a serial port the way every device here expects (8N1, no flow control) and
//! reading it in short waits, so the source thread can notice a stop request, a due
//! time-sync request or a vanished device between reads.
use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use serialport::{DataBits, FlowControl, Parity, SerialPort, StopBits};

use super::error::DeviceError;

/// An open serial port.
pub type Port = Box<dyn SerialPort>;

/// Longest a read waits for bytes before the thread looks at its chores again.
pub const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// Opens `path` at `baud`, 8N1, without flow control.
pub fn open(path: &str, baud: u32) -> Result<Port, DeviceError> {
    serialport::new(path, baud)
        .data_bits(DataBits::Eight)
        .parity(Parity::None)
        .stop_bits(StopBits::One)
        .flow_control(FlowControl::None)
        .timeout(READ_TIMEOUT)
        .open()
        .map_err(|source| DeviceError::Open {
            path: path.to_string(),
            source,
        })
}

/// Releases DTR and RTS, best effort: on ESP32 boards with the usual auto-reset circuit,
/// asserted lines hold the chip in reset or in its bootloader. A pseudo-terminal or an
/// adapter without modem lines refuses, which is fine.
pub fn release_reset_lines(port: &mut Port) {
    let _ = port.write_data_terminal_ready(false);
    let _ = port.write_request_to_send(false);
}

/// What one read of the port gave.
#[derive(Debug)]
pub enum ReadOutcome {
    /// This many bytes arrived (at least one).
    Bytes(usize),
    /// Nothing within [`READ_TIMEOUT`].
    Idle,
    /// The device is gone (hang-up, I/O error, end of file).
    Lost(DeviceError),
}

/// Reads into `buf`, telling a quiet line from a lost device.
pub fn read(port: &mut Port, buf: &mut [u8], path: &str) -> ReadOutcome {
    match port.read(buf) {
        Ok(0) => ReadOutcome::Lost(DeviceError::Closed {
            path: path.to_string(),
        }),
        Ok(n) => ReadOutcome::Bytes(n),
        Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {
            ReadOutcome::Idle
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => ReadOutcome::Idle,
        Err(source) => ReadOutcome::Lost(DeviceError::Read {
            path: path.to_string(),
            source,
        }),
    }
}

/// Writes all of `bytes`; a failure means the device is gone.
pub fn write(port: &mut Port, bytes: &[u8], path: &str) -> Result<(), DeviceError> {
    port.write_all(bytes).map_err(|source| DeviceError::Write {
        path: path.to_string(),
        source,
    })
}
