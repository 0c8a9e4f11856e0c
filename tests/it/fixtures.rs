//! The committed fixtures in `tests/data/`, written by numpy itself
//! (`tests/data/make_fixtures.py`): the same 300 points as whitespace text
//! with `%g` numbers, CSV with CRLF and quoted text, raw f32, and .npy files
//! (float32, big-endian float64, structured), and a few broken files.

use crate::oracle::{Canvas, Oracle};
use crate::scenario::{Scenario, fixture};

const C: Canvas = Canvas {
    width: 20,
    height: 12,
    x: (-5.0, 5.0),
    y: (-2.0, 4.0),
    zhist: Some((6, (-1.5, 1.5))),
};

/// The points, read from `points.txt` with the standard library's parser
/// (independent of densebin's).
fn reference() -> Vec<(f64, f64, f64)> {
    std::fs::read_to_string(fixture("points.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|t| t.parse().unwrap()).collect();
            (v[0], v[1], v[2])
        })
        .collect()
}

fn f32ed(pts: &[(f64, f64, f64)]) -> Vec<(f64, f64, f64)> {
    pts.iter()
        .map(|&(x, y, z)| (x as f32 as f64, y as f32 as f64, z as f32 as f64))
        .collect()
}

fn check(file: &str, extra: &[&str], pts: &[(f64, f64, f64)]) {
    let s = Scenario::new();
    let path = fixture(file);
    let mut args = vec![
        "bin",
        &path,
        "-o",
        "g.h5",
        "--width",
        "20",
        "--height",
        "12",
        "--x-range",
        "-5,5",
        "--y-range",
        "-2,4",
        "--z-range",
        "-1.5,1.5",
        "--z-bins",
        "6",
        "--layers",
        "count,sum,minmax,std,zhist",
        "-q",
    ];
    args.extend(extra);
    s.ok(&args);
    let g = s.grid("g.h5");
    Oracle::bin_xyz(C, pts).assert_matches(&g, file);
    assert_eq!(g.counters().points_read, 300, "{file}");
    assert_eq!(g.counters().nonfinite_xy, 1, "{file}: the NaN x");
    assert!(
        g.count()[[11, 19]] >= 1 && g.count()[[0, 0]] >= 1,
        "{file}: both corners"
    );
}

#[test]
fn text_fixtures() {
    let pts = reference();
    check("points.txt", &[], &pts);
    check("points.csv", &["--x", "x", "--y", "y", "--z", "z"], &pts);
    check("points.csv", &["--x", "1", "--y", "2", "--z", "3"], &pts);
}

#[test]
fn binary_fixtures_written_by_numpy() {
    let pts = reference();
    check("points.f32", &[], &f32ed(&pts));
    check("points_f4.npy", &[], &f32ed(&pts));
    check("points_f8_be.npy", &[], &pts);
    let lat_f32: Vec<_> = pts
        .iter()
        .map(|&(x, y, z)| (x, y as f32 as f64, z))
        .collect();
    check(
        "structured.npy",
        &["--x", "lon", "--y", "lat", "--z", "depth"],
        &lat_f32,
    );
}

#[test]
fn broken_fixtures() {
    let s = Scenario::new();
    let cases = [
        (
            "bad_number.txt",
            "bad_number.txt:3:3: expected a number, found \"1.2.3\"",
        ),
        (
            "odd_size.f32",
            "odd_size.f32: 122 bytes is not a whole number of 12-byte records",
        ),
        (
            "fortran.npy",
            "fortran.npy: Fortran-order (column-major) arrays are not supported",
        ),
        ("int.npy", "int.npy: unsupported dtype \"<i4\""),
        (
            "header_only.csv",
            "header_only.csv: no data: the input has only a header line",
        ),
    ];
    for (file, message) in cases {
        let path = fixture(file);
        let err = s.fails(&["bin", &path, "-o", "g.h5"], 2);
        assert!(err.contains(message), "{file}: {err}");
    }
    assert!(s.files().is_empty(), "nothing written: {:?}", s.files());
}
