//! Cutting windows from the synchronizer's per-modality rings allocates nothing in steady
//! state: a counting global allocator (this binary's own, so no other test's allocations
//! mix in) watches a live-like run of the three modalities at their usual rates.
//!
//! Pushing a record allocates exactly one block (the shared `Arc` windows hold it by), never
//! a ring's growth; polling due windows into a reused [`Window`] allocates none; keeping a
//! recognized window's features for labels ([`RecentWindows`]) allocates none either.
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use dagr_host::recognize::recent::RecentWindows;
use dagr_host::record::{DeviceTime, Modality, Payload, Record};
use dagr_host::sync::{SyncConfig, Synchronizer, Window};

/// The system allocator, counting the blocks a thread asks for while it counts.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is passed unchanged to the system allocator; the counters are
// const-initialized thread locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, ALLOCATIONS.with(Cell::get) - before)
}

const MS: u64 = 1_000_000;

/// Records due by `until_ns` from a radar (20/s), three CSI links (100/s each) and a
/// reader (23 tags x 30/s), in time order, each with its mapped time.
fn records(from_ns: u64, until_ns: u64) -> Vec<(Record, u64)> {
    let mut out = Vec::new();
    let sources: [(&str, Modality, u64); 5] = [
        ("radar", Modality::Mmwave, 50 * MS),
        ("csi-1", Modality::Wifi, 10 * MS),
        ("csi-2", Modality::Wifi, 10 * MS),
        ("csi-3", Modality::Wifi, 10 * MS),
        ("reader", Modality::Rfid, 1_449_275), // 690 reads/s
    ];
    for (name, modality, period) in sources {
        let first = from_ns.div_ceil(period) * period;
        for t in (first..until_ns).step_by(period as usize) {
            let record = Record {
                source: Arc::from(name),
                modality,
                device_time: DeviceTime::NodeMicros(t / 1000),
                arrival_ns: t,
                wire_bytes: 0,
                payload: Payload::Tags(Vec::new()),
            };
            out.push((record, t));
        }
    }
    out.sort_by_key(|(_, t)| *t);
    out
}

#[test]
fn cutting_windows_from_the_rings_allocates_nothing_in_steady_state() {
    let mut sync = Synchronizer::new(SyncConfig::default()).unwrap();
    let mut window = Window::empty();
    let (mut pushes, mut push_allocations, mut poll_allocations, mut windows) = (0, 0, 0, 0);
    // 100 ms of records at a time, then the windows due; the first 10 s warm up.
    for step in 0..300u64 {
        let (from, now) = (step * 100 * MS, (step + 1) * 100 * MS);
        let batch = records(from, now);
        let steady = step >= 100;
        let n = batch.len() as u64;
        let (_, pushed) = allocations(|| {
            for (record, t) in batch {
                sync.push(record, t);
            }
        });
        // What a recognizer reads of each window, kept in room reserved before counting.
        let mut cut = Vec::with_capacity(8);
        let (_, polled) = allocations(|| {
            while sync.poll_into(now, &mut window) {
                cut.push((window.present(), window.records.len()));
            }
        });
        if steady {
            pushes += n;
            push_allocations += pushed;
            poll_allocations += polled;
            windows += cut.len();
            for (present, held) in cut {
                assert_eq!(present, [true; 3]);
                // 2 s of 20 + 300 + 690 records per second.
                assert!((2_010..=2_030).contains(&held), "{held} records");
            }
        }
    }
    assert_eq!(
        windows, 40,
        "one window per 0.5 s hop over the 20 steady seconds"
    );
    assert_eq!(sync.stats().overflow, 0);
    assert_eq!(
        push_allocations, pushes,
        "one Arc per record, no ring growth"
    );
    assert_eq!(poll_allocations, 0, "allocations cutting {windows} windows");
}

#[test]
fn keeping_recent_windows_for_labels_allocates_nothing() {
    // Ten minutes of the reference model's hops, 64 features per modality.
    let mut recent = RecentWindows::new(1200, 64);
    let features: Vec<Vec<f32>> = (0..3).map(|m| vec![m as f32; 64]).collect();
    let (kept, allocated) = allocations(|| {
        for i in 0..3000 {
            let start = f64::from(i) * 0.5;
            let feats = [&features[0][..], &features[1][..], &features[2][..]];
            recent.push(start, start + 2.0, feats, [true; 3]).unwrap();
        }
        recent.len()
    });
    assert_eq!(kept, 1200, "the ring holds its capacity, the oldest gone");
    assert_eq!(allocated, 0, "allocations keeping 3000 windows");
}
