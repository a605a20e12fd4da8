//! Reading NumPy `.npz` archives (`np.savez`: a zip of uncompressed `.npy` files), the
//! format the training pipeline writes its parity vectors in. The head's and the
//! inference crate's tests compare Rust against those vectors; this is their one reader.
//!
//! Test support only: anything unreadable panics with the file and entry named, which is
//! what a failing test should say.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// One array: its shape and its values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    /// The `.npy` shape (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<T>,
}

impl<T: Copy> Array<T> {
    /// The length of the first axis.
    pub fn rows(&self) -> usize {
        self.shape[0]
    }

    /// Row `i` along the first axis, flattened.
    pub fn row(&self, i: usize) -> &[T] {
        let len: usize = self.shape[1..].iter().product();
        &self.values[i * len..(i + 1) * len]
    }

    /// The only value of a 0-d (or one-element) array.
    pub fn scalar(&self) -> T {
        assert_eq!(self.values.len(), 1, "not a scalar: shape {:?}", self.shape);
        self.values[0]
    }
}

impl Array<f64> {
    /// The values rounded to f32.
    pub fn f32s(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }
}

/// Every array of an `.npz` file by name, widened to f64 so float32, float64, int64 and
/// bool arrays read alike. Panics naming the file and entry on anything unreadable or of
/// another type.
pub fn read(path: &Path) -> BTreeMap<String, Array<f64>> {
    entries(path, |npy, what| {
        Some(match npy.dtype().descr().trim_matches('\'') {
            "<f4" => widen(values::<f32>(npy, what), f64::from),
            "<f8" => values::<f64>(npy, what),
            "<i8" => widen(values::<i64>(npy, what), |v| v as f64),
            "|b1" => widen(values::<bool>(npy, what), |v| f64::from(u8::from(v))),
            other => panic!("{what}: unexpected dtype {other}"),
        })
    })
}

/// Every float32 array of an `.npz` file by name, exactly as stored; arrays of other
/// types (labels, settings) are left out. Panics naming the file and entry on anything
/// unreadable.
pub fn read_f32(path: &Path) -> BTreeMap<String, Array<f32>> {
    entries(path, |npy, what| {
        let is_f32 = matches!(npy.dtype(), npyz::DType::Plain(t) if t.to_string() == "<f4");
        is_f32.then(|| values::<f32>(npy, what))
    })
}

/// The archive's entries through `convert` (None: leave the entry out), by name without
/// the `.npy` suffix.
fn entries<T>(
    path: &Path,
    mut convert: impl FnMut(npyz::NpyFile<zip::read::ZipFile<'_, File>>, &str) -> Option<Vec<T>>,
) -> BTreeMap<String, Array<T>> {
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
        let what = format!("{}: {name}", path.display());
        let npy = npyz::NpyFile::new(entry).unwrap_or_else(|e| panic!("{what}: {e}"));
        let shape = npy.shape().iter().map(|&d| d as usize).collect();
        if let Some(values) = convert(npy, &what) {
            arrays.insert(name, Array { shape, values });
        }
    }
    arrays
}

/// The values of an array of element type `T`; panics naming `what` if unreadable.
fn values<T: npyz::Deserialize>(npy: npyz::NpyFile<impl Read>, what: &str) -> Vec<T> {
    npy.into_vec::<T>()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `values` mapped to f64.
fn widen<T>(values: Vec<T>, f: impl Fn(T) -> f64) -> Vec<f64> {
    values.into_iter().map(f).collect()
}
