//! Framed figures (`--frame`): golden images, the plot area equal to the
//! bare image byte for byte, and colorbar ticks that are the data values
//! at their colour positions for every `--how`, computed here from the
//! grid's counts.

use std::path::PathBuf;

use densebin::figure::{FrameOptions, Mark, colorbar_ticks, frame};
use densebin::shade::{How, Mode, Shading, shade};

use crate::scenario::Scenario;
use crate::shading::{Png, check_goldens};

pub fn points() -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "points.txt"]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

/// A 160 x 100 grid of the fixture points.
pub fn grid(s: &Scenario) -> densebin::Grid {
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
    // Log axes: decades with minor ticks between, as matplotlib's
    // LogLocator places them.
    s.write(
        "log.txt",
        crate::scenario::text_lines(&crate::logaxes::points(), " "),
    );
    s.ok(&[
        "bin", "log.txt", "-o", "log.h5", "--width", "160", "--height", "100", "--x-axis", "log",
        "--y-axis", "log", "--layers", "count", "-q",
    ]);
    let log: [(&str, &[&str]); 1] = [(
        "framed_log_axes",
        &[
            "--frame",
            "--how",
            "log",
            "--cmap",
            "magma",
            "--background",
            "black",
        ],
    )];
    check_goldens(&s, "log.h5", &log, |png| {
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
        let (bare, fig) = (shaded.image.to_rgba8(), framed.to_image().to_rgba8());
        let (w, h, fw) = (160, 100, framed.width());
        let (x0, y0) = framed.plot();
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

/// A `w × h` figure of an empty grid over `x_range × y_range`.
fn layout(
    w: usize,
    h: usize,
    x_range: (f64, f64),
    y_range: (f64, f64),
    opts: &FrameOptions,
) -> (densebin::figure::Figure<'static>, densebin::GridSpec) {
    let spec = densebin::GridSpec::new(w, h, x_range, y_range).unwrap();
    let g = densebin::Grid::empty(spec.clone());
    let shaded = shade(&g, &Shading::default()).unwrap();
    let image: &'static densebin::image::Image = Box::leak(Box::new(shaded.image));
    (frame(image, &shaded.legend, &spec, opts), spec)
}

/// The text marks of a figure: what they say and their boxes.
fn texts(fig: &densebin::figure::Figure<'_>) -> Vec<(String, [f32; 4])> {
    fig.marks()
        .iter()
        .filter_map(|m| match m {
            Mark::Text { text, .. } => Some((text.clone(), m.bounds())),
            _ => None,
        })
        .collect()
}

/// Where matplotlib anchors an axis's offset text (`tests/data/offset_text.tsv`,
/// from `scripts/make_tick_table.py`): the x axis's right-aligned with the
/// axes and `OFFSETTEXTPAD` below the tick labels, the y axis's
/// left-aligned with the axes with its baseline that far above them. The
/// figure's frame line is the axes' edge, at the centre of its pixel.
#[test]
fn offset_text_sits_where_matplotlib_puts_it() {
    let table = include_str!("../data/offset_text.tsv");
    let mut cases = 0;
    for row in table.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = row.split('\t').collect();
        let (lo, hi): (f64, f64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let (length, axis, size) = (
            f[2].parse::<usize>().unwrap(),
            f[3],
            f[4].parse::<f32>().unwrap(),
        );
        let (offset, along, across): (&str, f32, f32) =
            (f[5], f[6].parse().unwrap(), f[7].parse().unwrap());
        let opts = FrameOptions {
            font_size: size,
            colorbar: false,
            ..FrameOptions::default()
        };
        let (fig, _) = if axis == "x" {
            layout(length, 100, (lo, hi), (0.0, 1.0), &opts)
        } else {
            layout(100, length, (0.0, 1.0), (lo, hi), &opts)
        };
        let (px, py) = fig.plot();
        let (w, h) = if axis == "x" {
            (length, 100)
        } else {
            (100, length)
        };
        let all = texts(&fig);
        let found: Vec<_> = all.iter().filter(|(t, _)| t == offset).collect();
        assert_eq!(
            found.len(),
            1,
            "{row}: the offset text {offset:?} among {all:?}"
        );
        let [l, t, r, _] = found[0].1;
        let (got_along, got_across) = if axis == "x" {
            // The tick labels are the upright texts just below the axes.
            let labels_bottom = all
                .iter()
                .filter(|(s, b)| s != offset && b[1] > (py + h) as f32 && b[1] < t)
                .map(|(_, b)| b[3])
                .fold(f32::NEG_INFINITY, f32::max);
            ((px + w) as f32 + 0.5 - r, t - labels_bottom)
        } else {
            let Some(Mark::Text { y: baseline, .. }) = fig
                .marks()
                .iter()
                .find(|m| matches!(m, Mark::Text { text, .. } if text == offset))
            else {
                unreachable!()
            };
            (l - (px as f32 - 0.5), py as f32 - 0.5 - baseline)
        };
        assert!(
            (got_along - along).abs() <= 1.0 && (got_across - across).abs() <= 1.0,
            "{row}: ours {got_along:.2} {got_across:.2}"
        );
        cases += 1;
    }
    assert!(cases >= 50, "{cases} cases");
}

/// However long the labels, however large the text and however small the
/// plot, every text lies inside the figure, clear of its edge, and no two
/// texts overlap (an x label moves below a long offset text).
#[test]
fn no_label_is_clipped_or_covered() {
    let long = "a long label that is much wider than the plot (units)".to_string();
    let ranges = [
        ((-5.0, 5.0), (-2.0, 4.0)),
        ((10000.0, 10000.5), (1e12, 3e12)),
        ((0.0, 1e-9), (-10000.5, -10000.0)),
    ];
    for ((w, h), (x_range, y_range), font_size, labels) in [
        ((160, 100), ranges[0], 10.0, false),
        ((160, 100), ranges[1], 10.0, true),
        ((30, 20), ranges[1], 24.0, true),
        ((400, 40), ranges[2], 8.0, true),
        ((40, 300), ranges[2], 14.0, false),
    ] {
        for colorbar in [true, false] {
            let opts = FrameOptions {
                title: labels.then(|| long.clone()),
                x_label: if labels { long.clone() } else { "x".into() },
                y_label: if labels { long.clone() } else { "y".into() },
                colorbar_label: labels.then(|| long.clone()),
                colorbar,
                font_size,
                ..FrameOptions::default()
            };
            let (fig, _) = layout(w, h, x_range, y_range, &opts);
            let what =
                format!("{w}x{h} {x_range:?} {y_range:?} {font_size} pt, colorbar {colorbar}");
            let all = texts(&fig);
            for (t, [l, top, r, b]) in &all {
                assert!(
                    *l >= 1.0
                        && *top >= 1.0
                        && *r <= fig.width() as f32 - 1.0
                        && *b <= fig.height() as f32 - 1.0,
                    "{what}: {t:?} at {:?} outside {}x{}",
                    [l, top, r, b],
                    fig.width(),
                    fig.height()
                );
            }
            // Tick labels are where matplotlib puts them, and on a short
            // axis with large text they may touch as matplotlib's do; the
            // axis labels, the title and the offset texts (the only texts
            // here with an "e") must be clear of everything.
            let free = |s: &str| *s == long || ["x", "y", "count"].contains(&s) || s.contains('e');
            for (i, (s, a)) in all.iter().enumerate() {
                for (t, b) in all[i + 1..].iter().filter(|(t, _)| free(s) || free(t)) {
                    let apart = a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1];
                    assert!(apart, "{what}: {s:?} {a:?} overlaps {t:?} {b:?}");
                }
            }
            // And the pixels agree: the outermost ring is background.
            let img = fig.to_image();
            let bg = img.pixel(0, 0);
            for x in 0..img.width() {
                assert_eq!(img.pixel(x, 0), bg, "{what}");
                assert_eq!(img.pixel(x, img.height() - 1), bg, "{what}");
            }
            for y in 0..img.height() {
                assert_eq!(img.pixel(0, y), bg, "{what}");
                assert_eq!(img.pixel(img.width() - 1, y), bg, "{what}");
            }
        }
    }
}
