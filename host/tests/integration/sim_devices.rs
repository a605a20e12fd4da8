//! `dagr sim` with the real device renderers: every simulated device's bytes decode cleanly
//! through the gateway's own decoders, at the devices' rates, with labels.
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dagr-sim-devices-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dagr(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dagr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn simulate(seed: &str, room: &str, seconds: &str, path: &std::path::Path) {
    let out = path.to_str().unwrap();
    dagr(&[
        "sim",
        "--seed",
        seed,
        "--room",
        room,
        "--subject",
        "1",
        "--duration",
        seconds,
        "--out",
        out,
    ]);
}

fn stream<'a>(inspection: &'a Value, name: &str) -> &'a Value {
    inspection["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == name)
        .unwrap_or_else(|| panic!("no stream {name} in {inspection}"))
}

#[test]
fn every_simulated_device_decodes_cleanly_at_its_rate() {
    let path = scratch("rates").join("sim.mcap");
    simulate("3", "4", "10", &path);
    let inspection: Value =
        serde_json::from_slice(&dagr(&["inspect", "--json", path.to_str().unwrap()]).stdout)
            .unwrap();
    assert_eq!(inspection["complete"], true);
    assert_eq!(
        inspection["streams"].as_array().unwrap().len(),
        5,
        "radar, 3 CSI links, RFID"
    );
    let expect = [
        ("sim-radar", "ti-mmwave", 20.0, 20.0),
        ("sim-wifi-1", "esp32-csi", 300.0, 300.0), // 100 packets/s x 3 antennas
        ("sim-wifi-2", "esp32-csi", 300.0, 300.0),
        ("sim-wifi-3", "esp32-csi", 300.0, 300.0),
        ("sim-rfid", "llrp", 12.0 * 30.0 * 0.7, 20.0 * 30.0 * 1.3), // >= 12 tags, ~30 reads/s each
    ];
    for (name, format, lo, hi) in expect {
        let s = stream(&inspection, name);
        assert_eq!(s["format"], format);
        assert_eq!(s["bytes_skipped"], 0, "{name}: {s}");
        assert_eq!(s["frames_rejected"], 0, "{name}: {s}");
        let rate = s["rate_hz"].as_f64().unwrap();
        assert!(
            rate >= lo * 0.97 && rate <= hi * 1.03,
            "{name}: {rate} records/s"
        );
    }
    assert!(inspection["labels"].as_u64().unwrap() >= 1);
}

#[test]
fn replayed_simulation_carries_radar_points_csi_and_tag_phases_with_labels() {
    let path = scratch("replay").join("sim.mcap");
    simulate("5", "1", "6", &path);
    let out = dagr(&["replay", "--max", "--json", path.to_str().unwrap()]);
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |m: &str| {
        lines
            .iter()
            .filter(|l| l["modality"] == m)
            .collect::<Vec<_>>()
    };
    let radar = of("mmwave");
    let wifi = of("wifi");
    let rfid = of("rfid");
    assert_eq!(radar.len(), 120);
    assert_eq!(wifi.len(), 3 * 3 * 100 * 6);
    assert!(!rfid.is_empty());
    // The person is seen: some radar frames carry points with snr/noise side info.
    let points: usize = radar
        .iter()
        .map(|f| f["points"].as_array().unwrap().len())
        .sum();
    assert!(points > 100, "{points} radar points in 6 s");
    assert!(radar
        .iter()
        .flat_map(|f| f["points"].as_array().unwrap())
        .all(|p| p["snr"].is_i64()));
    // ESP32 rows: 64 subcarriers each.
    assert!(wifi
        .iter()
        .all(|r| r["csi"].as_array().unwrap().len() == 64));
    // Tag reports carry the Impinj phase in [0, 2pi).
    let tags: Vec<&Value> = rfid
        .iter()
        .flat_map(|m| m["tags"].as_array().unwrap())
        .collect();
    assert!(tags
        .iter()
        .all(|t| (0.0..std::f64::consts::TAU).contains(&t["phase_rad"].as_f64().unwrap())));
    assert!(
        lines.iter().any(|l| l.get("label").is_some()),
        "labels are replayed"
    );
}

#[test]
fn other_rooms_place_the_devices_differently() {
    let dir = scratch("rooms");
    let (a, b) = (dir.join("a.mcap"), dir.join("b.mcap"));
    simulate("1", "1", "2", &a);
    simulate("1", "2", "2", &b);
    let inspect = |p: &PathBuf| -> Value {
        serde_json::from_slice(&dagr(&["inspect", "--json", p.to_str().unwrap()]).stdout).unwrap()
    };
    let (ia, ib) = (inspect(&a), inspect(&b));
    // Different geometry gives different bytes on the same seed and schedule.
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_ne!(
        stream(&ia, "sim-wifi-1")["bytes"],
        stream(&ib, "sim-wifi-1")["bytes"]
    );
}

#[test]
fn csi_receivers_can_log_intel5300_records_at_a_chosen_rate() {
    let path = scratch("intel").join("sim.mcap");
    let out = path.to_str().unwrap();
    dagr(&[
        "sim",
        "--seed",
        "2",
        "--room",
        "1",
        "--csi-format",
        "intel5300",
        "--csi-rate",
        "50",
        "--duration",
        "4",
        "--out",
        out,
    ]);
    let inspection: Value =
        serde_json::from_slice(&dagr(&["inspect", "--json", out]).stdout).unwrap();
    for link in ["sim-wifi-1", "sim-wifi-2", "sim-wifi-3"] {
        let s = stream(&inspection, link);
        assert_eq!(s["format"], "intel5300");
        assert_eq!(
            (s["bytes_skipped"].as_u64(), s["frames_rejected"].as_u64()),
            (Some(0), Some(0)),
            "{s}"
        );
        let rate = s["rate_hz"].as_f64().unwrap();
        assert!((48.0..=52.0).contains(&rate), "{link}: {rate} bfee/s"); // one record per packet
    }
    let lines = String::from_utf8(dagr(&["replay", "--max", "--json", out]).stdout).unwrap();
    let bfee: Value = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l.get("bfee_count").is_some())
        .expect("a bfee record");
    assert_eq!(
        (bfee["nrx"].as_u64(), bfee["ntx"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        bfee["csi"][0][0].as_array().unwrap().len(),
        30,
        "[tx][rx][30 subcarriers]"
    );
}

#[test]
fn a_csi_rate_outside_the_range_is_refused() {
    let path = scratch("badrate").join("sim.mcap");
    let out = Command::new(env!("CARGO_BIN_EXE_dagr"))
        .args([
            "sim",
            "--csi-rate",
            "0",
            "--duration",
            "1",
            "--out",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--csi-rate 0"));
}
