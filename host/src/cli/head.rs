//! `dagr head rollback --state DIR`: rolls a stopped gateway back to its previous head, so
//! that the next `dagr run` starts with it. A running gateway rolls back over HTTP
//! (`POST /head/rollback`), which also renames its stored head away.
use std::path::Path;

use dagr_host::online::store::HeadStore;

use super::{Outcome, UsageError};

/// Renames the newest head stored in `state` (`[adapt] dir`) away and says which head the
/// next start uses.
pub fn rollback(state: &Path) -> Outcome {
    if !state.is_dir() {
        return Err(UsageError(format!(
            "--state {}: not a directory (the [adapt] dir of the gateway's config)",
            state.display()
        ))
        .into());
    }
    let store = HeadStore::open(state)?;
    let Some(rolled) = store.roll_back()? else {
        return Err(UsageError(format!(
            "--state {}: no adapted head stored, nothing to roll back",
            state.display()
        ))
        .into());
    };
    let next = match store.heads()?.first() {
        Some(head) => format!("adapted head {} ({})", head.version, head.dir.display()),
        None => "the model's own head (version 0)".to_string(),
    };
    println!(
        "rolled back head {} (kept as {}); the next start uses {next}",
        rolled.version,
        state
            .join(format!("rolled-back-{}", rolled.version))
            .display()
    );
    Ok(())
}
