//! Bad input gets one clear line naming the file (and line and column), a
//! non-zero exit, and nothing under the output name.

use crate::scenario::{Scenario, npy};

/// Asserts that a failed run left no grid and no temporary file behind.
fn assert_nothing_written(s: &Scenario, inputs: &[&str]) {
    let files = s.files();
    let extra: Vec<_> = files
        .iter()
        .filter(|f| !inputs.contains(&f.as_str()))
        .collect();
    assert!(extra.is_empty(), "left behind: {extra:?}");
}

#[test]
fn malformed_number_names_file_line_and_column() {
    let s = Scenario::new();
    s.write("data.txt", "1 2 3\n4 5 6\n7 1.2.3 9\n");
    let err = s.fails(&["bin", "data.txt", "-o", "g.h5"], 2);
    assert!(
        err.ends_with("data.txt:3:3: expected a number, found \"1.2.3\""),
        "{err}"
    );
    assert_nothing_written(&s, &["data.txt"]);
}

#[test]
fn the_first_bad_line_is_reported_whatever_the_threads() {
    let s = Scenario::new();
    let mut text = String::new();
    for i in 0..40_000 {
        text += &match i {
            25_000 => "1 x 1\n".to_string(),
            39_000 => "bad 1 1\n".to_string(),
            _ => format!("{i} 1 1\n"),
        };
    }
    s.write("big.txt", text);
    for threads in ["1", "2", "8"] {
        let err = s.fails(
            &[
                "bin",
                "big.txt",
                "-o",
                "g.h5",
                "--x-range",
                "0,1",
                "--y-range",
                "0,1",
                "--layers",
                "count",
                "--threads",
                threads,
            ],
            2,
        );
        assert!(
            err.ends_with("big.txt:25001:3: expected a number, found \"x\""),
            "{threads}: {err}"
        );
    }
}

#[test]
fn short_and_long_lines() {
    let s = Scenario::new();
    s.write("short.txt", "1 2 3\n4 5\n");
    let err = s.fails(&["bin", "short.txt", "-o", "g.h5"], 2);
    assert!(
        err.ends_with("short.txt:2:4: expected 3 columns, found 2"),
        "{err}"
    );
    s.write("long.csv", "x,y,z\n1,2,3\n4,5,6,7\n");
    let err = s.fails(&["bin", "long.csv", "-o", "g.h5"], 2);
    assert!(
        err.ends_with("long.csv:3:7: expected 3 columns, found 4"),
        "{err}"
    );
    s.write("quote.csv", "1,2,3\n1,\"2,3\n");
    let err = s.fails(&["bin", "quote.csv", "-o", "g.h5"], 2);
    assert!(
        err.contains("quote.csv:2:3: malformed quoted field"),
        "{err}"
    );
}

#[test]
fn binary_sizes_and_npy_problems() {
    let s = Scenario::new();
    s.write("odd.f32", vec![0u8; 12 * 3 + 5]);
    let err = s.fails(&["bin", "odd.f32", "-o", "g.h5"], 2);
    assert!(
        err.contains("odd.f32: 41 bytes is not a whole number of 12-byte records"),
        "{err}"
    );
    s.write("empty.f64", b"");
    let err = s.fails(&["bin", "empty.f64", "-o", "g.h5"], 2);
    assert!(err.contains("empty.f64: no records"), "{err}");

    s.write("int.npy", npy("'<i4'", "(2, 3)", &[0u8; 24]));
    let err = s.fails(&["bin", "int.npy", "-o", "g.h5"], 2);
    assert!(err.contains("int.npy: unsupported dtype \"<i4\""), "{err}");
    s.write("flat.npy", npy("'<f4'", "(6,)", &[0u8; 24]));
    let err = s.fails(&["bin", "flat.npy", "-o", "g.h5"], 2);
    assert!(err.contains("expected a 2-D (N, k) array"), "{err}");
    s.write("cut.npy", npy("'<f4'", "(10, 3)", &[0u8; 24]));
    let err = s.fails(&["bin", "cut.npy", "-o", "g.h5"], 2);
    assert!(err.contains("cut.npy: truncated"), "{err}");
    s.write("junk.npy", b"not numpy at all");
    let err = s.fails(&["bin", "junk.npy", "-o", "g.h5"], 2);
    assert!(err.contains("junk.npy: not an .npy file"), "{err}");
    let mut fortran = npy("'<f4'", "(2, 3)", &[0u8; 24]);
    let at = fortran.windows(5).position(|w| w == b"False").unwrap();
    fortran[at..at + 5].copy_from_slice(b"True ");
    s.write("f.npy", fortran);
    let err = s.fails(&["bin", "f.npy", "-o", "g.h5"], 2);
    assert!(err.contains("Fortran-order"), "{err}");
}

#[test]
fn broken_binary_streams() {
    let s = Scenario::new();
    let args = [
        "bin",
        "-",
        "-o",
        "g.h5",
        "--format",
        "f32",
        "--x-range",
        "0,1",
        "--y-range",
        "0,1",
        "--layers",
        "count",
    ];
    let out = s
        .cmd()
        .args(args)
        .write_stdin(vec![0u8; 12 * 4 + 2])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("-: 50 bytes is not a whole number of 12-byte records (3 fields of 4 bytes)"),
        "{err}"
    );
    let out = s.cmd().args(args).write_stdin(Vec::new()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-: no records: the stream is empty"), "{err}");
    assert!(s.files().is_empty());
}

#[test]
fn empty_inputs() {
    let s = Scenario::new();
    s.write("empty.txt", "");
    let err = s.fails(&["bin", "empty.txt", "-o", "g.h5"], 2);
    assert!(err.contains("empty.txt: no data"), "{err}");
    s.write("header.csv", "x,y,z\n");
    let err = s.fails(&["bin", "header.csv", "-o", "g.h5"], 2);
    assert!(
        err.contains("header.csv: no data: the input has only a header line"),
        "{err}"
    );
    s.write("nan.txt", "nan 1 1\ninf 2 2\n");
    let err = s.fails(&["bin", "nan.txt", "-o", "g.h5"], 2);
    assert!(err.contains("no point has a finite x"), "{err}");
    assert_nothing_written(&s, &["empty.txt", "header.csv", "nan.txt"]);
}

#[test]
fn missing_columns() {
    let s = Scenario::new();
    s.write("p.csv", "lon,lat\n1,2\n");
    let err = s.fails(&["bin", "p.csv", "-o", "g.h5", "--x", "longitude"], 2);
    assert!(
        err.contains("p.csv: no column \"longitude\"; it has 2 columns: 0=\"lon\", 1=\"lat\""),
        "{err}"
    );
    let err = s.fails(&["bin", "p.csv", "-o", "g.h5", "--z", "5"], 2);
    assert!(err.contains("no column 5"), "{err}");
    s.write("p.txt", "1 2\n");
    let err = s.fails(&["bin", "p.txt", "-o", "g.h5", "--x", "lon"], 2);
    assert!(err.contains("no header line"), "{err}");
}

#[test]
fn unreadable_input_and_unwritable_output() {
    let s = Scenario::new();
    let err = s.fails(&["bin", "missing.txt", "-o", "g.h5"], 1);
    assert!(err.contains("missing.txt: No such file"), "{err}");
    s.write("p.txt", "1 2 3\n");
    let err = s.fails(&["bin", "p.txt", "-o", "no/such/dir/g.h5"], 1);
    assert!(err.contains("no/such/dir"), "{err}");
    let err = s.fails(&["bin", ".", "-o", "g.h5"], 1);
    assert!(err.contains("directory"), "{err}");
}

#[test]
fn a_failed_run_keeps_the_existing_output() {
    let s = Scenario::new();
    s.write("good.txt", "1 2 3\n2 3 4\n");
    s.ok(&["bin", "good.txt", "-o", "g.h5", "-q"]);
    let before = std::fs::read(s.path("g.h5")).unwrap();
    s.write("bad.txt", "1 2 3\nx 3 4\n");
    s.fails(&["bin", "bad.txt", "-o", "g.h5"], 2);
    assert_eq!(std::fs::read(s.path("g.h5")).unwrap(), before);
    assert_nothing_written(&s, &["good.txt", "bad.txt", "g.h5"]);
}

#[test]
fn requests_that_cannot_work() {
    let s = Scenario::new();
    s.write("p.txt", "1 2 3\n2 3 4\n");
    let err = s.fails(&["bin", "p.txt", "-o", "g.h5", "--max-memory", "1K"], 2);
    assert!(
        err.contains("needs") && err.contains("--z-bins") && err.contains("--width/--height"),
        "{err}"
    );
    let err = s.fails(&["bin", "p.txt", "-o", "g.h5", "--width", "0"], 2);
    assert!(err.contains("at least 1"), "{err}");
    let err = s.fails(
        &["bin", "p.txt", "-o", "g.h5", "--layers", "count,median"],
        2,
    );
    assert!(err.contains("unknown layer \"median\""), "{err}");
    let err = s.fails(&["bin", "p.txt", "-o", "g.h5", "--x-range", "5,1"], 2);
    assert!(err.contains("inverted"), "{err}");
    let out = s
        .cmd()
        .args(["bin", "-", "-o", "g.h5"])
        .write_stdin("1 2 3\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("give --x-range and --y-range and --z-range")
    );
    assert_nothing_written(&s, &["p.txt"]);
}
