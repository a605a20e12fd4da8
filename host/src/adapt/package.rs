//! An adapted head written as a complete model package: the source package's files with
//! the head replaced everywhere it lives (head.safetensors, the initializers of
//! model.onnx), model.json recording the adaptation, built under a temporary name beside
//! the output, loaded back and checked, then renamed into place.
use std::path::{Path, PathBuf};

use dagr_infer::{ModelPackage, PackageError};
use serde_json::{json, Value};

use super::{AdaptError, AdaptationRecord};
use crate::output::{Overwrite, StagedDir};

/// What an adapted package says about parity/ (model.json `adaptation.parity`): the
/// source's parity vectors hold the source head's logits and gradients, which the adapted
/// head no longer reproduces, so they are left out rather than kept wrong.
pub const PARITY_DROPPED: &str = "dropped: parity/ held the source head's logits and \
    gradients; the adapted head's logits are those of model.onnx (same initializers)";

/// Writes the package `source` with head `params` to `out`: head.safetensors holding
/// `params`; model.json = the source's, less its `parity` and `head_adaptation` lists, plus
/// `adaptation` = `record` (a source's own `adaptation` kept inside it as `previous`), its
/// `head.norm_band` moved for the adapted head when the record has the moved band;
/// model.onnx = the source's with the head's initializers holding `params`; no parity/.
/// Built beside `out`, loaded back with [`ModelPackage::load`] and checked to hold
/// `params` in both files, then renamed onto `out`; an existing `out` is replaced only when
/// `replace` is true, and only once the new package is complete.
pub fn write_package(
    source: &ModelPackage,
    out: &Path,
    params: &[f32],
    record: &AdaptationRecord,
    replace: bool,
) -> Result<(), AdaptError> {
    let package_error = |source_error: PackageError| AdaptError::Package {
        dir: source.dir().to_path_buf(),
        source: Box::new(source_error),
    };
    let head = source
        .head_safetensors_with(params)
        .map_err(package_error)?;
    let onnx = source.onnx_with_head(params).map_err(package_error)?;
    let json = model_json(source.model_json(), record);
    let staged = StagedDir::new(out, Overwrite::forced(replace))?;
    let dir = staged.path();
    write(&dir.join("head.safetensors"), &head)?;
    write(&dir.join("model.onnx"), &onnx)?;
    let text = serde_json::to_string_pretty(&json).expect("a JSON value serializes");
    write(&dir.join("model.json"), format!("{text}\n").as_bytes())?;
    verify(dir, out, params)?;
    staged.commit()?;
    Ok(())
}

/// Refuses a package whose head.safetensors is not the head inside its model.onnx (within
/// float32 rounding): such a head came from another model, and adapting it on this
/// backbone's features, or writing it into this model.onnx, would be meaningless.
pub fn check_own_head(package: &ModelPackage) -> Result<(), AdaptError> {
    let onnx = package
        .onnx_head_params()
        .map_err(|source| AdaptError::Package {
            dir: package.dir().to_path_buf(),
            source: Box::new(source),
        })?;
    let own = package.head_params();
    let differs = |(a, b): (&f32, &f32)| (a - b).abs() > 1e-6 * a.abs().max(1.0);
    match own.iter().zip(&onnx).position(differs) {
        Some(index) => Err(AdaptError::ForeignHead {
            dir: package.dir().to_path_buf(),
            index,
            safetensors: own[index],
            onnx: onnx[index],
        }),
        None => Ok(()),
    }
}

/// What an adapted package's `head.norm_band.chosen_on` says: the bounds are the source
/// model's, moved for the adapted head (`adaptation.norm_band` has how).
pub const BAND_FOLLOWED: &str = "val of the source model, moved for the adapted head on the \
    adaptation's windows (adaptation.norm_band)";

/// The adapted package's model.json.
fn model_json(source: &Value, record: &AdaptationRecord) -> Value {
    let mut json = source.clone();
    if let (Some(band), Some(followed)) = (json.pointer_mut("/head/norm_band"), record.norm_band) {
        band["bounds"] = json!(followed.bounds);
        band["chosen_on"] = json!(BAND_FOLLOWED);
        // The source head's test-part scores; this head was not scored there.
        if let Some(band) = band.as_object_mut() {
            band.remove("held_out");
        }
    }
    let mut adaptation = record.to_json();
    adaptation["parity"] = Value::from(PARITY_DROPPED);
    if let Some(map) = json.as_object_mut() {
        map.remove("parity");
        map.remove("head_adaptation");
        if let Some(previous) = map.remove("adaptation") {
            adaptation["previous"] = previous;
        }
        map.insert("adaptation".into(), adaptation);
    }
    json
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), AdaptError> {
    std::fs::write(path, bytes).map_err(|source| AdaptError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The staged package loads and holds `params` in head.safetensors and in model.onnx.
fn verify(dir: &Path, out: &Path, params: &[f32]) -> Result<(), AdaptError> {
    let problem = |problem: String| AdaptError::Verify {
        out: PathBuf::from(out),
        problem,
    };
    let written = ModelPackage::load(dir).map_err(|e| problem(e.to_string()))?;
    if written.head_params() != params {
        return Err(problem("head.safetensors holds other parameters".into()));
    }
    let onnx = written
        .onnx_head_params()
        .map_err(|e| problem(e.to_string()))?;
    if onnx != params {
        return Err(problem(
            "model.onnx's head initializers hold other values".into(),
        ));
    }
    Ok(())
}
