//! The radar payload every radar format decodes into: a frame's detected points.

/// One radar frame's points (or one part of a frame a device sends in several records).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointCloud {
    /// The detected points, in the device's order.
    pub points: Vec<RadarPoint>,
    /// For a frame sent in several records (a node splits a frame of more than 50 points),
    /// the frame number its parts share, so a preprocessor can put them back together;
    /// `None` when one record holds the whole frame.
    pub part_of_frame: Option<u32>,
}

/// One detected point, in the units the radar preprocessor scales.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RadarPoint {
    /// Metres.
    pub x: f32,
    /// Metres.
    pub y: f32,
    /// Metres.
    pub z: f32,
    /// Radial velocity, m/s (`NaN` when the device did not report it).
    pub v: f32,
    /// SNR in TI TLV 7 units (0.1 dB), when reported.
    pub snr: Option<i16>,
}
