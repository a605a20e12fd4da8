//! WiFi channel state information (CSI) formats.
//!
//! Three sources of CSI reach a gateway: ESP32 receivers printing CSV rows on a serial
//! console (two firmware families with different columns), and Intel 5300 NICs writing
//! binary `.dat` logs. Each has its own module; they share [`Iq`], the signed 8-bit
//! complex sample all of them report, and the two ESP32 formats share [`RxCtrl`], the
//! receive-control columns both print.

pub mod esp32_csi_tool;
pub mod esp_csi;
pub mod intel5300;
mod lines;
pub mod rx_ctrl;

pub use rx_ctrl::RxCtrl;

/// One complex CSI sample as the hardware reports it: signed 8-bit real and imaginary
/// parts, before any scaling or phase correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Iq {
    /// In-phase (real) part.
    pub re: i8,
    /// Quadrature (imaginary) part.
    pub im: i8,
}

#[cfg(feature = "alloc")]
pub use row_decoder::{CsvRow, RowDecoder};

#[cfg(feature = "alloc")]
mod row_decoder {
    use core::marker::PhantomData;

    use super::lines::RowSplitter;
    use crate::error::Result;
    use crate::stream::{StreamDecoder, StreamStats};

    /// A CSI row type printed one per console line: what [`RowDecoder`] needs of a format.
    pub trait CsvRow: Sized {
        /// Parses one line (from `CSI_DATA,` on, without its line end).
        fn parse_line(line: &[u8]) -> Result<Self>;
    }

    /// Turns an ESP32 console stream into rows of type `R`.
    ///
    /// Lines are split on `\n` (a trailing `\r` dropped). A line holding `CSI_DATA,` is a
    /// row from its last such prefix on (serial noise glued in front is skipped); other
    /// lines (the header, ESP-IDF logs) are skipped and counted in `bytes_skipped`; rows
    /// that fail to parse count as rejected frames with the error naming the column. A line
    /// longer than the limit is dropped up to its newline. [`finish`](StreamDecoder::finish)
    /// decodes a last row without a line end.
    #[derive(Debug, Clone)]
    pub struct RowDecoder<R> {
        lines: RowSplitter,
        row: PhantomData<fn() -> R>,
    }

    impl<R: CsvRow> RowDecoder<R> {
        /// Longest line [`new`](Self::new) accepts: a 612-value row is about 3 KiB.
        pub const DEFAULT_MAX_LINE: usize = 8 * 1024;

        /// A decoder accepting lines up to [`DEFAULT_MAX_LINE`](Self::DEFAULT_MAX_LINE).
        pub fn new() -> Self {
            Self::with_limit(Self::DEFAULT_MAX_LINE)
        }

        /// A decoder buffering at most `max_line_bytes` of one line (plus its `\n`).
        pub fn with_limit(max_line_bytes: usize) -> Self {
            RowDecoder {
                lines: RowSplitter::new(max_line_bytes),
                row: PhantomData,
            }
        }
    }

    impl<R: CsvRow> Default for RowDecoder<R> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<R: CsvRow> StreamDecoder for RowDecoder<R> {
        type Item = R;

        fn push(&mut self, input: &[u8]) -> usize {
            self.lines.push(input)
        }

        fn next_item(&mut self) -> Option<R> {
            self.lines.next_row(R::parse_line)
        }

        fn finish(&mut self) {
            self.lines.finish();
        }

        fn stats(&self) -> &StreamStats {
            &self.lines.stats
        }
    }
}
