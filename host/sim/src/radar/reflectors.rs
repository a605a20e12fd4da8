//! Every reflector the radar sees in one frame, in its own frame: the body, the room's
//! static reflectors, and their multipath images in the walls, floor and ceiling.
//!
//! Multipath (image method): a reflector seen by way of a plane wall appears at its mirror
//! image behind that wall, moving with the mirrored velocity, at the image's range: the
//! path radar → wall → reflector → wall → radar. With `room.multipath` = ρ the wall's
//! amplitude reflection coefficient, that path meets the wall twice, so the image's
//! amplitude is the reflector's times ρ². Single-bounce paths (one leg direct, which would
//! appear at the mean of the two ranges) and higher orders are not modelled; neither are
//! the first-order images' occlusion by furniture. Only images in the six room planes;
//! images behind the radar's own wall fall outside the field of view by themselves. Images
//! are then further weakened by their longer range (R⁴) and off-boresight gain, so they show
//! up only occasionally, as points beyond the walls.
use crate::geometry::Vec3;
use crate::scene::{Room, Scatterer};

/// Appends the body, the statics and (when `room.multipath > 0`) their wall images, all
/// moved into the radar frame.
pub(super) fn gather(room: &Room, body: &[Scatterer], out: &mut Vec<Scatterer>) {
    out.clear();
    let direct = body.iter().chain(room.statics.iter());
    for s in direct.clone() {
        out.push(to_radar(room, s));
    }
    if room.multipath > 0.0 {
        for s in direct {
            for image in wall_images(room, s).into_iter().flatten() {
                out.push(to_radar(room, &image));
            }
        }
    }
}

/// A room-frame scatterer in the radar frame (position and velocity).
fn to_radar(room: &Room, s: &Scatterer) -> Scatterer {
    Scatterer {
        pos: room.radar.to_radar_frame(s.pos),
        vel: s.vel.rotate_z(-room.radar.yaw),
        amplitude: s.amplitude,
    }
}

/// Mirror images of `s` in the six planes of the room (axes of zero size have none).
fn wall_images(room: &Room, s: &Scatterer) -> [Option<Scatterer>; 6] {
    let size = [room.size.x, room.size.y, room.size.z];
    std::array::from_fn(|i| {
        let axis = i / 2;
        let wall = if i % 2 == 0 { 0.0 } else { size[axis] };
        (size[axis] > 0.0).then(|| Scatterer {
            pos: mirror(s.pos, axis, wall),
            vel: mirror(s.vel, axis, 0.0),
            amplitude: s.amplitude * room.multipath * room.multipath,
        })
    })
}

/// `v` reflected in the plane `axis = at`.
fn mirror(v: Vec3, axis: usize, at: f64) -> Vec3 {
    match axis {
        0 => Vec3::new(2.0 * at - v.x, v.y, v.z),
        1 => Vec3::new(v.x, 2.0 * at - v.y, v.z),
        _ => Vec3::new(v.x, v.y, 2.0 * at - v.z),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_lie_beyond_the_walls_with_mirrored_velocity() {
        let s = Scatterer {
            pos: Vec3::new(1.0, 2.0, 1.5),
            vel: Vec3::new(0.5, 0.0, 0.0),
            amplitude: 1.0,
        };
        let room = super::super::tests::room(Vec3::new(4.0, 5.0, 3.0), 0.3);
        let images: Vec<Scatterer> = wall_images(&room, &s).into_iter().flatten().collect();
        assert_eq!(images.len(), 6);
        assert_eq!(images[0].pos, Vec3::new(-1.0, 2.0, 1.5));
        assert_eq!(images[1].pos, Vec3::new(7.0, 2.0, 1.5));
        assert_eq!(images[1].vel, Vec3::new(-0.5, 0.0, 0.0));
        assert_eq!(images[4].pos, Vec3::new(1.0, 2.0, -1.5));
        assert!(images.iter().all(|i| (i.amplitude - 0.09).abs() < 1e-12));
    }

    #[test]
    fn an_anechoic_room_has_no_images() {
        let room = super::super::tests::room(Vec3::new(4.0, 5.0, 3.0), 0.0);
        let body = [Scatterer {
            pos: Vec3::new(1.0, 2.0, 1.0),
            vel: Vec3::ZERO,
            amplitude: 1.0,
        }];
        let mut out = Vec::new();
        gather(&room, &body, &mut out);
        assert_eq!(out.len(), 1);
    }
}
