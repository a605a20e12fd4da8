//! `dagr sim` with the real device renderers: every simulated device's bytes decode cleanly
//! through the gateway's own decoders, at the devices' rates, with labels.
use std::path::PathBuf;
use std::process::Command;

use crate::support::{run_ok, scratch};
use serde_json::Value;

fn simulate(seed: &str, room: &str, seconds: &str, path: &std::path::Path) {
    let out = path.to_str().unwrap();
    run_ok(&[
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
    let dir = scratch("sim-rates");
    let path = dir.join("sim.mcap");
    simulate("3", "4", "10", &path);
    let inspection: Value =
        serde_json::from_slice(&run_ok(&["inspect", "--json", path.to_str().unwrap()]).stdout)
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
    let dir = scratch("sim-replay");
    let path = dir.join("sim.mcap");
    simulate("5", "1", "6", &path);
    let out = run_ok(&["replay", "--max", "--json", path.to_str().unwrap()]);
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
    let dir = scratch("sim-rooms");
    let (a, b) = (dir.join("a.mcap"), dir.join("b.mcap"));
    simulate("1", "1", "2", &a);
    simulate("1", "2", "2", &b);
    let inspect = |p: &PathBuf| -> Value {
        serde_json::from_slice(&run_ok(&["inspect", "--json", p.to_str().unwrap()]).stdout).unwrap()
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
    let dir = scratch("sim-intel");
    let path = dir.join("sim.mcap");
    let out = path.to_str().unwrap();
    run_ok(&[
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
        serde_json::from_slice(&run_ok(&["inspect", "--json", out]).stdout).unwrap();
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
    let lines = String::from_utf8(run_ok(&["replay", "--max", "--json", out]).stdout).unwrap();
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
    let dir = scratch("sim-badrate");
    let path = dir.join("sim.mcap");
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

/// The xwr16xx profile of TI's SDK 3.4 out-of-box demo the real IWR1642 recordings under
/// `shared/fixtures/real/ti_mmwave` were made with (2 TX x 4 RX: a 2D azimuth array, 100 ms
/// frames, clutter removal off, points + range profile + stats), as a user would save it.
const XWR16XX_CFG: &str = "\
% Created for SDK ver:03.04, xwr16xx
sensorStop
flushCfg
dfeDataOutputMode 1
channelCfg 15 3 0
adcCfg 2 1
adcbufCfg -1 0 1 1 1
profileCfg 0 77 429 7 57.14 0 0 70 1 256 5209 0 0 30
chirpCfg 0 0 0 0 0 0 0 1
chirpCfg 1 1 0 0 0 0 0 2
frameCfg 0 1 16 0 100 1 0
lowPower 0 0
guiMonitor -1 1 1 0 0 0 1
cfarCfg -1 0 2 8 4 3 0 15 1
clutterRemoval -1 0
cfarFovCfg -1 0 0 8.92
sensorStart
";

/// One radar frame as decoded: its TLV types and its points as (z, v).
type RadarFrame = (Vec<u64>, Vec<(f64, f64)>);

/// A real or replayed radar stream's frames, from `dagr decode`/`dagr replay` JSON lines.
fn radar_frames(json_lines: &[u8]) -> Vec<RadarFrame> {
    String::from_utf8_lossy(json_lines)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("points").is_some())
        .map(|f| {
            let tlvs = f["tlvs"].as_array().unwrap();
            let points = f["points"].as_array().unwrap();
            (
                tlvs.iter().map(|t| t.as_u64().unwrap()).collect(),
                points
                    .iter()
                    .map(|p| (p["z"].as_f64().unwrap(), p["v"].as_f64().unwrap()))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_radar_cfg_makes_the_simulated_radar_the_real_iwr1642s() {
    let real = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/real/ti_mmwave/xwr16xx_processed_stream_2020_06_26T15_06_28_775.dat"
    );
    let real = radar_frames(&run_ok(&["decode", "--format", "ti-mmwave", "--json", real]).stdout);
    let dir = scratch("sim-radar-cfg");
    let cfg = dir.join("xwr16xx.cfg");
    std::fs::write(&cfg, XWR16XX_CFG).unwrap();
    let path = dir.join("sim.mcap");
    let out = path.to_str().unwrap();
    let seconds = 8.0;
    run_ok(&[
        "sim",
        "--seed",
        "3",
        "--room",
        "4",
        "--subject",
        "1",
        "--duration",
        "8",
        "--radar-cfg",
        cfg.to_str().unwrap(),
        "--out",
        out,
    ]);
    let inspection: Value =
        serde_json::from_slice(&run_ok(&["inspect", "--json", out]).stdout).unwrap();
    let radar = stream(&inspection, "sim-radar");
    let rate = radar["rate_hz"].as_f64().unwrap();
    assert!(
        (rate - 10.0).abs() < 0.3,
        "frameCfg asks for 100 ms frames: {rate} Hz"
    );
    let uri = radar["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("sim://radar?cfg=") && uri.ends_with("xwr16xx.cfg"),
        "{uri}"
    );
    let metadata = dagr_host::capture::inspect::inspect(&path)
        .unwrap()
        .metadata;
    assert_eq!(
        metadata
            .get(dagr_host::sim_capture::META_RADAR_CFG)
            .map(String::as_str),
        Some(XWR16XX_CFG),
        "the capture keeps the cfg it ran"
    );
    let simulated = radar_frames(&run_ok(&["replay", "--max", "--json", out]).stdout);
    assert_eq!(simulated.len() as f64, seconds * 10.0);
    for (name, frames) in [("real", &real), ("simulated", &simulated)] {
        let points: Vec<(f64, f64)> = frames.iter().flat_map(|f| f.1.clone()).collect();
        assert!(points.len() > 50, "{name}: {} points", points.len());
        assert!(
            points.iter().all(|p| p.0 == 0.0),
            "{name}: a 2D array has no z"
        );
        let still = points.iter().filter(|p| p.1 == 0.0).count();
        assert!(
            still * 4 > points.len(),
            "{name}: without clutter removal, static points stay: {still} of {}",
            points.len()
        );
    }
    let tlv_set = |frames: &[RadarFrame]| {
        let mut set: Vec<u64> = frames.iter().flat_map(|f| f.0.clone()).collect();
        set.sort_unstable();
        set.dedup();
        set
    };
    let (real_tlvs, simulated_tlvs) = (tlv_set(&real), tlv_set(&simulated));
    assert!(
        [1, 2, 6].iter().all(|t| simulated_tlvs.contains(t) && real_tlvs.contains(t)),
        "points, range profile and stats as guiMonitor asks: real {real_tlvs:?}, simulated {simulated_tlvs:?}"
    );
    // The default radar of the same scene is the 3D IWR6843 at 20 Hz with clutter removal on.
    let default_path = dir.join("default.mcap");
    let default_out = default_path.to_str().unwrap();
    run_ok(&[
        "sim",
        "--seed",
        "3",
        "--room",
        "4",
        "--subject",
        "1",
        "--duration",
        "8",
        "--out",
        default_out,
    ]);
    let default = radar_frames(&run_ok(&["replay", "--max", "--json", default_out]).stdout);
    assert_eq!(default.len() as f64, seconds * 20.0);
    assert!(
        default.iter().flat_map(|f| &f.1).any(|p| p.0 != 0.0),
        "3D points"
    );
}

#[test]
fn a_bad_radar_cfg_is_refused_naming_its_file_and_line_before_out_is_touched() {
    let dir = scratch("sim-bad-radar-cfg");
    let kept = dir.join("kept.mcap");
    std::fs::write(&kept, b"an earlier capture").unwrap();
    let run = |cfg: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_dagr"))
            .args(["sim", "--duration", "2", "--force", "--radar-cfg"])
            .arg(cfg)
            .arg("--out")
            .arg(&kept)
            .output()
            .unwrap()
    };
    let bad = dir.join("bad.cfg");
    std::fs::write(
        &bad,
        XWR16XX_CFG.replace("frameCfg 0 1 16 0 100 1 0", "frameCfg 0 1 16 0 0 1 0"),
    )
    .unwrap();
    let out = run(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{} line 11: frameCfg framePeriodicity",
            bad.display()
        )),
        "{err}"
    );
    let missing = dir.join("missing.cfg");
    let out = run(&missing);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("missing.cfg") && err.contains("No such file"),
        "{err}"
    );
    assert_eq!(std::fs::read(&kept).unwrap(), b"an earlier capture");
}
