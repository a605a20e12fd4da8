//! The gateway's vocabulary: what every stage says to every other.
//!
//! A source thread sends [`SourceEvent`]s — the raw bytes it received ([`RawChunk`], what the
//! recorder stores), the records decoded from them, changes of its connection state
//! ([`SourceStatus`]) and completed node time-sync exchanges — on a channel bounded in
//! events and bytes ([`channel`]) whose memory follows what is queued. A source never
//! blocks silently on a full channel: [`EventSender`] applies
//! an explicit [`OverflowPolicy`] and counts every drop in the source's [`SourceCounters`],
//! which status and metrics read, beside what the device said about itself
//! ([`DeviceFacts`]: an RFID reader's identity, node heartbeats). [`SourceQueue`] shapes a
//! source's channel. The gateway asks every thread to stop with one [`StopFlag`].
//!
//! Sources produce these, capture and the pipeline consume them; this module knows neither
//! (it must not import `source`, `capture` or `cli`): arrows point into it, never out of it
//! except to the record and clock vocabulary its events carry.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use crossbeam_channel::{
    Receiver, RecvError, RecvTimeoutError, Select, SelectedOperation, Sender, TryRecvError,
};

use crate::clock::TimeSyncExchange;
use crate::record::Record;

/// Raw bytes exactly as a source received them, with their arrival time.
#[derive(Debug, Clone)]
pub struct RawChunk {
    /// Source name.
    pub source: Arc<str>,
    /// Gateway monotonic time of arrival, ns.
    pub arrival_ns: u64,
    /// The bytes, unmodified.
    pub bytes: Vec<u8>,
}

/// A source's connection state, reported when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// The device is open and data may flow.
    Connected,
    /// The device went away; the source retries after `retry_in_ms`.
    Disconnected {
        /// Why (the OS or protocol error, in words).
        reason: String,
        /// Backoff before the next attempt.
        retry_in_ms: u64,
    },
    /// The source ended (replay finished, or shutdown requested).
    Finished,
}

/// A state change of one source, with the gateway time it happened at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    /// Source name.
    pub source: Arc<str>,
    /// Gateway monotonic time, ns.
    pub at_ns: u64,
    /// The new state.
    pub state: SourceState,
}

/// What a source thread sends to the gateway.
#[derive(Debug, Clone)]
pub enum SourceEvent {
    /// Bytes as received.
    Chunk(RawChunk),
    /// Records decoded from the preceding chunk(s).
    Records(Vec<Record>),
    /// Connection state change.
    Status(SourceStatus),
    /// A completed time-sync exchange with a node, for its clock model.
    TimeSync(TimeSyncExchange),
}

impl SourceEvent {
    /// About how much memory the event holds, bytes: what a queue's byte budget counts.
    /// A chunk counts its bytes; a record its struct plus four times the wire bytes it was
    /// decoded from (decoded samples are wider than their wire form); the rest their size.
    pub fn weight(&self) -> usize {
        let base = std::mem::size_of::<SourceEvent>();
        base + match self {
            SourceEvent::Chunk(chunk) => chunk.bytes.len(),
            SourceEvent::Records(records) => records
                .iter()
                .map(|r| std::mem::size_of::<Record>() + 4 * r.wire_bytes as usize)
                .sum(),
            SourceEvent::Status(_) | SourceEvent::TimeSync(_) => 0,
        }
    }
}

/// Where the gateway runtime delivers the sources' events (the capture recorder, and for
/// `dagr run` the pipeline): what a consumer of events must offer.
pub trait EventSink {
    /// What can go wrong in the sink; it ends the pump.
    type Error;

    /// Takes one event of one source.
    fn handle(&mut self, event: SourceEvent) -> Result<(), Self::Error>;

    /// Periodic work (closing a capture's chunk...), run at least every [`Self::due_in`].
    fn tick(&mut self) -> Result<(), Self::Error>;

    /// How long the runtime may wait for events before calling [`Self::tick`].
    fn due_in(&self) -> Duration;
}

/// What to do when the gateway's channel is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverflowPolicy {
    /// Discard the oldest queued event to make room (live data stays fresh).
    #[default]
    DropOldest,
    /// Discard the event being sent (what is queued is kept).
    DropNewest,
}

/// Counters a source keeps; shared with status and metrics.
#[derive(Debug, Default)]
pub struct SourceCounters {
    /// Bytes received from the device.
    pub bytes_in: AtomicU64,
    /// Records decoded.
    pub records: AtomicU64,
    /// Events discarded because the channel was full.
    pub dropped_events: AtomicU64,
    /// Connections (re)established.
    pub connects: AtomicU64,
    /// Connections lost.
    pub disconnects: AtomicU64,
    /// What the device said about itself (reader identity, node heartbeats): not a
    /// counter, but shared between the source thread and status the same way.
    pub device: DeviceFacts,
}

/// Who made a connected RFID reader, as its GET_READER_CAPABILITIES_RESPONSE says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderIdentity {
    /// DeviceManufacturerName: the vendor's IANA PEN (25882 = Impinj).
    pub manufacturer: u32,
    /// ModelName: the vendor's model number.
    pub model: u32,
    /// ReaderFirmwareVersion.
    pub firmware: String,
    /// Whether the Impinj extensions (phase, peak RSSI, Doppler) were enabled.
    pub impinj_extensions: bool,
}

/// The latest heartbeat of one sensor node: its health counters as it sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeHeartbeat {
    /// The node's id (frame header).
    pub node: u16,
    /// Gateway monotonic time the heartbeat arrived, ns.
    pub at_ns: u64,
    /// The node's counters.
    pub heartbeat: dagr_protocols::node::Heartbeat,
}

/// Heartbeats kept per source: one per node on the link; a port shared by more nodes
/// than this keeps the first ones seen.
pub const MAX_NODES_PER_SOURCE: usize = 16;

/// What a device last said about itself, written by its source thread and read by status:
/// the identity of the RFID reader it last connected to (kept across disconnects) and the
/// latest heartbeat of each node on a node link.
#[derive(Debug, Default)]
pub struct DeviceFacts {
    reader: Mutex<Option<ReaderIdentity>>,
    heartbeats: Mutex<BTreeMap<u16, NodeHeartbeat>>,
}

impl DeviceFacts {
    /// Notes the identity of the reader just connected to.
    pub fn set_reader(&self, identity: ReaderIdentity) {
        if let Ok(mut slot) = self.reader.lock() {
            *slot = Some(identity);
        }
    }

    /// The identity of the reader last connected to, if any.
    pub fn reader(&self) -> Option<ReaderIdentity> {
        self.reader.lock().map(|g| g.clone()).unwrap_or(None)
    }

    /// Notes a node's heartbeat (replacing its previous one).
    pub fn note_heartbeat(&self, beat: NodeHeartbeat) {
        if let Ok(mut beats) = self.heartbeats.lock() {
            if beats.len() < MAX_NODES_PER_SOURCE || beats.contains_key(&beat.node) {
                beats.insert(beat.node, beat);
            }
        }
    }

    /// The latest heartbeat of every node seen, in node id order.
    pub fn heartbeats(&self) -> Vec<NodeHeartbeat> {
        self.heartbeats
            .lock()
            .map(|g| g.values().copied().collect())
            .unwrap_or_default()
    }
}

impl SourceCounters {
    /// Reads one counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Adds to one counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The sending end a source thread uses: bounded in events and in bytes, never blocking,
/// counting its drops.
#[derive(Clone)]
pub struct EventSender {
    tx: Sender<SourceEvent>,
    // Held to pop the oldest event under DropOldest.
    rx: Receiver<SourceEvent>,
    queued: Arc<Queued>,
    capacity: usize,
    max_bytes: usize,
    policy: OverflowPolicy,
    counters: Arc<SourceCounters>,
}

/// The gateway's end of one source's channel; it keeps the channel's counts right as
/// events are taken out.
pub struct EventReceiver {
    rx: Receiver<SourceEvent>,
    queued: Arc<Queued>,
}

/// What one channel holds now, counted by both ends: the bounds are checked against these,
/// not against a preallocated channel (a bounded crossbeam channel of 64 Ki events
/// touches 4 MiB a source before the first event; five sources were 21 MB of `dagr run`).
#[derive(Debug, Default)]
struct Queued {
    events: AtomicUsize,
    bytes: AtomicUsize,
}

impl Queued {
    /// Counts an event in, before it is visible (so the receiver's subtraction never comes
    /// first); the counts before it.
    fn add(&self, weight: usize) -> (usize, usize) {
        let events = self.events.fetch_add(1, Ordering::AcqRel);
        (events, self.bytes.fetch_add(weight, Ordering::AcqRel))
    }

    /// Counts an event out.
    fn remove(&self, weight: usize) {
        self.events.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(weight, Ordering::AcqRel);
    }
}

/// Events a source may queue before drops start, as `dagr record` sizes its channels:
/// minutes of data at normal rates.
pub const DEFAULT_CAPACITY: usize = 1 << 16;

/// Bytes (by [`SourceEvent::weight`]) a source may queue before drops start: a flooding
/// device (an LLRP reader sending ~100 MB/s) fills this in well under a second, a normal
/// one (tens of KB/s) not in minutes; the events bound alone would allow 64 Ki x 64 KiB
/// reads = 4 GiB.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// The shape of each source's channel: how many events and bytes it holds and what a full
/// one drops (gateway.toml's `[queue]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceQueue {
    /// Events held before drops start.
    pub capacity: usize,
    /// Bytes held (by [`SourceEvent::weight`]) before drops start; one event larger than
    /// this is still taken into an empty queue.
    pub max_bytes: usize,
    /// Which event a full channel drops.
    pub policy: OverflowPolicy,
}

impl Default for SourceQueue {
    fn default() -> Self {
        SourceQueue {
            capacity: DEFAULT_CAPACITY,
            max_bytes: DEFAULT_MAX_BYTES,
            policy: OverflowPolicy::DropOldest,
        }
    }
}

/// A source's channel shaped by `queue`: the source's sending end and the gateway's end.
/// Its memory grows and shrinks with what is queued; [`EventSender::send`] keeps it within
/// `queue`'s bounds.
pub fn channel(queue: SourceQueue, counters: Arc<SourceCounters>) -> (EventSender, EventReceiver) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let queued = Arc::new(Queued::default());
    (
        EventSender {
            tx,
            rx: rx.clone(),
            queued: queued.clone(),
            capacity: queue.capacity.max(1),
            max_bytes: queue.max_bytes,
            policy: queue.policy,
            counters,
        },
        EventReceiver { rx, queued },
    )
}

/// The gateway dropped its receiver: the source should stop.
///
/// Under [`OverflowPolicy::DropOldest`] the sender holds a receiver clone (to pop the
/// oldest event), so the channel never reports this; sources therefore also watch a
/// [`StopFlag`], which is how the gateway asks them to shut down cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

/// Shared request to stop: set by the gateway, polled by source threads between reads
/// (so a TI radar gets its `sensorStop` and an LLRP reader its CLOSE_CONNECTION).
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<std::sync::atomic::AtomicBool>);

impl StopFlag {
    /// Asks every holder to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl EventSender {
    /// Sends without blocking; on a channel full in events or bytes applies the policy and
    /// counts each event dropped.
    pub fn send(&self, event: SourceEvent) -> Result<(), Disconnected> {
        let weight = event.weight();
        loop {
            let (events, bytes) = self.queued.add(weight);
            let fits = events < self.capacity && (bytes == 0 || bytes + weight <= self.max_bytes);
            if fits {
                return self.tx.send(event).map_err(|_| {
                    self.queued.remove(weight);
                    Disconnected
                });
            }
            self.queued.remove(weight);
            SourceCounters::add(&self.counters.dropped_events, 1);
            match self.policy {
                OverflowPolicy::DropNewest => return Ok(()),
                OverflowPolicy::DropOldest => {
                    if let Ok(oldest) = self.rx.try_recv() {
                        self.queued.remove(oldest.weight());
                    }
                }
            }
        }
    }

    /// The counters this sender updates.
    pub fn counters(&self) -> &Arc<SourceCounters> {
        &self.counters
    }

    /// True when the next [`send`](Self::send) might drop an event (the channel is full in
    /// events, or over half its bytes). A source that can wait (a replayed file, unlike a
    /// device) checks this to never drop.
    pub fn is_full(&self) -> bool {
        self.queued.events.load(Ordering::Acquire) >= self.capacity
            || self.queued.bytes.load(Ordering::Acquire) > self.max_bytes / 2
    }
}

impl EventReceiver {
    /// Adds this channel to `select`; complete the operation with [`Self::complete`].
    pub fn select_on<'a>(&'a self, select: &mut Select<'a>) -> usize {
        select.recv(&self.rx)
    }

    /// Completes a `select` operation that chose this channel.
    pub fn complete(&self, op: SelectedOperation<'_>) -> Result<SourceEvent, RecvError> {
        op.recv(&self.rx).map(|event| self.taken(event))
    }

    /// The next event, if one is queued.
    pub fn try_recv(&self) -> Result<SourceEvent, TryRecvError> {
        self.rx.try_recv().map(|event| self.taken(event))
    }

    /// The next event, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<SourceEvent, RecvTimeoutError> {
        self.rx.recv_timeout(timeout).map(|event| self.taken(event))
    }

    /// Every event queued now.
    pub fn try_iter(&self) -> impl Iterator<Item = SourceEvent> + '_ {
        std::iter::from_fn(|| self.try_recv().ok())
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Bytes queued now (by [`SourceEvent::weight`]).
    pub fn queued_bytes(&self) -> usize {
        self.queued.bytes.load(Ordering::Acquire)
    }

    fn taken(&self, event: SourceEvent) -> SourceEvent {
        self.queued.remove(event.weight());
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(n: u64) -> SourceEvent {
        SourceEvent::Status(SourceStatus {
            source: "s".into(),
            at_ns: n,
            state: SourceState::Connected,
        })
    }

    fn queue(capacity: usize, policy: OverflowPolicy) -> SourceQueue {
        SourceQueue {
            capacity,
            policy,
            ..SourceQueue::default()
        }
    }

    fn chunk(n: usize) -> SourceEvent {
        SourceEvent::Chunk(RawChunk {
            source: "s".into(),
            arrival_ns: n as u64,
            bytes: vec![0; n],
        })
    }

    #[test]
    fn the_byte_budget_bounds_a_flood_of_large_chunks_under_either_policy() {
        let one = chunk(64 << 10).weight();
        for policy in [OverflowPolicy::DropOldest, OverflowPolicy::DropNewest] {
            let counters = Arc::new(SourceCounters::default());
            let budget = SourceQueue {
                capacity: 1 << 16,
                max_bytes: 10 * one,
                policy,
            };
            let (tx, rx) = channel(budget, counters.clone());
            for _ in 0..1000 {
                tx.send(chunk(64 << 10)).unwrap();
                assert!(rx.queued_bytes() <= 10 * one, "{policy:?}");
            }
            assert_eq!(
                SourceCounters::get(&counters.dropped_events),
                990,
                "{policy:?}"
            );
            assert!(tx.is_full());
            assert_eq!(rx.try_iter().count(), 10);
            assert_eq!(rx.queued_bytes(), 0, "taking events gives their bytes back");
            assert!(!tx.is_full());
        }
    }

    #[test]
    fn one_event_over_the_budget_still_goes_through_an_empty_queue() {
        let counters = Arc::new(SourceCounters::default());
        let tiny = SourceQueue {
            max_bytes: 16,
            ..SourceQueue::default()
        };
        let (tx, rx) = channel(tiny, counters.clone());
        tx.send(chunk(1000)).unwrap();
        tx.send(chunk(1000)).unwrap();
        assert_eq!(rx.try_iter().count(), 1);
        assert_eq!(SourceCounters::get(&counters.dropped_events), 1);
    }

    fn at(e: SourceEvent) -> u64 {
        match e {
            SourceEvent::Status(s) => s.at_ns,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_event_bound_holds_and_taking_events_frees_room() {
        for policy in [OverflowPolicy::DropOldest, OverflowPolicy::DropNewest] {
            let counters = Arc::new(SourceCounters::default());
            let (tx, rx) = channel(queue(3, policy), counters.clone());
            for n in 0..3 {
                assert!(!tx.is_full(), "{policy:?} after {n}");
                tx.send(status(n)).unwrap();
            }
            assert!(tx.is_full(), "{policy:?}");
            tx.send(status(3)).unwrap();
            assert_eq!(SourceCounters::get(&counters.dropped_events), 1);
            assert_eq!(rx.try_recv().map(at).ok(), Some(policy_first(policy)));
            assert!(!tx.is_full(), "{policy:?}: one taken, room for one");
            tx.send(status(4)).unwrap();
            assert_eq!(SourceCounters::get(&counters.dropped_events), 1);
            assert_eq!(rx.try_iter().count(), 3);
            assert_eq!(rx.queued_bytes(), 0);
        }
    }

    /// The first event left after a fourth was sent into a full queue of three.
    fn policy_first(policy: OverflowPolicy) -> u64 {
        match policy {
            OverflowPolicy::DropOldest => 1,
            OverflowPolicy::DropNewest => 0,
        }
    }

    #[test]
    fn drop_oldest_keeps_the_newest_and_counts_each_drop() {
        let counters = Arc::new(SourceCounters::default());
        let (tx, rx) = channel(queue(2, OverflowPolicy::DropOldest), counters.clone());
        for n in 0..5 {
            tx.send(status(n)).unwrap();
        }
        assert_eq!(SourceCounters::get(&counters.dropped_events), 3);
        assert_eq!(rx.try_iter().map(at).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn device_facts_keep_each_nodes_latest_heartbeat_for_a_bounded_number_of_nodes() {
        let facts = DeviceFacts::default();
        let beat = |node: u16, uptime_us: u64| NodeHeartbeat {
            node,
            at_ns: uptime_us * 1000,
            heartbeat: dagr_protocols::node::Heartbeat {
                uptime_us,
                ..Default::default()
            },
        };
        facts.note_heartbeat(beat(7, 1));
        facts.note_heartbeat(beat(3, 1));
        facts.note_heartbeat(beat(7, 2));
        let kept: Vec<(u16, u64)> = facts
            .heartbeats()
            .iter()
            .map(|b| (b.node, b.heartbeat.uptime_us))
            .collect();
        assert_eq!(kept, [(3, 1), (7, 2)]);
        for node in 100..200 {
            facts.note_heartbeat(beat(node, 1));
        }
        assert_eq!(facts.heartbeats().len(), MAX_NODES_PER_SOURCE);
        facts.note_heartbeat(beat(7, 3));
        assert!(
            facts.heartbeats().contains(&beat(7, 3)),
            "known nodes still update"
        );
        assert_eq!(facts.reader(), None);
    }

    #[test]
    fn drop_newest_keeps_the_queue_and_counts_each_drop() {
        let counters = Arc::new(SourceCounters::default());
        let (tx, rx) = channel(queue(2, OverflowPolicy::DropNewest), counters.clone());
        for n in 0..5 {
            tx.send(status(n)).unwrap();
        }
        assert_eq!(SourceCounters::get(&counters.dropped_events), 3);
        assert_eq!(rx.try_iter().map(at).collect::<Vec<_>>(), vec![0, 1]);
    }
}
