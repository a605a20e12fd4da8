use std::path::Path;
use std::time::Instant;

use super::*;

fn reference() -> ModelPackage {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/reference");
    ModelPackage::load(&dir).unwrap()
}

/// Online adaptation of the reference model with `max_labeled`, its recent windows filled
/// with `windows` windows of 2 s every 0.5 s from t = 0, features varying by window.
fn online(max_labeled: usize, windows: usize) -> (OnlineAdaptation, Adaptation) {
    online_with(max_labeled, windows, |i, j| {
        ((i * 7 + j) % 13) as f32 / 13.0
    })
}

/// [`online`] with window `i`'s feature `j` (every modality alike) given by `feature`.
fn online_with(
    max_labeled: usize,
    windows: usize,
    feature: impl Fn(usize, usize) -> f32,
) -> (OnlineAdaptation, Adaptation) {
    let package = reference();
    let current = HeadVersion {
        version: 0,
        params: package.head_params().to_vec(),
        norm_band: package.norm_band(),
    };
    let settings = AdaptSettings::from_package(&package).unwrap();
    let (online, live) = OnlineAdaptation::new(Setup {
        package,
        current,
        previous: None,
        settings,
        store: None,
        recent_windows: windows.max(1),
        max_labeled,
    });
    {
        let mut recent = live.recent.lock().unwrap();
        let dim = recent.feat_dim();
        for i in 0..windows {
            let f: Vec<f32> = (0..dim).map(|j| feature(i, j)).collect();
            let start = i as f64 * 0.5;
            recent
                .push(start, start + 2.0, [&f, &f, &f], [true; 3])
                .unwrap();
        }
    }
    (online, live)
}

fn label(online: &OnlineAdaptation, class: &str, start: f64, end: f64) -> Reply {
    let body = json!({"class": class, "start": start, "end": end}).to_string();
    online.label(body.as_bytes())
}

#[test]
fn labels_beyond_the_buffer_drop_the_oldest_and_are_counted() {
    let (online, _live) = online(5, 20);
    // Windows starting at 0..=3.5 lie inside 0..5.5: eight of them.
    let reply = label(&online, "walking", 0.0, 5.5);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["labeled"], 8);
    assert_eq!(
        (
            reply.body["labeled_windows"].as_u64(),
            reply.body["dropped"].as_u64()
        ),
        (Some(5), Some(3))
    );
    let reply = label(&online, "waving", 5.0, 8.5);
    assert_eq!(reply.body["labeled"], 4);
    let state = online.adaptation().body;
    assert_eq!(state["labels"]["windows"], 5);
    assert_eq!(state["labels"]["dropped"], 7);
    assert_eq!(
        state["labels"]["per_class"],
        json!({"walking": 1, "waving": 4})
    );
    assert_eq!(state["recent"]["windows"], 20);
    assert_eq!(
        (
            state["recent"]["from"].as_f64(),
            state["recent"]["to"].as_f64()
        ),
        (Some(0.0), Some(11.5))
    );
}

#[test]
fn a_refused_label_keeps_nothing() {
    let (online, _live) = online(100, 10);
    let reply = label(&online, "walking", 0.0, 3.0);
    assert_eq!(reply.status, 200);
    for (class, start, end, status) in [("moonwalk", 0.0, 3.0, 422), ("walking", 50.0, 60.0, 422)] {
        let reply = label(&online, class, start, end);
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    assert_eq!(online.label(b"{").status, 400);
    assert_eq!(online.adaptation().body["labels"]["windows"], 3);
}

#[test]
fn one_adaptation_at_a_time_and_rollback_needs_a_previous_head() {
    let (online, _live) = online(2000, 2000);
    assert_eq!(online.start_adaptation().status, 422, "nothing labeled yet");
    assert_eq!(label(&online, "walking", 0.0, 500.0).status, 200);
    assert_eq!(label(&online, "waving", 500.0, 1001.5).status, 200);
    let first = online.start_adaptation();
    assert_eq!(first.status, 202, "{}", first.body);
    let second = online.start_adaptation();
    assert_eq!(second.status, 409, "{}", second.body);
    let rollback = online.rollback();
    assert_eq!(rollback.status, 409);
    assert_eq!(
        rollback.body["error"],
        "no previous head to roll back to; head 0 is in use"
    );
}

/// Waits (at most a minute) for the adaptation thread to finish; its `GET /adapt` state.
fn finished(online: &OnlineAdaptation) -> serde_json::Value {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let state = online.adaptation().body;
        if state["state"] == "idle" {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "the adaptation never ended: {state}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn an_accepted_head_goes_live_with_its_own_band_and_a_rollback_restores_the_old_one() {
    // Windows before t = 100 s and after tell their class by the sign of their features.
    let sign = |i: usize| if i < 200 { 1.0 } else { -1.0 };
    let (online, live) = online_with(1000, 400, |i, j| {
        sign(i) * (1.0 + (j % 5) as f32 / 5.0) + ((i * 7 + j) % 13) as f32 / 130.0
    });
    let source = reference()
        .norm_band()
        .expect("the reference has a norm guard");
    assert_eq!(label(&online, "walking", 0.0, 101.5).status, 200);
    assert_eq!(label(&online, "waving", 100.0, 201.5).status, 200);
    assert_eq!(online.start_adaptation().status, 202);
    let state = finished(&online);
    assert_eq!(state["head"], 1, "the head was accepted: {state}");
    let moved = &state["last"]["norm_band"];
    assert_eq!(moved["source_bounds"], json!(source), "{state}");
    let update = live
        .heads
        .try_recv()
        .expect("the new head is sent to the live sink");
    assert_eq!(update.version, 1);
    let band = update.norm_band.expect("the adapted head has a band");
    assert_ne!(band, source, "the band moved with the head");
    assert!(band.iter().all(|b| b.is_finite() && *b > 0.0), "{band:?}");
    assert_eq!(
        moved["bounds"],
        json!(band),
        "GET /adapt shows the band in use"
    );

    assert_eq!(online.rollback().status, 200);
    let back = live
        .heads
        .try_recv()
        .expect("the rollback is sent to the live sink");
    assert_eq!((back.version, back.norm_band), (0, Some(source)));
}
