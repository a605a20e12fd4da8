//! TI mmWave OOB data-port frames: a radar record stamped with its frame number.
//!
//! JSON (DESIGN.md): `{"frame", "points": [{"x","y","z","v","snr","noise"}]}` in metres and
//! m/s, snr/noise in raw TLV 7 units (`null` when the frame had no TLV 7; `v` is `null` for
//! SDK 1.x/2.x frames, whose velocity needs the radar configuration), followed by the extra
//! fields `"subframe"` (`null` for 36-byte headers) and `"tlvs"` (TLV types present).
//! Coordinates are written in their shortest decimal form (0.0095, not 0.009499999694526196),
//! non-finite ones as `null`.
//!
//! Record: the frame's points (one record holds the whole frame).
use std::sync::Arc;

use dagr_protocols::ti_mmwave::{Frame, Point};
use serde::ser::{Serialize, Serializer};

use super::json;
use super::{Decoded, Unit};
use crate::record::{DeviceTime, Modality, Payload, PointCloud, RadarPoint};

/// The JSON object of one frame.
#[derive(serde::Serialize)]
struct FrameJson<'a> {
    frame: u32,
    points: Points<'a>,
    subframe: Option<u32>,
    tlvs: Vec<u32>,
}

struct Points<'a>(&'a [Point]);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|p| PointJson {
            x: p.x,
            y: p.y,
            z: p.z,
            v: p.v,
            snr: p.snr,
            noise: p.noise,
        }))
    }
}

/// One detected point; serde writes an f32 in its shortest form and a non-finite one as
/// `null`.
#[derive(serde::Serialize)]
pub(super) struct PointJson {
    pub(super) x: f32,
    pub(super) y: f32,
    pub(super) z: f32,
    pub(super) v: f32,
    pub(super) snr: Option<i16>,
    pub(super) noise: Option<i16>,
}

impl Unit for Frame {
    fn into_decoded(self, source: &Arc<str>, arrival_ns: u64, sink: &mut dyn FnMut(Decoded)) {
        let device_time = DeviceTime::TiFrame {
            frame_number: self.frame_number,
            cpu_cycles: self.time_cpu_cycles,
        };
        let points = self.points.iter().map(|p| RadarPoint {
            x: p.x,
            y: p.y,
            z: p.z,
            v: p.v,
            snr: p.snr,
        });
        let payload = Payload::Radar(PointCloud {
            points: points.collect(),
            part_of_frame: None,
        });
        sink(Decoded::record(
            source,
            Modality::Mmwave,
            device_time,
            arrival_ns,
            payload,
        ));
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
        json::write(
            out,
            &FrameJson {
                frame: self.frame_number,
                points: Points(&self.points),
                subframe: self.subframe,
                tlvs: self.tlv_types().collect(),
            },
        )
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_design_fields_and_null_side_info() {
        let mut frame = Frame::new(
            7,
            vec![Point {
                x: 0.0095,
                y: 1.5,
                ..Point::default()
            }],
        );
        frame.points[0].v = f32::NAN;
        let v = frame.to_json();
        assert_eq!(v["frame"], 7);
        assert_eq!(v["points"][0]["x"], 0.0095);
        assert_eq!(v["points"][0]["y"], 1.5);
        assert!(v["points"][0]["v"].is_null());
        assert!(v["points"][0]["snr"].is_null() && v["points"][0]["noise"].is_null());
        assert_eq!(v["subframe"], 0);
        assert_eq!(frame.summary(), "frame 7: 1 points, TLVs 1");
    }

    #[test]
    fn coordinates_print_in_their_shortest_decimal_form() {
        let frame = Frame::new(
            1,
            vec![Point {
                x: 0.0095,
                y: 2.0,
                z: 1e-7,
                ..Point::default()
            }],
        );
        let mut out = Vec::new();
        frame.write_json(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r#""x":0.0095,"y":2.0,"z":1e-7"#), "{text}");
    }
}
