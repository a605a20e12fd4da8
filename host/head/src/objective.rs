//! The training objective's settings: the DAGR flags of `models/dagr_train/loss.py`
//! (`DagrConfig`), with the same names, defaults and checks, so a head adapts under exactly
//! the objective it was trained with (model.json's `dagr` section).

/// Floor under norms (`EPS` of loss.py): keeps the gradient finite for a zero or
/// coincident embedding.
pub const EPS: f32 = 1e-12;

/// How the regularizer's two terms are weighted (loss.py's `form`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `L_task + lambda_d * sum_m L_disp_m + lambda_a * L_anc`.
    Lambda,
    /// `L_task + beta_total * ((1 - beta) * sum_m L_disp_m + beta * L_anc)`.
    Pareto,
}

/// The anchoring distance between two modalities' embeddings of one window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// `1 - cosine` (the default).
    Cosine,
    /// Euclidean distance between the L2-normalized vectors.
    L2,
}

/// Every flag of the DAGR reconstruction (DESIGN.md "DAGR"; loss.py's docstring).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DagrConfig {
    /// Lambda or Pareto weighting.
    pub form: Form,
    /// Weight of the summed dispersion in the lambda form.
    pub lambda_d: f64,
    /// Weight of the anchoring in the lambda form.
    pub lambda_a: f64,
    /// Overall regularizer weight in the Pareto form.
    pub beta_total: f64,
    /// Share of the anchoring in the Pareto form, in `[0, 1]`.
    pub beta: f64,
    /// The agreement band: anchoring only penalizes distances above it.
    pub tau: f64,
    /// The dispersion temperature (`> 0`).
    pub tau_d: f64,
    /// `D` of the dispersion kernel; 0 means the embedding dimension.
    pub disp_dim: usize,
    /// Dispersion over `z / ||z||` instead of the raw `z`.
    pub disp_normalized: bool,
    /// The anchoring distance.
    pub distance: Distance,
}

/// A DAGR flag outside its domain (the same checks as loss.py's `__post_init__`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConfigError {
    /// `tau_d` is not a positive number.
    TauD(f64),
    /// `beta` is not in `[0, 1]`.
    Beta(f64),
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::TauD(v) => write!(f, "DAGR tau_d {v}: expected > 0"),
            ConfigError::Beta(v) => write!(f, "DAGR beta {v}: expected in [0, 1]"),
        }
    }
}

impl core::error::Error for ConfigError {}

impl Default for DagrConfig {
    /// loss.py's defaults: no regularizer (plain cross-entropy), band 0.3, temperature 1.
    fn default() -> Self {
        DagrConfig {
            form: Form::Lambda,
            lambda_d: 0.0,
            lambda_a: 0.0,
            beta_total: 0.0,
            beta: 0.5,
            tau: 0.3,
            tau_d: 1.0,
            disp_dim: 0,
            disp_normalized: false,
            distance: Distance::Cosine,
        }
    }
}

impl DagrConfig {
    /// Refuses flags loss.py refuses.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.tau_d.is_nan() || self.tau_d <= 0.0 {
            return Err(ConfigError::TauD(self.tau_d));
        }
        if !(0.0..=1.0).contains(&self.beta) {
            return Err(ConfigError::Beta(self.beta));
        }
        Ok(())
    }

    /// (weight of `sum_m L_disp_m`, weight of `L_anc`) of the chosen form, computed in
    /// f64 like Python's floats and then rounded, as PyTorch does with a scalar factor.
    pub fn weights(&self) -> (f32, f32) {
        match self.form {
            Form::Lambda => (self.lambda_d as f32, self.lambda_a as f32),
            Form::Pareto => (
                (self.beta_total * (1.0 - self.beta)) as f32,
                (self.beta_total * self.beta) as f32,
            ),
        }
    }

    /// The dispersion kernel's scale `D * tau_d` for embeddings of length `embed_dim`.
    pub(crate) fn dispersion_scale(&self, embed_dim: usize) -> f32 {
        let d = if self.disp_dim > 0 {
            self.disp_dim
        } else {
            embed_dim
        };
        (d as f64 * self.tau_d) as f32
    }
}
