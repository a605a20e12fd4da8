//! The model package reader: a `models/<name>/` directory (DESIGN.md "Model package"),
//! loaded and checked as a whole so that a bad package stops start-up with an error naming
//! the file and the field, never later in the middle of a run.

mod error;
mod head_params;
mod manifest;
mod onnx_head;
mod onnx_signature;

use std::path::{Path, PathBuf};

use dagr_head::{HeadShape, NormBand};

pub use error::PackageError;
pub use manifest::{FORMAT, MODALITY_NAMES};

use manifest::Manifest;

/// A loaded, validated model package: model.json's fields, model.onnx's bytes and the
/// head's parameters, all checked to agree with each other.
#[derive(Clone)]
pub struct ModelPackage {
    dir: PathBuf,
    manifest: Manifest,
    onnx: Vec<u8>,
    onnx_proto: tract_onnx::pb::ModelProto,
    head_params: Vec<f32>,
}

impl ModelPackage {
    /// Loads `dir`/model.json, model.onnx and head.safetensors and checks: model.json's
    /// fields and types; the ONNX inputs (`mmwave`, `wifi`, `rfid`, `present`) and outputs
    /// (`logits`, `feat_*`) with model.json's shapes; the head tensors' names and shapes
    /// against model.json's `head` section; the class count against the logits width.
    pub fn load(dir: &Path) -> Result<ModelPackage, PackageError> {
        let json_path = Manifest::path(dir);
        let onnx_path = dir.join("model.onnx");
        let head_path = dir.join("head.safetensors");
        let json = read(&json_path)?;
        let onnx = read(&onnx_path)?;
        let head = read(&head_path)?;
        let text = String::from_utf8(json).map_err(|e| PackageError::Field {
            file: json_path.clone(),
            field: "(file)".to_string(),
            expected: "UTF-8 text".to_string(),
            found: format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        })?;
        let manifest = Manifest::parse(&json_path, &text)?;
        let onnx_proto = onnx_signature::decode(&onnx_path, &onnx)?;
        onnx_signature::check(&onnx_path, &onnx_proto, &manifest)?;
        let head_params =
            head_params::read(&head_path, &head, manifest.head, &manifest.head_tensors)?;
        Ok(ModelPackage {
            dir: dir.to_path_buf(),
            manifest,
            onnx,
            onnx_proto,
            head_params,
        })
    }

    /// The package directory it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// model.json `name`.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The class names, in logit order.
    pub fn classes(&self) -> &[String] {
        &self.manifest.classes
    }

    /// The window length the model was trained on, in seconds.
    pub fn window_s(&self) -> f64 {
        self.manifest.window_s
    }

    /// The hop between windows the model was trained with, in seconds.
    pub fn hop_s(&self) -> f64 {
        self.manifest.hop_s
    }

    /// model.json `preprocess`, verbatim: the host compares it with its own spec.
    pub fn preprocess_spec(&self) -> &serde_json::Value {
        &self.manifest.preprocess
    }

    /// The input shape of `modality` (0 mmwave, 1 wifi, 2 rfid) without the batch axis.
    /// Panics on a modality index of 3 or more (a programming error, not bad input).
    pub fn input_shape(&self, modality: usize) -> &[usize] {
        &self.manifest.input_shapes[modality]
    }

    /// The number of `f32` values of one window of `modality` (the product of its shape).
    pub fn input_len(&self, modality: usize) -> usize {
        self.input_shape(modality).iter().product()
    }

    /// The head's dimensions (model.json `head`).
    pub fn head_shape(&self) -> HeadShape {
        self.manifest.head
    }

    /// The norm guard's band (model.json `head.norm_band.bounds`), `None` for a package
    /// without one: see `dagr_head::admitted`.
    pub fn norm_band(&self) -> Option<NormBand> {
        self.manifest.norm_band
    }

    /// The head's parameters from head.safetensors, in `dagr_head::HeadShape`'s flat layout.
    pub fn head_params(&self) -> &[f32] {
        &self.head_params
    }

    /// model.onnx's bytes (for engines that parse the model themselves).
    pub fn onnx_bytes(&self) -> &[u8] {
        &self.onnx
    }

    /// model.json as a whole, for writers that carry its other fields over (an adapted
    /// package keeps everything its source says and adds its own record).
    pub fn model_json(&self) -> &serde_json::Value {
        &self.manifest.root
    }

    /// The head's parameters as model.onnx holds them (the initializers model.json's head
    /// tensor names name, or those holding head.safetensors' values). A package whose two
    /// copies of the head differ holds a head from another model: compare with
    /// [`head_params`](Self::head_params).
    pub fn onnx_head_params(&self) -> Result<Vec<f32>, PackageError> {
        let file = self.dir.join("model.onnx");
        let m = &self.manifest;
        onnx_head::read(
            &file,
            &self.onnx_proto,
            m.head,
            &m.head_tensors,
            &self.head_params,
        )
    }

    /// model.onnx's bytes with the head's initializers holding `params` instead (the flat
    /// layout of [`head_shape`](Self::head_shape)), each in the layout it had; everything
    /// else as loaded. Any runtime then computes `logits` with the head `params`.
    pub fn onnx_with_head(&self, params: &[f32]) -> Result<Vec<u8>, PackageError> {
        let file = self.dir.join("model.onnx");
        self.check_params(&file, params)?;
        let m = &self.manifest;
        let proto = onnx_head::replace(
            &file,
            &self.onnx_proto,
            m.head,
            &m.head_tensors,
            &self.head_params,
            params,
        )?;
        Ok(prost::Message::encode_to_vec(&proto))
    }

    /// head.safetensors' bytes for `params`: the tensors model.json names, with the shapes
    /// the loader checks.
    pub fn head_safetensors_with(&self, params: &[f32]) -> Result<Vec<u8>, PackageError> {
        let file = self.dir.join("head.safetensors");
        self.check_params(&file, params)?;
        head_params::write(
            &file,
            self.manifest.head,
            &self.manifest.head_tensors,
            params,
        )
    }

    /// `params` has one value per head parameter.
    fn check_params(&self, file: &Path, params: &[f32]) -> Result<(), PackageError> {
        let expected = self.manifest.head.param_count();
        if params.len() == expected {
            return Ok(());
        }
        Err(PackageError::Field {
            file: file.to_path_buf(),
            field: "head parameters".into(),
            expected: format!(
                "{expected} values (model.json's head {:?})",
                self.manifest.head
            ),
            found: format!("{} values", params.len()),
        })
    }

    /// model.onnx decoded, for the tract engine (decoded once, at load).
    pub(crate) fn onnx_proto(&self) -> &tract_onnx::pb::ModelProto {
        &self.onnx_proto
    }
}

impl std::fmt::Debug for ModelPackage {
    /// The package's identity, not its megabytes of weights.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelPackage")
            .field("dir", &self.dir)
            .field("name", &self.manifest.name)
            .field("classes", &self.manifest.classes.len())
            .field("head", &self.manifest.head)
            .finish_non_exhaustive()
    }
}

/// A package file's bytes; a missing file is its own error.
fn read(path: &Path) -> Result<Vec<u8>, PackageError> {
    std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            PackageError::Missing {
                file: path.to_path_buf(),
            }
        } else {
            PackageError::Unreadable {
                file: path.to_path_buf(),
                source,
            }
        }
    })
}
