//! Adam with decoupled weight decay, step for step as PyTorch's `torch.optim.AdamW` (what
//! `dagr_train.train` uses; weight decay 0 gives plain `Adam`), over the flat parameter
//! layout with caller-provided moment buffers.

use crate::train_error::TrainError;

/// Adam's settings, PyTorch's names and defaults (`AdamW`'s weight decay 1e-2 aside: the
/// training pipeline uses 1e-4, which is the default here).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (the base rate when a schedule scales it).
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator's root.
    pub eps: f64,
    /// Decoupled weight decay: each step first scales the parameters by `1 - lr * wd`.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// The training pipeline's optimizer: lr 2e-3, betas (0.9, 0.999), eps 1e-8, wd 1e-4.
    fn default() -> Self {
        AdamConfig {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-4,
        }
    }
}

impl AdamConfig {
    /// Refuses settings PyTorch refuses (negative rates, betas outside `[0, 1)`).
    pub fn check(&self) -> Result<(), TrainError> {
        let fields = [
            ("lr", self.lr >= 0.0, ">= 0"),
            ("beta1", (0.0..1.0).contains(&self.beta1), "in [0, 1)"),
            ("beta2", (0.0..1.0).contains(&self.beta2), "in [0, 1)"),
            ("eps", self.eps >= 0.0, ">= 0"),
            ("weight_decay", self.weight_decay >= 0.0, ">= 0"),
        ];
        match fields.iter().find(|(_, ok, _)| !ok) {
            Some(&(name, _, expected)) => Err(TrainError::Setting { name, expected }),
            None => Ok(()),
        }
    }
}

/// The optimizer's state: the two moment buffers (the parameters' layout) and the step.
#[derive(Debug)]
pub struct Adam<'s> {
    config: AdamConfig,
    exp_avg: &'s mut [f32],
    exp_avg_sq: &'s mut [f32],
    steps: u32,
}

impl<'s> Adam<'s> {
    /// A fresh optimizer (moments zeroed, step 0) over caller buffers of equal length.
    pub fn new(
        config: AdamConfig,
        exp_avg: &'s mut [f32],
        exp_avg_sq: &'s mut [f32],
    ) -> Result<Self, TrainError> {
        config.check()?;
        if exp_avg_sq.len() != exp_avg.len() {
            return Err(TrainError::Length {
                name: "exp_avg_sq",
                expected: exp_avg.len(),
                found: exp_avg_sq.len(),
            });
        }
        exp_avg.fill(0.0);
        exp_avg_sq.fill(0.0);
        Ok(Adam {
            config,
            exp_avg,
            exp_avg_sq,
            steps: 0,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// The first and second moments, for inspection and tests.
    pub fn moments(&self) -> (&[f32], &[f32]) {
        (self.exp_avg, self.exp_avg_sq)
    }

    /// One update of `params` from `grad` at learning rate `lr` (the configured rate, or
    /// a scheduled one), in PyTorch's order of operations.
    pub fn step(&mut self, params: &mut [f32], grad: &[f32], lr: f64) -> Result<(), TrainError> {
        for (name, found) in [("params", params.len()), ("gradient", grad.len())] {
            if found != self.exp_avg.len() {
                return Err(TrainError::Length {
                    name,
                    expected: self.exp_avg.len(),
                    found,
                });
            }
        }
        let step = self.begin_step(lr);
        self.apply(&step, 0, params, grad);
        Ok(())
    }

    /// Starts a step at learning rate `lr`: counts it and fixes its scalars. The step is
    /// then applied in pieces with [`Adam::apply`], so the gradient can arrive row by row
    /// and never be held whole.
    pub fn begin_step(&mut self, lr: f64) -> AdamStep {
        self.steps += 1;
        let c = self.config;
        let t = self.steps as f64;
        AdamStep {
            decay: (1.0 - lr * c.weight_decay) as f32,
            keep1: (1.0 - c.beta1) as f32,
            beta2: c.beta2 as f32,
            keep2: (1.0 - c.beta2) as f32,
            step_size: (lr / (1.0 - libm::pow(c.beta1, t))) as f32,
            correction2_sqrt: libm::sqrt(1.0 - libm::pow(c.beta2, t)) as f32,
            eps: c.eps as f32,
        }
    }

    /// Applies `step` to the parameters `params` that start at index `at` of the layout,
    /// with their gradient `grad` (same length; extra values of the longer are ignored).
    pub fn apply(&mut self, step: &AdamStep, at: usize, params: &mut [f32], grad: &[f32]) {
        let s = step;
        let at = at.min(self.exp_avg.len());
        let end = (at + params.len()).min(self.exp_avg.len());
        let moments = self.exp_avg[at..end]
            .iter_mut()
            .zip(self.exp_avg_sq[at..end].iter_mut());
        for ((p, g), (m, v)) in params.iter_mut().zip(grad).zip(moments) {
            *p *= s.decay;
            *m += s.keep1 * (g - *m);
            *v = *v * s.beta2 + s.keep2 * g * g;
            let denom = libm::sqrtf(*v) / s.correction2_sqrt + s.eps;
            *p += -s.step_size * (*m / denom);
        }
    }
}

/// The scalars of one optimizer step, computed once in f64 like PyTorch's Python floats
/// and rounded to f32 where PyTorch applies them to float32 tensors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    decay: f32,
    keep1: f32,
    beta2: f32,
    keep2: f32,
    step_size: f32,
    correction2_sqrt: f32,
    eps: f32,
}
