//! The trainer against the committed reference model (models/reference/): its head, the
//! PyTorch loss terms and gradients exported next to its parity files, and PyTorch
//! optimizer steps recorded by tests/reference/torch_reference.py.

mod adam_parity;
mod gradient_parity;
mod memory;
mod model;
mod training;
mod variant_parity;
