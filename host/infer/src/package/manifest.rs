//! model.json: the fields the gateway relies on, read and checked against each other.

use std::path::{Path, PathBuf};

use dagr_head::{HeadShape, NormBand, ParamBlock, EQUAL_FUSION, MODALITIES};
use serde_json::Value;

use super::PackageError;

/// The package format this reader understands (model.json `format`).
pub const FORMAT: &str = "dagr-model-1";

/// The modalities' names in model order: ONNX inputs, `present` columns, `feat_*` outputs.
pub const MODALITY_NAMES: [&str; MODALITIES] = ["mmwave", "wifi", "rfid"];

/// model.json, checked: what the engines, the head and the host need from it.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub name: String,
    pub classes: Vec<String>,
    pub window_s: f64,
    pub hop_s: f64,
    pub preprocess: Value,
    /// Per modality, the input shape without the batch axis.
    pub input_shapes: [Vec<usize>; MODALITIES],
    pub head: HeadShape,
    /// `head.norm_band.bounds`, when the package has a norm guard.
    pub norm_band: Option<NormBand>,
    /// The head.safetensors tensor name of each block, in `ParamBlock::ALL` order.
    pub head_tensors: Vec<String>,
    /// The whole of model.json, for writers that carry its other fields over.
    pub root: Value,
}

/// A typed view of model.json that names the failing field in its errors.
struct Fields<'a> {
    file: &'a Path,
    root: &'a Value,
}

impl<'a> Fields<'a> {
    fn error(&self, field: &str, expected: &str, found: impl Into<String>) -> PackageError {
        PackageError::Field {
            file: self.file.to_path_buf(),
            field: field.to_string(),
            expected: expected.to_string(),
            found: found.into(),
        }
    }

    fn get(&self, field: &str) -> Result<&'a Value, PackageError> {
        let mut value = self.root;
        for key in field.split('.') {
            value = value
                .get(key)
                .ok_or_else(|| self.error(field, "a value", "nothing"))?;
        }
        Ok(value)
    }

    fn string(&self, field: &str) -> Result<&'a str, PackageError> {
        let value = self.get(field)?;
        value
            .as_str()
            .ok_or_else(|| self.error(field, "a string", describe(value)))
    }

    fn positive_number(&self, field: &str) -> Result<f64, PackageError> {
        let value = self.get(field)?;
        match value.as_f64() {
            Some(x) if x > 0.0 && x.is_finite() => Ok(x),
            _ => Err(self.error(field, "a positive number", describe(value))),
        }
    }

    fn positive_integer(&self, field: &str) -> Result<usize, PackageError> {
        let value = self.get(field)?;
        match value.as_u64() {
            Some(n) if n > 0 => usize::try_from(n)
                .map_err(|_| self.error(field, "a positive integer", describe(value))),
            _ => Err(self.error(field, "a positive integer", describe(value))),
        }
    }

    fn strings(&self, field: &str) -> Result<Vec<String>, PackageError> {
        let value = self.get(field)?;
        let expected = "a non-empty list of strings";
        let items = value
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| self.error(field, expected, describe(value)))?;
        items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.error(field, expected, describe(value)))
    }

    /// A `[dims...]` list of positive integers.
    fn dims(&self, field: &str) -> Result<Vec<usize>, PackageError> {
        let value = self.get(field)?;
        let expected = "a list of positive integers";
        let items = value
            .as_array()
            .ok_or_else(|| self.error(field, expected, describe(value)))?;
        items
            .iter()
            .map(|v| v.as_u64().filter(|&n| n > 0).map(|n| n as usize))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.error(field, expected, describe(value)))
    }

    /// A `["batch", dims...]` shape: the symbolic batch axis, then positive integers.
    fn batched_shape(&self, field: &str) -> Result<Vec<usize>, PackageError> {
        let value = self.get(field)?;
        let expected = "[\"batch\", positive integers...]";
        let items = value
            .as_array()
            .filter(|a| a.len() >= 2 && a[0].is_string())
            .ok_or_else(|| self.error(field, expected, describe(value)))?;
        items[1..]
            .iter()
            .map(|v| v.as_u64().filter(|&n| n > 0).map(|n| n as usize))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.error(field, expected, describe(value)))
    }
}

/// A short description of a JSON value for an error message.
fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

impl Manifest {
    /// Parses model.json's text and checks its fields against each other.
    pub fn parse(file: &Path, text: &str) -> Result<Manifest, PackageError> {
        let root: Value = serde_json::from_str(text).map_err(|source| PackageError::NotJson {
            file: file.to_path_buf(),
            source,
        })?;
        let f = Fields { file, root: &root };
        let format = f.string("format")?;
        if format != FORMAT {
            return Err(f.error("format", &format!("\"{FORMAT}\""), format!("\"{format}\"")));
        }
        let classes = f.strings("classes")?;
        let preprocess = f.get("preprocess")?;
        if !preprocess.is_object() {
            return Err(f.error("preprocess", "an object", describe(preprocess)));
        }
        let manifest = Manifest {
            name: f.string("name")?.to_string(),
            window_s: f.positive_number("window_s")?,
            hop_s: f.positive_number("hop_s")?,
            preprocess: preprocess.clone(),
            input_shapes: input_shapes(&f)?,
            head: head_shape(&f, classes.len())?,
            norm_band: norm_band(&f)?,
            head_tensors: head_tensors(&f)?,
            classes,
            root: root.clone(),
        };
        check_outputs(&f, &manifest)?;
        Ok(manifest)
    }

    /// model.json's path inside a package directory.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("model.json")
    }
}

/// `inputs.<m>.shape` per modality (batch dropped), checked against the preprocessing's
/// `preprocess.shapes.<m>` and with `inputs.present.shape` = `["batch", 3]`.
fn input_shapes(f: &Fields<'_>) -> Result<[Vec<usize>; MODALITIES], PackageError> {
    let mut shapes: [Vec<usize>; MODALITIES] = Default::default();
    for (shape, m) in shapes.iter_mut().zip(MODALITY_NAMES) {
        let field = format!("inputs.{m}.shape");
        *shape = f.batched_shape(&field)?;
        let spec_field = format!("preprocess.shapes.{m}");
        let spec = f.dims(&spec_field)?;
        if spec != *shape {
            return Err(f.error(
                &spec_field,
                &format!("{shape:?} (from {field})"),
                format!("{spec:?}"),
            ));
        }
    }
    let present = f.batched_shape("inputs.present.shape")?;
    if present != [MODALITIES] {
        return Err(f.error(
            "inputs.present.shape",
            "[\"batch\", 3]",
            format!("{present:?}"),
        ));
    }
    Ok(shapes)
}

/// `head.feat_dim`, `head.embed_dim`, `head.classes` (= the number of `classes`),
/// `head.fusion_weights`.
fn head_shape(f: &Fields<'_>, classes: usize) -> Result<HeadShape, PackageError> {
    let shape = HeadShape {
        feat_dim: f.positive_integer("head.feat_dim")?,
        embed_dim: f.positive_integer("head.embed_dim")?,
        classes: f.positive_integer("head.classes")?,
        fusion_weights: fusion_weights(f)?,
    };
    if shape.classes != classes {
        return Err(f.error(
            "head.classes",
            &format!("{classes} (the number of `classes`)"),
            shape.classes.to_string(),
        ));
    }
    Ok(shape)
}

/// `head.fusion_weights`: one positive finite number per modality, in modality order. A
/// package without the field was exported before the weights existed, when the fusion
/// was the plain mean: equal weights.
fn fusion_weights(f: &Fields<'_>) -> Result<[f32; MODALITIES], PackageError> {
    const FIELD: &str = "head.fusion_weights";
    match f.get(FIELD) {
        Ok(value) => per_modality_positive(f, FIELD, value),
        Err(_) => Ok(EQUAL_FUSION),
    }
}

/// `head.norm_band.bounds`: each modality's upper bound on its embedding's norm, 3 positive
/// numbers in modality order (see `dagr_head::admitted`). A package without `head.norm_band`
/// has no guard: every present modality is fused, as before the guard existed.
fn norm_band(f: &Fields<'_>) -> Result<Option<NormBand>, PackageError> {
    const FIELD: &str = "head.norm_band.bounds";
    if f.get("head.norm_band").is_err() {
        return Ok(None);
    }
    per_modality_positive(f, FIELD, f.get(FIELD)?).map(Some)
}

/// `value` (model.json's `field`) as 3 positive finite numbers in modality order, each
/// checked once narrowed to f32 (a positive f64 may become 0 or infinity there).
fn per_modality_positive(
    f: &Fields<'_>,
    field: &str,
    value: &Value,
) -> Result<[f32; MODALITIES], PackageError> {
    let positive = |v: &Value| {
        let x = v.as_f64()? as f32;
        (x > 0.0 && x.is_finite()).then_some(x)
    };
    value
        .as_array()
        .and_then(|a| a.iter().map(positive).collect::<Option<Vec<f32>>>())
        .and_then(|x| <[f32; MODALITIES]>::try_from(x).ok())
        .ok_or_else(|| {
            let expected = "3 positive numbers (mmwave, wifi, rfid)";
            f.error(field, expected, describe(value))
        })
}

/// The tensor names of `head.projection.<m>.{weight,bias}` and `head.classifier.*`.
fn head_tensors(f: &Fields<'_>) -> Result<Vec<String>, PackageError> {
    ParamBlock::ALL
        .iter()
        .map(|&block| f.string(&head_tensor_field(block)).map(str::to_string))
        .collect()
}

/// The model.json field naming the tensor of `block`.
pub(crate) fn head_tensor_field(block: ParamBlock) -> String {
    match block {
        ParamBlock::ProjWeight(m) => format!("head.projection.{}.weight", MODALITY_NAMES[m]),
        ParamBlock::ProjBias(m) => format!("head.projection.{}.bias", MODALITY_NAMES[m]),
        ParamBlock::ClassifierWeight => "head.classifier.weight".to_string(),
        ParamBlock::ClassifierBias => "head.classifier.bias".to_string(),
    }
}

/// `outputs.logits.shape` = `["batch", classes]`, `outputs.feat_<m>.shape` = `["batch",
/// head.feat_dim]`.
fn check_outputs(f: &Fields<'_>, manifest: &Manifest) -> Result<(), PackageError> {
    let classes = manifest.classes.len();
    let logits = f.batched_shape("outputs.logits.shape")?;
    if logits != [classes] {
        return Err(f.error(
            "outputs.logits.shape",
            &format!("[\"batch\", {classes}] (one logit per class)"),
            format!("{logits:?}"),
        ));
    }
    let feat_dim = manifest.head.feat_dim;
    for m in MODALITY_NAMES {
        let field = format!("outputs.feat_{m}.shape");
        let shape = f.batched_shape(&field)?;
        if shape != [feat_dim] {
            return Err(f.error(
                &field,
                &format!("[\"batch\", {feat_dim}] (head.feat_dim)"),
                format!("{shape:?}"),
            ));
        }
    }
    Ok(())
}
