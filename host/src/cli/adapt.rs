//! `dagr adapt`: the head of a model package adapted to labeled captures (a new room, new
//! people) and written as a new package; progress per epoch and the held-out scores before
//! and after on standard error. The validation gate refuses a head that is no better on the
//! held-out windows: exit 4, nothing written, unless --accept-worse.
use std::path::PathBuf;

use clap::Args;
use dagr_host::adapt::{
    adapt_head, check_own_head, features_from_captures, write_package, AdaptError, AdaptOutcome,
    AdaptSettings, AdaptationRecord, CaptureFeatures,
};
use dagr_host::output::{check_target, Overwrite};
use dagr_host::recognize::{default_model_dir, Recognizer};
use dagr_infer::{EngineKind, ModelPackage};

use super::{out_error, Failure, Outcome};

/// `dagr adapt`'s flags.
#[derive(Args, Debug)]
pub struct AdaptArgs {
    /// Labeled captures to adapt on (`dagr sim --out` or `dagr record` output with labels);
    /// each window takes the class of the label covering its centre, as in `dagr replay
    /// --model` and `dagr dataset export`.
    #[arg(long = "capture", value_name = "FILE", required = true, num_args = 1..)]
    pub captures: Vec<PathBuf>,
    /// The model package to start from (default: the committed models/reference).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// The adapted package's directory. It must not exist unless --force is given; it is
    /// built under a temporary name beside it and renamed when complete.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// Most passes over the training windows (early stopping may end sooner).
    #[arg(long, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub epochs: u32,
    /// Seed of the held-out split, shuffling and augmentation.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Windows per optimizer step (1 to 256).
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub batch: u16,
    /// Share of each class's windows held out to validate on (0 to 0.9; a class keeps at
    /// least one window to train on, so a class needs two windows to be validated).
    #[arg(long, value_name = "F", default_value_t = 0.25, value_parser = fraction)]
    pub holdout: f32,
    /// Write the package even when the validation gate refuses it (the adapted head is no
    /// better than the start on the held-out windows, or there were none to judge by).
    #[arg(long)]
    pub accept_worse: bool,
}

fn fraction(text: &str) -> Result<f32, String> {
    text.parse::<f32>()
        .ok()
        .filter(|f| (0.0..=0.9).contains(f))
        .ok_or_else(|| "expected a fraction in [0, 0.9]".to_string())
}

/// Adapts the package's head on the captures and writes the adapted package.
pub fn run(args: &AdaptArgs) -> Outcome {
    out_error(check_target(&args.out, Overwrite::forced(args.force)))?;
    let model = args.model.clone().unwrap_or_else(default_model_dir);
    let mut recognizer = Recognizer::open(&model, EngineKind::Tract)?;
    check_own_head(recognizer.package())?;
    let settings = settings(recognizer.package(), args)?;
    eprintln!(
        "dagr adapt: model {} ({}), {} capture(s)",
        recognizer.package().name(),
        model.display(),
        args.captures.len()
    );
    let data = features_from_captures(&args.captures, &mut recognizer, &mut |c| {
        let accuracy = c
            .start_accuracy
            .map_or_else(|| "-".to_string(), |a| format!("{a:.3}"));
        eprintln!(
            "  {}: {} labeled windows, start head accuracy {accuracy}",
            c.path.display(),
            c.windows
        );
    })?;
    print_data(&data, recognizer.package());
    if args.captures.len() == 1 {
        eprintln!("{ONE_CAPTURE_NOTE}");
    }
    let package = recognizer.package();
    let outcome = adapt_head(
        package.head_params(),
        package.norm_band().as_ref(),
        package.head_shape(),
        &data.features,
        &settings,
        &mut |e| {
            let val = e.val.map_or_else(
                || "no held-out windows".to_string(),
                |v| format!("val accuracy {:.3} loss {:.4}", v.accuracy, v.loss),
            );
            let mark = if e.improved { "  (best)" } else { "" };
            eprintln!(
                "  epoch {:>3}/{}  loss {:.4} (task {:.4})  {val}{mark}",
                e.epoch, settings.train.epochs, e.train.total, e.train.task
            );
        },
    )?;
    print_outcome(&outcome);
    if !outcome.accepted && !args.accept_worse {
        return Err(Failure::Refused(format!(
            "the validation gate refused the adapted head ({}); {} not written \
             (--accept-worse writes it anyway)",
            refusal(&outcome),
            args.out.display()
        )));
    }
    let data_names = args
        .captures
        .iter()
        .map(|c| c.display().to_string())
        .collect();
    let record = AdaptationRecord::new(
        data_names,
        &outcome,
        &settings,
        package.name(),
        package.classes(),
    );
    write_package(package, &args.out, &outcome.params, &record, args.force)?;
    eprintln!(
        "dagr adapt: wrote {} (head.safetensors, model.onnx with the adapted head, model.json \
         with `adaptation`)",
        args.out.display()
    );
    Ok(())
}

/// model.json's settings with the flags applied.
fn settings(package: &ModelPackage, args: &AdaptArgs) -> Result<AdaptSettings, AdaptError> {
    let mut s = AdaptSettings::from_package(package)?;
    s.train.epochs = args.epochs;
    s.train.batch = usize::from(args.batch);
    s.train.seed = args.seed;
    s.seed = args.seed;
    s.holdout_fraction = args.holdout;
    Ok(s)
}

/// The labeled windows found, per capture and per class.
fn print_data(data: &CaptureFeatures, package: &ModelPackage) {
    for warning in &data.warnings {
        eprintln!("dagr adapt: warning: {warning}");
    }
    let counts = data.features.per_class(package.classes().len());
    let listed: Vec<String> = package
        .classes()
        .iter()
        .zip(&counts)
        .filter(|(_, &n)| n > 0)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    eprintln!(
        "dagr adapt: {} labeled windows: {}",
        data.features.len(),
        listed.join(", ")
    );
    let unlabeled: Vec<&str> = (package.classes().iter().zip(&counts))
        .filter(|(_, &n)| n == 0)
        .map(|(c, _)| c.as_str())
        .collect();
    if !unlabeled.is_empty() {
        eprintln!(
            "dagr adapt: no labeled window of {}: left out of the loss, so the head is not taught \
             that they never happen",
            unlabeled.join(", ")
        );
    }
}

/// Why one capture is a weak basis for adapting: the gate's held-out windows come from it.
const ONE_CAPTURE_NOTE: &str = "dagr adapt: note: one capture: the gate holds out windows of \
    that same capture, so it cannot tell a head that does better in the room from one that \
    learned this capture (measured: one capture of up to 300 s did not help on held-out rooms; \
    models/reports/adapt-few-2026-12-06.md); give two or more captures and check the result on \
    another one with `dagr replay --model`";

/// The held-out scores before and after.
fn print_outcome(outcome: &AdaptOutcome) {
    let r = &outcome.report;
    let scores = |s: Option<dagr_head::Scores>| {
        s.map_or_else(
            || "-".to_string(),
            |s| format!("accuracy {:.3}, loss {:.4}", s.accuracy, s.loss),
        )
    };
    eprintln!(
        "dagr adapt: {} epochs, {} steps; held-out windows before: {}; after: {} (epoch {} kept)",
        r.epochs,
        r.steps,
        scores(r.before),
        scores(r.after),
        r.best_epoch
    );
    if let Some(band) = &outcome.norm_band {
        let moved: Vec<String> = (dagr_infer::MODALITY_NAMES.iter().enumerate())
            .map(|(m, name)| {
                format!(
                    "{name} {:.2} -> {:.2} (x{:.3}, {} windows)",
                    band.source[m], band.bounds[m], band.ratio[m], band.windows[m]
                )
            })
            .collect();
        eprintln!(
            "dagr adapt: norm guard band moved with the head: {}",
            moved.join(", ")
        );
    }
}

/// Why the gate refused.
fn refusal(outcome: &AdaptOutcome) -> &'static str {
    if outcome.report.before.is_none() {
        "no held-out windows to validate on: each class needs two labeled windows"
    } else {
        "no epoch did better than the starting head on the held-out windows"
    }
}
