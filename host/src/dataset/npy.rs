//! A reader for NumPy `.npy` files (format versions 1 to 3) holding little-endian float32
//! or float64 arrays in C order: what XRF55 ships its samples as. Anything else (big-endian,
//! integers, Fortran order, object arrays) is refused with the reason. The header's shape
//! must match the bytes that follow it, so a corrupt header never allocates beyond the file.
use std::fmt;
use std::path::Path;

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

/// Why a `.npy` file could not be read: the file and what was wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyError {
    /// The file.
    pub path: String,
    /// What was expected and not found.
    pub reason: String,
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl std::error::Error for NpyError {}

/// Reads `path` (see the [module doc](self)).
pub fn read(path: &Path) -> Result<NpyArray, NpyError> {
    let bytes = std::fs::read(path).map_err(|e| error(path, e))?;
    parse(&bytes).map_err(|reason| error(path, reason))
}

fn error(path: &Path, reason: impl fmt::Display) -> NpyError {
    NpyError {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Parses a whole `.npy` file image.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (magic \\x93NUMPY expected)".into());
    }
    let (header_len, header_at) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (usize::try_from(len).unwrap_or(usize::MAX), 12)
        }
        v => return Err(format!("format version {v}: expected 1, 2 or 3")),
    };
    if header_len > HEADER_LIMIT || header_at + header_len > bytes.len() {
        return Err(format!("header of {header_len} bytes runs past the file"));
    }
    let header = std::str::from_utf8(&bytes[header_at..header_at + header_len])
        .map_err(|_| "header is not text".to_string())?;
    let descr = quoted_value(header, "descr").ok_or("header has no 'descr'")?;
    let width = match descr {
        "<f4" => 4,
        "<f8" => 8,
        other => return Err(format!("dtype {other:?}: expected '<f4' or '<f8'")),
    };
    if header.contains("'fortran_order': True") {
        return Err("Fortran-order array: expected C order".into());
    }
    let shape = shape_of(header)?;
    let data = &bytes[header_at + header_len..];
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or("shape overflows")?;
    if count.checked_mul(width) != Some(data.len()) {
        return Err(format!(
            "shape {shape:?} of {descr} needs {} data bytes, the file has {}",
            count.saturating_mul(width),
            data.len()
        ));
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
fn shape_of(header: &str) -> Result<Vec<usize>, String> {
    let at = header.find("'shape'").ok_or("header has no 'shape'")?;
    let rest = &header[at..];
    let (open, close) = (
        rest.find('(').ok_or("shape: no '('")?,
        rest.find(')').ok_or("shape: no ')'")?,
    );
    rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse()
                .map_err(|_| format!("shape dimension {d:?} is not a count"))
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
        assert!(err.contains("data bytes"), "{err}");
    }

    #[test]
    fn other_dtypes_and_fortran_order_are_refused() {
        assert!(parse(&npy("<i8", "(1,)", &[0; 8]))
            .unwrap_err()
            .contains("'<f4'"));
        assert!(parse(&npy(">f4", "(1,)", &[0; 4])).is_err());
        let fortran = npy_in_order("<f4", "True", "(1,)", &[0; 4]);
        assert!(parse(&fortran).unwrap_err().contains("Fortran"));
        assert!(parse(b"PK\x03\x04 not npy").unwrap_err().contains("magic"));
    }
}
