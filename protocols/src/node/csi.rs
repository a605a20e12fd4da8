//! Payload kind 0x01: one WiFi CSI packet as the node's radio reported it.
//!
//! | offset | type        | field           | notes                                  |
//! |-------:|-------------|-----------------|----------------------------------------|
//! | 0      | i8          | rssi            | dBm                                    |
//! | 1      | i8          | noise_floor     | dBm                                    |
//! | 2      | u8          | channel         | primary 802.11 channel number          |
//! | 3      | u8          | antenna         | receive antenna / chain index          |
//! | 4      | u16         | bandwidth_mhz   | 20, 40, 80, 160, 320                   |
//! | 6      | u16         | n_subcarriers   | at most [`MAX_SUBCARRIERS`] (508)      |
//! | 8      | [i8; 2] × n | iq              | (re, im) per subcarrier, buffer order  |
use core::fmt;

use super::{le, MAX_PAYLOAD_LEN};
use crate::csi::Iq;
use crate::error::{Error, Result};

/// Byte positions of the CSI payload fields.
pub mod field {
    use core::ops::Range;
    /// RSSI, i8 dBm.
    pub const RSSI: usize = 0;
    /// Noise floor, i8 dBm.
    pub const NOISE_FLOOR: usize = 1;
    /// Channel number.
    pub const CHANNEL: usize = 2;
    /// Antenna index.
    pub const ANTENNA: usize = 3;
    /// Bandwidth in MHz, u16.
    pub const BANDWIDTH_MHZ: Range<usize> = 4..6;
    /// Number of subcarriers, u16.
    pub const N_SUBCARRIERS: Range<usize> = 6..8;
    /// First I/Q pair.
    pub const IQ: usize = 8;
}

/// Fixed bytes before the I/Q pairs.
pub const FIXED_LEN: usize = field::IQ;
/// Most subcarriers one payload carries: (1024 - 8) / 2.
pub const MAX_SUBCARRIERS: usize = (MAX_PAYLOAD_LEN - FIXED_LEN) / 2;

/// A typed view of a CSI payload.
#[derive(Debug, Clone)]
pub struct CsiPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> CsiPacket<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        CsiPacket { buffer }
    }

    /// Wraps a buffer, checking it holds the fixed part and every announced subcarrier.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let view = Self::new_unchecked(buffer);
        let len = view.buffer.as_ref().len();
        if len < FIXED_LEN {
            return Err(Error::Truncated);
        }
        let n = usize::from(view.n_subcarriers());
        if n > MAX_SUBCARRIERS {
            return Err(Error::TooLong {
                claimed: n,
                limit: MAX_SUBCARRIERS,
            });
        }
        if len < view.payload_len() {
            return Err(Error::Truncated);
        }
        Ok(view)
    }

    /// Bytes this payload occupies according to its `n_subcarriers`.
    pub fn payload_len(&self) -> usize {
        FIXED_LEN + 2 * usize::from(self.n_subcarriers())
    }

    /// RSSI in dBm.
    pub fn rssi(&self) -> i8 {
        self.buffer.as_ref()[field::RSSI] as i8
    }

    /// Noise floor in dBm.
    pub fn noise_floor(&self) -> i8 {
        self.buffer.as_ref()[field::NOISE_FLOOR] as i8
    }

    /// Primary channel number.
    pub fn channel(&self) -> u8 {
        self.buffer.as_ref()[field::CHANNEL]
    }

    /// Antenna index.
    pub fn antenna(&self) -> u8 {
        self.buffer.as_ref()[field::ANTENNA]
    }

    /// Bandwidth in MHz.
    pub fn bandwidth_mhz(&self) -> u16 {
        le::u16(self.buffer.as_ref(), field::BANDWIDTH_MHZ.start)
    }

    /// Number of I/Q pairs.
    pub fn n_subcarriers(&self) -> u16 {
        le::u16(self.buffer.as_ref(), field::N_SUBCARRIERS.start)
    }

    /// The `i`-th I/Q pair.
    pub fn iq(&self, i: usize) -> Iq {
        let at = field::IQ + 2 * i;
        let b = self.buffer.as_ref();
        Iq {
            re: b[at] as i8,
            im: b[at + 1] as i8,
        }
    }

    /// All I/Q pairs in buffer order.
    pub fn iq_iter(&self) -> impl Iterator<Item = Iq> + '_ {
        (0..usize::from(self.n_subcarriers())).map(move |i| self.iq(i))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CsiPacket<T> {
    /// Sets the RSSI.
    pub fn set_rssi(&mut self, v: i8) {
        self.buffer.as_mut()[field::RSSI] = v as u8;
    }

    /// Sets the noise floor.
    pub fn set_noise_floor(&mut self, v: i8) {
        self.buffer.as_mut()[field::NOISE_FLOOR] = v as u8;
    }

    /// Sets the channel.
    pub fn set_channel(&mut self, v: u8) {
        self.buffer.as_mut()[field::CHANNEL] = v;
    }

    /// Sets the antenna.
    pub fn set_antenna(&mut self, v: u8) {
        self.buffer.as_mut()[field::ANTENNA] = v;
    }

    /// Sets the bandwidth.
    pub fn set_bandwidth_mhz(&mut self, v: u16) {
        le::put_u16(self.buffer.as_mut(), field::BANDWIDTH_MHZ.start, v);
    }

    /// Sets the subcarrier count.
    pub fn set_n_subcarriers(&mut self, v: u16) {
        le::put_u16(self.buffer.as_mut(), field::N_SUBCARRIERS.start, v);
    }

    /// Sets the `i`-th I/Q pair.
    pub fn set_iq(&mut self, i: usize, iq: Iq) {
        let at = field::IQ + 2 * i;
        let b = self.buffer.as_mut();
        b[at] = iq.re as u8;
        b[at + 1] = iq.im as u8;
    }
}

/// A CSI payload's values over borrowed samples: what the firmware emits from a static
/// array without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsiRepr<'a> {
    /// RSSI in dBm.
    pub rssi: i8,
    /// Noise floor in dBm.
    pub noise_floor: i8,
    /// Primary channel number.
    pub channel: u8,
    /// Antenna index.
    pub antenna: u8,
    /// Bandwidth in MHz.
    pub bandwidth_mhz: u16,
    /// I/Q pairs in buffer order; at most [`MAX_SUBCARRIERS`].
    pub iq: &'a [Iq],
}

impl CsiRepr<'_> {
    /// Bytes this payload takes.
    pub fn buffer_len(&self) -> usize {
        FIXED_LEN + 2 * self.iq.len()
    }

    /// Writes the payload into a view at least [`buffer_len`](Self::buffer_len) long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut CsiPacket<T>) -> Result<()> {
        let n = u16::try_from(self.iq.len())
            .ok()
            .filter(|&n| usize::from(n) <= MAX_SUBCARRIERS)
            .ok_or(Error::TooLong {
                claimed: self.iq.len(),
                limit: MAX_SUBCARRIERS,
            })?;
        if view.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        view.set_rssi(self.rssi);
        view.set_noise_floor(self.noise_floor);
        view.set_channel(self.channel);
        view.set_antenna(self.antenna);
        view.set_bandwidth_mhz(self.bandwidth_mhz);
        view.set_n_subcarriers(n);
        for (i, &iq) in self.iq.iter().enumerate() {
            view.set_iq(i, iq);
        }
        Ok(())
    }
}

impl fmt::Display for CsiRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CSI ch {} {} MHz ant {} rssi {} dBm noise {} dBm, {} subcarriers",
            self.channel,
            self.bandwidth_mhz,
            self.antenna,
            self.rssi,
            self.noise_floor,
            self.iq.len()
        )
    }
}

/// An owned CSI payload: what the host keeps after the frame buffer is gone.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csi {
    /// RSSI in dBm.
    pub rssi: i8,
    /// Noise floor in dBm.
    pub noise_floor: i8,
    /// Primary channel number.
    pub channel: u8,
    /// Antenna index.
    pub antenna: u8,
    /// Bandwidth in MHz.
    pub bandwidth_mhz: u16,
    /// I/Q pairs in buffer order.
    pub iq: alloc::vec::Vec<Iq>,
}

#[cfg(feature = "alloc")]
impl Csi {
    /// Copies a checked view into an owned value (the count was bounded by `new_checked`).
    pub fn parse<T: AsRef<[u8]>>(view: &CsiPacket<T>) -> Result<Self> {
        Ok(Csi {
            rssi: view.rssi(),
            noise_floor: view.noise_floor(),
            channel: view.channel(),
            antenna: view.antenna(),
            bandwidth_mhz: view.bandwidth_mhz(),
            iq: view.iq_iter().collect(),
        })
    }

    /// The borrowed form, for emitting.
    pub fn as_repr(&self) -> CsiRepr<'_> {
        CsiRepr {
            rssi: self.rssi,
            noise_floor: self.noise_floor,
            channel: self.channel,
            antenna: self.antenna,
            bandwidth_mhz: self.bandwidth_mhz,
            iq: &self.iq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static BYTES: [u8; 14] = [
        0xC4, 0xA1, 0x06, 0x01, 0x14, 0x00, 0x03,
        0x00, // rssi -60, noise -95, ch 6, ant 1, 20 MHz, n 3
        0x01, 0xFF, 0x7F, 0x80, 0x00, 0x05, // (1,-1) (127,-128) (0,5)
    ];
    const IQ: [Iq; 3] = [
        Iq { re: 1, im: -1 },
        Iq { re: 127, im: -128 },
        Iq { re: 0, im: 5 },
    ];
    const REPR: CsiRepr<'static> = CsiRepr {
        rssi: -60,
        noise_floor: -95,
        channel: 6,
        antenna: 1,
        bandwidth_mhz: 20,
        iq: &IQ,
    };

    #[test]
    fn deconstruct_reads_every_field() {
        let p = CsiPacket::new_checked(&BYTES[..]).unwrap();
        assert_eq!(p.rssi(), -60);
        assert_eq!(p.noise_floor(), -95);
        assert_eq!(p.channel(), 6);
        assert_eq!(p.antenna(), 1);
        assert_eq!(p.bandwidth_mhz(), 20);
        assert_eq!(p.n_subcarriers(), 3);
        assert!(p.iq_iter().eq(IQ.iter().copied()));
    }

    #[test]
    fn construct_with_setters_gives_the_spec_bytes() {
        let mut buf = [0u8; 14];
        let mut p = CsiPacket::new_unchecked(&mut buf[..]);
        p.set_rssi(-60);
        p.set_noise_floor(-95);
        p.set_channel(6);
        p.set_antenna(1);
        p.set_bandwidth_mhz(20);
        p.set_n_subcarriers(3);
        for (i, iq) in IQ.iter().enumerate() {
            p.set_iq(i, *iq);
        }
        assert_eq!(buf, BYTES);
    }

    #[test]
    fn emit_writes_the_spec_bytes() {
        let mut buf = [0u8; 14];
        assert_eq!(REPR.buffer_len(), 14);
        REPR.emit(&mut CsiPacket::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(buf, BYTES);
    }

    #[test]
    fn short_or_oversize_payloads_are_rejected() {
        assert_eq!(
            CsiPacket::new_checked(&BYTES[..13]).err(),
            Some(Error::Truncated)
        );
        let mut big = [0u8; 8];
        big[6..8].copy_from_slice(&509u16.to_le_bytes());
        assert!(matches!(
            CsiPacket::new_checked(&big[..]),
            Err(Error::TooLong { claimed: 509, .. })
        ));
    }
}
