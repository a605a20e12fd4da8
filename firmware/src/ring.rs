//! The sample ring: a lock-free single-producer single-consumer queue between a sensor
//! driver (interrupt context, the producer) and the main loop (the consumer).
//!
//! The driver must never wait, so a push into a full ring drops the sample and counts it
//! ([`SampleConsumer::dropped`], the heartbeat's `dropped_backpressure`); the ring also
//! records the most slots ever in use ([`SampleConsumer::high_water`]) so a too-small ring
//! shows up in the heartbeat before it drops anything. The queue is
//! [`heapless::spsc::Queue`]; the counters are 32-bit atomics, which every Cortex-M3 and
//! later core has natively.
//!
//! On a microcontroller the ring lives in a `static` (e.g. via `static_cell`), is split once
//! at start-up, and the producer half is handed to the driver's interrupt handler.
use core::sync::atomic::{AtomicU32, Ordering};

use heapless::spsc::{Consumer, Producer, Queue};

/// Counters shared by both halves; written by the producer, read and reset by the consumer.
#[derive(Debug, Default)]
struct RingStats {
    dropped: AtomicU32,
    high_water: AtomicU32,
}

/// A ring of `SLOTS` slots holding up to `SLOTS - 1` samples (one slot stays free to tell
/// full from empty), plus its backpressure counters.
pub struct SampleRing<S, const SLOTS: usize> {
    queue: Queue<S, SLOTS>,
    stats: RingStats,
}

impl<S, const SLOTS: usize> Default for SampleRing<S, SLOTS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, const SLOTS: usize> SampleRing<S, SLOTS> {
    /// An empty ring; `const` so it can initialize a `static`.
    pub const fn new() -> Self {
        SampleRing {
            queue: Queue::new(),
            stats: RingStats {
                dropped: AtomicU32::new(0),
                high_water: AtomicU32::new(0),
            },
        }
    }

    /// Samples the ring holds when full (`SLOTS - 1`).
    pub const fn capacity() -> usize {
        SLOTS - 1
    }

    /// Splits the ring into the driver's half and the main loop's half.
    pub fn split(&mut self) -> (SampleProducer<'_, S>, SampleConsumer<'_, S>) {
        let (producer, consumer) = self.queue.split();
        let stats = &self.stats;
        (
            SampleProducer {
                queue: producer,
                stats,
            },
            SampleConsumer {
                queue: consumer,
                stats,
            },
        )
    }
}

/// The driver's half: pushes samples, never blocks.
pub struct SampleProducer<'a, S> {
    queue: Producer<'a, S>,
    stats: &'a RingStats,
}

impl<S> SampleProducer<'_, S> {
    /// Queues `sample`; returns `false` when the ring was full and the sample was dropped
    /// (and counted). Safe to call from an interrupt handler: no lock, no wait.
    pub fn push(&mut self, sample: S) -> bool {
        if self.queue.enqueue(sample).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let in_use = u32::try_from(self.queue.len()).unwrap_or(u32::MAX);
        self.stats.high_water.fetch_max(in_use, Ordering::Relaxed);
        true
    }
}

/// The main loop's half: takes samples out in order, reads and resets the counters.
pub struct SampleConsumer<'a, S> {
    queue: Consumer<'a, S>,
    stats: &'a RingStats,
}

impl<S> SampleConsumer<'_, S> {
    /// The oldest queued sample, if any.
    pub fn pop(&mut self) -> Option<S> {
        self.queue.dequeue()
    }

    /// Samples queued right now.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Samples the ring holds when full.
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Samples dropped because the ring was full, since boot or the last reset (wraps).
    pub fn dropped(&self) -> u32 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Most samples ever queued at once, since boot or the last reset.
    pub fn high_water(&self) -> u32 {
        self.stats.high_water.load(Ordering::Relaxed)
    }

    /// Zeroes the drop counter and restarts the high-water mark from the current fill
    /// (the host's `reset_counters` command).
    pub fn reset_stats(&mut self) {
        self.stats.dropped.store(0, Ordering::Relaxed);
        let in_use = u32::try_from(self.len()).unwrap_or(u32::MAX);
        self.stats.high_water.store(in_use, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_ring_drops_and_counts_instead_of_blocking() {
        let mut ring: SampleRing<u32, 4> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        assert_eq!(rx.capacity(), 3);
        assert!(tx.push(1) && tx.push(2) && tx.push(3));
        assert!(!tx.push(4), "fourth sample must not fit a 3-sample ring");
        assert!(!tx.push(5));
        assert_eq!(rx.dropped(), 2);
        assert_eq!(
            (rx.pop(), rx.pop(), rx.pop(), rx.pop()),
            (Some(1), Some(2), Some(3), None)
        );
        assert!(tx.push(6), "drained ring accepts again");
        assert_eq!(rx.dropped(), 2);
    }

    #[test]
    fn high_water_mark_keeps_the_peak_fill() {
        let mut ring: SampleRing<u8, 8> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        for i in 0..5 {
            tx.push(i);
        }
        while rx.pop().is_some() {}
        tx.push(9);
        assert_eq!(rx.high_water(), 5);
        assert_eq!(rx.len(), 1);
    }

    #[test]
    fn reset_stats_zeroes_drops_and_restarts_high_water_from_current_fill() {
        let mut ring: SampleRing<u8, 3> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        for i in 0..4 {
            tx.push(i);
        }
        rx.pop();
        rx.reset_stats();
        assert_eq!((rx.dropped(), rx.high_water()), (0, 1));
    }

    #[test]
    fn producer_on_another_thread_loses_nothing_it_was_not_told_about() {
        extern crate std;
        let mut ring: SampleRing<u32, 16> = SampleRing::new();
        let (mut tx, mut rx) = ring.split();
        let total = 100_000u32;
        let (accepted, received) = std::thread::scope(|s| {
            let producer = s.spawn(move || (0..total).filter(|&i| tx.push(i)).count() as u32);
            let mut received = 0u32;
            let mut last = None;
            while !producer.is_finished() || !rx.is_empty() {
                if let Some(v) = rx.pop() {
                    assert!(last.is_none_or(|l| v > l), "samples arrive in order");
                    last = Some(v);
                    received += 1;
                }
            }
            (producer.join().unwrap(), received)
        });
        assert_eq!(accepted, received);
        assert_eq!(accepted + rx_dropped(&mut ring), total);

        fn rx_dropped(ring: &mut SampleRing<u32, 16>) -> u32 {
            ring.split().1.dropped()
        }
    }
}
