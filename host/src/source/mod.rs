//! Sources: one thread per device (or replayed capture), turning the device's bytes into
//! [`SourceEvent`]s on a bounded channel (the vocabulary is in [`crate::events`]).
//!
//! Every source sends the raw bytes it received ([`SourceEvent::Chunk`], what the recorder
//! stores), the records decoded from them ([`SourceEvent::Records`]), and changes of its
//! connection state ([`SourceEvent::Status`]).
//!
//! A source knows its device and its protocol's chores (configure a radar, keep an LLRP
//! session, ask a node for the time); it must not know who consumes its events (capture,
//! pipeline, cli) nor map device time (that is [`crate::clock`]'s job).
use std::sync::Arc;

use crate::events::{EventSender, StopFlag};

pub mod backoff;
pub mod llrp;
pub mod replay;
pub mod serial;
pub mod uri;

pub use uri::{Scheme, SourceUri, UriError};

use crate::clock::GatewayClock;

/// Everything a source thread needs from the gateway.
#[derive(Clone)]
pub struct SourceContext {
    /// The source's name (from its URI), stamped on its chunks and records.
    pub name: Arc<str>,
    /// Where its events go.
    pub events: EventSender,
    /// Set when the gateway shuts down.
    pub stop: StopFlag,
    /// The clock arrivals are stamped with.
    pub clock: GatewayClock,
    /// Which events the source sends besides statuses.
    pub output: Output,
}

/// Which events a source sends: recording needs only the raw bytes, everything that reads
/// records needs them decoded too.
///
/// Decoding on the source thread costs as much as decoding in the recorder (which decodes the
/// bytes it writes anyway, see [`crate::capture::Recorder`]), so `dagr record` asks for
/// [`Output::ChunksOnly`] and every byte is decoded once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// [`SourceEvent::Chunk`]s and [`SourceEvent::Status`]es only: no decoding on the source
    /// thread beyond what its protocol needs (an LLRP client still reads the reader's
    /// answers), no [`SourceEvent::Records`] nor [`SourceEvent::TimeSync`], and the
    /// `records` counter stays at 0.
    ChunksOnly,
    /// Chunks, statuses, and the records and time-sync exchanges decoded from the chunks.
    #[default]
    ChunksAndRecords,
}

impl Output {
    /// Whether the source decodes its bytes into records and time-sync exchanges.
    pub fn records(self) -> bool {
        self == Output::ChunksAndRecords
    }
}

/// Why a source could not be started (a device that fails later is retried, not an error).
#[derive(Debug)]
pub enum SourceError {
    /// A parameter of the URI or a file it names is wrong; the text says which.
    Config(String),
    /// This kind of source is not available in this build.
    Unsupported(String),
    /// Starting the thread failed.
    Io(std::io::Error),
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Config(m) | SourceError::Unsupported(m) => f.write_str(m),
            SourceError::Io(e) => write!(f, "cannot start source thread: {e}"),
        }
    }
}

impl std::error::Error for SourceError {}

/// Starts the thread of the source `uri` names.
pub fn spawn(
    uri: &SourceUri,
    ctx: SourceContext,
) -> Result<std::thread::JoinHandle<()>, SourceError> {
    match uri.scheme {
        Scheme::Serial(_) => serial::spawn(uri, ctx),
        Scheme::Llrp => llrp::spawn(uri, ctx),
        Scheme::Replay => replay::spawn(uri, ctx),
    }
}
