//! Espressif esp-csi serial rows (`examples/get-started/csi_recv`, `csi_recv_router`).
//!
//! The firmware prints a header line once, then one CSV row per received frame whose last
//! column is the CSI as a **double-quoted, comma-separated list** (a CSV-quoted JSON array).
//! Two layouts exist, told apart by their column count:
//!
//! ```text
//! ESP32/S2/S3/C3, 25 columns:
//! CSI_DATA,<id>,<mac>,<rssi>,<rate>,<sig_mode>,<mcs>,<cwb>,<smoothing>,<not_sounding>,
//! <aggregation>,<stbc>,<fec_coding>,<sgi>,<noise_floor>,<ampdu_cnt>,<channel>,
//! <secondary_channel>,<local_timestamp>,<ant>,<sig_len>,<rx_state>,<len>,<first_word>,"[b0,...]"
//! ESP32-C5/C6/C61, 15 columns:
//! CSI_DATA,<seq>,<mac>,<rssi>,<rate>,<noise_floor>,<fft_gain>,<agc_gain>,<channel>,
//! <local_timestamp>,<sig_len>,<rx_state>,<len>,<first_word>,"[b0,...]"
//! ```
//!
//! Quirks: the MAC is lowercase (`%02x:`; either case is read); `id`/`seq` and
//! `local_timestamp` are unsigned values printed with `%d` (negative from 2^31 on, read
//! back as the `u32`); values are pairs, **imaginary first, then real**; `len` must equal
//! the number of values (Espressif's own parser checks this); `first_word` = 1 means the
//! first four bytes are invalid on this chip (kept as printed, flagged in
//! [`CsiRow::first_word_invalid`]). Builds with `CSI_FORCE_LLTF` on the C5 print 12-bit
//! samples as int16; those rows are rejected as [`Error::Unsupported`], since [`Iq`] holds
//! 8-bit parts.
//!
//! [`Row`] is the checked, non-allocating view of one line; [`CsiRow`] (with `alloc`) the
//! owned record with an encoder in the firmware's style; [`RowDecoder`] the streaming
//! decoder.
use core::fmt;

use super::lines::{
    flag_column, int_column, parse_mac, scan_values, u32_printed_as_d, BadValue, Tokens, ROW_PREFIX,
};
use super::Iq;
use crate::error::{Error, Result};

/// Column positions of both layouts, in the order of the firmware's header lines.
pub mod field {
    /// ESP32 / S2 / S3 / C3: 25 columns with the full `rx_ctrl` of those chips.
    pub mod esp32 {
        /// Always `CSI_DATA`.
        pub const TYPE: usize = 0;
        /// Sequence number from the sender's payload (`u32` printed with `%d`).
        pub const ID: usize = 1;
        /// Transmitter MAC, `%02x:` separated.
        pub const MAC: usize = 2;
        /// `rx_ctrl.rssi`, dBm.
        pub const RSSI: usize = 3;
        /// `rx_ctrl.rate`.
        pub const RATE: usize = 4;
        /// `rx_ctrl.sig_mode`: 0 non-HT, 1 HT, 3 VHT.
        pub const SIG_MODE: usize = 5;
        /// `rx_ctrl.mcs`.
        pub const MCS: usize = 6;
        /// `rx_ctrl.cwb` (header: `bandwidth`): 0 = 20 MHz, 1 = 40 MHz.
        pub const BANDWIDTH: usize = 7;
        /// `rx_ctrl.smoothing`.
        pub const SMOOTHING: usize = 8;
        /// `rx_ctrl.not_sounding`.
        pub const NOT_SOUNDING: usize = 9;
        /// `rx_ctrl.aggregation`.
        pub const AGGREGATION: usize = 10;
        /// `rx_ctrl.stbc`.
        pub const STBC: usize = 11;
        /// `rx_ctrl.fec_coding`.
        pub const FEC_CODING: usize = 12;
        /// `rx_ctrl.sgi`.
        pub const SGI: usize = 13;
        /// `rx_ctrl.noise_floor`, dBm.
        pub const NOISE_FLOOR: usize = 14;
        /// `rx_ctrl.ampdu_cnt`.
        pub const AMPDU_CNT: usize = 15;
        /// `rx_ctrl.channel`.
        pub const CHANNEL: usize = 16;
        /// `rx_ctrl.secondary_channel`: 0 none, 1 above, 2 below.
        pub const SECONDARY_CHANNEL: usize = 17;
        /// `rx_ctrl.timestamp`, µs (`u32` printed with `%d`).
        pub const LOCAL_TIMESTAMP: usize = 18;
        /// `rx_ctrl.ant`.
        pub const ANT: usize = 19;
        /// `rx_ctrl.sig_len`.
        pub const SIG_LEN: usize = 20;
        /// `rx_ctrl.rx_state`.
        pub const RX_STATE: usize = 21;
        /// Number of values in the data column.
        pub const LEN: usize = 22;
        /// `first_word_invalid`: 1 when the first 4 bytes are garbage.
        pub const FIRST_WORD: usize = 23;
        /// The quoted CSI list.
        pub const DATA: usize = 24;
        /// Columns per row.
        pub const COUNT: usize = 25;
        /// The header line printed once (without its `\n`).
        pub const HEADER: &str = "type,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,\
not_sounding,aggregation,stbc,fec_coding,sgi,noise_floor,ampdu_cnt,channel,secondary_channel,\
local_timestamp,ant,sig_len,rx_state,len,first_word,data";
    }

    /// ESP32-C5 / C6 / C61: 15 columns with the gains of the newer PHY.
    pub mod c5c6 {
        /// Always `CSI_DATA`.
        pub const TYPE: usize = 0;
        /// Sequence number from the sender's payload (`u32` printed with `%d`).
        pub const SEQ: usize = 1;
        /// Transmitter MAC, `%02x:` separated.
        pub const MAC: usize = 2;
        /// `rx_ctrl.rssi`, dBm.
        pub const RSSI: usize = 3;
        /// `rx_ctrl.rate`.
        pub const RATE: usize = 4;
        /// `rx_ctrl.noise_floor`, dBm.
        pub const NOISE_FLOOR: usize = 5;
        /// PHY FFT gain (from the reserved words of `rx_ctrl`).
        pub const FFT_GAIN: usize = 6;
        /// PHY AGC gain.
        pub const AGC_GAIN: usize = 7;
        /// `rx_ctrl.channel`.
        pub const CHANNEL: usize = 8;
        /// `rx_ctrl.timestamp`, µs (`u32` printed with `%d`).
        pub const LOCAL_TIMESTAMP: usize = 9;
        /// `rx_ctrl.sig_len`.
        pub const SIG_LEN: usize = 10;
        /// `rx_ctrl.rx_state`.
        pub const RX_STATE: usize = 11;
        /// Number of values in the data column.
        pub const LEN: usize = 12;
        /// `first_word_invalid`.
        pub const FIRST_WORD: usize = 13;
        /// The quoted CSI list.
        pub const DATA: usize = 14;
        /// Columns per row.
        pub const COUNT: usize = 15;
        /// The header line printed once (without its `\n`).
        pub const HEADER: &str = "type,seq,mac,rssi,rate,noise_floor,fft_gain,agc_gain,\
channel,local_timestamp,sig_len,rx_state,len,first_word,data";
    }
}

/// Which of the two row layouts a line has (which chip family printed it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// 25 columns: ESP32, ESP32-S2, -S3, -C3.
    Esp32,
    /// 15 columns: ESP32-C5, -C6, -C61.
    C5C6,
}

impl Layout {
    /// Columns in a row of this layout.
    pub fn columns(self) -> usize {
        match self {
            Layout::Esp32 => field::esp32::COUNT,
            Layout::C5C6 => field::c5c6::COUNT,
        }
    }

    fn from_columns(count: usize) -> Result<Layout> {
        match count {
            field::esp32::COUNT => Ok(Layout::Esp32),
            field::c5c6::COUNT => Ok(Layout::C5C6),
            _ => Err(Error::Malformed(
                "column count: expected 25 (ESP32/S2/S3/C3) or 15 (C5/C6)",
            )),
        }
    }
}

/// Most columns a row has (the 25-column layout).
const MAX_COLUMNS: usize = field::esp32::COUNT;

/// A checked, read-only view of one row (a line without its `\n`; a trailing `\r\n`, `\n`
/// or `\r` is ignored). Construction validates every column, so the accessors are plain
/// reads; nothing is allocated.
#[derive(Debug, Clone)]
pub struct Row<T: AsRef<[u8]>> {
    buffer: T,
    layout: Layout,
    /// Column `i` spans `bounds[i]..bounds[i + 1] - 1` (the `- 1` skips its comma).
    bounds: [usize; MAX_COLUMNS + 1],
    value_count: usize,
}

impl<T: AsRef<[u8]>> Row<T> {
    /// Splits and validates a row; the error names the first bad column.
    pub fn new_checked(buffer: T) -> Result<Row<T>> {
        let mut row = Row::split(buffer)?;
        let count = scan_list(row.list(), |_| {})?;
        row.value_count = check_len(&row, count)?;
        Ok(row)
    }

    /// Splits the columns and checks all but the CSI list (whose caller scans it and
    /// then calls [`check_len`]).
    fn split(buffer: T) -> Result<Row<T>> {
        let (layout, bounds) = column_bounds(line_body(buffer.as_ref()))?;
        let row = Row {
            buffer,
            layout,
            bounds,
            value_count: 0,
        };
        row.check_columns()?;
        Ok(row)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Which layout (chip family) the row has.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    fn column(&self, i: usize) -> &[u8] {
        let body = line_body(self.buffer.as_ref());
        let start = self.bounds.get(i).copied().unwrap_or(0);
        let end = self.bounds.get(i + 1).copied().unwrap_or(0);
        body.get(start..end.saturating_sub(1)).unwrap_or_default()
    }

    /// The column of a field present in both layouts.
    fn common(&self, esp32: usize, c5c6: usize) -> &[u8] {
        match self.layout {
            Layout::Esp32 => self.column(esp32),
            Layout::C5C6 => self.column(c5c6),
        }
    }

    fn esp32_u8(&self, i: usize) -> Option<u8> {
        match self.layout {
            Layout::Esp32 => int_column(self.column(i), "").ok(),
            Layout::C5C6 => None,
        }
    }

    fn c5c6_u8(&self, i: usize) -> Option<u8> {
        match self.layout {
            Layout::C5C6 => int_column(self.column(i), "").ok(),
            Layout::Esp32 => None,
        }
    }

    /// Validates every column but the CSI list.
    fn check_columns(&self) -> Result<()> {
        use field::{c5c6 as n, esp32 as w};
        u32_printed_as_d(self.common(w::ID, n::SEQ), "id")?;
        parse_mac(self.common(w::MAC, n::MAC)).ok_or(Error::Malformed("mac"))?;
        int_column::<i8>(self.common(w::RSSI, n::RSSI), "rssi")?;
        int_column::<u8>(self.common(w::RATE, n::RATE), "rate")?;
        int_column::<i8>(self.common(w::NOISE_FLOOR, n::NOISE_FLOOR), "noise_floor")?;
        int_column::<u8>(self.common(w::CHANNEL, n::CHANNEL), "channel")?;
        let ts = self.common(w::LOCAL_TIMESTAMP, n::LOCAL_TIMESTAMP);
        u32_printed_as_d(ts, "local_timestamp")?;
        int_column::<u16>(self.common(w::SIG_LEN, n::SIG_LEN), "sig_len")?;
        int_column::<u8>(self.common(w::RX_STATE, n::RX_STATE), "rx_state")?;
        flag_column(self.common(w::FIRST_WORD, n::FIRST_WORD), "first_word")?;
        let columns: &[(usize, &'static str)] = match self.layout {
            Layout::Esp32 => &ESP32_U8_COLUMNS,
            Layout::C5C6 => &C5C6_U8_COLUMNS,
        };
        for &(i, name) in columns {
            int_column::<u8>(self.column(i), name)?;
        }
        int_column::<usize>(self.common(w::LEN, n::LEN), "len")?;
        Ok(())
    }

    /// Sequence number the sender put in its payload (`id` / `seq` column).
    pub fn id(&self) -> u32 {
        let text = self.common(field::esp32::ID, field::c5c6::SEQ);
        u32_printed_as_d(text, "").unwrap_or_default()
    }

    /// Transmitter MAC address.
    pub fn mac(&self) -> [u8; 6] {
        parse_mac(self.common(field::esp32::MAC, field::c5c6::MAC)).unwrap_or_default()
    }

    /// Received signal strength, dBm.
    pub fn rssi(&self) -> i8 {
        int_column(self.common(field::esp32::RSSI, field::c5c6::RSSI), "").unwrap_or_default()
    }

    /// PHY rate code.
    pub fn rate(&self) -> u8 {
        int_column(self.common(field::esp32::RATE, field::c5c6::RATE), "").unwrap_or_default()
    }

    /// Noise floor, dBm.
    pub fn noise_floor(&self) -> i8 {
        let text = self.common(field::esp32::NOISE_FLOOR, field::c5c6::NOISE_FLOOR);
        int_column(text, "").unwrap_or_default()
    }

    /// Primary channel.
    pub fn channel(&self) -> u8 {
        let text = self.common(field::esp32::CHANNEL, field::c5c6::CHANNEL);
        int_column(text, "").unwrap_or_default()
    }

    /// Receiver µs counter at reception (wraps at 2^32).
    pub fn local_timestamp(&self) -> u32 {
        let text = self.common(field::esp32::LOCAL_TIMESTAMP, field::c5c6::LOCAL_TIMESTAMP);
        u32_printed_as_d(text, "").unwrap_or_default()
    }

    /// Received packet length, bytes.
    pub fn sig_len(&self) -> u16 {
        let text = self.common(field::esp32::SIG_LEN, field::c5c6::SIG_LEN);
        int_column(text, "").unwrap_or_default()
    }

    /// Receiver state (0 = no error).
    pub fn rx_state(&self) -> u8 {
        let text = self.common(field::esp32::RX_STATE, field::c5c6::RX_STATE);
        int_column(text, "").unwrap_or_default()
    }

    /// True when the chip reports the first four CSI bytes as invalid.
    pub fn first_word_invalid(&self) -> bool {
        self.common(field::esp32::FIRST_WORD, field::c5c6::FIRST_WORD) == b"1"
    }

    /// 0 non-HT, 1 HT, 3 VHT (ESP32 layout only).
    pub fn sig_mode(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::SIG_MODE)
    }

    /// Modulation and coding scheme index (ESP32 layout only).
    pub fn mcs(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::MCS)
    }

    /// `rx_ctrl.cwb`: 0 = 20 MHz, 1 = 40 MHz (ESP32 layout only).
    pub fn bandwidth(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::BANDWIDTH)
    }

    /// `rx_ctrl.smoothing` (ESP32 layout only).
    pub fn smoothing(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::SMOOTHING)
    }

    /// `rx_ctrl.not_sounding` (ESP32 layout only).
    pub fn not_sounding(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::NOT_SOUNDING)
    }

    /// `rx_ctrl.aggregation` (ESP32 layout only).
    pub fn aggregation(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::AGGREGATION)
    }

    /// `rx_ctrl.stbc` (ESP32 layout only).
    pub fn stbc(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::STBC)
    }

    /// `rx_ctrl.fec_coding` (ESP32 layout only).
    pub fn fec_coding(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::FEC_CODING)
    }

    /// `rx_ctrl.sgi` (ESP32 layout only).
    pub fn sgi(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::SGI)
    }

    /// Subframes in the AMPDU (ESP32 layout only).
    pub fn ampdu_cnt(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::AMPDU_CNT)
    }

    /// 0 none, 1 above, 2 below (ESP32 layout only).
    pub fn secondary_channel(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::SECONDARY_CHANNEL)
    }

    /// Antenna number (ESP32 layout only).
    pub fn ant(&self) -> Option<u8> {
        self.esp32_u8(field::esp32::ANT)
    }

    /// PHY FFT gain (C5/C6 layout only).
    pub fn fft_gain(&self) -> Option<u8> {
        self.c5c6_u8(field::c5c6::FFT_GAIN)
    }

    /// PHY AGC gain (C5/C6 layout only).
    pub fn agc_gain(&self) -> Option<u8> {
        self.c5c6_u8(field::c5c6::AGC_GAIN)
    }

    /// Number of CSI values (equal to the `len` column).
    pub fn value_count(&self) -> usize {
        self.value_count
    }

    fn list(&self) -> &[u8] {
        let column = self.common(field::esp32::DATA, field::c5c6::DATA);
        column
            .get(2..column.len().saturating_sub(2))
            .unwrap_or_default()
    }

    /// The raw CSI values in print order (imaginary, real, imaginary, real, ...).
    pub fn values(&self) -> impl Iterator<Item = i8> + '_ {
        Tokens::new(self.list(), b',').map(|t| t.and_then(csi_value).unwrap_or_default())
    }

    /// The CSI as complex samples, in buffer order.
    pub fn subcarriers(&self) -> impl Iterator<Item = Iq> + '_ {
        let mut values = self.values();
        core::iter::from_fn(move || {
            let im = values.next()?;
            let re = values.next()?;
            Some(Iq { re, im })
        })
    }
}

/// `u8` columns only the 25-column layout has, with their names for errors.
const ESP32_U8_COLUMNS: [(usize, &str); 12] = [
    (field::esp32::SIG_MODE, "sig_mode"),
    (field::esp32::MCS, "mcs"),
    (field::esp32::BANDWIDTH, "bandwidth"),
    (field::esp32::SMOOTHING, "smoothing"),
    (field::esp32::NOT_SOUNDING, "not_sounding"),
    (field::esp32::AGGREGATION, "aggregation"),
    (field::esp32::STBC, "stbc"),
    (field::esp32::FEC_CODING, "fec_coding"),
    (field::esp32::SGI, "sgi"),
    (field::esp32::AMPDU_CNT, "ampdu_cnt"),
    (field::esp32::SECONDARY_CHANNEL, "secondary_channel"),
    (field::esp32::ANT, "ant"),
];

/// `u8` columns only the 15-column layout has.
const C5C6_U8_COLUMNS: [(usize, &str); 2] = [
    (field::c5c6::FFT_GAIN, "fft_gain"),
    (field::c5c6::AGC_GAIN, "agc_gain"),
];

fn csi_value(token: i64) -> Option<i8> {
    i8::try_from(token).ok()
}

/// The line without a trailing `\n` / `\r\n` / `\r`.
fn line_body(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Finds the columns: comma-separated up to the opening quote, then the quoted list.
fn column_bounds(body: &[u8]) -> Result<(Layout, [usize; MAX_COLUMNS + 1])> {
    if !body.starts_with(ROW_PREFIX) {
        return Err(Error::Malformed("type"));
    }
    let quote = body
        .iter()
        .position(|&b| b == b'"')
        .ok_or(Error::Truncated)?;
    let head = &body[..quote];
    if !head.ends_with(b",") {
        return Err(Error::Malformed(
            "data: expected '\"' to open the last column",
        ));
    }
    let mut bounds = [0usize; MAX_COLUMNS + 1];
    let mut count = 0usize;
    for (i, _) in head.iter().enumerate().filter(|(_, &b)| b == b',') {
        count += 1;
        *bounds.get_mut(count).ok_or(Error::Malformed(
            "column count: expected 25 (ESP32/S2/S3/C3) or 15 (C5/C6)",
        ))? = i + 1;
    }
    let layout = Layout::from_columns(count + 1)?;
    bounds[count + 1] = body.len() + 1;
    let data = &body[quote..];
    if !data.starts_with(b"\"[") {
        return Err(Error::Malformed("data: expected '\"[' to open the list"));
    }
    if data.len() < 4 || !data.ends_with(b"]\"") {
        return Err(Error::Truncated);
    }
    Ok((layout, bounds))
}

/// Scans a list in one pass, handing each value to `sink`; returns the number of values,
/// checking each is an `i8` and that they pair up.
fn scan_list(list: &[u8], sink: impl FnMut(i8)) -> Result<usize> {
    let count = scan_values(list, b',', csi_value, sink).map_err(|bad| match bad {
        BadValue::OutOfRange(v) if i16::try_from(v).is_ok() => {
            Error::Unsupported("data: 16-bit samples (C5 CSI_FORCE_LLTF build)")
        }
        _ => Error::Malformed("data: value is not an integer in -128..=127"),
    })?;
    if count % 2 != 0 {
        return Err(Error::Malformed("data: odd number of values"));
    }
    Ok(count)
}

/// Checks the `len` column against the values counted; returns the count.
fn check_len<T: AsRef<[u8]>>(row: &Row<T>, count: usize) -> Result<usize> {
    let len: usize = int_column(row.common(field::esp32::LEN, field::c5c6::LEN), "len")?;
    if len != count {
        return Err(Error::Malformed("len: differs from the number of values"));
    }
    Ok(count)
}

#[cfg(feature = "alloc")]
pub use owned::{ChipFields, CsiRow, Esp32RxCtrl, RowDecoder};

#[cfg(feature = "alloc")]
mod owned {
    use alloc::vec::Vec;
    use core::fmt;

    use super::*;
    use crate::csi::lines::{emit_with, write_mac, CountingWriter};

    /// The `rx_ctrl` columns only ESP32/S2/S3/C3 rows carry.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Esp32RxCtrl {
        /// 0 non-HT, 1 HT, 3 VHT.
        pub sig_mode: u8,
        /// Modulation and coding scheme index.
        pub mcs: u8,
        /// `rx_ctrl.cwb`: 0 = 20 MHz, 1 = 40 MHz.
        pub bandwidth: u8,
        /// `rx_ctrl.smoothing`.
        pub smoothing: u8,
        /// `rx_ctrl.not_sounding`.
        pub not_sounding: u8,
        /// `rx_ctrl.aggregation`.
        pub aggregation: u8,
        /// `rx_ctrl.stbc`.
        pub stbc: u8,
        /// `rx_ctrl.fec_coding`.
        pub fec_coding: u8,
        /// `rx_ctrl.sgi`.
        pub sgi: u8,
        /// Subframes in the AMPDU.
        pub ampdu_cnt: u8,
        /// 0 none, 1 above, 2 below.
        pub secondary_channel: u8,
        /// Antenna number.
        pub ant: u8,
    }

    /// The columns that differ between the two layouts.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ChipFields {
        /// A 25-column row (ESP32/S2/S3/C3).
        Esp32(Esp32RxCtrl),
        /// A 15-column row (C5/C6/C61).
        C5C6 {
            /// PHY FFT gain.
            fft_gain: u8,
            /// PHY AGC gain.
            agc_gain: u8,
        },
    }

    /// One esp-csi row, owned: what [`RowDecoder`] yields and what tests and the simulator
    /// encode with [`CsiRow::emit`]. `len` and the layout are implied by `csi` and `chip`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CsiRow {
        /// Sequence number from the sender's payload (`id` / `seq` column).
        pub id: u32,
        /// Transmitter MAC address.
        pub mac: [u8; 6],
        /// Received signal strength, dBm.
        pub rssi: i8,
        /// PHY rate code.
        pub rate: u8,
        /// Noise floor, dBm.
        pub noise_floor: i8,
        /// Primary channel.
        pub channel: u8,
        /// Receiver µs counter at reception (wraps at 2^32).
        pub local_timestamp: u32,
        /// Received packet length, bytes.
        pub sig_len: u16,
        /// Receiver state (0 = no error).
        pub rx_state: u8,
        /// The first four CSI bytes are invalid on this chip (they are kept in `csi`).
        pub first_word_invalid: bool,
        /// The layout-specific columns.
        pub chip: ChipFields,
        /// Complex samples in buffer order.
        pub csi: Vec<Iq>,
    }

    impl CsiRow {
        /// Copies a checked row out of its view.
        pub fn parse(row: &Row<impl AsRef<[u8]>>) -> Result<CsiRow> {
            let mut csi = Vec::with_capacity(row.value_count() / 2);
            csi.extend(row.subcarriers());
            Ok(CsiRow::from_view(row, csi))
        }

        /// Parses one line (with or without its line end), scanning the CSI list once.
        pub fn parse_line(line: &[u8]) -> Result<CsiRow> {
            let row = Row::split(line)?;
            let list = row.list();
            let mut csi = Vec::with_capacity(list.len() / 4);
            let mut im = None;
            let count = scan_list(list, |v| match im.take() {
                None => im = Some(v),
                Some(im) => csi.push(Iq { re: v, im }),
            })?;
            check_len(&row, count)?;
            Ok(CsiRow::from_view(&row, csi))
        }

        /// The row's columns from a view whose list is already decoded into `csi`.
        fn from_view(row: &Row<impl AsRef<[u8]>>, csi: Vec<Iq>) -> CsiRow {
            let chip = match row.layout() {
                Layout::Esp32 => ChipFields::Esp32(Esp32RxCtrl {
                    sig_mode: row.sig_mode().unwrap_or_default(),
                    mcs: row.mcs().unwrap_or_default(),
                    bandwidth: row.bandwidth().unwrap_or_default(),
                    smoothing: row.smoothing().unwrap_or_default(),
                    not_sounding: row.not_sounding().unwrap_or_default(),
                    aggregation: row.aggregation().unwrap_or_default(),
                    stbc: row.stbc().unwrap_or_default(),
                    fec_coding: row.fec_coding().unwrap_or_default(),
                    sgi: row.sgi().unwrap_or_default(),
                    ampdu_cnt: row.ampdu_cnt().unwrap_or_default(),
                    secondary_channel: row.secondary_channel().unwrap_or_default(),
                    ant: row.ant().unwrap_or_default(),
                }),
                Layout::C5C6 => ChipFields::C5C6 {
                    fft_gain: row.fft_gain().unwrap_or_default(),
                    agc_gain: row.agc_gain().unwrap_or_default(),
                },
            };
            CsiRow {
                id: row.id(),
                mac: row.mac(),
                rssi: row.rssi(),
                rate: row.rate(),
                noise_floor: row.noise_floor(),
                channel: row.channel(),
                local_timestamp: row.local_timestamp(),
                sig_len: row.sig_len(),
                rx_state: row.rx_state(),
                first_word_invalid: row.first_word_invalid(),
                chip,
                csi,
            }
        }

        /// Which layout this row is printed in.
        pub fn layout(&self) -> Layout {
            match self.chip {
                ChipFields::Esp32(_) => Layout::Esp32,
                ChipFields::C5C6 { .. } => Layout::C5C6,
            }
        }

        /// The `len` column: number of printed values.
        pub fn len(&self) -> usize {
            self.csi.len() * 2
        }

        /// True when the row carries no CSI.
        pub fn is_empty(&self) -> bool {
            self.csi.is_empty()
        }

        /// Writes the row as the firmware prints it, `\n` included: `%02x:` MAC, `%d`
        /// numbers (so `id`/`local_timestamp` >= 2^31 print negative), `"[v0,v1,...]"`.
        pub fn write_row(&self, w: &mut impl fmt::Write) -> fmt::Result {
            write!(w, "CSI_DATA,{},", self.id as i32)?;
            write_mac(w, &self.mac, false)?;
            write!(w, ",{},{},", self.rssi, self.rate)?;
            let ts = self.local_timestamp as i32;
            match self.chip {
                ChipFields::Esp32(c) => write!(
                    w,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},",
                    c.sig_mode,
                    c.mcs,
                    c.bandwidth,
                    c.smoothing,
                    c.not_sounding,
                    c.aggregation,
                    c.stbc,
                    c.fec_coding,
                    c.sgi,
                    self.noise_floor,
                    c.ampdu_cnt,
                    self.channel,
                    c.secondary_channel,
                    ts,
                    c.ant,
                    self.sig_len,
                    self.rx_state,
                    self.len(),
                )?,
                ChipFields::C5C6 { fft_gain, agc_gain } => write!(
                    w,
                    "{},{},{},{},{},{},{},{},",
                    self.noise_floor,
                    fft_gain,
                    agc_gain,
                    self.channel,
                    ts,
                    self.sig_len,
                    self.rx_state,
                    self.len(),
                )?,
            }
            write!(w, "{},\"[", u8::from(self.first_word_invalid))?;
            for (i, iq) in self.csi.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                write!(w, "{sep}{},{}", iq.im, iq.re)?;
            }
            w.write_str("]\"\n")
        }

        /// Bytes [`emit`](Self::emit) writes.
        pub fn buffer_len(&self) -> usize {
            let mut count = CountingWriter::default();
            let _ = self.write_row(&mut count);
            count.0
        }

        /// Writes the row into `out`; returns the bytes written.
        pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
            emit_with(out, |w| self.write_row(w))
        }

        /// The row as a new line.
        pub fn to_line(&self) -> Vec<u8> {
            let mut line = alloc::string::String::with_capacity(self.buffer_len());
            let _ = self.write_row(&mut line);
            line.into_bytes()
        }
    }

    impl fmt::Display for CsiRow {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "#{} ", self.id)?;
            write_mac(f, &self.mac, false)?;
            write!(
                f,
                " rssi {} dBm ch {} t {} us: {} subcarriers ({})",
                self.rssi,
                self.channel,
                self.local_timestamp,
                self.csi.len(),
                match self.layout() {
                    Layout::Esp32 => "ESP32 layout",
                    Layout::C5C6 => "C5/C6 layout",
                }
            )
        }
    }

    /// Turns an esp-csi console stream into [`CsiRow`]s.
    ///
    /// The streaming decoder of this format's console output (see [`crate::csi::RowDecoder`]).
    pub type RowDecoder = crate::csi::RowDecoder<CsiRow>;

    impl crate::csi::CsvRow for CsiRow {
        fn parse_line(line: &[u8]) -> Result<CsiRow> {
            CsiRow::parse_line(line)
        }
    }
}

/// Shows which layout a view holds.
impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Esp32 => "ESP32/S2/S3/C3 (25 columns)",
            Layout::C5C6 => "C5/C6 (15 columns)",
        })
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::stream::{decode_all, decode_chunk, StreamDecoder};
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// A 25-column row as `csi_recv` prints it (list cut to six values).
    static ROW_ESP32: &[u8] = b"CSI_DATA,7,1a:00:00:00:00:00,-41,11,1,0,1,1,1,0,0,0,0,-95,0,11,2,\
1234567,0,36,0,6,1,\"[4,-3,0,0,12,-7]\"";

    /// A 15-column row as the C5/C6 build prints it.
    static ROW_C5C6: &[u8] = b"CSI_DATA,-2,1a:00:00:00:00:00,-50,11,-96,12,30,11,\
-5,36,0,4,0,\"[1,2,-3,-4]\"";

    fn esp32_row() -> CsiRow {
        CsiRow {
            id: 7,
            mac: [0x1a, 0, 0, 0, 0, 0],
            rssi: -41,
            rate: 11,
            noise_floor: -95,
            channel: 11,
            local_timestamp: 1234567,
            sig_len: 36,
            rx_state: 0,
            first_word_invalid: true,
            chip: ChipFields::Esp32(Esp32RxCtrl {
                sig_mode: 1,
                mcs: 0,
                bandwidth: 1,
                smoothing: 1,
                not_sounding: 1,
                aggregation: 0,
                stbc: 0,
                fec_coding: 0,
                sgi: 0,
                ampdu_cnt: 0,
                secondary_channel: 2,
                ant: 0,
            }),
            csi: vec![
                Iq { re: -3, im: 4 },
                Iq { re: 0, im: 0 },
                Iq { re: -7, im: 12 },
            ],
        }
    }

    fn c5c6_row() -> CsiRow {
        CsiRow {
            id: u32::MAX - 1,
            mac: [0x1a, 0, 0, 0, 0, 0],
            rssi: -50,
            rate: 11,
            noise_floor: -96,
            channel: 11,
            local_timestamp: (-5i32) as u32,
            sig_len: 36,
            rx_state: 0,
            first_word_invalid: false,
            chip: ChipFields::C5C6 {
                fft_gain: 12,
                agc_gain: 30,
            },
            csi: vec![Iq { re: 2, im: 1 }, Iq { re: -4, im: -3 }],
        }
    }

    #[test]
    fn deconstruct_reads_the_25_column_layout() {
        let row = Row::new_checked(ROW_ESP32).unwrap();
        assert_eq!(row.layout(), Layout::Esp32);
        assert_eq!(row.id(), 7);
        assert_eq!(row.mac(), [0x1a, 0, 0, 0, 0, 0]);
        assert_eq!(
            (row.rssi(), row.noise_floor(), row.channel()),
            (-41, -95, 11)
        );
        assert_eq!(row.secondary_channel(), Some(2));
        assert_eq!(row.fft_gain(), None);
        assert_eq!(row.local_timestamp(), 1234567);
        assert!(row.first_word_invalid());
        assert_eq!(row.values().collect::<Vec<_>>(), [4, -3, 0, 0, 12, -7]);
        assert_eq!(row.subcarriers().next(), Some(Iq { re: -3, im: 4 }));
    }

    #[test]
    fn deconstruct_reads_the_15_column_layout() {
        let row = Row::new_checked(ROW_C5C6).unwrap();
        assert_eq!(row.layout(), Layout::C5C6);
        assert_eq!(row.id(), u32::MAX - 1, "%d-printed u32 wraps back");
        assert_eq!((row.fft_gain(), row.agc_gain()), (Some(12), Some(30)));
        assert_eq!(row.sig_mode(), None);
        assert_eq!(row.local_timestamp(), (-5i32) as u32);
        assert_eq!(row.value_count(), 4);
    }

    #[test]
    fn construct_emits_both_layouts_byte_for_byte() {
        for (row, line) in [(esp32_row(), ROW_ESP32), (c5c6_row(), ROW_C5C6)] {
            let mut out = [0u8; 256];
            let n = row.emit(&mut out).unwrap();
            assert_eq!(&out[..n], [line, b"\n"].concat().as_slice());
            assert_eq!(row.buffer_len(), n);
        }
    }

    #[test]
    fn parse_builds_owned_rows_of_both_layouts() {
        assert_eq!(CsiRow::parse_line(ROW_ESP32).unwrap(), esp32_row());
        assert_eq!(CsiRow::parse_line(ROW_C5C6).unwrap(), c5c6_row());
    }

    #[test]
    fn len_must_match_the_value_count() {
        let line = b"CSI_DATA,1,1a:00:00:00:00:00,-50,11,-96,12,30,11,5,36,0,6,0,\"[1,2,-3,-4]\"";
        assert_eq!(
            Row::new_checked(&line[..]).err(),
            Some(Error::Malformed("len: differs from the number of values"))
        );
    }

    #[test]
    fn sixteen_bit_lltf_samples_are_unsupported_not_misread() {
        let line = b"CSI_DATA,1,1a:00:00:00:00:00,-50,11,-96,12,30,11,5,36,0,2,0,\"[1000,-3]\"";
        assert!(matches!(
            Row::new_checked(&line[..]).err(),
            Some(Error::Unsupported(_))
        ));
    }

    #[test]
    fn wrong_column_count_is_named() {
        let line = b"CSI_DATA,1,1a:00:00:00:00:00,-50,11,5,36,0,2,0,\"[1,-3]\"";
        assert_eq!(
            Row::new_checked(&line[..]).err(),
            Some(Error::Malformed(
                "column count: expected 25 (ESP32/S2/S3/C3) or 15 (C5/C6)"
            ))
        );
    }

    #[test]
    fn esp32_csi_tool_rows_are_not_mistaken_for_esp_csi() {
        let tool = b"CSI_DATA,AP,3C:71:BF:6D:2A:78,-73,11,1,0,1,1,1,0,0,0,0,-93,0,1,1,80272146,0,101,0,0,80.363225,384,[101 -48 ]";
        assert!(Row::new_checked(&tool[..]).is_err());
    }

    #[test]
    fn stream_skips_header_and_logs_and_resyncs_after_noise() {
        let input = [
            field::esp32::HEADER.as_bytes(),
            b"\nI (300) csi_recv: ================ CSI RECV ================\r\n",
            b"\x13\x37CSI_DATA,1,2",
            ROW_ESP32,
            b"\r\n",
            ROW_C5C6,
        ]
        .concat();
        let mut d = RowDecoder::new();
        let mut rows = Vec::new();
        decode_all(&mut d, &input, |r| rows.push(r));
        assert_eq!(rows, [esp32_row(), c5c6_row()]);
        let s = *d.stats();
        assert_eq!(s.frames_rejected, 0);
        assert_eq!(
            s.bytes_consumed as usize,
            ROW_ESP32.len() + 2 + ROW_C5C6.len()
        );
        assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
    }

    fn arb_row() -> impl Strategy<Value = CsiRow> {
        let chip = prop_oneof![
            any::<[u8; 12]>().prop_map(|b| ChipFields::Esp32(Esp32RxCtrl {
                sig_mode: b[0],
                mcs: b[1],
                bandwidth: b[2],
                smoothing: b[3],
                not_sounding: b[4],
                aggregation: b[5],
                stbc: b[6],
                fec_coding: b[7],
                sgi: b[8],
                ampdu_cnt: b[9],
                secondary_channel: b[10],
                ant: b[11],
            })),
            any::<(u8, u8)>()
                .prop_map(|(fft_gain, agc_gain)| ChipFields::C5C6 { fft_gain, agc_gain }),
        ];
        let head = (any::<u32>(), any::<[u8; 6]>(), any::<(i8, u8, i8, u8)>());
        let tail = (any::<(u32, u16, u8, bool)>(), chip);
        let csi = prop::collection::vec(any::<(i8, i8)>(), 0..200);
        (head, tail, csi).prop_map(
            |((id, mac, (rssi, rate, nf, ch)), ((ts, sig_len, rx_state, fw), chip), v)| CsiRow {
                id,
                mac,
                rssi,
                rate,
                noise_floor: nf,
                channel: ch,
                local_timestamp: ts,
                sig_len,
                rx_state,
                first_word_invalid: fw,
                chip,
                csi: v.into_iter().map(|(re, im)| Iq { re, im }).collect(),
            },
        )
    }

    proptest! {
        #[test]
        fn emitted_rows_parse_back_unchanged(row in arb_row()) {
            let line = row.to_line();
            prop_assert_eq!(line.len(), row.buffer_len());
            prop_assert_eq!(CsiRow::parse_line(&line)?, row);
        }

        #[test]
        fn any_chunking_decodes_like_one_shot(
            rows in prop::collection::vec(arb_row(), 1..6),
            cuts in prop::collection::vec(1usize..300, 1..40),
        ) {
            let input: Vec<u8> = rows.iter().flat_map(CsiRow::to_line).collect();
            let mut d = RowDecoder::new();
            let mut got = Vec::new();
            let mut rest = &input[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() { break; }
                let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
                rest = tail;
                decode_chunk(&mut d, chunk, |r| got.push(r));
            }
            d.finish();
            while let Some(r) = d.next_item() { got.push(r); }
            prop_assert_eq!(got, rows);
            prop_assert_eq!(d.stats().bytes_consumed, input.len() as u64);
        }

        #[test]
        fn garbage_lines_between_rows_are_skipped_and_counted(
            rows in prop::collection::vec(arb_row(), 1..5),
            junk in prop::collection::vec(
                prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..80),
                1..5),
        ) {
            let mut input = Vec::new();
            let mut junk_bytes = 0u64;
            for (i, row) in rows.iter().enumerate() {
                let j = &junk[i % junk.len()];
                input.extend_from_slice(j);
                input.push(b'\n');
                junk_bytes += j.len() as u64 + 1;
                input.extend_from_slice(&row.to_line());
            }
            let mut d = RowDecoder::new();
            let mut got = Vec::new();
            decode_all(&mut d, &input, |r| got.push(r));
            let s = *d.stats();
            prop_assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
            prop_assert_eq!(s.bytes_skipped, junk_bytes);
            prop_assert_eq!(got, rows);
        }
    }
}
