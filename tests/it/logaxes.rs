//! Log axes (`--x-axis log`, `--y-axis log`): counts against the oracle's
//! datashader `LogAxis` rule on both axes and on one, for every thread
//! count; ranges from the positive values; the grid file's axis types and
//! pixel centres; merges only of equal axis types; shading and framing.

use crate::oracle::{log_pixel, pixel};
use crate::scenario::{Scenario, text_lines};

/// Points spread over six decades, with zeros, negatives and values on
/// and just beyond the edges.
pub fn points() -> Vec<(f64, f64, f64)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut pts: Vec<(f64, f64, f64)> = (0..5000)
        .map(|i| {
            let x = 10f64.powf(-2.0 + 6.0 * uniform());
            let y = if i % 17 == 0 {
                -1.0
            } else {
                10f64.powf(3.0 * uniform())
            };
            (if i % 23 == 0 { 0.0 } else { x }, y, uniform())
        })
        .collect();
    pts.extend([
        (0.01, 1.0, 0.5),
        (1e4, 1e3, 0.5),
        (1e4 * (1.0 + 1e-15), 10.0, 0.5),
    ]);
    pts
}

#[test]
fn log_axes_bin_as_datashader_does() {
    let s = Scenario::new();
    let pts = points();
    s.write("p.txt", text_lines(&pts, " "));
    let (w, h) = (64usize, 40usize);
    let ((x0, x1), (y0, y1)) = ((0.01, 1e4), (1.0, 1e3));
    for (xa, ya) in [("log", "log"), ("log", "linear"), ("linear", "log")] {
        let mut want = vec![0u64; w * h];
        for &(x, y, _) in &pts {
            let px = |v, lo, hi, n, a| {
                if a == "log" {
                    log_pixel(v, lo, hi, n)
                } else {
                    pixel(v, lo, hi, n)
                }
            };
            if let (Some(i), Some(j)) = (px(x, x0, x1, w, xa), px(y, y0, y1, h, ya)) {
                want[j * w + i] += 1;
            }
        }
        for threads in ["1", "2", "3"] {
            s.ok(&[
                "bin",
                "p.txt",
                "-o",
                "g.h5",
                "--width",
                "64",
                "--height",
                "40",
                "--x-range=0.01,1e4",
                "--y-range=1,1e3",
                "--x-axis",
                xa,
                "--y-axis",
                ya,
                "--layers",
                "count",
                "--threads",
                threads,
                "-q",
            ]);
            let g = s.grid("g.h5");
            let got: Vec<u64> = g.count().iter().copied().collect();
            assert_eq!(got, want, "{xa} x, {ya} y, {threads} threads");
            assert_eq!(g.spec().x().axis_type().name(), xa);
            assert_eq!(g.spec().y().axis_type().name(), ya);
        }
    }
    // The pixel centres, as datashader's LogAxis.compute_index gives them.
    let g = s.grid("g.h5");
    let (l, hh) = (1f64.log10(), 1e3f64.log10());
    let sc = 40.0 / (hh - l);
    let t = -l * sc;
    for i in 0..40 {
        assert_eq!(
            g.spec().y().centre(i),
            10f64.powf((i as f64 + 0.5 - t) / sc)
        );
    }
    let stdout = |args: &[&str]| String::from_utf8(s.run(args).stdout).unwrap();
    let info = stdout(&["info", "g.h5"]);
    assert!(
        info.contains("(linear x, log y, row 0 at the bottom)"),
        "{info}"
    );
    let json = stdout(&["info", "g.h5", "--json"]);
    assert!(
        json.contains(r#""x_axis_type":"linear","y_axis_type":"log""#),
        "{json}"
    );
}

#[test]
fn log_ranges_come_from_the_positive_values() {
    let s = Scenario::new();
    let pts = points();
    s.write("p.txt", text_lines(&pts, " "));
    s.ok(&[
        "bin", "p.txt", "-o", "g.h5", "--x-axis", "log", "--y-axis", "log", "-q",
    ]);
    let g = s.grid("g.h5");
    let positive = |f: fn(&(f64, f64, f64)) -> f64| {
        let v: Vec<f64> = pts
            .iter()
            .filter(|p| p.0 > 0.0 && p.1 > 0.0)
            .map(f)
            .collect();
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    assert_eq!((g.spec().x().lo(), g.spec().x().hi()), positive(|p| p.0));
    assert_eq!((g.spec().y().lo(), g.spec().y().hi()), positive(|p| p.1));
    assert_eq!(
        g.counters().points_binned,
        pts.iter().filter(|p| p.0 > 0.0 && p.1 > 0.0).count() as u64
    );
    // Not above 0: refused, naming the flag.
    s.fails_with(
        &[
            "bin",
            "p.txt",
            "-o",
            "bad.h5",
            "--x-axis",
            "log",
            "--x-range=-1,10",
        ],
        2,
        "above 0 on a logarithmic axis",
    );
    s.write("neg.txt", "-1 2\n0 3\n");
    s.fails_with(
        &["bin", "neg.txt", "-o", "bad.h5", "--x-axis", "log"],
        2,
        "no point has a positive, finite x",
    );
    s.fails_with(
        &["bin", "p.txt", "-o", "bad.h5", "--x-axis", "ln"],
        2,
        "invalid value 'ln'",
    );
}

#[test]
fn log_grids_merge_only_with_log_grids_and_shade() {
    let s = Scenario::new();
    let pts = points();
    s.write("a.txt", text_lines(&pts[..2500], " "));
    s.write("b.txt", text_lines(&pts[2500..], " "));
    s.write("all.txt", text_lines(&pts, " "));
    let canvas = [
        "--width",
        "50",
        "--height",
        "30",
        "--x-range=0.01,1e4",
        "--y-range=1,1e3",
        "--z-range=0,1",
        "-q",
    ];
    let bin = |input: &str, out: &str, axis: &str| {
        let mut args = vec!["bin", input, "-o", out, "--x-axis", axis, "--y-axis", axis];
        args.extend(canvas);
        s.ok(&args);
    };
    bin("a.txt", "a.h5", "log");
    bin("b.txt", "b.h5", "log");
    bin("all.txt", "all.h5", "log");
    bin("b.txt", "lin.h5", "linear");
    s.ok(&["merge", "a.h5", "b.h5", "-o", "m.h5", "-q"]);
    assert_eq!(s.grid("m.h5").count(), s.grid("all.h5").count());
    s.fails(&["merge", "a.h5", "lin.h5", "-o", "x.h5", "-q"], 2);
    // Shading does not care; framing puts decades on a log axis.
    s.ok(&["shade", "all.h5", "-o", "d.png", "--frame", "-q"]);
}
