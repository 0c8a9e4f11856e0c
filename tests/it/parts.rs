//! `densebin bin --part I/N`: the grids of all N parts, merged, are the
//! grid of the whole — for text with and without a header, raw f32, .npy
//! and several files at once, with part boundaries inside lines and
//! records — and the errors of binning in parts.

use crate::oracle::assert_grids_close;
use crate::scenario::{Scenario, fixture};

const CANVAS: [&str; 12] = [
    "--width",
    "20",
    "--height",
    "12",
    "--x-range=-5,5",
    "--y-range=-2,4",
    "--z-range=-1.5,1.5",
    "--z-bins",
    "6",
    "--layers",
    "count,sum,minmax,std,zhist",
    "-q",
];

/// Bins `files` whole and in `n` parts, merges the parts, and compares.
fn check(files: &[&str], extra: &[&str], n: usize) {
    let s = Scenario::new();
    let paths: Vec<String> = files.iter().map(|f| fixture(f)).collect();
    let mut args: Vec<&str> = vec!["bin"];
    args.extend(paths.iter().map(String::as_str));
    args.extend(["-o", "whole.h5"]);
    args.extend(CANVAS);
    args.extend(extra);
    s.ok(&args);
    let mut merge = vec!["merge".to_string()];
    for i in 1..=n {
        let (part, out) = (format!("{i}/{n}"), format!("part{i}.h5"));
        let mut a = args.clone();
        a[1 + paths.len() + 1] = &out;
        a.extend(["--part", &part]);
        s.ok(&a);
        merge.push(out);
    }
    merge.extend(["-o".to_string(), "merged.h5".to_string(), "-q".to_string()]);
    s.ok(&merge.iter().map(String::as_str).collect::<Vec<_>>());
    let (whole, merged) = (s.grid("whole.h5"), s.grid("merged.h5"));
    let what = format!("{files:?} in {n} parts");
    assert_grids_close(&whole, &merged, &what);
    assert!(whole.counters().points_binned > 250, "{what}");
}

#[test]
fn all_parts_merged_are_the_whole() {
    // 7 and 16 parts of files of a few kB cut inside lines and records.
    for n in [2, 7, 16] {
        check(&["points.txt"], &[], n);
        check(&["points.csv"], &["--x", "x", "--y", "y", "--z", "z"], n);
        check(&["points.f32"], &[], n);
        check(&["points_f4.npy"], &[], n);
        check(
            &["structured.npy"],
            &["--x", "lon", "--y", "lat", "--z", "depth"],
            n,
        );
        check(&["points.txt", "points.f32", "points_f4.npy"], &[], n);
    }
}

#[test]
fn more_parts_than_lines_are_mostly_empty_and_still_merge() {
    let s = Scenario::new();
    s.write("tiny.txt", "1 1 0\n-2 2 1\n3 -1 0.5\n");
    let fixed = ["--x-range=-5,5", "--y-range=-2,4", "--z-range=-1,1", "-q"];
    let mut whole = vec!["bin", "tiny.txt", "-o", "whole.h5"];
    whole.extend(fixed);
    s.ok(&whole);
    let n = 40;
    let mut merge = vec!["merge".to_string()];
    for i in 1..=n {
        let (part, out) = (format!("{i}/{n}"), format!("p{i}.h5"));
        let mut a = vec!["bin", "tiny.txt", "-o", &out, "--part", &part];
        a.extend(fixed);
        s.ok(&a);
        merge.push(out);
    }
    merge.extend(["-o".to_string(), "merged.h5".to_string(), "-q".to_string()]);
    s.ok(&merge.iter().map(String::as_str).collect::<Vec<_>>());
    assert_grids_close(
        &s.grid("whole.h5"),
        &s.grid("merged.h5"),
        "40 parts of 3 lines",
    );
    assert_eq!(s.grid("merged.h5").counters().points_binned, 3);
}

#[test]
fn parts_need_a_fixed_canvas_and_say_where_a_bad_line_is() {
    let s = Scenario::new();
    let txt = fixture("points.txt");
    s.fails_with(
        &["bin", &txt, "-o", "g.h5", "--part", "1/2"],
        2,
        "binning in parts (--part) needs --x-range and --y-range and --z-range",
    );
    let fixed = ["--x-range=0,1", "--y-range=0,1", "--layers", "count"];
    let mut args = vec!["bin", txt.as_str(), "-o", "g.h5", "--part", "3/2"];
    args.extend(fixed);
    s.fails_with(
        &args,
        2,
        "part 3/2 does not exist: parts are numbered 1 to N",
    );
    let mut args = vec!["bin", "-", "-o", "g.h5", "--part", "1/2"];
    args.extend(fixed);
    s.fails_with(&args, 2, "standard input cannot be read in parts");
    // A malformed line in the last part is reported at its line in the file.
    let mut text: String = (0..500).map(|i| format!("{i} {i}\n")).collect();
    text += "1 2\n3 x\n";
    let bad = s.write("bad.txt", text);
    let bad = bad.to_string_lossy();
    let mut args = vec!["bin", &bad, "-o", "g.h5", "--part", "4/4"];
    args.extend(fixed);
    s.fails_with(&args, 2, "bad.txt:502:3");
    assert!(!s.files().contains(&"g.h5".to_string()), "nothing written");
}
