//! Little-endian field access that cannot panic.
//!
//! Views check their lengths in `new_checked`, so in practice every read below is in range;
//! these helpers still return zero (and writes do nothing) when a range is out of bounds, so
//! that a view built with `new_unchecked` over a short buffer can never panic.

/// Reads a `u16` at byte offset `at`, or 0 when out of range.
pub(crate) fn u16_at(bytes: &[u8], at: usize) -> u16 {
    array_at::<2>(bytes, at).map_or(0, u16::from_le_bytes)
}

/// Reads an `i16` at byte offset `at`, or 0 when out of range.
pub(crate) fn i16_at(bytes: &[u8], at: usize) -> i16 {
    array_at::<2>(bytes, at).map_or(0, i16::from_le_bytes)
}

/// Reads a `u32` at byte offset `at`, or 0 when out of range.
pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    array_at::<4>(bytes, at).map_or(0, u32::from_le_bytes)
}

/// Reads an `i32` at byte offset `at`, or 0 when out of range.
pub(crate) fn i32_at(bytes: &[u8], at: usize) -> i32 {
    array_at::<4>(bytes, at).map_or(0, i32::from_le_bytes)
}

/// Reads an `f32` at byte offset `at`, or 0.0 when out of range.
pub(crate) fn f32_at(bytes: &[u8], at: usize) -> f32 {
    array_at::<4>(bytes, at).map_or(0.0, f32::from_le_bytes)
}

/// Writes `value` at byte offset `at`; does nothing when out of range.
pub(crate) fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    if let Some(dst) = bytes.get_mut(at..at.saturating_add(value.len())) {
        if dst.len() == value.len() {
            dst.copy_from_slice(value);
        }
    }
}

/// The `index`-th record of `size` bytes, or `None` past the end.
pub(crate) fn record(bytes: &[u8], index: usize, size: usize) -> Option<&[u8]> {
    let start = index.checked_mul(size)?;
    bytes.get(start..start.checked_add(size)?)
}

/// The `index`-th record of `size` bytes, writable, or `None` past the end.
pub(crate) fn record_mut(bytes: &mut [u8], index: usize, size: usize) -> Option<&mut [u8]> {
    let start = index.checked_mul(size)?;
    bytes.get_mut(start..start.checked_add(size)?)
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}
