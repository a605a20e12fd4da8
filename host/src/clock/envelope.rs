//! The lower envelope of (device ticks, arrival) points and the line under it.
//!
//! Arrivals are always late: serial buffering, USB polling and OS scheduling add a random,
//! non-negative delay to the instant a sample was made. The least-delayed samples therefore
//! carry the clock relation, and the rest only add noise. The estimator keeps, per bucket
//! of arrival time (1 s by default), the one sample with the smallest residual to the
//! current line (a sliding-window minimum filter), fits the drift as the slope of the
//! lower convex hull of those bucket minima over the last minute (the line under all of
//! them closest to them on average), and places the line under the most recent few
//! of them (through the lowest one), so that the offset rests on fresh samples and an
//! error in the drift is not extrapolated over the whole minute. A plain regression over all samples would land on the
//! mean delay instead; a minimum without a slope would go stale at 50-100 ppm of drift.
//!
//! Coordinates are relative to an anchor sample: `x` in device ticks, `y` in gateway ns.
use std::collections::VecDeque;

/// A point: device ticks and gateway ns, both relative to the anchor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Device ticks since the anchor.
    pub x: f64,
    /// Gateway ns since the anchor.
    pub y: f64,
}

/// Gateway time as a line of device time: `y = a + b * x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Gateway ns at the anchor's tick.
    pub a: f64,
    /// Gateway ns per device tick.
    pub b: f64,
}

impl Line {
    /// Gateway ns (relative to the anchor) at `x` ticks.
    pub fn at(&self, x: f64) -> f64 {
        self.a + self.b * x
    }

    /// How far above the line `p` lies, ns.
    pub fn residual(&self, p: Point) -> f64 {
        p.y - self.at(p.x)
    }
}

/// Sliding-window minimum filter over arrival-time buckets.
#[derive(Debug, Clone)]
pub struct Envelope {
    bucket_ns: u64,
    max_buckets: usize,
    closed: VecDeque<Point>,
    open: Option<(u64, Point)>,
}

/// What adding a sample changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing the fit depends on.
    None,
    /// The open bucket has a new minimum.
    OpenMinimum,
    /// A bucket closed.
    Closed,
}

impl Envelope {
    /// Buckets `bucket_ns` of arrival time wide, the last `max_buckets` of them kept.
    pub fn new(bucket_ns: u64, max_buckets: usize) -> Envelope {
        Envelope {
            bucket_ns: bucket_ns.max(1),
            max_buckets: max_buckets.max(2),
            closed: VecDeque::with_capacity(max_buckets.max(2)),
            open: None,
        }
    }

    /// Adds a sample that arrived at gateway `arrival_ns`; `line` ranks samples in a bucket.
    pub fn add(&mut self, p: Point, arrival_ns: u64, line: &Line) -> Change {
        let bucket = arrival_ns / self.bucket_ns;
        match &mut self.open {
            Some((b, min)) if *b == bucket => {
                if line.residual(p) < line.residual(*min) {
                    *min = p;
                    return Change::OpenMinimum;
                }
                Change::None
            }
            Some((_, min)) => {
                let done = *min;
                self.open = Some((bucket, p));
                if self.closed.len() == self.max_buckets {
                    self.closed.pop_front();
                }
                self.closed.push_back(done);
                Change::Closed
            }
            None => {
                self.open = Some((bucket, p));
                Change::OpenMinimum
            }
        }
    }

    /// Closed buckets.
    pub fn closed(&self) -> usize {
        self.closed.len()
    }

    /// The bucket minima: the closed ones, plus the open one while fewer than
    /// `min_closed` buckets have closed (early on, a young bucket beats none).
    pub fn points(&self, min_closed: usize) -> impl Iterator<Item = Point> + Clone + '_ {
        let open = (self.closed.len() < min_closed)
            .then_some(self.open.map(|(_, p)| p))
            .flatten();
        self.closed.iter().copied().chain(open)
    }

    /// The last `k` closed bucket minima, or [`points`](Self::points) while fewer than
    /// `min_closed` buckets have closed.
    pub fn recent(&self, k: usize, min_closed: usize) -> impl Iterator<Item = Point> + '_ {
        let skip = if self.closed.len() < min_closed {
            0
        } else {
            self.closed.len().saturating_sub(k)
        };
        self.points(min_closed).skip(skip)
    }

    /// Forgets everything (after a re-anchor the old coordinates mean nothing).
    pub fn clear(&mut self) {
        self.closed.clear();
        self.open = None;
    }
}

/// The slope of the lower envelope of `points` (see [`envelope_fit`]).
pub fn envelope_slope(points: impl Iterator<Item = Point> + Clone) -> Option<f64> {
    envelope_fit(points).map(|(slope, _)| slope)
}

/// [`envelope_slope`] and the spread of the points above the envelope (mean height above
/// the lowest), which tells how much a slope from these points can be trusted.
///
/// The slope is that of the line under all points that minimises the summed heights above
/// it (Moon, Skelly and Towsley, "Estimation and removal of clock skew from network delay
/// measurements", 1999): the lower convex hull's edge spanning the points' mean `x`. With
/// one-sided delays its error shrinks like 1/n where least squares' shrinks like 1/sqrt(n).
pub fn envelope_fit(points: impl Iterator<Item = Point> + Clone) -> Option<(f64, f64)> {
    let mut sorted: Vec<Point> = points.collect();
    sorted.sort_by(|p, q| p.x.total_cmp(&q.x));
    let n = sorted.len() as f64;
    let mean_x = sorted.iter().map(|p| p.x).sum::<f64>() / n;
    let hull = lower_hull(&sorted);
    let b = hull
        .windows(2)
        .find(|e| e[0].x <= mean_x && mean_x <= e[1].x && e[1].x > e[0].x)
        .map(|e| (e[1].y - e[0].y) / (e[1].x - e[0].x))?;
    let heights = sorted.iter().map(|p| p.y - b * p.x);
    let (lowest, sum) = heights.fold((f64::INFINITY, 0.0), |(lo, sum), h| {
        (f64::min(lo, h), sum + h)
    });
    Some((b, sum / n - lowest))
}

/// The lower convex hull of points sorted by `x` (Andrew's monotone chain).
fn lower_hull(sorted: &[Point]) -> Vec<Point> {
    let mut hull: Vec<Point> = Vec::with_capacity(sorted.len());
    for &p in sorted {
        while let [.., a, b] = hull[..] {
            let cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
            if cross > 0.0 {
                break;
            }
            hull.pop();
        }
        hull.push(p);
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAT: Line = Line { a: 0.0, b: 1.0 };

    #[test]
    fn each_bucket_keeps_its_least_delayed_sample() {
        let mut env = Envelope::new(1_000, 10);
        let p = |x: f64, delay: f64| Point { x, y: x + delay };
        assert_eq!(env.add(p(0.0, 50.0), 0, &FLAT), Change::OpenMinimum);
        assert_eq!(env.add(p(100.0, 5.0), 100, &FLAT), Change::OpenMinimum);
        assert_eq!(env.add(p(200.0, 30.0), 200, &FLAT), Change::None);
        assert_eq!(env.add(p(1_000.0, 9.0), 1_000, &FLAT), Change::Closed);
        let points: Vec<Point> = env.points(0).collect();
        assert_eq!(points, vec![p(100.0, 5.0)]);
        assert_eq!(env.points(5).count(), 2, "open bucket included early on");
    }

    #[test]
    fn old_buckets_slide_out() {
        let mut env = Envelope::new(1, 3);
        for t in 0..10u64 {
            let x = t as f64;
            env.add(Point { x, y: x }, t, &FLAT);
        }
        let xs: Vec<f64> = env.points(0).map(|p| p.x).collect();
        assert_eq!(xs, vec![6.0, 7.0, 8.0]);
    }

    #[test]
    fn envelope_slope_follows_the_lowest_points_not_the_average() {
        let mut pts: Vec<Point> = (0..20)
            .map(|i| Point {
                x: f64::from(i),
                y: 2.0 * f64::from(i) + if i % 2 == 0 { 0.0 } else { 0.1 },
            })
            .collect();
        pts[0].y += 50.0;
        let slope = envelope_slope(pts.iter().copied()).unwrap();
        assert!((slope - 2.0).abs() < 0.05, "slope {slope}");
    }
}
