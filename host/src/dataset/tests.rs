//! End to end: two simulated captures in different rooms, exported, read back with the
//! safetensors crate and checked against the schedule and the manifest.
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use super::*;
use crate::sim_capture::write_capture;
use dagr_sim::body::Subject;
use dagr_sim::run::default_renderers;
use dagr_sim::scenario::Schedule;
use dagr_sim::world::World;
use dagr_sim::Room;

/// Walking for 4 s, then waving for 4 s; the run lasts 8 s.
const SCENARIO: &str = "0 4 walking\n4 8 waving\n";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dagr-dataset-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn simulate(path: &Path, room: u32, subject: u32, seed: u64) {
    let schedule = Schedule::parse(SCENARIO).unwrap();
    let world = World::new(
        Room::generate(room),
        Subject::generate(subject),
        schedule,
        seed,
    );
    let mut renderers = default_renderers(&world, seed);
    write_capture(path, &world, &mut renderers, 8.0, seed).unwrap();
}

fn f32s(st: &SafeTensors, name: &str) -> (Vec<usize>, Vec<f32>) {
    let t = st.tensor(name).unwrap();
    assert_eq!(t.dtype(), Dtype::F32, "{name}");
    let values = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (t.shape().to_vec(), values)
}

fn i64s(st: &SafeTensors, name: &str) -> Vec<i64> {
    let t = st.tensor(name).unwrap();
    assert_eq!(t.dtype(), Dtype::I64, "{name}");
    assert_eq!(t.shape().len(), 1, "{name}");
    t.data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn exported_simulated_captures_read_back_with_schedule_labels_rooms_and_manifest() {
    let dir = temp_dir("export");
    let (a, b) = (dir.join("room1.mcap"), dir.join("room4.mcap"));
    simulate(&a, 1, 2, 3);
    simulate(&b, 4, 5, 4);
    let out = dir.join("out");
    let spec = PreprocessSpec::default();
    let manifest = export(&[a, b], &out, &spec).unwrap();

    let classes = class_names();
    let walking = classes.iter().position(|c| *c == "walking").unwrap() as i64;
    let waving = classes.iter().position(|c| *c == "waving").unwrap() as i64;
    for (file, room, subject) in [("room1.safetensors", 1, 2), ("room4.safetensors", 4, 5)] {
        let bytes = std::fs::read(out.join(file)).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let labels = i64s(&st, "label");
        // 2 s windows every 0.5 s from 0: centres 1.0..=8.5; 8.0 and 8.5 are unlabeled.
        let n = labels.len();
        assert_eq!(n, 14, "{file}");
        let starts: Vec<f64> = st
            .tensor("start_s")
            .unwrap()
            .data()
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        for (label, start) in labels.iter().zip(&starts) {
            let expected = if start + 1.0 < 4.0 { walking } else { waving };
            assert_eq!(*label, expected, "{file}: window at {start} s");
        }
        assert!(i64s(&st, "room").iter().all(|&r| r == room), "{file} room");
        assert!(
            i64s(&st, "subject").iter().all(|&s| s == subject),
            "{file} subject"
        );

        let (shape, wifi) = f32s(&st, "wifi");
        assert_eq!(shape, [n, 270, 200]);
        assert!(wifi.iter().all(|x| x.is_finite()));
        assert!(wifi.iter().any(|&x| x != 0.0), "{file}: wifi holds data");
        let (shape, rfid) = f32s(&st, "rfid");
        assert_eq!(shape, [n, 46, 60]);
        assert!(rfid.iter().any(|&x| x != 0.0), "{file}: rfid holds data");
        let (shape, mmwave) = f32s(&st, "mmwave");
        assert_eq!(shape, [n, 40, 64, 5]);
        assert!(
            mmwave.iter().any(|&x| x != 0.0),
            "{file}: mmwave holds data"
        );
        let (shape, present) = f32s(&st, "present");
        assert_eq!(shape, [n, 3]);
        assert!(
            present.iter().all(|&p| p == 1.0),
            "{file}: all devices present"
        );
    }

    assert_eq!(manifest.counts.windows, 28);
    assert_eq!(manifest.counts.per_class["walking"], 12);
    assert_eq!(manifest.counts.per_class["waving"], 16);
    assert_eq!(manifest.counts.per_room[&1], 14);
    assert_eq!(manifest.counts.per_room[&4], 14);
    assert_eq!(manifest.files[0].unlabeled, 2);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(MANIFEST_FILE)).unwrap()).unwrap();
    assert_eq!(written["classes"][walking as usize], "walking");
    assert_eq!(written["shapes"]["wifi"], serde_json::json!([270, 200]));
    assert_eq!(written["spec"]["window_s"], 2.0);
    assert_eq!(written["files"][1]["room"], 4);
    let splits: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(SPLITS_FILE)).unwrap()).unwrap();
    assert_eq!(
        splits["by_room"]["test"]["files"],
        serde_json::json!(["room4.safetensors"])
    );
    assert_eq!(
        splits["by_room"]["train"]["files"],
        serde_json::json!(["room1.safetensors"])
    );
    assert_eq!(splits["by_subject"]["test"]["ids"], serde_json::json!([5]));
    assert_eq!(
        splits["by_room_and_subject"]["test"]["files"],
        serde_json::json!(["room4.safetensors"])
    );
    // A second export of the same captures is byte-identical.
    let again = dir.join("again");
    export(
        &[dir.join("room1.mcap"), dir.join("room4.mcap")],
        &again,
        &spec,
    )
    .unwrap();
    for name in [
        "room1.safetensors",
        "room4.safetensors",
        MANIFEST_FILE,
        SPLITS_FILE,
    ] {
        let (first, second) = (
            std::fs::read(out.join(name)).unwrap(),
            std::fs::read(again.join(name)).unwrap(),
        );
        assert!(first == second, "{name} differs between two exports");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_capture_is_an_error_naming_the_file() {
    let dir = temp_dir("missing");
    let missing = dir.join("nope.mcap");
    let err = export(
        std::slice::from_ref(&missing),
        &dir.join("out"),
        &PreprocessSpec::default(),
    )
    .unwrap_err();
    assert_eq!(err.path, missing);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_label_covering_the_centre_wins_and_gaps_have_none() {
    let label = |start, end, class: &str| Label {
        start,
        end,
        class: class.into(),
    };
    let labels = [label(0.0, 4.0, "walking"), label(5.0, 8.0, "waving")];
    assert_eq!(label_at(&labels, 3.99).unwrap().class, "walking");
    assert!(label_at(&labels, 4.0).is_none());
    assert_eq!(label_at(&labels, 5.0).unwrap().class, "waving");
}
