//! What a board port provides to the core: a microsecond clock and a byte link to the host.
//!
//! The core never touches hardware. A port implements [`Clock`] on its free-running timer
//! and [`Link`] on its UART / USB CDC transmitter; the host build implements both on
//! `std` (see `sim`), so the very same core runs in `dagr-node-sim`.
use core::fmt;

/// The node's monotonic clock: microseconds since boot, 64 bits so it never wraps.
///
/// Drivers stamp samples with it (capture time) and the core stamps control frames and
/// time-sync answers with it, so the host can map every node timestamp to its own clock.
pub trait Clock {
    /// Microseconds since boot; never decreases.
    fn now_us(&self) -> u64;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_us(&self) -> u64 {
        (**self).now_us()
    }
}

/// Why the link could not take bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The transmitter did not drain in time.
    Timeout,
    /// The transmitter accepted nothing (a zero-length write), so retrying would spin.
    Stalled,
    /// The host side is gone (cable pulled, pty closed).
    Disconnected,
    /// Any other hardware or OS error.
    Other,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkError::Timeout => "link write timed out",
            LinkError::Stalled => "link accepted no bytes",
            LinkError::Disconnected => "link disconnected",
            LinkError::Other => "link error",
        })
    }
}

/// The byte stream to the host (UART, USB CDC, TCP): where encoded frames go.
pub trait Link {
    /// Writes a prefix of `bytes`, returning how many were taken (like `io::Write::write`).
    /// The core calls it again with the rest until the frame is out.
    fn write(&mut self, bytes: &[u8]) -> Result<usize, LinkError>;
}

impl<L: Link + ?Sized> Link for &mut L {
    fn write(&mut self, bytes: &[u8]) -> Result<usize, LinkError> {
        (**self).write(bytes)
    }
}
