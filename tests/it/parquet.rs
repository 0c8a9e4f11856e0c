//! Parquet input: the fixture written by pyarrow
//! (`scripts/make_parquet_fixture.py`: three row groups, snappy, nulls,
//! float32, int32, a dictionary-encoded text column) bins to the grid of
//! the same points as text, for any thread count and by parts; columns by
//! name; bad files and columns are one-line errors naming the file.

use crate::scenario::{Scenario, fixture};

/// `args` on the fixture's canvas.
fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [args, &CANVAS[..]].concat()
}

const CANVAS: [&str; 10] = [
    "--width",
    "40",
    "--height",
    "30",
    "--x-range",
    "-3,3",
    "--y-range",
    "-3,3",
    "--z-range",
    "-500,500",
];

#[test]
fn parquet_bins_as_the_same_points_as_text() {
    let s = Scenario::new();
    let (pq, txt) = (fixture("points.parquet"), fixture("points_parquet.txt"));
    s.ok(&with(&["bin", &txt, "--z", "z", "-o", "t.h5"]));
    let text = s.grid("t.h5");
    assert!(text.counters().nonfinite_xy > 0, "the fixture has nulls");
    for threads in ["1", "2", "3"] {
        s.ok(&with(&["bin", &pq, "-o", "p.h5", "--threads", threads]));
        let p = s.grid("p.h5");
        assert_eq!(p.count(), text.count(), "{threads} threads");
        assert_eq!(p.zhist(), text.zhist());
        assert_eq!(p.min_z(), text.min_z());
        assert_eq!(p.max_z(), text.max_z());
        assert_eq!(p.counters().points_read, text.counters().points_read);
        assert_eq!(p.counters().nonfinite_xy, text.counters().nonfinite_xy);
        for (a, b) in p.sum_z().unwrap().iter().zip(text.sum_z().unwrap()) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
    // Ranges from the data, as for text.
    s.ok(&["bin", &pq, "-o", "r.h5", "--layers", "count"]);
    s.ok(&["bin", &txt, "-o", "rt.h5", "--layers", "count"]);
    assert_eq!(s.grid("r.h5").spec(), s.grid("rt.h5").spec());
    assert_eq!(s.grid("r.h5").count(), s.grid("rt.h5").count());
    // By category, from the dictionary-encoded text column.
    s.ok(&with(&["bin", &pq, "--by", "kind", "-o", "k.h5"]));
    s.ok(&with(&[
        "bin", &txt, "--z", "z", "--by", "kind", "-o", "kt.h5",
    ]));
    let (k, kt) = (s.grid("k.h5"), s.grid("kt.h5"));
    assert_eq!(
        k.spec().categories().unwrap().names(),
        ["building", "ground", "water"]
    );
    assert_eq!(
        k.array(densebin::grid::ArrayId::CountCat),
        kt.array(densebin::grid::ArrayId::CountCat)
    );
}

#[test]
fn parquet_parts_are_row_groups_and_merge_into_the_whole() {
    let s = Scenario::new();
    let pq = fixture("points.parquet");
    s.ok(&with(&["bin", &pq, "-o", "whole.h5"]));
    let mut read = Vec::new();
    for i in 1..=4 {
        let (part, out) = (format!("{i}/4"), format!("p{i}.h5"));
        s.ok(&with(&["bin", &pq, "--part", &part, "-o", &out]));
        read.push(s.grid(&out).counters().points_read);
    }
    // Three row groups of 600, 600 and 300 rows, each in one part.
    let mut sorted = read.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 300, 600, 600], "{read:?}");
    s.ok(&["merge", "p1.h5", "p2.h5", "p3.h5", "p4.h5", "-o", "m.h5"]);
    let (m, whole) = (s.grid("m.h5"), s.grid("whole.h5"));
    assert_eq!(m.count(), whole.count());
    assert_eq!(m.zhist(), whole.zhist());
    assert_eq!(m.counters(), whole.counters());
}

#[test]
fn bad_parquet_files_and_columns_are_clear_errors() {
    let s = Scenario::new();
    let bytes = std::fs::read(fixture("points.parquet")).unwrap();
    // A truncated footer.
    s.write("cut.parquet", &bytes[..bytes.len() - 100]);
    let err = s.fails(&["bin", "cut.parquet", "-o", "x.h5"], 2);
    assert!(
        err.starts_with("densebin: cut.parquet: not a readable Parquet file:"),
        "{err}"
    );
    // A file that is not Parquet at all.
    s.write("text.parquet", "1 2 3\n");
    let err = s.fails(&["bin", "text.parquet", "-o", "x.h5"], 2);
    assert!(err.contains("not a readable Parquet file"), "{err}");
    // A text column as x, a missing column, and text from a stream.
    let pq = fixture("points.parquet");
    let err = s.fails(&["bin", &pq, "--x", "kind", "-o", "x.h5"], 2);
    assert!(
        err.contains(
            "column \"kind\" is BYTE_ARRAY (String), which is not a number; choose another with --x"
        ),
        "{err}"
    );
    let err = s.fails(&["bin", &pq, "--y", "lat", "-o", "x.h5"], 2);
    assert!(
        err.contains("no column \"lat\"") && err.contains("1=\"y\""),
        "{err}"
    );
    let err = s.fails(&["bin", "-", "--format", "parquet", "-o", "x.h5"], 2);
    assert!(err.contains("parquet input cannot be streamed"), "{err}");
    assert!(!s.path("x.h5").exists());
    // Damage inside a row group's data (past the first 4 bytes, before
    // the footer): an error or the same points, never a crash.
    let mut damaged = bytes.clone();
    for b in &mut damaged[2000..2400] {
        *b ^= 0x5A;
    }
    s.write("damaged.parquet", &damaged);
    let out = s.run(&[
        "bin",
        "damaged.parquet",
        "-o",
        "d.h5",
        "--x-range",
        "-3,3",
        "--y-range",
        "-3,3",
    ]);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(2),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
