//! The head inside model.onnx: which initializers hold the head's tensors, reading them in
//! the flat layout of `dagr_head::HeadShape`, and replacing them with other parameters (an
//! adapted head), so that every runtime running model.onnx gets the native head's logits.
//!
//! An initializer is found by the head.safetensors name model.json gives (the exporter
//! keeps PyTorch's names), stored as the head lays it out (`[rows, cols]`) or transposed
//! (`[cols, rows]`, as a `MatMul` export stores it). An exporter that renamed a tensor
//! (constant folding gives names like `onnx::MatMul_12`) is still served: the initializer
//! whose values are the package's head tensor, as laid out or transposed, is the one.

use std::path::Path;

use dagr_head::{HeadShape, ParamBlock};
use tract_onnx::pb::{self, TensorProto};

use super::PackageError;

/// ONNX's element type code for float32 (`TensorProto.DataType.FLOAT`).
const ONNX_FLOAT: i32 = 1;

/// Where one head block lives in the graph.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Index into `graph.initializer`.
    initializer: usize,
    /// Stored `[cols, rows]` instead of the head's `[rows, cols]`.
    transposed: bool,
}

/// The head's parameters as model.onnx holds them, each block found by its name in
/// `names` (model.json's head tensor names, `ParamBlock::ALL` order), or by value
/// (`reference`: the package's head.safetensors) when no initializer has that name.
pub(crate) fn read(
    file: &Path,
    proto: &pb::ModelProto,
    shape: HeadShape,
    names: &[String],
    reference: &[f32],
) -> Result<Vec<f32>, PackageError> {
    let graph = graph(file, proto)?;
    let mut params = vec![0.0f32; shape.param_count()];
    for (&block, name) in ParamBlock::ALL.iter().zip(names) {
        let slot = locate(file, graph, shape, block, name, reference)?;
        let values = values(file, &graph.initializer[slot.initializer])?;
        let out = &mut params[shape.range(block)];
        let (len, cols) = (out.len(), shape.block_dims(block).0[1]);
        for (i, p) in out.iter_mut().enumerate() {
            *p = values[stored_index(i, cols, len, slot.transposed)];
        }
    }
    Ok(params)
}

/// A copy of `proto` whose head initializers hold `params` instead (each in the layout its
/// initializer had), found as [`read`] finds them with `reference` the package's own head.
pub(crate) fn replace(
    file: &Path,
    proto: &pb::ModelProto,
    shape: HeadShape,
    names: &[String],
    reference: &[f32],
    params: &[f32],
) -> Result<pb::ModelProto, PackageError> {
    let mut out = proto.clone();
    let graph = graph(file, proto)?;
    let slots = ParamBlock::ALL
        .iter()
        .zip(names)
        .map(|(&block, name)| Ok((block, locate(file, graph, shape, block, name, reference)?)))
        .collect::<Result<Vec<_>, PackageError>>()?;
    let graph = out.graph.as_mut().expect("checked by graph()");
    for (block, slot) in slots {
        let new = &params[shape.range(block)];
        let cols = shape.block_dims(block).0[1];
        let mut stored = vec![0.0f32; new.len()];
        for (i, &p) in new.iter().enumerate() {
            stored[stored_index(i, cols, new.len(), slot.transposed)] = p;
        }
        let tensor = &mut graph.initializer[slot.initializer];
        tensor.float_data.clear();
        tensor.raw_data = stored.iter().flat_map(|v| v.to_le_bytes()).collect();
    }
    Ok(out)
}

fn graph<'p>(file: &Path, proto: &'p pb::ModelProto) -> Result<&'p pb::GraphProto, PackageError> {
    proto.graph.as_ref().ok_or_else(|| PackageError::Field {
        file: file.to_path_buf(),
        field: "graph".into(),
        expected: "a graph".into(),
        found: "none".into(),
    })
}

/// Index in the stored tensor of the head's flat element `i` of a block with `cols`
/// columns and `len` elements (a bias has one row: nothing to transpose).
fn stored_index(i: usize, cols: usize, len: usize, transposed: bool) -> usize {
    if !transposed {
        return i;
    }
    let rows = len / cols;
    let (r, c) = (i / cols, i % cols);
    c * rows + r
}

/// The initializer holding `block`: by name, else by value.
fn locate(
    file: &Path,
    graph: &pb::GraphProto,
    shape: HeadShape,
    block: ParamBlock,
    name: &str,
    reference: &[f32],
) -> Result<Slot, PackageError> {
    let (dims, rank) = shape.block_dims(block);
    let dims = &dims[..rank];
    let error = |expected: String, found: String| PackageError::Field {
        file: file.to_path_buf(),
        field: format!("initializer `{name}`"),
        expected,
        found,
    };
    if let Some(initializer) = graph.initializer.iter().position(|t| t.name == name) {
        let tensor = &graph.initializer[initializer];
        let transposed = match layout(tensor, dims) {
            Some(t) => t,
            None => {
                return Err(error(
                    format!("float32 of shape {dims:?} or its transpose (model.json's head)"),
                    format!("type {} of shape {:?}", tensor.data_type, tensor.dims),
                ))
            }
        };
        return Ok(Slot {
            initializer,
            transposed,
        });
    }
    let wanted = &reference[shape.range(block)];
    let cols = dims.get(1).copied().unwrap_or(wanted.len());
    let matches: Vec<Slot> = graph
        .initializer
        .iter()
        .enumerate()
        .filter_map(|(initializer, tensor)| {
            let transposed = layout(tensor, dims)?;
            let stored = values(file, tensor).ok()?;
            let same = (0..wanted.len())
                .all(|i| stored[stored_index(i, cols, wanted.len(), transposed)] == wanted[i]);
            same.then_some(Slot {
                initializer,
                transposed,
            })
        })
        .collect();
    match matches.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(error(
            "an initializer with this name, or one holding head.safetensors' values".into(),
            "neither (is the head from another model?)".into(),
        )),
        _ => Err(error(
            "one initializer holding head.safetensors' values".into(),
            format!("{} of them", matches.len()),
        )),
    }
}

/// Whether a float32 tensor holds a block of `dims` as laid out (`Some(false)`) or
/// transposed (`Some(true)`); `None` when it holds neither.
fn layout(tensor: &TensorProto, dims: &[usize]) -> Option<bool> {
    if tensor.data_type != ONNX_FLOAT {
        return None;
    }
    let stored: Vec<usize> = tensor.dims.iter().map(|&d| d as usize).collect();
    if stored == dims {
        return Some(false);
    }
    let transposed: Vec<usize> = dims.iter().rev().copied().collect();
    (dims.len() == 2 && stored == transposed).then_some(true)
}

/// A float32 initializer's values, from `raw_data` or `float_data`.
fn values(file: &Path, tensor: &TensorProto) -> Result<Vec<f32>, PackageError> {
    let n: usize = tensor.dims.iter().map(|&d| d as usize).product();
    let found = if !tensor.raw_data.is_empty() {
        tensor
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect::<Vec<_>>()
    } else {
        tensor.float_data.clone()
    };
    if found.len() != n {
        return Err(PackageError::Field {
            file: file.to_path_buf(),
            field: format!("initializer `{}`", tensor.name),
            expected: format!("{n} float32 values stored in the model (not external data)"),
            found: format!("{} values", found.len()),
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelPackage;

    fn reference() -> ModelPackage {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/reference");
        ModelPackage::load(&dir).unwrap()
    }

    /// The reference graph with the classifier weight renamed (as constant folding names
    /// it) and stored transposed (as a `MatMul` export stores it).
    fn renamed_and_transposed(pkg: &ModelPackage) -> pb::ModelProto {
        let mut proto = pkg.onnx_proto().clone();
        let graph = proto.graph.as_mut().unwrap();
        let t = graph
            .initializer
            .iter_mut()
            .find(|t| t.name == "head.classifier.weight")
            .unwrap();
        let (rows, cols) = (t.dims[0] as usize, t.dims[1] as usize);
        let v = values(Path::new("x"), t).unwrap();
        let mut stored = vec![0.0f32; v.len()];
        for r in 0..rows {
            for c in 0..cols {
                stored[c * rows + r] = v[r * cols + c];
            }
        }
        t.name = "onnx::MatMul_99".into();
        t.dims = vec![cols as i64, rows as i64];
        t.raw_data = stored.iter().flat_map(|x| x.to_le_bytes()).collect();
        proto
    }

    #[test]
    fn a_renamed_transposed_head_tensor_is_found_by_value_and_replaced_in_its_layout() {
        let pkg = reference();
        let proto = renamed_and_transposed(&pkg);
        let (file, shape) = (Path::new("model.onnx"), pkg.head_shape());
        let names = &pkg.manifest.head_tensors;
        let own = pkg.head_params();
        assert_eq!(read(file, &proto, shape, names, own).unwrap(), own);
        let new: Vec<f32> = own.iter().map(|p| p + 0.5).collect();
        let replaced = replace(file, &proto, shape, names, own, &new).unwrap();
        // Found again by the new values: each block where it was, in its layout.
        assert_eq!(read(file, &replaced, shape, names, &new).unwrap(), new);
        let t = replaced.graph.as_ref().unwrap().initializer.iter();
        let t = t.clone().find(|t| t.name == "onnx::MatMul_99").unwrap();
        assert_eq!(t.dims, [shape.embed_dim as i64, shape.classes as i64]);
        // A head whose values are nowhere in the graph is named as foreign.
        let err = read(file, &proto, shape, names, &new).unwrap_err();
        assert!(
            err.to_string()
                .contains("initializer `head.classifier.weight`")
                && err.to_string().contains("head from another model"),
            "{err}"
        );
    }

    #[test]
    fn a_transposed_index_walks_columns_first() {
        // a 2x3 block [[0,1,2],[3,4,5]] stored transposed as [[0,3],[1,4],[2,5]]
        let stored: Vec<usize> = (0..6).map(|i| stored_index(i, 3, 6, true)).collect();
        assert_eq!(stored, [0, 2, 4, 1, 3, 5]);
        assert_eq!(stored_index(4, 3, 6, false), 4);
    }
}
