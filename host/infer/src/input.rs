//! One window's model inputs, borrowed from the caller's preprocessing buffers.

use crate::package::MODALITY_NAMES;
use crate::InferError;

/// The model inputs of one window (batch 1), in model order mmwave, wifi, rfid, each a
/// flat row-major tensor of the package's `input_shape(m)`. An absent modality's slice is
/// still passed (zeros, typically) and marked absent in `present`.
#[derive(Debug, Clone, Copy)]
pub struct WindowInput<'a> {
    /// mmwave tensor, `input_shape(0)`.
    pub mmwave: &'a [f32],
    /// WiFi CSI tensor, `input_shape(1)`.
    pub wifi: &'a [f32],
    /// RFID tensor, `input_shape(2)`.
    pub rfid: &'a [f32],
    /// Which modalities are present, in the same order.
    pub present: [bool; 3],
}

impl<'a> WindowInput<'a> {
    /// The three tensors in model order.
    pub fn tensors(&self) -> [&'a [f32]; 3] {
        [self.mmwave, self.wifi, self.rfid]
    }

    /// The `present` input as the model takes it: 1.0 present, 0.0 absent.
    pub fn present_mask(&self) -> [f32; 3] {
        self.present.map(|p| if p { 1.0 } else { 0.0 })
    }

    /// Checks each tensor's length against the model's (`ModelPackage::input_len`).
    pub fn check_lengths(&self, lengths: [usize; 3]) -> Result<(), InferError> {
        for (m, tensor) in self.tensors().iter().enumerate() {
            let expected = lengths[m];
            if tensor.len() != expected {
                return Err(InferError::InputLength {
                    modality: MODALITY_NAMES[m],
                    expected,
                    found: tensor.len(),
                });
            }
        }
        Ok(())
    }
}
