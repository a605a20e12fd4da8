//! How `dagr decode --format esp32_csi` shows records (being written).
use std::io::{Read, Write};

use super::DecodeReport;

/// Decodes `input` and prints its records.
pub fn decode(
    _input: &mut dyn Read,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<DecodeReport> {
    anyhow::bail!("this format's decoder is not built yet")
}
