//! Points and vectors in the simulated room, in metres (room frame: x along the room's
//! width, y along its depth, z up; the floor is z = 0).
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

/// A point or a vector in the room frame, metres (or m/s for velocities).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vec3 {
    /// Across the room.
    pub x: f64,
    /// Into the room.
    pub y: f64,
    /// Up.
    pub z: f64,
}

impl Vec3 {
    /// The zero vector.
    pub const ZERO: Vec3 = Vec3 {
        x: 0.0,
        y: 0.0,
        z: 0.0,
    };

    /// A vector from its components.
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3 { x, y, z }
    }

    /// Dot product.
    pub fn dot(self, o: Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    /// Euclidean length.
    pub fn norm(self) -> f64 {
        self.dot(self).sqrt()
    }

    /// Distance to another point.
    pub fn distance(self, o: Vec3) -> f64 {
        (self - o).norm()
    }

    /// This vector scaled to length 1 (zero stays zero).
    pub fn unit(self) -> Vec3 {
        let n = self.norm();
        if n > 0.0 {
            self * (1.0 / n)
        } else {
            Vec3::ZERO
        }
    }

    /// This vector turned by `yaw` radians about the z axis (counter-clockwise seen from above).
    pub fn rotate_z(self, yaw: f64) -> Vec3 {
        let (s, c) = yaw.sin_cos();
        Vec3::new(c * self.x - s * self.y, s * self.x + c * self.y, self.z)
    }
}

impl Add for Vec3 {
    type Output = Vec3;
    fn add(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}

impl AddAssign for Vec3 {
    fn add_assign(&mut self, o: Vec3) {
        *self = *self + o;
    }
}

impl Sub for Vec3 {
    type Output = Vec3;
    fn sub(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}

impl Neg for Vec3 {
    type Output = Vec3;
    fn neg(self) -> Vec3 {
        Vec3::new(-self.x, -self.y, -self.z)
    }
}

impl Mul<f64> for Vec3 {
    type Output = Vec3;
    fn mul(self, k: f64) -> Vec3 {
        Vec3::new(self.x * k, self.y * k, self.z * k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_by_a_quarter_turn_maps_x_to_y() {
        let v = Vec3::new(1.0, 0.0, 2.0).rotate_z(std::f64::consts::FRAC_PI_2);
        assert!((v.x).abs() < 1e-12 && (v.y - 1.0).abs() < 1e-12 && v.z == 2.0);
    }

    #[test]
    fn distance_and_unit() {
        let a = Vec3::new(1.0, 2.0, 2.0);
        assert_eq!(a.norm(), 3.0);
        assert_eq!(a.distance(Vec3::ZERO), 3.0);
        assert!((a.unit().norm() - 1.0).abs() < 1e-12);
        assert_eq!(Vec3::ZERO.unit(), Vec3::ZERO);
    }
}
