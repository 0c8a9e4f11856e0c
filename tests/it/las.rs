//! LAS and LAZ input: the fixtures written by laspy
//! (`scripts/make_las_fixture.py`: LAS 1.2 point format 3, and the same
//! points as LAS 1.4 point format 7 in LAZ) bin to the grid of the same
//! points as text, for any thread count and by parts; attributes by name as
//! z, weight and categories; the header's bounds as the ranges, checked
//! against the data; headers that lie and damaged files are one-line
//! errors naming the file.

use crate::scenario::{Scenario, fixture};

/// A canvas smaller than the points' extent, so that some fall outside.
const CANVAS: [&str; 10] = [
    "--width",
    "40",
    "--height",
    "30",
    "--x-range",
    "500010,500090",
    "--y-range",
    "4000005,4000075",
    "--z-range",
    "0,50",
];

fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [args, &CANVAS[..]].concat()
}

/// The counters of a grid of the text fixture, less its header line.
fn points_of(text: &densebin::Grid) -> densebin::grid::Counters {
    let mut c = *text.counters();
    c.lines_ignored = 0;
    c
}

/// `args` on the canvas, with a z range of their own.
fn on_xy<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [args, &CANVAS[..8]].concat()
}

#[test]
fn las_and_laz_bin_as_the_same_points_as_text() {
    let s = Scenario::new();
    let txt = fixture("points_las.txt");
    s.ok(&with(&["bin", &txt, "-o", "t.h5"]));
    let text = s.grid("t.h5");
    assert!(text.counters().out_of_range > 0);
    for file in ["points.las", "points.laz"] {
        let path = fixture(file);
        for threads in ["1", "3"] {
            s.ok(&with(&["bin", &path, "-o", "l.h5", "--threads", threads]));
            let l = s.grid("l.h5");
            assert_eq!(l.count(), text.count(), "{file}");
            assert_eq!(l.zhist(), text.zhist(), "{file}");
            assert_eq!(l.min_z(), text.min_z(), "{file}");
            assert_eq!(l.max_z(), text.max_z(), "{file}");
            assert_eq!(*l.counters(), points_of(&text), "{file}");
            assert_eq!(l.inputs()[0].format, "las");
        }
        // Attributes by name: intensity as z, red as the weight, the
        // classification as categories.
        for (input, out) in [(&path, "a.h5"), (&txt, "at.h5")] {
            s.ok(&on_xy(&[
                "bin",
                input,
                "--z",
                "intensity",
                "--weight",
                "red",
                "--by",
                "classification",
                "-o",
                out,
                "--z-range",
                "0,65535",
            ]));
        }
        let (a, at) = (s.grid("a.h5"), s.grid("at.h5"));
        assert_eq!(a.zhist(), at.zhist(), "{file}");
        assert_eq!(a.spec().categories().unwrap().names(), ["2", "6", "9"]);
        use densebin::grid::ArrayId;
        assert_eq!(a.array(ArrayId::CountCat), at.array(ArrayId::CountCat));
        assert_eq!(a.array(ArrayId::SumW), at.array(ArrayId::SumW));
    }
}

#[test]
fn header_bounds_are_the_ranges_and_a_lying_header_loses_no_point() {
    let s = Scenario::new();
    let las = std::fs::read(fixture("points.las")).unwrap();
    let txt = fixture("points_las.txt");
    s.write("p.las", &las);
    // Without ranges: the header's bounds, which are the data's own.
    s.ok(&["bin", "p.las", "-o", "h.h5"]);
    s.ok(&["bin", &txt, "-o", "t.h5"]);
    let (h, t) = (s.grid("h.h5"), s.grid("t.h5"));
    assert_eq!(h.spec(), t.spec());
    assert_eq!(h.count(), t.count());
    assert_eq!(h.counters().out_of_range, 0);
    // A header whose x bounds are too narrow (max x at byte 179) and one
    // whose z bounds are too narrow (max z at 211): the data's ranges are
    // scanned for, and every point is binned.
    for (at, value) in [(179, 500_050.0f64), (211, 1.0)] {
        let mut lying = las.clone();
        lying[at..at + 8].copy_from_slice(&value.to_le_bytes());
        s.write("lying.las", &lying);
        s.ok(&["bin", "lying.las", "-o", "l.h5"]);
        let l = s.grid("l.h5");
        assert_eq!(l.spec(), t.spec(), "byte {at}");
        assert_eq!(l.count(), t.count(), "byte {at}");
        assert_eq!(l.zhist(), t.zhist(), "byte {at}");
        assert_eq!(*l.counters(), points_of(&t), "byte {at}");
    }
}

#[test]
fn las_parts_merge_into_the_whole() {
    let s = Scenario::new();
    for file in ["points.las", "points.laz"] {
        let path = fixture(file);
        s.ok(&with(&["bin", &path, "-o", "whole.h5"]));
        let mut args = vec!["merge".to_string()];
        for i in 1..=3 {
            let (part, out) = (format!("{i}/3"), format!("p{i}.h5"));
            s.ok(&with(&["bin", &path, "--part", &part, "-o", &out]));
            args.push(out);
        }
        args.extend(["-o".into(), "m.h5".into()]);
        s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let (m, whole) = (s.grid("m.h5"), s.grid("whole.h5"));
        assert_eq!(m.count(), whole.count(), "{file}");
        assert_eq!(m.counters(), whole.counters(), "{file}");
    }
}

#[test]
fn bad_las_files_are_clear_errors() {
    let s = Scenario::new();
    let las = std::fs::read(fixture("points.las")).unwrap();
    let laz = std::fs::read(fixture("points.laz")).unwrap();
    let fail = |name: &str, bytes: &[u8]| {
        s.write(name, bytes);
        s.fails(&with(&["bin", name, "-o", "x.h5"]), 2)
    };
    // A header that says one point more than the file holds (legacy count
    // at byte 107), and one that says one fewer.
    for (n, held) in [(2001u32, "hold 2000"), (1999, "hold 2000")] {
        let mut lying = las.clone();
        lying[107..111].copy_from_slice(&n.to_le_bytes());
        let err = fail("count.las", &lying);
        assert!(
            err.contains(&format!("its header says it holds {n} points")) && err.contains(held),
            "{err}"
        );
    }
    // LAS 1.4's 64-bit count (byte 247) in a LAZ file.
    let mut lying = laz.clone();
    let n = u64::from_le_bytes(lying[247..255].try_into().unwrap());
    lying[247..255].copy_from_slice(&(n + 10).to_le_bytes());
    let err = fail("count.laz", &lying);
    assert!(
        err.starts_with("densebin: count.laz: not a readable LAS file:"),
        "{err}"
    );
    // Truncated, damaged inside a chunk, not LAS at all.
    let err = fail("cut.las", &las[..las.len() / 2]);
    assert!(
        err.contains("it is truncated, or its header is wrong"),
        "{err}"
    );
    let err = fail("cut.laz", &laz[..laz.len() - 100]);
    assert!(err.contains("cut.laz: not a readable LAS file"), "{err}");
    let mut damaged = laz.clone();
    for b in &mut damaged[2000..2400] {
        *b ^= 0x5A;
    }
    s.write("damaged.laz", &damaged);
    let out = s.run(&with(&["bin", "damaged.laz", "-o", "d.h5"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(0)
            || (out.status.code() == Some(2) && stderr.lines().count() == 1),
        "{:?}: {stderr}",
        out.status
    );
    let err = fail("text.las", b"1 2 3\n");
    assert!(err.contains("not a readable LAS file"), "{err}");
    // A category that is not an integer; an attribute the format lacks.
    let path = fixture("points.las");
    let err = s.fails(&with(&["bin", &path, "--by", "gps_time", "-o", "x.h5"]), 2);
    assert!(err.contains("column \"gps_time\" is not integers"), "{err}");
    let err = s.fails(&with(&["bin", &path, "--z", "nir", "-o", "x.h5"]), 2);
    assert!(
        err.contains("no column \"nir\"") && err.contains("\"red\""),
        "{err}"
    );
    assert!(!s.path("x.h5").exists());
}

/// Damage anywhere in a LAS or LAZ file — a byte flipped in the header,
/// the chunk table or the points, or the file cut short — gives points
/// or an error, never a panic (the fuzz target `las` does this at
/// random; this sweep runs in every test run).
#[test]
fn damaged_las_files_read_or_fail_cleanly() {
    use densebin::binning::read_points;
    use densebin::read::{Column, Format, Input, ReadOptions};
    let dir = tempfile::tempdir().unwrap();
    for name in ["points.las", "points.laz"] {
        let good = std::fs::read(fixture(name)).unwrap();
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for at in (0..good.len()).step_by(good.len() / 150) {
            let mut bad = good.clone();
            bad[at] ^= 0xA5;
            cases.push(bad);
        }
        for at in (0..400).step_by(7) {
            let mut bad = good.clone();
            bad[at] = 0xFF;
            cases.push(bad);
        }
        for cut in (0..good.len()).step_by(good.len() / 40) {
            cases.push(good[..cut].to_vec());
        }
        for (i, case) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{i}-{name}"));
            std::fs::write(&path, case).unwrap();
            for by in [false, true] {
                let opts = ReadOptions {
                    format: Format::Las,
                    by: by.then(|| Column::Name("classification".into())),
                    ..ReadOptions::default()
                };
                if let Ok(input) = Input::open(&path, &opts) {
                    let _ = read_points(&[input], &densebin::RunContext::new(), |_| Ok(()));
                }
            }
        }
    }
}
