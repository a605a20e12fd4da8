use std::sync::Arc;

use super::*;
use crate::record::{DeviceTime, Payload};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn record(source: &str, modality: Modality) -> Record {
    Record {
        source: source.into(),
        modality,
        device_time: DeviceTime::NodeMicros(0),
        arrival_ns: 0,
        wire_bytes: 0,
        payload: Payload::Tags(Vec::new()),
    }
}

fn sync() -> Synchronizer {
    Synchronizer::new(SyncConfig::default()).unwrap()
}

/// A live run: sources at their rates, each record arriving 50 ms after its mapped time,
/// polling every 100 ms. `alive(source, t)` says whether a source still sends at `t`.
fn run(s: &mut Synchronizer, until_ns: u64, alive: impl Fn(&str, u64) -> bool) -> Vec<Window> {
    let sources = [
        ("radar", Modality::Mmwave, 50 * MS),
        ("csi", Modality::Wifi, 10 * MS),
        ("reader", Modality::Rfid, 33 * MS),
    ];
    let mut events: Vec<(u64, &str, Modality)> = Vec::new();
    for (name, modality, period) in sources {
        for t in (0..until_ns).step_by(period as usize) {
            if alive(name, t) {
                events.push((t, name, modality));
            }
        }
    }
    events.sort_by_key(|e| e.0);
    let mut windows = Vec::new();
    let mut events = events.into_iter().peekable();
    for now in (0..=until_ns).step_by(100 * MS as usize) {
        while let Some((t, name, modality)) = events.next_if(|e| e.0 + 50 * MS <= now) {
            assert_eq!(s.push(record(name, modality), t), Placement::Placed);
        }
        windows.extend(s.poll(now));
    }
    windows
}

#[test]
fn all_three_modalities_present_give_an_all_true_mask() {
    let mut s = sync();
    let windows = run(&mut s, 10 * S, |_, _| true);
    assert_eq!(windows.len(), 16, "deadlines by 10 s: [0,2) .. [7.5,9.5)");
    for w in &windows {
        assert_eq!(w.present(), [true; 3], "window {}", w.index);
        assert!(w.modalities.iter().all(|m| m.coverage == 1.0));
        assert_eq!(w.source_records("radar"), 40);
        assert_eq!(w.source_records("csi"), 200);
        assert_eq!(w.end_ns - w.start_ns, 2 * S);
        assert!(w.records.windows(2).all(|p| p[0].t_ns <= p[1].t_ns));
    }
    assert_eq!(s.stats().late, 0);
}

#[test]
fn a_stopped_source_is_absent_at_the_deadline_and_windows_keep_coming() {
    let mut s = sync();
    let windows = run(&mut s, 20 * S, |name, t| name != "reader" || t < 5 * S);
    let indices: Vec<u64> = windows.iter().map(|w| w.index).collect();
    assert_eq!(
        indices,
        (0..36).collect::<Vec<_>>(),
        "one window per hop, no gap"
    );
    for w in &windows {
        let rfid = w.coverage(Modality::Rfid);
        if w.end_ns <= 5 * S {
            assert!(rfid.present, "window {}", w.index);
        }
        if w.start_ns >= 5 * S {
            assert_eq!((rfid.present, rfid.records), (false, 0));
            assert_eq!(w.source_records("reader"), 0);
            assert_eq!(w.present(), [true, true, false]);
        }
    }
    // Every source dead: windows still go out at their deadlines, all absent.
    let quiet = s.poll(30 * S);
    assert_eq!(quiet.first().map(|w| w.index), Some(36));
    assert_eq!(quiet.last().map(|w| w.end_ns), Some(29 * S + 500 * MS));
    assert!(quiet.iter().skip(4).all(|w| w.present() == [false; 3]));
}

#[test]
fn out_of_order_records_within_the_lateness_are_placed_by_mapped_time() {
    let mut s = sync();
    s.push(record("csi", Modality::Wifi), 100 * MS);
    assert!(s.poll(0).is_empty());
    s.push(record("csi", Modality::Wifi), 1_900 * MS);
    s.push(record("radar", Modality::Mmwave), 1_200 * MS);
    // Arrives 0.3 s after its window [0, 2) ended, within the 0.5 s lateness.
    s.push(record("reader", Modality::Rfid), 700 * MS);
    let windows = s.poll(2_500 * MS);
    assert_eq!(windows.len(), 1);
    let times: Vec<u64> = windows[0].records.iter().map(|r| r.t_ns).collect();
    assert_eq!(times, vec![100 * MS, 700 * MS, 1_200 * MS, 1_900 * MS]);
    assert_eq!(windows[0].source_records("reader"), 1);
}

#[test]
fn overlapping_windows_share_the_same_record() {
    let mut s = sync();
    s.push(record("csi", Modality::Wifi), 0);
    s.push(record("radar", Modality::Mmwave), 1_900 * MS);
    let windows = s.poll(10 * S);
    let holding: Vec<&Window> = windows
        .iter()
        .filter(|w| w.records_of(Modality::Mmwave).count() == 1)
        .collect();
    let starts: Vec<u64> = holding.iter().map(|w| w.start_ns).collect();
    assert_eq!(starts, vec![0, 500 * MS, 1_000 * MS, 1_500 * MS]);
    let shared = |w: &Window| w.records.last().unwrap().clone();
    assert!(Arc::ptr_eq(&shared(holding[0]), &shared(holding[3])));
}

#[test]
fn records_after_their_windows_went_out_are_counted_late() {
    let mut s = sync();
    s.push(record("csi", Modality::Wifi), 0);
    assert_eq!(s.poll(3 * S).len(), 2, "[0,2) and [0.5,2.5) went out");
    assert_eq!(
        s.push(record("reader", Modality::Rfid), 900 * MS),
        Placement::Late
    );
    assert_eq!(
        s.push(record("reader", Modality::Rfid), 1_200 * MS),
        Placement::PartlyLate
    );
    let stats = s.stats();
    assert_eq!((stats.late, stats.partly_late, stats.records), (1, 1, 3));
    assert_eq!(s.sources()["reader"].late, 1);
    let next = s.poll(4 * S);
    assert_eq!(next[0].start_ns, S);
    assert_eq!(
        next[0].source_records("reader"),
        1,
        "placed in the open windows"
    );
}

#[test]
fn records_are_released_once_no_open_window_can_hold_them() {
    let mut s = sync();
    let mut most = 0;
    for i in 0..6_000u64 {
        let t = i * 10 * MS;
        s.push(record("csi", Modality::Wifi), t);
        if i % 10 == 0 {
            s.poll(t);
            most = most.max(s.stats().buffered);
        }
    }
    // window 2 s + lateness 0.5 s + one hop at 100 Hz
    assert!(most <= 300, "held {most} records");
    assert_eq!(
        s.stats().windows,
        115,
        "deadlines by 59.9 s: up to [57.5, 59.5)"
    );
}

#[test]
fn coverage_is_the_fraction_of_sub_slots_with_data() {
    let config = SyncConfig {
        min_coverage: [0.6, 0.25, 0.25],
        ..SyncConfig::default()
    };
    let mut s = Synchronizer::new(config).unwrap();
    for t in (0..S).step_by(50 * MS as usize) {
        s.push(record("radar", Modality::Mmwave), t);
    }
    let w = &s.poll(3 * S)[0];
    let radar = w.coverage(Modality::Mmwave);
    assert_eq!((radar.coverage, radar.records), (0.5, 20));
    assert!(!radar.present, "half a window is below the 0.6 minimum");
}

#[test]
fn flush_emits_every_window_up_to_the_last_record() {
    let mut s = sync();
    s.push(record("csi", Modality::Wifi), 0);
    s.push(record("csi", Modality::Wifi), 3_100 * MS);
    let windows = s.flush();
    assert_eq!(windows.last().map(|w| w.start_ns), Some(3 * S));
    assert_eq!(windows.len(), 7);
    assert_eq!(s.stats().buffered, 0);
}

#[test]
fn a_bad_config_names_the_field() {
    let bad = SyncConfig {
        hop_ns: 3 * S,
        ..SyncConfig::default()
    };
    let err = Synchronizer::new(bad).unwrap_err();
    assert_eq!(err.field, "hop_ns");
    assert!(err.to_string().contains("at most the window length"));
    let no_slots = SyncConfig {
        slots: 65,
        ..SyncConfig::default()
    };
    assert_eq!(no_slots.validate().unwrap_err().field, "slots");
}

#[test]
fn a_full_ring_drops_new_records_of_its_modality_only_and_counts_them() {
    let config = SyncConfig {
        ring_capacity: [4, 2, 4],
        ..SyncConfig::default()
    };
    let mut s = Synchronizer::new(config).unwrap();
    s.push(record("csi", Modality::Wifi), 0);
    s.push(record("csi", Modality::Wifi), 1);
    assert_eq!(
        s.push(record("csi", Modality::Wifi), 2),
        Placement::Overflow
    );
    assert_eq!(
        s.push(record("radar", Modality::Mmwave), 2),
        Placement::Placed
    );
    assert_eq!((s.stats().overflow, s.stats().buffered), (1, 3));
}

#[test]
fn rings_are_sized_from_rates_and_the_window_span() {
    let config = SyncConfig::default().sized_for([20.0, 100.0, 50.0]);
    // (2 s window + 0.5 s lateness + 0.5 s hop) x rate x margin 4.
    assert_eq!(config.ring_capacity, [240, 1200, 600]);
    let none = SyncConfig {
        ring_capacity: [1, 0, 1],
        ..config
    };
    assert_eq!(none.validate().unwrap_err().field, "ring_capacity");
}

#[test]
fn records_with_equal_times_keep_their_push_order_across_modalities_and_rings() {
    let mut s = sync();
    for (i, (name, modality)) in [
        ("csi-b", Modality::Wifi),
        ("radar", Modality::Mmwave),
        ("csi-a", Modality::Wifi),
    ]
    .into_iter()
    .enumerate()
    {
        s.push(record(name, modality), 100 * MS - i as u64 % 2);
    }
    let w = &s.flush()[0];
    let order: Vec<&str> = w.records.iter().map(|r| &*r.record.source).collect();
    // 99 ms (radar) first, then the two at 100 ms in the order they were pushed.
    assert_eq!(order, ["radar", "csi-b", "csi-a"]);
    assert_eq!(w.source_records("csi-a"), 1);
}

#[test]
fn windows_are_cut_on_mapped_device_time_not_on_bursty_arrival() {
    // A CSI link sampling at 100 Hz whose bytes arrive in bursts once a second; the
    // allowed lateness covers the burst period.
    let mut clocks = crate::clock::SourceClocks::new();
    let config = SyncConfig {
        lateness_ns: 1_500 * MS,
        ..SyncConfig::default()
    };
    let mut s = Synchronizer::new(config).unwrap();
    let mut windows = Vec::new();
    for i in 0..2_000u64 {
        let made = i * 10 * MS;
        let arrival = (made / S + 1) * S;
        let mut r = record("csi", Modality::Wifi);
        r.device_time = DeviceTime::MicrosU32((made / 1000) as u32);
        r.arrival_ns = arrival;
        let t = clocks.map(&r);
        s.push(r, t);
        windows.extend(s.poll(arrival));
    }
    let settled: Vec<&Window> = windows.iter().filter(|w| w.start_ns >= 5 * S).collect();
    assert!(!settled.is_empty());
    for w in settled {
        let wifi = w.coverage(Modality::Wifi);
        assert_eq!(
            (wifi.coverage, wifi.records),
            (1.0, 200),
            "window {}",
            w.index
        );
    }
}

#[test]
fn the_next_deadline_is_the_next_windows_end_plus_lateness() {
    let mut s = sync();
    assert_eq!(s.next_deadline_ns(), None);
    s.push(record("csi", Modality::Wifi), 1_200 * MS);
    // The first window holding 1.2 s starts at 1.0 s (hop 0.5 s): ends 3.0 s, due 3.5 s.
    assert_eq!(s.next_deadline_ns(), Some(3_500 * MS));
    assert!(s.poll(3_499 * MS).is_empty());
    assert_eq!(s.poll(3_500 * MS).len(), 1);
    assert_eq!(s.next_deadline_ns(), Some(4_000 * MS));
}

/// Records of all three modalities every 100 ms over `[from, to)`.
fn push_span(s: &mut Synchronizer, from: u64, to: u64) {
    for t in (from..to).step_by(100 * MS as usize) {
        for (name, modality) in [
            ("radar", Modality::Mmwave),
            ("csi", Modality::Wifi),
            ("reader", Modality::Rfid),
        ] {
            s.push(record(name, modality), t);
        }
    }
}

#[test]
fn a_record_far_in_the_future_skips_the_empty_windows_instead_of_cutting_each() {
    // A damaged capture or a clock jump: 4 s of data, then one record ~146 years later.
    // A replay polls with a clock that jumps there; every window between would be empty,
    // so they are skipped and counted, not cut (there are ~9.2e9 of them).
    let mut s = sync();
    push_span(&mut s, 0, 4 * S);
    let far = u64::MAX / 4;
    s.push(record("csi", Modality::Wifi), far);
    let mut window = Window::empty();
    let mut cut = Vec::new();
    while s.poll_into(far + 3 * S, &mut window) {
        cut.push((window.index, window.records.len()));
        assert!(cut.len() < 100, "cut window after window: {:?}", &cut[..5]);
    }
    let before_gap = cut.iter().filter(|(i, _)| *i < 8).count();
    assert_eq!(before_gap, 8, "windows [0,2) .. [3.5,5.5) are cut as usual");
    let first_far = (far - 2 * S) / (500 * MS) + 1;
    let after_gap: Vec<_> = cut.iter().filter(|(i, _)| *i >= 8).copied().collect();
    // The four windows holding the far record, then the one due by the clock (empty).
    assert_eq!(
        after_gap,
        [
            (first_far, 1),
            (first_far + 1, 1),
            (first_far + 2, 1),
            (first_far + 3, 1),
            (first_far + 4, 0)
        ]
    );
    assert_eq!(s.stats().skipped_windows, first_far - 8);
    assert_eq!(s.stats().windows, cut.len() as u64);
}

#[test]
fn windows_whose_end_is_past_the_last_nanosecond_are_never_cut() {
    let mut s = sync();
    push_span(&mut s, 0, 2 * S);
    s.push(record("csi", Modality::Wifi), u64::MAX);
    let mut window = Window::empty();
    let mut cut = 0;
    while s.poll_into(u64::MAX, &mut window) {
        cut += 1;
        assert!(cut < 100, "cut window after window up to the end of time");
    }
    assert!(s.flush().len() < 100);
}

#[test]
fn flush_skips_a_long_hole_but_cuts_every_window_of_a_short_one() {
    let mut long = sync();
    push_span(&mut long, 0, 2 * S);
    push_span(&mut long, 10_000_000 * S, 10_000_002 * S); // 10^7 s later
    let windows = long.flush();
    assert!(windows.len() < 20, "{} windows", windows.len());
    assert!(windows.iter().all(|w| !w.records.is_empty()));
    assert!(long.stats().skipped_windows > 19_000_000);

    let mut short = sync();
    push_span(&mut short, 0, 2 * S);
    push_span(&mut short, 30 * S, 32 * S); // a 28 s hole: within MAX_EMPTY_GAP_NS
    let windows = short.flush();
    let indices: Vec<u64> = windows.iter().map(|w| w.index).collect();
    assert_eq!(
        indices,
        (0..=63).collect::<Vec<_>>(),
        "one window per hop throughout"
    );
    assert_eq!(short.stats().skipped_windows, 0);
}

#[test]
fn a_clock_that_jumps_far_past_the_data_skips_the_empty_windows_up_to_it() {
    // Replay and export poll with the arrival time of each message: one message stamped at
    // the end of time must not make them cut every empty window up to it.
    let mut s = sync();
    push_span(&mut s, 0, 2 * S);
    let windows = s.poll(u64::MAX / 2);
    let empty = windows.iter().filter(|w| w.records.is_empty()).count();
    assert_eq!(windows.len() - empty, 4, "the windows holding data");
    assert_eq!(
        empty, 0,
        "a hole longer than MAX_EMPTY_GAP_NS is skipped whole"
    );
    assert!(s.stats().skipped_windows > 9_000_000_000);
    // Data after the jump is placed in windows that are still open.
    let t = u64::MAX / 2;
    assert_eq!(s.push(record("csi", Modality::Wifi), t), Placement::Placed);
}
