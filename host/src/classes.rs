//! The activity classes and ground-truth labels of the model/dataset contract, from the
//! `dagr-classes` crate the simulator shares (see its docs for what they are).
//!
//! This module must not know how an activity looks to a sensor nor how windows are cut.
pub use dagr_classes::{class_names, Activity};
