//! Reading NumPy `.npz` archives (`np.savez`: a zip of uncompressed `.npy` files) through
//! the zip and npyz crates, every numeric array widened to f64 so float32 and float64
//! files read alike.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

/// One array: its shape, its values widened to f64, and whether it was stored as float32.
#[derive(Debug, Clone)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl Array {
    /// The values rounded to f32.
    pub fn f32s(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }

    /// The only value of a 0-d array.
    pub fn scalar(&self) -> f64 {
        assert_eq!(self.values.len(), 1, "not a scalar: shape {:?}", self.shape);
        self.values[0]
    }
}

/// Every array of an `.npz` file by name (f4, f8, i8 and bool arrays). Panics naming the
/// file and the entry on anything unreadable or of another type.
pub fn read(path: &Path) -> BTreeMap<String, Array> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = File::open(path).unwrap_or_else(|e| panic!("{}", at(&e)));
    let mut archive = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{}", at(&e)));
    let mut arrays = BTreeMap::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).unwrap_or_else(|e| panic!("{}", at(&e)));
        let name = entry
            .name()
            .unwrap_or_else(|e| panic!("{}", at(&e)))
            .trim_end_matches(".npy")
            .to_string();
        let npy = npyz::NpyFile::new(entry).unwrap_or_else(|e| panic!("{}: {name}", at(&e)));
        let shape = npy.shape().iter().map(|&d| d as usize).collect();
        let dtype = npy.dtype().descr();
        let what = format!("{}: {name}", path.display());
        let values = match dtype.trim_matches('\'') {
            "<f4" => widen(read_vec::<f32>(npy, &what), f64::from),
            "<f8" => read_vec::<f64>(npy, &what),
            "<i8" => widen(read_vec::<i64>(npy, &what), |v| v as f64),
            "|b1" => widen(read_vec::<bool>(npy, &what), |v| f64::from(u8::from(v))),
            other => panic!("{what}: unexpected dtype {other}"),
        };
        arrays.insert(name, Array { shape, values });
    }
    arrays
}

/// The values of an array of element type `T`; panics naming `what` if unreadable.
fn read_vec<T: npyz::Deserialize>(npy: npyz::NpyFile<impl std::io::Read>, what: &str) -> Vec<T> {
    npy.into_vec::<T>()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `values` mapped to f64.
fn widen<T>(values: Vec<T>, f: impl Fn(T) -> f64) -> Vec<f64> {
    values.into_iter().map(f).collect()
}
