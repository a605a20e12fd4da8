//! head.safetensors: the head's tensors, checked against model.json, in the flat layout of
//! `dagr_head::HeadShape`.

use std::path::Path;

use dagr_head::{HeadShape, ParamBlock};
use safetensors::{Dtype, SafeTensors};

use super::PackageError;

/// Reads the head's parameters from head.safetensors' bytes: each tensor named in
/// model.json (`names`, in `ParamBlock::ALL` order) must be float32 with the shape the head
/// needs. Tensors the head does not use are ignored.
pub(crate) fn read(
    file: &Path,
    bytes: &[u8],
    shape: HeadShape,
    names: &[String],
) -> Result<Vec<f32>, PackageError> {
    let tensors =
        SafeTensors::deserialize(bytes).map_err(|source| PackageError::NotSafetensors {
            file: file.to_path_buf(),
            source,
        })?;
    let mut params = vec![0.0f32; shape.param_count()];
    for (&block, name) in ParamBlock::ALL.iter().zip(names) {
        let field_error = |expected: String, found: String| PackageError::Field {
            file: file.to_path_buf(),
            field: name.clone(),
            expected,
            found,
        };
        let (dims, rank) = shape.block_dims(block);
        let dims = &dims[..rank];
        let tensor = tensors.tensor(name).map_err(|_| {
            field_error(
                format!("a float32 tensor of shape {dims:?} (named in model.json)"),
                "no such tensor".into(),
            )
        })?;
        if tensor.dtype() != Dtype::F32 {
            return Err(field_error(
                "dtype F32".into(),
                format!("dtype {:?}", tensor.dtype()),
            ));
        }
        if tensor.shape() != dims {
            return Err(field_error(
                format!("shape {dims:?} (from model.json's head section)"),
                format!("shape {:?}", tensor.shape()),
            ));
        }
        let out = &mut params[shape.range(block)];
        for (p, b) in out.iter_mut().zip(tensor.data().chunks_exact(4)) {
            *p = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    Ok(params)
}

/// head.safetensors' bytes for `params` (the flat layout of `shape`): one float32 tensor
/// per block, named as model.json names it (`names`, in `ParamBlock::ALL` order), with the
/// shape [`read`] expects, so the package loader reads `params` back.
pub(crate) fn write(
    file: &Path,
    shape: HeadShape,
    names: &[String],
    params: &[f32],
) -> Result<Vec<u8>, PackageError> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = ParamBlock::ALL
        .iter()
        .zip(names)
        .map(|(&block, name)| {
            let (dims, rank) = shape.block_dims(block);
            let data = params[shape.range(block)]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            (name.clone(), dims[..rank].to_vec(), data)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, dims, data)| {
            let view = safetensors::tensor::TensorView::new(Dtype::F32, dims.clone(), data)?;
            Ok((name.clone(), view))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>();
    views
        .and_then(|views| safetensors::serialize(views, None))
        .map_err(|source| PackageError::NotSafetensors {
            file: file.to_path_buf(),
            source,
        })
}
