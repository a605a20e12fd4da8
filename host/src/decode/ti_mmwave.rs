//! How `dagr decode --format ti-mmwave` shows records: TI mmWave OOB data-port frames.
//!
//! JSON (DESIGN.md): `{"frame", "points": [{"x","y","z","v","snr","noise"}]}` in metres and
//! m/s, snr/noise in raw TLV 7 units (`null` when the frame had no TLV 7; `v` is `null` for
//! SDK 1.x/2.x frames, whose velocity needs the radar configuration), followed by the extra
//! fields `"subframe"` (`null` for 36-byte headers) and `"tlvs"` (TLV types present).
use std::io::{Read, Write};

use dagr_protocols::ti_mmwave::{Frame, FrameDecoder, Point};
use serde_json::{json, Value};

use super::{DecodeReport, ShowRecord};

/// Decodes `input` and prints its records.
pub fn decode(
    input: &mut dyn Read,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<DecodeReport> {
    super::run(FrameDecoder::new(), input, json, out)
}

impl ShowRecord for Frame {
    fn to_json(&self) -> Value {
        json!({
            "frame": self.frame_number,
            "points": self.points.iter().map(point_json).collect::<Vec<_>>(),
            "subframe": self.subframe,
            "tlvs": self.tlv_types().collect::<Vec<_>>(),
        })
    }

    fn summary(&self) -> String {
        self.to_string()
    }
}

fn point_json(p: &Point) -> Value {
    json!({
        "x": number(p.x),
        "y": number(p.y),
        "z": number(p.z),
        "v": number(p.v),
        "snr": p.snr,
        "noise": p.noise,
    })
}

/// An f32 as the JSON number with its shortest decimal form (0.0095 rather than
/// 0.009499999694526196), or `null` when not finite.
fn number(value: f32) -> Value {
    if !value.is_finite() {
        return Value::Null;
    }
    value
        .to_string()
        .parse::<f64>()
        .map_or(Value::Null, Value::from)
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
}
