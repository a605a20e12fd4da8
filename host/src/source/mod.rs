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

use crate::events::{
    Disconnected, EventSender, NodeHeartbeat, RawChunk, SourceCounters, SourceEvent, StopFlag,
};
use crate::format::{Control, Decoded, Transport};
use crate::pipeline::RecordDecoder;

pub mod backoff;
pub mod llrp;
pub mod param;
pub mod replay;
pub mod serial;
pub mod uri;

pub use param::ParamError;
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
/// bytes it writes anyway), so `dagr record` asks for
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
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A parameter of the URI or a file it names is wrong.
    #[error("source {uri:?}")]
    Config {
        /// The URI as written.
        uri: String,
        /// What is wrong with it.
        #[source]
        problem: ParamError,
    },
    /// This kind of source is read from files, not streamed (`dagr decode` reads it).
    #[error("source {uri:?}: this format is read from files only")]
    FileOnly {
        /// The URI as written.
        uri: String,
    },
    /// The capture a replay names cannot be read.
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    /// Starting the thread failed.
    #[error("cannot start source thread")]
    Io(#[source] std::io::Error),
}

impl SourceError {
    /// `problem` in the parameters of `uri`.
    pub fn config(uri: &SourceUri, problem: impl Into<ParamError>) -> SourceError {
        SourceError::Config {
            uri: uri.text.clone(),
            problem: problem.into(),
        }
    }
}

/// Checks everything `uri` asks for that can be checked without its device: parameters,
/// the radar `.cfg` file, the replay speed and capture. A command calls it for every source
/// before it touches its output, so a typo costs nothing.
pub fn check(uri: &SourceUri) -> Result<(), SourceError> {
    match (uri.scheme, uri.transport()) {
        (Scheme::Replay, _) => replay::check(uri),
        (_, Some(Transport::Serial)) => serial::settings::SerialSettings::from_uri(uri).map(drop),
        (_, Some(Transport::Tcp)) => llrp::Settings::from_uri(uri).map(drop),
        (_, _) => Err(SourceError::FileOnly {
            uri: uri.text.clone(),
        }),
    }
}

/// Starts the thread of the source `uri` names.
pub fn spawn(
    uri: &SourceUri,
    ctx: SourceContext,
) -> Result<std::thread::JoinHandle<()>, SourceError> {
    match (uri.scheme, uri.transport()) {
        (Scheme::Replay, _) => replay::spawn(uri, ctx),
        (_, Some(Transport::Serial)) => serial::spawn(uri, ctx),
        (_, Some(Transport::Tcp)) => llrp::spawn(uri, ctx),
        (_, _) => Err(SourceError::FileOnly {
            uri: uri.text.clone(),
        }),
    }
}

/// Keeps the node heartbeats among `control` (what a stream's bytes held besides records)
/// where status reads them, the source's device facts, as arrived at `at_ns`.
pub(crate) fn note_heartbeats(ctx: &SourceContext, control: Vec<Control>, at_ns: u64) {
    for unit in control {
        if let Control::Node(frame) = unit {
            if let dagr_protocols::node::Payload::Heartbeat(heartbeat) = frame.payload {
                ctx.events.counters().device.note_heartbeat(NodeHeartbeat {
                    node: frame.header.node,
                    at_ns,
                    heartbeat,
                });
            }
        }
    }
}

impl SourceContext {
    /// Forwards one read of `bytes` of stream `source` (the context's own name, except for a
    /// replay, which keeps each recorded stream's) that arrived at `arrival_ns`: counts
    /// them, sends them as a [`SourceEvent::Chunk`], then — when a `decoder` is given — decodes them and, if the
    /// context wants records, sends the records and time-sync exchanges they completed.
    /// Returns the protocol traffic the bytes held, for the source's own session. Every
    /// event goes through `send`; an Err means the gateway no longer listens.
    pub(crate) fn forward(
        &self,
        source: &Arc<str>,
        bytes: Vec<u8>,
        arrival_ns: u64,
        decoder: Option<&mut RecordDecoder>,
        send: &dyn Fn(SourceEvent) -> Result<(), Disconnected>,
    ) -> Result<Vec<Control>, Disconnected> {
        let (mut records, mut exchanges, mut control) = (Vec::new(), Vec::new(), Vec::new());
        if let Some(decoder) = decoder {
            decoder.feed(&bytes, arrival_ns, &mut |decoded| match decoded {
                Decoded::Record(record) => records.push(record),
                Decoded::TimeSync(exchange) => exchanges.push(exchange),
                Decoded::Control(c) => control.push(c),
            });
        }
        let counters = self.events.counters();
        SourceCounters::add(&counters.bytes_in, bytes.len() as u64);
        send(SourceEvent::Chunk(RawChunk {
            source: source.clone(),
            arrival_ns,
            bytes,
        }))?;
        if !self.output.records() {
            return Ok(control);
        }
        if !records.is_empty() {
            SourceCounters::add(&counters.records, records.len() as u64);
            send(SourceEvent::Records(records))?;
        }
        for exchange in exchanges {
            send(SourceEvent::TimeSync(exchange))?;
        }
        Ok(control)
    }
}
