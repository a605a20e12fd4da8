//! Does a model expect the tensors this build makes? The model package's `preprocess`
//! object (model.json) against this build's [`PreprocessSpec`], field by field.
//!
//! Both sides are compared as JSON: this build's spec is serialized as dataset export and
//! model export write it, so a number compares by value (`2` equals `2.0`) and an `f32`
//! constant by its shortest decimal form, as it appears in model.json. The first field that
//! differs, in the order this build's spec lists them, is reported with its path
//! (`preprocess.shapes.wifi[1]`) and both values; a field only one side has is a mismatch
//! too, so a model from a newer or older preprocessing never starts silently.
use serde_json::Value;

use crate::preprocess::PreprocessSpec;

/// The first field where a model's preprocessing differs from this build's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{path}` is {model} in the model but {build} in this build's preprocessing")]
pub struct SpecMismatch {
    /// Dotted path of the field, from `preprocess` (`preprocess.shapes.wifi[1]`).
    pub path: String,
    /// The model's value, as JSON (`(missing)` when it has none).
    pub model: String,
    /// This build's value, as JSON (`(missing)` when it has none).
    pub build: String,
}

/// This build's spec as the JSON model.json holds.
pub fn spec_json(spec: &PreprocessSpec) -> Value {
    // Through text, so f32 constants read back as their shortest decimal form (what the
    // model package wrote), not as their widened f64 value.
    let text = serde_json::to_string(spec).expect("a PreprocessSpec always serializes");
    serde_json::from_str(&text).expect("serde_json reads what it wrote")
}

/// Checks `model` (model.json's `preprocess`) against `build`: `Ok` when every field
/// holds the same value on both sides.
pub fn check_spec(model: &Value, build: &PreprocessSpec) -> Result<(), SpecMismatch> {
    first_difference("preprocess", model, &spec_json(build)).map_or(Ok(()), Err)
}

/// The first difference between `model` and `build` under `path`.
fn first_difference(path: &str, model: &Value, build: &Value) -> Option<SpecMismatch> {
    match (model, build) {
        (Value::Object(m), Value::Object(b)) => {
            let keys = b.keys().chain(m.keys().filter(|k| !b.contains_key(*k)));
            for key in keys {
                let at = format!("{path}.{key}");
                match (m.get(key), b.get(key)) {
                    (Some(mv), Some(bv)) => {
                        if let Some(found) = first_difference(&at, mv, bv) {
                            return Some(found);
                        }
                    }
                    (mv, bv) => return Some(mismatch(at, mv, bv)),
                }
            }
            None
        }
        (Value::Array(m), Value::Array(b)) => {
            for i in 0..m.len().max(b.len()) {
                let at = format!("{path}[{i}]");
                match (m.get(i), b.get(i)) {
                    (Some(mv), Some(bv)) => {
                        if let Some(found) = first_difference(&at, mv, bv) {
                            return Some(found);
                        }
                    }
                    (mv, bv) => return Some(mismatch(at, mv, bv)),
                }
            }
            None
        }
        (Value::Number(m), Value::Number(b)) if m.as_f64() == b.as_f64() => None,
        (m, b) if m == b => None,
        (m, b) => Some(mismatch(path.to_string(), Some(m), Some(b))),
    }
}

fn mismatch(path: String, model: Option<&Value>, build: Option<&Value>) -> SpecMismatch {
    let said = |v: Option<&Value>| v.map_or_else(|| "(missing)".to_string(), Value::to_string);
    SpecMismatch {
        path,
        model: said(model),
        build: said(build),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_preprocess() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/reference/model.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let model: Value = serde_json::from_str(&text).unwrap();
        model["preprocess"].clone()
    }

    #[test]
    fn the_reference_model_matches_this_builds_preprocessing() {
        let model = reference_preprocess();
        assert_eq!(check_spec(&model, &PreprocessSpec::new(2.0, 0.5)), Ok(()));
    }

    #[test]
    fn a_changed_grid_is_named_by_its_first_differing_field() {
        let model = reference_preprocess();
        let error = check_spec(&model, &PreprocessSpec::new(2.0, 0.25)).unwrap_err();
        assert_eq!(error.path, "preprocess.hop_s");
        assert_eq!(
            (error.model.as_str(), error.build.as_str()),
            ("0.5", "0.25")
        );
    }

    #[test]
    fn a_changed_constant_deep_in_the_spec_is_named_with_both_values() {
        let mut model = reference_preprocess();
        model["shapes"]["wifi"][1] = 100.into();
        model["normalization"]["rfid_rssi_scale_db"] = 5.0.into();
        let error = check_spec(&model, &PreprocessSpec::new(2.0, 0.5)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`preprocess.shapes.wifi[1]` is 100 in the model but 200 in this build's \
             preprocessing"
        );
    }

    #[test]
    fn a_field_only_one_side_has_is_a_mismatch() {
        let mut model = reference_preprocess();
        model
            .as_object_mut()
            .unwrap()
            .insert("wifi_filter".into(), "hampel".into());
        let error = check_spec(&model, &PreprocessSpec::new(2.0, 0.5)).unwrap_err();
        assert_eq!(error.path, "preprocess.wifi_filter");
        assert_eq!(error.build, "(missing)");
        model.as_object_mut().unwrap().remove("wifi_filter");
        model.as_object_mut().unwrap().remove("layout");
        let error = check_spec(&model, &PreprocessSpec::new(2.0, 0.5)).unwrap_err();
        assert_eq!(
            (error.path.as_str(), error.model.as_str()),
            ("preprocess.layout", "(missing)")
        );
    }
}
