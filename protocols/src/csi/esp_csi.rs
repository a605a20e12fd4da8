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
use super::rx_ctrl::RxCtrl;
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
        /// First of the 19 receive-control columns (`rssi` .. `rx_state`), laid out as
        /// [`rx_ctrl::field`](crate::csi::rx_ctrl::field) says.
        pub const RX_CTRL: usize = 3;
        /// Number of values in the data column.
        pub const LEN: usize = RX_CTRL + crate::csi::rx_ctrl::field::COUNT;
        /// `first_word_invalid`: 1 when the first 4 bytes are garbage.
        pub const FIRST_WORD: usize = LEN + 1;
        /// The quoted CSI list.
        pub const DATA: usize = FIRST_WORD + 1;
        /// Columns per row.
        pub const COUNT: usize = DATA + 1;
        /// The header line printed once (without its `\n`).
        pub const HEADER: &str = concat!(
            "type,id,mac,",
            crate::csi::rx_ctrl::rx_ctrl_header!(),
            ",len,first_word,data"
        );
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

/// The receive-control columns of a C5/C6 row: those chips' `rx_ctrl` is a different
/// struct, so the firmware prints a different set (with the PHY gains) in a different order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct C5c6RxCtrl {
    /// Received signal strength, dBm.
    pub rssi: i8,
    /// PHY rate code.
    pub rate: u8,
    /// Noise floor, dBm.
    pub noise_floor: i8,
    /// PHY FFT gain.
    pub fft_gain: u8,
    /// PHY AGC gain.
    pub agc_gain: u8,
    /// Primary channel.
    pub channel: u8,
    /// Receiver µs counter at reception (wraps at 2^32).
    pub local_timestamp: u32,
    /// Received packet length, bytes.
    pub sig_len: u16,
    /// Receiver state (0 = no error).
    pub rx_state: u8,
}

impl C5c6RxCtrl {
    /// Reads the columns from `column(i)` (a [`field::c5c6`] index), in column order; the
    /// error names the first bad one.
    fn parse<'a>(column: impl Fn(usize) -> &'a [u8]) -> Result<C5c6RxCtrl> {
        use field::c5c6 as n;
        Ok(C5c6RxCtrl {
            rssi: int_column(column(n::RSSI), "rssi")?,
            rate: int_column(column(n::RATE), "rate")?,
            noise_floor: int_column(column(n::NOISE_FLOOR), "noise_floor")?,
            fft_gain: int_column(column(n::FFT_GAIN), "fft_gain")?,
            agc_gain: int_column(column(n::AGC_GAIN), "agc_gain")?,
            channel: int_column(column(n::CHANNEL), "channel")?,
            local_timestamp: u32_printed_as_d(column(n::LOCAL_TIMESTAMP), "local_timestamp")?,
            sig_len: int_column(column(n::SIG_LEN), "sig_len")?,
            rx_state: int_column(column(n::RX_STATE), "rx_state")?,
        })
    }

    /// Prints the columns as the firmware does (`%d`, comma-joined, none before or after).
    fn write_columns(&self, w: &mut impl fmt::Write) -> fmt::Result {
        write!(
            w,
            "{},{},{},{},{},{},{},{},{}",
            self.rssi,
            self.rate,
            self.noise_floor,
            self.fft_gain,
            self.agc_gain,
            self.channel,
            self.local_timestamp as i32,
            self.sig_len,
            self.rx_state,
        )
    }
}

/// The receive-control columns of a row, which depend on the chip family that printed it
/// (and so decide the [`Layout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChipRxCtrl {
    /// A 25-column row (ESP32/S2/S3/C3): the `rx_ctrl` run ESP32-CSI-Tool prints too.
    Esp32(RxCtrl),
    /// A 15-column row (C5/C6/C61).
    C5C6(C5c6RxCtrl),
}

impl ChipRxCtrl {
    /// The layout a row with these columns has.
    pub fn layout(&self) -> Layout {
        match self {
            ChipRxCtrl::Esp32(_) => Layout::Esp32,
            ChipRxCtrl::C5C6(_) => Layout::C5C6,
        }
    }

    /// Received signal strength, dBm.
    pub fn rssi(&self) -> i8 {
        match self {
            ChipRxCtrl::Esp32(r) => r.rssi,
            ChipRxCtrl::C5C6(r) => r.rssi,
        }
    }

    /// PHY rate code.
    pub fn rate(&self) -> u8 {
        match self {
            ChipRxCtrl::Esp32(r) => r.rate,
            ChipRxCtrl::C5C6(r) => r.rate,
        }
    }

    /// Noise floor, dBm.
    pub fn noise_floor(&self) -> i8 {
        match self {
            ChipRxCtrl::Esp32(r) => r.noise_floor,
            ChipRxCtrl::C5C6(r) => r.noise_floor,
        }
    }

    /// Primary channel.
    pub fn channel(&self) -> u8 {
        match self {
            ChipRxCtrl::Esp32(r) => r.channel,
            ChipRxCtrl::C5C6(r) => r.channel,
        }
    }

    /// Receiver µs counter at reception (wraps at 2^32).
    pub fn local_timestamp(&self) -> u32 {
        match self {
            ChipRxCtrl::Esp32(r) => r.local_timestamp,
            ChipRxCtrl::C5C6(r) => r.local_timestamp,
        }
    }

    /// Received packet length, bytes.
    pub fn sig_len(&self) -> u16 {
        match self {
            ChipRxCtrl::Esp32(r) => r.sig_len,
            ChipRxCtrl::C5C6(r) => r.sig_len,
        }
    }

    /// Receiver state (0 = no error).
    pub fn rx_state(&self) -> u8 {
        match self {
            ChipRxCtrl::Esp32(r) => r.rx_state,
            ChipRxCtrl::C5C6(r) => r.rx_state,
        }
    }

    /// Prints the columns between the MAC and `len`, comma-joined.
    fn write_columns(&self, w: &mut impl fmt::Write) -> fmt::Result {
        match self {
            ChipRxCtrl::Esp32(r) => r.write_columns(w),
            ChipRxCtrl::C5C6(r) => r.write_columns(w),
        }
    }
}

/// A checked, read-only view of one row (a line without its `\n`; a trailing `\r\n`, `\n`
/// or `\r` is ignored). Construction validates every column, so the accessors are plain
/// reads; nothing is allocated.
#[derive(Debug, Clone)]
pub struct Row<T: AsRef<[u8]>> {
    buffer: T,
    /// Column `i` spans `bounds[i]..bounds[i + 1] - 1` (the `- 1` skips its comma).
    bounds: [usize; MAX_COLUMNS + 1],
    value_count: usize,
    /// Every column but the list, parsed once at construction.
    head: Head,
}

/// The parsed columns before the CSI list, what the accessors read.
#[derive(Debug, Clone, Copy)]
struct Head {
    id: u32,
    mac: [u8; 6],
    rx_ctrl: ChipRxCtrl,
    len: usize,
    first_word_invalid: bool,
}

impl<T: AsRef<[u8]>> Row<T> {
    /// Splits and validates a row; the error names the first bad column.
    pub fn new_checked(buffer: T) -> Result<Row<T>> {
        let mut row = Row::split(buffer)?;
        let count = scan_list(row.list(), |_| {})?;
        row.value_count = check_len(&row, count)?;
        Ok(row)
    }

    /// Splits the columns and parses all but the CSI list (whose caller scans it and then
    /// calls [`check_len`]).
    fn split(buffer: T) -> Result<Row<T>> {
        let body = line_body(buffer.as_ref());
        let (layout, bounds) = column_bounds(body)?;
        let head = Head::parse(layout, &|i| column(body, &bounds, i))?;
        Ok(Row {
            buffer,
            bounds,
            value_count: 0,
            head,
        })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Which layout (chip family) the row has.
    pub fn layout(&self) -> Layout {
        self.head.rx_ctrl.layout()
    }

    /// Sequence number the sender put in its payload (`id` / `seq` column).
    pub fn id(&self) -> u32 {
        self.head.id
    }

    /// Transmitter MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.head.mac
    }

    /// The receive-control columns of the row's chip family.
    pub fn rx_ctrl(&self) -> &ChipRxCtrl {
        &self.head.rx_ctrl
    }

    /// True when the chip reports the first four CSI bytes as invalid.
    pub fn first_word_invalid(&self) -> bool {
        self.head.first_word_invalid
    }

    /// Number of CSI values (equal to the `len` column).
    pub fn value_count(&self) -> usize {
        self.value_count
    }

    fn list(&self) -> &[u8] {
        let data = match self.layout() {
            Layout::Esp32 => field::esp32::DATA,
            Layout::C5C6 => field::c5c6::DATA,
        };
        let column = column(line_body(self.buffer.as_ref()), &self.bounds, data);
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

impl Head {
    /// Parses every column but the CSI list, in column order; the error names the first
    /// bad one.
    fn parse<'a>(layout: Layout, column: &dyn Fn(usize) -> &'a [u8]) -> Result<Head> {
        use field::{c5c6 as n, esp32 as w};
        let (id, mac, len, first_word) = match layout {
            Layout::Esp32 => (w::ID, w::MAC, w::LEN, w::FIRST_WORD),
            Layout::C5C6 => (n::SEQ, n::MAC, n::LEN, n::FIRST_WORD),
        };
        let id = u32_printed_as_d(column(id), "id")?;
        let mac = parse_mac(column(mac)).ok_or(Error::Malformed("mac"))?;
        let rx_ctrl = match layout {
            Layout::Esp32 => ChipRxCtrl::Esp32(RxCtrl::parse(|i| column(w::RX_CTRL + i))?),
            Layout::C5C6 => ChipRxCtrl::C5C6(C5c6RxCtrl::parse(column)?),
        };
        Ok(Head {
            id,
            mac,
            rx_ctrl,
            len: int_column(column(len), "len")?,
            first_word_invalid: flag_column(column(first_word), "first_word")?,
        })
    }
}

/// Column `i` of `body` split at `bounds` (see [`Row`]), without its comma.
fn column<'a>(body: &'a [u8], bounds: &[usize; MAX_COLUMNS + 1], i: usize) -> &'a [u8] {
    let start = bounds.get(i).copied().unwrap_or(0);
    let end = bounds.get(i + 1).copied().unwrap_or(0);
    body.get(start..end.saturating_sub(1)).unwrap_or_default()
}

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
    if row.head.len != count {
        return Err(Error::Malformed("len: differs from the number of values"));
    }
    Ok(count)
}

#[cfg(feature = "alloc")]
pub use owned::{CsiRow, RowDecoder};

#[cfg(feature = "alloc")]
mod owned {
    use alloc::vec::Vec;
    use core::fmt;

    use super::*;
    use crate::csi::lines::{emit_with, write_mac, CountingWriter, ShortText};

    /// One esp-csi row, owned: what [`RowDecoder`] yields and what tests and the simulator
    /// encode with [`CsiRow::emit`]. `len` and the layout are implied by `csi` and
    /// `rx_ctrl`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CsiRow {
        /// Sequence number from the sender's payload (`id` / `seq` column).
        pub id: u32,
        /// Transmitter MAC address.
        pub mac: [u8; 6],
        /// The receive-control columns, which also decide the layout.
        pub rx_ctrl: ChipRxCtrl,
        /// The first four CSI bytes are invalid on this chip (they are kept in `csi`).
        pub first_word_invalid: bool,
        /// Complex samples in buffer order.
        pub csi: Vec<Iq>,
    }

    impl CsiRow {
        /// A row with a valid first word: what `csi_recv` prints for most receptions. Set
        /// `first_word_invalid` with struct update syntax where a chip flags it.
        pub fn new(id: u32, mac: [u8; 6], rx_ctrl: ChipRxCtrl, csi: Vec<Iq>) -> CsiRow {
            CsiRow {
                id,
                mac,
                rx_ctrl,
                first_word_invalid: false,
                csi,
            }
        }

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
            CsiRow {
                id: row.id(),
                mac: row.mac(),
                rx_ctrl: *row.rx_ctrl(),
                first_word_invalid: row.first_word_invalid(),
                csi,
            }
        }

        /// Which layout this row is printed in.
        pub fn layout(&self) -> Layout {
            self.rx_ctrl.layout()
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
            w.write_char(',')?;
            self.rx_ctrl.write_columns(w)?;
            write!(
                w,
                ",{},{},\"[",
                self.len(),
                u8::from(self.first_word_invalid)
            )?;
            for (i, iq) in self.csi.iter().enumerate() {
                let mut pair = ShortText::new();
                if i > 0 {
                    pair.byte(b',');
                }
                pair.i8(iq.im).byte(b',').i8(iq.re);
                pair.write_to(w)?;
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
                self.rx_ctrl.rssi(),
                self.rx_ctrl.channel(),
                self.rx_ctrl.local_timestamp(),
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
    use crate::csi::rx_ctrl::tests::arb_rx_ctrl;
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
        let rx_ctrl = RxCtrl {
            rssi: -41,
            bandwidth: 1,
            noise_floor: -95,
            channel: 11,
            secondary_channel: 2,
            local_timestamp: 1234567,
            sig_len: 36,
            ..RxCtrl::ht20(11)
        };
        let csi = vec![
            Iq { re: -3, im: 4 },
            Iq { re: 0, im: 0 },
            Iq { re: -7, im: 12 },
        ];
        CsiRow {
            first_word_invalid: true,
            ..CsiRow::new(7, [0x1a, 0, 0, 0, 0, 0], ChipRxCtrl::Esp32(rx_ctrl), csi)
        }
    }

    fn c5c6_row() -> CsiRow {
        let rx_ctrl = ChipRxCtrl::C5C6(C5c6RxCtrl {
            rssi: -50,
            rate: 11,
            noise_floor: -96,
            fft_gain: 12,
            agc_gain: 30,
            channel: 11,
            local_timestamp: (-5i32) as u32,
            sig_len: 36,
            rx_state: 0,
        });
        let csi = vec![Iq { re: 2, im: 1 }, Iq { re: -4, im: -3 }];
        CsiRow::new(u32::MAX - 1, [0x1a, 0, 0, 0, 0, 0], rx_ctrl, csi)
    }

    #[test]
    fn deconstruct_reads_the_25_column_layout() {
        let row = Row::new_checked(ROW_ESP32).unwrap();
        assert_eq!(row.layout(), Layout::Esp32);
        assert_eq!(row.id(), 7);
        assert_eq!(row.mac(), [0x1a, 0, 0, 0, 0, 0]);
        let rx = row.rx_ctrl();
        assert_eq!((rx.rssi(), rx.noise_floor(), rx.channel()), (-41, -95, 11));
        let ChipRxCtrl::Esp32(full) = rx else {
            panic!("a 25-column row carries the full rx_ctrl run");
        };
        assert_eq!(full.secondary_channel, 2);
        assert_eq!(rx.local_timestamp(), 1234567);
        assert!(row.first_word_invalid());
        assert_eq!(row.values().collect::<Vec<_>>(), [4, -3, 0, 0, 12, -7]);
        assert_eq!(row.subcarriers().next(), Some(Iq { re: -3, im: 4 }));
    }

    #[test]
    fn deconstruct_reads_the_15_column_layout() {
        let row = Row::new_checked(ROW_C5C6).unwrap();
        assert_eq!(row.layout(), Layout::C5C6);
        assert_eq!(row.id(), u32::MAX - 1, "%d-printed u32 wraps back");
        let ChipRxCtrl::C5C6(rx) = row.rx_ctrl() else {
            panic!("a 15-column row carries the C5/C6 columns");
        };
        assert_eq!((rx.fft_gain, rx.agc_gain), (12, 30));
        assert_eq!(row.rx_ctrl().local_timestamp(), (-5i32) as u32);
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
        let c5c6 = (any::<(i8, u8, i8, u8, u8)>(), any::<(u8, u32, u16, u8)>()).prop_map(
            |((rssi, rate, noise_floor, fft_gain, agc_gain), (channel, ts, sig_len, rx_state))| {
                ChipRxCtrl::C5C6(C5c6RxCtrl {
                    rssi,
                    rate,
                    noise_floor,
                    fft_gain,
                    agc_gain,
                    channel,
                    local_timestamp: ts,
                    sig_len,
                    rx_state,
                })
            },
        );
        let rx_ctrl = prop_oneof![arb_rx_ctrl().prop_map(ChipRxCtrl::Esp32), c5c6];
        let head = (any::<u32>(), any::<[u8; 6]>(), any::<bool>());
        let csi = prop::collection::vec(any::<(i8, i8)>(), 0..200);
        (head, rx_ctrl, csi).prop_map(|((id, mac, first_word_invalid), rx_ctrl, v)| CsiRow {
            first_word_invalid,
            ..CsiRow::new(
                id,
                mac,
                rx_ctrl,
                v.into_iter().map(|(re, im)| Iq { re, im }).collect(),
            )
        })
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
