//! The DAGR classifier head, as plain forward code over one flat `f32` parameter slice.
//!
//! The head sits on top of the frozen ONNX backbone: each modality's feature vector
//! `feat_m` (length `feat_dim`) is projected to an embedding `z_m = W_m feat_m + b_m`
//! (length `embed_dim`), the embeddings of the present modalities are averaged
//! (`fused = sum_{m present} z_m / max(1, number present)`), and a linear classifier gives
//! `logits = W_c fused + b_c` (length `classes`). This is the head of DESIGN.md ("Model
//! package") and of `model.json`'s `head` section.
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
mod shape;

pub use forward::{Activations, Head, HeadError};
pub use shape::{HeadShape, ParamBlock, MODALITIES};
