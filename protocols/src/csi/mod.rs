//! WiFi channel state information (CSI) formats.
//!
//! Three sources of CSI reach a gateway: ESP32 receivers printing CSV rows on a serial
//! console (two firmware families with different columns), and Intel 5300 NICs writing
//! binary `.dat` logs. Each has its own module; they share [`Iq`], the signed 8-bit
//! complex sample all of them report.

pub mod esp32_csi_tool;
pub mod esp_csi;
pub mod intel5300;
mod lines;

/// One complex CSI sample as the hardware reports it: signed 8-bit real and imaginary
/// parts, before any scaling or phase correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Iq {
    /// In-phase (real) part.
    pub re: i8,
    /// Quadrature (imaginary) part.
    pub im: i8,
}
