//! ESP32-CSI-Tool (StevenMHernandez) serial rows: one CSV line per received frame.
//!
//! The firmware prints, on the ESP-IDF console (921600 baud by its README), a header line
//! once and then per frame
//!
//! ```text
//! CSI_DATA,<role>,<MAC>,<rssi>,<rate>,<sig_mode>,<mcs>,<cwb>,<smoothing>,<not_sounding>,
//! <aggregation>,<stbc>,<fec_coding>,<sgi>,<noise_floor>,<ampdu_cnt>,<channel>,
//! <secondary_channel>,<local_timestamp>,<ant>,<sig_len>,<rx_state>,<real_time_set>,
//! <real_timestamp>,<len>,[v0 v1 ... vK ]
//! ```
//!
//! (one line, 26 columns). Quirks every reader must know, all handled here:
//! * The number of CSI values is what the brackets hold, not `len`: builds before 2021-07
//!   and builds with `SHOULD_COLLECT_ONLY_LLTF` print 128 values while `len` says e.g. 384.
//! * Values are pairs, **imaginary first, then real**.
//! * 2019 builds printed the bytes as `uint8_t` (0..=255): those read back as the `i8` the
//!   radio produced (200 is -56).
//! * `local_timestamp` is an unsigned µs counter printed with `%d`: from 2^31 µs on it
//!   appears negative and is read back as the `u32` it was.
//! * `real_timestamp` is parsed as a float. Builds before 2021-09 printed `"%li.%li"`
//!   (seconds, then microseconds **not zero-padded**: 80 s + 3632 µs shows as `80.3632`);
//!   [`reinterpret_unpadded_timestamp`] recovers such values from the column text.
//!
//! [`Row`] is a checked, non-allocating view of one line; [`CsiRow`] (with `alloc`) the
//! owned record with an encoder in the firmware's exact style; [`RowDecoder`] the streaming
//! decoder that splits a console stream into rows, skipping and counting everything else.
use core::fmt;

use super::lines::{flag_column, int_column, parse_mac, scan_values, Tokens, ROW_PREFIX};
use super::rx_ctrl::RxCtrl;
use super::Iq;
use crate::error::{Error, Result};

/// Column positions of a row, in the order of the firmware's header line.
pub mod field {
    /// Always `CSI_DATA`.
    pub const TYPE: usize = 0;
    /// `AP`, `STA` or `PASSIVE`: which example firmware printed the row.
    pub const ROLE: usize = 1;
    /// Transmitter MAC, `%02X:` separated.
    pub const MAC: usize = 2;
    /// First of the 19 receive-control columns (`rssi` .. `rx_state`), laid out as
    /// [`rx_ctrl::field`](crate::csi::rx_ctrl::field) says.
    pub const RX_CTRL: usize = 3;
    /// 1 once the host set the wall clock.
    pub const REAL_TIME_SET: usize = RX_CTRL + crate::csi::rx_ctrl::field::COUNT;
    /// Seconds as a float (see the module docs for the old unpadded form).
    pub const REAL_TIMESTAMP: usize = REAL_TIME_SET + 1;
    /// `wifi_csi_info_t.len` as printed (may disagree with the value count).
    pub const LEN: usize = REAL_TIMESTAMP + 1;
    /// The bracketed, space-separated CSI values.
    pub const CSI: usize = LEN + 1;
    /// Columns per row.
    pub const COUNT: usize = CSI + 1;
    /// The header line the firmware prints once at start-up (without its `\n`).
    pub const HEADER: &str = concat!(
        "type,role,mac,",
        crate::csi::rx_ctrl::rx_ctrl_header!(),
        ",real_time_set,real_timestamp,len,CSI_DATA"
    );
}

/// Which ESP32-CSI-Tool example firmware printed the row (`csi_init("AP")` etc.).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// `active_ap`: the ESP32 is the access point.
    Ap,
    /// `active_sta`: the ESP32 is a station sending to an AP.
    Sta,
    /// `passive`: the ESP32 sniffs in promiscuous mode.
    Passive,
}

impl Role {
    /// The column text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ap => "AP",
            Role::Sta => "STA",
            Role::Passive => "PASSIVE",
        }
    }

    fn parse(text: &[u8]) -> Result<Role> {
        match text {
            b"AP" => Ok(Role::Ap),
            b"STA" => Ok(Role::Sta),
            b"PASSIVE" => Ok(Role::Passive),
            _ => Err(Error::Malformed("role")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads one printed CSI value: signed `i8`, or 128..=255 from the 2019 `uint8_t` builds.
fn csi_value(token: i64) -> Option<i8> {
    match token {
        -128..=127 => Some(token as i8),
        128..=255 => Some(token as u8 as i8),
        _ => None,
    }
}

/// Reinterprets an old-style `real_timestamp` column (`"%li.%li"`, microseconds not
/// zero-padded, builds before 2021-09) as seconds: `80.3632` is 80 s + 3632 µs = 80.003632.
/// `None` unless the text is `sec.usec` with both parts plain digits and usec < 10^6.
pub fn reinterpret_unpadded_timestamp(text: &[u8]) -> Option<f64> {
    let dot = text.iter().position(|&b| b == b'.')?;
    let (sec, usec) = (&text[..dot], &text[dot + 1..]);
    let all_digits = |t: &[u8]| !t.is_empty() && t.len() <= 18 && t.iter().all(u8::is_ascii_digit);
    if !all_digits(sec) || !all_digits(usec) {
        return None;
    }
    let sec = super::lines::parse_int(sec)?;
    let usec = super::lines::parse_int(usec).filter(|&u| u < 1_000_000)?;
    Some(sec as f64 + usec as f64 / 1e6)
}

/// A checked, read-only view of one row (a line without its `\n`; a trailing `\r\n`,
/// `\n` or `\r` is ignored). Construction validates every column, so the accessors are
/// plain reads; nothing is allocated.
#[derive(Debug, Clone)]
pub struct Row<T: AsRef<[u8]>> {
    buffer: T,
    /// Column `i` spans `bounds[i]..bounds[i + 1] - 1` (the `- 1` skips its comma).
    bounds: [usize; field::COUNT + 1],
    /// Number of values in the brackets.
    value_count: usize,
    /// Every column but the list, parsed once at construction.
    header: Header,
}

/// The parsed columns before the CSI list, what the accessors read.
#[derive(Debug, Clone, Copy)]
struct Header {
    role: Role,
    mac: [u8; 6],
    rx_ctrl: RxCtrl,
    real_time_set: bool,
    real_timestamp: f64,
    len: u16,
}

impl<T: AsRef<[u8]>> Row<T> {
    /// Splits and validates a row; the error names the first bad column.
    pub fn new_checked(buffer: T) -> Result<Row<T>> {
        let mut row = Row::split(buffer)?;
        row.value_count = scan_list(row.list(), |_| {})?;
        Ok(row)
    }

    /// Splits the columns and parses all but the CSI list (whose caller scans it).
    fn split(buffer: T) -> Result<Row<T>> {
        let body = line_body(buffer.as_ref());
        let bounds = column_bounds(body)?;
        let header = Header::parse(&|i| column(body, &bounds, i))?;
        Ok(Row {
            buffer,
            bounds,
            value_count: 0,
            header,
        })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn column(&self, i: usize) -> &[u8] {
        column(line_body(self.buffer.as_ref()), &self.bounds, i)
    }

    /// Which example firmware printed the row.
    pub fn role(&self) -> Role {
        self.header.role
    }

    /// Transmitter MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.header.mac
    }

    /// The 19 receive-control columns (`rssi` .. `rx_state`).
    pub fn rx_ctrl(&self) -> &RxCtrl {
        &self.header.rx_ctrl
    }

    /// Whether the host had set the wall clock when the row was printed.
    pub fn real_time_set(&self) -> bool {
        self.header.real_time_set
    }

    /// `real_timestamp` as the float it prints as (see the module docs for old builds).
    pub fn real_timestamp(&self) -> f64 {
        self.header.real_timestamp
    }

    /// `real_timestamp` as printed, for [`reinterpret_unpadded_timestamp`].
    pub fn real_timestamp_text(&self) -> &[u8] {
        self.column(field::REAL_TIMESTAMP)
    }

    /// `len` as printed: the CSI buffer length the driver reported, which need not be the
    /// number of values printed ([`value_count`](Self::value_count)).
    pub fn len(&self) -> u16 {
        self.header.len
    }

    /// Number of CSI values between the brackets (twice the subcarrier count).
    pub fn value_count(&self) -> usize {
        self.value_count
    }

    /// True when the brackets hold no values.
    pub fn is_empty(&self) -> bool {
        self.value_count == 0
    }

    fn list(&self) -> &[u8] {
        let column = self.column(field::CSI);
        column
            .get(1..column.len().saturating_sub(1))
            .unwrap_or_default()
    }

    /// The raw CSI values in print order (imaginary, real, imaginary, real, ...).
    pub fn values(&self) -> impl Iterator<Item = i8> + '_ {
        Tokens::new(self.list(), b' ').map(|t| t.and_then(csi_value).unwrap_or_default())
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

impl Header {
    /// Parses every column but the CSI list, in column order; the error names the first
    /// bad one.
    fn parse<'a>(column: &dyn Fn(usize) -> &'a [u8]) -> Result<Header> {
        Ok(Header {
            role: Role::parse(column(field::ROLE))?,
            mac: parse_mac(column(field::MAC)).ok_or(Error::Malformed("mac"))?,
            rx_ctrl: RxCtrl::parse(|i| column(field::RX_CTRL + i))?,
            real_time_set: flag_column(column(field::REAL_TIME_SET), "real_time_set")?,
            real_timestamp: parse_real_timestamp(column(field::REAL_TIMESTAMP))?,
            len: int_column(column(field::LEN), "len")?,
        })
    }
}

/// Column `i` of `body` split at `bounds` (see [`Row`]), without its comma.
fn column<'a>(body: &'a [u8], bounds: &[usize; field::COUNT + 1], i: usize) -> &'a [u8] {
    let start = bounds.get(i).copied().unwrap_or(0);
    let end = bounds.get(i + 1).copied().unwrap_or(0);
    body.get(start..end.saturating_sub(1)).unwrap_or_default()
}

/// The line without a trailing `\n` / `\r\n` / `\r`.
fn line_body(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Finds the 26 columns: 25 comma-terminated ones, then the bracketed list to the end.
fn column_bounds(body: &[u8]) -> Result<[usize; field::COUNT + 1]> {
    if !body.starts_with(ROW_PREFIX) {
        return Err(Error::Malformed("type"));
    }
    let mut bounds = [0usize; field::COUNT + 1];
    let mut found = 0;
    for (i, _) in body.iter().enumerate().filter(|(_, &b)| b == b',') {
        found += 1;
        bounds[found] = i + 1;
        if found == field::CSI {
            break;
        }
    }
    if found < field::CSI {
        return Err(Error::Truncated);
    }
    bounds[field::COUNT] = body.len() + 1;
    let list = &body[bounds[field::CSI]..];
    if !list.starts_with(b"[") {
        return Err(Error::Malformed("csi: expected '[' after the len column"));
    }
    if !list.ends_with(b"]") || list.len() < 2 {
        return Err(Error::Truncated);
    }
    Ok(bounds)
}

/// Scans a list in one pass, handing each value to `sink`; returns the number of values,
/// checking each is a CSI byte and that they pair up.
fn scan_list(list: &[u8], sink: impl FnMut(i8)) -> Result<usize> {
    let count = scan_values(list, b' ', csi_value, sink)
        .map_err(|_| Error::Malformed("csi: value is not an integer in -128..=255"))?;
    if count % 2 != 0 {
        return Err(Error::Malformed("csi: odd number of values"));
    }
    Ok(count)
}

/// Parses `real_timestamp` as a finite float (`12345.7`, `80.363225`, `1.23457e+06`).
fn parse_real_timestamp(text: &[u8]) -> Result<f64> {
    const BAD: Error = Error::Malformed("real_timestamp");
    let plain = text
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !plain || text.is_empty() {
        return Err(BAD);
    }
    let text = core::str::from_utf8(text).map_err(|_| BAD)?;
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or(BAD)
}

#[cfg(feature = "alloc")]
pub use owned::{CsiRow, RowDecoder};

#[cfg(feature = "alloc")]
mod owned {
    use alloc::vec::Vec;
    use core::fmt;

    use super::*;
    use crate::csi::lines::{emit_with, write_mac, CountingWriter, ShortText};

    /// One ESP32-CSI-Tool row with every column, owned: what [`RowDecoder`] yields and what
    /// tests and the simulator encode with [`CsiRow::emit`].
    #[derive(Debug, Clone, PartialEq)]
    pub struct CsiRow {
        /// Which example firmware printed the row.
        pub role: Role,
        /// Transmitter MAC address.
        pub mac: [u8; 6],
        /// The 19 receive-control columns (`rssi` .. `rx_state`).
        pub rx_ctrl: RxCtrl,
        /// Whether the wall clock had been set.
        pub real_time_set: bool,
        /// `real_timestamp` parsed as a float (old builds: see the module docs).
        pub real_timestamp: f64,
        /// `len` as printed (not necessarily `2 * csi.len()`).
        pub len: u16,
        /// Complex samples in buffer order, from the values actually printed.
        pub csi: Vec<Iq>,
    }

    impl CsiRow {
        /// A row as current firmware prints it before the host sets its clock: wall clock
        /// unset (`real_time_set` 0, `real_timestamp` 0.0) and `len` equal to the number of
        /// values printed (saturating at `u16::MAX`). Set the other columns with struct
        /// update syntax, e.g. `CsiRow { len: 384, ..CsiRow::new(..) }` for an LLTF-only
        /// build.
        pub fn new(role: Role, mac: [u8; 6], rx_ctrl: RxCtrl, csi: Vec<Iq>) -> CsiRow {
            CsiRow {
                role,
                mac,
                rx_ctrl,
                real_time_set: false,
                real_timestamp: 0.0,
                len: u16::try_from(csi.len().saturating_mul(2)).unwrap_or(u16::MAX),
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
            scan_list(list, |v| match im.take() {
                None => im = Some(v),
                Some(im) => csi.push(Iq { re: v, im }),
            })?;
            Ok(CsiRow::from_view(&row, csi))
        }

        /// The row's columns from a view whose list is already decoded into `csi`.
        fn from_view(row: &Row<impl AsRef<[u8]>>, csi: Vec<Iq>) -> CsiRow {
            CsiRow {
                role: row.role(),
                mac: row.mac(),
                rx_ctrl: *row.rx_ctrl(),
                real_time_set: row.real_time_set(),
                real_timestamp: row.real_timestamp(),
                len: row.len(),
                csi,
            }
        }

        /// Writes the row exactly as current firmware prints it, `\n` included:
        /// `%02X:` MAC, `%d` numbers (so `local_timestamp` >= 2^31 prints negative),
        /// `[` then every value followed by a space, then `]`.
        pub fn write_row(&self, w: &mut impl fmt::Write) -> fmt::Result {
            write!(w, "CSI_DATA,{},", self.role)?;
            write_mac(w, &self.mac, true)?;
            w.write_char(',')?;
            self.rx_ctrl.write_columns(w)?;
            write!(
                w,
                ",{},{},{},[",
                u8::from(self.real_time_set),
                self.real_timestamp,
                self.len,
            )?;
            for iq in &self.csi {
                let mut pair = ShortText::new();
                pair.i8(iq.im).byte(b' ').i8(iq.re).byte(b' ');
                pair.write_to(w)?;
            }
            w.write_str("]\n")
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
            write!(f, "{} ", self.role)?;
            write_mac(f, &self.mac, true)?;
            write!(
                f,
                " rssi {} dBm ch {} t {} us: {} subcarriers (len {})",
                self.rx_ctrl.rssi,
                self.rx_ctrl.channel,
                self.rx_ctrl.local_timestamp,
                self.csi.len(),
                self.len
            )
        }
    }

    /// The streaming decoder of this format's console output (see [`crate::csi::RowDecoder`]).
    pub type RowDecoder = crate::csi::RowDecoder<CsiRow>;

    impl crate::csi::CsvRow for CsiRow {
        fn parse_line(line: &[u8]) -> Result<CsiRow> {
            CsiRow::parse_line(line)
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::csi::rx_ctrl::tests::{arb_rx_ctrl, spec_run};
    use crate::stream::{decode_all, StreamDecoder};
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// The spec's example row (line 1 of the real recording), list cut to six values.
    static ROW: &[u8] = b"CSI_DATA,AP,3C:71:BF:6D:2A:78,-73,11,1,0,1,1,1,0,0,0,0,-93,0,1,1,\
80272146,0,101,0,0,80.363225,384,[101 -48 5 0 0 0 ]";

    fn real_recording() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/real/esp32_csi/example_csi.csv"
        ))
        .expect("real ESP32-CSI-Tool recording")
    }

    fn spec_row() -> CsiRow {
        // The rx_ctrl run of this row is the one rx_ctrl's own tests read and print.
        let rx_ctrl = spec_run();
        let csi = vec![
            Iq { re: -48, im: 101 },
            Iq { re: 0, im: 5 },
            Iq { re: 0, im: 0 },
        ];
        CsiRow {
            real_timestamp: 80.363225,
            len: 384,
            ..CsiRow::new(Role::Ap, [0x3C, 0x71, 0xBF, 0x6D, 0x2A, 0x78], rx_ctrl, csi)
        }
    }

    #[test]
    fn deconstruct_reads_every_column_of_the_spec_row() {
        let row = Row::new_checked(ROW).unwrap();
        assert_eq!(row.role(), Role::Ap);
        assert_eq!(row.mac(), [0x3C, 0x71, 0xBF, 0x6D, 0x2A, 0x78]);
        let rx = row.rx_ctrl();
        assert_eq!(rx.rssi, -73);
        assert_eq!(rx.rate, 11);
        assert_eq!((rx.sig_mode, rx.bandwidth, rx.secondary_channel), (1, 1, 1));
        assert_eq!((rx.smoothing, rx.not_sounding, rx.aggregation), (1, 1, 0));
        assert_eq!(rx.noise_floor, -93);
        assert_eq!(rx.channel, 1);
        assert_eq!(rx.local_timestamp, 80272146);
        assert_eq!(rx.sig_len, 101);
        assert!(!row.real_time_set());
        assert_eq!(row.real_timestamp(), 80.363225);
        assert_eq!(row.real_timestamp_text(), b"80.363225");
        assert_eq!(row.len(), 384);
        assert_eq!(row.value_count(), 6);
        assert_eq!(row.values().collect::<Vec<_>>(), [101, -48, 5, 0, 0, 0]);
        assert_eq!(
            row.subcarriers().next(),
            Some(Iq { re: -48, im: 101 }),
            "imaginary part comes first"
        );
    }

    #[test]
    fn construct_emits_the_firmware_line_byte_for_byte() {
        let mut out = [0u8; 256];
        let n = spec_row().emit(&mut out).unwrap();
        assert_eq!(&out[..n], [ROW, b"\n"].concat().as_slice());
        assert_eq!(spec_row().buffer_len(), n);
    }

    #[test]
    fn parse_builds_the_owned_row() {
        assert_eq!(CsiRow::parse_line(ROW).unwrap(), spec_row());
    }

    #[test]
    fn emit_into_a_short_buffer_is_an_error() {
        let mut out = [0u8; 40];
        assert_eq!(spec_row().emit(&mut out), Err(Error::BufferTooSmall));
    }

    #[test]
    fn real_recording_has_13_rows_of_128_values_while_12_say_384() {
        let mut decoder = RowDecoder::new();
        let mut rows = Vec::new();
        decode_all(&mut decoder, &real_recording(), |r| rows.push(r));
        assert_eq!(rows.len(), 13);
        assert!(rows.iter().all(|r| r.csi.len() == 64));
        assert_eq!(rows.iter().filter(|r| r.len == 384).count(), 12);
        assert_eq!(rows.iter().filter(|r| r.len == 128).count(), 1);
        let s = decoder.stats();
        assert_eq!((s.frames_rejected, s.bytes_skipped), (0, 0));
        assert_eq!(s.bytes_consumed, s.bytes_in);
    }

    #[test]
    fn real_recording_row_one_has_the_printed_values() {
        let data = real_recording();
        let line = data.split(|&b| b == b'\n').next().unwrap();
        let row = CsiRow::parse_line(line).unwrap();
        let head = CsiRow {
            csi: row.csi[..3].to_vec(),
            ..spec_row()
        };
        assert_eq!(head, spec_row());
        assert_eq!(row.csi[5], Iq { re: 2, im: 5 });
        assert_eq!(row.csi[6], Iq { re: 12, im: 23 });
        assert_eq!(row.csi[63], Iq { re: 0, im: 0 });
        // Re-encoding reproduces the recorded line exactly.
        assert_eq!(row.to_line(), [line, b"\n"].concat());
    }

    #[test]
    fn old_unsigned_values_read_as_negative() {
        let line = b"CSI_DATA,STA,3c:71:bf:6d:2a:78,-60,11,0,0,0,0,0,0,0,0,0,-93,0,6,0,5,0,10,0,0,1.5,128,[200 255 128 127 ]";
        let row = Row::new_checked(&line[..]).unwrap();
        assert_eq!(row.values().collect::<Vec<_>>(), [-56, -1, -128, 127]);
        assert_eq!(row.mac(), [0x3C, 0x71, 0xBF, 0x6D, 0x2A, 0x78]);
    }

    #[test]
    fn negative_local_timestamp_is_the_wrapped_u32() {
        let line = b"CSI_DATA,PASSIVE,00:00:00:00:00:01,-60,11,0,0,0,0,0,0,0,0,0,-93,0,6,0,-2147483648,0,10,0,1,1.23457e+06,2,[1 2 ]";
        let row = CsiRow::parse_line(line).unwrap();
        assert_eq!(row.rx_ctrl.local_timestamp, 1 << 31);
        assert_eq!(row.real_timestamp, 1.23457e6);
        assert!(row.to_line().windows(13).any(|w| w == b",-2147483648,"));
    }

    #[test]
    fn odd_value_count_is_rejected() {
        let line = b"CSI_DATA,AP,3C:71:BF:6D:2A:78,-73,11,1,0,1,1,1,0,0,0,0,-93,0,1,1,1,0,101,0,0,1.0,3,[1 2 3 ]";
        assert_eq!(
            Row::new_checked(&line[..]).err(),
            Some(Error::Malformed("csi: odd number of values"))
        );
    }

    #[test]
    fn bad_columns_are_named() {
        let bad = |from: &str, to: &str| {
            let text = core::str::from_utf8(ROW).unwrap().replacen(from, to, 1);
            Row::new_checked(text.into_bytes()).err()
        };
        assert_eq!(bad(",-73,", ",-300,"), Some(Error::Malformed("rssi")));
        assert_eq!(bad("3C:71", "3G:71"), Some(Error::Malformed("mac")));
        assert_eq!(
            bad("80.363225", "80.x"),
            Some(Error::Malformed("real_timestamp"))
        );
        assert_eq!(bad(",AP,", ",XX,"), Some(Error::Malformed("role")));
        assert_eq!(
            bad("-48", "-129"),
            Some(Error::Malformed(
                "csi: value is not an integer in -128..=255"
            ))
        );
        assert_eq!(bad("0 ]", "0 "), Some(Error::Truncated));
        assert_eq!(
            bad(",[", ",("),
            Some(Error::Malformed("csi: expected '[' after the len column"))
        );
    }

    #[test]
    fn unpadded_old_timestamp_is_reinterpreted() {
        assert_eq!(reinterpret_unpadded_timestamp(b"80.3632"), Some(80.003632));
        assert_eq!(
            reinterpret_unpadded_timestamp(b"80.363225"),
            Some(80.363225)
        );
        assert_eq!(reinterpret_unpadded_timestamp(b"1.5e3"), None);
        assert_eq!(reinterpret_unpadded_timestamp(b"1.1000000"), None);
    }

    fn decode_stream(decoder: &mut RowDecoder, input: &[u8]) -> Vec<CsiRow> {
        let mut rows = Vec::new();
        decode_all(decoder, input, |r| rows.push(r));
        rows
    }

    #[test]
    fn header_and_log_lines_are_skipped_and_counted() {
        let header = [field::HEADER.as_bytes(), b"\n"].concat();
        let log = b"I (1234) wifi: connected\r\n";
        let row = [ROW, b"\r\n"].concat();
        let input = [&header[..], log, &row, log, &row].concat();
        let mut d = RowDecoder::new();
        let rows = decode_stream(&mut d, &input);
        assert_eq!(rows, [spec_row(), spec_row()]);
        let s = d.stats();
        assert_eq!(s.bytes_skipped as usize, header.len() + 2 * log.len());
        assert_eq!(s.bytes_consumed as usize, 2 * row.len());
    }

    #[test]
    fn noise_glued_before_a_row_is_skipped_and_the_row_decodes() {
        let input = [&b"\x00\xffgarbCSI_DATA,trunc"[..], ROW, b"\n"].concat();
        let mut d = RowDecoder::new();
        assert_eq!(decode_stream(&mut d, &input), [spec_row()]);
        assert_eq!(d.stats().bytes_skipped, 20);
    }

    #[test]
    fn malformed_row_is_rejected_and_the_next_one_decodes() {
        let input = [&b"CSI_DATA,AP,nonsense\n"[..], ROW, b"\n"].concat();
        let mut d = RowDecoder::new();
        assert_eq!(decode_stream(&mut d, &input), [spec_row()]);
        assert_eq!(d.stats().frames_rejected, 1);
        assert_eq!(d.stats().last_error, Some(Error::Truncated));
    }

    #[test]
    fn overlong_line_is_dropped_to_its_newline() {
        let long = [&b"CSI_DATA,"[..], &[b'7'; 300], b"\n"].concat();
        let input = [&long[..], ROW, b"\n"].concat();
        let mut d = RowDecoder::with_limit(200);
        assert_eq!(decode_stream(&mut d, &input), [spec_row()]);
        let s = *d.stats();
        assert_eq!(s.frames_rejected, 1);
        assert!(matches!(
            s.last_error,
            Some(Error::TooLong { limit: 200, .. })
        ));
        assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
    }

    #[test]
    fn finish_decodes_a_last_row_without_newline() {
        let mut d = RowDecoder::new();
        d.push(ROW);
        assert_eq!(d.next_item(), None);
        d.finish();
        assert_eq!(d.next_item(), Some(spec_row()));
        assert_eq!(d.stats().bytes_consumed as usize, ROW.len());
    }

    fn arb_row() -> impl Strategy<Value = CsiRow> {
        let roles = prop_oneof![Just(Role::Ap), Just(Role::Sta), Just(Role::Passive)];
        let tail = (
            any::<bool>(),
            -1.0e7f64..1.0e7,
            any::<u16>(),
            prop::collection::vec(any::<(i8, i8)>(), 0..200),
        );
        (roles, any::<[u8; 6]>(), arb_rx_ctrl(), tail).prop_map(
            |(role, mac, rx_ctrl, (real_time_set, real_timestamp, len, v))| CsiRow {
                real_time_set,
                real_timestamp,
                len,
                ..CsiRow::new(
                    role,
                    mac,
                    rx_ctrl,
                    v.into_iter().map(|(re, im)| Iq { re, im }).collect(),
                )
            },
        )
    }

    fn stream_of(rows: &[CsiRow]) -> Vec<u8> {
        rows.iter().flat_map(CsiRow::to_line).collect()
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
            let input = stream_of(&rows);
            let mut d = RowDecoder::new();
            let mut got = Vec::new();
            let mut rest = &input[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() { break; }
                let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
                rest = tail;
                crate::stream::decode_chunk(&mut d, chunk, |r| got.push(r));
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
            let got = decode_stream(&mut d, &input);
            let s = *d.stats();
            prop_assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
            // A junk line holding `CSI_DATA,` would be a (rejected) row; random bytes
            // practically never do, so all of it is skipped.
            prop_assert_eq!(s.bytes_skipped, junk_bytes);
            prop_assert_eq!(got, rows);
        }
    }
}
