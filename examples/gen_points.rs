//! `gen_points`: a deterministic generator of structured 2-D point clouds with a
//! z value — the kind of input you would feed to `plt.scatter(X, Y, c=cmap(Z))`
//! (think astronomy catalogues or LiDAR tiles). It is used for tests, the
//! bundled sample and benchmarks of the density-binning tool, and it depends
//! on nothing but `std` and `rayon`.
//!
//! ```text
//! gen_points --points N [--format text|f32|f64|npy] [--seed S] [--decimals D]
//!            [--fields K] -o PATH
//! ```
//!
//! `N` accepts plain integers (`1_000_000`) and the suffixes `k`, `M`, `G`, `T`
//! (powers of 1000, so `250M` = 250 000 000), also with a fraction (`2.5M`).
//! `-o -` writes to stdout. Run with `--help` for the full option list.
//!
//! # Point model
//!
//! Every point is drawn from one component of a mixture whose layout (centres,
//! sizes, shapes, weights) is derived from the seed alone, so the same seed
//! always gives the same picture, whatever N is:
//!
//! * **Clusters (80 % of the points).** 48–71 elliptical Gaussian clusters with
//!   power-law weights (`w_i ∝ i^-1.2` by rank). The four heaviest ones are
//!   compact (σ = 0.03–0.12) and form a few very dense cores; the others have σ
//!   log-uniform in [0.04, 0.9]. About a third of the clusters are satellites
//!   placed around a heavier "parent", which gives a clumpy, hierarchical look.
//!   The ten heaviest clusters also get a wide, faint Gaussian halo around
//!   them. Pixel densities therefore span several orders of magnitude, from
//!   the saturated cores down to the halos.
//! * **Filaments (17 %).** Points along smooth curves with a small Gaussian
//!   scatter perpendicular to the curve (the width grows along the curve and
//!   the density fades out softly at both ends): a two-armed logarithmic
//!   spiral around the heaviest core (a "galaxy"), a circular arc, a tilted
//!   sine wave crossing most of the field, and two quadratic Bézier "bridges"
//!   between heavy clusters.
//! * **Background (3 %).** Uniform over the whole extent.
//!
//! Coordinates lie roughly in x ∈ [-10, 10], y ∈ [-6, 6] (deliberately not a
//! square, so a swapped axis or a transposed image is obvious). Gaussian tails
//! may stray slightly outside that box; nothing is clipped.
//!
//! `z = sin(0.42x + 0.25y + φ1) + 0.7·cos(0.30x − 0.65y + φ2)
//!      + 1.3·exp(−|p − b|² / 12.5) + N(0, 0.04²)`, a smooth field of the
//! position (two plane waves plus a radial bump centred at `b`, with φ1, φ2
//! and `b` derived from the seed) plus a little noise; z stays within about
//! [-1.9, 3.1]. Colouring by z shows smooth large-scale structure that is
//! independent of the density.
//!
//! `--fields K` (every format) sets the number of values per point. Beyond
//! the third, field 4 is a weight uniform in [0, 1], field 5 is the index of
//! the mixture component the point came from (clusters, then halos, then
//! filaments; the background is the last component), and any further field is
//! another uniform value in [0, 1]. These extra values are hashed from
//! (seed, point index, field), so the x, y, z of a point never depend on K.
//! `--fields 2` writes x and y only.
//!
//! # Determinism
//!
//! Points are generated in fixed blocks of 2^16; block `b` draws from its own
//! xoshiro256** stream seeded (through SplitMix64) from `(seed, b)`, and normals
//! come from Box–Muller. The output therefore depends only on the seed and N —
//! not on the number of threads — and the output for N points is a prefix of
//! the output for any larger N. Blocks are generated in parallel by rayon a
//! window at a time and handed to a writer thread in order, so memory stays
//! bounded (about 30–45 MB resident for text) for any N.
//!
//! # Output formats
//!
//! * `text`: one line per point, fields separated by single spaces, `\n` line
//!   ends, each value with exactly D digits after the point (default 4). The
//!   text is byte-identical to Rust's `format!("{v:.D$}")` (and C's `%.Df`),
//!   which means a small negative value that rounds to zero is printed as
//!   `-0.0000`, consistently. Lines average about 22 bytes with D = 4, so 250M
//!   points make about 5.5 GB.
//! * `f32` / `f64`: raw little-endian records of K interleaved values, i.e.
//!   exactly `np.memmap(path, dtype='float32', mode='r').reshape(-1, K)`.
//! * `npy`: a NumPy `.npy` file (format 1.0) with a C-order `<f4` array of
//!   shape (N, K), byte-identical to what `numpy.save` writes (the data starts
//!   at a multiple of 64 bytes).
//!
//! Text is the same points as the binary formats, rounded to D decimals.
//!
//! # Examples
//!
//! ```text
//! cargo build --release --example gen_points
//! target/release/examples/gen_points --points 10M -o points.txt
//! target/release/examples/gen_points --points 250M --format f32 --seed 7 -o big.f32
//! target/release/examples/gen_points --points 1M --format npy --fields 4 -o pts.npy
//! ```

use std::f64::consts::TAU;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;

/// Points per block. Each block has its own RNG stream, so this constant is
/// part of the output definition: changing it changes the generated points.
const BLOCK: u64 = 1 << 16;

/// RNG stream used for the layout (blocks use streams 0, 1, 2, ...).
const LAYOUT_STREAM: u64 = u64::MAX;

/// Largest accepted `--fields`.
const MAX_FIELDS: usize = 16;

/// Largest accepted `--decimals`.
const MAX_DECIMALS: usize = 17;

/// Rough memory budget for the blocks of one window, in bytes.
const WINDOW_BYTES: usize = 16 << 20;

/// Capacity of the output `BufWriter`.
const WRITE_BUFFER: usize = 8 << 20;

const USAGE: &str = "\
gen_points: write a deterministic, structured 2-D point cloud with a z value

Usage: gen_points --points N [--format text|f32|f64|npy] [--seed S]
                  [--decimals D] [--fields K] -o PATH

Options:
  -n, --points N      number of points; plain integer or with a k/M/G/T suffix
                      (powers of 1000), e.g. 20M, 250M, 1G, 2.5M
  -f, --format FMT    text (default): 'x y z' lines with D decimals
                      f32, f64: raw little-endian records of K values
                      npy: NumPy .npy, <f4 array of shape (N, K)
  -s, --seed S        seed of the layout and the points (default 1)
  -d, --decimals D    digits after the point in text output (default 4, max 17)
  -k, --fields K      values per point, any format (default 3: x y z; 2..=16);
                      field 4 is a weight in [0,1], field 5 the mixture
                      component index, further fields are uniform in [0,1]
  -o, --output PATH   output file, or - for stdout
  -h, --help          print this help

The same seed and N always give the same points, whatever the thread count.";

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

/// The SplitMix64 finaliser: a fast, well-mixing bijection on u64.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One step of the SplitMix64 generator (used to seed xoshiro).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mix64(*state)
}

/// Converts the top 53 bits of `x` to a float uniform in [0, 1).
fn unit_f64(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform value in [0, 1) hashed from (seed, point index, field); used for
/// the extra fields so that they never disturb the x, y, z streams.
fn hash_unit(seed: u64, index: u64, field: usize) -> f64 {
    let h = mix64(seed ^ 0xD1B5_4A32_D192_ED03)
        ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (field as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    unit_f64(mix64(mix64(h)))
}

/// xoshiro256** with a cached Box–Muller spare for normal variates.
struct Rng {
    s: [u64; 4],
    spare: Option<f64>,
}

impl Rng {
    /// The generator for stream `stream` of seed `seed`.
    fn new(seed: u64, stream: u64) -> Self {
        let mut sm = mix64(seed ^ 0x5851_F42D_4C95_7F2D).wrapping_add(mix64(stream));
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(&mut sm);
        }
        if s == [0; 4] {
            s[0] = 1; // the all-zero state is a fixed point of xoshiro
        }
        Rng { s, spare: None }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Log-uniform in [lo, hi).
    fn log_range(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi / lo).ln() * self.uniform()).exp()
    }

    /// Uniform integer in [0, n), n > 0 (the tiny modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Standard normal variate (Box–Muller; the second value is cached).
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1], so ln() is finite
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (TAU * self.uniform()).sin_cos();
        self.spare = Some(r * s);
        r * c
    }
}

// ---------------------------------------------------------------------------
// Point model
// ---------------------------------------------------------------------------

const X_RANGE: (f64, f64) = (-10.0, 10.0);
const Y_RANGE: (f64, f64) = (-6.0, 6.0);

/// Fractions of the points in each part of the mixture.
const CLUSTER_FRACTION: f64 = 0.80;
const FILAMENT_FRACTION: f64 = 0.17;
const BACKGROUND_FRACTION: f64 = 0.03;

/// A smooth parametric curve, evaluated for a parameter t ∈ [0, 1].
#[derive(Debug, Clone)]
enum Curve {
    /// Circular arc around (cx, cy) from angle `a0` to `a1`.
    Arc {
        cx: f64,
        cy: f64,
        r: f64,
        a0: f64,
        a1: f64,
    },
    /// Logarithmic spiral r = a·e^(bθ), θ ∈ [0, `turn`], rotated by `phase`.
    Spiral {
        cx: f64,
        cy: f64,
        a: f64,
        b: f64,
        turn: f64,
        phase: f64,
    },
    /// y = y0 + tilt·(x − xm) + amp·sin(k·x + phase) for x ∈ [x0, x1].
    Sine {
        x0: f64,
        x1: f64,
        y0: f64,
        tilt: f64,
        amp: f64,
        k: f64,
        phase: f64,
    },
    /// Quadratic Bézier curve through p0 and p2 with control point p1.
    Bezier { p: [(f64, f64); 3] },
}

impl Curve {
    /// Position and (unnormalised) tangent at t ∈ [0, 1].
    fn eval(&self, t: f64) -> (f64, f64, f64, f64) {
        match *self {
            Curve::Arc { cx, cy, r, a0, a1 } => {
                let (s, c) = (a0 + (a1 - a0) * t).sin_cos();
                (cx + r * c, cy + r * s, -s, c)
            }
            Curve::Spiral {
                cx,
                cy,
                a,
                b,
                turn,
                phase,
            } => {
                let theta = turn * t;
                let r = a * (b * theta).exp();
                let (s, c) = (theta + phase).sin_cos();
                // d/dθ of r·(cos, sin) = r·(b·cos − sin, b·sin + cos)
                (cx + r * c, cy + r * s, b * c - s, b * s + c)
            }
            Curve::Sine {
                x0,
                x1,
                y0,
                tilt,
                amp,
                k,
                phase,
            } => {
                let x = x0 + (x1 - x0) * t;
                let xm = 0.5 * (x0 + x1);
                let (s, c) = (k * x + phase).sin_cos();
                (x, y0 + tilt * (x - xm) + amp * s, 1.0, tilt + amp * k * c)
            }
            Curve::Bezier { p: [p0, p1, p2] } => {
                let u = 1.0 - t;
                let x = u * u * p0.0 + 2.0 * u * t * p1.0 + t * t * p2.0;
                let y = u * u * p0.1 + 2.0 * u * t * p1.1 + t * t * p2.1;
                let dx = 2.0 * (u * (p1.0 - p0.0) + t * (p2.0 - p1.0));
                let dy = 2.0 * (u * (p1.1 - p0.1) + t * (p2.1 - p1.1));
                (x, y, dx, dy)
            }
        }
    }
}

/// One component of the mixture.
#[derive(Debug, Clone)]
enum Component {
    /// Elliptical Gaussian: centre + n1·(ux, uy) + n2·(vx, vy), where u and v
    /// are the principal axes scaled by their standard deviations.
    Gauss {
        cx: f64,
        cy: f64,
        ux: f64,
        uy: f64,
        vx: f64,
        vy: f64,
    },
    /// Points along a curve with perpendicular Gaussian scatter whose standard
    /// deviation grows linearly from `w0` (t = 0) to `w1` (t = 1).
    Filament { curve: Curve, w0: f64, w1: f64 },
    /// Uniform over the whole extent.
    Background,
}

/// Parameters of the smooth z field.
#[derive(Debug, Clone)]
struct ZField {
    phase1: f64,
    phase2: f64,
    bump_x: f64,
    bump_y: f64,
}

impl ZField {
    const NOISE: f64 = 0.04;

    /// The noise-free field value at (x, y).
    fn eval(&self, x: f64, y: f64) -> f64 {
        let (dx, dy) = (x - self.bump_x, y - self.bump_y);
        (0.42 * x + 0.25 * y + self.phase1).sin()
            + 0.7 * (0.30 * x - 0.65 * y + self.phase2).cos()
            + 1.3 * (-(dx * dx + dy * dy) / 12.5).exp()
    }
}

/// One generated point.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    x: f64,
    y: f64,
    z: f64,
    /// Index of the mixture component it came from.
    component: usize,
}

/// Walker's alias table: draws an index with given weights in O(1) from one
/// uniform variate (a binary search over the ~80 cumulative weights was a
/// noticeable share of the generation time).
#[derive(Debug, Clone)]
struct AliasTable {
    /// Probability of keeping slot `i` rather than taking `alias[i]`.
    keep: Vec<f64>,
    alias: Vec<usize>,
}

impl AliasTable {
    /// Builds the table with Vose's method; `weights` need not be normalised.
    fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        let mut keep = vec![1.0; n];
        let mut alias: Vec<usize> = (0..n).collect();
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            keep[s] = scaled[s];
            alias[s] = l;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left over (rounding) keeps its own slot with probability 1.
        AliasTable { keep, alias }
    }

    /// The index selected by `u` ∈ [0, 1).
    fn pick(&self, u: f64) -> usize {
        let x = u * self.keep.len() as f64;
        let i = (x as usize).min(self.keep.len() - 1);
        if x - (i as f64) < self.keep[i] {
            i
        } else {
            self.alias[i]
        }
    }
}

/// The seed-derived mixture: components, their weights and the z field.
#[derive(Debug, Clone)]
struct Layout {
    components: Vec<Component>,
    table: AliasTable,
    zfield: ZField,
}

/// A cluster while the layout is being built.
struct ClusterSpec {
    cx: f64,
    cy: f64,
    sigma: f64,
    weight: f64,
}

/// An elliptical Gaussian with major-axis σ `sigma`, axis ratio `q` and
/// orientation `angle`.
fn gauss(cx: f64, cy: f64, sigma: f64, q: f64, angle: f64) -> Component {
    let (s, c) = angle.sin_cos();
    Component::Gauss {
        cx,
        cy,
        ux: sigma * c,
        uy: sigma * s,
        vx: -q * sigma * s,
        vy: q * sigma * c,
    }
}

impl Layout {
    /// Builds the layout for `seed` (see the module documentation).
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed, LAYOUT_STREAM);
        let mut components = Vec::new();
        let mut weights = Vec::new();

        // --- Clusters, by decreasing weight (rank i has weight ∝ (i+1)^-1.2).
        let n_clusters = 48 + rng.below(24);
        let mut clusters: Vec<ClusterSpec> = Vec::with_capacity(n_clusters);
        // Keeps a centre at least `margin` (scaled with σ) inside the extent.
        let clamp_centre = |x: f64, y: f64, sigma: f64| {
            let mx = (2.0 * sigma).clamp(0.5, 3.5);
            let my = (2.0 * sigma).clamp(0.4, 3.0);
            (
                x.clamp(X_RANGE.0 + mx, X_RANGE.1 - mx),
                y.clamp(Y_RANGE.0 + my, Y_RANGE.1 - my),
            )
        };
        for i in 0..n_clusters {
            let weight = ((i + 1) as f64).powf(-1.2);
            // A few very dense cores; everything else spans a wide range of sizes.
            let sigma = if i < 4 {
                rng.log_range(0.03, 0.12)
            } else {
                rng.log_range(0.04, 0.9)
            };
            let (cx, cy) = if i == 0 {
                // The heaviest core hosts the spiral, so keep it well inside.
                (rng.range(-5.0, 5.0), rng.range(-2.5, 2.5))
            } else if i >= 4 && rng.uniform() < 0.35 {
                // Satellite of a heavier cluster (biased towards the heaviest).
                let parent = &clusters[(rng.uniform().powi(2) * i as f64) as usize];
                let spread = 3.0 * parent.sigma + 0.5;
                clamp_centre(
                    parent.cx + spread * rng.normal(),
                    parent.cy + spread * rng.normal(),
                    sigma,
                )
            } else {
                clamp_centre(
                    rng.range(X_RANGE.0, X_RANGE.1),
                    rng.range(Y_RANGE.0, Y_RANGE.1),
                    sigma,
                )
            };
            let q = rng.range(0.35, 1.0);
            let angle = rng.range(0.0, TAU);
            components.push(gauss(cx, cy, sigma, q, angle));
            weights.push(weight);
            clusters.push(ClusterSpec {
                cx,
                cy,
                sigma,
                weight,
            });
        }
        // Wide, faint halos around the ten heaviest clusters.
        for c in clusters.iter().take(10) {
            let sigma = (c.sigma * rng.range(5.0, 12.0)).min(2.0);
            let (q, angle) = (rng.range(0.6, 1.0), rng.range(0.0, TAU));
            components.push(gauss(c.cx, c.cy, sigma, q, angle));
            weights.push(c.weight * rng.range(0.4, 0.9));
        }
        let cluster_total: f64 = weights.iter().sum();
        for w in &mut weights {
            *w *= CLUSTER_FRACTION / cluster_total;
        }

        // --- Filaments.
        let first_filament = weights.len();
        // Two-armed logarithmic spiral around the heaviest core.
        let (a, b) = (rng.range(0.25, 0.35), rng.range(0.22, 0.30));
        let phase = rng.range(0.0, TAU);
        for arm in [0.0, 1.0] {
            let curve = Curve::Spiral {
                cx: clusters[0].cx,
                cy: clusters[0].cy,
                a,
                b,
                turn: 2.3 * std::f64::consts::PI,
                phase: phase + arm * std::f64::consts::PI,
            };
            components.push(Component::Filament {
                curve,
                w0: 0.03,
                w1: 0.12,
            });
            weights.push(0.035);
        }
        // A circular arc.
        let a0 = rng.range(0.0, TAU);
        let arc = Curve::Arc {
            cx: rng.range(-6.0, 6.0),
            cy: rng.range(-3.0, 3.0),
            r: rng.range(2.5, 4.5),
            a0,
            a1: a0 + rng.range(1.5, 2.8),
        };
        components.push(Component::Filament {
            curve: arc,
            w0: 0.04,
            w1: 0.04,
        });
        weights.push(0.03);
        // A tilted sine wave across most of the field.
        let sine = Curve::Sine {
            x0: rng.range(-9.5, -6.0),
            x1: rng.range(4.0, 9.5),
            y0: rng.range(-3.5, 3.5),
            tilt: rng.range(-0.25, 0.25),
            amp: rng.range(0.5, 1.2),
            k: rng.range(0.5, 1.0),
            phase: rng.range(0.0, TAU),
        };
        components.push(Component::Filament {
            curve: sine,
            w0: 0.03,
            w1: 0.06,
        });
        weights.push(0.035);
        // Two bridges between distinct heavy clusters.
        for _ in 0..2 {
            let i = rng.below(12);
            let j = (i + 1 + rng.below(11)) % 12;
            let (p0, p2) = (
                (clusters[i].cx, clusters[i].cy),
                (clusters[j].cx, clusters[j].cy),
            );
            let bend = rng.range(-0.35, 0.35);
            let p1 = (
                0.5 * (p0.0 + p2.0) - bend * (p2.1 - p0.1),
                0.5 * (p0.1 + p2.1) + bend * (p2.0 - p0.0),
            );
            components.push(Component::Filament {
                curve: Curve::Bezier { p: [p0, p1, p2] },
                w0: 0.025,
                w1: 0.05,
            });
            weights.push(0.02);
        }
        let filament_total: f64 = weights[first_filament..].iter().sum();
        for w in &mut weights[first_filament..] {
            *w *= FILAMENT_FRACTION / filament_total;
        }

        // --- Uniform background.
        components.push(Component::Background);
        weights.push(BACKGROUND_FRACTION);

        let total: f64 = weights.iter().sum();
        for w in &mut weights {
            *w /= total;
        }
        let table = AliasTable::new(&weights);

        let zfield = ZField {
            phase1: rng.range(0.0, TAU),
            phase2: rng.range(0.0, TAU),
            bump_x: rng.range(-6.0, 6.0),
            bump_y: rng.range(-3.0, 3.0),
        };
        Layout {
            components,
            table,
            zfield,
        }
    }

    /// Draws one point.
    fn sample(&self, rng: &mut Rng) -> Point {
        let component = self.table.pick(rng.uniform());
        let (x, y) = match &self.components[component] {
            Component::Gauss {
                cx,
                cy,
                ux,
                uy,
                vx,
                vy,
            } => {
                let (n1, n2) = (rng.normal(), rng.normal());
                (cx + n1 * ux + n2 * vx, cy + n1 * uy + n2 * vy)
            }
            Component::Filament { curve, w0, w1 } => {
                // Uniform along the parameter, with soft (blurred) ends: jitter
                // a uniform value in [0.06, 0.94] and reflect it into [0, 1].
                let t = (rng.range(0.06, 0.94) + 0.03 * rng.normal()).abs();
                let t = if t > 1.0 { 2.0 - t } else { t };
                let (px, py, tx, ty) = curve.eval(t);
                let offset = (w0 + (w1 - w0) * t) * rng.normal() / tx.hypot(ty).max(1e-12);
                // The unit normal is (-ty, tx) / |t|.
                (px - offset * ty, py + offset * tx)
            }
            Component::Background => (
                rng.range(X_RANGE.0, X_RANGE.1),
                rng.range(Y_RANGE.0, Y_RANGE.1),
            ),
        };
        let z = self.zfield.eval(x, y) + ZField::NOISE * rng.normal();
        Point { x, y, z, component }
    }
}

// ---------------------------------------------------------------------------
// Text formatting
// ---------------------------------------------------------------------------

/// Pairs of decimal digits "00".."99", for writing two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes the decimal digits of `n` into `buf`, ending just before index
/// `end`, zero-padded to at least `min_digits` digits; returns the index of
/// the first digit.
fn write_digits(buf: &mut [u8], end: usize, mut n: u64, min_digits: usize) -> usize {
    let mut pos = end;
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        pos -= 1;
        buf[pos] = b'0' + n as u8;
    }
    while end - pos < min_digits {
        pos -= 1;
        buf[pos] = b'0';
    }
    pos
}

/// Longest output of the fast path of [`Fixed::write_rev`]: sign, 16 integer
/// digits (t < 2^52), point and up to 17 decimals, rounded up.
const FIXED_MAX_LEN: usize = 40;

/// A fixed-point formatter for a given number of decimals.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    decimals: usize,
    /// 10^decimals, as a float (exact for decimals <= 22) and as an integer.
    scale: f64,
    scale_int: u64,
}

impl Fixed {
    fn new(decimals: usize) -> Self {
        assert!(decimals <= MAX_DECIMALS);
        let scale_int = 10u64.pow(decimals as u32);
        Fixed {
            decimals,
            scale: scale_int as f64,
            scale_int,
        }
    }

    /// Writes `v` with `decimals` digits after the point into `buf`, ending
    /// just before index `end` (so fields can be laid out right to left), and
    /// returns the index of its first byte. The text is byte-identical to
    /// `format!("{v:.decimals$}")`; in particular a negative value that rounds
    /// to zero prints as `-0.000…`, as in C's printf. Returns `None` where the
    /// fast path cannot guarantee that (see below); use [`Fixed::push`] then.
    ///
    /// t = |v|·10^D is computed with one rounding (relative error ≤ 2^-53), so
    /// rounding t to the nearest integer gives the correctly rounded decimal
    /// unless t's fraction is within that error of one half. Those rare
    /// near-ties, and huge or non-finite values, are left to `std`.
    /// `buf` needs room for `FIXED_MAX_LEN` bytes before `end`.
    fn write_rev(&self, buf: &mut [u8], end: usize, v: f64) -> Option<usize> {
        let t = v.abs() * self.scale;
        // Below 2^52 the truncation to u64 is exact, and so is `t - floor`.
        if t.is_nan() || t >= 4_503_599_627_370_496.0 {
            return None;
        }
        let floor = t as u64;
        let frac = t - floor as f64;
        if (frac - 0.5).abs() <= t * 2.3e-16 {
            return None;
        }
        let n = floor + u64::from(frac > 0.5);
        let mut start = end;
        if self.decimals > 0 {
            start = write_digits(buf, end, n % self.scale_int, self.decimals) - 1;
            buf[start] = b'.';
        }
        start = write_digits(buf, start, n / self.scale_int, 1);
        if v.is_sign_negative() {
            start -= 1;
            buf[start] = b'-';
        }
        Some(start)
    }

    /// Appends `v` formatted exactly like `format!("{v:.decimals$}")`.
    fn push(&self, out: &mut Vec<u8>, v: f64) {
        let mut buf = [0u8; FIXED_MAX_LEN];
        if let Some(start) = self.write_rev(&mut buf, FIXED_MAX_LEN, v) {
            out.extend_from_slice(&buf[start..]);
        } else {
            let mut s = String::new();
            write!(s, "{v:.*}", self.decimals).expect("formatting into a String cannot fail");
            out.extend_from_slice(s.as_bytes());
        }
    }
}

// ---------------------------------------------------------------------------
// Configuration and command line
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    F32,
    F64,
    Npy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Config {
    points: u64,
    format: Format,
    seed: u64,
    decimals: usize,
    fields: usize,
    /// Output path; `-` means stdout.
    output: String,
}

impl Config {
    /// Rough number of output bytes per point (for buffer sizing).
    fn bytes_per_point(&self) -> usize {
        match self.format {
            Format::Text => self.fields * (self.decimals + 5),
            Format::F32 | Format::Npy => self.fields * 4,
            Format::F64 => self.fields * 8,
        }
    }
}

/// Parses a point count: an integer with optional `_` separators and an
/// optional k/M/G/T suffix (powers of 1000); with a suffix a decimal fraction
/// is allowed as long as the result is a whole number (`2.5M`).
fn parse_count(s: &str) -> Result<u64, String> {
    let err = || format!("invalid point count '{s}' (expected e.g. 1000000, 10M, 250M, 1G)");
    let cleaned: String = s.trim().chars().filter(|&c| c != '_').collect();
    let (number, multiplier): (&str, u128) = match cleaned.char_indices().last() {
        Some((i, 'k' | 'K')) => (&cleaned[..i], 1_000),
        Some((i, 'm' | 'M')) => (&cleaned[..i], 1_000_000),
        Some((i, 'g' | 'G')) => (&cleaned[..i], 1_000_000_000),
        Some((i, 't' | 'T')) => (&cleaned[..i], 1_000_000_000_000),
        _ => (cleaned.as_str(), 1),
    };
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
        || frac_part.len() > 12
    {
        return Err(err());
    }
    let int: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| err())?
    };
    let frac: u128 = if frac_part.is_empty() {
        0
    } else {
        frac_part.parse().map_err(|_| err())?
    };
    let denominator = 10u128.pow(frac_part.len() as u32);
    let frac_points = frac * multiplier;
    if !frac_points.is_multiple_of(denominator) {
        return Err(format!("point count '{s}' is not a whole number"));
    }
    let total = int
        .checked_mul(multiplier)
        .and_then(|v| v.checked_add(frac_points / denominator))
        .ok_or_else(err)?;
    u64::try_from(total).map_err(|_| err())
}

/// Parses the arguments (without the program name). `Ok(None)` means help
/// was requested.
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Config>, String> {
    let mut points = None;
    let mut format = Format::Text;
    let mut seed = 1u64;
    let mut decimals = 4usize;
    let mut fields = 3usize;
    let mut output = None;

    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        // Both `--name value` and `--name=value` are accepted.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let known = [
            "-n",
            "--points",
            "-f",
            "--format",
            "-s",
            "--seed",
            "-d",
            "--decimals",
            "-k",
            "--fields",
            "-o",
            "--output",
        ];
        if !known.contains(&name.as_str()) {
            return Err(format!("unexpected argument '{arg}' (try --help)"));
        }
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("option {name} needs a value"))?,
        };
        match name.as_str() {
            "-n" | "--points" => points = Some(parse_count(&value)?),
            "-f" | "--format" => {
                format = match value.as_str() {
                    "text" => Format::Text,
                    "f32" => Format::F32,
                    "f64" => Format::F64,
                    "npy" => Format::Npy,
                    _ => {
                        return Err(format!(
                            "unknown format '{value}' (expected text, f32, f64 or npy)"
                        ));
                    }
                }
            }
            "-s" | "--seed" => {
                seed = value.parse().map_err(|_| {
                    format!("invalid seed '{value}' (expected an unsigned integer)")
                })?;
            }
            "-d" | "--decimals" => {
                decimals = value
                    .parse()
                    .ok()
                    .filter(|d| *d <= MAX_DECIMALS)
                    .ok_or_else(|| {
                        format!("invalid --decimals '{value}' (expected 0..={MAX_DECIMALS})")
                    })?;
            }
            "-k" | "--fields" => {
                fields = value
                    .parse()
                    .ok()
                    .filter(|k| (2..=MAX_FIELDS).contains(k))
                    .ok_or_else(|| {
                        format!("invalid --fields '{value}' (expected 2..={MAX_FIELDS})")
                    })?;
            }
            _ => output = Some(value), // "-o" | "--output"
        }
    }
    Ok(Some(Config {
        points: points.ok_or("missing --points N (try --help)")?,
        format,
        seed,
        decimals,
        fields,
        output: output.ok_or("missing -o PATH (use -o - for stdout; try --help)")?,
    }))
}

// ---------------------------------------------------------------------------
// Generation and output
// ---------------------------------------------------------------------------

/// The `.npy` (format 1.0) header for a C-order `<f4` array of shape
/// (rows, cols), byte-identical to `numpy.save`: the dict, then the spaces
/// numpy reserves for growing the first axis to 21 digits, then space padding
/// and `\n` so that the data starts at a multiple of 64 bytes.
fn npy_header(rows: u64, cols: usize) -> Vec<u8> {
    let mut dict =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    dict.push_str(&" ".repeat(21usize.saturating_sub(rows.to_string().len())));
    let prefix = 6 + 2 + 2; // magic, version, u16 header length
    let pad = 64 - (prefix + dict.len() + 1) % 64;
    dict.push_str(&" ".repeat(pad));
    dict.push('\n');
    let header_len = u16::try_from(dict.len()).expect("npy header fits format 1.0");
    let mut out = Vec::with_capacity(prefix + dict.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Generates block `block` into `out` (cleared first) in the configured format.
fn generate_block(layout: &Layout, fixed: &Fixed, cfg: &Config, block: u64, out: &mut Vec<u8>) {
    out.clear();
    let start = block * BLOCK;
    let end = (start + BLOCK).min(cfg.points);
    let mut rng = Rng::new(cfg.seed, block);
    let mut record = [0f64; MAX_FIELDS];
    // Scratch space for one text line, reused for every point of the block.
    let mut line = vec![0u8; cfg.fields * (FIXED_MAX_LEN + 1)];
    for index in start..end {
        let p = layout.sample(&mut rng);
        let values = &mut record[..cfg.fields];
        for (field, v) in values.iter_mut().enumerate() {
            *v = match field {
                0 => p.x,
                1 => p.y,
                2 => p.z,
                // Field 4 is the weight, field 5 the component, 6.. more uniforms.
                4 => p.component as f64,
                _ => hash_unit(cfg.seed, index, field),
            };
        }
        match cfg.format {
            Format::Text => {
                // Lay the line out right to left in the scratch buffer and copy
                // it in one go; fall back to value-by-value on a rare slow case.
                let mut pos = line.len() - 1;
                line[pos] = b'\n';
                let fast = values.iter().enumerate().rev().try_for_each(|(field, &v)| {
                    pos = fixed.write_rev(&mut line, pos, v)?;
                    if field > 0 {
                        pos -= 1;
                        line[pos] = b' ';
                    }
                    Some(())
                });
                if fast.is_some() {
                    out.extend_from_slice(&line[pos..]);
                } else {
                    for (field, &v) in values.iter().enumerate() {
                        if field > 0 {
                            out.push(b' ');
                        }
                        fixed.push(out, v);
                    }
                    out.push(b'\n');
                }
            }
            Format::F32 | Format::Npy => {
                for &v in values.iter() {
                    out.extend_from_slice(&(v as f32).to_le_bytes());
                }
            }
            Format::F64 => {
                for &v in values.iter() {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
}

/// Generates all points into `sink` and returns the number of bytes written.
///
/// Blocks are generated in parallel (on the current rayon pool) one window at
/// a time; a writer thread writes each finished window in block order and
/// returns the emptied buffers for reuse. At most about three windows of
/// buffers exist at once, so memory is bounded independently of N.
fn generate<W: Write + Send>(cfg: &Config, sink: W) -> io::Result<u64> {
    let layout = Layout::new(cfg.seed);
    let fixed = Fixed::new(cfg.decimals);
    let blocks = cfg.points.div_ceil(BLOCK);
    let block_bytes = BLOCK as usize * cfg.bytes_per_point();
    let window = (WINDOW_BYTES / block_bytes).clamp(2, 4 * rayon::current_num_threads());

    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Vec<u8>>>(1);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();

    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<u64> {
            let mut sink = BufWriter::with_capacity(WRITE_BUFFER, sink);
            let mut written = 0u64;
            for batch in full_rx {
                for buf in batch {
                    sink.write_all(&buf)?;
                    written += buf.len() as u64;
                    // The generator may already be gone; then the buffer is just dropped.
                    let _ = empty_tx.send(buf);
                }
            }
            sink.flush()?;
            Ok(written)
        });

        let feed = || {
            if cfg.format == Format::Npy
                && full_tx
                    .send(vec![npy_header(cfg.points, cfg.fields)])
                    .is_err()
            {
                return; // the writer failed; its error is reported below
            }
            let mut first = 0u64;
            while first < blocks {
                let last = (first + window as u64).min(blocks);
                let mut bufs: Vec<Vec<u8>> = (first..last)
                    .map(|_| {
                        empty_rx
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(block_bytes))
                    })
                    .collect();
                bufs.par_iter_mut().enumerate().for_each(|(i, buf)| {
                    generate_block(&layout, &fixed, cfg, first + i as u64, buf)
                });
                if full_tx.send(bufs).is_err() {
                    return;
                }
                first = last;
            }
        };
        feed();
        drop(full_tx); // ends the writer's loop
        writer.join().expect("writer thread panicked")
    })
}

fn run(cfg: &Config) -> io::Result<()> {
    let started = Instant::now();
    if cfg.output == "-" {
        return generate(cfg, io::stdout()).map(|_| ());
    }
    let file = File::create(&cfg.output)?;
    let bytes = generate(cfg, &file)?;
    file.sync_data().ok(); // best effort; the summary should include the flush to disk
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "gen_points: wrote {} points, {:.1} MB to {} in {:.2} s ({:.1} MB/s)",
        cfg.points,
        bytes as f64 / 1e6,
        cfg.output,
        secs,
        bytes as f64 / 1e6 / secs.max(1e-9),
    );
    Ok(())
}

fn main() -> ExitCode {
    let cfg = match parse_args(std::env::args().skip(1)) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("gen_points: error: {msg}");
            return ExitCode::from(2);
        }
    };
    match run(&cfg) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (e.g. `gen_points ... -o - | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && cfg.output == "-" => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_points: error: {}: {e}", cfg.output);
            ExitCode::from(2)
        }
    }
}

// ---------------------------------------------------------------------------
// Tests (`cargo test --example gen_points`)
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_str(v: f64, decimals: usize) -> String {
        let mut out = Vec::new();
        Fixed::new(decimals).push(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fixed_matches_std_on_edge_cases() {
        let cases = [
            0.0,
            -0.0,
            -0.05,
            -0.00001,
            -0.00005,
            0.00005,
            0.00015,
            -0.99995,
            9.99995,
            0.5,
            1.5,
            2.5,
            -2.5,
            0.125,
            1e-320,
            -1e-320,
            123456.78901,
            -3.04159265,
            1e15,
            1e17,
            -1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for decimals in 0..=MAX_DECIMALS {
            for &v in &cases {
                assert_eq!(
                    fixed_str(v, decimals),
                    format!("{v:.decimals$}"),
                    "v={v:e} d={decimals}"
                );
            }
        }
    }

    #[test]
    fn fixed_matches_std_on_random_values() {
        let mut rng = Rng::new(42, 0);
        for i in 0..400_000 {
            let v = match i % 4 {
                0 => rng.range(-12.0, 12.0),
                1 => rng.range(-1.0, 1.0) * 10f64.powi(rng.below(12) as i32 - 6),
                // Values on or next to decimal ties, where rounding is delicate.
                2 => {
                    (rng.below(200_001) as f64 - 100_000.0) / 1e4
                        + 0.5e-4 * (rng.below(3) as f64 - 1.0)
                }
                _ => {
                    f64::from_bits(rng.next_u64() >> 2)
                        * if rng.uniform() < 0.5 { -1.0 } else { 1.0 }
                }
            };
            let decimals = [4, 4, 0, 1, 2, 3, 6, 9][i % 8];
            assert_eq!(
                fixed_str(v, decimals),
                format!("{v:.decimals$}"),
                "v={v:e} d={decimals}"
            );
        }
    }

    #[test]
    fn parses_counts() {
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count("12345"), Ok(12345));
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("10M"), Ok(10_000_000));
        assert_eq!(parse_count("250M"), Ok(250_000_000));
        assert_eq!(parse_count("1G"), Ok(1_000_000_000));
        assert_eq!(parse_count("64k"), Ok(64_000));
        assert_eq!(parse_count("2.5M"), Ok(2_500_000));
        assert_eq!(parse_count(".5k"), Ok(500));
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("").is_err());
        assert!(parse_count("M").is_err());
        assert!(parse_count("-5").is_err());
        assert!(parse_count("10X").is_err());
        assert!(parse_count("1e6").is_err());
        assert!(parse_count("99999999999T").is_err());
    }

    #[test]
    fn parses_arguments() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let cfg = parse_args(args("--points 10M -o out.txt"))
            .unwrap()
            .unwrap();
        assert_eq!(
            cfg,
            Config {
                points: 10_000_000,
                format: Format::Text,
                seed: 1,
                decimals: 4,
                fields: 3,
                output: "out.txt".into()
            }
        );
        let cfg = parse_args(args(
            "--format=npy --seed 7 --fields 5 --decimals=2 -o - --points 3",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            (cfg.format, cfg.seed, cfg.fields, cfg.decimals),
            (Format::Npy, 7, 5, 2)
        );
        assert_eq!(cfg.output, "-");
        assert_eq!(parse_args(args("--help")), Ok(None));
        assert!(parse_args(args("--points 10")).is_err());
        assert!(parse_args(args("-o x")).is_err());
        assert!(parse_args(args("--points 10 -o x --format csv")).is_err());
        assert!(parse_args(args("--points 10 -o x --fields 1")).is_err());
        assert!(parse_args(args("--points 10 -o x --bogus")).is_err());
        assert!(parse_args(args("--points 10 -o")).is_err());
    }

    #[test]
    fn npy_header_is_aligned() {
        for (rows, cols) in [(0, 3), (10, 3), (20_000_000, 4), (u64::MAX, 16)] {
            let h = npy_header(rows, cols);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
            assert_eq!(u16::from_le_bytes([h[8], h[9]]) as usize, h.len() - 10);
            assert_eq!(*h.last().unwrap(), b'\n');
            let text = std::str::from_utf8(&h[10..]).unwrap();
            assert!(text.starts_with(&format!(
                "{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}"
            )));
        }
        // numpy.save(f, np.zeros((10, 3), '<f4')) writes a 128-byte header.
        assert_eq!(npy_header(10, 3).len(), 128);
    }

    fn config(points: u64, format: Format, fields: usize) -> Config {
        Config {
            points,
            format,
            seed: 5,
            decimals: 4,
            fields,
            output: "-".into(),
        }
    }

    fn generate_vec(cfg: &Config, threads: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut out = Vec::new();
        let bytes = pool.install(|| generate(cfg, &mut out)).unwrap();
        assert_eq!(bytes as usize, out.len());
        out
    }

    fn f64_records(bytes: &[u8], fields: usize) -> Vec<Vec<f64>> {
        bytes
            .chunks_exact(8 * fields)
            .map(|r| {
                r.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn output_is_independent_of_thread_count() {
        let cfg = config(5 * BLOCK + 1234, Format::F32, 3);
        let one = generate_vec(&cfg, 1);
        assert_eq!(one.len() as u64, cfg.points * 12);
        assert_eq!(one, generate_vec(&cfg, 3));
        let text = config(2 * BLOCK + 7, Format::Text, 3);
        assert_eq!(generate_vec(&text, 1), generate_vec(&text, 4));
    }

    #[test]
    fn smaller_n_is_a_prefix_and_extra_fields_keep_xyz() {
        let big = generate_vec(&config(2 * BLOCK + 500, Format::F64, 3), 2);
        let small = generate_vec(&config(BLOCK + 77, Format::F64, 3), 2);
        assert_eq!(&big[..small.len()], &small[..]);

        let xyz = f64_records(&small, 3);
        let wide = f64_records(&generate_vec(&config(BLOCK + 77, Format::F64, 7), 2), 7);
        assert_eq!(xyz.len(), wide.len());
        let layout = Layout::new(5);
        for (a, b) in xyz.iter().zip(&wide) {
            assert_eq!(a[..], b[..3]);
            assert!((0.0..1.0).contains(&b[3]), "weight {}", b[3]);
            assert!(
                b[4] >= 0.0 && (b[4] as usize) < layout.components.len() && b[4].fract() == 0.0
            );
            assert!(b[5..].iter().all(|v| (0.0..1.0).contains(v)));
        }
    }

    #[test]
    fn formats_agree() {
        let n = BLOCK + 999;
        let f64s = f64_records(&generate_vec(&config(n, Format::F64, 3), 2), 3);
        let f32s = generate_vec(&config(n, Format::F32, 3), 2);
        let npy = generate_vec(&config(n, Format::Npy, 3), 2);
        let header = npy_header(n, 3);
        assert_eq!(&npy[..header.len()], &header[..]);
        assert_eq!(&npy[header.len()..], &f32s[..]);
        let text = String::from_utf8(generate_vec(&config(n, Format::Text, 3), 2)).unwrap();
        assert_eq!(text.lines().count() as u64, n);
        for ((line, rec), rec32) in text.lines().zip(&f64s).zip(f32s.chunks_exact(12)) {
            let expected: Vec<String> = rec.iter().map(|v| format!("{v:.4}")).collect();
            assert_eq!(line, expected.join(" "));
            for (k, v) in rec.iter().enumerate() {
                let x32 = f32::from_le_bytes(rec32[4 * k..4 * k + 4].try_into().unwrap());
                assert_eq!(x32, *v as f32);
            }
        }
    }

    #[test]
    fn alias_table_reproduces_weights() {
        let weights = [0.5, 0.0, 0.25, 0.125, 0.0625, 0.0625];
        let table = AliasTable::new(&weights);
        // Slot i covers u in [i/n, (i+1)/n): integrate exactly over a fine grid.
        let steps = 600_000;
        let mut counts = [0usize; 6];
        for k in 0..steps {
            counts[table.pick((k as f64 + 0.5) / steps as f64)] += 1;
        }
        for (c, w) in counts.iter().zip(weights) {
            assert!((*c as f64 / steps as f64 - w).abs() < 1e-4, "{counts:?}");
        }
    }

    #[test]
    fn layout_depends_on_seed_only() {
        let a = Layout::new(3);
        let b = Layout::new(3);
        let c = Layout::new(4);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(format!("{a:?}"), format!("{c:?}"));
        assert!(matches!(
            a.components.first(),
            Some(Component::Gauss { .. })
        ));
        assert!(matches!(a.components.last(), Some(Component::Background)));
    }

    #[test]
    fn points_are_roughly_in_the_extent() {
        let layout = Layout::new(1);
        let mut rng = Rng::new(1, 0);
        let n = 200_000;
        let inside = (0..n)
            .map(|_| layout.sample(&mut rng))
            .filter(|p| p.x.abs() <= 10.0 && p.y.abs() <= 6.0 && p.z.abs() < 4.0)
            .count();
        // Only the tails of the wide halos stray outside (about 2 %).
        assert!(inside as f64 > 0.95 * n as f64, "{inside} of {n} inside");
    }
}
