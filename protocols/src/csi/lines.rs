//! Text-line plumbing shared by the two ESP32 CSV row formats.
//!
//! Both firmware families print one `CSI_DATA,...` row per line on an ESP-IDF console,
//! interleaved with log lines. This module holds what their codecs share and nothing
//! format-specific: integer and MAC tokens, a bounded writer for `emit`, and (with
//! `alloc`) [`RowSplitter`], the line buffer under both streaming decoders.
use crate::error::Error;

/// What starts every CSI row in both formats, comma included (the ESP32-CSI-Tool header
/// line ends in `,CSI_DATA` without one, so it never matches).
pub(crate) const ROW_PREFIX: &[u8] = b"CSI_DATA,";

/// Most digits an integer column may have; bounds the work and rules out overflow.
const MAX_DIGITS: usize = 18;

/// Parses an optionally negative decimal integer (`-?[0-9]{1,18}`), nothing else.
pub(crate) fn parse_int(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > MAX_DIGITS {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(d - b'0');
    }
    Some(if negative { -value } else { value })
}

/// Parses an integer column into `T`, naming `column` when it is not a number in range.
pub(crate) fn int_column<T: TryFrom<i64>>(text: &[u8], column: &'static str) -> Result<T, Error> {
    parse_int(text)
        .and_then(|v| T::try_from(v).ok())
        .ok_or(Error::Malformed(column))
}

/// Parses a `%u` field that firmware prints with `%d`: values from 2^31 on appear negative,
/// so anything in `i32::MIN..=u32::MAX` is read back as the `u32` it was.
pub(crate) fn u32_printed_as_d(text: &[u8], column: &'static str) -> Result<u32, Error> {
    let v: i64 = int_column(text, column)?;
    if v < i64::from(i32::MIN) || v > i64::from(u32::MAX) {
        return Err(Error::Malformed(column));
    }
    Ok(v as u32)
}

/// Parses a `0`/`1` flag column.
pub(crate) fn flag_column(text: &[u8], column: &'static str) -> Result<bool, Error> {
    match text {
        b"0" => Ok(false),
        b"1" => Ok(true),
        _ => Err(Error::Malformed(column)),
    }
}

/// Parses `aa:bb:cc:dd:ee:ff` (either case) into six bytes.
pub(crate) fn parse_mac(text: &[u8]) -> Option<[u8; 6]> {
    if text.len() != 17 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, byte) in mac.iter_mut().enumerate() {
        let at = i * 3;
        if i > 0 && text.get(at - 1) != Some(&b':') {
            return None;
        }
        let hi = hex_digit(*text.get(at)?)?;
        let lo = hex_digit(*text.get(at + 1)?)?;
        *byte = hi << 4 | lo;
    }
    Some(mac)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Why a CSI value list did not scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadValue {
    /// A token that is not `-?[0-9]{1,18}`.
    NotInteger,
    /// An integer the format's value mapping refused.
    OutOfRange(i64),
}

/// Scans a CSI value list (integers separated by runs of `sep`) in one pass, handing each
/// value, mapped by `map`, to `sink`; returns the number of values. The hot loop of both
/// row decoders, so it works on bytes directly rather than through [`Tokens`].
pub(crate) fn scan_values(
    list: &[u8],
    sep: u8,
    map: impl Fn(i64) -> Option<i8>,
    mut sink: impl FnMut(i8),
) -> Result<usize, BadValue> {
    let n = list.len();
    let mut i = 0;
    let mut count = 0;
    loop {
        while i < n && list[i] == sep {
            i += 1;
        }
        if i == n {
            return Ok(count);
        }
        let negative = list[i] == b'-';
        if negative {
            i += 1;
        }
        let start = i;
        let mut value: i64 = 0;
        while i < n {
            let digit = list[i].wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            if i - start == MAX_DIGITS {
                return Err(BadValue::NotInteger);
            }
            value = value * 10 + i64::from(digit);
            i += 1;
        }
        if i == start || (i < n && list[i] != sep) {
            return Err(BadValue::NotInteger);
        }
        let value = if negative { -value } else { value };
        sink(map(value).ok_or(BadValue::OutOfRange(value))?);
        count += 1;
    }
}

/// Eight copies of `byte` in a word, for the word-at-a-time searches below.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// True when some byte of `word` is zero (the classic bit trick; exact, no false hits).
fn has_zero_byte(word: u64) -> bool {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    (word.wrapping_sub(LOW) & !word & HIGH) != 0
}

/// Index of the first `needle` in `hay`, eight bytes per step where possible.
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    let pattern = splat(needle);
    let mut words = hay.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        if has_zero_byte(u64::from_ne_bytes(bytes) ^ pattern) {
            break;
        }
        offset += 8;
    }
    hay.get(offset..)?
        .iter()
        .position(|&b| b == needle)
        .map(|i| offset + i)
}

/// Index of the last `needle` in `hay`, eight bytes per step where possible.
pub(crate) fn rfind_byte(hay: &[u8], needle: u8) -> Option<usize> {
    let pattern = splat(needle);
    let mut end = hay.len();
    while end >= 8 {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&hay[end - 8..end]);
        if has_zero_byte(u64::from_ne_bytes(bytes) ^ pattern) {
            break;
        }
        end -= 8;
    }
    hay[..end].iter().rposition(|&b| b == needle)
}

/// Tokens of a CSI value list: decimal integers separated by runs of `sep`.
#[derive(Debug, Clone)]
pub(crate) struct Tokens<'a> {
    rest: &'a [u8],
    sep: u8,
}

impl<'a> Tokens<'a> {
    /// Tokens of `list` (the text between the brackets).
    pub(crate) fn new(list: &'a [u8], sep: u8) -> Self {
        Tokens { rest: list, sep }
    }
}

impl Iterator for Tokens<'_> {
    /// The parsed integer, or `None` inside `Some` for a token that is not one.
    type Item = Option<i64>;

    fn next(&mut self) -> Option<Option<i64>> {
        let start = self.rest.iter().position(|&b| b != self.sep)?;
        let tail = &self.rest[start..];
        let end = tail
            .iter()
            .position(|&b| b == self.sep)
            .unwrap_or(tail.len());
        let (token, rest) = tail.split_at(end);
        self.rest = rest;
        Some(parse_int(token))
    }
}

#[cfg(feature = "alloc")]
pub(crate) use emit::{emit_with, write_mac, CountingWriter, ShortText};
#[cfg(feature = "alloc")]
pub(crate) use splitter::RowSplitter;

/// Writing rows: `emit` into a slice, `buffer_len` by counting.
#[cfg(feature = "alloc")]
mod emit {
    use core::fmt;

    use crate::error::Error;

    /// A `fmt::Write` into a fixed byte slice; running out of room is an error, not a panic.
    pub(crate) struct SliceWriter<'a> {
        out: &'a mut [u8],
        pub(crate) written: usize,
    }

    impl<'a> SliceWriter<'a> {
        /// A writer filling `out` from its start.
        pub(crate) fn new(out: &'a mut [u8]) -> Self {
            SliceWriter { out, written: 0 }
        }
    }

    impl fmt::Write for SliceWriter<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.written.checked_add(s.len()).ok_or(fmt::Error)?;
            let dst = self.out.get_mut(self.written..end).ok_or(fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.written = end;
            Ok(())
        }
    }

    /// A `fmt::Write` that only counts: how `buffer_len` learns the length `emit` will write.
    #[derive(Default)]
    pub(crate) struct CountingWriter(pub(crate) usize);

    impl fmt::Write for CountingWriter {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 = self.0.saturating_add(s.len());
            Ok(())
        }
    }

    /// A few bytes of ASCII text built on the stack and written with one `write_str`: the
    /// CSI value loops print two `i8` and two separators per subcarrier, where the general
    /// formatter (one call per value) was about 30 % of an HT40 simulation.
    pub(crate) struct ShortText {
        buf: [u8; ShortText::CAPACITY],
        len: usize,
    }

    impl ShortText {
        /// Enough for a separator, two `i8` (`-128` is four bytes) and two more separators.
        pub(crate) const CAPACITY: usize = 12;

        /// Empty text.
        pub(crate) fn new() -> ShortText {
            ShortText {
                buf: [0; ShortText::CAPACITY],
                len: 0,
            }
        }

        /// Appends one ASCII byte (callers stay within [`Self::CAPACITY`]; beyond it the
        /// byte is dropped and [`Self::write_to`] fails rather than write a short value).
        pub(crate) fn byte(&mut self, b: u8) -> &mut ShortText {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
            }
            self.len += 1;
            self
        }

        /// Appends `v` in decimal, as `%d` and `{}` print it.
        pub(crate) fn i8(&mut self, v: i8) -> &mut ShortText {
            if v < 0 {
                self.byte(b'-');
            }
            let m = v.unsigned_abs();
            if m >= 100 {
                self.byte(b'0' + m / 100);
            }
            if m >= 10 {
                self.byte(b'0' + m / 10 % 10);
            }
            self.byte(b'0' + m % 10)
        }

        /// Writes the text to `w`.
        pub(crate) fn write_to(&self, w: &mut impl fmt::Write) -> fmt::Result {
            let bytes = self.buf.get(..self.len).ok_or(fmt::Error)?;
            w.write_str(core::str::from_utf8(bytes).map_err(|_| fmt::Error)?)
        }
    }

    /// Writes a MAC as `%02X:` (`upper`) or `%02x:` separated pairs.
    pub(crate) fn write_mac(w: &mut impl fmt::Write, mac: &[u8; 6], upper: bool) -> fmt::Result {
        for (i, b) in mac.iter().enumerate() {
            if i > 0 {
                w.write_char(':')?;
            }
            if upper {
                write!(w, "{b:02X}")?;
            } else {
                write!(w, "{b:02x}")?;
            }
        }
        Ok(())
    }

    /// Runs `write` into `out`, mapping a short buffer to [`Error::BufferTooSmall`].
    pub(crate) fn emit_with(
        out: &mut [u8],
        write: impl FnOnce(&mut SliceWriter<'_>) -> fmt::Result,
    ) -> Result<usize, Error> {
        let mut w = SliceWriter::new(out);
        write(&mut w).map_err(|_| Error::BufferTooSmall)?;
        Ok(w.written)
    }
}

#[cfg(feature = "alloc")]
mod splitter {
    use super::{find_byte, rfind_byte, ROW_PREFIX};
    use crate::error::Error;
    use crate::stream::{ByteBuf, StreamStats};

    /// The line buffer under both CSV row decoders.
    ///
    /// Lines end at `\n` (a trailing `\r` is dropped). A line holding `CSI_DATA,` is a row
    /// from its last such prefix on: bytes before it are skipped, the row (with its line
    /// end) is consumed, accepted or rejected by the format's parser. Other lines (headers,
    /// ESP-IDF logs) are skipped whole. A line longer than `max_line` is dropped up to its
    /// newline: if its buffered head holds a row start, that row counts as one rejected
    /// frame ([`Error::TooLong`]) with the head consumed; everything else is skipped.
    #[derive(Debug, Clone)]
    pub(crate) struct RowSplitter {
        buf: ByteBuf,
        max_line: usize,
        /// Bytes already searched for `\n` (so byte-at-a-time input stays linear).
        scanned: usize,
        /// Inside an over-long line: drop bytes up to and including the next `\n`.
        discarding: bool,
        /// `finish` was called: a buffered unterminated line is a whole line.
        finished: bool,
        pub(crate) stats: StreamStats,
    }

    impl RowSplitter {
        /// A splitter that holds at most `max_line` bytes of one line (plus its `\n`).
        pub(crate) fn new(max_line: usize) -> Self {
            RowSplitter {
                buf: ByteBuf::with_limit(max_line.saturating_add(1)),
                max_line,
                scanned: 0,
                discarding: false,
                finished: false,
                stats: StreamStats::default(),
            }
        }

        /// Buffers as much of `input` as fits.
        pub(crate) fn push(&mut self, input: &[u8]) -> usize {
            let taken = self.buf.push(input);
            self.stats.bytes_in += taken as u64;
            taken
        }

        /// Marks the end of input.
        pub(crate) fn finish(&mut self) {
            self.finished = true;
        }

        /// The next row parsed by `parse`; rejected rows and non-row lines are counted
        /// and passed over. `None` when more input is needed.
        pub(crate) fn next_row<R>(
            &mut self,
            mut parse: impl FnMut(&[u8]) -> Result<R, Error>,
        ) -> Option<R> {
            loop {
                let data = self.buf.as_slice();
                let newline = data
                    .get(self.scanned..)
                    .and_then(|tail| find_byte(tail, b'\n'))
                    .map(|i| self.scanned + i);
                let (line_end, next_start) = match newline {
                    Some(i) => (i, i + 1),
                    None if self.finished && !data.is_empty() => (data.len(), data.len()),
                    None => {
                        self.scanned = data.len();
                        if self.buf.is_full() {
                            self.drop_overlong();
                        }
                        return None;
                    }
                };
                self.scanned = 0;
                if self.discarding {
                    self.discarding = false;
                    self.stats.skip(next_start);
                    self.buf.consume(next_start);
                    continue;
                }
                let line = &data[..line_end];
                let Some(start) = find_last_row_start(line) else {
                    self.stats.skip(next_start);
                    self.buf.consume(next_start);
                    continue;
                };
                let result = parse(strip_cr(&line[start..]));
                self.stats.skip(start);
                let row_len = next_start - start;
                self.buf.consume(next_start);
                match result {
                    Ok(row) => {
                        self.stats.accept(row_len);
                        return Some(row);
                    }
                    Err(e) => self.stats.reject(row_len, e),
                }
            }
        }

        /// The buffer is full without a line end: drop what is buffered and the rest of
        /// the line, so `push` makes progress.
        fn drop_overlong(&mut self) {
            let data = self.buf.as_slice();
            let len = data.len();
            match find_last_row_start(data).filter(|_| !self.discarding) {
                Some(start) => {
                    self.stats.skip(start);
                    let err = Error::TooLong {
                        claimed: len.saturating_sub(start),
                        limit: self.max_line,
                    };
                    self.stats.reject(len - start, err);
                }
                None => self.stats.skip(len),
            }
            self.buf.consume(len);
            self.scanned = 0;
            self.discarding = true;
        }
    }

    /// Byte offset of the last `CSI_DATA,` in `line`: where a row starts when serial noise or
    /// an unterminated log line is glued in front of it.
    pub(crate) fn find_last_row_start(line: &[u8]) -> Option<usize> {
        // 'C' is rare in rows (only in MAC digits), so test the full prefix only there.
        let mut end = line.len();
        while let Some(i) = rfind_byte(&line[..end], b'C') {
            if line[i..].starts_with(ROW_PREFIX) {
                return Some(i);
            }
            end = i;
        }
        None
    }

    /// Drops one trailing `\r` (serial consoles often send `\r\n`).
    pub(crate) fn strip_cr(line: &[u8]) -> &[u8] {
        line.strip_suffix(b"\r").unwrap_or(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[cfg(feature = "alloc")]
    #[test]
    fn short_text_prints_every_i8_as_the_formatter_does() {
        use alloc::string::String;
        use core::fmt::Write;
        for a in i8::MIN..=i8::MAX {
            let b = a.wrapping_mul(37);
            let mut ours = String::new();
            let mut text = ShortText::new();
            text.byte(b',').i8(a).byte(b' ').i8(b).byte(b' ');
            text.write_to(&mut ours).unwrap();
            let mut theirs = String::new();
            write!(theirs, ",{a} {b} ").unwrap();
            assert_eq!(ours, theirs);
        }
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn short_text_past_its_capacity_fails_instead_of_writing_a_short_value() {
        let mut text = ShortText::new();
        for _ in 0..ShortText::CAPACITY + 1 {
            text.byte(b'7');
        }
        assert!(text.write_to(&mut alloc::string::String::new()).is_err());
    }

    #[test]
    fn scan_values_reads_signed_tokens_and_names_the_failure() {
        let mut got = [0i8; 4];
        let mut n = 0;
        let count = scan_values(
            b" 101 -48  5 0 ",
            b' ',
            |v| i8::try_from(v).ok(),
            |v| {
                got[n] = v;
                n += 1;
            },
        );
        assert_eq!(count, Ok(4));
        assert_eq!(got, [101, -48, 5, 0]);
        let map = |v: i64| i8::try_from(v).ok();
        assert_eq!(
            scan_values(b"1 2x", b' ', map, |_| {}),
            Err(BadValue::NotInteger)
        );
        assert_eq!(
            scan_values(b"1 -", b' ', map, |_| {}),
            Err(BadValue::NotInteger)
        );
        assert_eq!(
            scan_values(b"300", b' ', map, |_| {}),
            Err(BadValue::OutOfRange(300))
        );
        let huge = b"1234567890123456789";
        assert_eq!(
            scan_values(huge, b' ', map, |_| {}),
            Err(BadValue::NotInteger)
        );
    }

    #[test]
    fn mac_parses_either_case_and_rejects_bad_separators() {
        assert_eq!(
            parse_mac(b"3c:71:BF:6d:2a:78"),
            Some([0x3c, 0x71, 0xbf, 0x6d, 0x2a, 0x78])
        );
        assert_eq!(parse_mac(b"3c-71-bf-6d-2a-78"), None);
        assert_eq!(parse_mac(b"3c:71:bf:6d:2a:7"), None);
    }

    proptest! {
        #[test]
        fn word_searches_agree_with_naive_ones(hay in prop::collection::vec(0u8..4, 0..64), needle in 0u8..4) {
            prop_assert_eq!(find_byte(&hay, needle), hay.iter().position(|&b| b == needle));
            prop_assert_eq!(rfind_byte(&hay, needle), hay.iter().rposition(|&b| b == needle));
        }

        /// The one-pass scan gives what [`Tokens`] (a token at a time through
        /// [`parse_int`]) gives: the same values in order, or the same failure.
        #[test]
        fn value_scan_agrees_with_token_parsing(
            text in prop::collection::vec(
                prop::sample::select(b"0123456789- ,x".to_vec()), 0..300),
            sep in prop::sample::select(vec![b' ', b',']),
        ) {
            let map = |v: i64| i8::try_from(v).ok();
            let mut scanned = Vec::new();
            let got = scan_values(&text, sep, map, |v| scanned.push(v));
            let mut expected = Vec::new();
            let mut want = Ok(0);
            for token in Tokens::new(&text, sep) {
                match token.map(|v| (v, map(v))) {
                    None => { want = Err(BadValue::NotInteger); break; }
                    Some((v, None)) => { want = Err(BadValue::OutOfRange(v)); break; }
                    Some((_, Some(b))) => { expected.push(b); want = Ok(expected.len()); }
                }
            }
            prop_assert_eq!(got, want);
            prop_assert_eq!(scanned, expected);
        }

        /// Lists of in-range values as firmware prints them, with runs of separators and
        /// any length, read back exactly.
        #[test]
        fn printed_values_scan_back(
            values in prop::collection::vec(any::<i8>(), 0..200),
            gaps in prop::collection::vec(1usize..3, 200),
            sep in prop::sample::select(vec![b' ', b',']),
        ) {
            let mut text = Vec::new();
            for (v, gap) in values.iter().zip(&gaps) {
                text.extend(alloc::format!("{v}").bytes());
                text.extend(core::iter::repeat_n(sep, *gap));
            }
            let mut scanned = Vec::new();
            let got = scan_values(&text, sep, |v| i8::try_from(v).ok(), |v| scanned.push(v));
            prop_assert_eq!(got, Ok(values.len()));
            prop_assert_eq!(scanned, values);
        }
    }
}
