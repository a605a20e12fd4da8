//! Payload kind 0x03: a batch of UHF RFID tag reads.
//!
//! | offset | type | field    | notes                      |
//! |-------:|------|----------|----------------------------|
//! | 0      | u8   | n_reads  | number of reads that follow |
//! | 1      | ..   | reads    | `n_reads` × read record     |
//!
//! One read record (`18 + epc_len` bytes):
//!
//! | offset | type | field          | notes                                      |
//! |-------:|------|----------------|--------------------------------------------|
//! | 0      | u8   | antenna        | reader antenna port, 1-based               |
//! | 1      | u8   | epc_len        | bytes of EPC, 0..=62                       |
//! | 2      | i16  | peak_rssi_cdbm | peak RSSI in dBm × 100                     |
//! | 4      | u16  | channel        | channel index (hop table index)            |
//! | 6      | u16  | phase          | 0..=4095, 4096 = 2π rad                    |
//! | 8      | i16  | doppler        | Doppler shift in Hz × 16                   |
//! | 10     | u64  | first_seen_us  | node clock (same as header timestamp), µs  |
//! | 18     | ..   | epc            | `epc_len` bytes                            |
use core::fmt;

use super::le;
use crate::error::{Error, Result};

/// Byte positions inside the payload and inside one read record.
pub mod field {
    use core::ops::Range;
    /// Number of reads, u8 (payload offset).
    pub const N_READS: usize = 0;
    /// First read record (payload offset).
    pub const READS: usize = 1;
    /// Antenna port (read offset).
    pub const ANTENNA: usize = 0;
    /// EPC length (read offset).
    pub const EPC_LEN: usize = 1;
    /// Peak RSSI, dBm × 100, i16 (read offset).
    pub const PEAK_RSSI_CDBM: Range<usize> = 2..4;
    /// Channel index, u16 (read offset).
    pub const CHANNEL: Range<usize> = 4..6;
    /// Phase, u16, 4096 = 2π (read offset).
    pub const PHASE: Range<usize> = 6..8;
    /// Doppler, Hz × 16, i16 (read offset).
    pub const DOPPLER: Range<usize> = 8..10;
    /// First-seen time, µs, u64 (read offset).
    pub const FIRST_SEEN_US: Range<usize> = 10..18;
    /// EPC bytes (read offset).
    pub const EPC: usize = 18;
}

/// Longest EPC: the EPC memory bank holds at most 31 words.
pub const MAX_EPC_LEN: usize = 62;
/// Fixed bytes of a read record before its EPC.
pub const READ_FIXED_LEN: usize = field::EPC;
/// Phase units per full turn.
pub const PHASE_FULL_TURN: u16 = 4096;

/// An EPC of up to 62 bytes held inline, so reads stay `Copy` and allocation-free.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Epc {
    len: u8,
    bytes: [u8; MAX_EPC_LEN],
}

impl Epc {
    /// An EPC from its bytes; [`Error::TooLong`] beyond 62.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_EPC_LEN {
            return Err(Error::TooLong {
                claimed: bytes.len(),
                limit: MAX_EPC_LEN,
            });
        }
        let mut epc = Epc {
            len: bytes.len() as u8,
            bytes: [0; MAX_EPC_LEN],
        };
        epc.bytes[..bytes.len()].copy_from_slice(bytes);
        Ok(epc)
    }

    /// The EPC bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for Epc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Epc({self})")
    }
}

impl fmt::Display for Epc {
    /// Lower-case hex without separators, as the LLRP codec prints EPCs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_bytes()
            .iter()
            .try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One tag read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RfidRead {
    /// Antenna port.
    pub antenna: u8,
    /// Peak RSSI in dBm × 100.
    pub peak_rssi_cdbm: i16,
    /// Channel index.
    pub channel: u16,
    /// Phase, 0..=4095 (4096 = 2π).
    pub phase: u16,
    /// Doppler shift in Hz × 16.
    pub doppler: i16,
    /// First seen, node µs.
    pub first_seen_us: u64,
    /// The tag's EPC.
    pub epc: Epc,
}

impl RfidRead {
    /// Bytes of this read's record.
    pub fn buffer_len(&self) -> usize {
        READ_FIXED_LEN + self.epc.as_bytes().len()
    }

    /// Phase in radians, [0, 2π).
    pub fn phase_rad(&self) -> f64 {
        f64::from(self.phase) * core::f64::consts::TAU / f64::from(PHASE_FULL_TURN)
    }

    /// Doppler shift in Hz.
    pub fn doppler_hz(&self) -> f64 {
        f64::from(self.doppler) / 16.0
    }

    /// Peak RSSI in dBm.
    pub fn peak_rssi_dbm(&self) -> f64 {
        f64::from(self.peak_rssi_cdbm) / 100.0
    }

    /// Reads one record from a checked read view.
    pub fn parse<T: AsRef<[u8]>>(view: &RfidReadPacket<T>) -> Result<Self> {
        if view.phase() >= PHASE_FULL_TURN {
            return Err(Error::Malformed("rfid phase above 4095"));
        }
        Ok(RfidRead {
            antenna: view.antenna(),
            peak_rssi_cdbm: view.peak_rssi_cdbm(),
            channel: view.channel(),
            phase: view.phase(),
            doppler: view.doppler(),
            first_seen_us: view.first_seen_us(),
            epc: Epc::new(view.epc())?,
        })
    }

    /// Writes the record into a view at least [`buffer_len`](Self::buffer_len) long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut RfidReadPacket<T>) -> Result<()> {
        if self.phase >= PHASE_FULL_TURN {
            return Err(Error::Malformed("rfid phase above 4095"));
        }
        if view.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        view.set_antenna(self.antenna);
        view.set_peak_rssi_cdbm(self.peak_rssi_cdbm);
        view.set_channel(self.channel);
        view.set_phase(self.phase);
        view.set_doppler(self.doppler);
        view.set_first_seen_us(self.first_seen_us);
        view.set_epc(self.epc.as_bytes());
        Ok(())
    }
}

/// A typed view of one read record.
#[derive(Debug, Clone)]
pub struct RfidReadPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RfidReadPacket<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        RfidReadPacket { buffer }
    }

    /// Wraps a buffer, checking the fixed part, the EPC bound and the EPC bytes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let view = Self::new_unchecked(buffer);
        let len = view.buffer.as_ref().len();
        if len < READ_FIXED_LEN {
            return Err(Error::Truncated);
        }
        let epc_len = usize::from(view.epc_len());
        if epc_len > MAX_EPC_LEN {
            return Err(Error::TooLong {
                claimed: epc_len,
                limit: MAX_EPC_LEN,
            });
        }
        if len < view.record_len() {
            return Err(Error::Truncated);
        }
        Ok(view)
    }

    /// Bytes of this record: fixed part plus EPC.
    pub fn record_len(&self) -> usize {
        READ_FIXED_LEN + usize::from(self.epc_len())
    }

    /// Antenna port.
    pub fn antenna(&self) -> u8 {
        self.buffer.as_ref()[field::ANTENNA]
    }

    /// EPC length in bytes.
    pub fn epc_len(&self) -> u8 {
        self.buffer.as_ref()[field::EPC_LEN]
    }

    /// Peak RSSI, dBm × 100.
    pub fn peak_rssi_cdbm(&self) -> i16 {
        le::i16(self.buffer.as_ref(), field::PEAK_RSSI_CDBM.start)
    }

    /// Channel index.
    pub fn channel(&self) -> u16 {
        le::u16(self.buffer.as_ref(), field::CHANNEL.start)
    }

    /// Phase, 4096 = 2π.
    pub fn phase(&self) -> u16 {
        le::u16(self.buffer.as_ref(), field::PHASE.start)
    }

    /// Doppler, Hz × 16.
    pub fn doppler(&self) -> i16 {
        le::i16(self.buffer.as_ref(), field::DOPPLER.start)
    }

    /// First-seen time, node µs.
    pub fn first_seen_us(&self) -> u64 {
        le::u64(self.buffer.as_ref(), field::FIRST_SEEN_US.start)
    }

    /// EPC bytes.
    pub fn epc(&self) -> &[u8] {
        &self.buffer.as_ref()[field::EPC..self.record_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RfidReadPacket<T> {
    /// Sets the antenna port.
    pub fn set_antenna(&mut self, v: u8) {
        self.buffer.as_mut()[field::ANTENNA] = v;
    }

    /// Sets peak RSSI (dBm × 100).
    pub fn set_peak_rssi_cdbm(&mut self, v: i16) {
        le::put_u16(self.buffer.as_mut(), field::PEAK_RSSI_CDBM.start, v as u16);
    }

    /// Sets the channel index.
    pub fn set_channel(&mut self, v: u16) {
        le::put_u16(self.buffer.as_mut(), field::CHANNEL.start, v);
    }

    /// Sets the phase.
    pub fn set_phase(&mut self, v: u16) {
        le::put_u16(self.buffer.as_mut(), field::PHASE.start, v);
    }

    /// Sets the Doppler shift (Hz × 16).
    pub fn set_doppler(&mut self, v: i16) {
        le::put_u16(self.buffer.as_mut(), field::DOPPLER.start, v as u16);
    }

    /// Sets the first-seen time.
    pub fn set_first_seen_us(&mut self, v: u64) {
        le::put_u64(self.buffer.as_mut(), field::FIRST_SEEN_US.start, v);
    }

    /// Sets `epc_len` and the EPC bytes (caller checked the length bound and room).
    pub fn set_epc(&mut self, epc: &[u8]) {
        let b = self.buffer.as_mut();
        b[field::EPC_LEN] = epc.len() as u8;
        b[field::EPC..field::EPC + epc.len()].copy_from_slice(epc);
    }
}

/// A typed view of a whole RFID payload.
#[derive(Debug, Clone)]
pub struct RfidPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RfidPacket<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        RfidPacket { buffer }
    }

    /// Wraps a buffer, walking every read record to check it fits.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let view = Self::new_unchecked(buffer);
        view.checked_len()?;
        Ok(view)
    }

    /// Bytes the payload occupies, walking the records; errors as `new_checked`.
    pub fn checked_len(&self) -> Result<usize> {
        let b = self.buffer.as_ref();
        let n = *b.get(field::N_READS).ok_or(Error::Truncated)?;
        let mut at = field::READS;
        for _ in 0..n {
            let rest = b.get(at..).ok_or(Error::Truncated)?;
            at += RfidReadPacket::new_checked(rest)?.record_len();
        }
        Ok(at)
    }

    /// Number of reads.
    pub fn n_reads(&self) -> u8 {
        self.buffer.as_ref()[field::N_READS]
    }

    /// The read records in order (views; length-checked by `new_checked`).
    pub fn reads(&self) -> impl Iterator<Item = RfidReadPacket<&[u8]>> + '_ {
        let b = self.buffer.as_ref();
        let mut at = field::READS;
        (0..self.n_reads()).map_while(move |_| {
            let read = RfidReadPacket::new_checked(b.get(at..)?).ok()?;
            at += read.record_len();
            Some(read)
        })
    }
}

/// An RFID payload over borrowed reads (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RfidRepr<'a> {
    /// Reads; at most 255, and their records must fit the payload bound.
    pub reads: &'a [RfidRead],
}

impl RfidRepr<'_> {
    /// Bytes this payload takes.
    pub fn buffer_len(&self) -> usize {
        field::READS + self.reads.iter().map(RfidRead::buffer_len).sum::<usize>()
    }

    /// Writes the payload into a buffer at least [`buffer_len`](Self::buffer_len) long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut RfidPacket<T>) -> Result<()> {
        let n = u8::try_from(self.reads.len()).map_err(|_| Error::TooLong {
            claimed: self.reads.len(),
            limit: usize::from(u8::MAX),
        })?;
        let b = view.buffer.as_mut();
        if b.len() < self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        b[field::N_READS] = n;
        let mut at = field::READS;
        for read in self.reads {
            read.emit(&mut RfidReadPacket::new_unchecked(&mut b[at..]))?;
            at += read.buffer_len();
        }
        Ok(())
    }
}

impl fmt::Display for RfidRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RFID {} reads", self.reads.len())?;
        if let Some(first) = self.reads.first() {
            write!(
                f,
                ", first {} ant {} {:.2} dBm",
                first.epc,
                first.antenna,
                first.peak_rssi_dbm()
            )?;
        }
        Ok(())
    }
}

/// Collects the reads of a checked RFID view into a vector.
#[cfg(feature = "alloc")]
pub fn parse_reads<T: AsRef<[u8]>>(view: &RfidPacket<T>) -> Result<alloc::vec::Vec<RfidRead>> {
    view.reads().map(|r| RfidRead::parse(&r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    static BYTES: [u8; 23] = [
        0x01, // one read
        0x02, 0x04, // antenna 2, epc_len 4
        0x90, 0xE8, // -6000 = -60.00 dBm
        0x0B, 0x00, // channel 11
        0x00, 0x04, // phase 1024 = π/2
        0xE0, 0xFF, // doppler -32 = -2 Hz
        0x40, 0x42, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, // first seen 1_000_000 µs
        0xE2, 0x00, 0x12, 0x34, // EPC
    ];

    fn read() -> RfidRead {
        RfidRead {
            antenna: 2,
            peak_rssi_cdbm: -6000,
            channel: 11,
            phase: 1024,
            doppler: -32,
            first_seen_us: 1_000_000,
            epc: Epc::new(&[0xE2, 0x00, 0x12, 0x34]).unwrap(),
        }
    }

    #[test]
    fn deconstruct_reads_every_field() {
        let p = RfidPacket::new_checked(&BYTES[..]).unwrap();
        assert_eq!(p.n_reads(), 1);
        let r = p.reads().next().unwrap();
        assert_eq!(r.antenna(), 2);
        assert_eq!(r.epc_len(), 4);
        assert_eq!(r.peak_rssi_cdbm(), -6000);
        assert_eq!(r.channel(), 11);
        assert_eq!(r.phase(), 1024);
        assert_eq!(r.doppler(), -32);
        assert_eq!(r.first_seen_us(), 1_000_000);
        assert_eq!(r.epc(), &[0xE2, 0x00, 0x12, 0x34]);
        let parsed = RfidRead::parse(&r).unwrap();
        assert_eq!(parsed, read());
        assert!((parsed.phase_rad() - core::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert_eq!(parsed.doppler_hz(), -2.0);
        assert_eq!(parsed.peak_rssi_dbm(), -60.0);
    }

    #[test]
    fn construct_and_emit_give_the_spec_bytes() {
        let mut buf = [0u8; 23];
        buf[0] = 1;
        let mut r = RfidReadPacket::new_unchecked(&mut buf[1..]);
        r.set_antenna(2);
        r.set_peak_rssi_cdbm(-6000);
        r.set_channel(11);
        r.set_phase(1024);
        r.set_doppler(-32);
        r.set_first_seen_us(1_000_000);
        r.set_epc(&[0xE2, 0x00, 0x12, 0x34]);
        assert_eq!(buf, BYTES);
        let mut emitted = [0u8; 23];
        let reads = [read()];
        let repr = RfidRepr { reads: &reads };
        assert_eq!(repr.buffer_len(), 23);
        repr.emit(&mut RfidPacket::new_unchecked(&mut emitted[..]))
            .unwrap();
        assert_eq!(emitted, BYTES);
    }

    #[test]
    fn bad_lengths_and_phase_are_rejected() {
        assert_eq!(
            RfidPacket::new_checked(&BYTES[..22]).err(),
            Some(Error::Truncated)
        );
        let mut long_epc = BYTES;
        long_epc[2] = 63;
        assert!(matches!(
            RfidPacket::new_checked(&long_epc[..]),
            Err(Error::TooLong { claimed: 63, .. })
        ));
        let mut bad_phase = BYTES;
        bad_phase[8] = 0x10; // 4096
        let p = RfidPacket::new_checked(&bad_phase[..]).unwrap();
        let r = p.reads().next().unwrap();
        assert!(matches!(RfidRead::parse(&r), Err(Error::Malformed(_))));
        assert!(Epc::new(&[0u8; 63]).is_err());
    }
}
