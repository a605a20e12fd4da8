//! `dagr adapt` end to end: a simulated capture of a room and person the reference model
//! never saw adapts its head into a package that loads and that `dagr replay --model` runs;
//! bad input (no labels, an unknown class, a labeled class without windows, a directory
//! that is not a package, a head from another model, an existing --out) is refused with a
//! message naming it, exit 2, and nothing written; the validation gate refuses a head it
//! cannot validate with exit 4.
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use dagr_host::capture::{CaptureReader, CaptureWriter, Entry, Label};
use dagr_infer::ModelPackage;

use crate::support::{dagr, run_ok};

/// The tests sharing [`capture`]; the last one to finish removes its directory.
static USERS: AtomicUsize = AtomicUsize::new(2);

fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/reference")
}

/// A 40 s labeled capture of room 47 and subject 67 (held out from the reference model's
/// training), simulated once for the tests of this module.
fn capture() -> &'static Path {
    static CAPTURE: OnceLock<PathBuf> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("dagr-adapt-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("room47.mcap");
        let p = path.to_str().unwrap();
        run_ok(&[
            "sim",
            "--room",
            "47",
            "--subject",
            "67",
            "--seed",
            "5",
            "--duration",
            "40",
            "--out",
            p,
        ]);
        path
    })
}

/// Called by each user of [`capture`] at its end.
fn release_capture() {
    if USERS.fetch_sub(1, Ordering::SeqCst) == 1 {
        let _ = std::fs::remove_dir_all(capture().parent().unwrap());
    }
}

/// Removes [`capture`]'s directory when a test using it ends, passed or failed.
struct CaptureUser;

impl Drop for CaptureUser {
    fn drop(&mut self) {
        release_capture();
    }
}

fn adapt(args: &[&Path], flags: &[&str]) -> Output {
    let mut cmd = dagr();
    cmd.arg("adapt");
    let mut names = ["--capture", "--model", "--out"].iter();
    for arg in args {
        if let Some(name) = names.next() {
            cmd.arg(name);
        }
        cmd.arg(arg);
    }
    cmd.args(flags).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `capture` with its labels replaced by `labels` (chunks, statuses and metadata kept).
fn relabel(capture: &Path, to: &Path, labels: &[Label]) {
    let mut reader = CaptureReader::open(capture).unwrap();
    let epoch = reader
        .metadata()
        .get("gateway_epoch_unix_ns")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut writer = CaptureWriter::create(to, epoch).unwrap();
    for stream in reader.streams() {
        writer.add_stream(&stream).unwrap();
    }
    for entry in reader.by_ref() {
        match entry {
            Entry::Chunk {
                stream,
                log_ns,
                publish_ns,
                bytes,
            } => writer
                .write_chunk(&stream.name, log_ns, publish_ns, &bytes)
                .unwrap(),
            Entry::Status(status) => writer.write_status(&status).unwrap(),
            Entry::Label(_) => {}
        }
    }
    writer.write_metadata(reader.metadata().clone()).unwrap();
    for label in labels {
        writer.write_label(label).unwrap();
    }
    writer.finish().unwrap();
}

fn label(start: f64, end: f64, class: &str) -> Label {
    Label {
        start,
        end,
        class: class.into(),
    }
}

#[test]
fn adapting_to_an_unseen_room_writes_a_package_that_replay_runs() {
    let _user = CaptureUser;
    let capture = capture();
    let dir = capture.parent().unwrap().join("happy");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("adapted");
    let run = adapt(&[capture, &reference(), &out], &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        err.contains("  epoch   1/30  loss "),
        "progress per epoch: {err}"
    );
    assert!(err.contains("val accuracy"), "{err}");
    assert!(err.contains("held-out windows before: accuracy"), "{err}");
    assert!(
        err.contains("dagr adapt: note: one capture: the gate holds out windows of that same"),
        "{err}"
    );
    // 40 s do not show every activity: the others are named and left out of the loss.
    assert!(
        err.contains("dagr adapt: no labeled window of ")
            && err.contains(
                ": left out of the loss, so the head is not taught that they never happen"
            ),
        "{err}"
    );

    let package = ModelPackage::load(&out).unwrap();
    let json = package.model_json();
    let record = &json["adaptation"];
    assert_eq!(record["accepted"], true);
    assert_eq!(record["data"][0], capture.display().to_string());
    // The gate's rule: better held-out accuracy, or the same accuracy at a lower loss.
    let score = |when: &str| {
        let s = &record["validation"][when];
        (s["accuracy"].as_f64().unwrap(), s["loss"].as_f64().unwrap())
    };
    let (before, after) = (score("before"), score("after"));
    assert!(
        after.0 > before.0 || (after.0 == before.0 && after.1 < before.1),
        "the gate passed: (accuracy, loss) {after:?} against {before:?}"
    );
    assert!(record["windows"].as_u64().unwrap() >= 40, "{record}");
    let source = ModelPackage::load(&reference()).unwrap();
    assert_ne!(package.head_params(), source.head_params());
    // The norm guard's band moved with the head, and stderr says by how much.
    let band = package
        .norm_band()
        .expect("the adapted package keeps a norm guard");
    assert_ne!(Some(band), source.norm_band());
    // As f32, the band's type: serde_json reads a float back within an ulp of what it wrote.
    let recorded: Vec<f32> = (record["norm_band"]["bounds"].as_array().unwrap().iter())
        .map(|b| b.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(recorded, band.to_vec());
    assert!(
        err.contains("norm guard band moved with the head: mmwave "),
        "{err}"
    );

    let replay = run_ok(&[
        "replay",
        "--json",
        "--model",
        out.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert!(
        !replay.stdout.is_empty(),
        "the adapted package recognizes windows"
    );
    assert!(stderr(&replay).contains("accuracy"), "{}", stderr(&replay));

    // The same --out again: refused without --force, untouched.
    let before_bytes = std::fs::read(out.join("model.json")).unwrap();
    let again = adapt(&[capture, &reference(), &out], &[]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("exists (use --force to overwrite)"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(out.join("model.json")).unwrap(), before_bytes);
}

/// Asserts a refusal: `code`, every part of `message` on stderr, no --out, no temporary
/// directory left beside it.
fn assert_refused(run: &Output, code: i32, message: &[&str], out: &Path) {
    let err = stderr(run);
    assert_eq!(run.status.code(), Some(code), "{err}");
    for part in message {
        assert!(err.contains(part), "stderr lacks {part:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "{} written", out.display());
    let parent = out.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary output left: {leftovers:?}");
}

#[test]
fn bad_input_is_refused_naming_it_and_nothing_is_written() {
    let _user = CaptureUser;
    let capture = capture();
    let dir = capture.parent().unwrap().join("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("adapted");
    let model = reference();

    // A capture without labels.
    let unlabeled = dir.join("unlabeled.mcap");
    relabel(capture, &unlabeled, &[]);
    let run = adapt(&[&unlabeled, &model, &out], &[]);
    assert_refused(&run, 2, &["unlabeled.mcap: no labels"], &out);

    // A label naming a class the model does not have: named, with the model's classes.
    let yoga = dir.join("yoga.mcap");
    relabel(
        capture,
        &yoga,
        &[label(2.0, 12.0, "walking"), label(12.0, 30.0, "yoga")],
    );
    let run = adapt(&[&yoga, &model, &out], &[]);
    assert_refused(
        &run,
        2,
        &[
            "yoga.mcap: label 12.00-30.00 s: class `yoga` is not one of the model's classes",
            "empty_room, walking, sitting_down",
        ],
        &out,
    );

    // A labeled class whose labels cover no window's centre (after the data ends).
    let late = dir.join("late.mcap");
    relabel(
        capture,
        &late,
        &[label(0.0, 30.0, "walking"), label(500.0, 501.0, "jumping")],
    );
    let run = adapt(&[&late, &model, &out], &[]);
    assert_refused(
        &run,
        2,
        &[
            "class `jumping` is labeled in",
            "late.mcap but no window has its centre",
        ],
        &out,
    );

    // A --model that is not a package.
    let empty = dir.join("not-a-package");
    std::fs::create_dir_all(&empty).unwrap();
    let run = adapt(&[capture, &empty, &out], &[]);
    assert_refused(&run, 2, &["not-a-package/model.json: missing"], &out);

    // A head from another model: head.safetensors is not the head inside model.onnx.
    let foreign = dir.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    for file in ["model.json", "model.onnx"] {
        std::fs::copy(model.join(file), foreign.join(file)).unwrap();
    }
    let source = ModelPackage::load(&model).unwrap();
    let other: Vec<f32> = source.head_params().iter().map(|p| -p).collect();
    let bytes = source.head_safetensors_with(&other).unwrap();
    std::fs::write(foreign.join("head.safetensors"), bytes).unwrap();
    let run = adapt(&[capture, &foreign, &out], &[]);
    assert_refused(
        &run,
        2,
        &[
            "head.safetensors is not the head inside model.onnx",
            "another model",
        ],
        &out,
    );

    // Nothing held out: the gate cannot validate, so it refuses (exit 4).
    let run = adapt(
        &[capture, &model, &out],
        &["--holdout", "0", "--epochs", "2"],
    );
    assert_refused(
        &run,
        4,
        &[
            "validation gate refused",
            "no held-out windows",
            "--accept-worse",
        ],
        &out,
    );
}
