//! The samples of one capture, gathered window by window and written as one safetensors
//! file: `wifi`, `rfid`, `mmwave`, `present` (float32), `label`, `room`, `subject` (int64)
//! and `start_s` (float64, window start in capture gateway seconds), batch axis first.
use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};

use crate::preprocess::{Shapes, Tensors};

/// Samples of one capture, column by column.
#[derive(Debug, Clone, Default)]
pub struct Shard {
    wifi: Vec<f32>,
    rfid: Vec<f32>,
    mmwave: Vec<f32>,
    present: Vec<f32>,
    label: Vec<i64>,
    start_s: Vec<f64>,
}

/// A sample's identity beside its tensors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleTags {
    /// Class index.
    pub label: i64,
    /// Window start, s of capture gateway time.
    pub start_s: f64,
}

impl Shard {
    /// Adds one sample.
    pub fn push(&mut self, tensors: &Tensors, tags: SampleTags) {
        self.wifi.extend_from_slice(&tensors.wifi);
        self.rfid.extend_from_slice(&tensors.rfid);
        self.mmwave.extend_from_slice(&tensors.mmwave);
        self.present.extend_from_slice(&tensors.present);
        self.label.push(tags.label);
        self.start_s.push(tags.start_s);
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.label.len()
    }

    /// True when no sample was added.
    pub fn is_empty(&self) -> bool {
        self.label.is_empty()
    }

    /// Writes the shard to `path` with per-sample `shapes`, every sample's `(room,
    /// subject)` (one capture: one room, one person) and string `metadata`.
    pub fn write(
        &self,
        path: &Path,
        shapes: &Shapes,
        (room, subject): (i64, i64),
        metadata: HashMap<String, String>,
    ) -> Result<(), String> {
        let n = self.len();
        let (room, subject) = (vec![room; n], vec![subject; n]);
        let with_batch = |shape: &[usize]| -> Vec<usize> {
            std::iter::once(n).chain(shape.iter().copied()).collect()
        };
        let columns: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)> = vec![
            (
                "wifi",
                Dtype::F32,
                with_batch(&shapes.wifi),
                le_bytes(&self.wifi),
            ),
            (
                "rfid",
                Dtype::F32,
                with_batch(&shapes.rfid),
                le_bytes(&self.rfid),
            ),
            (
                "mmwave",
                Dtype::F32,
                with_batch(&shapes.mmwave),
                le_bytes(&self.mmwave),
            ),
            (
                "present",
                Dtype::F32,
                with_batch(&shapes.present),
                le_bytes(&self.present),
            ),
            ("label", Dtype::I64, vec![n], le_bytes(&self.label)),
            ("room", Dtype::I64, vec![n], le_bytes(&room)),
            ("subject", Dtype::I64, vec![n], le_bytes(&subject)),
            ("start_s", Dtype::F64, vec![n], le_bytes(&self.start_s)),
        ];
        let mut views = Vec::with_capacity(columns.len());
        for (name, dtype, shape, bytes) in &columns {
            let view = TensorView::new(*dtype, shape.clone(), bytes)
                .map_err(|e| format!("tensor {name}: {e}"))?;
            views.push((*name, view));
        }
        safetensors::serialize_to_file(views, Some(metadata), path).map_err(|e| e.to_string())
    }
}

/// Little-endian bytes of numbers (safetensors' byte order).
fn le_bytes<T: LeBytes>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(values));
    for v in values {
        v.extend_le(&mut out);
    }
    out
}

/// A number safetensors stores.
trait LeBytes {
    fn extend_le(&self, out: &mut Vec<u8>);
}

impl LeBytes for f32 {
    fn extend_le(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl LeBytes for f64 {
    fn extend_le(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl LeBytes for i64 {
    fn extend_le(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}
