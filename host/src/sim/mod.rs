//! The digital twin: one physical scene rendered as the bytes the real devices would send.
//!
//! [`scene`] is the contract: a room with its devices and a person made of moving point
//! scatterers. Renderers turn the scatterers at an instant into a TI radar frame, ESP32 CSI
//! rows or LLRP tag reports, using the protocol crate's encoders, so the gateway reads
//! simulated devices through exactly the decoders it uses for real ones.
//!
//! Difficulty calibration (per-modality and fused accuracy of a simple classifier on unseen
//! rooms and subjects): `CALIBRATION.md` next to this file (`models/calibrate_sim.py`).
pub mod activity;
pub mod body;
pub mod csi;
pub mod devices;
pub mod draw;
pub mod geometry;
pub mod micro;
pub mod radar;
pub mod rfid;
pub mod room;
pub mod run;
pub mod scenario;
pub mod scene;
pub mod serve;
pub mod spells;
pub mod world;

pub use geometry::Vec3;
pub use scene::{MovedTag, Object, RadarMount, RfidSetup, Room, Scatterer, Scene, Tag, WifiLink};

/// Speed of light, m/s.
pub const C: f64 = 299_792_458.0;
