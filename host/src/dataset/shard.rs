//! The samples of one capture, gathered window by window and written as one safetensors
//! file: `wifi`, `rfid`, `mmwave`, `present` (float32), `label`, `room`, `subject` (int64)
//! and `start_s` (float64, window start in capture gateway seconds), batch axis first.
use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::Dtype;

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
        let bytes = encode(&columns, &metadata)?;
        std::fs::write(path, bytes).map_err(|e| e.to_string())
    }
}

/// A safetensors file of `columns` (name, dtype, shape, little-endian bytes) and string
/// `metadata`, byte-reproducible: the header lists the metadata keys in sorted order and the
/// tensors by element size (largest first, which keeps every tensor aligned), then by name;
/// the header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
fn encode(
    columns: &[(&str, Dtype, Vec<usize>, Vec<u8>)],
    metadata: &HashMap<String, String>,
) -> Result<Vec<u8>, String> {
    let mut order: Vec<&(&str, Dtype, Vec<usize>, Vec<u8>)> = columns.iter().collect();
    order.sort_by(|a, b| b.1.bitsize().cmp(&a.1.bitsize()).then(a.0.cmp(b.0)));
    let sorted: std::collections::BTreeMap<&String, &String> = metadata.iter().collect();
    let mut header = String::from("{");
    header += &format!(
        "\"__metadata__\":{}",
        serde_json::to_string(&sorted).map_err(|e| e.to_string())?
    );
    let mut offset = 0;
    for (name, dtype, shape, bytes) in &order {
        let expected = shape.iter().product::<usize>() * dtype.bitsize() / 8;
        if bytes.len() != expected {
            return Err(format!(
                "tensor {name}: {} bytes for shape {shape:?}",
                bytes.len()
            ));
        }
        header += &format!(
            ",{}:{{\"dtype\":\"{dtype:?}\",\"shape\":{},\"data_offsets\":[{offset},{}]}}",
            serde_json::to_string(name).map_err(|e| e.to_string())?,
            serde_json::to_string(shape).map_err(|e| e.to_string())?,
            offset + bytes.len()
        );
        offset += bytes.len();
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for (.., bytes) in &order {
        out.extend_from_slice(bytes);
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
        vec![
            (
                "wifi",
                Dtype::F32,
                vec![2, 3],
                le_bytes(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]),
            ),
            ("label", Dtype::I64, vec![2], le_bytes(&[3i64, 7])),
            ("start_s", Dtype::F64, vec![2], le_bytes(&[0.5f64, 1.0])),
        ]
    }

    fn metadata() -> HashMap<String, String> {
        (0..12)
            .map(|i| (format!("key{i}"), format!("value {i}")))
            .collect()
    }

    #[test]
    fn the_same_samples_and_metadata_give_the_same_bytes() {
        let a = encode(&columns(), &metadata()).unwrap();
        // A fresh HashMap iterates in another order; the bytes must not change.
        let b = encode(&columns(), &metadata()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn the_reference_reader_reads_what_we_write() {
        let bytes = encode(&columns(), &metadata()).unwrap();
        let (n, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(n % 8, 0);
        assert_eq!(meta.metadata().as_ref().unwrap()["key3"], "value 3");
        let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let wifi = tensors.tensor("wifi").unwrap();
        assert_eq!(wifi.shape(), [2, 3]);
        assert_eq!(
            wifi.data(),
            le_bytes(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).as_slice()
        );
        assert_eq!(
            tensors.tensor("label").unwrap().data(),
            le_bytes(&[3i64, 7]).as_slice()
        );
    }

    #[test]
    fn a_column_of_the_wrong_length_is_an_error() {
        let mut bad = columns();
        bad[0].3.pop();
        let err = encode(&bad, &metadata()).unwrap_err();
        assert!(err.contains("wifi"), "{err}");
    }
}
