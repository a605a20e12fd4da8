//! The prediction feed behind `/events`: the run loop publishes already-serialized JSON
//! lines, each connected client gets them through its own bounded queue.
//!
//! Publishing never waits for a client: a client that falls [`buffer`](PredictionFeed::new)
//! lines behind loses its oldest queued lines, and every line lost is counted on the
//! status board ([`EventCounters::dropped`](crate::status::EventCounters)). The queues are
//! plain mutex-guarded deques (held for a push or a pop, never across a wait) with a
//! [`Notify`] that wakes the client's task in the HTTP server's runtime.
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::status::StatusBoard;

/// Most `/events` clients served at once; more are answered 503.
pub const MAX_EVENT_CLIENTS: usize = 32;

/// The publishing end of `/events`; clones share the same clients.
#[derive(Debug, Clone)]
pub struct PredictionFeed(Arc<Feed>);

#[derive(Debug)]
struct Feed {
    buffer: usize,
    board: StatusBoard,
    clients: Mutex<Vec<Arc<ClientQueue>>>,
}

/// One client's pending lines.
#[derive(Debug, Default)]
struct ClientQueue {
    lines: Mutex<VecDeque<Arc<str>>>,
    ready: Notify,
}

impl ClientQueue {
    fn lines(&self) -> MutexGuard<'_, VecDeque<Arc<str>>> {
        // A poisoned queue is still a queue of whole lines.
        self.lines.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PredictionFeed {
    /// A feed whose clients may each lag `buffer` lines (at least 1) behind, counting on
    /// `board`.
    pub fn new(buffer: usize, board: StatusBoard) -> PredictionFeed {
        PredictionFeed(Arc::new(Feed {
            buffer: buffer.max(1),
            board,
            clients: Mutex::new(Vec::new()),
        }))
    }

    /// Hands `line` (one JSON object, no newline) to every connected client without
    /// waiting for any; a client whose queue is full loses its oldest line.
    pub fn publish(&self, line: Arc<str>) {
        let counters = self.0.board.event_counters();
        counters.published.fetch_add(1, Ordering::Relaxed);
        for client in self.clients().iter() {
            let mut lines = client.lines();
            if lines.len() >= self.0.buffer {
                lines.pop_front();
                counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            lines.push_back(line.clone());
            drop(lines);
            client.ready.notify_one();
        }
    }

    /// A new client's subscription, or `None` when [`MAX_EVENT_CLIENTS`] are connected.
    pub(super) fn subscribe(&self) -> Option<Subscription> {
        let mut clients = self.clients();
        if clients.len() >= MAX_EVENT_CLIENTS {
            return None;
        }
        let queue = Arc::new(ClientQueue::default());
        clients.push(queue.clone());
        let counters = self.0.board.event_counters();
        counters.clients.fetch_add(1, Ordering::Relaxed);
        Some(Subscription {
            queue,
            feed: self.0.clone(),
        })
    }

    fn clients(&self) -> MutexGuard<'_, Vec<Arc<ClientQueue>>> {
        self.0.clients.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One connected client's end of the feed; dropping it disconnects the client.
pub(super) struct Subscription {
    queue: Arc<ClientQueue>,
    feed: Arc<Feed>,
}

impl Subscription {
    /// The next line for this client, waiting until one is published.
    pub(super) async fn next(&self) -> Arc<str> {
        loop {
            if let Some(line) = self.queue.lines().pop_front() {
                return line;
            }
            self.queue.ready.notified().await;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut clients = self.feed.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.retain(|c| !Arc::ptr_eq(c, &self.queue));
        let counters = self.feed.board.event_counters();
        counters.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::ModelStatus;

    fn line(i: usize) -> Arc<str> {
        format!("{{\"n\":{i}}}").into()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn a_client_that_falls_behind_loses_its_oldest_lines_and_they_are_counted() {
        let board = StatusBoard::new(ModelStatus::default());
        let feed = PredictionFeed::new(3, board.clone());
        let (slow, fast) = (feed.subscribe().unwrap(), feed.subscribe().unwrap());
        let rt = runtime();
        let mut fast_got = Vec::new();
        for i in 0..5 {
            feed.publish(line(i));
            fast_got.push(rt.block_on(fast.next()));
        }
        let slow_got: Vec<_> = (0..3).map(|_| rt.block_on(slow.next())).collect();
        assert_eq!(fast_got, (0..5).map(line).collect::<Vec<_>>());
        assert_eq!(slow_got, (2..5).map(line).collect::<Vec<_>>());
        let totals = board.snapshot().events;
        assert_eq!(
            (totals.published, totals.dropped, totals.clients),
            (5, 2, 2)
        );
        drop(slow);
        assert_eq!(board.snapshot().events.clients, 1);
    }

    #[test]
    fn publishing_with_no_client_is_counted_and_kept_nowhere() {
        let board = StatusBoard::new(ModelStatus::default());
        let feed = PredictionFeed::new(8, board.clone());
        feed.publish(line(0));
        let client = feed.subscribe().unwrap();
        feed.publish(line(1));
        assert_eq!(runtime().block_on(client.next()), line(1));
        assert_eq!(board.snapshot().events.published, 2);
    }

    #[test]
    fn clients_beyond_the_limit_are_refused() {
        let feed = PredictionFeed::new(1, StatusBoard::new(ModelStatus::default()));
        let held: Vec<_> = (0..MAX_EVENT_CLIENTS).map(|_| feed.subscribe()).collect();
        assert!(held.iter().all(Option::is_some));
        assert!(feed.subscribe().is_none());
    }
}
