//! The shared physical scene every renderer reads: the room with its devices and static
//! reflectors, and the person as a set of moving point scatterers.
//!
//! This is the contract between the scene model (room, person, activities, schedules) and the
//! three renderers (mmWave, WiFi CSI, RFID). Renderers see only these types, so the modalities
//! agree physically: they all look at the same scatterers at the same instant.
use super::geometry::Vec3;

/// A point reflector at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scatterer {
    /// Position, m.
    pub pos: Vec3,
    /// Velocity, m/s.
    pub vel: Vec3,
    /// Reflection amplitude, linear, relative to a 1 m² reference reflector (√RCS). The
    /// torso is ~1, a hand ~0.1.
    pub amplitude: f64,
}

/// Where the radar sits and looks. Its own frame (what TI points are reported in): y along
/// boresight, x to the right, z up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadarMount {
    /// Position in the room, m.
    pub pos: Vec3,
    /// Heading of boresight in the room's x-y plane, radians from +y, counter-clockwise.
    pub yaw: f64,
}

impl RadarMount {
    /// A room point expressed in the radar's frame.
    pub fn to_radar_frame(&self, p: Vec3) -> Vec3 {
        (p - self.pos).rotate_z(-self.yaw)
    }
}

/// One WiFi link: a transmitter and a receiver with one or more antennas.
#[derive(Debug, Clone, PartialEq)]
pub struct WifiLink {
    /// Transmitter (access point) position, m.
    pub tx: Vec3,
    /// Receiver antenna positions, m (ESP32: one antenna per receiver board; a board per
    /// antenna when a link has several).
    pub rx: Vec<Vec3>,
    /// WiFi channel number (2.4 GHz band: 1..=13; centre = 2407 + 5·ch MHz).
    pub channel: u8,
    /// Receiver MAC address (stable per room and link).
    pub mac: [u8; 6],
}

/// An everyday object carrying a tag that the person handles in some activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// A cup: rests on a piece of furniture, in the hand while drinking.
    Cup,
    /// A phone: in the trouser pocket while the person is in the room, at the ear during a
    /// phone call, gone with the person when the room is empty.
    Phone,
}

/// One passive UHF tag placed in the room.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    /// EPC-96.
    pub epc: [u8; 12],
    /// Position, m (for a tag on an [`Object`]: where the object rests when nobody holds it).
    pub pos: Vec3,
    /// The object the tag is stuck on (`None`: a wall or furniture, never moves).
    pub object: Option<Object>,
}

/// Where a tag on an object is at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MovedTag {
    /// Index of the tag in `room.rfid.tags`.
    pub tag: usize,
    /// Position and velocity (m, m/s); `None` when the object left the room.
    pub pose: Option<(Vec3, Vec3)>,
}

/// The RFID reader's antennas and the tags it inventories.
#[derive(Debug, Clone, PartialEq)]
pub struct RfidSetup {
    /// Antenna positions, m (LLRP antenna ids are index + 1).
    pub antennas: Vec<Vec3>,
    /// Tags in the room.
    pub tags: Vec<Tag>,
}

/// A room: geometry, static reflectors, multipath strength, and where the devices are.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    /// `--room K`: the same K always builds the same room.
    pub id: u32,
    /// Extent (width, depth, height), m; the room spans [0, size] on each axis.
    pub size: Vec3,
    /// Furniture, walls' strong points and other static reflectors.
    pub statics: Vec<Scatterer>,
    /// Strength of wall reflections (0 = anechoic, ~0.3 = typical office, ~0.6 = metal-rich).
    pub multipath: f64,
    /// Mean false radar detections per frame from clutter (fans, curtains, noise).
    pub clutter_per_frame: f64,
    /// The radar.
    pub radar: RadarMount,
    /// WiFi links.
    pub wifi: Vec<WifiLink>,
    /// RFID reader and tags.
    pub rfid: RfidSetup,
}

/// What a renderer asks of the scene: everything that moves or reflects at time `t`.
pub trait Scene {
    /// The room (constant over a run).
    fn room(&self) -> &Room;
    /// Appends the person's body scatterers at time `t` (s since scene start) to `out`;
    /// appends nothing for an empty room.
    fn body_at(&self, t: f64, out: &mut Vec<Scatterer>);
    /// Appends the tags on objects the person has moved away from their resting place at `t`
    /// (in hand, in a pocket, out of the room), given the body at `t` from
    /// [`body_at`](Self::body_at). Default: nothing moves.
    fn moved_tags(&self, _t: f64, _body: &[Scatterer], _out: &mut Vec<MovedTag>) {}
}
