//! Recognition: a synchronizer [`Window`] through preprocessing and the model package's
//! classifier to a [`Prediction`].
//!
//! [`Recognizer::open`] loads a model package (`dagr_infer::ModelPackage`), checks that
//! its `preprocess` object in model.json is this build's [`PreprocessSpec`] for its window
//! and hop ([`spec_check`]: a mismatch stops start-up naming model.json and the first
//! differing field with both values), and opens its classifier (backbone on an ONNX
//! engine, head in native Rust). Windows are cut with the model's `window_s` and `hop_s`
//! ([`Recognizer::sync_config`]). [`Recognizer::recognize`] turns one window into a
//! prediction; [`tally`] scores predictions against a capture's labels; [`replay`] does
//! both over a capture; [`live`] is the sink that recognizes the windows of running
//! sources, keeping the last ones' backbone features in [`recent`] for labels given later.
//! The head can be replaced while recognizing ([`Recognizer::replace_head`]): each
//! prediction names the version of the head that made it.
//!
//! This module must not know where windows come from beyond the pipeline and captures, nor
//! where predictions go (stdout, HTTP): callers print them.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dagr_head::NormBand;
use dagr_infer::{Classifier, EngineKind, EngineOptions, ModelPackage, WindowInput};

use crate::capture::seconds;
use crate::preprocess::tag_order::TagOrder;
use crate::preprocess::{
    preprocess_into, PreprocessSpec, Preprocessor, Tensors, RFID_TAGS, WIFI_LINKS,
};
use crate::sync::{SyncConfig, Window};

pub mod live;
pub mod prediction;
pub mod priority;
pub mod recent;
pub mod replay;
pub mod spec_check;
pub mod tally;

pub use prediction::Prediction;
pub use spec_check::{check_spec, SpecMismatch};
pub use tally::Tally;

/// Why a model package cannot recognize windows here.
#[derive(Debug, thiserror::Error)]
pub enum RecognizeError {
    /// The package is missing, malformed or inconsistent.
    #[error("model package {}", dir.display())]
    Package {
        /// The package directory.
        dir: PathBuf,
        /// What is wrong (names the file and field).
        #[source]
        source: dagr_infer::PackageError,
    },
    /// model.json's preprocessing is not this build's.
    #[error("{}: the model was trained on other tensors than this build makes", file.display())]
    Spec {
        /// model.json's path.
        file: PathBuf,
        /// The first differing field.
        #[source]
        source: SpecMismatch,
    },
    /// model.json's window or hop cannot cut windows.
    #[error("{}: `window_s` {window_s} / `hop_s` {hop_s}: expected 0 < hop_s <= window_s", file.display())]
    Geometry {
        /// model.json's path.
        file: PathBuf,
        /// The window length it says.
        window_s: f64,
        /// The hop it says.
        hop_s: f64,
    },
    /// The engine could not open or run the model.
    #[error("model {name}: inference failed")]
    Inference {
        /// The package's name.
        name: String,
        /// Why.
        #[source]
        source: dagr_infer::InferError,
    },
}

/// A model package ready to recognize windows.
pub struct Recognizer {
    package: ModelPackage,
    classifier: Classifier,
    spec: PreprocessSpec,
    classes: Arc<[Arc<str>]>,
    /// Tag order and scratch buffers, kept from window to window.
    pre: Preprocessor,
    /// The model's inputs, overwritten for each window.
    tensors: Tensors,
    /// The version of the head in use (0: the package's own).
    head_version: u64,
}

impl Recognizer {
    /// Loads the package in `dir`, checks its preprocessing against this build's and opens
    /// its classifier on `engine`, ONNX Runtime on one intra-op thread: windows are
    /// recognized one at a time, and a pool of threads spins beside the one that works
    /// (live, 7.3 % of a core against 1.2 % on one thread; a replay on one core took twice
    /// the CPU; BENCHMARKS.md).
    pub fn open(dir: &Path, engine: EngineKind) -> Result<Recognizer, RecognizeError> {
        let package = ModelPackage::load(dir).map_err(|source| RecognizeError::Package {
            dir: dir.to_path_buf(),
            source,
        })?;
        let file = package.dir().join("model.json");
        let (window_s, hop_s) = (package.window_s(), package.hop_s());
        if !(hop_s > 0.0 && hop_s <= window_s && window_s.is_finite()) {
            return Err(RecognizeError::Geometry {
                file,
                window_s,
                hop_s,
            });
        }
        let spec = PreprocessSpec::new(window_s, hop_s);
        check_spec(package.preprocess_spec(), &spec)
            .map_err(|source| RecognizeError::Spec { file, source })?;
        let one_thread = EngineOptions {
            threads: Some(1),
            ..EngineOptions::default()
        };
        let classifier =
            Classifier::open_with(&package, engine, &one_thread).map_err(|source| {
                RecognizeError::Inference {
                    name: package.name().to_string(),
                    source,
                }
            })?;
        let classes = package
            .classes()
            .iter()
            .map(|c| Arc::from(c.as_str()))
            .collect();
        let tensors = Tensors::zeros(&spec);
        Ok(Recognizer {
            package,
            classifier,
            spec,
            classes,
            pre: Preprocessor::new(),
            tensors,
            head_version: 0,
        })
    }

    /// RFID rows follow `tag_order` (the deployment's tag list) instead of EPC order.
    pub fn with_tag_order(mut self, tag_order: TagOrder) -> Self {
        self.pre = Preprocessor::with_tag_order(tag_order);
        self
    }

    /// The loaded package.
    pub fn package(&self) -> &ModelPackage {
        &self.package
    }

    /// The engine running the model's backbone.
    pub fn engine(&self) -> EngineKind {
        self.classifier.engine_kind()
    }

    /// The head's current parameters (`dagr_head::HeadShape`'s flat layout).
    pub fn head_params(&self) -> &[f32] {
        self.classifier.head_params()
    }

    /// The norm guard's band in use with the current head.
    pub fn norm_band(&self) -> Option<NormBand> {
        self.classifier.norm_band()
    }

    /// The version of the head in use (0: the package's own head).
    pub fn head_version(&self) -> u64 {
        self.head_version
    }

    /// Puts head `params` with its norm guard band in use as `version` from the next window
    /// on, returning the parameters it replaces; refused, and nothing changed, when `params`
    /// do not fit the head's shape.
    pub fn replace_head(
        &mut self,
        params: Vec<f32>,
        norm_band: Option<NormBand>,
        version: u64,
    ) -> Result<Vec<f32>, dagr_infer::InferError> {
        let old = self.classifier.replace_head(params, norm_band)?;
        self.head_version = version;
        Ok(old)
    }

    /// The preprocessing the model takes (this build's, checked at open).
    pub fn spec(&self) -> &PreprocessSpec {
        &self.spec
    }

    /// The model's classes, in its output order.
    pub fn classes(&self) -> &Arc<[Arc<str>]> {
        &self.classes
    }

    /// Window geometry from model.json, each modality's history ring sized from its rate
    /// there (radar frames, CSI packets per link times the links, RFID reads per tag times
    /// the tags the tensor holds); lateness and coverage as the gateway's defaults.
    pub fn sync_config(&self) -> SyncConfig {
        let (window_ns, hop_ns) = self.geometry_ns();
        SyncConfig {
            window_ns,
            hop_ns,
            ..SyncConfig::default()
        }
        .sized_for(self.rates_hz())
    }

    /// Window length and hop from model.json, ns.
    pub fn geometry_ns(&self) -> (u64, u64) {
        let ns = |s: f64| (s * 1e9).round() as u64;
        (ns(self.spec.window_s), ns(self.spec.hop_s))
    }

    /// Records per second per modality the model's grids are made for: radar frames, CSI
    /// packets per link times the links, reads per tag times the tags the tensors hold.
    pub fn rates_hz(&self) -> [f64; 3] {
        let spec = &self.spec;
        let per_s = |n: usize| n as f64 / spec.window_s;
        [
            per_s(spec.mmwave_frames),
            per_s(spec.wifi_steps) * WIFI_LINKS as f64,
            per_s(spec.rfid_steps) * RFID_TAGS as f64,
        ]
    }

    /// The backbone features (`feat_mmwave`, `feat_wifi`, `feat_rfid`) of the window last
    /// recognized: what the head took, cached to adapt it.
    pub fn last_features(&self) -> [&[f32]; 3] {
        let features = &self.classifier.last_scores().features;
        [0, 1, 2].map(|m| features[m].as_slice())
    }

    /// Recognizes `window`; `label` is its ground truth when known.
    pub fn recognize(
        &mut self,
        window: &Window,
        label: Option<Arc<str>>,
    ) -> Result<Prediction, RecognizeError> {
        preprocess_into(window, &self.spec, &mut self.pre, &mut self.tensors);
        let tensors = &self.tensors;
        let present = window.present();
        let input = WindowInput {
            mmwave: &tensors.mmwave,
            wifi: &tensors.wifi,
            rfid: &tensors.rfid,
            present,
        };
        let scores =
            self.classifier
                .classify(&input)
                .map_err(|source| RecognizeError::Inference {
                    name: self.package.name().to_string(),
                    source,
                })?;
        Ok(Prediction {
            t: seconds(window.end_ns),
            start: seconds(window.start_ns),
            class: self.classes[scores.class].clone(),
            score: scores.probs[scores.class],
            probs: scores.probs.clone(),
            classes: self.classes.clone(),
            present,
            set_aside: std::array::from_fn(|m| present[m] && !scores.fused[m]),
            label,
            head: self.head_version,
        })
    }
}

/// The committed reference model's directory when `--model` is not given: `models/reference`
/// of the checkout the running binary was built in (found from the binary's own path, so a
/// moved checkout still works), else of the checkout this crate was compiled from.
pub fn default_model_dir() -> PathBuf {
    const REFERENCE: &str = "models/reference";
    let beside_binary = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .map(|dir| dir.join(REFERENCE))
            .find(|dir| dir.join("model.json").is_file())
    });
    beside_binary.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(REFERENCE)
    })
}
