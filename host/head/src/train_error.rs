//! Why a gradient, an optimizer step or a training run was refused. Every check runs
//! before anything is written, so a refused call leaves the caller's buffers as they were.

use crate::forward::HeadError;
use crate::objective::ConfigError;

/// A refused training call (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// A slice (`name`) does not have the length the head's shape and batch need.
    Length {
        name: &'static str,
        expected: usize,
        found: usize,
    },
    /// Window `index` names class `label`, but the head has `classes` classes.
    Label {
        index: usize,
        label: u16,
        classes: usize,
    },
    /// A training or validation index `index` names no window (there are `windows`).
    WindowIndex { index: u32, windows: usize },
    /// A loss over no window is undefined.
    EmptyBatch,
    /// The batch size exceeds what the trainer's buffers were sized for.
    Batch { max: usize, found: usize },
    /// A training setting (`name`) is outside its domain (`expected` says which).
    Setting {
        name: &'static str,
        expected: &'static str,
    },
    /// A DAGR flag is outside its domain.
    Config(ConfigError),
    /// The head refused its parameters or buffers.
    Head(HeadError),
}

impl core::fmt::Display for TrainError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TrainError::Length {
                name,
                expected,
                found,
            } => write!(f, "`{name}`: expected {expected} values, found {found}"),
            TrainError::Label {
                index,
                label,
                classes,
            } => write!(
                f,
                "label of window {index}: class {label}, but the head has {classes} classes"
            ),
            TrainError::WindowIndex { index, windows } => {
                write!(f, "window index {index}: there are only {windows} windows")
            }
            TrainError::EmptyBatch => write!(f, "a batch needs at least one window"),
            TrainError::Batch { max, found } => {
                write!(
                    f,
                    "batch of {found} windows: the buffers hold at most {max}"
                )
            }
            TrainError::Setting { name, expected } => {
                write!(f, "training setting `{name}`: expected {expected}")
            }
            TrainError::Config(e) => e.fmt(f),
            TrainError::Head(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for TrainError {}

impl From<HeadError> for TrainError {
    fn from(e: HeadError) -> Self {
        TrainError::Head(e)
    }
}

impl From<ConfigError> for TrainError {
    fn from(e: ConfigError) -> Self {
        TrainError::Config(e)
    }
}
