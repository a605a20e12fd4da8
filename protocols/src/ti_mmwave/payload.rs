//! The other TLV payloads: u16 profiles and heatmaps, complex heatmaps, statistics and
//! temperatures.
//!
//! TLV 2/3 (range/noise profile) and 5 (range-Doppler heatmap) are u16 arrays; TLV 4/8
//! (azimuth and azimuth/elevation heatmaps) are `cmplx16ImRe {i16 imag, i16 real}` arrays in
//! range-major order. Their dimensions come from the radar configuration, not the packet,
//! so the views expose flat arrays (see `cli::RadarParams` for the dimensions).
use core::fmt;

use super::le::{i16_at, i32_at, put, record, record_mut, u16_at, u32_at};
use crate::error::{Error, Result};

/// Bytes of one `cmplx16ImRe` value.
pub const COMPLEX16_LEN: usize = 4;
/// Bytes of the TLV 6 payload.
pub const STATS_LEN: usize = 24;
/// Bytes of the TLV 9 payload.
pub const TEMPERATURE_LEN: usize = 28;

/// Byte offsets of the TLV 6 and TLV 9 fields.
pub mod field {
    /// TLV 6 `interFrameProcessingTime` (us).
    pub const INTER_FRAME_PROCESSING_TIME: usize = 0;
    /// TLV 6 `transmitOutputTime` (us).
    pub const TRANSMIT_OUTPUT_TIME: usize = 4;
    /// TLV 6 `interFrameProcessingMargin` (us).
    pub const INTER_FRAME_PROCESSING_MARGIN: usize = 8;
    /// TLV 6 `interChirpProcessingMargin` (us).
    pub const INTER_CHIRP_PROCESSING_MARGIN: usize = 12;
    /// TLV 6 `activeFrameCPULoad` (%).
    pub const ACTIVE_FRAME_CPU_LOAD: usize = 16;
    /// TLV 6 `interFrameCPULoad` (%).
    pub const INTER_FRAME_CPU_LOAD: usize = 20;
    /// TLV 9 `tempReportValid` (i32, 0 = valid).
    pub const TEMP_REPORT_VALID: usize = 0;
    /// TLV 9 `rlRfTempData_t.time` (ms).
    pub const TEMP_TIME: usize = 4;
    /// TLV 9 first of ten i16 sensors: tmpRx0..3, tmpTx0..2, tmpPm, tmpDig0, tmpDig1.
    pub const TEMP_SENSORS: usize = 8;
}

/// View over a u16 array payload (TLV 2, 3, 5).
#[derive(Debug, Clone, Copy)]
pub struct U16Array<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> U16Array<T> {
    /// Wraps a payload whose length must be even.
    pub fn new_checked(buffer: T) -> Result<U16Array<T>> {
        if buffer.as_ref().len() % 2 != 0 {
            return Err(Error::Malformed("u16 array TLV of odd length"));
        }
        Ok(U16Array { buffer })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.buffer.as_ref().len() / 2
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `index` (0 past the end).
    pub fn get(&self, index: usize) -> u16 {
        u16_at(self.buffer.as_ref(), index.saturating_mul(2))
    }

    /// All values in order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.buffer
            .as_ref()
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> U16Array<T> {
    /// Writes `values` from the start; `BufferTooSmall` if they do not fit.
    pub fn set_all(&mut self, values: &[u16]) -> Result<()> {
        let bytes = self.buffer.as_mut();
        if values.len().saturating_mul(2) > bytes.len() {
            return Err(Error::BufferTooSmall);
        }
        for (dst, v) in bytes.chunks_exact_mut(2).zip(values) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
}

/// One `cmplx16ImRe` heatmap cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Complex16 {
    /// Imaginary part (first on the wire).
    pub imag: i16,
    /// Real part.
    pub real: i16,
}

/// View over a `cmplx16ImRe` array payload (TLV 4, 8).
#[derive(Debug, Clone, Copy)]
pub struct Complex16Array<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Complex16Array<T> {
    /// Wraps a payload whose length must be a multiple of 4.
    pub fn new_checked(buffer: T) -> Result<Complex16Array<T>> {
        if buffer.as_ref().len() % COMPLEX16_LEN != 0 {
            return Err(Error::Malformed(
                "complex heatmap TLV length not a multiple of 4",
            ));
        }
        Ok(Complex16Array { buffer })
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.buffer.as_ref().len() / COMPLEX16_LEN
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<Complex16> {
        let r = record(self.buffer.as_ref(), index, COMPLEX16_LEN)?;
        Some(Complex16 {
            imag: i16_at(r, 0),
            real: i16_at(r, 2),
        })
    }

    /// All cells in order.
    pub fn iter(&self) -> impl Iterator<Item = Complex16> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Complex16Array<T> {
    /// Writes cell `index`; `BufferTooSmall` past the end.
    pub fn set(&mut self, index: usize, value: Complex16) -> Result<()> {
        let r =
            record_mut(self.buffer.as_mut(), index, COMPLEX16_LEN).ok_or(Error::BufferTooSmall)?;
        put(r, 0, &value.imag.to_le_bytes());
        put(r, 2, &value.real.to_le_bytes());
        Ok(())
    }
}

/// TLV 6: timing and CPU load of the frame's processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// `interFrameProcessingTime`, us.
    pub inter_frame_processing_time: u32,
    /// `transmitOutputTime`, us.
    pub transmit_output_time: u32,
    /// `interFrameProcessingMargin`, us.
    pub inter_frame_processing_margin: u32,
    /// `interChirpProcessingMargin`, us.
    pub inter_chirp_processing_margin: u32,
    /// `activeFrameCPULoad`, %.
    pub active_frame_cpu_load: u32,
    /// `interFrameCPULoad`, %.
    pub inter_frame_cpu_load: u32,
}

impl Stats {
    /// Reads a TLV 6 payload (exactly 24 bytes).
    pub fn parse(payload: &[u8]) -> Result<Stats> {
        if payload.len() != STATS_LEN {
            return Err(Error::Malformed("TLV 6 length is not 24"));
        }
        Ok(Stats {
            inter_frame_processing_time: u32_at(payload, field::INTER_FRAME_PROCESSING_TIME),
            transmit_output_time: u32_at(payload, field::TRANSMIT_OUTPUT_TIME),
            inter_frame_processing_margin: u32_at(payload, field::INTER_FRAME_PROCESSING_MARGIN),
            inter_chirp_processing_margin: u32_at(payload, field::INTER_CHIRP_PROCESSING_MARGIN),
            active_frame_cpu_load: u32_at(payload, field::ACTIVE_FRAME_CPU_LOAD),
            inter_frame_cpu_load: u32_at(payload, field::INTER_FRAME_CPU_LOAD),
        })
    }

    /// Payload bytes.
    pub fn buffer_len(&self) -> usize {
        STATS_LEN
    }

    /// Writes the payload into `out` (at least 24 bytes).
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        if out.len() < STATS_LEN {
            return Err(Error::BufferTooSmall);
        }
        let fields = [
            (
                field::INTER_FRAME_PROCESSING_TIME,
                self.inter_frame_processing_time,
            ),
            (field::TRANSMIT_OUTPUT_TIME, self.transmit_output_time),
            (
                field::INTER_FRAME_PROCESSING_MARGIN,
                self.inter_frame_processing_margin,
            ),
            (
                field::INTER_CHIRP_PROCESSING_MARGIN,
                self.inter_chirp_processing_margin,
            ),
            (field::ACTIVE_FRAME_CPU_LOAD, self.active_frame_cpu_load),
            (field::INTER_FRAME_CPU_LOAD, self.inter_frame_cpu_load),
        ];
        for (at, value) in fields {
            put(out, at, &value.to_le_bytes());
        }
        Ok(())
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "processing {} us, output {} us, active load {}%, inter-frame load {}%",
            self.inter_frame_processing_time,
            self.transmit_output_time,
            self.active_frame_cpu_load,
            self.inter_frame_cpu_load
        )
    }
}

/// TLV 9: `MmwDemo_temperatureStats` (validity flag plus `rlRfTempData_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TemperatureStats {
    /// `tempReportValid`: 0 when the report is valid.
    pub temp_report_valid: i32,
    /// `time`, ms since the radar front end started.
    pub time_ms: u32,
    /// `tmpRx0..3`, `tmpTx0..2`, `tmpPm`, `tmpDig0`, `tmpDig1`, degrees C.
    pub sensors: [i16; 10],
}

impl TemperatureStats {
    /// Reads a TLV 9 payload (exactly 28 bytes).
    pub fn parse(payload: &[u8]) -> Result<TemperatureStats> {
        if payload.len() != TEMPERATURE_LEN {
            return Err(Error::Malformed("TLV 9 length is not 28"));
        }
        Ok(TemperatureStats {
            temp_report_valid: i32_at(payload, field::TEMP_REPORT_VALID),
            time_ms: u32_at(payload, field::TEMP_TIME),
            sensors: core::array::from_fn(|i| i16_at(payload, field::TEMP_SENSORS + 2 * i)),
        })
    }

    /// Payload bytes.
    pub fn buffer_len(&self) -> usize {
        TEMPERATURE_LEN
    }

    /// Writes the payload into `out` (at least 28 bytes).
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        if out.len() < TEMPERATURE_LEN {
            return Err(Error::BufferTooSmall);
        }
        put(
            out,
            field::TEMP_REPORT_VALID,
            &self.temp_report_valid.to_le_bytes(),
        );
        put(out, field::TEMP_TIME, &self.time_ms.to_le_bytes());
        for (i, t) in self.sensors.iter().enumerate() {
            put(out, field::TEMP_SENSORS + 2 * i, &t.to_le_bytes());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_parse_and_emit_are_inverse() {
        let mut bytes = [0u8; 24];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let stats = Stats::parse(&bytes).unwrap();
        assert_eq!(stats.inter_frame_processing_time, 0x0302_0100);
        assert_eq!(stats.inter_frame_cpu_load, 0x1716_1514);
        let mut out = [0u8; 24];
        stats.emit(&mut out).unwrap();
        assert_eq!(out, bytes);
        assert!(Stats::parse(&bytes[..20]).is_err());
    }

    #[test]
    fn temperature_reads_flag_time_and_ten_sensors() {
        let mut bytes = [0u8; 28];
        bytes[4] = 0x10; // time 16 ms
        bytes[8] = 40; // tmpRx0 = 40
        bytes[26] = 0xfe; // tmpDig1 = -2
        bytes[27] = 0xff;
        let t = TemperatureStats::parse(&bytes).unwrap();
        assert_eq!((t.temp_report_valid, t.time_ms), (0, 16));
        assert_eq!((t.sensors[0], t.sensors[9]), (40, -2));
        let mut out = [0u8; 28];
        t.emit(&mut out).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn arrays_read_little_endian_and_reject_ragged_lengths() {
        let profile = U16Array::new_checked(&[0x34u8, 0x12, 0xff, 0xff][..]).unwrap();
        assert_eq!(
            (profile.len(), profile.get(0), profile.get(1)),
            (2, 0x1234, 0xffff)
        );
        assert!(U16Array::new_checked(&[0u8; 3][..]).is_err());
        let heat = Complex16Array::new_checked(&[0xff_u8, 0xff, 0x02, 0x00][..]).unwrap();
        assert_eq!(heat.get(0), Some(Complex16 { imag: -1, real: 2 }));
        assert!(Complex16Array::new_checked(&[0u8; 6][..]).is_err());
    }
}
