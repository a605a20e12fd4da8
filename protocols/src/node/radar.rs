//! Payload kind 0x02: detected points of one radar frame.
//!
//! | offset     | type | field        | notes                                       |
//! |-----------:|------|--------------|---------------------------------------------|
//! | 0          | u32  | frame_number | radar's own frame counter                   |
//! | 4          | u16  | n_points     | at most [`MAX_POINTS`] (50)                 |
//! | 6 + 20·i   | f32  | x            | m                                           |
//! | 10 + 20·i  | f32  | y            | m                                           |
//! | 14 + 20·i  | f32  | z            | m                                           |
//! | 18 + 20·i  | f32  | v            | radial velocity, m/s                        |
//! | 22 + 20·i  | i16  | snr          | raw units of TI TLV 7 (0.1 dB)              |
//! | 24 + 20·i  | i16  | noise        | raw units of TI TLV 7 (0.1 dB)              |
//!
//! A radar frame with more points is sent as several payloads with the same frame number.
use core::fmt;

use super::{le, MAX_PAYLOAD_LEN};
use crate::error::{Error, Result};

/// Byte positions of the radar payload fields; point fields are offsets inside a point.
pub mod field {
    use core::ops::Range;
    /// Frame number, u32.
    pub const FRAME_NUMBER: Range<usize> = 0..4;
    /// Number of points, u16.
    pub const N_POINTS: Range<usize> = 4..6;
    /// First point.
    pub const POINTS: usize = 6;
    /// Bytes per point.
    pub const POINT_LEN: usize = 20;
    /// x, f32, inside a point.
    pub const X: usize = 0;
    /// y, f32, inside a point.
    pub const Y: usize = 4;
    /// z, f32, inside a point.
    pub const Z: usize = 8;
    /// Radial velocity, f32, inside a point.
    pub const V: usize = 12;
    /// SNR, i16, inside a point.
    pub const SNR: usize = 16;
    /// Noise, i16, inside a point.
    pub const NOISE: usize = 18;
}

/// Fixed bytes before the points.
pub const FIXED_LEN: usize = field::POINTS;
/// Most points one payload carries: (1024 - 6) / 20.
pub const MAX_POINTS: usize = (MAX_PAYLOAD_LEN - FIXED_LEN) / field::POINT_LEN;

/// One detected point.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RadarPoint {
    /// x in m.
    pub x: f32,
    /// y in m.
    pub y: f32,
    /// z in m.
    pub z: f32,
    /// Radial velocity in m/s.
    pub v: f32,
    /// SNR, raw 0.1 dB units.
    pub snr: i16,
    /// Noise, raw 0.1 dB units.
    pub noise: i16,
}

/// A typed view of a radar payload.
#[derive(Debug, Clone)]
pub struct RadarPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RadarPacket<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub const fn new_unchecked(buffer: T) -> Self {
        RadarPacket { buffer }
    }

    /// Wraps a buffer, checking it holds the fixed part and every announced point.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let view = Self::new_unchecked(buffer);
        let len = view.buffer.as_ref().len();
        if len < FIXED_LEN {
            return Err(Error::Truncated);
        }
        let n = usize::from(view.n_points());
        if n > MAX_POINTS {
            return Err(Error::TooLong {
                claimed: n,
                limit: MAX_POINTS,
            });
        }
        if len < view.payload_len() {
            return Err(Error::Truncated);
        }
        Ok(view)
    }

    /// Bytes this payload occupies according to `n_points`.
    pub fn payload_len(&self) -> usize {
        FIXED_LEN + field::POINT_LEN * usize::from(self.n_points())
    }

    /// The radar's frame number.
    pub fn frame_number(&self) -> u32 {
        le::u32(self.buffer.as_ref(), field::FRAME_NUMBER.start)
    }

    /// Number of points.
    pub fn n_points(&self) -> u16 {
        le::u16(self.buffer.as_ref(), field::N_POINTS.start)
    }

    /// The `i`-th point.
    pub fn point(&self, i: usize) -> RadarPoint {
        let b = &self.buffer.as_ref()[field::POINTS + field::POINT_LEN * i..];
        RadarPoint {
            x: le::f32(b, field::X),
            y: le::f32(b, field::Y),
            z: le::f32(b, field::Z),
            v: le::f32(b, field::V),
            snr: le::i16(b, field::SNR),
            noise: le::i16(b, field::NOISE),
        }
    }

    /// All points in order.
    pub fn points(&self) -> impl Iterator<Item = RadarPoint> + '_ {
        (0..usize::from(self.n_points())).map(move |i| self.point(i))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RadarPacket<T> {
    /// Sets the frame number.
    pub fn set_frame_number(&mut self, v: u32) {
        le::put_u32(self.buffer.as_mut(), field::FRAME_NUMBER.start, v);
    }

    /// Sets the point count.
    pub fn set_n_points(&mut self, v: u16) {
        le::put_u16(self.buffer.as_mut(), field::N_POINTS.start, v);
    }

    /// Sets the `i`-th point.
    pub fn set_point(&mut self, i: usize, p: &RadarPoint) {
        let b = &mut self.buffer.as_mut()[field::POINTS + field::POINT_LEN * i..];
        le::put_u32(b, field::X, p.x.to_bits());
        le::put_u32(b, field::Y, p.y.to_bits());
        le::put_u32(b, field::Z, p.z.to_bits());
        le::put_u32(b, field::V, p.v.to_bits());
        le::put_u16(b, field::SNR, p.snr as u16);
        le::put_u16(b, field::NOISE, p.noise as u16);
    }
}

/// A radar payload over borrowed points (no allocation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadarRepr<'a> {
    /// The radar's frame number.
    pub frame_number: u32,
    /// Points; at most [`MAX_POINTS`].
    pub points: &'a [RadarPoint],
}

impl RadarRepr<'_> {
    /// Bytes this payload takes.
    pub fn buffer_len(&self) -> usize {
        FIXED_LEN + field::POINT_LEN * self.points.len()
    }

    /// Writes the payload into a view at least [`buffer_len`](Self::buffer_len) long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut RadarPacket<T>) -> Result<()> {
        if self.points.len() > MAX_POINTS {
            return Err(Error::TooLong {
                claimed: self.points.len(),
                limit: MAX_POINTS,
            });
        }
        if view.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        view.set_frame_number(self.frame_number);
        // Bounded by MAX_POINTS above, so the count fits a u16.
        view.set_n_points(self.points.len() as u16);
        for (i, p) in self.points.iter().enumerate() {
            view.set_point(i, p);
        }
        Ok(())
    }
}

impl fmt::Display for RadarRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "radar frame {}, {} points",
            self.frame_number,
            self.points.len()
        )
    }
}

/// An owned radar payload.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq)]
pub struct Radar {
    /// The radar's frame number.
    pub frame_number: u32,
    /// Points in order.
    pub points: alloc::vec::Vec<RadarPoint>,
}

#[cfg(feature = "alloc")]
impl Radar {
    /// Copies a checked view into an owned value.
    pub fn parse<T: AsRef<[u8]>>(view: &RadarPacket<T>) -> Result<Self> {
        Ok(Radar {
            frame_number: view.frame_number(),
            points: view.points().collect(),
        })
    }

    /// The borrowed form, for emitting.
    pub fn as_repr(&self) -> RadarRepr<'_> {
        RadarRepr {
            frame_number: self.frame_number,
            points: &self.points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static BYTES: [u8; 26] = [
        0x39, 0x30, 0x00, 0x00, 0x01, 0x00, // frame 12345, 1 point
        0x00, 0x00, 0x80, 0x3F, // x 1.0
        0x00, 0x00, 0x00, 0xC0, // y -2.0
        0x00, 0x00, 0x00, 0x3F, // z 0.5
        0x00, 0x00, 0x40, 0xBF, // v -0.75
        0xFA, 0x00, 0x9C, 0xFF, // snr 250, noise -100
    ];
    const POINT: RadarPoint = RadarPoint {
        x: 1.0,
        y: -2.0,
        z: 0.5,
        v: -0.75,
        snr: 250,
        noise: -100,
    };

    #[test]
    fn deconstruct_reads_every_field() {
        let p = RadarPacket::new_checked(&BYTES[..]).unwrap();
        assert_eq!(p.frame_number(), 12345);
        assert_eq!(p.n_points(), 1);
        assert_eq!(p.point(0), POINT);
    }

    #[test]
    fn construct_and_emit_give_the_spec_bytes() {
        let mut buf = [0u8; 26];
        let mut p = RadarPacket::new_unchecked(&mut buf[..]);
        p.set_frame_number(12345);
        p.set_n_points(1);
        p.set_point(0, &POINT);
        assert_eq!(buf, BYTES);
        let mut emitted = [0u8; 26];
        let repr = RadarRepr {
            frame_number: 12345,
            points: &[POINT],
        };
        repr.emit(&mut RadarPacket::new_unchecked(&mut emitted[..]))
            .unwrap();
        assert_eq!(emitted, BYTES);
    }

    #[test]
    fn point_count_beyond_buffer_or_bound_is_rejected() {
        assert_eq!(
            RadarPacket::new_checked(&BYTES[..25]).err(),
            Some(Error::Truncated)
        );
        let mut big = [0u8; 6];
        big[4] = 51;
        assert!(matches!(
            RadarPacket::new_checked(&big[..]),
            Err(Error::TooLong { claimed: 51, .. })
        ));
    }
}
