//! Reading the parity files: NumPy `.npz` archives (`np.savez`: a zip of `.npy` files,
//! stored uncompressed) through the zip and npyz crates.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

/// One array: its shape and its values as f32 (float32 arrays only).
#[derive(Debug, Clone)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

impl Array {
    /// Row `i` along the first axis, flattened.
    pub fn row(&self, i: usize) -> &[f32] {
        let len: usize = self.shape[1..].iter().product();
        &self.values[i * len..(i + 1) * len]
    }

    /// The number of rows (length of the first axis).
    pub fn rows(&self) -> usize {
        self.shape[0]
    }
}

/// Every float32 array of an `.npz` file by name; arrays of other types (labels, DAGR
/// settings) are skipped. Panics with the file's name on anything unreadable.
pub fn read_f32_arrays(path: &Path) -> BTreeMap<String, Array> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive =
        zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut arrays = BTreeMap::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = entry
            .name()
            .unwrap_or_else(|e| panic!("{}: entry {i}: {e}", path.display()))
            .trim_end_matches(".npy")
            .to_string();
        let npy =
            npyz::NpyFile::new(entry).unwrap_or_else(|e| panic!("{}: {name}: {e}", path.display()));
        let is_f32 = matches!(npy.dtype(), npyz::DType::Plain(t) if t.to_string() == "<f4");
        if !is_f32 {
            continue;
        }
        let shape = npy.shape().iter().map(|&d| d as usize).collect();
        let values = npy
            .into_vec::<f32>()
            .unwrap_or_else(|e| panic!("{}: {name}: {e}", path.display()));
        arrays.insert(name, Array { shape, values });
    }
    arrays
}
