//! model.onnx's signature (input and output names, element types, shapes) against model.json.

use std::path::Path;

use tract_onnx::pb::{self, tensor_shape_proto::dimension, type_proto};
use tract_onnx::prelude::Framework;

use super::manifest::{Manifest, MODALITY_NAMES};
use super::PackageError;

/// ONNX's element type code for float32 (`TensorProto.DataType.FLOAT`).
const ONNX_FLOAT: i32 = 1;

/// One dimension of an ONNX value: a number or a symbolic name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dim {
    Fixed(i64),
    Symbol(String),
    Unknown,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbol(s) => write!(f, "\"{s}\""),
            Dim::Unknown => write!(f, "?"),
        }
    }
}

/// Decodes model.onnx's bytes into its protobuf.
pub(crate) fn decode(file: &Path, bytes: &[u8]) -> Result<pb::ModelProto, PackageError> {
    tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| PackageError::NotOnnx {
            file: file.to_path_buf(),
            message: format!("{e:#}"),
        })
}

/// Checks that the graph has exactly the inputs `mmwave`, `wifi`, `rfid`, `present` and
/// the outputs `logits`, `feat_*`, all float32, with model.json's shapes behind a batch axis.
pub(crate) fn check(
    file: &Path,
    proto: &pb::ModelProto,
    manifest: &Manifest,
) -> Result<(), PackageError> {
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| field_error(file, "graph", "a graph", "none"))?;
    let mut inputs: Vec<(&str, Vec<usize>)> = MODALITY_NAMES
        .iter()
        .zip(&manifest.input_shapes)
        .map(|(m, shape)| (*m, shape.clone()))
        .collect();
    inputs.push(("present", vec![MODALITY_NAMES.len()]));
    let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let graph_inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(&v.name.as_str()))
        .collect();
    check_values(file, "input", &graph_inputs, &inputs)?;
    let mut outputs = vec![("logits".to_string(), vec![manifest.classes.len()])];
    for m in MODALITY_NAMES {
        outputs.push((format!("feat_{m}"), vec![manifest.head.feat_dim]));
    }
    let outputs: Vec<(&str, Vec<usize>)> = outputs
        .iter()
        .map(|(n, s)| (n.as_str(), s.clone()))
        .collect();
    let graph_outputs: Vec<&pb::ValueInfoProto> = graph.output.iter().collect();
    check_values(file, "output", &graph_outputs, &outputs)
}

/// The graph's `kind` values (inputs or outputs) are exactly `wanted`, each float32 with
/// shape `[batch, wanted dims...]`.
fn check_values(
    file: &Path,
    kind: &str,
    values: &[&pb::ValueInfoProto],
    wanted: &[(&str, Vec<usize>)],
) -> Result<(), PackageError> {
    let names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
    let wanted_names: Vec<&str> = wanted.iter().map(|(n, _)| *n).collect();
    let mut sorted_names = names.clone();
    sorted_names.sort_unstable();
    let mut sorted_wanted = wanted_names.clone();
    sorted_wanted.sort_unstable();
    if sorted_names != sorted_wanted {
        return Err(field_error(
            file,
            &format!("{kind}s"),
            &format!("{kind}s named {wanted_names:?}"),
            &format!("{names:?}"),
        ));
    }
    for (name, dims) in wanted {
        let field = format!("{kind} `{name}`");
        let value = values
            .iter()
            .find(|v| v.name == *name)
            .ok_or_else(|| field_error(file, &field, "present", "absent"))?;
        check_value(file, &field, value, dims)?;
    }
    Ok(())
}

/// One value is float32 with shape `[batch, dims...]` (the batch axis symbolic or any number).
fn check_value(
    file: &Path,
    field: &str,
    value: &pb::ValueInfoProto,
    dims: &[usize],
) -> Result<(), PackageError> {
    let tensor = match value.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t,
        None => {
            return Err(field_error(
                file,
                field,
                "a float32 tensor",
                "no tensor type",
            ))
        }
    };
    if tensor.elem_type != ONNX_FLOAT {
        return Err(field_error(
            file,
            &format!("{field} element type"),
            "float32 (ONNX type 1)",
            &format!("ONNX type {}", tensor.elem_type),
        ));
    }
    let found: Vec<Dim> = tensor
        .shape
        .as_ref()
        .map(|s| s.dim.iter().map(dim).collect())
        .unwrap_or_default();
    let matches = found.len() == dims.len() + 1
        && found[1..]
            .iter()
            .zip(dims)
            .all(|(d, &want)| *d == Dim::Fixed(want as i64));
    if !matches {
        let expected = format!(
            "[batch, {}] (model.json)",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let found = format!(
            "[{}]",
            found
                .iter()
                .map(Dim::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Err(field_error(
            file,
            &format!("{field} shape"),
            &expected,
            &found,
        ));
    }
    Ok(())
}

fn dim(d: &pb::tensor_shape_proto::Dimension) -> Dim {
    match &d.value {
        Some(dimension::Value::DimValue(n)) => Dim::Fixed(*n),
        Some(dimension::Value::DimParam(s)) => Dim::Symbol(s.clone()),
        None => Dim::Unknown,
    }
}

fn field_error(file: &Path, field: &str, expected: &str, found: &str) -> PackageError {
    PackageError::Field {
        file: file.to_path_buf(),
        field: field.to_string(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}
