//! The XRF55 loader on files numpy writes in XRF55's layout and shapes.
use std::process::Command;

use crate::support::{python, scratch};
use dagr_host::dataset::xrf55::{self, Xrf55Name};

/// Writes `ROOT/train_data/{WiFi,RFID,mmWave}/` samples: `3_7_2` complete (WiFi float64,
/// value = row + step/1000; RFID float32 = row; mmWave float32 = frame), `3_8_1` without
/// mmWave, `4_1_1` with a WiFi array of the wrong shape.
const WRITER: &str = r#"
import os, sys
import numpy as np
root = os.path.join(sys.argv[1], "train_data")
for folder in ("WiFi", "RFID", "mmWave"):
    os.makedirs(os.path.join(root, folder), exist_ok=True)
wifi = np.arange(270)[:, None] + np.arange(1000)[None, :] / 1000.0
rfid = np.repeat(np.arange(23, dtype=np.float32)[:, None], 148, axis=1)
mmwave = np.broadcast_to(np.arange(17, dtype=np.float32)[:, None, None], (17, 256, 128)).copy()
for name in ("3_7_2", "3_8_1"):
    np.save(os.path.join(root, "WiFi", name + ".npy"), wifi)
    np.save(os.path.join(root, "RFID", name + ".npy"), rfid)
np.save(os.path.join(root, "mmWave", "3_7_2.npy"), mmwave)
np.save(os.path.join(root, "WiFi", "4_1_1.npy"), np.zeros((1000, 270)))
"#;

#[test]
fn numpy_written_xrf55_samples_load_with_shapes_labels_and_presence() {
    let root = scratch("xrf55");
    let written = Command::new(python())
        .args(["-c", WRITER, root.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );

    let names = xrf55::list(&root, "train_data").unwrap();
    let stems: Vec<String> = names.iter().map(Xrf55Name::stem).collect();
    assert_eq!(stems, ["3_7_2", "3_8_1", "4_1_1"]);

    let full = xrf55::load(&root, "train_data", names[0]).unwrap();
    assert_eq!(full.class(), 6);
    assert_eq!(full.present, [1.0, 1.0, 1.0]);
    assert_eq!(full.wifi.len(), 270 * 1000);
    assert!(
        (full.wifi[5 * 1000 + 500] - 5.5).abs() < 1e-6,
        "row-major [270, 1000]"
    );
    assert_eq!(full.rfid[22 * 148 + 147], 22.0);
    assert_eq!(full.mmwave[16 * 256 * 128], 16.0);
    let on_grid = full.wifi_on_grid(200);
    assert_eq!(on_grid.len(), 270 * 200);
    assert!(
        (on_grid[5 * 200] - (5.0 + 2.0 / 1000.0)).abs() < 1e-4,
        "{}",
        on_grid[5 * 200]
    );
    assert_eq!(full.rfid_on_grid(60).len(), 23 * 60);

    let no_radar = xrf55::load(&root, "train_data", names[1]).unwrap();
    assert_eq!(no_radar.present, [0.0, 1.0, 1.0]);
    assert!(no_radar.mmwave.iter().all(|&x| x == 0.0));

    let err = xrf55::load(&root, "train_data", names[2]).unwrap_err();
    assert!(
        matches!(&err, xrf55::Xrf55Error::Shape { path, .. } if path.ends_with("4_1_1.npy")),
        "{err:?}"
    );
    let said = dagr_host::errors::chain(&err);
    assert!(
        said.contains("4_1_1.npy: shape") && said.contains("[270, 1000]"),
        "{said}"
    );
}
