//! Framed figures (`--frame`): golden images, the plot area equal to the
//! bare image byte for byte, and colorbar ticks that are the data values
//! at their colour positions for every `--how`, computed here from the
//! grid's counts.

use std::path::PathBuf;

use densebin::figure::{FrameOptions, colorbar_ticks, frame};
use densebin::shade::{How, Mode, Shading, shade};

use crate::scenario::Scenario;
use crate::shading::{Png, check_goldens};

fn points() -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "points.txt"]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

/// A 160 x 100 grid of the fixture points.
fn grid(s: &Scenario) -> densebin::Grid {
    let pts = points();
    s.ok(&[
        "bin",
        &pts,
        "-o",
        "g.h5",
        "--width",
        "160",
        "--height",
        "100",
        "--x-range=-5,5",
        "--y-range=-2,4",
        "--z-range=-1.5,1.5",
        "--z-bins",
        "8",
        "--layers",
        "count,sum,minmax,zhist",
        "-q",
    ]);
    s.grid("g.h5")
}

#[test]
fn framed_golden_images() {
    let s = Scenario::new();
    grid(&s);
    let cases: [(&str, &[&str]); 3] = [
        ("framed_density", &["--frame"]),
        (
            "framed_mean_eq_hist",
            &[
                "--frame",
                "--mode",
                "mean",
                "--how",
                "eq_hist",
                "--title",
                "mean of z",
            ],
        ),
        (
            "framed_scatter",
            &[
                "--frame",
                "--mode",
                "scatter",
                "--alpha",
                "0.3",
                "--background",
                "white",
                "--x-label",
                "lon",
                "--y-label",
                "lat",
                "--font-size",
                "8",
            ],
        ),
    ];
    // A frame around the 160 x 100 plot.
    check_goldens(&s, "g.h5", &cases, |png| {
        png.width > 160 && png.height > 100
    });
}

#[test]
fn the_plot_area_is_the_bare_image_byte_for_byte() {
    let s = Scenario::new();
    let g = grid(&s);
    for shading in [
        Shading::default(),
        Shading {
            mode: Mode::Mean,
            how: Some(How::Log),
            ..Shading::default()
        },
        Shading {
            mode: Mode::Scatter,
            alpha: 0.2,
            ..Shading::default()
        },
    ] {
        let shaded = shade(&g, &shading).unwrap();
        let framed = frame(
            &shaded.image,
            &shaded.legend,
            g.spec(),
            &FrameOptions::default(),
        );
        let (bare, fig) = (shaded.image.to_rgba8(), framed.image.to_rgba8());
        let (w, h, fw) = (160, 100, framed.image.width());
        let (x0, y0) = framed.plot;
        for y in 0..h {
            let row = &fig[((y0 + y) * fw + x0) * 4..((y0 + y) * fw + x0 + w) * 4];
            assert_eq!(
                row,
                &bare[y * w * 4..(y + 1) * w * 4],
                "{} row {y}",
                shading.mode
            );
        }
        // The frame is drawn just outside the plot area, in black.
        assert_eq!(&fig[((y0 - 1) * fw + x0) * 4..][..4], &[0, 0, 0, 255]);
    }
}

/// `t` of count `v` on the scale `how` fitted to `counts` (the non-empty
/// pixels), written out here from the definitions in the README.
fn expected_t(how: How, counts: &[f64], v: f64) -> f64 {
    let (lo, hi) = counts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &c| {
            (a.min(c), b.max(c))
        });
    let f = |x: f64| match how {
        How::Log => x.ln_1p(),
        How::Cbrt => x.cbrt(),
        _ => x,
    };
    match how {
        How::EqHist => {
            let n = counts.len() as f64;
            let at_or_below = |x: f64| counts.iter().filter(|&&c| c <= x).count() as f64 / n;
            let first = at_or_below(lo);
            (at_or_below(v) - first) / (1.0 - first)
        }
        _ => (f(v) - f(lo)) / (f(hi) - f(lo)),
    }
}

#[test]
fn colorbar_ticks_are_the_values_at_their_colours() {
    let s = Scenario::new();
    let g = grid(&s);
    let counts: Vec<f64> = g
        .count()
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64)
        .collect();
    for how in [How::Linear, How::Log, How::Cbrt, How::EqHist] {
        let shading = Shading {
            how: Some(how),
            ..Shading::default()
        };
        let legend = shade(&g, &shading).unwrap().legend;
        let ticks = colorbar_ticks(&legend, 6);
        assert!(ticks.len() >= 2, "{how}: {ticks:?}");
        for pair in ticks.windows(2) {
            assert!(
                pair[0].t < pair[1].t && pair[0].value < pair[1].value,
                "{how}: {ticks:?}"
            );
            assert_ne!(pair[0].label, pair[1].label, "{how}");
        }
        for b in &ticks {
            let shown: f64 = b.label.replace('\u{2212}', "-").parse().unwrap();
            let near = (shown - b.value).abs() <= 1e-9 * b.value.abs().max(1.0);
            assert!(
                near,
                "{how}: the label {} is the value {}",
                b.label, b.value
            );
            let want = expected_t(how, &counts, b.value);
            assert!(
                (b.t - want).abs() < 1e-6,
                "{how}: {} at t {} not {want}",
                b.value,
                b.t
            );
        }
    }
    // Scatter and mean: the z scale, linear.
    for mode in [Mode::Scatter, Mode::Mean] {
        let legend = shade(
            &g,
            &Shading {
                mode,
                ..Shading::default()
            },
        )
        .unwrap()
        .legend;
        let (lo, hi) = legend.colour.domain().unwrap();
        for b in colorbar_ticks(&legend, 6) {
            assert!(
                (b.t - (b.value - lo) / (hi - lo)).abs() < 1e-6,
                "{mode}: {b:?}"
            );
        }
    }
}

#[test]
fn axis_labels_default_to_the_inputs_column_names() {
    let s = Scenario::new();
    let npy: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "data",
        "structured.npy",
    ]
    .iter()
    .collect();
    let npy = npy.to_string_lossy();
    let canvas = [
        "--width",
        "60",
        "--height",
        "40",
        "--x-range=-5,5",
        "--y-range=-2,4",
        "-q",
    ];
    let mut bin = vec![
        "bin", &npy, "-o", "s.h5", "--x", "lon", "--y", "lat", "--z", "depth",
    ];
    bin.extend(canvas);
    s.ok(&bin);
    let g = s.grid("s.h5");
    assert_eq!(
        g.inputs()[0].columns,
        ["lon".to_string(), "lat".to_string()]
    );
    assert_eq!(
        densebin::grid::InputInfo::axis_names(g.inputs()),
        ["lon", "lat"]
    );
    // The framed figure's labels are those names unless given.
    s.ok(&["shade", "s.h5", "-o", "default.png", "--frame", "-q"]);
    s.ok(&[
        "shade",
        "s.h5",
        "-o",
        "named.png",
        "--frame",
        "--x-label",
        "lon",
        "--y-label",
        "lat",
        "-q",
    ]);
    s.ok(&[
        "shade",
        "s.h5",
        "-o",
        "xy.png",
        "--frame",
        "--x-label",
        "x",
        "--y-label",
        "y",
        "-q",
    ]);
    let read = |f: &str| Png::read(&s.path(f)).rgba;
    assert_eq!(read("default.png"), read("named.png"));
    assert_ne!(read("default.png"), read("xy.png"));
    // Text without a header has no names; inputs that disagree fall back.
    let pts = points();
    let mut txt = vec!["bin", &pts, "-o", "t.h5"];
    txt.extend(canvas);
    s.ok(&txt);
    let t = s.grid("t.h5");
    assert_eq!(t.inputs()[0].columns, [String::new(), String::new()]);
    let mut both = g.inputs().to_vec();
    both.extend(t.inputs().iter().cloned());
    assert_eq!(densebin::grid::InputInfo::axis_names(&both), ["x", "y"]);
}
