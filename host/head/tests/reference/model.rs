//! The committed reference model's head: its shape and flat parameters from
//! head.safetensors, its fusion weights and the DAGR settings of its head batches from
//! model.json.

use std::path::{Path, PathBuf};

use dagr_head::{DagrConfig, Distance, Form, HeadShape, ParamBlock};
use safetensors::{Dtype, SafeTensors};

type Array = dagr_npz::Array<f64>;
use std::collections::BTreeMap;

/// models/reference/ of this checkout.
pub fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/reference")
}

/// head.safetensors' tensor name of a block of the flat layout.
fn tensor_name(block: ParamBlock) -> String {
    const NAMES: [&str; 3] = ["mmwave", "wifi", "rfid"];
    match block {
        ParamBlock::ProjWeight(m) => format!("head.proj.{}.weight", NAMES[m]),
        ParamBlock::ProjBias(m) => format!("head.proj.{}.bias", NAMES[m]),
        ParamBlock::ClassifierWeight => "head.classifier.weight".into(),
        ParamBlock::ClassifierBias => "head.classifier.bias".into(),
    }
}

/// The reference head's shape and its parameters in the flat layout.
pub fn reference_head() -> (HeadShape, Vec<f32>) {
    let path = reference_dir().join("head.safetensors");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tensors =
        SafeTensors::deserialize(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let get = |block| {
        let name = tensor_name(block);
        let t = tensors
            .tensor(&name)
            .unwrap_or_else(|e| panic!("{}: {name}: {e}", path.display()));
        assert_eq!(t.dtype(), Dtype::F32, "{}: {name}", path.display());
        let values: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        (t.shape().to_vec(), values)
    };
    let (proj, _) = get(ParamBlock::ProjWeight(0));
    let (classifier, _) = get(ParamBlock::ClassifierWeight);
    let shape = HeadShape {
        feat_dim: proj[1],
        embed_dim: proj[0],
        classes: classifier[0],
        fusion_weights: fusion_weights(),
    };
    let mut params = vec![f32::NAN; shape.param_count()];
    for block in ParamBlock::ALL {
        let (dims, values) = get(block);
        let (want, rank) = shape.block_dims(block);
        assert_eq!(
            dims,
            want[..rank],
            "{}: {}",
            path.display(),
            tensor_name(block)
        );
        params[shape.range(block)].copy_from_slice(&values);
    }
    (shape, params)
}

/// model.json's `head.fusion_weights`.
fn fusion_weights() -> [f32; 3] {
    let path = reference_dir().join("model.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let weights: Vec<f32> = doc["head"]["fusion_weights"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no head.fusion_weights", path.display()))
        .iter()
        .map(|w| w.as_f64().unwrap() as f32)
        .collect();
    weights.try_into().unwrap()
}

/// The DAGR settings of a head batch: the numeric flags stored in the .npz, the string
/// ones (`form`, `distance`) from model.json's `head_adaptation.dagr`.
pub fn batch_config(arrays: &BTreeMap<String, Array>) -> DagrConfig {
    let path = reference_dir().join("model.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dagr = &doc["head_adaptation"]["dagr"];
    let flag = |name: &str| arrays[&format!("dagr.{name}")].scalar();
    DagrConfig {
        form: match dagr["form"].as_str() {
            Some("lambda") => Form::Lambda,
            Some("pareto") => Form::Pareto,
            other => panic!("{}: head_adaptation.dagr.form {other:?}", path.display()),
        },
        distance: match dagr["distance"].as_str() {
            Some("cosine") => Distance::Cosine,
            Some("l2") => Distance::L2,
            other => panic!(
                "{}: head_adaptation.dagr.distance {other:?}",
                path.display()
            ),
        },
        lambda_d: flag("lambda_d"),
        lambda_a: flag("lambda_a"),
        beta_total: flag("beta_total"),
        beta: flag("beta"),
        tau: flag("tau"),
        tau_d: flag("tau_d"),
        disp_dim: flag("disp_dim") as usize,
        disp_normalized: flag("disp_normalized") != 0.0,
    }
}

/// Owned windows read from a head batch (features rounded to f32).
pub struct OwnedWindows {
    pub feats: [Vec<f32>; 3],
    pub present: Vec<[bool; 3]>,
    pub labels: Vec<u16>,
}

impl OwnedWindows {
    /// The `feat_*`, `present` and `labels` arrays of a head batch.
    pub fn from_batch(arrays: &BTreeMap<String, Array>) -> Self {
        let feats = ["feat_mmwave", "feat_wifi", "feat_rfid"].map(|k| arrays[k].f32s());
        let present = arrays["present"]
            .values
            .chunks_exact(3)
            .map(|r| [r[0] > 0.5, r[1] > 0.5, r[2] > 0.5])
            .collect();
        let labels = arrays["labels"].values.iter().map(|&l| l as u16).collect();
        OwnedWindows {
            feats,
            present,
            labels,
        }
    }

    /// The borrowed view the trainer takes.
    pub fn view(&self) -> dagr_head::Windows<'_> {
        dagr_head::Windows {
            feats: [&self.feats[0], &self.feats[1], &self.feats[2]],
            present: &self.present,
            labels: &self.labels,
        }
    }
}
