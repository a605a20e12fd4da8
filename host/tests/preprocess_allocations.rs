//! `preprocess_into` allocates nothing per window in steady state: a counting global
//! allocator (in this binary of its own, so it disturbs no other test) counts the heap
//! allocations made on this thread while windows of every input format are preprocessed
//! into reused buffers, after warm-up windows have sized them. The tensors it makes are
//! checked against the `preprocess` convenience form, window by window.
#![allow(unsafe_code)] // a global allocator cannot be written without it

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use dagr_host::format::{Decoded, Unit};
use dagr_host::preprocess::{
    preprocess, preprocess_into, PreprocessSpec, Preprocessor, TagOrder, Tensors,
};
use dagr_host::record::{Modality, Record};
use dagr_host::sync::{SyncConfig, Synchronizer, Window};
use dagr_protocols::csi::esp32_csi_tool::{self, Role};
use dagr_protocols::csi::esp_csi::{self, ChipRxCtrl};
use dagr_protocols::csi::intel5300::Bfee;
use dagr_protocols::csi::{Iq, RxCtrl};
use dagr_protocols::llrp::{Epc, Message, TagReport};
use dagr_protocols::node::{self, HeaderRepr};
use dagr_protocols::ti_mmwave::{Frame, Point};

/// The system allocator, counting allocations of threads that opted in.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// The record of `modality` the gateway makes of `unit` (its format's glue in `format/`).
fn record(source: &str, modality: Modality, unit: impl Unit) -> Record {
    let mut records = Vec::new();
    unit.into_decoded(&Arc::from(source), 0, &mut |decoded| {
        if let Decoded::Record(r) = decoded {
            records.push(r);
        }
    });
    let record = records.remove(0);
    assert_eq!(record.modality, modality);
    record
}

/// A 64-entry ESP32 buffer that changes with `t` and `antenna`.
fn buffer(t: f64, antenna: u8) -> Vec<Iq> {
    (0..64)
        .map(|b| {
            let phi = 0.15 * b as f64 + (1.0 + f64::from(antenna)) * t;
            Iq {
                re: (60.0 * phi.cos()) as i8,
                im: (60.0 * phi.sin()) as i8,
            }
        })
        .collect()
}

fn intel(t: f64) -> Bfee {
    Bfee {
        timestamp_low: 0,
        bfee_count: 0,
        nrx: 3,
        ntx: 1,
        rssi_a: 40,
        rssi_b: 40,
        rssi_c: 40,
        noise: -90,
        agc: 30,
        antenna_sel: 0b00_10_01,
        rate: 0x4101,
        csi: (0..3)
            .flat_map(|a| buffer(t, a).into_iter().take(30))
            .collect(),
    }
}

/// Every format at its device's rate, over `seconds`: records with their times (ns).
fn stream(seconds: f64) -> Vec<(Record, u64)> {
    let mut out = Vec::new();
    let at = |t: f64| (t * 1e9) as u64;
    let mut t = 0.0;
    let mut n = 0u32;
    while t < seconds {
        for ant in 0..3u8 {
            let rx = RxCtrl {
                ant,
                ..RxCtrl::ht20(6)
            };
            let row = esp32_csi_tool::CsiRow::new(Role::Sta, [1; 6], rx, buffer(t, ant));
            out.push((record("wifi-a", Modality::Wifi, row), at(t)));
            let esp = esp_csi::CsiRow::new(n, [2; 6], ChipRxCtrl::Esp32(rx), buffer(t, ant));
            out.push((record("wifi-b", Modality::Wifi, esp), at(t)));
        }
        out.push((record("wifi-c", Modality::Wifi, intel(t)), at(t)));
        if n % 5 == 0 {
            let points = (0..40)
                .map(|p| Point {
                    x: p as f32 * 0.05,
                    y: 2.0,
                    snr: Some((p * 7 % 30) as i16 * 10),
                    ..Point::default()
                })
                .collect();
            let frame = Frame {
                points,
                ..Frame::default()
            };
            out.push((record("radar", Modality::Mmwave, frame), at(t)));
        }
        for tag in 0..8u8 {
            let mut epc = [0u8; 12];
            epc[11] = tag;
            let report = TagReport {
                epc: Epc::Epc96(epc),
                antenna_id: Some(1 + u16::from(tag % 2)),
                channel_index: Some(1 + (n / 30 % 50) as u16),
                impinj_phase: Some(((n * 97 + u32::from(tag) * 500) % 4096) as u16),
                peak_rssi: Some(-50 - tag as i8),
                ..TagReport::default()
            };
            if (n + u32::from(tag)) % 3 == 0 {
                out.push((
                    record(
                        "reader",
                        Modality::Rfid,
                        Message::ro_access_report(1, vec![report]),
                    ),
                    at(t),
                ));
            }
        }
        if n % 10 == 0 {
            let read = node::RfidRead {
                antenna: 1,
                peak_rssi_cdbm: -4500,
                channel: 3,
                phase: (n * 31 % 4096) as u16,
                doppler: 0,
                first_seen_us: u64::from(n) * 10_000,
                epc: node::Epc::new(&[0xee, 9]).unwrap(),
            };
            let frame = node::Frame {
                header: HeaderRepr::new(2, 1, node::Modality::Rfid, n, u64::from(n) * 10_000),
                payload: node::Payload::Rfid(vec![read; 3]),
            };
            out.push((record("node-rfid", Modality::Rfid, frame), at(t)));
        }
        t += 0.01;
        n += 1;
    }
    out
}

fn windows(seconds: f64) -> Vec<Window> {
    let mut sync = Synchronizer::new(SyncConfig::default()).unwrap();
    // Polled as records come, as the pipeline does: the synchronizer's rings hold a few
    // seconds of history, not a whole stream.
    let mut windows = Vec::new();
    for (record, t_ns) in stream(seconds) {
        sync.push(record, t_ns);
        windows.extend(sync.poll(t_ns));
    }
    assert_eq!(sync.stats().overflow, 0);
    windows.extend(sync.flush());
    windows
        .into_iter()
        .filter(|w| w.end_ns <= (seconds * 1e9) as u64)
        .collect()
}

#[test]
fn preprocess_into_allocates_nothing_per_window_after_warm_up() {
    let spec = PreprocessSpec::default();
    let windows = windows(8.0);
    assert!(windows.len() >= 10, "{} windows", windows.len());
    let listed = TagOrder::from_hex(&["000000000000000000000005", "ee09"]).unwrap();
    for mut pre in [Preprocessor::new(), Preprocessor::with_tag_order(listed)] {
        let mut out = Tensors::zeros(&spec);
        let (warm_up, steady) = windows.split_at(3);
        for w in warm_up {
            preprocess_into(w, &spec, &mut pre, &mut out);
        }
        for w in steady {
            assert_eq!(w.present(), [true; 3]);
            let count = allocations_in(|| preprocess_into(w, &spec, &mut pre, &mut out));
            assert_eq!(count, 0, "window {} allocated {count} times", w.index);
            assert!(out.wifi[..90 * 200].iter().any(|&x| x != 0.0));
            assert!(
                out.wifi[2 * 90 * 200..].iter().any(|&x| x != 0.0),
                "Intel link"
            );
            assert!(out.rfid.iter().any(|&x| x != 0.0));
            assert!(out.mmwave.iter().any(|&x| x != 0.0));
            if !pre.tag_order().is_listed() {
                assert_eq!(out, preprocess(w, &spec), "window {}", w.index);
            }
        }
    }
    assert!(
        allocations_in(|| drop(preprocess(&windows[5], &spec))) > 0,
        "the counter counts: preprocess() allocates fresh buffers"
    );
}
