//! The shading stage through the command line: golden images, scatter
//! mode against its formula computed from the points, re-shading a saved
//! grid, and PNG metadata.
//!
//! Golden images live in `tests/golden/`. After an intended change to the
//! shading, regenerate them with
//! `DENSEBIN_BLESS=1 cargo test --test it golden`, look at them, and commit.

use std::path::{Path, PathBuf};

use crate::oracle::{pixel, zbin};
use crate::scenario::{Scenario, text_lines};

/// Decoded straight RGBA bytes and the text chunks of a PNG.
pub struct Png {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
    pub text: Vec<(String, String)>,
}

impl Png {
    pub fn read(path: &Path) -> Png {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        let mut rgba = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgba).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgba);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let text = reader
            .info()
            .utf8_text
            .iter()
            .map(|c| (c.keyword.clone(), c.get_text().unwrap()))
            .collect();
        Png {
            width: info.width as usize,
            height: info.height as usize,
            rgba,
            text,
        }
    }

    pub fn px(&self, x: usize, y: usize) -> [u8; 4] {
        let i = (y * self.width + x) * 4;
        self.rgba[i..i + 4].try_into().unwrap()
    }

    pub fn text(&self, key: &str) -> &str {
        &self
            .text
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no {key}"))
            .1
    }
}

fn fixture(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", name]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

pub fn golden_dir() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "tests", "golden"]
        .iter()
        .collect()
}

/// Every mode on the fixture points, 24 x 16 pixels: exact pixel equality
/// with the committed golden images.
#[test]
fn golden_images() {
    let s = Scenario::new();
    let points = fixture("points.txt");
    s.ok(&[
        "bin",
        &points,
        "-o",
        "g.h5",
        "--width",
        "24",
        "--height",
        "16",
        "--x-range",
        "-5,5",
        "--y-range",
        "-2,4",
        "--z-range",
        "-1.5,1.5",
        "--z-bins",
        "8",
        "--layers",
        "count,sum,minmax,std,zhist",
        "-q",
    ]);
    let cases: [(&str, &[&str]); 9] = [
        ("density_eq_hist", &["--mode", "density"]),
        (
            "density_log_magma_black",
            &["--how", "log", "--cmap", "magma", "--background", "black"],
        ),
        (
            "density_single_colour",
            &["--how", "linear", "--cmap", "#3060ff"],
        ),
        ("mean_turbo", &["--mode", "mean", "--cmap", "turbo"]),
        (
            "mean_fade_log",
            &[
                "--mode",
                "mean",
                "--how",
                "log",
                "--min-alpha",
                "0.2",
                "--background",
                "white",
            ],
        ),
        (
            "std_stops",
            &["--mode", "std", "--cmap", "#000000,#ff0000,#ffff00"],
        ),
        (
            "scatter_alpha",
            &[
                "--mode",
                "scatter",
                "--alpha",
                "0.3",
                "--background",
                "white",
            ],
        ),
        (
            "scatter_spread",
            &[
                "--mode",
                "scatter",
                "--alpha",
                "0.5",
                "--spread",
                "1",
                "--cmap",
                "viridis_r",
            ],
        ),
        (
            "density_dynspread",
            &[
                "--dynspread",
                "--threshold",
                "0.9",
                "--how",
                "log",
                "--background",
                "black",
            ],
        ),
    ];
    check_goldens(&s, "g.h5", &cases, |png| {
        (png.width, png.height) == (24, 16)
    });
}

/// Shades `grid` (a file of `s`) with each case's flags and compares the
/// PNG with `tests/golden/NAME.png` exactly (`DENSEBIN_BLESS=1` writes
/// them instead); `sized` checks each image's size.
pub fn check_goldens(s: &Scenario, grid: &str, cases: &[(&str, &[&str])], sized: fn(&Png) -> bool) {
    let bless = std::env::var_os("DENSEBIN_BLESS").is_some();
    for (name, flags) in cases {
        let out = format!("{name}.png");
        let mut args = vec!["shade", grid, "-o", &out, "-q"];
        args.extend(*flags);
        s.ok(&args);
        let golden = golden_dir().join(&out);
        if bless {
            std::fs::copy(s.path(&out), &golden).unwrap();
            continue;
        }
        let (got, want) = (Png::read(&s.path(&out)), Png::read(&golden));
        assert!(sized(&got), "{name}: {}x{}", got.width, got.height);
        assert!(
            (got.width, got.height, &got.rgba) == (want.width, want.height, &want.rgba),
            "{name} differs from tests/golden/{out}; if intended, regenerate with DENSEBIN_BLESS=1"
        );
    }
}

/// Scatter mode, pixel by pixel, against its formula computed directly
/// from the points: n points with finite z in a pixel, h_k of them in z
/// bin k, opacity 1 - (1 - a)^n, colour Σ h_k cmap(z_k) / n.
#[test]
fn scatter_pixels_follow_the_formula() {
    let (w, h, k) = (30usize, 20usize, 6usize);
    let (x0, x1, y0, y1, z0, z1) = (-2.0, 3.0, -1.0, 1.5, -1.0, 2.0);
    let alpha: f64 = 0.15;
    // Clumped points so that counts vary from 1 to many.
    let mut state = 0x853c_49e6_748f_ea9bu64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let pts: Vec<(f64, f64, f64)> = (0..6000)
        .map(|i| {
            let u = uniform();
            let r = if i % 3 == 0 { 0.08 * u } else { 2.2 * u.sqrt() };
            let a = uniform() * std::f64::consts::TAU;
            let (x, y) = (0.4 + r * a.cos(), 0.2 + 0.6 * r * a.sin());
            let z = if i % 101 == 0 {
                f64::NAN
            } else {
                (x * 1.7).sin() + y
            };
            (x, y, z)
        })
        .collect();
    let s = Scenario::new();
    s.write("p.txt", text_lines(&pts, " "));
    let ranges = [
        format!("--x-range={x0},{x1}"),
        format!("--y-range={y0},{y1}"),
        format!("--z-range={z0},{z1}"),
    ];
    let mut args = vec![
        "render", "p.txt", "-o", "s.png", "--mode", "scatter", "--alpha", "0.15", "--width", "30",
        "--height", "20", "--z-bins", "6", "--cmap", "plasma", "-q",
    ];
    args.extend(ranges.iter().map(String::as_str));
    s.ok(&args);
    let img = Png::read(&s.path("s.png"));

    let mut hist = vec![vec![0u32; k]; w * h];
    for &(x, y, z) in &pts {
        let (Some(c), Some(r)) = (pixel(x, x0, x1, w), pixel(y, y0, y1, h)) else {
            continue;
        };
        if z.is_finite() {
            hist[r * w + c][zbin(z, z0, z1, k)] += 1;
        }
    }
    let cmap = colorous::PLASMA;
    let mut lit = 0;
    for r in 0..h {
        for c in 0..w {
            let bins = &hist[r * w + c];
            let n: u32 = bins.iter().sum();
            // The image's top row is the largest y.
            let got = img.px(c, h - 1 - r);
            if n == 0 {
                assert_eq!(got, [0; 4], "pixel ({c}, {r}) should be empty");
                continue;
            }
            lit += 1;
            let opacity = 1.0 - (1.0 - alpha).powi(n as i32);
            let mut rgb = [0.0f64; 3];
            for (b, &hk) in bins.iter().enumerate() {
                let centre = z0 + (b as f64 + 0.5) * (z1 - z0) / k as f64;
                let col = cmap.eval_continuous((centre - z0) / (z1 - z0));
                for (acc, v) in rgb.iter_mut().zip([col.r, col.g, col.b]) {
                    *acc += hk as f64 * v as f64 / 255.0 / n as f64;
                }
            }
            let want = [rgb[0], rgb[1], rgb[2], opacity];
            for ch in 0..4 {
                let diff = (got[ch] as f64 / 255.0 - want[ch]).abs();
                assert!(
                    diff <= 1.0 / 255.0,
                    "pixel ({c}, {r}) channel {ch}: {got:?} vs {want:?}"
                );
            }
        }
    }
    assert!(lit > 100, "the test covers many pixels ({lit})");
}

#[test]
fn reshading_a_saved_grid_matches_render() {
    let s = Scenario::new();
    let points = fixture("points.txt");
    let flags = [
        "--mode",
        "mean",
        "--how",
        "eq_hist",
        "--cmap",
        "cividis",
        "--background",
        "#101010",
    ];
    let mut args = vec![
        "render",
        &points,
        "-o",
        "r.png",
        "--save-grid",
        "g.h5",
        "--width",
        "40",
        "--height",
        "25",
        "-q",
    ];
    args.extend(flags);
    s.ok(&args);
    let mut args = vec!["shade", "g.h5", "-o", "s.png", "-q"];
    args.extend(flags);
    s.ok(&args);
    assert_eq!(
        Png::read(&s.path("r.png")).rgba,
        Png::read(&s.path("s.png")).rgba
    );
    // The saved grid has the default layers, so any mode can re-shade it.
    let g = s.grid("g.h5");
    assert_eq!(g.spec().layers().to_string(), "count,sum,minmax,zhist");
    for mode in ["density", "min", "max", "scatter"] {
        s.ok(&["shade", "g.h5", "-o", "m.png", "--mode", mode, "-q"]);
    }
    // Without --save-grid render keeps only what the mode needs, and a
    // grid without a layer is refused with the layer named.
    s.ok(&["bin", &points, "-o", "count.h5", "--layers", "count", "-q"]);
    s.fails_with(
        &["shade", "count.h5", "-o", "x.png", "--mode", "scatter"],
        2,
        "scatter mode needs the zhist layer, and this grid has count; bin with --layers count,zhist",
    );
    s.fails_with(
        &["shade", "count.h5", "-o", "x.png", "--mode", "std"],
        2,
        "std mode needs the sum, std layers, and this grid has count",
    );
    assert!(!s.path("x.png").exists());
}

#[test]
fn png_metadata_and_orientation() {
    let s = Scenario::new();
    // One point at the top-left corner of the canvas, one at the bottom right.
    s.write("p.txt", "0 1 5\n1 0 5\n");
    s.ok(&[
        "render",
        "p.txt",
        "-o",
        "o.png",
        "--width",
        "4",
        "--height",
        "3",
        "--x-range",
        "0,1",
        "--y-range",
        "0,1",
        "--how",
        "linear",
        "--cmap",
        "#ff0000",
        "-q",
    ]);
    let img = Png::read(&s.path("o.png"));
    assert_eq!(img.px(0, 0), [255, 0, 0, 255], "largest y at the top");
    assert_eq!(img.px(3, 2), [255, 0, 0, 255], "smallest y at the bottom");
    assert_eq!(img.px(3, 0), [0; 4]);
    assert_eq!(
        img.text("Software"),
        format!("densebin {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(img.text("densebin:extent"), "x 0.0,1.0 y 0.0,1.0");
    assert_eq!(img.text("densebin:mode"), "density");
    assert_eq!(img.text("densebin:cmap"), "#ff0000");
    assert_eq!(img.text("densebin:how"), "linear");
    assert_eq!(img.text("densebin:inputs"), "p.txt");
}

#[test]
fn shading_errors() {
    let s = Scenario::new();
    s.write("p.txt", "0 0 1\n1 1 2\n");
    s.ok(&["bin", "p.txt", "-o", "g.h5", "-q"]);
    let out = s.fails(&["shade", "g.h5", "-o", "o.png", "--cmap", "jet"], 2);
    assert!(
        out.contains("unknown colormap \"jet\"") && out.contains("viridis") && out.contains("_r"),
        "{out}"
    );
    s.fails_with(
        &["shade", "g.h5", "-o", "o.png", "--alpha", "2"],
        2,
        "--alpha 2 must be between 0 and 1",
    );
    s.fails_with(
        &[
            "shade", "g.h5", "-o", "o.png", "--mode", "scatter", "--how", "log",
        ],
        2,
        "--how has no effect in scatter mode (it applies to density and the z statistics); \
         drop it, or choose another --mode",
    );
    s.fails_with(
        &[
            "shade", "g.h5", "-o", "o.png", "--mode", "mean", "--span", "1,2",
        ],
        2,
        "only with --how in z-statistic modes; add --how, or drop --span",
    );
    s.fails_with(
        &["shade", "g.h5", "-o", "o.png", "--background", "ochre"],
        2,
        "not a colour: \"ochre\"",
    );
    s.fails_with(
        &["shade", "g.h5", "-o", "o.png", "--compression", "11"],
        2,
        "use none, fast, or a level from 1 to 9",
    );
    s.fails_with(&["shade", "missing.h5", "-o", "o.png"], 1, "missing.h5");
    assert!(!s.path("o.png").exists());
}

/// datashader's `_rgb_density`: of the non-empty pixels (8-bit alpha above
/// 0), the fraction with another one within the square of radius `r`.
fn density(png: &Png, r: usize) -> f64 {
    let (w, h) = (png.width as isize, png.height as isize);
    let lit = |x: isize, y: isize| {
        x >= 0 && y >= 0 && x < w && y < h && png.px(x as usize, y as usize)[3] > 0
    };
    let (mut n, mut with) = (0, 0);
    for y in 0..h {
        for x in 0..w {
            if lit(x, y) {
                n += 1;
                let r = r as isize;
                let near = (-r..=r)
                    .flat_map(|dy| (-r..=r).map(move |dx| (x + dx, y + dy)))
                    .filter(|&(x, y)| lit(x, y))
                    .count();
                with += usize::from(near > 1);
            }
        }
    }
    if n == 0 {
        f64::INFINITY
    } else {
        with as f64 / n as f64
    }
}

/// `--dynspread` is `--spread r` for the radius datashader's rule picks
/// from the unspread image: the first r whose density at 2r exceeds the
/// threshold gives r - 1, else `--max-spread`.
#[test]
fn dynspread_spreads_by_datashaders_radius() {
    let s = Scenario::new();
    let points = fixture("points.txt");
    s.ok(&[
        "bin", &points, "-o", "g.h5", "--width", "60", "--height", "40", "-q",
    ]);
    s.ok(&["shade", "g.h5", "-o", "bare.png", "-q"]);
    let bare = Png::read(&s.path("bare.png"));
    let mut radii = Vec::new();
    for (threshold, max) in [
        ("0", "3"),
        ("0.5", "3"),
        ("0.9", "3"),
        ("1", "2"),
        ("0.9", "0"),
    ] {
        s.ok(&[
            "shade",
            "g.h5",
            "-o",
            "dyn.png",
            "--dynspread",
            "--threshold",
            threshold,
            "--max-spread",
            max,
            "-q",
        ]);
        let (t, max): (f64, usize) = (threshold.parse().unwrap(), max.parse().unwrap());
        let want = (1..=max)
            .find(|&r| density(&bare, 2 * r) > t)
            .map_or(max, |r| r - 1);
        s.ok(&[
            "shade",
            "g.h5",
            "-o",
            "fixed.png",
            "--spread",
            &want.to_string(),
            "-q",
        ]);
        assert_eq!(
            Png::read(&s.path("dyn.png")).rgba,
            Png::read(&s.path("fixed.png")).rgba,
            "threshold {t}, max {max}: radius {want}"
        );
        radii.push(want);
    }
    // The cases cover no spread and some spread.
    assert!(
        radii.contains(&0) && radii.iter().any(|&r| r > 0),
        "{radii:?}"
    );
    s.fails_with(
        &[
            "shade",
            "g.h5",
            "-o",
            "x.png",
            "--dynspread",
            "--threshold",
            "1.5",
        ],
        2,
        "--threshold 1.5 must be between 0 and 1",
    );
    s.fails_with(
        &[
            "shade",
            "g.h5",
            "-o",
            "x.png",
            "--dynspread",
            "--spread",
            "2",
        ],
        2,
        "cannot be used with",
    );
    s.fails_with(
        &["shade", "g.h5", "-o", "x.png", "--threshold", "0.2"],
        2,
        "--dynspread",
    );
}
