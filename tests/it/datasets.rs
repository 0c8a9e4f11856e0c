//! HDF5 datasets as input: 1-D datasets (contiguous, and chunked with
//! shuffle and deflate), a 2-D `(N, k)` dataset, a compound dataset with
//! integer and float fields — written here by libhdf5 as h5py writes them
//! (the Python tests use h5py itself) — bin to the grid of the same
//! points as text, for any thread count and by parts; columns by path or
//! last components and the names x, y, z; `convert` reads them; bad files
//! and columns are one-line errors.

use crate::scenario::{Scenario, text_lines};

const N: usize = 5000;

/// Points on the canvas and off it, some with NaN.
fn points() -> Vec<(f64, f64, f64)> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..N)
        .map(|i| {
            let x = next() * 7.0 - 3.5;
            let y = if i % 97 == 0 {
                f64::NAN
            } else {
                next() * 7.0 - 3.5
            };
            (x, y, next() * 100.0)
        })
        .collect()
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
    "0,100",
];

fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
    [args, &CANVAS[..]].concat()
}

fn column(p: &[(f64, f64, f64)], k: usize) -> Vec<f64> {
    p.iter().map(|&(x, y, z)| [x, y, z][k]).collect()
}

/// Writes the fixtures: `flat.h5` (`/x`, `/y`, `/z` contiguous, z as
/// f32), `chunked.h5` (`/particles/{x,y,z}`, chunked, shuffle+deflate,
/// and a shorter `/particles/mass` and an image that are no columns),
/// `pos.h5` (`/pos`, (N, 3) chunked) and `table.h5` (`/cat`, compound of
/// `id` i32, `x`, `y`, `z` f64 and `class` u8).
fn write_fixtures(s: &Scenario, p: &[(f64, f64, f64)]) {
    let (x, y, z) = (column(p, 0), column(p, 1), column(p, 2));
    let f = hdf5::File::create(s.path("flat.h5")).unwrap();
    f.new_dataset_builder().with_data(&x).create("x").unwrap();
    f.new_dataset_builder().with_data(&y).create("y").unwrap();
    let z32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
    f.new_dataset_builder().with_data(&z32).create("z").unwrap();
    drop(f);

    let f = hdf5::File::create(s.path("chunked.h5")).unwrap();
    let g = f.create_group("particles").unwrap();
    for (name, v) in [("x", &x), ("y", &y), ("z", &z)] {
        g.new_dataset_builder()
            .chunk(700)
            .shuffle()
            .deflate(4)
            .with_data(v.as_slice())
            .create(name)
            .unwrap();
    }
    g.new_dataset_builder()
        .with_data(&[1.0f64, 2.0, 3.0])
        .create("mass")
        .unwrap();
    let image = ndarray::Array2::<u8>::zeros((4, 2000));
    f.new_dataset_builder()
        .with_data(&image)
        .create("image")
        .unwrap();
    drop(f);

    let f = hdf5::File::create(s.path("pos.h5")).unwrap();
    let pos = ndarray::Array2::from_shape_fn((N, 3), |(i, k)| [x[i], y[i], z[i]][k]);
    f.new_dataset_builder()
        .chunk((1024, 3))
        .deflate(1)
        .with_data(&pos)
        .create("pos")
        .unwrap();
    drop(f);

    let rows: Vec<Row> = (0..N)
        .map(|i| Row {
            id: i as i32 * 7,
            x: x[i],
            y: y[i],
            z: z[i],
            class: class(i),
        })
        .collect();
    let f = hdf5::File::create(s.path("table.h5")).unwrap();
    f.new_dataset_builder()
        .chunk(1000)
        .with_data(&rows)
        .create("cat")
        .unwrap();
}

/// A row of the compound dataset.
#[derive(hdf5::H5Type, Clone, Copy)]
#[repr(C)]
struct Row {
    id: i32,
    x: f64,
    y: f64,
    z: f64,
    class: u8,
}

fn class(i: usize) -> u8 {
    [2u8, 6, 9][i % 3]
}

#[test]
fn hdf5_datasets_bin_as_the_same_points_as_text() {
    let s = Scenario::new();
    let p = points();
    write_fixtures(&s, &p);
    s.write("p.txt", text_lines(&p, " "));
    s.ok(&with(&["bin", "p.txt", "-o", "t.h5"]));
    let text = s.grid("t.h5");
    assert!(text.counters().nonfinite_xy > 0);
    let cases: [&[&str]; 6] = [
        &["bin", "chunked.h5"],
        &["bin", "pos.h5"],
        &["bin", "table.h5"],
        &["bin", "pos.h5", "--x", "pos/0", "--y", "1", "--z", "/pos/2"],
        &[
            "bin", "table.h5", "--x", "/cat/x", "--y", "cat/y", "--z", "Z",
        ],
        &["bin", "chunked.h5", "--format", "hdf5"],
    ];
    for case in cases {
        for threads in ["1", "3"] {
            s.ok(&with(
                &[case, &["-o", "h.h5", "--threads", threads]].concat(),
            ));
            let h = s.grid("h.h5");
            assert_eq!(h.count(), text.count(), "{case:?}");
            assert_eq!(h.zhist(), text.zhist(), "{case:?}");
            assert_eq!(h.min_z(), text.min_z(), "{case:?}");
            assert_eq!(h.counters(), text.counters(), "{case:?}");
            for (a, b) in h.sum_z().unwrap().iter().zip(text.sum_z().unwrap()) {
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
    }
    // z stored as f32: the same counts, z as f32 values.
    s.ok(&with(&["bin", "flat.h5", "-o", "f.h5"]));
    let f = s.grid("f.h5");
    assert_eq!(f.count(), text.count());
    // `info` names the input's format.
    let info = String::from_utf8(s.run(&["info", "h.h5"]).stdout).unwrap();
    assert!(info.contains("input    chunked.h5 (hdf5, "), "{info}");
    // `convert` reads HDF5 too.
    s.ok(&["convert", "table.h5", "-o", "c.npy", "--dtype", "f64"]);
    s.ok(&with(&["bin", "c.npy", "-o", "c.h5"]));
    assert_eq!(s.grid("c.h5").count(), text.count());
    // Ranges from the data, as for text.
    s.ok(&["bin", "chunked.h5", "-o", "r.h5", "--layers", "count"]);
    s.ok(&["bin", "p.txt", "-o", "rt.h5", "--layers", "count"]);
    assert_eq!(s.grid("r.h5").spec(), s.grid("rt.h5").spec());
    assert_eq!(s.grid("r.h5").count(), s.grid("rt.h5").count());
}

#[test]
fn hdf5_integer_fields_are_categories() {
    let s = Scenario::new();
    let p = points();
    write_fixtures(&s, &p);
    s.ok(&with(&["bin", "table.h5", "--by", "class", "-o", "c.h5"]));
    let g = s.grid("c.h5");
    assert_eq!(g.spec().categories().unwrap().names(), ["2", "6", "9"]);
    // The same points with their classes as a text column.
    let lines: String = p
        .iter()
        .enumerate()
        .map(|(i, &(x, y, z))| format!("{x:?} {y:?} {z:?} {}\n", class(i)))
        .collect();
    s.write("c.txt", lines);
    s.ok(&with(&["bin", "c.txt", "--by", "3", "-o", "ct.h5"]));
    let ct = s.grid("ct.h5");
    assert_eq!(
        g.array(densebin::grid::ArrayId::CountCat),
        ct.array(densebin::grid::ArrayId::CountCat)
    );
    let err = s.fails(&with(&["bin", "table.h5", "--by", "x", "-o", "e.h5"]), 2);
    assert!(
        err.contains("column \"/cat/x\" is float64, not integers"),
        "{err}"
    );
}

#[test]
fn hdf5_parts_merge_into_the_whole() {
    let s = Scenario::new();
    write_fixtures(&s, &points());
    for file in ["chunked.h5", "table.h5", "flat.h5"] {
        s.ok(&with(&["bin", file, "-o", "whole.h5"]));
        let mut parts = Vec::new();
        for i in 1..=3 {
            let (part, out) = (format!("{i}/3"), format!("p{i}.h5"));
            s.ok(&with(&["bin", file, "--part", &part, "-o", &out]));
            parts.push(out);
        }
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(String::as_str));
        args.extend(["-o", "m.h5"]);
        s.ok(&args);
        let (m, whole) = (s.grid("m.h5"), s.grid("whole.h5"));
        assert_eq!(m.count(), whole.count(), "{file}");
        assert_eq!(m.zhist(), whole.zhist(), "{file}");
        assert_eq!(m.counters(), whole.counters(), "{file}");
    }
}

#[test]
fn bad_hdf5_files_and_columns_are_clear_errors() {
    let s = Scenario::new();
    write_fixtures(&s, &points());
    let fail = |args: &[&str]| s.fails(&with(&[&["bin"][..], args, &["-o", "x.h5"]].concat()), 2);
    // A missing dataset path, with the columns there are.
    let err = fail(&["chunked.h5", "--x", "/particles/w"]);
    assert!(
        err.contains("no column \"/particles/w\"") && err.contains("\"/particles/x\""),
        "{err}"
    );
    // Columns of different lengths.
    let err = fail(&["chunked.h5", "--y", "mass"]);
    assert!(
        err.contains(
            "column \"/particles/mass\" has 3 rows but column \"/particles/x\" (x) has 5000"
        ),
        "{err}"
    );
    // A name that fits several columns.
    s.ok(&["bin", "table.h5", "-o", "ok.h5", "--layers", "count"]);
    let f = hdf5::File::open_rw(s.path("table.h5")).unwrap();
    f.new_dataset_builder()
        .with_data(&[0.0f64; 3])
        .create("x")
        .unwrap();
    drop(f);
    let err = fail(&["table.h5", "--x", "x", "--y", "cat/y"]);
    assert!(err.contains("\"x\" names several columns"), "{err}");
    // A file with no table of points, a truncated file, a grid.
    let f = hdf5::File::create(s.path("empty.h5")).unwrap();
    f.create_group("g").unwrap();
    drop(f);
    let err = fail(&["empty.h5"]);
    assert!(
        err.contains("empty.h5: the file holds no dataset of points"),
        "{err}"
    );
    let bytes = std::fs::read(s.path("chunked.h5")).unwrap();
    s.write("cut.h5", &bytes[..bytes.len() / 2]);
    let err = fail(&["cut.h5"]);
    assert!(
        err.starts_with("densebin: cut.h5: not a readable HDF5 file") && err.lines().count() == 1,
        "{err}"
    );
    let err = fail(&["ok.h5"]);
    assert!(err.contains("ok.h5: this is a densebin grid"), "{err}");
    let err = s.fails(&["bin", "-", "--format", "hdf5", "-o", "x.h5"], 2);
    assert!(err.contains("hdf5 input cannot be streamed"), "{err}");
    assert!(!s.path("x.h5").exists());
}
