//! The head's dimensions and the flat layout of its parameters.

use core::ops::Range;

/// Number of modalities the head fuses, in the fixed order mmwave, wifi, rfid (the order
/// of the ONNX inputs and of `present`).
pub const MODALITIES: usize = 3;

/// A head's fixed structure: its dimensions (everything needed to size its parameters and
/// buffers) and the weight of each modality in its fusion. Nothing here is trained.
///
/// Flat parameter layout (row-major matrices, `out x in`, as PyTorch's `nn.Linear` stores
/// them, so `head.safetensors` tensors copy in unchanged), blocks in this order:
///
/// | block | tensor in head.safetensors | shape |
/// |---|---|---|
/// | `ProjWeight(0)` | `head.proj.mmwave.weight` | `embed_dim x feat_dim` |
/// | `ProjBias(0)` | `head.proj.mmwave.bias` | `embed_dim` |
/// | `ProjWeight(1)` | `head.proj.wifi.weight` | `embed_dim x feat_dim` |
/// | `ProjBias(1)` | `head.proj.wifi.bias` | `embed_dim` |
/// | `ProjWeight(2)` | `head.proj.rfid.weight` | `embed_dim x feat_dim` |
/// | `ProjBias(2)` | `head.proj.rfid.bias` | `embed_dim` |
/// | `ClassifierWeight` | `head.classifier.weight` | `classes x embed_dim` |
/// | `ClassifierBias` | `head.classifier.bias` | `classes` |
///
/// Gradients and optimizer moments use the same layout, so one index means one parameter
/// everywhere.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadShape {
    /// Length of each modality's backbone feature vector (`feat_*`).
    pub feat_dim: usize,
    /// Length of each modality's embedding `z_m` and of the fused vector.
    pub embed_dim: usize,
    /// Number of classes (length of the logits).
    pub classes: usize,
    /// Each modality's weight in the fusion, in modality order, all positive and finite:
    /// `fused = sum_m w_m z_m / sum_m w_m` over the present m. [`EQUAL_FUSION`] is the
    /// plain masked mean. Chosen once for a trained model (model.json's
    /// `head.fusion_weights`); adaptation trains the parameters around them.
    pub fusion_weights: [f32; MODALITIES],
}

/// Fusion weights that make the fusion the plain mean of the present embeddings.
pub const EQUAL_FUSION: [f32; MODALITIES] = [1.0; MODALITIES];

/// One tensor of the flat parameter layout (see [`HeadShape`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamBlock {
    /// The projection matrix of modality `m` (0 mmwave, 1 wifi, 2 rfid).
    ProjWeight(usize),
    /// The projection bias of modality `m`.
    ProjBias(usize),
    /// The classifier matrix.
    ClassifierWeight,
    /// The classifier bias.
    ClassifierBias,
}

impl ParamBlock {
    /// Every block, in layout order.
    pub const ALL: [ParamBlock; 2 * MODALITIES + 2] = [
        ParamBlock::ProjWeight(0),
        ParamBlock::ProjBias(0),
        ParamBlock::ProjWeight(1),
        ParamBlock::ProjBias(1),
        ParamBlock::ProjWeight(2),
        ParamBlock::ProjBias(2),
        ParamBlock::ClassifierWeight,
        ParamBlock::ClassifierBias,
    ];
}

impl HeadShape {
    /// The first modality whose fusion weight is not a positive finite number, if any.
    pub fn bad_fusion_weight(&self) -> Option<usize> {
        self.fusion_weights
            .iter()
            .position(|w| !(w.is_finite() && *w > 0.0))
    }

    /// Number of `f32` parameters of one modality's projection (weight then bias).
    fn projection_len(&self) -> usize {
        self.embed_dim * self.feat_dim + self.embed_dim
    }

    /// Total number of `f32` parameters: the length of the flat parameter slice.
    pub fn param_count(&self) -> usize {
        MODALITIES * self.projection_len() + self.classes * self.embed_dim + self.classes
    }

    /// The tensor shape of `block` (`[rows, cols]` for matrices, `[len]` for biases), as
    /// stored in `head.safetensors`.
    pub fn block_dims(&self, block: ParamBlock) -> ([usize; 2], usize) {
        match block {
            ParamBlock::ProjWeight(_) => ([self.embed_dim, self.feat_dim], 2),
            ParamBlock::ProjBias(_) => ([self.embed_dim, 0], 1),
            ParamBlock::ClassifierWeight => ([self.classes, self.embed_dim], 2),
            ParamBlock::ClassifierBias => ([self.classes, 0], 1),
        }
    }

    /// Where `block` lies in the flat parameter slice. `ProjWeight(m)`/`ProjBias(m)` with
    /// `m >= MODALITIES` give an empty range past the end.
    pub fn range(&self, block: ParamBlock) -> Range<usize> {
        let proj = self.projection_len();
        let matrix = self.embed_dim * self.feat_dim;
        let classifier = MODALITIES * proj;
        let (start, len) = match block {
            ParamBlock::ProjWeight(m) if m < MODALITIES => (m * proj, matrix),
            ParamBlock::ProjBias(m) if m < MODALITIES => (m * proj + matrix, self.embed_dim),
            ParamBlock::ProjWeight(_) | ParamBlock::ProjBias(_) => (self.param_count(), 0),
            ParamBlock::ClassifierWeight => (classifier, self.classes * self.embed_dim),
            ParamBlock::ClassifierBias => {
                (classifier + self.classes * self.embed_dim, self.classes)
            }
        };
        start..start + len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: HeadShape = HeadShape {
        feat_dim: 4,
        embed_dim: 3,
        classes: 2,
        fusion_weights: EQUAL_FUSION,
    };

    #[test]
    fn blocks_tile_the_parameters_in_layout_order() {
        let mut next = 0;
        for block in ParamBlock::ALL {
            let range = SHAPE.range(block);
            assert_eq!(
                range.start, next,
                "{block:?} starts where the previous ended"
            );
            let (dims, rank) = SHAPE.block_dims(block);
            let len: usize = dims[..rank].iter().product();
            assert_eq!(range.len(), len, "{block:?} holds its tensor");
            next = range.end;
        }
        assert_eq!(next, SHAPE.param_count());
        // 3 * (3*4 + 3) + 2*3 + 2
        assert_eq!(SHAPE.param_count(), 53);
    }

    #[test]
    fn fusion_weights_must_be_positive_and_finite() {
        assert_eq!(SHAPE.bad_fusion_weight(), None);
        for (m, bad) in [(0, 0.0), (1, -1.0), (2, f32::NAN), (1, f32::INFINITY)] {
            let mut shape = SHAPE;
            shape.fusion_weights[m] = bad;
            assert_eq!(shape.bad_fusion_weight(), Some(m), "{bad}");
        }
    }

    #[test]
    fn a_fourth_modality_has_no_parameters() {
        assert!(SHAPE.range(ParamBlock::ProjWeight(3)).is_empty());
        assert!(SHAPE.range(ParamBlock::ProjBias(7)).is_empty());
    }
}
