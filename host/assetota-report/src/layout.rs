//! The squarified treemap (Bruls, Huizing and van Wijk, 2000): rectangles
//! whose areas are proportional to the given weights, filling the canvas
//! exactly, with aspect ratios kept close to 1. Pure arithmetic.

use serde::Serialize;

/// One rectangle, in canvas units (the SVG's user space).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Width times height.
    pub fn area(&self) -> f64 {
        self.w * self.h
    }

    /// `self` split along its longer side: the first `fraction` of its area,
    /// then the rest.
    pub fn split(&self, fraction: f64) -> (Rect, Rect) {
        let f = fraction.clamp(0.0, 1.0);
        if self.w >= self.h {
            let w = self.w * f;
            (
                Rect { w, ..*self },
                Rect {
                    x: self.x + w,
                    w: self.w - w,
                    ..*self
                },
            )
        } else {
            let h = self.h * f;
            (
                Rect { h, ..*self },
                Rect {
                    y: self.y + h,
                    h: self.h - h,
                    ..*self
                },
            )
        }
    }
}

/// Rectangles for `weights` (in their order) tiling a `width` x `height`
/// canvas, each with area `weight / sum * width * height`. Zero weights get
/// an empty rectangle at the origin; all-zero weights get only empty ones.
pub fn squarify(weights: &[u64], width: f64, height: f64) -> Vec<Rect> {
    let empty = Rect {
        x: 0.0,
        y: 0.0,
        w: 0.0,
        h: 0.0,
    };
    let mut out = vec![empty; weights.len()];
    let total: f64 = weights.iter().map(|&w| w as f64).sum();
    if total <= 0.0 || width <= 0.0 || height <= 0.0 {
        return out;
    }
    let scale = width * height / total;
    // Largest first (ties by index, so the layout is deterministic).
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0).collect();
    order.sort_by(|&a, &b| weights[b].cmp(&weights[a]).then(a.cmp(&b)));
    let areas: Vec<f64> = order.iter().map(|&i| weights[i] as f64 * scale).collect();

    let mut free = Rect {
        x: 0.0,
        y: 0.0,
        w: width,
        h: height,
    };
    let mut start = 0;
    while start < areas.len() {
        let side = free.w.min(free.h);
        // Grow the row while the worst aspect ratio does not get worse.
        let mut end = start + 1;
        let mut worst_now = worst(&areas[start..end], side);
        while end < areas.len() {
            let next = worst(&areas[start..=end], side);
            if next > worst_now {
                break;
            }
            worst_now = next;
            end += 1;
        }
        let row = &areas[start..end];
        let sum: f64 = row.iter().sum();
        let last_row = end == areas.len();
        if free.w >= free.h {
            // A column on the left, as tall as the free space.
            let w = if last_row { free.w } else { sum / free.h };
            let mut y = free.y;
            for (k, &a) in row.iter().enumerate() {
                let h = if k + 1 == row.len() {
                    free.y + free.h - y
                } else {
                    a / w
                };
                out[order[start + k]] = Rect { x: free.x, y, w, h };
                y += h;
            }
            free.x += w;
            free.w -= w;
        } else {
            // A row on top, as wide as the free space.
            let h = if last_row { free.h } else { sum / free.w };
            let mut x = free.x;
            for (k, &a) in row.iter().enumerate() {
                let w = if k + 1 == row.len() {
                    free.x + free.w - x
                } else {
                    a / h
                };
                out[order[start + k]] = Rect { x, y: free.y, w, h };
                x += w;
            }
            free.y += h;
            free.h -= h;
        }
        start = end;
    }
    out
}

/// The worst aspect ratio of a row of `areas` laid along a side of `side`.
fn worst(areas: &[f64], side: f64) -> f64 {
    let sum: f64 = areas.iter().sum();
    let (max, min) = areas
        .iter()
        .fold((f64::MIN, f64::MAX), |(mx, mn), &a| (mx.max(a), mn.min(a)));
    let s2 = side * side;
    let sum2 = sum * sum;
    (s2 * max / sum2).max(sum2 / (s2 * min))
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: f64 = 1000.0;
    const H: f64 = 600.0;
    const EPS: f64 = 1e-6;

    fn check(weights: &[u64]) -> Vec<Rect> {
        let rects = squarify(weights, W, H);
        assert_eq!(rects.len(), weights.len());
        let total: u64 = weights.iter().sum();
        let mut covered = 0.0;
        for (i, (r, &w)) in rects.iter().zip(weights).enumerate() {
            // Inside the canvas.
            assert!(r.x >= -EPS && r.y >= -EPS, "{i}: {r:?}");
            assert!(r.x + r.w <= W + EPS && r.y + r.h <= H + EPS, "{i}: {r:?}");
            assert!(r.w >= -EPS && r.h >= -EPS, "{i}: {r:?}");
            // Area proportional to the weight, within 1 %.
            let want = w as f64 / total as f64 * W * H;
            if w > 0 {
                let err = (r.area() - want).abs() / want;
                assert!(err < 0.01, "{i}: area {} want {want} ({err})", r.area());
            } else {
                assert_eq!(r.area(), 0.0);
            }
            covered += r.area();
        }
        assert!((covered - W * H).abs() < 1e-3 * W * H, "covered {covered}");
        // No two rectangles overlap (more than rounding).
        for i in 0..rects.len() {
            for j in i + 1..rects.len() {
                let (a, b) = (rects[i], rects[j]);
                let ox = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
                let oy = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
                assert!(ox <= 1e-6 || oy <= 1e-6, "{i} and {j} overlap: {a:?} {b:?}");
            }
        }
        rects
    }

    #[test]
    fn areas_are_proportional_inside_and_disjoint() {
        check(&[4096]);
        check(&[4096, 4096, 4096, 1_126_400]);
        check(&[6, 6, 4, 3, 2, 2, 1]);
        check(&[1, 1_000_000]);
        check(&[0, 5, 0, 7]);
        check(&[10; 97]);
        // A pseudo-random mix of sizes, many small and a few large.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let weights: Vec<u64> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                4096 * (1 + x % 64) * if x.is_multiple_of(17) { 40 } else { 1 }
            })
            .collect();
        check(&weights);
    }

    #[test]
    fn the_classic_example_is_squarified() {
        // The paper's example: 6 6 4 3 2 2 1 on a 6 x 4 canvas.
        let r = squarify(&[6, 6, 4, 3, 2, 2, 1], 6.0, 4.0);
        assert!((r[0].w - 3.0).abs() < EPS && (r[0].h - 2.0).abs() < EPS);
        assert!((r[1].w - 3.0).abs() < EPS && (r[1].h - 2.0).abs() < EPS);
        for rect in &r {
            let ratio = rect.w.max(rect.h) / rect.w.min(rect.h);
            assert!(ratio < 3.0, "{rect:?}");
        }
    }

    #[test]
    fn degenerate_inputs_give_empty_rectangles() {
        assert!(squarify(&[], W, H).is_empty());
        assert!(squarify(&[0, 0], W, H).iter().all(|r| r.area() == 0.0));
        assert!(squarify(&[3], 0.0, H).iter().all(|r| r.area() == 0.0));
    }

    #[test]
    fn split_keeps_the_fraction() {
        let r = Rect {
            x: 10.0,
            y: 20.0,
            w: 100.0,
            h: 50.0,
        };
        let (a, b) = r.split(0.25);
        assert!((a.area() - r.area() * 0.25).abs() < EPS);
        assert!((a.area() + b.area() - r.area()).abs() < EPS);
        assert!((b.x - 35.0).abs() < EPS);
    }
}
