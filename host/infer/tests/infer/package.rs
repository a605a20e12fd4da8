//! `ModelPackage::load` on the reference package and on corrupted copies of it: each
//! defect is refused with an error naming the file and the field.

use std::fs;
use std::path::{Path, PathBuf};

use dagr_infer::{ModelPackage, PackageError};
use serde_json::{json, Value};

use crate::reference_dir;

/// A copy of the reference package's three files in a temporary directory.
struct Copy {
    dir: tempfile::TempDir,
}

impl Copy {
    fn new() -> Copy {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["model.json", "model.onnx", "head.safetensors"] {
            fs::copy(reference_dir().join(name), dir.path().join(name)).expect("copy");
        }
        Copy { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Edits model.json's document.
    fn edit_json(&self, edit: impl FnOnce(&mut Value)) -> &Self {
        let path = self.path("model.json");
        let mut doc: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut doc);
        fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        self
    }

    fn load_err(&self) -> PackageError {
        match ModelPackage::load(self.dir.path()) {
            Ok(_) => panic!("the corrupted package was accepted"),
            Err(e) => e,
        }
    }
}

/// Asserts `err` is a field error on `file` and `field` whose message mentions `expected`.
fn assert_field(err: &PackageError, file: &str, field: &str, expected: &str) {
    assert_eq!(err.file().file_name().unwrap(), file, "{err}");
    assert_eq!(err.field(), Some(field), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(expected),
        "`{text}` says what was expected ({expected})"
    );
}

#[test]
fn the_reference_package_loads_with_its_model_json_values() {
    let pkg = ModelPackage::load(&reference_dir()).expect("reference package loads");
    assert_eq!(pkg.classes().len(), 13);
    assert_eq!(pkg.classes()[0], "empty_room");
    assert_eq!((pkg.window_s(), pkg.hop_s()), (2.0, 0.5));
    assert_eq!(pkg.input_shape(0), [40, 64, 5]);
    assert_eq!(pkg.input_shape(1), [270, 200]);
    assert_eq!(pkg.input_shape(2), [46, 60]);
    assert_eq!(pkg.preprocess_spec()["wifi_steps"], json!(200));
    let head = pkg.head_shape();
    assert_eq!((head.feat_dim, head.embed_dim, head.classes), (64, 32, 13));
    assert_eq!(head.fusion_weights, [1.0, 0.75, 0.75]);
    assert_eq!(pkg.head_params().len(), head.param_count());
    assert_eq!(pkg.dir(), reference_dir());
}

#[test]
fn bad_fusion_weights_are_named_and_a_package_without_them_fuses_equally() {
    for bad in [
        json!([1.0, 0.0, 1.0]),
        json!([1.0, -0.5, 1.0]),
        json!([1.0, 1.0]),
        json!([1.0, "a", 1.0]),
        json!([1.0, 1e300, 1.0]),
        json!(0.5),
    ] {
        let copy = Copy::new();
        copy.edit_json(|d| d["head"]["fusion_weights"] = bad.clone());
        assert_field(
            &copy.load_err(),
            "model.json",
            "head.fusion_weights",
            "3 positive numbers",
        );
    }
    // exported before the weights existed: the plain mean it was trained and exported with
    let copy = Copy::new();
    copy.edit_json(|d| drop(d["head"].as_object_mut().unwrap().remove("fusion_weights")));
    let pkg = ModelPackage::load(copy.dir.path()).expect("loads");
    assert_eq!(pkg.head_shape().fusion_weights, dagr_head::EQUAL_FUSION);
}

#[test]
fn bad_norm_band_bounds_are_named_and_a_package_without_a_band_has_no_guard() {
    for bad in [
        json!([1.0, 0.0, 1.0]),
        json!([1.0, 2.0]),
        json!([1.0, "a", 1.0]),
        json!([1.0, 1e300, 1.0]),
        json!(3.0),
    ] {
        let copy = Copy::new();
        copy.edit_json(|d| d["head"]["norm_band"] = json!({ "bounds": bad.clone() }));
        assert_field(
            &copy.load_err(),
            "model.json",
            "head.norm_band.bounds",
            "3 positive numbers",
        );
    }
    let copy = Copy::new();
    copy.edit_json(|d| d["head"]["norm_band"] = json!({ "quantile": 0.999 }));
    assert_field(
        &copy.load_err(),
        "model.json",
        "head.norm_band.bounds",
        "a value",
    );
    copy.edit_json(|d| d["head"]["norm_band"] = json!({ "bounds": [12.5, 30.0, 7.25] }));
    let pkg = ModelPackage::load(copy.dir.path()).expect("loads");
    assert_eq!(pkg.norm_band(), Some([12.5, 30.0, 7.25]));
    copy.edit_json(|d| drop(d["head"].as_object_mut().unwrap().remove("norm_band")));
    assert_eq!(
        ModelPackage::load(copy.dir.path()).unwrap().norm_band(),
        None
    );
}

#[test]
fn each_missing_file_is_named() {
    for name in ["model.json", "model.onnx", "head.safetensors"] {
        let copy = Copy::new();
        fs::remove_file(copy.path(name)).unwrap();
        let err = copy.load_err();
        assert!(
            matches!(&err, PackageError::Missing { file } if file == &copy.path(name)),
            "{err}"
        );
        assert!(err.to_string().contains(name));
    }
}

#[test]
fn model_json_that_is_not_json_is_refused() {
    let copy = Copy::new();
    fs::write(copy.path("model.json"), "{\"name\": ").unwrap();
    assert!(matches!(copy.load_err(), PackageError::NotJson { .. }));
}

#[test]
fn model_json_missing_or_mistyped_fields_are_named() {
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 7] = [
        (
            "classes",
            |d| drop(d.as_object_mut().unwrap().remove("classes")),
            "a value",
        ),
        (
            "window_s",
            |d| d["window_s"] = json!("2.0"),
            "a positive number",
        ),
        ("hop_s", |d| d["hop_s"] = json!(-0.5), "a positive number"),
        (
            "format",
            |d| d["format"] = json!("dagr-model-0"),
            "\"dagr-model-1\"",
        ),
        (
            "classes",
            |d| d["classes"] = json!(["walking", 3]),
            "a non-empty list of strings",
        ),
        (
            "head.embed_dim",
            |d| d["head"]["embed_dim"] = json!(32.5),
            "a positive integer",
        ),
        (
            "inputs.rfid.shape",
            |d| d["inputs"]["rfid"]["shape"] = json!([46, 60]),
            "[\"batch\"",
        ),
    ];
    for (field, edit, expected) in cases {
        let copy = Copy::new();
        copy.edit_json(edit);
        assert_field(&copy.load_err(), "model.json", field, expected);
    }
}

#[test]
fn a_preprocess_spec_disagreeing_with_the_inputs_is_named() {
    let copy = Copy::new();
    copy.edit_json(|d| d["preprocess"]["shapes"]["wifi"] = json!([270, 100]));
    assert_field(
        &copy.load_err(),
        "model.json",
        "preprocess.shapes.wifi",
        "[270, 200]",
    );
}

#[test]
fn input_shapes_disagreeing_with_the_onnx_model_are_named() {
    let copy = Copy::new();
    copy.edit_json(|d| {
        d["inputs"]["wifi"]["shape"] = json!(["batch", 270, 100]);
        d["preprocess"]["shapes"]["wifi"] = json!([270, 100]);
    });
    let err = copy.load_err();
    assert_field(
        &err,
        "model.onnx",
        "input `wifi` shape",
        "[batch, 270, 100]",
    );
    assert!(
        err.to_string().contains("found [\"batch\", 270, 200]"),
        "{err}"
    );
}

#[test]
fn a_class_count_disagreeing_with_the_logits_is_named() {
    // classes vs head.classes
    let copy = Copy::new();
    copy.edit_json(|d| drop(d["classes"].as_array_mut().unwrap().pop()));
    assert_field(
        &copy.load_err(),
        "model.json",
        "head.classes",
        "12 (the number of `classes`)",
    );
    // classes and head.classes vs model.json's logits width
    copy.edit_json(|d| d["head"]["classes"] = json!(12));
    assert_field(
        &copy.load_err(),
        "model.json",
        "outputs.logits.shape",
        "[\"batch\", 12]",
    );
    // ... and vs the ONNX model's logits width
    copy.edit_json(|d| d["outputs"]["logits"]["shape"] = json!(["batch", 12]));
    assert_field(
        &copy.load_err(),
        "model.onnx",
        "output `logits` shape",
        "[batch, 12]",
    );
}

#[test]
fn onnx_input_names_disagreeing_with_the_package_are_named() {
    let copy = Copy::new();
    let onnx = fs::read(copy.path("model.onnx")).unwrap();
    // Same-length renaming keeps the protobuf valid: `present` becomes `presenX` everywhere.
    let renamed = replace_all(&onnx, b"present", b"presenX");
    fs::write(copy.path("model.onnx"), renamed).unwrap();
    let err = copy.load_err();
    assert_field(
        &err,
        "model.onnx",
        "inputs",
        "[\"mmwave\", \"wifi\", \"rfid\", \"present\"]",
    );
    assert!(err.to_string().contains("presenX"), "{err}");
}

#[test]
fn a_file_that_is_not_onnx_is_refused() {
    let copy = Copy::new();
    fs::write(copy.path("model.onnx"), b"\xff\xff\xff\xff not a protobuf").unwrap();
    let err = copy.load_err();
    assert!(matches!(err, PackageError::NotOnnx { .. }), "{err}");
    assert!(err
        .to_string()
        .starts_with(&copy.path("model.onnx").display().to_string()));
}

#[test]
fn head_tensor_names_and_shapes_are_checked_against_model_json() {
    let copy = Copy::new();
    copy.edit_json(|d| d["head"]["classifier"]["weight"] = json!("head.cls.weight"));
    assert_field(
        &copy.load_err(),
        "head.safetensors",
        "head.cls.weight",
        "a float32 tensor of shape [13, 32]",
    );

    let copy = Copy::new();
    copy.edit_json(|d| {
        d["head"]["feat_dim"] = json!(32);
        for m in ["mmwave", "wifi", "rfid"] {
            d["outputs"][format!("feat_{m}")]["shape"] = json!(["batch", 32]);
        }
    });
    // model.json agrees with itself but not with the ONNX features ...
    assert_field(
        &copy.load_err(),
        "model.onnx",
        "output `feat_mmwave` shape",
        "[batch, 32]",
    );
    let copy = Copy::new();
    copy.edit_json(|d| d["head"]["embed_dim"] = json!(16));
    // ... nor with the head's tensors.
    assert_field(
        &copy.load_err(),
        "head.safetensors",
        "head.proj.mmwave.weight",
        "shape [16, 64]",
    );
}

#[test]
fn head_tensors_of_another_dtype_or_not_safetensors_are_refused() {
    let copy = Copy::new();
    rewrite_head(&copy.path("head.safetensors"), "head.classifier.bias");
    assert_field(
        &copy.load_err(),
        "head.safetensors",
        "head.classifier.bias",
        "dtype F32",
    );

    fs::write(
        copy.path("head.safetensors"),
        b"\x08\x00\x00\x00\x00\x00\x00\x00{}",
    )
    .unwrap();
    assert!(matches!(
        copy.load_err(),
        PackageError::NotSafetensors { .. }
    ));
}

/// Rewrites head.safetensors with tensor `as_f64` stored as float64.
fn rewrite_head(path: &Path, as_f64: &str) {
    use safetensors::{Dtype, SafeTensors};
    let bytes = fs::read(path).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in tensors.tensors() {
        let (dtype, data) = if name == as_f64 {
            let wide: Vec<u8> = view
                .data()
                .chunks_exact(4)
                .flat_map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_le_bytes())
                .collect();
            (Dtype::F64, wide)
        } else {
            (view.dtype(), view.data().to_vec())
        };
        owned.push((name, dtype, view.shape().to_vec(), data));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, d, s, data)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), data).unwrap(),
            )
        })
        .collect();
    fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = haystack.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}
