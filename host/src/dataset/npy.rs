//! A reader for NumPy `.npy` files (format versions 1 to 3) holding little-endian float32
//! or float64 arrays in C order: what XRF55 ships its samples as. Anything else (big-endian,
//! integers, Fortran order, object arrays) is refused with the reason. The header's shape
//! must match the bytes that follow it, so a corrupt header never allocates beyond the file.
use std::path::{Path, PathBuf};

/// The file's magic bytes.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Largest header accepted, bytes (NumPy writes well under 1 KiB).
const HEADER_LIMIT: usize = 64 * 1024;

/// An array read from a `.npy` file, as float32 in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// Why a `.npy` file could not be read: the file, and what was wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {fault}", path.display())]
pub struct NpyError {
    /// The file.
    pub path: PathBuf,
    /// What was wrong.
    #[source]
    pub fault: NpyFault,
}

/// What was wrong with a `.npy` file: each says what was expected instead.
#[derive(Debug, thiserror::Error)]
pub enum NpyFault {
    /// The file system refused.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file does not start with the `.npy` magic bytes.
    #[error("not a .npy file (magic \\x93NUMPY expected)")]
    NotNpy,
    /// A format version this reader does not know.
    #[error("format version {0}: expected 1, 2 or 3")]
    Version(u8),
    /// The header's length field points past the file (or past [`HEADER_LIMIT`]).
    #[error("header of {0} bytes runs past the file")]
    HeaderPastEnd(usize),
    /// The header is not UTF-8 text.
    #[error("header is not text")]
    HeaderNotText(#[source] std::str::Utf8Error),
    /// The header dictionary lacks a key every `.npy` header has.
    #[error("header has no '{0}'")]
    MissingKey(&'static str),
    /// An element type other than little-endian float32 or float64.
    #[error("dtype {0:?}: expected '<f4' or '<f8'")]
    Dtype(String),
    /// Values stored column-major.
    #[error("Fortran-order array: expected C order")]
    FortranOrder,
    /// The shape is not written as a tuple: the bracket named is missing.
    #[error("shape: no '{0}'")]
    ShapeBracket(char),
    /// A dimension of the shape is not a count.
    #[error("shape dimension {text:?} is not a count")]
    ShapeDimension {
        /// The dimension as written.
        text: String,
        /// Why it does not parse.
        #[source]
        cause: std::num::ParseIntError,
    },
    /// The shape's element count does not fit in memory's address space.
    #[error("shape overflows")]
    ShapeOverflows,
    /// The data after the header is not the size the shape and dtype need.
    #[error("shape {shape:?} of {dtype} needs {needed} data bytes, the file has {found}")]
    DataLength {
        /// The header's shape.
        shape: Vec<usize>,
        /// The header's dtype.
        dtype: &'static str,
        /// Bytes the shape needs.
        needed: usize,
        /// Bytes the file has after its header.
        found: usize,
    },
}

/// Reads `path` (see the [module doc](self)).
pub fn read(path: &Path) -> Result<NpyArray, NpyError> {
    let error = |fault| NpyError {
        path: path.to_path_buf(),
        fault,
    };
    let bytes = std::fs::read(path).map_err(|e| error(NpyFault::Io(e)))?;
    parse(&bytes).map_err(error)
}

/// Parses a whole `.npy` file image.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, NpyFault> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(NpyFault::NotNpy);
    }
    let (header_len, header_at) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (usize::try_from(len).unwrap_or(usize::MAX), 12)
        }
        v => return Err(NpyFault::Version(v)),
    };
    if header_len > HEADER_LIMIT || header_at + header_len > bytes.len() {
        return Err(NpyFault::HeaderPastEnd(header_len));
    }
    let header = std::str::from_utf8(&bytes[header_at..header_at + header_len])
        .map_err(NpyFault::HeaderNotText)?;
    let descr = quoted_value(header, "descr").ok_or(NpyFault::MissingKey("descr"))?;
    let (dtype, width) = match descr {
        "<f4" => ("<f4", 4),
        "<f8" => ("<f8", 8),
        other => return Err(NpyFault::Dtype(other.to_string())),
    };
    if header.contains("'fortran_order': True") {
        return Err(NpyFault::FortranOrder);
    }
    let shape = shape_of(header)?;
    let data = &bytes[header_at + header_len..];
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or(NpyFault::ShapeOverflows)?;
    if count.checked_mul(width) != Some(data.len()) {
        return Err(NpyFault::DataLength {
            needed: count.saturating_mul(width),
            found: data.len(),
            shape,
            dtype,
        });
    }
    let data = if width == 4 {
        data.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect()
    };
    Ok(NpyArray { shape, data })
}

/// The quoted string value of `key` in the header dictionary.
fn quoted_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let rest = &header[header.find(&format!("'{key}'"))? + key.len() + 2..];
    let rest = &rest[rest.find('\'')? + 1..];
    Some(&rest[..rest.find('\'')?])
}

/// The `'shape': (a, b, ...)` tuple of the header dictionary.
fn shape_of(header: &str) -> Result<Vec<usize>, NpyFault> {
    let at = header
        .find("'shape'")
        .ok_or(NpyFault::MissingKey("shape"))?;
    let rest = &header[at..];
    let (open, close) = (
        rest.find('(').ok_or(NpyFault::ShapeBracket('('))?,
        rest.find(')').ok_or(NpyFault::ShapeBracket(')'))?,
    );
    rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse().map_err(|cause| NpyFault::ShapeDimension {
                text: d.to_string(),
                cause,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        npy_in_order(descr, "False", shape, data)
    }

    fn npy_in_order(descr: &str, fortran: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend([1, 0]);
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn float64_and_float32_arrays_read_as_float32_in_c_order() {
        let f64s: Vec<u8> = [1.5f64, -2.0, 3.25, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse(&npy("<f8", "(2, 3)", &f64s)).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data, [1.5, -2.0, 3.25, 4.0, 5.0, 6.0]);
        let f32s: Vec<u8> = [7.0f32].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse(&npy("<f4", "(1,)", &f32s)).unwrap().shape, [1]);
    }

    #[test]
    fn a_shape_that_does_not_match_the_bytes_is_refused_without_allocating() {
        let err = parse(&npy("<f4", "(100000000, 100000000)", &[0; 8])).unwrap_err();
        assert!(
            matches!(err, NpyFault::DataLength { found: 8, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("data bytes"), "{err}");
    }

    #[test]
    fn other_dtypes_and_fortran_order_are_refused() {
        let err = parse(&npy("<i8", "(1,)", &[0; 8])).unwrap_err();
        assert!(err.to_string().contains("'<f4'"), "{err}");
        assert!(parse(&npy(">f4", "(1,)", &[0; 4])).is_err());
        let fortran = npy_in_order("<f4", "True", "(1,)", &[0; 4]);
        let err = parse(&fortran).unwrap_err();
        assert!(err.to_string().contains("Fortran"), "{err}");
        let err = parse(b"PK\x03\x04 not npy").unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
    }

    #[test]
    fn a_bad_dimension_keeps_its_cause_and_a_read_error_names_the_file() {
        let err = parse(&npy("<f4", "(2, x)", &[0; 8])).unwrap_err();
        assert_eq!(
            crate::errors::chain(&err),
            "shape dimension \"x\" is not a count: invalid digit found in string"
        );
        let missing = Path::new("/nonexistent/dagr/1_1_1.npy");
        let err = read(missing).unwrap_err();
        assert!(matches!(err.fault, NpyFault::Io(_)), "{err:?}");
        let said = crate::errors::chain(&err);
        assert!(
            said.starts_with("/nonexistent/dagr/1_1_1.npy: No such file"),
            "{said}"
        );
    }
}
