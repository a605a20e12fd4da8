use super::*;

fn source(name: &str) -> SourceHealth {
    SourceHealth {
        name: name.into(),
        uri: format!("llrp://{name}"),
        state: ConnectionState::Connected,
        connected: true,
        records: 10,
        bytes: 100,
        rate_hz: 5.0,
        gaps: 0,
        silent_s: Some(0.1),
        dropped_events: 0,
        connects: 1,
        disconnects: 0,
        last_error: None,
        clock: None,
        reader: Some(ReaderStatus {
            manufacturer: 25882,
            model: 1,
            firmware: "1.0".into(),
            impinj_extensions: true,
        }),
        nodes: Vec::new(),
    }
}

fn keys(value: &serde_json::Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn the_json_field_names_are_the_documented_ones() {
    let board = StatusBoard::new(ModelStatus {
        name: "reference".into(),
        engine: "tract".into(),
    });
    board.publish(|p| p.sources = vec![source("reader")]);
    let json = serde_json::to_value(board.snapshot()).unwrap();
    assert_eq!(
        keys(&json),
        [
            "uptime_s",
            "model",
            "sources",
            "synchronizer",
            "predictions",
            "events",
            "updated_s_ago",
            "process"
        ]
    );
    assert_eq!(
        keys(&json["sources"][0]),
        [
            "name",
            "uri",
            "state",
            "connected",
            "records",
            "bytes",
            "rate_hz",
            "gaps",
            "silent_s",
            "dropped_events",
            "connects",
            "disconnects",
            "last_error",
            "clock",
            "reader",
            "nodes"
        ]
    );
    assert_eq!(json["sources"][0]["state"], "connected");
    assert_eq!(
        keys(&json["predictions"]),
        [
            "total",
            "partial",
            "last_class",
            "last_s_ago",
            "last_present",
            "absent",
            "set_aside",
            "last_head",
            "latency"
        ]
    );
    assert_eq!(
        keys(&json["predictions"]["latency"]),
        ["in_bucket", "count", "sum_s", "last_s"]
    );
    assert_eq!(keys(&json["events"]), ["clients", "published", "dropped"]);
    assert_eq!(
        keys(&json["process"]),
        ["resident_bytes", "peak_resident_bytes", "cpu_seconds"]
    );
}

#[test]
fn health_needs_a_recent_update_from_the_run_loop() {
    let board = StatusBoard::new(ModelStatus::default());
    let never = board.health().unwrap_err();
    assert_eq!(never, "the run loop has not updated status yet");
    assert_eq!(board.snapshot().updated_s_ago, None);
    board.publish(|_| {});
    assert_eq!(board.health(), Ok(()));
    assert!(board.snapshot().updated_s_ago.unwrap() < HEALTH_STALE_AFTER.as_secs_f64());
}

#[test]
fn clones_share_one_board_across_threads() {
    let board = StatusBoard::new(ModelStatus::default());
    let writer = board.clone();
    std::thread::spawn(move || writer.publish(|p| p.sources = vec![source("a"), source("b")]))
        .join()
        .unwrap();
    let names: Vec<_> = board
        .snapshot()
        .sources
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn predictions_say_which_modalities_they_were_made_without() {
    let board = StatusBoard::new(ModelStatus::default());
    let mut tracker = StatusTracker::new(board.clone(), crate::clock::GatewayClock::new(), &[]);
    tracker.note_prediction("walking", [true, true, true]);
    tracker.note_prediction("walking", [true, false, true]);
    tracker.note_prediction("falling", [false, false, true]);
    tracker.note_set_aside([false, false, true]);
    tracker.refresh(None);
    assert_eq!(board.snapshot().predictions.last_head, None);
    tracker.note_head(3);
    tracker.refresh(None);
    let p = board.snapshot().predictions;
    assert_eq!((p.total, p.partial), (3, 2));
    assert_eq!(p.last_class.as_deref(), Some("falling"));
    assert_eq!(p.last_present, ["rfid"]);
    let absent = ModalityCounts {
        mmwave: 1,
        wifi: 2,
        rfid: 0,
    };
    assert_eq!(p.absent, absent);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json["absent"],
        serde_json::json!({"mmwave": 1, "wifi": 2, "rfid": 0})
    );
    assert_eq!(json["last_present"], serde_json::json!(["rfid"]));
    assert_eq!(json["last_head"], 3);
    assert_eq!(
        json["set_aside"],
        serde_json::json!({"mmwave": 0, "wifi": 0, "rfid": 1})
    );
}
