//! `dagr dataset export`: labeled captures to safetensors shards, a manifest and splits.
use std::path::{Path, PathBuf};

use dagr_host::dataset::{export, MANIFEST_FILE, SPLITS_FILE};
use dagr_host::preprocess::PreprocessSpec;

use dagr_host::output::{Overwrite, StagedDir};

use super::{out_error, Failure, Outcome, UsageError};

/// Exports `captures` into `out` with `window_s`-second windows every `hop_s`.
pub fn export_run(
    captures: &[PathBuf],
    out: &Path,
    window_s: f64,
    hop_s: f64,
    overwrite: Overwrite,
) -> Outcome {
    // Each is in range (clap checked); together, windows must not leave gaps.
    if hop_s > window_s {
        return Err(UsageError(format!(
            "--hop {hop_s}: expected at most --window {window_s}"
        ))
        .into());
    }
    let spec = PreprocessSpec::new(window_s, hop_s);
    let staged = out_error(StagedDir::new(out, overwrite))?;
    let manifest = export(captures, staged.path(), &spec)?;
    for f in &manifest.files {
        if let Some(w) = &f.warning {
            eprintln!("dagr dataset export: warning: {}: {w}", f.capture);
        }
        let file = if f.file.is_empty() {
            "(no labeled window)"
        } else {
            &f.file
        };
        eprintln!(
            "  {} -> {file}: {} windows (room {}, subject {}; skipped {} unlabeled, {} unknown class)",
            f.capture, f.windows, f.room, f.subject, f.unlabeled, f.unknown_class
        );
    }
    if manifest.counts.windows == 0 {
        return Err(Failure::NothingDecodable(format!(
            "no labeled window in any capture; {} not written",
            out.display()
        )));
    }
    out_error(staged.commit())?;
    eprintln!(
        "dagr dataset export: {} windows into {} ({MANIFEST_FILE}, {SPLITS_FILE})",
        manifest.counts.windows,
        out.display()
    );
    let lost: Vec<&str> = manifest
        .files
        .iter()
        .filter_map(|f| f.lost.as_deref())
        .collect();
    if lost.is_empty() {
        Ok(())
    } else {
        Err(Failure::DataLost(lost.join("\n")))
    }
}
