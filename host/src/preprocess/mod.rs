//! Preprocessing: one synchronizer [`Window`] to the model's fixed-shape float32 inputs and
//! its presence mask. The one implementation: the gateway's inference calls
//! [`preprocess_into`] (caller-owned [`Preprocessor`] scratch and [`Tensors`], reused
//! between windows: no heap allocation per window in steady state) and `dagr dataset
//! export` calls [`preprocess`] (the same code, fresh buffers), so a model sees at run time
//! exactly what it was trained on.
//!
//! Every input format the gateway accepts feeds its modality's tensor: ESP32-CSI-Tool and
//! esp-csi rows, Intel 5300 records and node-link CSI ([`csi`] says how each maps onto the
//! WiFi rows); TI out-of-box frames and node-link radar ([`mmwave`]); LLRP tag reports and
//! node-link RFID batches ([`rfid`]). Which RFID tag takes which rows is a deployment
//! setting, [`TagOrder`] (EPC order by default). Records that feed nothing (a format or
//! shape without a mapping, a fourth WiFi link, a tag without a row) are counted in
//! [`Unused`], never silently dropped.
//!
//! # Layout (XRF55's WiFi channel axis, time last)
//! XRF55 (Wang et al., IMWUT 2024) stores one sample per modality as WiFi `[270, 1000]`
//! (3 receivers × 3 antennas × 30 subcarriers, 200 Hz × 5 s), RFID `[23, 148]` (tags ×
//! samples) and mmWave `[17, 256, 128]` heatmaps. We keep WiFi's 270 rows (3 links × 3
//! blocks × 30 subcarriers) and put our own window length on the time axis. What the rows
//! hold is chosen to carry the person and not the room (see [`wifi`] and [`rfid`]): every
//! WiFi and RFID row has its window mean removed, so the static channel of a room (its
//! geometry, its furniture, where the devices hang) is dropped.
//! - **WiFi `[270, T]`** ([`wifi`]): row `(link · 3 + block) · 30 + s`, `s` one of 30
//!   subcarriers picked evenly from the 52 used ESP32 LLTF bins (other formats map onto the
//!   same 30 subcarriers and 3 antenna slots, see [`csi`]); block 0 the per-packet
//!   RMS-normalized power averaged over the link's antennas (in linear power, then
//!   `10·log10(max(p, 1e-6))`), dB / [`WIFI_AMPLITUDE_SCALE_DB`];
//!   blocks 1 and 2 the phase differences between antennas 1–0 and 2–1 of each packet
//!   (receiver offsets cancel), / [`WIFI_PHASE_SCALE_RAD`]; each row linearly resampled
//!   onto `T` uniform steps (a phase row unwrapped in time first), then minus the mean of
//!   its `T` values (a phase row: minus its packets' circular mean, wrapped to ±π).
//! - **RFID `[46, T]`** ([`rfid`]): two rows per tag, up to 23 tags in EPC order (or in
//!   the order of a [`TagOrder`] list), zero-padded: row `2·tag` the tag's phase track
//!   built from phase steps between reads on the same antenna and channel, /
//!   [`RFID_PHASE_SCALE`]; row `2·tag + 1` its RSSI, dB / [`RFID_RSSI_SCALE_DB`]; each
//!   resampled onto `T` steps, then minus the mean of its `T` values.
//! - **mmWave `[F, P, 5]`** ([`mmwave`]): our radar gives point clouds, not XRF55's
//!   heatmaps, so a compact point tensor: `F` frame slots × the `P` strongest points ×
//!   `(x, y, z, v, snr)`, scaled by the `MMWAVE_*` constants, zero-padded.
//! - **present `[3]`**: 1.0 where the synchronizer marked the modality present
//!   ([`Window::present`]), in [`Modality::ALL`] order; an absent modality's tensor is all
//!   zeros whatever records it has.
//!
//! Grid times are the centres of `T` equal cells of the window (see [`grid`]); a record's
//! time is its mapped time (where the synchronizer places it; `dagr replay --json` prints
//! it as `mapped_ns`) less the window's start. All shapes
//! and constants are in [`PreprocessSpec`], which serializes into model.json and the
//! dataset manifest.
use serde::Serialize;

use crate::record::Modality;
use crate::sync::Window;

pub mod csi;
pub mod grid;
pub mod mmwave;
pub mod rfid;
pub mod tag_order;
pub mod wifi;

pub use tag_order::{TagOrder, TagOrderError};

mod angle;
mod packet_cache;
mod phase_rows;
#[cfg(test)]
mod pinned;
#[cfg(test)]
mod tests;

/// WiFi links (receivers) in the tensor, in source-name order; further links are ignored.
pub const WIFI_LINKS: usize = 3;
/// Receive antennas per link.
pub const WIFI_ANTENNAS: usize = 3;
/// Subcarriers per antenna (XRF55's Intel 5300 grouping).
pub const WIFI_SUBCARRIERS: usize = 30;
/// Row blocks per link: power, phase difference 1–0, phase difference 2–1.
pub const WIFI_BLOCKS: usize = 3;
/// Divides the window-centred power, dB.
pub const WIFI_AMPLITUDE_SCALE_DB: f32 = 3.0;
/// Divides the antenna phase difference turned by its window circular mean, rad.
pub const WIFI_PHASE_SCALE_RAD: f32 = 1.0;
/// Most tags in the RFID tensor (XRF55's 23).
pub const RFID_TAGS: usize = 23;
/// Rows per tag: phase track, RSSI.
pub const RFID_ROWS_PER_TAG: usize = 2;
/// Divides the window-centred phase track, rad.
pub const RFID_PHASE_SCALE: f32 = std::f32::consts::PI;
/// Divides the window-centred RSSI, dB.
pub const RFID_RSSI_SCALE_DB: f32 = 6.0;
/// Values per radar point: x, y, z, v, snr.
pub const MMWAVE_FEATURES: usize = 5;
/// Divides x, y, z, m.
pub const MMWAVE_POSITION_SCALE_M: f32 = 5.0;
/// Divides the radial velocity, m/s.
pub const MMWAVE_VELOCITY_SCALE_MPS: f32 = 2.0;
/// Divides the point SNR, dB.
pub const MMWAVE_SNR_SCALE_DB: f32 = 30.0;

/// The normalization constants, as written into model.json.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Normalization {
    /// [`WIFI_AMPLITUDE_SCALE_DB`].
    pub wifi_amplitude_scale_db: f32,
    /// [`WIFI_PHASE_SCALE_RAD`].
    pub wifi_phase_scale_rad: f32,
    /// [`RFID_PHASE_SCALE`].
    pub rfid_phase_scale_rad: f32,
    /// [`RFID_RSSI_SCALE_DB`].
    pub rfid_rssi_scale_db: f32,
    /// [`MMWAVE_POSITION_SCALE_M`].
    pub mmwave_position_scale_m: f32,
    /// [`MMWAVE_VELOCITY_SCALE_MPS`].
    pub mmwave_velocity_scale_mps: f32,
    /// [`MMWAVE_SNR_SCALE_DB`].
    pub mmwave_snr_scale_db: f32,
}

impl Normalization {
    /// The constants this build uses.
    pub const CURRENT: Normalization = Normalization {
        wifi_amplitude_scale_db: WIFI_AMPLITUDE_SCALE_DB,
        wifi_phase_scale_rad: WIFI_PHASE_SCALE_RAD,
        rfid_phase_scale_rad: RFID_PHASE_SCALE,
        rfid_rssi_scale_db: RFID_RSSI_SCALE_DB,
        mmwave_position_scale_m: MMWAVE_POSITION_SCALE_M,
        mmwave_velocity_scale_mps: MMWAVE_VELOCITY_SCALE_MPS,
        mmwave_snr_scale_db: MMWAVE_SNR_SCALE_DB,
    };
}

/// What the rows of the WiFi and RFID tensors hold, in words, as written into
/// dataset.json and model.json next to the shapes.
///
/// The strings describe the layout, not one device: every format maps into this same
/// layout ([`csi`] for the WiFi rows of esp-csi, Intel 5300 and node-link CSI, [`rfid`] for
/// node-link reads, [`mmwave`] for node-link radar), and a deployment's [`TagOrder`] only
/// changes which tag fills which rows. They are compared byte for byte with a model's
/// model.json, so they change only with a new layout (and a retrained model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// Row order and content of the WiFi tensor.
    pub wifi_rows: &'static str,
    /// Row order and content of the RFID tensor.
    pub rfid_rows: &'static str,
    /// Axes of the mmWave tensor.
    pub mmwave_axes: &'static str,
}

impl Layout {
    /// This build's layout.
    pub const CURRENT: Layout = Layout {
        wifi_rows: "(link*3 + block)*30 + subcarrier; block 0: power dB averaged over the \
                    link's antennas, minus its window mean; blocks 1, 2: phase difference \
                    antenna 1-0, 2-1, minus its window circular mean, wrapped to +-pi",
        rfid_rows: "tag*2 + quantity, tags in EPC order (object tags first), zero rows \
                    after the last tag read; quantity 0: phase track from steps between \
                    reads on one antenna and channel, 1: RSSI; every row minus its window \
                    mean",
        mmwave_axes: "frame slot, point (strongest first), (x, y, z, v, snr)",
    };
}

/// Per-sample tensor shapes (no batch axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shapes {
    /// `[270, wifi_steps]`.
    pub wifi: [usize; 2],
    /// `[46, rfid_steps]`.
    pub rfid: [usize; 2],
    /// `[mmwave_frames, mmwave_points, 5]`.
    pub mmwave: [usize; 3],
    /// `[3]`.
    pub present: [usize; 1],
}

/// Everything that fixes what [`preprocess`] produces: window geometry, grid sizes, the
/// resulting shapes and the normalization constants. Serialized into model.json and
/// dataset.json so a model and its data say how they were made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreprocessSpec {
    /// Window length, s.
    pub window_s: f64,
    /// Distance between window starts, s.
    pub hop_s: f64,
    /// WiFi time steps per window.
    pub wifi_steps: usize,
    /// RFID time steps per window.
    pub rfid_steps: usize,
    /// Radar frame slots per window.
    pub mmwave_frames: usize,
    /// Radar points kept per frame (strongest first).
    pub mmwave_points: usize,
    /// Which WiFi subcarriers (802.11 index `k`) fill the 30 rows of each antenna.
    pub wifi_subcarriers: [i32; WIFI_SUBCARRIERS],
    /// Tensor shapes that follow from the above.
    pub shapes: Shapes,
    /// What the rows hold.
    pub layout: Layout,
    /// Normalization constants.
    pub normalization: Normalization,
}

impl Default for PreprocessSpec {
    /// 2 s windows every 0.5 s: WiFi at its 100 packets/s (200 steps), RFID at its ~30
    /// reads/s per tag (60 steps), the radar's 20 frames/s (40 slots) of up to 64 points.
    fn default() -> Self {
        PreprocessSpec::new(2.0, 0.5)
    }
}

impl PreprocessSpec {
    /// A spec for `window_s`-second windows every `hop_s`, with grids at the devices'
    /// native rates (WiFi 100 Hz, RFID 30 Hz, radar 20 frames/s; at least one step each).
    pub fn new(window_s: f64, hop_s: f64) -> Self {
        let steps = |hz: f64| ((window_s * hz).round() as usize).max(1);
        PreprocessSpec::with_grid(window_s, hop_s, steps(100.0), steps(30.0), steps(20.0), 64)
    }

    /// A spec with explicit grid sizes (each at least 1).
    pub fn with_grid(
        window_s: f64,
        hop_s: f64,
        wifi_steps: usize,
        rfid_steps: usize,
        mmwave_frames: usize,
        mmwave_points: usize,
    ) -> Self {
        let (wifi_steps, rfid_steps) = (wifi_steps.max(1), rfid_steps.max(1));
        let (mmwave_frames, mmwave_points) = (mmwave_frames.max(1), mmwave_points.max(1));
        PreprocessSpec {
            window_s,
            hop_s,
            wifi_steps,
            rfid_steps,
            mmwave_frames,
            mmwave_points,
            wifi_subcarriers: wifi::picked_subcarriers(),
            shapes: Shapes {
                wifi: [WIFI_LINKS * WIFI_BLOCKS * WIFI_SUBCARRIERS, wifi_steps],
                rfid: [RFID_TAGS * RFID_ROWS_PER_TAG, rfid_steps],
                mmwave: [mmwave_frames, mmwave_points, MMWAVE_FEATURES],
                present: [Modality::ALL.len()],
            },
            layout: Layout::CURRENT,
            normalization: Normalization::CURRENT,
        }
    }
}

/// One window's model inputs, flat row-major in the spec's [`Shapes`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tensors {
    /// `[270, wifi_steps]`.
    pub wifi: Vec<f32>,
    /// `[46, rfid_steps]`.
    pub rfid: Vec<f32>,
    /// `[mmwave_frames, mmwave_points, 5]`.
    pub mmwave: Vec<f32>,
    /// 1.0 = present, in [`Modality::ALL`] order.
    pub present: [f32; 3],
}

impl Tensors {
    /// All-zero tensors of `spec`'s shapes: the buffers [`preprocess_into`] fills.
    pub fn zeros(spec: &PreprocessSpec) -> Tensors {
        let s = &spec.shapes;
        Tensors {
            wifi: vec![0.0; s.wifi.iter().product()],
            rfid: vec![0.0; s.rfid.iter().product()],
            mmwave: vec![0.0; s.mmwave.iter().product()],
            present: [0.0; 3],
        }
    }

    /// The tensor of one modality.
    pub fn of(&self, modality: Modality) -> &[f32] {
        match modality {
            Modality::Mmwave => &self.mmwave,
            Modality::Wifi => &self.wifi,
            Modality::Rfid => &self.rfid,
        }
    }
}

/// Records of the last window that fed no tensor value, per modality (RFID counts reads:
/// a node batch holds several). Absent modalities are not counted (their tensors are zero
/// by the presence mask, not for want of a mapping).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unused {
    /// WiFi records of a format or shape without a mapping, or of a fourth or later link.
    pub wifi: usize,
    /// Tag reads of tags without a row (beyond 23, or not in the tag list) or with neither
    /// phase nor RSSI, and RFID records holding no reads.
    pub rfid: usize,
    /// Radar records holding no radar frame.
    pub mmwave: usize,
}

/// What preprocessing keeps between windows: the deployment's [`TagOrder`] and the
/// scratch buffers each modality is built in. One per stream of windows; after the first
/// windows have sized its buffers, [`preprocess_into`] allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Preprocessor {
    tag_order: TagOrder,
    wifi: wifi::WifiScratch,
    rfid: rfid::RfidScratch,
    mmwave: mmwave::MmwaveScratch,
    unused: Unused,
}

impl Preprocessor {
    /// A preprocessor with RFID tags in EPC order.
    pub fn new() -> Preprocessor {
        Preprocessor::default()
    }

    /// A preprocessor with RFID rows fixed by `tag_order` (the gateway config's tag list).
    pub fn with_tag_order(tag_order: TagOrder) -> Preprocessor {
        Preprocessor {
            tag_order,
            ..Preprocessor::default()
        }
    }

    /// How RFID tags are assigned to rows.
    pub fn tag_order(&self) -> &TagOrder {
        &self.tag_order
    }

    /// What the last window preprocessed left unused.
    pub fn unused(&self) -> Unused {
        self.unused
    }
}

/// Turns `window` into the model's inputs per `spec`, into `out` (resized to the spec's
/// shapes and overwritten), using `pre`'s tag order and scratch buffers. Pure apart from
/// the buffers: the same window, spec and tag order give the same tensors. Window times are
/// taken over the spec's `window_s` from the window's start, so the caller's synchronizer
/// should cut windows of that length.
pub fn preprocess_into(
    window: &Window,
    spec: &PreprocessSpec,
    pre: &mut Preprocessor,
    out: &mut Tensors,
) {
    let present = window.present();
    let s = &spec.shapes;
    out.wifi.resize(s.wifi.iter().product(), 0.0);
    out.rfid.resize(s.rfid.iter().product(), 0.0);
    out.mmwave.resize(s.mmwave.iter().product(), 0.0);
    out.present = present.map(|p| if p { 1.0 } else { 0.0 });
    let on = |m: Modality| present[m.index()];
    pre.unused = Unused::default();
    if on(Modality::Wifi) {
        pre.unused.wifi = wifi::tensor_into(window, spec, &mut pre.wifi, &mut out.wifi);
    } else {
        out.wifi.fill(0.0);
    }
    if on(Modality::Rfid) {
        let (order, scratch) = (&pre.tag_order, &mut pre.rfid);
        pre.unused.rfid = rfid::tensor_into(window, spec, order, scratch, &mut out.rfid);
    } else {
        out.rfid.fill(0.0);
    }
    if on(Modality::Mmwave) {
        pre.unused.mmwave = mmwave::tensor_into(window, spec, &mut pre.mmwave, &mut out.mmwave);
    } else {
        out.mmwave.fill(0.0);
    }
}

/// [`preprocess_into`] with fresh buffers and tags in EPC order: the convenience form
/// (dataset export), giving the same tensors.
pub fn preprocess(window: &Window, spec: &PreprocessSpec) -> Tensors {
    let mut out = Tensors::zeros(spec);
    preprocess_into(window, spec, &mut Preprocessor::new(), &mut out);
    out
}

/// Seconds from the window's start to mapped time `t_ns` (negative before it).
fn seconds_into(window: &Window, t_ns: u64) -> f64 {
    (t_ns as f64 - window.start_ns as f64) * 1e-9
}
