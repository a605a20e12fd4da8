//! The DAGR classifier head, as plain forward code over one flat `f32` parameter slice.
//!
//! The head sits on top of the frozen ONNX backbone: each modality's feature vector
//! `feat_m` (length `feat_dim`) is projected to an embedding `z_m = W_m feat_m + b_m`
//! (length `embed_dim`), the embeddings of the present modalities are averaged with fixed
//! per-modality weights (`fused = sum_{m present} w_m z_m / sum_{m present} w_m`, zeros
//! when none is present; all weights 1 is DESIGN.md's plain masked mean), and a linear
//! classifier gives
//! `logits = W_c fused + b_c` (length `classes`). This is the head of DESIGN.md ("Model
//! package") and of `model.json`'s `head` section. The [`admitted`] guard, applied by the
//! recognizer before the fusion, sets aside a present modality whose embedding is out of the
//! band clean windows stay in (a sensor turned to noise; `head.norm_band`).
//!
//! It runs natively so the gateway (and a sensor node) can adapt and hot-swap it; the
//! trainer of issue 12 (backward, Adam) will live here too, which is why the parameters are
//! one flat slice in a fixed, documented layout ([`HeadShape`]) that gradients and Adam
//! moments can mirror element for element.
//!
//! This crate must not know files, allocators or threads: `no_std`, no `alloc`, every
//! buffer is the caller's. Reading `head.safetensors` into the flat layout is `dagr-infer`'s
//! job.
#![no_std]
#![forbid(unsafe_code)]

mod forward;
mod guard;
mod shape;

pub use forward::{Activations, Head, HeadError};
pub use guard::{admitted, embedding_norms, NormBand};
pub use shape::{HeadShape, ParamBlock, EQUAL_FUSION, MODALITIES};

mod adam;
mod augment;
mod classes;
mod gradient;
mod holdout;
mod objective;
mod regularizer;
mod train_error;
mod trainer;
mod windows;

pub use adam::{Adam, AdamConfig, AdamStep};
pub use augment::{add_noise, drop_modalities, Rng};
pub use classes::{ClassSet, CLASS_SET_CAPACITY};
pub use gradient::{
    loss_and_backward, loss_and_backward_among, loss_and_gradient, BatchActivations, LossTerms,
};
pub use holdout::split_holdout;
pub use objective::{ConfigError, DagrConfig, Distance, Form, EPS};
pub use train_error::TrainError;
pub use trainer::{
    arena_len, fit, validate, EpochReport, FitReport, MemoryBudget, Scores, Split, TrainConfig,
    MAX_BATCH,
};
pub use windows::Windows;
