//! The grid file: exact round trips, the documented layout, `info` and
//! `merge`.

use std::path::Path;

use densebin::store::{FORMAT_VERSION, read_grid, read_header, write_grid};

use crate::oracle::assert_grids_close;
use crate::scenario::{Scenario, text_lines};

fn sample() -> Vec<(f64, f64, f64)> {
    (0..2000)
        .map(|i| {
            let t = i as f64 * 0.013;
            let z = if i % 97 == 0 {
                f64::NAN
            } else {
                (3.0 * t).sin()
            };
            (t.cos() * t, t.sin() * (1.0 + t), z)
        })
        .collect()
}

#[test]
fn grids_round_trip_exactly() {
    let s = Scenario::new();
    s.write("p.txt", text_lines(&sample(), " "));
    s.ok(&[
        "bin",
        "p.txt",
        "-o",
        "a.h5",
        "--layers",
        "count,sum,minmax,std,zhist",
        "--z-bins",
        "7",
        "--width",
        "30",
        "--height",
        "20",
        "-q",
    ]);
    let g = s.grid("a.h5");
    assert!(g.has_distinct_count_z());
    write_grid(&g, &s.path("b.h5"), &densebin::RunContext::new()).unwrap();
    let back = read_grid(&s.path("b.h5")).unwrap();
    assert!(back == g, "read back differs");
    assert_eq!(back.inputs()[0].name, "p.txt");
    assert_eq!(
        back.inputs()[0].size,
        Some(std::fs::metadata(s.path("p.txt")).unwrap().len())
    );
}

#[test]
fn the_file_has_the_documented_layout() {
    let s = Scenario::new();
    s.write("p.txt", text_lines(&sample(), " "));
    s.ok(&[
        "bin", "p.txt", "-o", "g.h5", "--width", "30", "--height", "20", "--z-bins", "5", "-q",
    ]);
    let f = densebin::store::options().open(s.path("g.h5")).unwrap();
    let mut names = f.member_names().unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            "count", "count_z", "max_z", "min_z", "sum_z", "x", "y", "z_bin", "zhist"
        ]
    );
    assert_eq!(f.dataset("count").unwrap().shape(), [20, 30]);
    assert_eq!(f.dataset("zhist").unwrap().shape(), [5, 20, 30]);
    assert_eq!(f.dataset("x").unwrap().shape(), [30]);
    let count = f.dataset("count").unwrap();
    assert!(count.is_chunked());
    assert!(!count.filters().is_empty(), "compressed");
    for attr in [
        "format",
        "format_version",
        "densebin_version",
        "width",
        "height",
        "x_range",
        "y_range",
        "x_axis_type",
        "y_axis_type",
        "layers",
        "z_bins",
        "z_range",
        "points_read",
        "points_binned",
        "nonfinite_xy",
        "out_of_range",
        "nonfinite_z",
        "nonfinite_w",
        "z_clipped",
        "lines_ignored",
        "bad_lines",
        "input_name",
        "input_size",
        "input_mtime",
        "input_bad_lines",
    ] {
        assert!(f.attr(attr).is_ok(), "attribute {attr}");
    }
    // Dimension scales: every layer axis lists its scale.
    assert!(count.attr("DIMENSION_LIST").is_ok());
    assert_eq!(
        f.dataset("x")
            .unwrap()
            .attr("CLASS")
            .unwrap()
            .read_scalar::<hdf5::types::FixedAscii<16>>()
            .unwrap()
            .as_str(),
        "DIMENSION_SCALE"
    );
}

#[test]
fn merge_of_halves_equals_the_whole() {
    let pts = sample();
    let s = Scenario::new();
    s.write("all.txt", text_lines(&pts, " "));
    s.write("a.txt", text_lines(&pts[..700], " "));
    s.write("b.txt", text_lines(&pts[700..], " "));
    let canvas = [
        "--width",
        "25",
        "--height",
        "15",
        "--x-range",
        "-30,30",
        "--y-range",
        "-30,30",
        "--z-range",
        "-1,1",
        "-q",
    ];
    for (input, out) in [("all.txt", "all.h5"), ("a.txt", "a.h5"), ("b.txt", "b.h5")] {
        let mut args = vec!["bin", input, "-o", out];
        args.extend(canvas);
        s.ok(&args);
    }
    s.ok(&["merge", "a.h5", "b.h5", "-o", "m.h5", "-q"]);
    let (m, all) = (s.grid("m.h5"), s.grid("all.h5"));
    assert_grids_close(&m, &all, "merged halves");
    let names: Vec<_> = m.inputs().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["a.txt", "b.txt"]);

    // Grids of another canvas are refused, naming the file.
    s.ok(&["bin", "a.txt", "-o", "other.h5", "--width", "26", "-q"]);
    s.fails_with(
        &["merge", "a.h5", "other.h5", "-o", "bad.h5"],
        2,
        "other.h5: cannot merge grids: canvas 25x15",
    );
    assert!(!s.path("bad.h5").exists());
}

#[test]
fn info_describes_the_grid() {
    let s = Scenario::new();
    s.write("p.txt", "# c\n0 0 1\n1 1 2\n1 1 nan\n");
    s.ok(&[
        "bin", "p.txt", "-o", "g.h5", "--width", "2", "--height", "2", "-q",
    ]);
    let out = s.cmd().args(["info", "g.h5"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("canvas   2 x 2 pixels, x 0 .. 1, y 0 .. 1"),
        "{text}"
    );
    assert!(text.contains("3 read, 3 binned"), "{text}");
    assert!(
        text.contains("2 non-empty of 4, at most 2 points in one"),
        "{text}"
    );
    let out = s.cmd().args(["info", "g.h5", "--json"]).output().unwrap();
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(
        json.starts_with('{') && json.trim_end().ends_with('}'),
        "{json}"
    );
    assert!(json.contains("\"width\":2,\"height\":2"), "{json}");
    assert!(json.contains("\"points_read\":3"), "{json}");
    assert!(json.contains("\"nonfinite_z\":1"), "{json}");
    assert!(json.contains("\"lines_ignored\":1"), "{json}");
}

#[test]
fn files_that_are_not_grids() {
    let s = Scenario::new();
    s.write("text.h5", "hello");
    s.fails_with(&["info", "text.h5"], 2, "text.h5: not a readable HDF5 file");
    let f = densebin::store::options()
        .create(s.path("other.h5"))
        .unwrap();
    f.new_dataset::<u8>().shape(3).create("data").unwrap();
    drop(f);
    s.fails_with(&["info", "other.h5"], 2, "other.h5: not a densebin grid");
    s.fails_with(&["merge", "missing.h5", "-o", "m.h5"], 1, "missing.h5");
}

#[test]
fn future_format_versions_are_refused() {
    let s = Scenario::new();
    s.write("p.txt", "0 0 1\n1 1 2\n");
    s.ok(&["bin", "p.txt", "-o", "g.h5", "-q"]);
    {
        let f = densebin::store::options().open_rw(s.path("g.h5")).unwrap();
        f.attr("format_version")
            .unwrap()
            .write_scalar(&99u32)
            .unwrap();
    }
    s.fails_with(
        &["info", "g.h5"],
        2,
        &format!(
            "written in grid format version 99, but this densebin ({}) reads up to version {}: upgrade densebin",
            env!("CARGO_PKG_VERSION"),
            FORMAT_VERSION,
        ),
    );
}

/// Grid files that the `grid` fuzz target found to crash densebin (see
/// docs/errors.md, "Fuzzing"): they are errors now.
#[test]
fn fuzzed_grids_are_errors() {
    let s = Scenario::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fuzz/");
    for (file, message) in [
        // VarLenUnicode::as_str trusted the bytes; str methods panicked.
        ("format_not_utf8.h5", "attribute format is not valid UTF-8"),
        ("layers_not_utf8.h5", "attribute layers is not valid UTF-8"),
        // A width of 67108864: 3 x 67 M pixels of every layer were
        // allocated before the layers' shapes were checked.
        (
            "huge_width.h5",
            "layer count has shape [3, 4], expected [3, 67108864]",
        ),
    ] {
        let path = format!("{dir}{file}");
        for cmd in [&["info", &path][..], &["shade", &path, "-o", "x.png"]] {
            let err = s.fails(cmd, 2);
            assert!(err.contains(message), "{file}: {err}");
        }
    }
    assert!(s.files().is_empty());
}

/// The canvas of `tests/data/v1_grid.h5`.
const V1_CANVAS: [&str; 14] = [
    "--width",
    "12",
    "--height",
    "9",
    "--x-range=-5,5",
    "--y-range=-2,4",
    "--layers",
    "count,sum,minmax,std,zhist",
    "--z-bins",
    "6",
    "--z-range=-1.5,1.5",
    "-q",
    "--format",
    "text",
];

/// Format 1 grids (the earliest HDF5 file format, variable-length strings)
/// still read, as the same grid the same points bin to now.
/// `tests/data/v1_grid.h5` was written by densebin 0.1.0 at commit d8dbcbb:
/// `densebin bin - -o v1_grid.h5 <V1_CANVAS> < points.txt`.
#[test]
fn format_1_grids_still_read() {
    let s = Scenario::new();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let v1 = data.join("v1_grid.h5");
    assert_eq!(read_header(&v1).unwrap().format_version, 1);
    s.cmd()
        .args(["bin", "-", "-o", "now.h5"])
        .args(V1_CANVAS)
        .write_stdin(std::fs::read(data.join("points.txt")).unwrap())
        .assert()
        .success();
    assert_eq!(
        read_header(&s.path("now.h5")).unwrap().format_version,
        FORMAT_VERSION
    );
    let (old, now) = (read_grid(&v1).unwrap(), s.grid("now.h5"));
    assert!(old.count().sum() > 0);
    assert_eq!(old.spec(), now.spec());
    assert_eq!(old.counters(), now.counters());
    assert!(
        old.layers()
            .map(|(a, v)| (a.id, v))
            .eq(now.layers().map(|(a, v)| (a.id, v))),
        "the format 1 grid reads differently"
    );
    // Format 1 kept no input formats; the rest of the inputs' account reads.
    let no_format: Vec<_> = now
        .inputs()
        .iter()
        .map(|i| densebin::grid::InputInfo {
            format: String::new(),
            ..i.clone()
        })
        .collect();
    assert_eq!(old.inputs(), no_format);
    assert_eq!(now.inputs()[0].format, "text");
    // info says how to rewrite it as format 2, and that works.
    let v1 = v1.to_str().unwrap();
    let out = s.cmd().args(["info", v1]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "`densebin merge {v1} -o NEW.h5` rewrites it as format 2"
        )),
        "{text}"
    );
    s.ok(&["merge", v1, "-o", "new.h5", "-q"]);
    assert_eq!(
        read_header(&s.path("new.h5")).unwrap().format_version,
        FORMAT_VERSION
    );
    assert!(s.grid("new.h5") == old, "the rewritten grid differs");
    let text =
        String::from_utf8(s.cmd().args(["info", "new.h5"]).output().unwrap().stdout).unwrap();
    assert!(!text.contains("no checksums"), "{text}");
}

/// Any single changed byte in a grid file either leaves the grid reading
/// exactly as before or is an error: never a crash, a hang or different
/// values. The HDF5 1.10 file format checksums all metadata, and deflate
/// streams carry an Adler-32. The earliest format, which format 1 used,
/// fails this test (docs/errors.md, "Damaged grid files").
#[test]
fn any_damaged_byte_is_an_error_or_harmless() {
    let s = Scenario::new();
    s.write("p.txt", text_lines(&sample()[..200], " "));
    s.ok(&[
        "bin",
        "p.txt",
        "-o",
        "g.h5",
        "--width",
        "3",
        "--height",
        "2",
        "--layers",
        "count,sum,minmax,std,zhist",
        "--z-bins",
        "2",
        "-q",
    ]);
    use std::os::unix::fs::FileExt;
    let path = s.path("g.h5");
    let bytes = std::fs::read(&path).unwrap();
    let want = s.grid("g.h5");
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    // One thread: waking rayon's pool for every read took most of the time.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut errors = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        file.write_at(&[byte ^ 0x5a], at as u64).unwrap();
        match one.install(|| read_grid(&path)) {
            Ok(got) => assert!(got == want, "byte {at}: the grid reads differently"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&*path.to_string_lossy()) && !msg.contains('\n'),
                    "byte {at}: {msg}"
                );
                errors += 1;
            }
        }
        file.write_at(&[byte], at as u64).unwrap();
    }
    // The metadata and the chunks are a good part of the file.
    assert!(
        errors * 4 > bytes.len(),
        "{errors} errors of {}",
        bytes.len()
    );
}
