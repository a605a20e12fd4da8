//! Rooms: `--room K` builds room K, the same K always the same room, a different K a
//! different one (size, furniture, device placement, multipath, clutter): an unseen K is a
//! domain shift for a model trained on others.
//!
//! Layout of every room (room frame as in [`geometry`](super::geometry)):
//! - size 4–8 m wide (x), 4–10 m deep (y), 2.6–3.2 m high;
//! - the radar on the front wall (y ≈ 0) at 1.0–1.5 m height, boresight into the room
//!   (±15° of +y);
//! - the activity area, where people are placed: the whole floor but 0.5 m along every wall
//!   (walks; the feet of every other activity at least 0.9 m from a wall), so people are
//!   also beside and below the radar (outside its ±60° azimuth and ±20° elevation field of
//!   view, and in its near-range leakage) and beyond its useful range (the SNR falls with
//!   R⁴; the default cfg searches to 8.9 m), as in a real home, where the radar covers the
//!   part of the room it was pointed at;
//! - the central area, 1 m from the side and back walls, 1.5–6.5 m in front of the radar,
//!   which the devices are installed around: three WiFi links whose line of sight crosses
//!   it, left wall to right wall, back wall to front wall, and one corner to the opposite
//!   corner; each receiver has 3 antennas λ/2 apart along its wall, channel 1, 6 or 11, a
//!   stable MAC per room and link;
//! - an RFID reader with 2–4 antennas on the walls (1.2–2.0 m high) and [`ROOM_TAGS`] tags,
//!   about two thirds on walls (0.5–2.0 m high) and the rest on furniture, plus one tag on a
//!   cup (resting on the first piece of furniture) and one on the person's phone
//!   ([`Object`]). Every room has the same number of tags, so the count of tags read says
//!   nothing about which room it is; object tags' EPCs sort before the room's own;
//! - 3–8 pieces of furniture, each one static scatterer of amplitude 0.3–2.5 (a metal
//!   cabinet is strong, a sofa weak);
//! - wall multipath strength 0.1–0.6 and 0.3–3 radar clutter detections per frame.
use super::draw::{integer, seeded, uniform, Stream};
use super::geometry::Vec3;
use super::scene::{Object, RadarMount, RfidSetup, Room, Scatterer, Tag, WifiLink};
use super::C;
use rand_chacha::ChaCha8Rng;

/// Least distance between a room tag and a reader antenna, m (installers keep tags out of
/// an antenna's near field, where a tag would saturate the reader).
const MIN_TAG_ANTENNA_M: f64 = 1.0;
/// Tags on walls and furniture in every room (plus the two object tags).
pub const ROOM_TAGS: u32 = 14;
/// Antennas per WiFi receiver.
pub const RX_ANTENNAS: usize = 3;
/// Espressif's MAC prefix, for the simulated receivers.
const ESPRESSIF_OUI: [u8; 3] = [0x24, 0x0A, 0xC4];
/// First bytes of every simulated tag's EPC ("DA6" for dagr), then room id, then tag index.
pub const EPC_PREFIX: [u8; 2] = [0xDA, 0x60];
/// First bytes of an object tag's EPC: sorts before [`EPC_PREFIX`].
pub const OBJECT_EPC_PREFIX: [u8; 2] = [0xDA, 0x0B];

/// The floor rectangle where activities happen, m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivityArea {
    /// Smallest corner (x, y), m.
    pub min: (f64, f64),
    /// Largest corner (x, y), m.
    pub max: (f64, f64),
}

impl ActivityArea {
    /// The middle of the area (on the floor).
    pub fn center(&self) -> Vec3 {
        Vec3::new(
            (self.min.0 + self.max.0) / 2.0,
            (self.min.1 + self.max.1) / 2.0,
            0.0,
        )
    }

    /// Half the shorter side, m: the radius of the largest circle that fits.
    pub fn inner_radius(&self) -> f64 {
        ((self.max.0 - self.min.0).min(self.max.1 - self.min.1)) / 2.0
    }

    /// True if floor point `p` (z ignored) lies inside, with tolerance `margin` m.
    pub fn contains(&self, p: Vec3, margin: f64) -> bool {
        p.x >= self.min.0 - margin
            && p.x <= self.max.0 + margin
            && p.y >= self.min.1 - margin
            && p.y <= self.max.1 + margin
    }

    /// A uniformly drawn floor point inside the area, shrunk by `inset` m on every side.
    pub fn sample(&self, rng: &mut ChaCha8Rng, inset: f64) -> Vec3 {
        let inset = inset.min(self.inner_radius());
        Vec3::new(
            uniform(rng, self.min.0 + inset, self.max.0 - inset),
            uniform(rng, self.min.1 + inset, self.max.1 - inset),
            0.0,
        )
    }
}

/// Wavelength of 2.4 GHz WiFi channel `ch` (centre 2407 + 5·ch MHz), m.
pub fn wifi_wavelength(channel: u8) -> f64 {
    C / ((2407.0 + 5.0 * f64::from(channel)) * 1e6)
}

impl Room {
    /// Room `k`: deterministic in `k` (see the [module doc](self) for the layout).
    pub fn generate(k: u32) -> Room {
        let mut rng = seeded(Stream::Room, 0, u64::from(k));
        let size = Vec3::new(
            uniform(&mut rng, 4.0, 8.0),
            uniform(&mut rng, 4.0, 10.0),
            uniform(&mut rng, 2.6, 3.2),
        );
        let radar = RadarMount {
            pos: Vec3::new(
                uniform(&mut rng, 0.35, 0.65) * size.x,
                0.05,
                uniform(&mut rng, 1.0, 1.5),
            ),
            yaw: uniform(&mut rng, -0.26, 0.26),
        };
        let area = central_area(size);
        let statics = furniture(&mut rng, size, &area);
        let wifi = wifi_links(&mut rng, k, size, &area);
        let rfid = rfid_setup(&mut rng, k, size, &statics);
        Room {
            id: k,
            size,
            statics,
            multipath: uniform(&mut rng, 0.1, 0.6),
            clutter_per_frame: uniform(&mut rng, 0.3, 3.0),
            radar,
            wifi,
            rfid,
        }
    }

    /// Where people are placed in this room: the floor but a 0.5 m strip along the walls.
    pub fn activity_area(&self) -> ActivityArea {
        ActivityArea {
            min: (WALL_CLEARANCE_M, WALL_CLEARANCE_M),
            max: (
                self.size.x - WALL_CLEARANCE_M,
                self.size.y - WALL_CLEARANCE_M,
            ),
        }
    }
}

/// Where nobody stands: the strip along every wall, m.
pub const WALL_CLEARANCE_M: f64 = 0.5;

/// The part of the room the devices are installed around (see the module doc).
fn central_area(size: Vec3) -> ActivityArea {
    ActivityArea {
        min: (1.0, 1.5),
        max: (size.x - 1.0, (size.y - 1.0).min(6.5)),
    }
}

/// Furniture along the walls and in the corners, outside the central area where possible.
fn furniture(rng: &mut ChaCha8Rng, size: Vec3, area: &ActivityArea) -> Vec<Scatterer> {
    let count = integer(rng, 3, 8);
    (0..count)
        .map(|_| {
            let mut pos = Vec3::new(
                uniform(rng, 0.3, size.x - 0.3),
                uniform(rng, 0.5, size.y - 0.3),
                uniform(rng, 0.4, 1.2),
            );
            if area.contains(pos, -0.3) {
                // Push it to the nearer side wall.
                pos.x = if pos.x < size.x / 2.0 {
                    0.4
                } else {
                    size.x - 0.4
                };
            }
            Scatterer {
                pos,
                vel: Vec3::ZERO,
                amplitude: uniform(rng, 0.3, 2.5),
            }
        })
        .collect()
}

/// Three links crossing the central area (side to side, back to front, diagonal).
fn wifi_links(rng: &mut ChaCha8Rng, k: u32, size: Vec3, area: &ActivityArea) -> Vec<WifiLink> {
    let c = area.center();
    let jitter = |rng: &mut ChaCha8Rng, v: f64| v + uniform(rng, -0.5, 0.5);
    let ends = [
        // (tx, rx, direction the receiver's antennas are spread along)
        (
            Vec3::new(0.1, jitter(rng, c.y), 1.0),
            Vec3::new(size.x - 0.1, jitter(rng, c.y), 1.0),
            Vec3::new(0.0, 1.0, 0.0),
        ),
        (
            Vec3::new(jitter(rng, c.x), size.y - 0.1, 1.2),
            Vec3::new(jitter(rng, c.x), 0.1, 0.9),
            Vec3::new(1.0, 0.0, 0.0),
        ),
        (
            Vec3::new(0.2, 0.2, 1.5),
            Vec3::new(size.x - 0.2, size.y - 0.2, 1.1),
            Vec3::new(1.0, -1.0, 0.0).unit(),
        ),
    ];
    ends.into_iter()
        .enumerate()
        .map(|(i, (tx, rx0, along))| {
            let channel = [1u8, 6, 11][integer(rng, 0, 2) as usize];
            let spacing = wifi_wavelength(channel) / 2.0;
            let first = rx0 - along * spacing;
            let [a, b] = (k as u16).to_be_bytes();
            WifiLink {
                tx,
                rx: (0..RX_ANTENNAS)
                    .map(|n| first + along * (spacing * n as f64))
                    .collect(),
                channel,
                mac: [
                    ESPRESSIF_OUI[0],
                    ESPRESSIF_OUI[1],
                    ESPRESSIF_OUI[2],
                    a,
                    b,
                    i as u8,
                ],
            }
        })
        .collect()
}

/// Reader antennas on the walls; tags on walls and on furniture.
fn rfid_setup(rng: &mut ChaCha8Rng, k: u32, size: Vec3, statics: &[Scatterer]) -> RfidSetup {
    let antennas: Vec<Vec3> = (0..integer(rng, 2, 4))
        .map(|_| on_a_wall(rng, size, 1.2, 2.0))
        .collect();
    let clear = |p: Vec3| antennas.iter().all(|a| a.distance(p) >= MIN_TAG_ANTENNA_M);
    let count = ROOM_TAGS;
    let on_furniture = (count / 3).min(statics.len() as u32);
    let mut tags: Vec<Tag> = (0..count)
        .map(|i| {
            let mut pos = if i < on_furniture {
                let base = statics[i as usize].pos;
                base + Vec3::new(uniform(rng, -0.2, 0.2), uniform(rng, -0.2, 0.2), 0.1)
            } else {
                on_a_wall(rng, size, 0.5, 2.0)
            };
            for _ in 0..50 {
                if clear(pos) {
                    break;
                }
                pos = on_a_wall(rng, size, 0.5, 2.0);
            }
            Tag {
                epc: tag_epc(k, i),
                pos,
                object: None,
            }
        })
        .collect();
    let table = statics.first().map_or(size * 0.5, |s| s.pos);
    for (i, object) in [Object::Cup, Object::Phone].into_iter().enumerate() {
        tags.push(Tag {
            epc: object_epc(k, i as u8),
            pos: table + Vec3::new(0.1 * i as f64, 0.0, 0.15),
            object: Some(object),
        });
    }
    RfidSetup { antennas, tags }
}

/// EPC-96 of object tag `index` in room `room`: [`OBJECT_EPC_PREFIX`], room id, index.
pub fn object_epc(room: u32, index: u8) -> [u8; 12] {
    let mut epc = [0u8; 12];
    epc[..2].copy_from_slice(&OBJECT_EPC_PREFIX);
    epc[2..6].copy_from_slice(&room.to_be_bytes());
    epc[11] = index;
    epc
}

/// EPC-96 of tag `index` in room `room`: [`EPC_PREFIX`], room id (4 bytes), zeros, index.
pub fn tag_epc(room: u32, index: u32) -> [u8; 12] {
    let mut epc = [0u8; 12];
    epc[..2].copy_from_slice(&EPC_PREFIX);
    epc[2..6].copy_from_slice(&room.to_be_bytes());
    epc[8..].copy_from_slice(&index.to_be_bytes());
    epc
}

/// A point 5 cm off one of the four walls, between heights `z_lo` and `z_hi`.
fn on_a_wall(rng: &mut ChaCha8Rng, size: Vec3, z_lo: f64, z_hi: f64) -> Vec3 {
    let z = uniform(rng, z_lo, z_hi);
    let (x, y) = (
        uniform(rng, 0.3, size.x - 0.3),
        uniform(rng, 0.3, size.y - 0.3),
    );
    match integer(rng, 0, 3) {
        0 => Vec3::new(x, 0.05, z),
        1 => Vec3::new(x, size.y - 0.05, z),
        2 => Vec3::new(0.05, y, z),
        _ => Vec3::new(size.x - 0.05, y, z),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_room_id_builds_the_identical_room() {
        for k in [0, 1, 7, 1000] {
            assert_eq!(Room::generate(k), Room::generate(k));
        }
    }

    #[test]
    fn different_room_ids_build_different_geometry() {
        let rooms: Vec<Room> = (0..20).map(Room::generate).collect();
        for (i, a) in rooms.iter().enumerate() {
            for b in &rooms[i + 1..] {
                assert_ne!(a.size, b.size);
                assert_ne!(a.radar, b.radar);
                assert_ne!(a.rfid.tags[0].epc, b.rfid.tags[0].epc);
            }
        }
        let multipath: Vec<f64> = rooms.iter().map(|r| r.multipath).collect();
        let spread = multipath.iter().cloned().fold(f64::MIN, f64::max)
            - multipath.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread > 0.2, "multipath barely varies: {multipath:?}");
    }

    #[test]
    fn every_room_holds_its_devices_inside_and_in_range() {
        for k in 0..200 {
            let room = Room::generate(k);
            let s = room.size;
            let inside = |p: Vec3| {
                (0.0..=s.x).contains(&p.x)
                    && (0.0..=s.y).contains(&p.y)
                    && (0.0..=s.z).contains(&p.z)
            };
            assert!((4.0..=8.0).contains(&s.x) && (4.0..=10.0).contains(&s.y));
            assert!((2.6..=3.2).contains(&s.z));
            assert!((1.0..=1.5).contains(&room.radar.pos.z) && inside(room.radar.pos));
            assert_eq!(room.wifi.len(), 3);
            for link in &room.wifi {
                assert!([1, 6, 11].contains(&link.channel));
                assert_eq!(link.rx.len(), RX_ANTENNAS);
                let gap = link.rx[0].distance(link.rx[1]);
                assert!((gap - wifi_wavelength(link.channel) / 2.0).abs() < 1e-9);
                assert!(
                    inside(link.tx) && link.rx.iter().all(|&p| inside(p)),
                    "room {k}"
                );
            }
            assert!((2..=4).contains(&room.rfid.antennas.len()));
            assert_eq!(room.rfid.tags.len(), ROOM_TAGS as usize + 2);
            assert!(room.rfid.tags.iter().all(|t| inside(t.pos)), "room {k}");
            let area = room.activity_area();
            assert!(area.max.0 - area.min.0 >= 3.0 && area.max.1 - area.min.1 >= 3.0);
            assert!(area.contains(room.radar.pos, 0.5) && !area.contains(room.radar.pos, 0.4));
            let central = central_area(room.size);
            assert!(
                central.min.1 - room.radar.pos.y >= 1.4,
                "room {k}: devices' area too close to the radar"
            );
        }
    }

    #[test]
    fn tag_epcs_name_room_and_index_and_are_unique() {
        let room = Room::generate(42);
        let mut epcs: Vec<_> = room.rfid.tags.iter().map(|t| t.epc).collect();
        assert_eq!(epcs[3], tag_epc(42, 3));
        assert_eq!(&epcs[3][2..6], &42u32.to_be_bytes());
        epcs.sort();
        epcs.dedup();
        assert_eq!(epcs.len(), room.rfid.tags.len());
    }

    #[test]
    fn wifi_wavelength_of_channel_6_is_about_12_cm() {
        assert!((wifi_wavelength(6) - 0.12302).abs() < 1e-4);
    }
}
