//! Payloads about detected objects: TLV 1 in both encodings, and TLV 7 side info.
//!
//! SDK 3.x TLV 1 is `N x DPIF_PointCloudCartesian {f32 x, y, z, velocity}` (16 B each).
//! SDK 1.x/2.x TLV 1 is `MmwDemo_output_message_dataObjDescr {u16 numDetetedObj, u16
//! xyzQFormat}` then `N x MmwDemo_detectedObj {u16 rangeIdx, i16 dopplerIdx, u16 peakVal,
//! i16 x, y, z}` (12 B each; metres = value / 2^xyzQFormat). TLV 7 is `N x {i16 snr, i16
//! noise}` in 0.1 dB, paired with the points by index.
use super::le::{f32_at, i16_at, put, record, record_mut, u16_at};
use crate::error::{Error, Result};

/// Bytes of one SDK 3.x float point.
pub const POINT_LEN: usize = 16;
/// Bytes of the SDK 1.x/2.x object descriptor.
pub const DESCR_LEN: usize = 4;
/// Bytes of one SDK 1.x/2.x Q-format object.
pub const OBJECT_LEN: usize = 12;
/// Bytes of one side-info entry.
pub const SIDE_INFO_LEN: usize = 4;

/// Byte offsets inside the fixed-size records.
pub mod field {
    /// SDK 3.x point: `x`, `y`, `z`, `velocity` (f32).
    pub const POINT_X: usize = 0;
    /// See [`POINT_X`].
    pub const POINT_Y: usize = 4;
    /// See [`POINT_X`].
    pub const POINT_Z: usize = 8;
    /// See [`POINT_X`].
    pub const POINT_VELOCITY: usize = 12;
    /// Descriptor `numDetetedObj` (u16).
    pub const DESCR_NUM_OBJ: usize = 0;
    /// Descriptor `xyzQFormat` (u16).
    pub const DESCR_Q_FORMAT: usize = 2;
    /// Object `rangeIdx` (u16).
    pub const OBJ_RANGE_IDX: usize = 0;
    /// Object `dopplerIdx` (i16; u16 in SDK 1.x, same bits).
    pub const OBJ_DOPPLER_IDX: usize = 2;
    /// Object `peakVal` (u16).
    pub const OBJ_PEAK_VAL: usize = 4;
    /// Object `x`, `y`, `z` (i16, Q-format metres).
    pub const OBJ_X: usize = 6;
    /// See [`OBJ_X`].
    pub const OBJ_Y: usize = 8;
    /// See [`OBJ_X`].
    pub const OBJ_Z: usize = 10;
    /// Side info `snr` (i16).
    pub const SIDE_SNR: usize = 0;
    /// Side info `noise` (i16).
    pub const SIDE_NOISE: usize = 2;
}

/// One SDK 3.x detected point (`DPIF_PointCloudCartesian`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CartesianPoint {
    /// Metres, lateral.
    pub x: f32,
    /// Metres, forward.
    pub y: f32,
    /// Metres, up.
    pub z: f32,
    /// Radial velocity, m/s (positive = moving away).
    pub velocity: f32,
}

/// View over an SDK 3.x TLV 1 payload: float points, 16 bytes each.
#[derive(Debug, Clone, Copy)]
pub struct PointCloud<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PointCloud<T> {
    /// Wraps a payload whose length must be a whole number of points.
    pub fn new_checked(buffer: T) -> Result<PointCloud<T>> {
        if buffer.as_ref().len() % POINT_LEN != 0 {
            return Err(Error::Malformed("TLV 1 length not a multiple of 16"));
        }
        Ok(PointCloud { buffer })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.buffer.as_ref().len() / POINT_LEN
    }

    /// True when there are no points (the zero-length TLV 1 quirk).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `index`, or `None` past the end.
    pub fn point(&self, index: usize) -> Option<CartesianPoint> {
        let r = record(self.buffer.as_ref(), index, POINT_LEN)?;
        Some(CartesianPoint {
            x: f32_at(r, field::POINT_X),
            y: f32_at(r, field::POINT_Y),
            z: f32_at(r, field::POINT_Z),
            velocity: f32_at(r, field::POINT_VELOCITY),
        })
    }

    /// All points in order.
    pub fn iter(&self) -> impl Iterator<Item = CartesianPoint> + '_ {
        (0..self.len()).filter_map(|i| self.point(i))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> PointCloud<T> {
    /// Writes point `index`; `BufferTooSmall` past the end.
    pub fn set_point(&mut self, index: usize, p: &CartesianPoint) -> Result<()> {
        let r = record_mut(self.buffer.as_mut(), index, POINT_LEN).ok_or(Error::BufferTooSmall)?;
        put(r, field::POINT_X, &p.x.to_le_bytes());
        put(r, field::POINT_Y, &p.y.to_le_bytes());
        put(r, field::POINT_Z, &p.z.to_le_bytes());
        put(r, field::POINT_VELOCITY, &p.velocity.to_le_bytes());
        Ok(())
    }
}

/// One SDK 1.x/2.x detected object (`MmwDemo_detectedObj`), raw Q-format values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QFormatObject {
    /// Range bin index.
    pub range_idx: u16,
    /// Doppler bin index (signed; SDK 1.x declares u16 with the same bits).
    pub doppler_idx: i16,
    /// Peak value of the detection.
    pub peak_val: u16,
    /// x in metres * 2^xyzQFormat.
    pub x: i16,
    /// y in metres * 2^xyzQFormat.
    pub y: i16,
    /// z in metres * 2^xyzQFormat.
    pub z: i16,
}

/// Converts a Q-format coordinate to metres.
pub fn q_to_metres(value: i16, q_format: u16) -> f32 {
    f32::from(value) / q_scale(q_format)
}

/// Converts metres to a Q-format coordinate, rounding half away from zero and saturating to
/// i16 (`core` has no `f32::round`, so this adds 0.5 and truncates).
pub fn metres_to_q(metres: f32, q_format: u16) -> i16 {
    let scaled = metres * q_scale(q_format);
    let rounded = if scaled >= 0.0 {
        scaled + 0.5
    } else {
        scaled - 0.5
    };
    // `as` truncates toward zero and saturates (NaN becomes 0).
    rounded as i16
}

/// 2^q_format as an f32, built from its exponent bits (infinite above 2^127).
fn q_scale(q_format: u16) -> f32 {
    if q_format > 127 {
        return f32::INFINITY;
    }
    f32::from_bits((u32::from(q_format) + 127) << 23)
}

/// View over an SDK 1.x/2.x TLV 1 payload: descriptor then Q-format objects.
#[derive(Debug, Clone, Copy)]
pub struct QFormatObjects<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> QFormatObjects<T> {
    /// Wraps `buffer` without checking it: for emitting, and for bytes whose lengths are
    /// already checked (see the crate's [view contract](crate#views)).
    pub fn new_unchecked(buffer: T) -> QFormatObjects<T> {
        QFormatObjects { buffer }
    }

    /// Wraps a payload after checking it holds the descriptor and `numDetetedObj` objects
    /// (trailing bytes beyond them are ignored).
    pub fn new_checked(buffer: T) -> Result<QFormatObjects<T>> {
        let view = QFormatObjects { buffer };
        let len = view.buffer.as_ref().len();
        if len < DESCR_LEN {
            return Err(Error::Malformed("TLV 1 shorter than its descriptor"));
        }
        let needed = usize::from(view.num_detected_obj())
            .saturating_mul(OBJECT_LEN)
            .saturating_add(DESCR_LEN);
        if len < needed {
            return Err(Error::Malformed("TLV 1 shorter than numDetetedObj objects"));
        }
        Ok(view)
    }

    /// Descriptor `numDetetedObj`.
    pub fn num_detected_obj(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::DESCR_NUM_OBJ)
    }

    /// Descriptor `xyzQFormat`.
    pub fn xyz_q_format(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::DESCR_Q_FORMAT)
    }

    /// Object `index`, or `None` past `numDetetedObj` or the buffer.
    pub fn object(&self, index: usize) -> Option<QFormatObject> {
        if index >= usize::from(self.num_detected_obj()) {
            return None;
        }
        let objects = self.buffer.as_ref().get(DESCR_LEN..)?;
        let r = record(objects, index, OBJECT_LEN)?;
        Some(QFormatObject {
            range_idx: u16_at(r, field::OBJ_RANGE_IDX),
            doppler_idx: i16_at(r, field::OBJ_DOPPLER_IDX),
            peak_val: u16_at(r, field::OBJ_PEAK_VAL),
            x: i16_at(r, field::OBJ_X),
            y: i16_at(r, field::OBJ_Y),
            z: i16_at(r, field::OBJ_Z),
        })
    }

    /// All objects in order.
    pub fn iter(&self) -> impl Iterator<Item = QFormatObject> + '_ {
        (0..usize::from(self.num_detected_obj())).filter_map(|i| self.object(i))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> QFormatObjects<T> {
    /// Writes the descriptor.
    pub fn set_descriptor(&mut self, num_detected_obj: u16, xyz_q_format: u16) {
        let b = self.buffer.as_mut();
        put(b, field::DESCR_NUM_OBJ, &num_detected_obj.to_le_bytes());
        put(b, field::DESCR_Q_FORMAT, &xyz_q_format.to_le_bytes());
    }

    /// Writes object `index`; `BufferTooSmall` past the end.
    pub fn set_object(&mut self, index: usize, o: &QFormatObject) -> Result<()> {
        let objects = self
            .buffer
            .as_mut()
            .get_mut(DESCR_LEN..)
            .ok_or(Error::BufferTooSmall)?;
        let r = record_mut(objects, index, OBJECT_LEN).ok_or(Error::BufferTooSmall)?;
        put(r, field::OBJ_RANGE_IDX, &o.range_idx.to_le_bytes());
        put(r, field::OBJ_DOPPLER_IDX, &o.doppler_idx.to_le_bytes());
        put(r, field::OBJ_PEAK_VAL, &o.peak_val.to_le_bytes());
        put(r, field::OBJ_X, &o.x.to_le_bytes());
        put(r, field::OBJ_Y, &o.y.to_le_bytes());
        put(r, field::OBJ_Z, &o.z.to_le_bytes());
        Ok(())
    }
}

/// One TLV 7 entry (`DPIF_PointCloudSideInfo`), 0.1 dB units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SideInfo {
    /// Signal-to-noise ratio.
    pub snr: i16,
    /// Noise level.
    pub noise: i16,
}

/// View over a TLV 7 payload: 4 bytes per point.
#[derive(Debug, Clone, Copy)]
pub struct SideInfoList<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> SideInfoList<T> {
    /// Wraps a payload whose length must be a whole number of entries.
    pub fn new_checked(buffer: T) -> Result<SideInfoList<T>> {
        if buffer.as_ref().len() % SIDE_INFO_LEN != 0 {
            return Err(Error::Malformed("TLV 7 length not a multiple of 4"));
        }
        Ok(SideInfoList { buffer })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.buffer.as_ref().len() / SIDE_INFO_LEN
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `index`, or `None` past the end.
    pub fn entry(&self, index: usize) -> Option<SideInfo> {
        let r = record(self.buffer.as_ref(), index, SIDE_INFO_LEN)?;
        Some(SideInfo {
            snr: i16_at(r, field::SIDE_SNR),
            noise: i16_at(r, field::SIDE_NOISE),
        })
    }

    /// All entries in order.
    pub fn iter(&self) -> impl Iterator<Item = SideInfo> + '_ {
        (0..self.len()).filter_map(|i| self.entry(i))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SideInfoList<T> {
    /// Writes entry `index`; `BufferTooSmall` past the end.
    pub fn set_entry(&mut self, index: usize, e: &SideInfo) -> Result<()> {
        let r =
            record_mut(self.buffer.as_mut(), index, SIDE_INFO_LEN).ok_or(Error::BufferTooSmall)?;
        put(r, field::SIDE_SNR, &e.snr.to_le_bytes());
        put(r, field::SIDE_NOISE, &e.noise.to_le_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TLV 1 payload of the first real frame (spec 1.5): four points.
    static POINTS: [u8; 64] = [
        0x7f, 0x5d, 0x1c, 0x3c, 0xf2, 0x49, 0x9c, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, //
        0x3f, 0x32, 0x91, 0x3c, 0x17, 0x20, 0x11, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0, //
        0, 0, 0, 0, 0xbf, 0x35, 0x54, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0, //
        0, 0, 0, 0, 0x9f, 0x9c, 0x8b, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    /// TLV 7 payload of the first real frame.
    static SIDE: [u8; 16] = [
        0xf7, 0x00, 0x82, 0x03, 0x2f, 0x01, 0xd1, 0x02, 0x19, 0x01, 0x4d, 0x02, 0xd4, 0x00, 0xf8,
        0x01,
    ];
    /// SDK 2.x TLV 1 built by hand from the spec: 2 objects, Q9.
    static Q_OBJECTS: [u8; 28] = [
        0x02, 0x00, 0x09, 0x00, // numObj 2, Q9
        0x0a, 0x00, 0x01, 0x00, 0x64, 0x00, 0x00, 0x02, 0x00, 0xff, 0x00,
        0x00, // r10 d1 p100 x1.0 y-0.5 z0
        0x14, 0x00, 0xfe, 0xff, 0xc8, 0x00, 0x00, 0xff, 0x00, 0x04, 0x80,
        0x00, // r20 d-2 p200 x-0.5 y2 z0.25
    ];

    #[test]
    fn deconstruct_real_points_and_side_info() {
        let cloud = PointCloud::new_checked(&POINTS[..]).unwrap();
        assert_eq!(cloud.len(), 4);
        let p0 = cloud.point(0).unwrap();
        assert!((p0.x - 0.0095).abs() < 1e-4 && (p0.y - 0.3053).abs() < 1e-4);
        assert!((cloud.point(3).unwrap().y - 1.0907).abs() < 1e-4);
        assert!(cloud.point(4).is_none());
        let side = SideInfoList::new_checked(&SIDE[..]).unwrap();
        let pairs: [(i16, i16); 4] = core::array::from_fn(|i| {
            let e = side.entry(i).unwrap();
            (e.snr, e.noise)
        });
        assert_eq!(pairs, [(247, 898), (303, 721), (281, 589), (212, 504)]);
    }

    #[test]
    fn construct_reproduces_real_points_and_side_info() {
        let cloud = PointCloud::new_checked(&POINTS[..]).unwrap();
        let mut out = [0u8; 64];
        let mut view = PointCloud::new_checked(&mut out[..]).unwrap();
        for (i, p) in cloud.iter().enumerate() {
            view.set_point(i, &p).unwrap();
        }
        assert_eq!(out, POINTS);
        let side = SideInfoList::new_checked(&SIDE[..]).unwrap();
        let mut out = [0u8; 16];
        let mut view = SideInfoList::new_checked(&mut out[..]).unwrap();
        for (i, e) in side.iter().enumerate() {
            view.set_entry(i, &e).unwrap();
        }
        assert_eq!(out, SIDE);
    }

    #[test]
    fn q_format_objects_decode_to_metres() {
        let objs = QFormatObjects::new_checked(&Q_OBJECTS[..]).unwrap();
        assert_eq!(objs.num_detected_obj(), 2);
        assert_eq!(objs.xyz_q_format(), 9);
        let o1 = objs.object(1).unwrap();
        assert_eq!((o1.range_idx, o1.doppler_idx, o1.peak_val), (20, -2, 200));
        assert_eq!(q_to_metres(o1.x, 9), -0.5);
        assert_eq!(q_to_metres(o1.y, 9), 2.0);
        assert_eq!(q_to_metres(o1.z, 9), 0.25);
        assert_eq!(q_to_metres(objs.object(0).unwrap().x, 9), 1.0);
    }

    #[test]
    fn q_format_objects_emit_matches_hand_built_bytes() {
        let objs = QFormatObjects::new_checked(&Q_OBJECTS[..]).unwrap();
        let mut out = [0u8; 28];
        let mut view = QFormatObjects {
            buffer: &mut out[..],
        };
        view.set_descriptor(2, 9);
        for (i, o) in objs.iter().enumerate() {
            view.set_object(i, &o).unwrap();
        }
        assert_eq!(out, Q_OBJECTS);
        assert_eq!(metres_to_q(-0.5, 9), -256);
        assert_eq!(metres_to_q(0.0031, 9), 2); // 1.587 rounds up
        assert_eq!(metres_to_q(-0.0031, 9), -2);
        assert_eq!(metres_to_q(1e9, 9), i16::MAX);
        assert_eq!(q_to_metres(1, 200), 0.0);
    }

    #[test]
    fn bad_payload_lengths_are_malformed() {
        assert!(PointCloud::new_checked(&POINTS[..15]).is_err());
        assert!(SideInfoList::new_checked(&SIDE[..3]).is_err());
        assert!(QFormatObjects::new_checked(&Q_OBJECTS[..27]).is_err());
        assert!(QFormatObjects::new_checked(&Q_OBJECTS[..3]).is_err());
    }
}
