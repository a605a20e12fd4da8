//! replay source (placeholder, being written).
use std::thread::JoinHandle;

use super::{SourceContext, SourceError, SourceUri};

/// Starts the source thread.
pub fn spawn(uri: &SourceUri, _ctx: SourceContext) -> Result<JoinHandle<()>, SourceError> {
    Err(SourceError::Unsupported(format!(
        "{}: not built yet",
        uri.text
    )))
}
