//! The digital twin: one physical scene rendered as the bytes the real devices would send.
//!
//! [`scene`] is the contract: a room with its devices and a person made of moving point
//! scatterers. Renderers turn the scatterers at an instant into a TI radar frame, ESP32 CSI
//! rows or LLRP tag reports, using the protocol crate's encoders, so the gateway reads
//! simulated devices through exactly the decoders it uses for real ones.
//!
//! # What each sensor sees, and why (complementarity by design)
//! No sensor is told the activity; each sees what its physics lets it see, so the three
//! disagree in ways fusion can use:
//! - **mmWave** (points with radial velocity, clutter removal on): sees motion in its field
//!   of view, strongly: walking, jumping, kicking, falling (a fast drop of the points'
//!   height), bending, sitting down and standing up (height change), clapping and waving
//!   (Doppler of the hands). Sees badly: a person holding still (clutter removal deletes a
//!   static body; breathing, ~1 cm/s, is far below the 0.14 m/s Doppler bin; only fidgets
//!   and weight shifts leave occasional points), so phone calls, drinking once the arm is up
//!   and lying after a fall look alike; motion across boresight (no radial velocity); a
//!   person beyond ~6 m, beside it or below it: people stand anywhere in the room, and the
//!   radar covers the part it was pointed at (WiFi's links and RFID's tags span the room).
//! - **WiFi** (3 links, antenna phase differences and power): sees whatever moves the body
//!   relative to the links' paths — the body shadows the line of sight and wall paths by up
//!   to 10 dB and adds its own reflections whose phase follows the limbs — so walking,
//!   falling, sitting, standing, bending and jumping, and breathing of a still person (the
//!   difference between a still person and an empty room). Sees badly: small hand gestures
//!   (waving, clapping, drinking) far from every path; and the same motion looks different
//!   depending on where it happens relative to the links, so it transfers less well to a
//!   room never seen.
//! - **RFID** (16 tags read ~25 times a second, hopping channels): sees object use — the cup
//!   tag moves with the hand while drinking, the phone goes from the pocket to the ear for a
//!   call — and, through the phone in the pocket, the person's own movement (walking,
//!   turning, jumping, falling, sitting); the phone leaves with the person (empty room); a
//!   body blocking a tag's line of sight lowers its RSSI. Sees badly: gestures that touch no
//!   object (waving, clapping, kicking) beyond faint multipath; fast motion (each antenna and
//!   channel reads a tag only every 0.1–0.5 s, so phase steps alias).
//!
//! The scene never times anything to a label: micro-motion, outages, noisy spells and false
//! alarms are drawn on scene time from the seed, not from the schedule.
//!
//! Difficulty calibration (per-modality and fused accuracy of a probe classifier on rooms and
//! people held out together): `CALIBRATION.md` at the crate's root (`models/calibrate_sim.py`).
#![forbid(unsafe_code)]
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
