//! The DAGR terms on a batch's embeddings, each with its backward pass written out:
//! dispersion per modality and agreement-band anchoring over present modality pairs,
//! exactly as `models/dagr_train/loss.py` defines them (see its docstring and
//! [`crate::DagrConfig`]).

use crate::objective::{DagrConfig, Distance, EPS};
use crate::shape::MODALITIES;

/// The modality pairs (m, n), m < n, in loss.py's order.
const PAIRS: [(usize, usize); 3] = [(0, 1), (0, 2), (1, 2)];

/// A batch's embeddings, window-major then modality, with their norms and the mask.
pub(crate) struct Embeddings<'a> {
    /// `z` of every window and modality (`windows * 3 * embed_dim`).
    pub z: &'a [f32],
    /// `||z||` of every window and modality.
    pub norms: &'a [f32],
    /// Which modalities each window has.
    pub present: &'a [[bool; MODALITIES]],
    /// Length of one embedding.
    pub embed_dim: usize,
}

impl Embeddings<'_> {
    /// Index of window `i`'s modality `m` in the window-major layout.
    fn slot(i: usize, m: usize) -> usize {
        i * MODALITIES + m
    }

    /// `z_i^m`.
    fn row(&self, i: usize, m: usize) -> &[f32] {
        let at = Self::slot(i, m) * self.embed_dim;
        &self.z[at..at + self.embed_dim]
    }

    /// `max(||z_i^m||, EPS)`: the divisor of the normalized vector.
    fn divisor(&self, i: usize, m: usize) -> f32 {
        self.norms[Self::slot(i, m)].max(EPS)
    }

    /// The windows where modality `m` is present.
    fn with(&self, m: usize) -> impl Iterator<Item = usize> + Clone + '_ {
        (0..self.present.len()).filter(move |&i| self.present[i][m])
    }
}

/// `||u_i - u_j||^2` of modality `m`, `u` the raw or the normalized embedding.
fn squared_distance(emb: &Embeddings<'_>, m: usize, i: usize, j: usize, unit: bool) -> f32 {
    let (a, b) = (emb.row(i, m), emb.row(j, m));
    if !unit {
        return lane_sum(a, b, |x, y| (x - y) * (x - y));
    }
    let (ni, nj) = scales(emb, m, i, j, unit);
    lane_sum(a, b, |x, y| {
        let d = x / ni - y / nj;
        d * d
    })
}

/// Number of partial sums [`lane_sum`] keeps: enough independent additions for the
/// compiler to vectorize, and for the sum not to wait on one chain of additions.
const LANES: usize = 8;

/// `sum_k term(a[k], b[k])`, accumulated in [`LANES`] partial sums (summed in a fixed
/// order, so the result is deterministic).
fn lane_sum(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(&x, &y)| term(x, y))
        .sum();
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for ((s, &x), &y) in acc.iter_mut().zip(ca).zip(cb) {
            *s += term(x, y);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The divisors turning `z_i`, `z_j` into the vectors the distance is taken on.
fn scales(emb: &Embeddings<'_>, m: usize, i: usize, j: usize, unit: bool) -> (f32, f32) {
    if unit {
        (emb.divisor(i, m), emb.divisor(j, m))
    } else {
        (1.0, 1.0)
    }
}

/// Dispersion of modality `m` over the windows where it is present,
/// `log mean_{i,j} exp(-||u_i - u_j||^2 / (D * tau_d))` (0 when it is present nowhere);
/// adds `weight` times its gradient into `dz`. `tmp` is one embedding long.
pub(crate) fn dispersion(
    emb: &Embeddings<'_>,
    m: usize,
    cfg: &DagrConfig,
    weight: f32,
    dz: &mut [f32],
    tmp: &mut [f32],
) -> f32 {
    let rows = emb.with(m);
    let n = rows.clone().count();
    if n == 0 {
        return 0.0;
    }
    let scale = cfg.dispersion_scale(emb.embed_dim);
    let unit = cfg.disp_normalized;
    let kernel = |i, j| libm::expf(-squared_distance(emb, m, i, j, unit) / scale);
    let mut sum = 0.0;
    for i in rows.clone() {
        for j in rows.clone() {
            sum += kernel(i, j);
        }
    }
    let value = libm::logf(sum) - libm::log((n * n) as f64) as f32;
    if weight == 0.0 {
        return value;
    }
    // d/du_k = -2/s * sum_j (w_kj + w_jk) (u_k - u_j), w = kernel / sum, symmetric.
    let coef = -4.0 * weight / (scale * sum);
    for k in rows.clone() {
        tmp.fill(0.0);
        for j in rows.clone() {
            let w = kernel(k, j);
            let (nk, nj) = scales(emb, m, k, j, unit);
            let pairs = tmp.iter_mut().zip(emb.row(k, m)).zip(emb.row(j, m));
            if unit {
                pairs.for_each(|((t, a), b)| *t += w * (a / nk - b / nj));
            } else {
                pairs.for_each(|((t, a), b)| *t += w * (a - b));
            }
        }
        tmp.iter_mut().for_each(|t| *t *= coef);
        backward_to_z(emb, k, m, unit, tmp, dz);
    }
    value
}

/// Mean of `max(0, d(z_i^m, z_i^n) - tau)` over windows and pairs m < n present in them
/// (0 when there is no such pair); adds `weight` times its gradient into `dz`.
pub(crate) fn anchoring(
    emb: &Embeddings<'_>,
    cfg: &DagrConfig,
    weight: f32,
    dz: &mut [f32],
    tmp: &mut [f32],
) -> f32 {
    let both = |i: usize, (m, n): (usize, usize)| emb.present[i][m] && emb.present[i][n];
    let count = PAIRS
        .iter()
        .map(|&pair| (0..emb.present.len()).filter(|&i| both(i, pair)).count())
        .sum::<usize>();
    if count == 0 {
        return 0.0;
    }
    let tau = cfg.tau as f32;
    let g = weight / count as f32;
    let mut sum = 0.0;
    for &(m, n) in &PAIRS {
        for i in (0..emb.present.len()).filter(|&i| both(i, (m, n))) {
            let d = pair_distance(emb, i, m, n, cfg.distance);
            let hinge = d - tau;
            if hinge > 0.0 {
                sum += hinge;
                if weight != 0.0 {
                    pair_backward(emb, i, (m, n), cfg.distance, d, g, dz, tmp);
                }
            }
        }
    }
    sum / count as f32
}

/// d(z_i^m, z_i^n): `1 - cosine`, or the L2 distance of the normalized vectors.
fn pair_distance(emb: &Embeddings<'_>, i: usize, m: usize, n: usize, distance: Distance) -> f32 {
    let (nm, nn) = (emb.divisor(i, m), emb.divisor(i, n));
    let pairs = emb.row(i, m).iter().zip(emb.row(i, n));
    match distance {
        Distance::Cosine => 1.0 - pairs.map(|(a, b)| (a / nm) * (b / nn)).sum::<f32>(),
        Distance::L2 => {
            let s: f32 = pairs
                .map(|(a, b)| {
                    let d = a / nm - b / nn;
                    d * d
                })
                .sum();
            libm::sqrtf(s.max(EPS))
        }
    }
}

/// Adds `g * d d(z_i^m, z_i^n) / d z` into `dz` for both embeddings of the pair; `d` is
/// the pair's distance.
#[allow(clippy::too_many_arguments)]
fn pair_backward(
    emb: &Embeddings<'_>,
    i: usize,
    (m, n): (usize, usize),
    distance: Distance,
    d: f32,
    g: f32,
    dz: &mut [f32],
    tmp: &mut [f32],
) {
    let (nm, nn) = (emb.divisor(i, m), emb.divisor(i, n));
    for (side, other, own_div, other_div) in [(m, n, nm, nn), (n, m, nn, nm)] {
        let own = emb.row(i, side);
        let them = emb.row(i, other);
        for ((t, a), b) in tmp.iter_mut().zip(own).zip(them) {
            let (ua, ub) = (a / own_div, b / other_div);
            *t = match distance {
                // d = 1 - ua.ub
                Distance::Cosine => -ub * g,
                // d = sqrt(max(||ua - ub||^2, EPS)); no gradient where the floor holds
                Distance::L2 if d * d >= EPS => (ua - ub) * g / d,
                Distance::L2 => 0.0,
            };
        }
        backward_to_z(emb, i, side, true, tmp, dz);
    }
}

/// Adds the gradient with respect to `z_i^m` into `dz`, given `du`, the gradient with
/// respect to `u` (= `z` when `unit` is false, else `z / max(||z||, EPS)`).
fn backward_to_z(emb: &Embeddings<'_>, i: usize, m: usize, unit: bool, du: &[f32], dz: &mut [f32]) {
    let at = Embeddings::slot(i, m) * emb.embed_dim;
    let out = &mut dz[at..at + emb.embed_dim];
    if !unit {
        out.iter_mut().zip(du).for_each(|(o, g)| *o += g);
        return;
    }
    let z = emb.row(i, m);
    let norm = emb.norms[Embeddings::slot(i, m)];
    if norm < EPS {
        // the floor holds: u = z / EPS, a constant divisor
        out.iter_mut().zip(du).for_each(|(o, g)| *o += g / EPS);
        return;
    }
    let dot: f32 = z.iter().zip(du).map(|(v, g)| (v / norm) * g).sum();
    for ((o, g), v) in out.iter_mut().zip(du).zip(z) {
        *o += (g - (v / norm) * dot) / norm;
    }
}
