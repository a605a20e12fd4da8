//! How to adapt a package's head: the trainer's settings with the DAGR flags the model was
//! trained with (model.json `dagr`), the share of labeled windows held out for early
//! stopping and the validation gate, and the seed.
use std::path::{Path, PathBuf};

use dagr_head::{DagrConfig, Distance, Form, TrainConfig};
use dagr_infer::ModelPackage;
use serde_json::Value;

use super::AdaptError;

/// Everything that decides an adaptation besides its data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptSettings {
    /// The head trainer's settings (epochs, batch, AdamW, augmentation, DAGR flags).
    pub train: TrainConfig,
    /// Share of each class's windows held out to validate on, in `[0, 1)` (a class keeps
    /// at least one window to train on).
    pub holdout_fraction: f32,
    /// Seed of the held-out split (the trainer's shuffling uses `train.seed`).
    pub seed: u64,
}

/// The held-out share by default: a quarter of each class.
const HOLDOUT_FRACTION: f32 = 0.25;

impl AdaptSettings {
    /// The trainer's adaptation defaults ([`TrainConfig::default`]) with model.json's
    /// `dagr` flags (required: a head adapts under the objective it was trained with) and
    /// its `training.modality_dropout` when given; a quarter held out; seed 0.
    pub fn from_package(pkg: &ModelPackage) -> Result<Self, AdaptError> {
        let file = pkg.dir().join("model.json");
        let root = pkg.model_json();
        let dagr = dagr_config(&file, root)?;
        let mut train = TrainConfig {
            dagr,
            ..TrainConfig::default()
        };
        if let Some(p) = root.pointer("/training/modality_dropout") {
            train.modality_dropout = probability(&file, "training.modality_dropout", p)?;
        }
        Ok(AdaptSettings {
            train,
            holdout_fraction: HOLDOUT_FRACTION,
            seed: 0,
        })
    }

    /// The settings as model.json's adaptation record states them.
    pub fn to_json(&self) -> Value {
        let t = &self.train;
        let d = &t.dagr;
        serde_json::json!({
            "epochs": t.epochs,
            "batch": t.batch,
            "lr": t.adam.lr,
            "weight_decay": t.adam.weight_decay,
            "cosine": t.cosine,
            "modality_dropout": t.modality_dropout,
            "noise_sigma": t.noise_sigma,
            "patience": t.patience,
            "seed": t.seed,
            "labeled_classes_only": t.labeled_classes_only,
            "holdout_fraction": self.holdout_fraction,
            "holdout_seed": self.seed,
            "dagr": {
                "form": match d.form { Form::Lambda => "lambda", Form::Pareto => "pareto" },
                "lambda_d": d.lambda_d,
                "lambda_a": d.lambda_a,
                "beta_total": d.beta_total,
                "beta": d.beta,
                "tau": d.tau,
                "tau_d": d.tau_d,
                "disp_dim": d.disp_dim,
                "disp_normalized": d.disp_normalized,
                "distance": match d.distance { Distance::Cosine => "cosine", Distance::L2 => "l2" },
            },
        })
    }
}

/// model.json `dagr`, field by field, checked as the training pipeline checks it.
fn dagr_config(file: &Path, root: &Value) -> Result<DagrConfig, AdaptError> {
    let f = Fields { file, root };
    let form = match f.string("form")? {
        "lambda" => Form::Lambda,
        "pareto" => Form::Pareto,
        other => return Err(f.error("form", "\"lambda\" or \"pareto\"", other)),
    };
    let distance = match f.string("distance")? {
        "cosine" => Distance::Cosine,
        "l2" => Distance::L2,
        other => return Err(f.error("distance", "\"cosine\" or \"l2\"", other)),
    };
    let config = DagrConfig {
        form,
        lambda_d: f.number("lambda_d")?,
        lambda_a: f.number("lambda_a")?,
        beta_total: f.number("beta_total")?,
        beta: f.number("beta")?,
        tau: f.number("tau")?,
        tau_d: f.number("tau_d")?,
        disp_dim: f.integer("disp_dim")?,
        disp_normalized: f.boolean("disp_normalized")?,
        distance,
    };
    config.check().map_err(|e| AdaptError::Setting {
        file: file.to_path_buf(),
        field: "dagr".into(),
        expected: "flags the training pipeline accepts".into(),
        found: e.to_string(),
    })?;
    Ok(config)
}

/// A probability field.
fn probability(file: &Path, field: &str, value: &Value) -> Result<f32, AdaptError> {
    match value.as_f64() {
        Some(p) if (0.0..=1.0).contains(&p) => Ok(p as f32),
        _ => Err(AdaptError::Setting {
            file: file.to_path_buf(),
            field: field.into(),
            expected: "a number in [0, 1]".into(),
            found: value.to_string(),
        }),
    }
}

/// model.json's `dagr` fields, each error naming `dagr.FIELD`.
struct Fields<'a> {
    file: &'a Path,
    root: &'a Value,
}

impl Fields<'_> {
    fn error(&self, field: &str, expected: &str, found: impl ToString) -> AdaptError {
        AdaptError::Setting {
            file: PathBuf::from(self.file),
            field: format!("dagr.{field}"),
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    fn get(&self, field: &str) -> Result<&Value, AdaptError> {
        self.root
            .get("dagr")
            .and_then(|d| d.get(field))
            .ok_or_else(|| self.error(field, "a value (the DAGR flags training used)", "nothing"))
    }

    fn string(&self, field: &str) -> Result<&str, AdaptError> {
        let v = self.get(field)?;
        v.as_str().ok_or_else(|| self.error(field, "a string", v))
    }

    fn number(&self, field: &str) -> Result<f64, AdaptError> {
        let v = self.get(field)?;
        v.as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.error(field, "a number", v))
    }

    fn integer(&self, field: &str) -> Result<usize, AdaptError> {
        let v = self.get(field)?;
        v.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.error(field, "a non-negative integer", v))
    }

    fn boolean(&self, field: &str) -> Result<bool, AdaptError> {
        let v = self.get(field)?;
        v.as_bool()
            .ok_or_else(|| self.error(field, "true or false", v))
    }
}
