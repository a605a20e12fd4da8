//! Intel 5300 NIC channel state, as the Linux 802.11n CSI Tool's `log_to_file` writes it.
//!
//! A `.dat` file is a plain sequence of records: `u16` big-endian `field_len`, a `u8` code,
//! then `field_len - 1` payload bytes. Code `0xBB` is a beamforming feedback ("bfee")
//! record carrying CSI; other codes (e.g. `0xC1`, a connector log entry) carry no CSI and
//! are skipped. The bfee payload is a little-endian header of 20 bytes followed by `len`
//! bytes of bit-packed CSI: for each of 30 subcarriers, 3 unused bits, then `Nrx * Ntx`
//! entries of an 8-bit signed real part and an 8-bit signed imaginary part, packed LSB
//! first at a running bit index (so most samples straddle two bytes).
//!
//! Layers, as in the other formats of this crate:
//! * [`Record`]: a view over one record frame (`field_len`, `code`, payload).
//! * [`BfeePacket`]: a view over a bfee payload, accessors named after `read_bfee.c`'s fields,
//!   and [`CsiBits`], a bounds-checked reader of the packed samples.
//! * [`Bfee`] (`alloc`): the owned record with `parse`/`emit`; CSI in `[tx][rx][subcarrier]`
//!   order, exactly as received (no antenna permutation applied).
//! * [`BfeeDecoder`] (`alloc`): the streaming decoder. The format has no magic word, so
//!   resynchronization is heuristic; see its documentation.
use crate::error::{Error, Result};

/// Record code of a beamforming feedback (CSI) record.
pub const CODE_BFEE: u8 = 0xBB;
/// Record code of the other record type the CSI Tool logs (no CSI in it).
pub const CODE_CONNECTOR_LOG: u8 = 0xC1;
/// Subcarriers reported per bfee record (the 5300 reports a fixed grouping of 30).
pub const SUBCARRIERS: usize = 30;
/// Most receive or transmit chains a 5300 reports.
pub const MAX_CHAINS: u8 = 3;
/// Bytes before a record's payload: `field_len` and `code`.
pub const RECORD_HEADER_LEN: usize = field::PAYLOAD;
/// Bytes of a bfee payload before the packed CSI.
pub const BFEE_HEADER_LEN: usize = field::CSI;
/// Longest well-formed bfee record (3x3), header included.
pub const MAX_BFEE_RECORD_LEN: usize = RECORD_HEADER_LEN + BFEE_HEADER_LEN + csi_len(3, 3);
/// Longest record of any code the framing can express (`field_len` = 65535), header included.
pub const MAX_RECORD_LEN: usize = 2 + u16::MAX as usize;

/// Byte offsets of the record frame and of the bfee payload, laid out like the spec's table.
mod field {
    use core::ops::Range;

    /// Record: `u16` big-endian length of code + payload.
    pub const FIELD_LEN: Range<usize> = 0..2;
    /// Record: what the payload is (`0xBB` = bfee).
    pub const CODE: usize = 2;
    /// Record: first payload byte.
    pub const PAYLOAD: usize = 3;

    /// Bfee payload (little-endian from here on): NIC 1 MHz clock, low 32 bits.
    pub const TIMESTAMP_LOW: Range<usize> = 0..4;
    /// Bfee payload: driver's running count of measurements.
    pub const BFEE_COUNT: Range<usize> = 4..6;
    /// Bfee payload: two unused bytes.
    pub const RESERVED: Range<usize> = 6..8;
    /// Bfee payload: receive chains.
    pub const NRX: usize = 8;
    /// Bfee payload: transmit streams.
    pub const NTX: usize = 9;
    /// Bfee payload: RSSI of antenna A.
    pub const RSSI_A: usize = 10;
    /// Bfee payload: RSSI of antenna B.
    pub const RSSI_B: usize = 11;
    /// Bfee payload: RSSI of antenna C.
    pub const RSSI_C: usize = 12;
    /// Bfee payload: noise floor, signed dBm.
    pub const NOISE: usize = 13;
    /// Bfee payload: automatic gain control setting.
    pub const AGC: usize = 14;
    /// Bfee payload: antenna-to-chain permutation, 2 bits per chain.
    pub const ANTENNA_SEL: usize = 15;
    /// Bfee payload: bytes of packed CSI that follow.
    pub const LEN: Range<usize> = 16..18;
    /// Bfee payload: `rate_n_flags` of the measured packet.
    pub const FAKE_RATE_N_FLAGS: Range<usize> = 18..20;
    /// Bfee payload: first byte of packed CSI.
    pub const CSI: usize = 20;
}

/// Bits skipped at the start of each subcarrier's group of samples.
const SUBCARRIER_GAP_BITS: usize = 3;
/// Bits per (real, imaginary) sample.
const SAMPLE_BITS: usize = 16;

/// Bytes of packed CSI a bfee with `nrx` x `ntx` chains carries:
/// `(30 * (nrx * ntx * 16 + 3) + 7) / 8`, the check `read_bfee.c` makes.
pub const fn csi_len(nrx: u8, ntx: u8) -> usize {
    let entries = nrx as usize * ntx as usize;
    (SUBCARRIERS * (entries * SAMPLE_BITS + SUBCARRIER_GAP_BITS)).div_ceil(8)
}

/// The receive-antenna permutation encoded in `antenna_sel`: chain `i` was fed by antenna
/// `perm[i]` (zero-based; MATLAB's `read_bfee` adds 1).
pub fn perm_from_antenna_sel(antenna_sel: u8) -> [u8; 3] {
    [
        antenna_sel & 3,
        (antenna_sel >> 2) & 3,
        (antenna_sel >> 4) & 3,
    ]
}

fn read_u16_be(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

fn read_u16_le(bytes: &[u8]) -> u16 {
    u16::from_le_bytes([bytes[0], bytes[1]])
}

/// A view over one record of a `.dat` file: the frame every record code shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Record<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        Record { buffer }
    }

    /// Wraps a buffer holding at least one whole record (header and `field_len - 1` bytes);
    /// `field_len` 0 (no room for the code) is [`Error::Malformed`].
    pub fn new_checked(buffer: T) -> Result<Self> {
        let record = Self::new_unchecked(buffer);
        record.check_len()?;
        Ok(record)
    }

    /// Checks that the buffer holds the header and the payload `field_len` announces.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < RECORD_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.field_len() == 0 {
            return Err(Error::Malformed("field_len"));
        }
        if len < self.total_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// `field_len`: bytes of code plus payload.
    pub fn field_len(&self) -> u16 {
        read_u16_be(&self.buffer.as_ref()[field::FIELD_LEN])
    }

    /// `code`: what the payload is ([`CODE_BFEE`] for CSI).
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Bytes of the whole record, header included: `2 + field_len`.
    pub fn total_len(&self) -> usize {
        2 + usize::from(self.field_len())
    }

    /// The `field_len - 1` payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..self.total_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Record<T> {
    /// Sets `field_len`.
    pub fn set_field_len(&mut self, value: u16) {
        self.buffer.as_mut()[field::FIELD_LEN].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets `code`.
    pub fn set_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    /// The payload, writable (its length follows `field_len`).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        &mut self.buffer.as_mut()[field::PAYLOAD..end]
    }
}

/// A view over a bfee (code `0xBB`) payload: the 20-byte header and the packed CSI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BfeePacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> BfeePacket<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        BfeePacket { buffer }
    }

    /// Wraps a buffer holding the 20-byte header and the `len` bytes of CSI it announces.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the header and the `len` CSI bytes fit in the buffer.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < BFEE_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if len < BFEE_HEADER_LEN + usize::from(self.len()) {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// `timestamp_low`: low 32 bits of the NIC's 1 MHz clock (wraps every ~72 min).
    pub fn timestamp_low(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::TIMESTAMP_LOW];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// `bf_count`: the driver's running count of measurements (gaps = netlink drops).
    pub fn bfee_count(&self) -> u16 {
        read_u16_le(&self.buffer.as_ref()[field::BFEE_COUNT])
    }

    /// `Nrx`: receive chains measured (1..=3).
    pub fn nrx(&self) -> u8 {
        self.buffer.as_ref()[field::NRX]
    }

    /// `Ntx`: transmit streams measured (1..=3).
    pub fn ntx(&self) -> u8 {
        self.buffer.as_ref()[field::NTX]
    }

    /// `rssi_a`: RSSI at antenna port A, dB relative to an internal reference.
    pub fn rssi_a(&self) -> u8 {
        self.buffer.as_ref()[field::RSSI_A]
    }

    /// `rssi_b`: RSSI at antenna port B.
    pub fn rssi_b(&self) -> u8 {
        self.buffer.as_ref()[field::RSSI_B]
    }

    /// `rssi_c`: RSSI at antenna port C.
    pub fn rssi_c(&self) -> u8 {
        self.buffer.as_ref()[field::RSSI_C]
    }

    /// `noise`: noise floor, signed dBm.
    pub fn noise(&self) -> i8 {
        self.buffer.as_ref()[field::NOISE] as i8
    }

    /// `agc`: automatic gain control setting, dB.
    pub fn agc(&self) -> u8 {
        self.buffer.as_ref()[field::AGC]
    }

    /// `antenna_sel`: which antenna fed each chain, 2 bits per chain
    /// (see [`perm_from_antenna_sel`]).
    pub fn antenna_sel(&self) -> u8 {
        self.buffer.as_ref()[field::ANTENNA_SEL]
    }

    /// `len`: bytes of packed CSI after the header.
    pub fn len(&self) -> u16 {
        read_u16_le(&self.buffer.as_ref()[field::LEN])
    }

    /// True when `len` announces no CSI (never so in a well-formed record).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `fake_rate_n_flags`: the `rate_n_flags` of the packet the CSI was measured on.
    pub fn fake_rate_n_flags(&self) -> u16 {
        read_u16_le(&self.buffer.as_ref()[field::FAKE_RATE_N_FLAGS])
    }

    /// The packed CSI: the `len` bytes after the header, clamped to what the buffer holds.
    pub fn csi_bytes(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        let end = BFEE_HEADER_LEN
            .saturating_add(usize::from(self.len()))
            .min(bytes.len());
        bytes.get(BFEE_HEADER_LEN..end).unwrap_or(&[])
    }

    /// A reader of the packed samples, using this header's `Nrx` and `Ntx`.
    pub fn csi_bits(&self) -> CsiBits<'_> {
        CsiBits::new(self.csi_bytes(), self.nrx(), self.ntx())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> BfeePacket<T> {
    /// Sets `timestamp_low`.
    pub fn set_timestamp_low(&mut self, value: u32) {
        self.buffer.as_mut()[field::TIMESTAMP_LOW].copy_from_slice(&value.to_le_bytes());
    }

    /// Sets `bf_count`.
    pub fn set_bfee_count(&mut self, value: u16) {
        self.buffer.as_mut()[field::BFEE_COUNT].copy_from_slice(&value.to_le_bytes());
    }

    /// Zeroes the two reserved bytes.
    pub fn clear_reserved(&mut self) {
        self.buffer.as_mut()[field::RESERVED].fill(0);
    }

    /// Sets `Nrx`.
    pub fn set_nrx(&mut self, value: u8) {
        self.buffer.as_mut()[field::NRX] = value;
    }

    /// Sets `Ntx`.
    pub fn set_ntx(&mut self, value: u8) {
        self.buffer.as_mut()[field::NTX] = value;
    }

    /// Sets `rssi_a`.
    pub fn set_rssi_a(&mut self, value: u8) {
        self.buffer.as_mut()[field::RSSI_A] = value;
    }

    /// Sets `rssi_b`.
    pub fn set_rssi_b(&mut self, value: u8) {
        self.buffer.as_mut()[field::RSSI_B] = value;
    }

    /// Sets `rssi_c`.
    pub fn set_rssi_c(&mut self, value: u8) {
        self.buffer.as_mut()[field::RSSI_C] = value;
    }

    /// Sets `noise`.
    pub fn set_noise(&mut self, value: i8) {
        self.buffer.as_mut()[field::NOISE] = value as u8;
    }

    /// Sets `agc`.
    pub fn set_agc(&mut self, value: u8) {
        self.buffer.as_mut()[field::AGC] = value;
    }

    /// Sets `antenna_sel`.
    pub fn set_antenna_sel(&mut self, value: u8) {
        self.buffer.as_mut()[field::ANTENNA_SEL] = value;
    }

    /// Sets `len`.
    pub fn set_len(&mut self, value: u16) {
        self.buffer.as_mut()[field::LEN].copy_from_slice(&value.to_le_bytes());
    }

    /// Sets `fake_rate_n_flags`.
    pub fn set_fake_rate_n_flags(&mut self, value: u16) {
        self.buffer.as_mut()[field::FAKE_RATE_N_FLAGS].copy_from_slice(&value.to_le_bytes());
    }

    /// The packed CSI bytes (`len` of them, clamped to the buffer), writable.
    pub fn csi_bytes_mut(&mut self) -> &mut [u8] {
        let end = BFEE_HEADER_LEN.saturating_add(usize::from(self.len()));
        let bytes = self.buffer.as_mut();
        let end = end.min(bytes.len());
        bytes.get_mut(BFEE_HEADER_LEN..end).unwrap_or(&mut [])
    }
}

/// Where sample `(subcarrier, entry)` starts in the packed CSI, in bits. `entry` is the
/// sample's position within its subcarrier: `rx * ntx + tx` (transmit stream varies fastest,
/// as `read_bfee.c` fills its `[Ntx][Nrx][30]` column-major array).
fn sample_bit_offset(entries: usize, subcarrier: usize, entry: usize) -> usize {
    let per_subcarrier = entries * SAMPLE_BITS + SUBCARRIER_GAP_BITS;
    subcarrier * per_subcarrier + SUBCARRIER_GAP_BITS + entry * SAMPLE_BITS
}

/// A bounds-checked reader of the bit-packed CSI of one bfee: every read past the end of
/// the bytes is `None`, never a panic, whatever `Nrx`/`Ntx` claim.
#[derive(Debug, Clone, Copy)]
pub struct CsiBits<'a> {
    bytes: &'a [u8],
    nrx: u8,
    ntx: u8,
}

impl<'a> CsiBits<'a> {
    /// A reader of `bytes` packed for `nrx` receive chains and `ntx` transmit streams.
    pub fn new(bytes: &'a [u8], nrx: u8, ntx: u8) -> Self {
        CsiBits { bytes, nrx, ntx }
    }

    /// The signed byte whose least significant bit is at bit `bit` (LSB-first packing).
    pub fn i8_at(&self, bit: usize) -> Option<i8> {
        let index = bit / 8;
        let shift = bit % 8;
        let low = *self.bytes.get(index)?;
        if shift == 0 {
            return Some(low as i8);
        }
        let high = *self.bytes.get(index.checked_add(1)?)?;
        Some(((low >> shift) | (high << (8 - shift))) as i8)
    }

    /// The sample of transmit stream `tx`, receive chain `rx` on `subcarrier`, if in range.
    pub fn sample(&self, tx: u8, rx: u8, subcarrier: usize) -> Option<super::Iq> {
        if tx >= self.ntx || rx >= self.nrx || subcarrier >= SUBCARRIERS {
            return None;
        }
        let entries = usize::from(self.nrx) * usize::from(self.ntx);
        let entry = usize::from(rx) * usize::from(self.ntx) + usize::from(tx);
        let bit = sample_bit_offset(entries, subcarrier, entry);
        Some(super::Iq {
            re: self.i8_at(bit)?,
            im: self.i8_at(bit + 8)?,
        })
    }
}

/// Writes `value` LSB-first at bit `bit` of `bytes`, which must hold zeros there.
fn put_i8_at(bytes: &mut [u8], bit: usize, value: i8) -> Result<()> {
    let value = value as u8;
    let index = bit / 8;
    let shift = bit % 8;
    let low = bytes.get_mut(index).ok_or(Error::BufferTooSmall)?;
    *low |= value << shift;
    if shift != 0 {
        let high = bytes.get_mut(index + 1).ok_or(Error::BufferTooSmall)?;
        *high |= value >> (8 - shift);
    }
    Ok(())
}

/// A bfee header is plausible when `Nrx` and `Ntx` are in 1..=3 and `len` matches them.
fn check_shape(nrx: u8, ntx: u8, len: u16) -> Result<()> {
    if !(1..=MAX_CHAINS).contains(&nrx) {
        return Err(Error::Malformed("Nrx"));
    }
    if !(1..=MAX_CHAINS).contains(&ntx) {
        return Err(Error::Malformed("Ntx"));
    }
    if usize::from(len) != csi_len(nrx, ntx) {
        return Err(Error::Malformed("len"));
    }
    Ok(())
}

/// Checks that `bytes` start with a well-formed bfee record header: code `0xBB`, `Nrx` and
/// `Ntx` in 1..=3, `len` as they require and `field_len` exactly covering the payload.
/// Returns the record's total length. Needs [`RECORD_HEADER_LEN`] + [`BFEE_HEADER_LEN`] bytes.
pub fn check_bfee_header(bytes: &[u8]) -> Result<usize> {
    let head = bytes
        .get(..RECORD_HEADER_LEN + BFEE_HEADER_LEN)
        .ok_or(Error::Truncated)?;
    let record = Record::new_unchecked(head);
    if record.code() != CODE_BFEE {
        return Err(Error::Malformed("code"));
    }
    let packet = BfeePacket::new_unchecked(&head[RECORD_HEADER_LEN..]);
    check_shape(packet.nrx(), packet.ntx(), packet.len())?;
    let payload_len = BFEE_HEADER_LEN + usize::from(packet.len());
    if usize::from(record.field_len()) != 1 + payload_len {
        return Err(Error::Malformed("field_len"));
    }
    Ok(RECORD_HEADER_LEN + payload_len)
}

#[cfg(feature = "alloc")]
pub use owned::{Bfee, BfeeDecoder};

#[cfg(feature = "alloc")]
mod owned {
    use super::*;
    use crate::csi::Iq;
    use crate::stream::{ByteBuf, StreamDecoder, StreamStats};
    use alloc::vec::Vec;
    use core::fmt;

    /// One CSI measurement of an Intel 5300, owned: what the rest of the gateway consumes.
    ///
    /// `csi` holds `ntx * nrx * 30` samples in `[tx][rx][subcarrier]` order, i.e. the sample
    /// of stream `tx`, chain `rx`, subcarrier `s` is at `(tx * nrx + rx) * 30 + s` (use
    /// [`Bfee::csi_at`]). Chains are in the NIC's RF-chain order: the antenna permutation
    /// ([`Bfee::perm`]) is reported, not applied.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Bfee {
        /// Low 32 bits of the NIC's 1 MHz clock.
        pub timestamp_low: u32,
        /// Driver's running measurement count (`bf_count`).
        pub bfee_count: u16,
        /// Receive chains (1..=3).
        pub nrx: u8,
        /// Transmit streams (1..=3).
        pub ntx: u8,
        /// RSSI at antenna port A.
        pub rssi_a: u8,
        /// RSSI at antenna port B.
        pub rssi_b: u8,
        /// RSSI at antenna port C.
        pub rssi_c: u8,
        /// Noise floor, dBm.
        pub noise: i8,
        /// Automatic gain control, dB.
        pub agc: u8,
        /// Antenna-to-chain selection, 2 bits per chain.
        pub antenna_sel: u8,
        /// `fake_rate_n_flags` of the measured packet.
        pub rate: u16,
        /// Samples in `[tx][rx][subcarrier]` order, no permutation applied.
        pub csi: Vec<Iq>,
    }

    impl Bfee {
        /// Reads a bfee payload, rejecting a `Nrx`/`Ntx` outside 1..=3 or a `len` that
        /// disagrees with them (bytes beyond the CSI in `packet`'s buffer are ignored).
        pub fn parse<T: AsRef<[u8]>>(packet: &BfeePacket<T>) -> Result<Bfee> {
            packet.check_len()?;
            check_shape(packet.nrx(), packet.ntx(), packet.len())?;
            let bits = packet.csi_bits();
            let mut csi = Vec::with_capacity(sample_count(packet.nrx(), packet.ntx()));
            for tx in 0..packet.ntx() {
                for rx in 0..packet.nrx() {
                    for subcarrier in 0..SUBCARRIERS {
                        csi.push(bits.sample(tx, rx, subcarrier).ok_or(Error::Truncated)?);
                    }
                }
            }
            Ok(Bfee {
                timestamp_low: packet.timestamp_low(),
                bfee_count: packet.bfee_count(),
                nrx: packet.nrx(),
                ntx: packet.ntx(),
                rssi_a: packet.rssi_a(),
                rssi_b: packet.rssi_b(),
                rssi_c: packet.rssi_c(),
                noise: packet.noise(),
                agc: packet.agc(),
                antenna_sel: packet.antenna_sel(),
                rate: packet.fake_rate_n_flags(),
                csi,
            })
        }

        /// Reads a whole record: code `0xBB` and a `field_len` exactly covering the payload.
        pub fn parse_record<T: AsRef<[u8]>>(record: &Record<T>) -> Result<Bfee> {
            record.check_len()?;
            if record.code() != CODE_BFEE {
                return Err(Error::Unsupported("record code other than 0xBB"));
            }
            let packet = BfeePacket::new_checked(record.payload())?;
            let bfee = Bfee::parse(&packet)?;
            if record.payload().len() != bfee.buffer_len() {
                return Err(Error::Malformed("field_len"));
            }
            Ok(bfee)
        }

        /// Bytes of the bfee payload `emit` writes: header plus packed CSI.
        pub fn buffer_len(&self) -> usize {
            BFEE_HEADER_LEN + csi_len(self.nrx, self.ntx)
        }

        /// Bytes of the whole record `emit_record` writes.
        pub fn record_len(&self) -> usize {
            RECORD_HEADER_LEN + self.buffer_len()
        }

        /// Writes the bfee payload into `packet` (at least [`buffer_len`](Self::buffer_len)
        /// bytes): header, reserved bytes and the 3 gap bits per subcarrier zeroed, samples
        /// packed. Fails on a shape outside 1..=3 or a `csi` of the wrong length.
        pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut BfeePacket<T>) -> Result<()> {
            self.check_emittable()?;
            if packet.buffer.as_ref().len() < self.buffer_len() {
                return Err(Error::BufferTooSmall);
            }
            packet.set_timestamp_low(self.timestamp_low);
            packet.set_bfee_count(self.bfee_count);
            packet.clear_reserved();
            packet.set_nrx(self.nrx);
            packet.set_ntx(self.ntx);
            packet.set_rssi_a(self.rssi_a);
            packet.set_rssi_b(self.rssi_b);
            packet.set_rssi_c(self.rssi_c);
            packet.set_noise(self.noise);
            packet.set_agc(self.agc);
            packet.set_antenna_sel(self.antenna_sel);
            packet.set_len(csi_len(self.nrx, self.ntx) as u16);
            packet.set_fake_rate_n_flags(self.rate);
            self.pack_csi(packet.csi_bytes_mut())
        }

        /// Writes the whole record (`field_len`, code `0xBB`, payload) to the start of
        /// `buffer`; returns the bytes written.
        pub fn emit_record(&self, buffer: &mut [u8]) -> Result<usize> {
            self.check_emittable()?;
            let total = self.record_len();
            let out = buffer.get_mut(..total).ok_or(Error::BufferTooSmall)?;
            let mut record = Record::new_unchecked(out);
            record.set_field_len((1 + self.buffer_len()) as u16);
            record.set_code(CODE_BFEE);
            self.emit(&mut BfeePacket::new_unchecked(record.payload_mut()))?;
            Ok(total)
        }

        /// Appends the whole record to `out`: the form a `.dat` writer wants.
        pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
            self.check_emittable()?;
            let start = out.len();
            out.resize(start + self.record_len(), 0);
            self.emit_record(&mut out[start..]).map(|_| ())
        }

        /// The receive-antenna permutation: chain `i` was fed by antenna `perm()[i]`
        /// (zero-based), decoded from `antenna_sel`.
        pub fn perm(&self) -> [u8; 3] {
            perm_from_antenna_sel(self.antenna_sel)
        }

        /// The sample of stream `tx`, chain `rx`, `subcarrier`, if in range.
        pub fn csi_at(&self, tx: u8, rx: u8, subcarrier: usize) -> Option<Iq> {
            if tx >= self.ntx || rx >= self.nrx || subcarrier >= SUBCARRIERS {
                return None;
            }
            let row = usize::from(tx) * usize::from(self.nrx) + usize::from(rx);
            self.csi.get(row * SUBCARRIERS + subcarrier).copied()
        }

        fn check_emittable(&self) -> Result<()> {
            check_shape(self.nrx, self.ntx, csi_len(self.nrx, self.ntx) as u16)?;
            if self.csi.len() != sample_count(self.nrx, self.ntx) {
                return Err(Error::Malformed("csi length"));
            }
            Ok(())
        }

        fn pack_csi(&self, bytes: &mut [u8]) -> Result<()> {
            bytes.fill(0);
            let entries = usize::from(self.nrx) * usize::from(self.ntx);
            for tx in 0..self.ntx {
                for rx in 0..self.nrx {
                    let entry = usize::from(rx) * usize::from(self.ntx) + usize::from(tx);
                    for subcarrier in 0..SUBCARRIERS {
                        let iq = self.csi_at(tx, rx, subcarrier).unwrap_or_default();
                        let bit = sample_bit_offset(entries, subcarrier, entry);
                        put_i8_at(bytes, bit, iq.re)?;
                        put_i8_at(bytes, bit + 8, iq.im)?;
                    }
                }
            }
            Ok(())
        }
    }

    fn sample_count(nrx: u8, ntx: u8) -> usize {
        usize::from(nrx) * usize::from(ntx) * SUBCARRIERS
    }

    impl fmt::Display for Bfee {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let p = self.perm();
            write!(
                f,
                "bfee #{} t={} us {}x{} rssi {}/{}/{} noise {} dBm agc {} perm {}{}{} rate 0x{:04x}",
                self.bfee_count,
                self.timestamp_low,
                self.nrx,
                self.ntx,
                self.rssi_a,
                self.rssi_b,
                self.rssi_c,
                self.noise,
                self.agc,
                p[0],
                p[1],
                p[2],
                self.rate
            )
        }
    }

    /// Bytes needed past a candidate record to judge whether the next record starts there.
    const LOOKAHEAD: usize = RECORD_HEADER_LEN + BFEE_HEADER_LEN;

    /// Default buffer bound: any record the framing can express plus the lookahead.
    const DEFAULT_LIMIT: usize = MAX_RECORD_LEN + LOOKAHEAD;

    /// Smallest buffer bound: the largest bfee record plus the lookahead.
    const MIN_LIMIT: usize = MAX_BFEE_RECORD_LEN + LOOKAHEAD;

    /// What the bytes at the front of the buffer turned out to be.
    enum Front {
        /// More bytes are needed to tell.
        NeedMore,
        /// A well-formed bfee record of this many bytes.
        Bfee(usize),
        /// A record of this many bytes that is not a bfee we can decode: `Ok` for another
        /// code (skipped), `Err` for a bfee-coded record whose header disagrees (rejected).
        Other(usize, core::result::Result<(), Error>),
        /// No record starts here: drop one byte and look again.
        Garbage,
    }

    /// Streaming decoder of a `.dat` byte stream into [`Bfee`] records.
    ///
    /// Records of other codes (`0xC1` and unknown ones) carry no CSI: their bytes are counted
    /// in [`StreamStats::bytes_skipped`], not as frames. A bfee-coded record whose `Nrx`,
    /// `Ntx`, `len` or `field_len` disagree is counted in `frames_rejected`.
    ///
    /// **Resynchronization is heuristic**: the format has no magic word or checksum, so a
    /// record start is trusted as follows. A *well-formed bfee header* (code `0xBB`, `Nrx`
    /// and `Ntx` in 1..=3, `len` as they require, `field_len = 21 + len`) is taken at face
    /// value. Any other candidate (another code, or a bfee header that disagrees) is trusted
    /// only if it ends exactly at the end of input or is followed by another plausible start
    /// (a well-formed bfee header, or a `0xC1` record header), and holds no well-formed bfee
    /// header inside (which would be a real record it swallows); otherwise, as for
    /// `field_len` 0, one byte is dropped (counted as skipped) and the next offset is
    /// examined. So garbage between records is skipped byte by byte until the next bfee
    /// header, and the records after it still decode. Judging a candidate may wait for up to
    /// `field_len + 25` bytes, which the buffer bound must allow, else the candidate is
    /// garbage.
    ///
    /// At [`finish`](StreamDecoder::finish), a cut-off bfee record (well-formed header,
    /// missing bytes) is counted as a rejected frame ([`Error::Truncated`]); other leftover
    /// bytes are skipped.
    #[derive(Debug, Clone)]
    pub struct BfeeDecoder {
        buf: ByteBuf,
        stats: StreamStats,
        finished: bool,
    }

    impl Default for BfeeDecoder {
        fn default() -> Self {
            Self::new()
        }
    }

    impl BfeeDecoder {
        /// A decoder buffering at most 64 KiB + 25 bytes: enough to frame any record.
        pub fn new() -> Self {
            Self::with_limit(DEFAULT_LIMIT)
        }

        /// A decoder buffering at most `bytes` (raised to the largest bfee record plus 23
        /// bytes of lookahead, 598). Smaller bounds only lose non-bfee framing: a longer
        /// record of another code is skipped byte by byte instead of as a whole.
        pub fn with_limit(bytes: usize) -> Self {
            BfeeDecoder {
                buf: ByteBuf::with_limit(bytes.max(MIN_LIMIT)),
                stats: StreamStats::default(),
                finished: false,
            }
        }

        /// The buffer bound in bytes.
        pub fn limit(&self) -> usize {
            self.buf.limit()
        }

        fn classify(&self, bytes: &[u8]) -> Front {
            if bytes.len() < RECORD_HEADER_LEN {
                return Front::NeedMore;
            }
            let record = Record::new_unchecked(bytes);
            if record.field_len() == 0 {
                return Front::Garbage;
            }
            if record.code() == CODE_BFEE {
                match check_bfee_header(bytes) {
                    Ok(total) => return Front::Bfee(total),
                    Err(Error::Truncated) if !self.finished => return Front::NeedMore,
                    Err(_) => {}
                }
            }
            self.classify_framed(bytes, record.total_len())
        }

        /// Judges a record that is not a well-formed bfee by what follows it.
        fn classify_framed(&self, bytes: &[u8], total: usize) -> Front {
            if total.saturating_add(LOOKAHEAD) > self.buf.limit() {
                return Front::Garbage;
            }
            let Some(next) = bytes.get(total..) else {
                return if self.finished {
                    Front::Garbage
                } else {
                    Front::NeedMore
                };
            };
            let trusted = if next.is_empty() && self.finished {
                true
            } else {
                match plausible_start(next) {
                    Some(verdict) => verdict,
                    None if self.finished => false,
                    None => return Front::NeedMore,
                }
            };
            if !trusted || holds_bfee_header(bytes, total) {
                return Front::Garbage;
            }
            let verdict = if bytes[field::CODE] == CODE_BFEE {
                Bfee::parse_record(&Record::new_unchecked(&bytes[..total])).map(|_| ())
            } else {
                Ok(())
            };
            Front::Other(total, verdict)
        }

        fn drop_front(&mut self, n: usize) {
            self.buf.consume(n);
        }
    }

    /// Whether a well-formed bfee header starts inside the first `total` bytes (after the
    /// first): then a candidate record spanning them is garbage that would swallow it.
    fn holds_bfee_header(bytes: &[u8], total: usize) -> bool {
        (1..total).any(|offset| {
            bytes
                .get(offset..)
                .is_some_and(|rest| check_bfee_header(rest).is_ok())
        })
    }

    /// Whether a record plausibly starts at `bytes`: `None` when more bytes are needed.
    fn plausible_start(bytes: &[u8]) -> Option<bool> {
        if bytes.len() < RECORD_HEADER_LEN {
            return None;
        }
        let record = Record::new_unchecked(bytes);
        match record.code() {
            _ if record.field_len() == 0 => Some(false),
            CODE_CONNECTOR_LOG => Some(true),
            CODE_BFEE => match check_bfee_header(bytes) {
                Ok(_) => Some(true),
                Err(Error::Truncated) => None,
                Err(_) => Some(false),
            },
            _ => Some(false),
        }
    }

    impl StreamDecoder for BfeeDecoder {
        type Item = Bfee;

        fn push(&mut self, input: &[u8]) -> usize {
            let taken = self.buf.push(input);
            self.stats.bytes_in += taken as u64;
            taken
        }

        fn next_item(&mut self) -> Option<Bfee> {
            loop {
                let front = self.classify(self.buf.as_slice());
                match front {
                    Front::Bfee(total) => {
                        let Some(bytes) = self.buf.as_slice().get(..total) else {
                            if self.finished {
                                let len = self.buf.len();
                                self.stats.reject(len, Error::Truncated);
                                self.drop_front(len);
                                return None;
                            }
                            if self.buf.is_full() {
                                self.stats.skip(1);
                                self.drop_front(1);
                                continue;
                            }
                            return None;
                        };
                        let parsed = Bfee::parse_record(&Record::new_unchecked(bytes));
                        self.drop_front(total);
                        match parsed {
                            Ok(bfee) => {
                                self.stats.accept(total);
                                return Some(bfee);
                            }
                            Err(e) => self.stats.reject(total, e),
                        }
                    }
                    Front::Other(total, verdict) => {
                        match verdict {
                            Ok(()) => self.stats.skip(total),
                            Err(e) => self.stats.reject(total, e),
                        }
                        self.drop_front(total);
                    }
                    Front::Garbage => {
                        self.stats.skip(1);
                        self.drop_front(1);
                    }
                    Front::NeedMore if self.finished && !self.buf.is_empty() => {
                        let len = self.buf.len();
                        self.stats.skip(len);
                        self.drop_front(len);
                        return None;
                    }
                    Front::NeedMore if self.buf.is_full() => {
                        self.stats.skip(1);
                        self.drop_front(1);
                    }
                    Front::NeedMore => return None,
                }
            }
        }

        fn finish(&mut self) {
            self.finished = true;
        }

        fn stats(&self) -> &StreamStats {
            &self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csi::Iq;

    /// A 1x1 bfee record built by hand from the layout in the module docs:
    /// timestamp_low 0x01020304, bf_count 7, Nrx 1, Ntx 1, rssi 33/34/35, noise -92,
    /// agc 41, antenna_sel 0b10_01_00 (perm 0,1,2), len 72, rate 0x4101. Subcarrier 0 holds
    /// (re 1, im -2), subcarrier 1 holds (re -128, im 127), all others 0.
    /// Bits: sc0 gap 0..3, re 3..11, im 11..19; sc1 gap 19..22, re 22..30, im 30..38.
    #[rustfmt::skip]
    static RECORD_1X1: [u8; 95] = {
        let mut r = [0u8; 95];
        // field_len = 1 + 20 + 72 = 93, code 0xBB
        r[0] = 0x00; r[1] = 93; r[2] = 0xBB;
        // timestamp_low LE
        r[3] = 0x04; r[4] = 0x03; r[5] = 0x02; r[6] = 0x01;
        // bf_count LE, reserved
        r[7] = 7; r[8] = 0; r[9] = 0; r[10] = 0;
        // Nrx, Ntx, rssi a/b/c, noise (-92 = 0xA4), agc, antenna_sel
        r[11] = 1; r[12] = 1; r[13] = 33; r[14] = 34; r[15] = 35;
        r[16] = 0xA4; r[17] = 41; r[18] = 0b0010_0100;
        // len = 72 LE, rate 0x4101 LE
        r[19] = 72; r[20] = 0; r[21] = 0x01; r[22] = 0x41;
        // CSI at r[23..]: re=1 at bit 3 -> byte0 |= 1<<3 = 0x08
        // im=-2 (0xFE) at bit 11 -> byte1 |= 0xFE<<3 = 0xF0, byte2 |= 0xFE>>5 = 0x07
        r[23] = 0x08; r[24] = 0xF0; r[25] = 0x07;
        // re=-128 (0x80) at bit 22 -> byte2 |= 0x80<<6 = 0x00, byte3 |= 0x80>>2 = 0x20
        // im=127 (0x7F) at bit 30 -> byte3 |= 0x7F<<6 = 0xC0, byte4 |= 0x7F>>2 = 0x1F
        r[26] = 0x20 | 0xC0; r[27] = 0x1F;
        r
    };

    fn expected_1x1() -> ([Iq; 2], usize) {
        (
            [Iq { re: 1, im: -2 }, Iq { re: -128, im: 127 }],
            SUBCARRIERS,
        )
    }

    #[test]
    fn csi_len_matches_read_bfee_formula() {
        assert_eq!(csi_len(1, 1), 72);
        assert_eq!(csi_len(3, 1), 192);
        assert_eq!(csi_len(3, 3), 552);
        assert_eq!(MAX_BFEE_RECORD_LEN, 575);
    }

    #[test]
    fn deconstruct_reads_every_field_of_a_hand_built_record() {
        let record = Record::new_checked(&RECORD_1X1[..]).unwrap();
        assert_eq!(record.field_len(), 93);
        assert_eq!(record.code(), CODE_BFEE);
        assert_eq!(record.total_len(), 95);
        let packet = BfeePacket::new_checked(record.payload()).unwrap();
        assert_eq!(packet.timestamp_low(), 0x0102_0304);
        assert_eq!(packet.bfee_count(), 7);
        assert_eq!((packet.nrx(), packet.ntx()), (1, 1));
        assert_eq!(
            (packet.rssi_a(), packet.rssi_b(), packet.rssi_c()),
            (33, 34, 35)
        );
        assert_eq!(packet.noise(), -92);
        assert_eq!(packet.agc(), 41);
        assert_eq!(packet.antenna_sel(), 0b10_01_00);
        assert_eq!(packet.len(), 72);
        assert_eq!(packet.fake_rate_n_flags(), 0x4101);
        let bits = packet.csi_bits();
        let (first_two, _) = expected_1x1();
        assert_eq!(bits.sample(0, 0, 0), Some(first_two[0]));
        assert_eq!(bits.sample(0, 0, 1), Some(first_two[1]));
        assert_eq!(bits.sample(0, 0, 2), Some(Iq::default()));
        assert_eq!(bits.sample(0, 1, 0), None, "rx 1 does not exist in 1x1");
    }

    #[test]
    fn construct_writes_the_hand_built_record_field_by_field() {
        let mut out = [0u8; 95];
        let mut record = Record::new_unchecked(&mut out[..]);
        record.set_field_len(93);
        record.set_code(CODE_BFEE);
        let mut packet = BfeePacket::new_unchecked(record.payload_mut());
        packet.set_timestamp_low(0x0102_0304);
        packet.set_bfee_count(7);
        packet.clear_reserved();
        packet.set_nrx(1);
        packet.set_ntx(1);
        packet.set_rssi_a(33);
        packet.set_rssi_b(34);
        packet.set_rssi_c(35);
        packet.set_noise(-92);
        packet.set_agc(41);
        packet.set_antenna_sel(0b10_01_00);
        packet.set_len(72);
        packet.set_fake_rate_n_flags(0x4101);
        let csi = packet.csi_bytes_mut();
        put_i8_at(csi, 3, 1).unwrap();
        put_i8_at(csi, 11, -2).unwrap();
        put_i8_at(csi, 22, -128).unwrap();
        put_i8_at(csi, 30, 127).unwrap();
        assert_eq!(out, RECORD_1X1);
    }

    #[test]
    fn bit_reader_returns_none_past_the_end_instead_of_panicking() {
        let bits = CsiBits::new(&[0xFF, 0x01], 3, 3);
        assert_eq!(bits.i8_at(0), Some(-1));
        assert_eq!(bits.i8_at(1), Some(-1));
        assert_eq!(bits.i8_at(8), Some(1));
        assert_eq!(bits.i8_at(9), None);
        assert_eq!(bits.i8_at(usize::MAX), None);
        assert_eq!(bits.sample(2, 2, 29), None);
    }

    #[test]
    fn record_view_rejects_short_and_zero_length_frames() {
        assert_eq!(Record::new_checked(&[0u8, 5][..]), Err(Error::Truncated));
        assert_eq!(
            Record::new_checked(&[0u8, 0, 0xBB][..]),
            Err(Error::Malformed("field_len"))
        );
        assert_eq!(
            Record::new_checked(&RECORD_1X1[..94]),
            Err(Error::Truncated)
        );
        assert_eq!(
            BfeePacket::new_checked(&RECORD_1X1[3..50]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn perm_is_two_bits_per_chain_zero_based() {
        assert_eq!(perm_from_antenna_sel(0b10_01_00), [0, 1, 2]);
        assert_eq!(perm_from_antenna_sel(0b00_10_01), [1, 2, 0]);
        assert_eq!(perm_from_antenna_sel(0xFF), [3, 3, 3]);
    }

    #[cfg(feature = "alloc")]
    mod with_alloc {
        use super::super::*;
        use super::{expected_1x1, RECORD_1X1};
        use crate::csi::Iq;
        use crate::stream::{decode_all, StreamDecoder};
        use alloc::vec;
        use alloc::vec::Vec;
        use proptest::prelude::*;

        fn expected_bfee() -> Bfee {
            let (first_two, n) = expected_1x1();
            let mut csi = vec![Iq::default(); n];
            csi[..2].copy_from_slice(&first_two);
            Bfee {
                timestamp_low: 0x0102_0304,
                bfee_count: 7,
                nrx: 1,
                ntx: 1,
                rssi_a: 33,
                rssi_b: 34,
                rssi_c: 35,
                noise: -92,
                agc: 41,
                antenna_sel: 0b10_01_00,
                rate: 0x4101,
                csi,
            }
        }

        fn decode(bytes: &[u8]) -> (Vec<Bfee>, crate::stream::StreamStats) {
            let mut decoder = BfeeDecoder::new();
            let mut out = Vec::new();
            decode_all(&mut decoder, bytes, |b| out.push(b));
            (out, *decoder.stats())
        }

        fn encode(records: &[Bfee]) -> Vec<u8> {
            let mut out = Vec::new();
            for r in records {
                r.encode_into(&mut out).unwrap();
            }
            out
        }

        fn connector_log(payload: &[u8]) -> Vec<u8> {
            let mut r = Vec::new();
            r.extend_from_slice(&(payload.len() as u16 + 1).to_be_bytes());
            r.push(CODE_CONNECTOR_LOG);
            r.extend_from_slice(payload);
            r
        }

        #[test]
        fn parse_reads_the_hand_built_record() {
            let record = Record::new_checked(&RECORD_1X1[..]).unwrap();
            let bfee = Bfee::parse_record(&record).unwrap();
            assert_eq!(bfee, expected_bfee());
            assert_eq!(bfee.perm(), [0, 1, 2]);
            assert_eq!(bfee.csi_at(0, 0, 1), Some(Iq { re: -128, im: 127 }));
        }

        #[test]
        fn emit_writes_the_hand_built_record_byte_for_byte() {
            let bfee = expected_bfee();
            assert_eq!(bfee.record_len(), RECORD_1X1.len());
            let mut out = [0xAAu8; 95];
            assert_eq!(bfee.emit_record(&mut out), Ok(95));
            assert_eq!(out, RECORD_1X1);
        }

        #[test]
        fn emit_refuses_a_wrong_shape_or_short_buffer() {
            let mut bfee = expected_bfee();
            let mut out = [0u8; 94];
            assert_eq!(bfee.emit_record(&mut out), Err(Error::BufferTooSmall));
            bfee.csi.pop();
            assert_eq!(
                bfee.emit_record(&mut [0u8; 95]),
                Err(Error::Malformed("csi length"))
            );
            bfee.nrx = 4;
            assert_eq!(
                bfee.emit_record(&mut [0u8; 600]),
                Err(Error::Malformed("Nrx"))
            );
        }

        #[test]
        fn parse_rejects_bad_shape_and_len() {
            let mut bad = RECORD_1X1;
            bad[11] = 0; // Nrx 0
            let r = Record::new_checked(&bad[..]).unwrap();
            assert_eq!(Bfee::parse_record(&r), Err(Error::Malformed("Nrx")));
            let mut bad = RECORD_1X1;
            bad[12] = 2; // Ntx 2, len still 72
            let r = Record::new_checked(&bad[..]).unwrap();
            assert_eq!(Bfee::parse_record(&r), Err(Error::Malformed("len")));
        }

        #[test]
        fn decoder_skips_other_codes_and_counts_their_bytes() {
            let mut stream = connector_log(b"hello");
            stream.extend_from_slice(&RECORD_1X1);
            stream.extend(connector_log(&[0u8; 40]));
            stream.extend_from_slice(&RECORD_1X1);
            stream.extend(connector_log(b"tail"));
            let (out, stats) = decode(&stream);
            assert_eq!(out, vec![expected_bfee(), expected_bfee()]);
            assert_eq!(stats.bytes_skipped, 8 + 43 + 7);
            assert_eq!(stats.frames_ok, 2);
            assert_eq!(stats.bytes_in, stream.len() as u64);
        }

        #[test]
        fn decoder_rejects_a_bfee_with_bad_nrx_and_keeps_going() {
            let mut bad = RECORD_1X1;
            bad[11] = 5;
            let mut stream = RECORD_1X1.to_vec();
            stream.extend_from_slice(&bad);
            stream.extend_from_slice(&RECORD_1X1);
            let (out, stats) = decode(&stream);
            assert_eq!(out.len(), 2);
            assert_eq!(stats.frames_rejected, 1);
            assert_eq!(stats.last_error, Some(Error::Malformed("Nrx")));
            assert_eq!(stats.bytes_consumed, 3 * 95);
        }

        #[test]
        fn decoder_counts_a_cut_off_record_at_finish() {
            let mut stream = RECORD_1X1.to_vec();
            stream.extend_from_slice(&RECORD_1X1[..60]);
            let (out, stats) = decode(&stream);
            assert_eq!(out.len(), 1);
            assert_eq!(stats.frames_rejected, 1);
            assert_eq!(stats.last_error, Some(Error::Truncated));
            assert_eq!(stats.bytes_consumed, 95 + 60);
        }

        #[test]
        fn decoder_skips_zero_length_and_absurd_headers() {
            let mut stream = vec![0u8, 0, 0xBB, 0xFF, 0xFF, 0xC1, 1, 2];
            stream.extend_from_slice(&RECORD_1X1);
            let (out, stats) = decode(&stream);
            assert_eq!(out, vec![expected_bfee()]);
            assert_eq!(stats.bytes_skipped, 8);
        }

        #[test]
        fn decoder_with_small_limit_still_decodes_3x3_records() {
            let bfee = Bfee {
                nrx: 3,
                ntx: 3,
                csi: vec![Iq { re: -3, im: 9 }; 270],
                ..expected_bfee()
            };
            let stream = encode(&[bfee.clone(), bfee.clone()]);
            let mut decoder = BfeeDecoder::with_limit(10);
            assert_eq!(decoder.limit(), MAX_BFEE_RECORD_LEN + 23);
            let mut out = Vec::new();
            for byte in &stream {
                crate::stream::decode_chunk(&mut decoder, core::slice::from_ref(byte), |b| {
                    out.push(b)
                });
            }
            decoder.finish();
            while let Some(b) = decoder.next_item() {
                out.push(b);
            }
            assert_eq!(out, vec![bfee.clone(), bfee]);
        }

        fn arb_bfee() -> impl Strategy<Value = Bfee> {
            (1u8..=3, 1u8..=3)
                .prop_flat_map(|(nrx, ntx)| {
                    let n = usize::from(nrx) * usize::from(ntx) * SUBCARRIERS;
                    (
                        (Just(nrx), Just(ntx), any::<u32>(), any::<u16>()),
                        (any::<[u8; 3]>(), any::<i8>(), any::<u8>(), any::<u8>()),
                        any::<u16>(),
                        proptest::collection::vec(any::<(i8, i8)>(), n),
                    )
                })
                .prop_map(
                    |((nrx, ntx, ts, count), (rssi, noise, agc, sel), rate, csi)| Bfee {
                        timestamp_low: ts,
                        bfee_count: count,
                        nrx,
                        ntx,
                        rssi_a: rssi[0],
                        rssi_b: rssi[1],
                        rssi_c: rssi[2],
                        noise,
                        agc,
                        antenna_sel: sel,
                        rate,
                        csi: csi.into_iter().map(|(re, im)| Iq { re, im }).collect(),
                    },
                )
        }

        fn check_invariant(stats: &crate::stream::StreamStats) {
            assert_eq!(stats.bytes_in, stats.bytes_consumed + stats.bytes_skipped);
        }

        proptest! {
            #[test]
            fn parse_of_emit_is_identity(bfee in arb_bfee()) {
                let mut bytes = Vec::new();
                bfee.encode_into(&mut bytes).unwrap();
                prop_assert_eq!(bytes.len(), bfee.record_len());
                let record = Record::new_checked(&bytes[..]).unwrap();
                prop_assert_eq!(Bfee::parse_record(&record).unwrap(), bfee);
            }

            #[test]
            fn random_chunking_matches_one_shot_decode(
                records in proptest::collection::vec(arb_bfee(), 1..6),
                cuts in proptest::collection::vec(1usize..200, 1..40),
            ) {
                let stream = encode(&records);
                let mut decoder = BfeeDecoder::new();
                let mut out = Vec::new();
                let mut rest = &stream[..];
                for cut in cuts.iter().cycle() {
                    if rest.is_empty() { break; }
                    let n = (*cut).min(rest.len());
                    crate::stream::decode_chunk(&mut decoder, &rest[..n], |b| out.push(b));
                    rest = &rest[n..];
                }
                decoder.finish();
                while let Some(b) = decoder.next_item() { out.push(b); }
                prop_assert_eq!(&out, &records);
                check_invariant(decoder.stats());
                prop_assert_eq!(decoder.stats().bytes_skipped, 0);
            }

            #[test]
            fn garbage_between_records_is_skipped_and_counted(
                records in proptest::collection::vec(arb_bfee(), 2..6),
                garbage in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..6),
            ) {
                let mut stream = Vec::new();
                let mut garbage_len = 0usize;
                for (i, r) in records.iter().enumerate() {
                    r.encode_into(&mut stream).unwrap();
                    if let Some(g) = garbage.get(i) {
                        if i + 1 < records.len() {
                            stream.extend_from_slice(g);
                            garbage_len += g.len();
                        }
                    }
                }
                let (out, stats) = decode(&stream);
                prop_assert_eq!(&out, &records);
                check_invariant(&stats);
                // Garbage is skipped, or (rarely) framed as a rejected bfee-coded record.
                prop_assert_eq!(
                    stats.bytes_skipped + stats.bytes_consumed,
                    (stream.len()) as u64
                );
                prop_assert!(stats.bytes_skipped <= garbage_len as u64);
                prop_assert_eq!(stats.frames_ok, records.len() as u64);
            }

            #[test]
            fn arbitrary_bytes_never_panic_and_keep_the_invariant(
                bytes in proptest::collection::vec(any::<u8>(), 0..2000),
                cut in 1usize..64,
            ) {
                let mut decoder = BfeeDecoder::with_limit(0);
                for chunk in bytes.chunks(cut) {
                    crate::stream::decode_chunk(&mut decoder, chunk, |_| {});
                }
                decoder.finish();
                while decoder.next_item().is_some() {}
                check_invariant(decoder.stats());
                prop_assert_eq!(decoder.stats().bytes_in, bytes.len() as u64);
            }
        }
    }
}
