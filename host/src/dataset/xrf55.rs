//! XRF55 (Wang et al., IMWUT 2024) samples, so models built for our layout can be trained
//! or checked on the published dataset too.
//!
//! # Layout read
//! `ROOT/<part>/{WiFi,RFID,mmWave}/<volunteer>_<action>_<repetition>.npy` (`part`:
//! `train_data` or `test_data`, as the dataset's own loader reads them), one 5 s sample per
//! file: WiFi `[270, 1000]` (3 receivers × 3 antennas × 30 subcarriers, 200 Hz), RFID
//! `[23, 148]` (tags × samples), mmWave `[17, 256, 128]` heatmaps. Actions are numbered
//! 1..=55 in the file names; [`Xrf55Sample::class`] is `action − 1`. A sample whose file is
//! missing for one modality is still loaded, with that modality absent (zeros), like a
//! window whose sensor was silent.
//!
//! Not done here: mapping XRF55's 55 classes onto our 13, and turning its mmWave heatmaps
//! into our point tensor (they carry different information); [`Xrf55Sample::wifi_on_grid`]
//! and [`Xrf55Sample::rfid_on_grid`] resample the time axis onto a spec's grid.
use std::path::{Path, PathBuf};

use super::npy::{self, NpyError};
use crate::preprocess::grid::{grid_times, Series};

/// Per-sample shapes of XRF55's WiFi, RFID and mmWave arrays.
pub const WIFI_SHAPE: [usize; 2] = [270, 1000];
/// See [`WIFI_SHAPE`].
pub const RFID_SHAPE: [usize; 2] = [23, 148];
/// See [`WIFI_SHAPE`].
pub const MMWAVE_SHAPE: [usize; 3] = [17, 256, 128];
/// Length of every sample, s.
pub const SAMPLE_S: f64 = 5.0;
/// Modality folders, in [`Modality::ALL`](crate::record::Modality::ALL) order.
pub const FOLDERS: [&str; 3] = ["mmWave", "WiFi", "RFID"];

/// Why XRF55 samples could not be listed or loaded: the folder or file, and what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum Xrf55Error {
    /// A modality folder could not be listed.
    #[error("{}: {cause}", dir.display())]
    List {
        /// The folder.
        dir: PathBuf,
        /// Why listing it failed.
        #[source]
        cause: std::io::Error,
    },
    /// A sample's file could not be read as a `.npy` array.
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// A sample's array is not the shape XRF55 stores that modality in.
    #[error("{}: shape {found:?}: expected XRF55's {expected:?}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// The array's shape.
        found: Vec<usize>,
        /// The modality's XRF55 shape.
        expected: Vec<usize>,
    },
}

/// A sample's identity, from its file name `a_b_c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Xrf55Name {
    /// Volunteer id.
    pub volunteer: u32,
    /// Action, 1..=55.
    pub action: u32,
    /// Repetition, 1..=20.
    pub repetition: u32,
}

impl Xrf55Name {
    /// Parses `a_b_c` (without `.npy`).
    pub fn parse(stem: &str) -> Option<Xrf55Name> {
        let mut parts = stem.split('_').map(|p| p.parse::<u32>().ok());
        let name = Xrf55Name {
            volunteer: parts.next()??,
            action: parts.next()??,
            repetition: parts.next()??,
        };
        (parts.next().is_none() && name.action >= 1).then_some(name)
    }

    /// The file stem `a_b_c`.
    pub fn stem(&self) -> String {
        format!("{}_{}_{}", self.volunteer, self.action, self.repetition)
    }
}

/// One XRF55 sample, arrays flat row-major in the XRF55 shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Xrf55Sample {
    /// Which sample.
    pub name: Xrf55Name,
    /// `[270, 1000]`, zeros when absent.
    pub wifi: Vec<f32>,
    /// `[23, 148]`, zeros when absent.
    pub rfid: Vec<f32>,
    /// `[17, 256, 128]`, zeros when absent.
    pub mmwave: Vec<f32>,
    /// 1.0 where the modality's file was there, in model input order.
    pub present: [f32; 3],
}

impl Xrf55Sample {
    /// Class index, 0-based (`action − 1`).
    pub fn class(&self) -> usize {
        self.name.action as usize - 1
    }

    /// WiFi resampled from 1000 to `steps` uniform steps: `[270, steps]`.
    pub fn wifi_on_grid(&self, steps: usize) -> Vec<f32> {
        on_grid(&self.wifi, WIFI_SHAPE, steps)
    }

    /// RFID resampled from 148 to `steps` uniform steps: `[23, steps]`.
    pub fn rfid_on_grid(&self, steps: usize) -> Vec<f32> {
        on_grid(&self.rfid, RFID_SHAPE, steps)
    }
}

/// The samples of `root/part` (named by the WiFi, RFID or mmWave files), sorted.
pub fn list(root: &Path, part: &str) -> Result<Vec<Xrf55Name>, Xrf55Error> {
    let mut names = std::collections::BTreeSet::new();
    for folder in FOLDERS {
        let dir = root.join(part).join(folder);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .map_err(|cause| Xrf55Error::List {
                    dir: dir.clone(),
                    cause,
                })?
                .path();
            if path.extension().is_some_and(|e| e == "npy") {
                if let Some(name) = path
                    .file_stem()
                    .and_then(|s| Xrf55Name::parse(&s.to_string_lossy()))
                {
                    names.insert(name);
                }
            }
        }
    }
    Ok(names.into_iter().collect())
}

/// Loads sample `name` of `root/part`; every file there must have its XRF55 shape.
pub fn load(root: &Path, part: &str, name: Xrf55Name) -> Result<Xrf55Sample, Xrf55Error> {
    let file = |folder: &str| -> PathBuf {
        root.join(part)
            .join(folder)
            .join(format!("{}.npy", name.stem()))
    };
    let mut present = [0.0; 3];
    let mut read = |m: usize, shape: &[usize]| -> Result<Vec<f32>, Xrf55Error> {
        let path = file(FOLDERS[m]);
        if !path.exists() {
            return Ok(vec![0.0; shape.iter().product()]);
        }
        let array = npy::read(&path)?;
        if array.shape != shape {
            return Err(Xrf55Error::Shape {
                path,
                found: array.shape,
                expected: shape.to_vec(),
            });
        }
        present[m] = 1.0;
        Ok(array.data)
    };
    let mmwave = read(0, &MMWAVE_SHAPE)?;
    let wifi = read(1, &WIFI_SHAPE)?;
    let rfid = read(2, &RFID_SHAPE)?;
    Ok(Xrf55Sample {
        name,
        wifi,
        rfid,
        mmwave,
        present,
    })
}

/// `[rows, from]` samples spread evenly over [`SAMPLE_S`] to `[rows, steps]` on the grid
/// of [`grid_times`].
fn on_grid(values: &[f32], [rows, from]: [usize; 2], steps: usize) -> Vec<f32> {
    let mut out = vec![0.0; rows * steps];
    let grid = grid_times(SAMPLE_S, steps);
    let times = grid_times(SAMPLE_S, from);
    for r in 0..rows {
        let series = Series {
            times: times.clone(),
            values: values[r * from..(r + 1) * from].to_vec(),
        };
        series.resample_into(&grid, &mut out[r * steps..(r + 1) * steps]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_carry_volunteer_action_and_repetition() {
        let n = Xrf55Name::parse("15_4_3").unwrap();
        assert_eq!((n.volunteer, n.action, n.repetition), (15, 4, 3));
        assert_eq!(n.stem(), "15_4_3");
        assert!(Xrf55Name::parse("15_4").is_none());
        assert!(Xrf55Name::parse("15_0_3").is_none());
        assert!(Xrf55Name::parse("a_b_c").is_none());
    }

    #[test]
    fn resampling_a_ramp_onto_a_coarser_grid_keeps_it_a_ramp() {
        let ramp: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let out = on_grid(&ramp, [1, 1000], 10);
        // Grid point k sits at (k + 0.5) · 0.5 s, i.e. at source sample 100k + 49.5.
        for (k, v) in out.iter().enumerate() {
            assert!((v - (100.0 * k as f32 + 49.5)).abs() < 1e-3, "{k}: {v}");
        }
    }
}
