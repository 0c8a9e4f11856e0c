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
    s.fails_with(
        &["bin", "data.txt", "-o", "g.h5"],
        2,
        "data.txt:3:3: expected a number, found \"1.2.3\"",
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
            err.ends_with(
                "big.txt:25001:3: expected a number, found \"x\"; fix the line, or skip such \
                 lines with --skip-bad-lines"
            ),
            "{threads}: {err}"
        );
    }
}

#[test]
fn short_and_long_lines() {
    let s = Scenario::new();
    s.write("short.txt", "1 2 3\n4 5\n");
    s.fails_with(
        &["bin", "short.txt", "-o", "g.h5"],
        2,
        "short.txt:2:4: expected 3 columns, found 2",
    );
    s.write("long.csv", "x,y,z\n1,2,3\n4,5,6,7\n");
    s.fails_with(
        &["bin", "long.csv", "-o", "g.h5"],
        2,
        "long.csv:3:7: expected 3 columns, found 4",
    );
    s.write("quote.csv", "1,2,3\n1,\"2,3\n");
    let err = s.fails(&["bin", "quote.csv", "-o", "g.h5"], 2);
    assert!(
        err.contains("quote.csv:2:3: malformed quoted field")
            && err.contains("; fix the line, or skip such lines with --skip-bad-lines"),
        "{err}"
    );
    // The first line sets the columns: --skip-bad-lines cannot skip it, and
    // the message does not offer it.
    s.write("first.csv", "1,\"2,3\n4,5,6\n");
    let err = s.fails(&["bin", "first.csv", "-o", "g.h5", "--skip-bad-lines"], 2);
    assert!(
        err.contains("first.csv:1:3: malformed quoted field")
            && err.contains("; fix the line (the first line sets the columns")
            && !err.contains("--skip-bad-lines"),
        "{err}"
    );
}

#[test]
fn binary_sizes_and_npy_problems() {
    let mut fortran = npy("'<f4'", "(2, 3)", &[0u8; 24]);
    let at = fortran.windows(5).position(|w| w == b"False").unwrap();
    fortran[at..at + 5].copy_from_slice(b"True ");
    let cases: [(&str, Vec<u8>, &str); 10] = [
        (
            "odd.f32",
            vec![0; 12 * 3 + 5],
            "odd.f32: 41 bytes is not a whole number of 12-byte records",
        ),
        ("empty.f64", vec![], "empty.f64: no records"),
        (
            "int.npy",
            npy("'<i4'", "(2, 3)", &[0; 24]),
            "int.npy: unsupported dtype \"<i4\"",
        ),
        (
            "int.npy",
            npy("'<i4'", "(2, 3)", &[0; 24]),
            "can be binned; save arr.astype(\"f8\") instead",
        ),
        (
            "flat.npy",
            npy("'<f4'", "(6,)", &[0; 24]),
            "expected a 2-D (N, k) array of points, found shape [6]; save the columns to bin \
             as a float (N, k) array",
        ),
        (
            "cut.npy",
            npy("'<f4'", "(10, 3)", &[0; 24]),
            "cut.npy: truncated",
        ),
        (
            "cut.npy",
            npy("'<f4'", "(10, 3)", &[0; 24]),
            "; save the array again with numpy's np.save",
        ),
        (
            "junk.npy",
            b"not numpy at all".to_vec(),
            "junk.npy: not an .npy file",
        ),
        (
            "junk.npy",
            b"not numpy at all".to_vec(),
            "\\x93NUMPY is missing; check --format",
        ),
        ("f.npy", fortran, "Fortran-order"),
    ];
    let s = Scenario::new();
    for (name, contents, message) in cases {
        s.write(name, contents);
        s.fails_with(&["bin", name, "-o", "g.h5"], 2, message);
    }
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
    s.fails_with(&["bin", "empty.txt", "-o", "g.h5"], 2, "empty.txt: no data");
    s.write("header.csv", "x,y,z\n");
    s.fails_with(
        &["bin", "header.csv", "-o", "g.h5"],
        2,
        "header.csv: no data: the input has only a header line",
    );
    s.write("nan.txt", "nan 1 1\ninf 2 2\n");
    s.fails_with(
        &["bin", "nan.txt", "-o", "g.h5"],
        2,
        "no point has a finite x",
    );
    assert_nothing_written(&s, &["empty.txt", "header.csv", "nan.txt"]);
}

#[test]
fn missing_columns() {
    let s = Scenario::new();
    s.write("p.csv", "lon,lat\n1,2\n");
    s.fails_with(
        &["bin", "p.csv", "-o", "g.h5", "--x", "longitude"],
        2,
        "p.csv: no column \"longitude\"; it has 2 columns: 0=\"lon\", 1=\"lat\"; choose one with --x",
    );
    s.fails_with(
        &["bin", "p.csv", "-o", "g.h5", "--z", "5"],
        2,
        "no column 5",
    );
    s.fails_with(
        &["bin", "p.csv", "-o", "g.h5", "--weight", "w"],
        2,
        "; choose one with --weight",
    );
    s.write("rec.f32", vec![0u8; 24]);
    s.fails_with(
        &["bin", "rec.f32", "-o", "g.h5", "--z", "3"],
        2,
        "rec.f32: no column 3; it has 3 columns (0 to 2) and raw binary records have no names: \
         use 0-based indices; choose one with --z, or check --fields",
    );
    s.write("p.txt", "1 2\n");
    s.fails_with(
        &["bin", "p.txt", "-o", "g.h5", "--x", "lon"],
        2,
        "no header line",
    );
}

#[test]
fn unreadable_input_and_unwritable_output() {
    let s = Scenario::new();
    s.fails_with(
        &["bin", "missing.txt", "-o", "g.h5"],
        1,
        "missing.txt: No such file",
    );
    s.write("p.txt", "1 2 3\n");
    s.fails_with(
        &["bin", "p.txt", "-o", "no/such/dir/g.h5"],
        1,
        "no/such/dir",
    );
    s.fails_with(&["bin", ".", "-o", "g.h5"], 1, "directory");
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
    for part in [
        "needs",
        "is available; lower --z-bins",
        "--width/--height",
        "--layers",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    s.fails_with(
        &["bin", "p.txt", "-o", "g.h5", "--width", "0"],
        2,
        "at least 1",
    );
    let err = s.fails(
        &["bin", "p.txt", "-o", "g.h5", "--layers", "count,median"],
        2,
    );
    assert!(err.contains("unknown layer \"median\""), "{err}");
    s.fails_with(
        &["bin", "p.txt", "-o", "g.h5", "--x-range", "5,1"],
        2,
        "inverted",
    );
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

#[test]
fn signals_stop_the_run_and_leave_nothing() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let block: Vec<u8> = (0..50_000)
        .flat_map(|i| format!("{}.5 0.25 0.75\n", i % 2).into_bytes())
        .collect();
    for (name, number, code) in [("INT", 2, 130), ("TERM", 15, 143)] {
        let s = Scenario::new();
        s.write("g.h5", "the previous output");
        let mut attempts = 0;
        let (status, stderr) = loop {
            attempts += 1;
            let mut child = Command::new(env!("CARGO_BIN_EXE_densebin"))
                .current_dir(s.path(""))
                .args([
                    "bin",
                    "-",
                    "-o",
                    "g.h5",
                    "--x-range=0,2",
                    "--y-range=0,1",
                    "--z-range=0,1",
                ])
                .stdin(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start densebin");
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(&block).expect("feed");
            // Mid-run: densebin is waiting for more of standard input.
            std::thread::sleep(Duration::from_millis(300));
            let kill = Command::new("kill")
                .args(["-s", name, &child.id().to_string()])
                .status()
                .expect("kill");
            assert!(kill.success());
            // Keep feeding until densebin stops reading.
            let start = Instant::now();
            while child.try_wait().expect("wait").is_none() {
                assert!(start.elapsed() < Duration::from_secs(20), "still running");
                if stdin.write_all(&block).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(stdin);
            let out = child.wait_with_output().expect("densebin's output");
            // Killed by the signal itself: it came before densebin set its
            // handlers up (a loaded machine); try again.
            if out.status.signal() == Some(number) && attempts < 5 {
                continue;
            }
            break (
                out.status,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        };
        assert_eq!(status.code(), Some(code), "SIG{name}: {stderr}");
        assert_eq!(
            stderr, "densebin: interrupted; nothing was written\n",
            "SIG{name}"
        );
        assert_eq!(
            std::fs::read_to_string(s.path("g.h5")).unwrap(),
            "the previous output",
            "SIG{name}"
        );
        assert_nothing_written(&s, &["g.h5"]);
    }
}

#[test]
fn inputs_that_change_during_the_run() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    let lines = |n: usize| -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("{}.5 0.25 0.75\n", i % 2).into_bytes())
            .collect()
    };
    // Standard input comes first and is held open, so that densebin has
    // opened (and mapped) b.txt but not read it yet when it changes.
    let run = |change: &dyn Fn(&std::path::Path)| {
        let s = Scenario::new();
        let b = s.write("b.txt", lines(200_000));
        let mut child = Command::new(env!("CARGO_BIN_EXE_densebin"))
            .current_dir(s.path(""))
            .args([
                "bin",
                "-",
                "b.txt",
                "-o",
                "g.h5",
                "--x-range=0,2",
                "--y-range=0,1",
            ])
            .args(["--z-range=0,1"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start densebin");
        let mut stdin = child.stdin.take().expect("stdin");
        // More than the 4 MB block that densebin reads to sniff a stream.
        stdin.write_all(&lines(330_000)).expect("feed");
        std::thread::sleep(Duration::from_millis(300));
        change(&b);
        drop(stdin);
        let out = child.wait_with_output().expect("densebin's output");
        let files = s.files();
        (out, files)
    };

    let (out, files) = run(&|b| {
        let mut f = std::fs::OpenOptions::new().append(true).open(b).unwrap();
        f.write_all(b"1.5 0.5 0.5\n").unwrap();
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "densebin: b.txt: the file changed during the run (2800000 bytes, now 2800012); \
         inputs must not change while densebin reads them, run again\n"
    );
    assert_eq!(files, ["b.txt"]);

    let (out, files) = run(&|b| std::fs::File::create(b).map(drop).unwrap());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("densebin: an input file shrank while densebin read it (SIGBUS"),
        "{err}"
    );
    assert_eq!(files, ["b.txt"]);
}

#[test]
fn text_faults_are_located() {
    let s = Scenario::new();
    let ranges = ["--x-range=0,9", "--y-range=0,9", "--z-range=0,9"];
    let bin = |name: &str, extra: &[&str]| {
        let mut args = vec!["bin", name, "-o", "g.h5"];
        args.extend(ranges);
        args.extend(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let fails = |name: &str, extra: &[&str]| {
        let args = bin(name, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        s.fails(&args, 2)
    };
    // A 1.5 MB line: located, its field shortened, the message one line.
    s.write(
        "long.txt",
        format!("1 2 3\n{}x 2 3\n", "9".repeat(1_500_000)),
    );
    let err = fails("long.txt", &[]);
    assert!(
        err.starts_with("densebin: long.txt:2:1: expected a number, found \"999"),
        "{err}"
    );
    assert!(
        err.len() < 200 && err.trim_end().lines().count() == 1,
        "{err}"
    );
    s.write("nul.txt", b"1 2 3\n4\x005 6\n");
    assert!(fails("nul.txt", &[]).contains("nul.txt:2:1: expected a number, found \"4\\05\""));
    s.write("utf8.txt", b"1 2 3\n\xff\xfe 1 1\n");
    let err = fails("utf8.txt", &[]);
    assert!(
        err.contains("utf8.txt:2:1: expected a number, found \"\u{fffd}\u{fffd}\""),
        "{err}"
    );
    // Mixed delimiters: the sniffed one (here none: no delimiter is on
    // every line) reads the first line as a one-column header.
    s.write("mixed.txt", "1,2,3\n4 5 6\n");
    assert!(fails("mixed.txt", &[]).contains(
        "mixed.txt: no column 1; it has 1 column: 0=\"1,2,3\"; choose one with --y, or check \
             --delimiter"
    ));
    let err = fails("mixed.txt", &["--delimiter", "comma"]);
    assert!(
        err.contains("mixed.txt:2:1: expected a number, found \"4 5 6\""),
        "{err}"
    );
    // Standard input that stops in the middle of a line.
    let out = s
        .cmd()
        .args(bin("-", &[]))
        .write_stdin("1 2 3\n4 5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-:2:4: expected 3 columns, found 2"));
    assert_nothing_written(&s, &["long.txt", "nul.txt", "utf8.txt", "mixed.txt"]);

    // Not errors: a last line without a newline, and non-finite values,
    // which are counted.
    s.write("nonl.txt", "1 2 3\n4 5 6");
    s.write(
        "nonfinite.txt",
        "nan 1 1\n1 inf 1\n1 1 nan\n1 1 1\n-inf 1 1\n",
    );
    for (name, binned, xy, z) in [("nonl.txt", 2, 0, 0), ("nonfinite.txt", 2, 3, 1)] {
        let args = bin(name, &["-q"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        s.ok(&args);
        let c = *s.grid("g.h5").counters();
        assert_eq!(
            (c.points_binned, c.nonfinite_xy, c.nonfinite_z),
            (binned, xy, z),
            "{name}"
        );
    }
}

#[test]
fn binary_fields_and_npy_versions() {
    let s = Scenario::new();
    s.write("rec.f32", vec![0u8; 36]);
    s.fails_with(
        &["bin", "rec.f32", "-o", "g.h5", "--fields", "2"],
        2,
        "rec.f32: 36 bytes is not a whole number of 8-byte records (2 fields of 4 bytes); \
         check --format and --fields",
    );
    s.fails_with(
        &["bin", "rec.f32", "-o", "g.h5", "--fields", "0"],
        2,
        "rec.f32: --fields must be at least 1",
    );
    let mut v9 = npy("'<f4'", "(2, 3)", &[0; 24]);
    v9[6] = 9;
    s.write("v9.npy", v9);
    s.fails_with(
        &["bin", "v9.npy", "-o", "g.h5"],
        2,
        "v9.npy: unsupported .npy format version 9.0; densebin reads versions 1.0 to 3.0",
    );
    assert_nothing_written(&s, &["rec.f32", "v9.npy"]);
}

#[test]
fn grids_that_are_cut_or_do_not_match() {
    let s = Scenario::new();
    s.write("p.txt", "1 2 3\n4 5 6\n");
    s.ok(&["bin", "p.txt", "-o", "a.h5", "-q"]);
    s.ok(&["bin", "p.txt", "-o", "b.h5", "--width", "500", "-q"]);
    s.ok(&["bin", "p.txt", "-o", "c.h5", "--layers", "count", "-q"]);
    let whole = std::fs::read(s.path("a.h5")).unwrap();
    s.write("cut.h5", &whole[..whole.len() / 2]);
    for cmd in [&["info", "cut.h5"][..], &["shade", "cut.h5", "-o", "x.png"]] {
        let err = s.fails(cmd, 2);
        assert!(
            err.contains("cut.h5: not a readable HDF5 file (") && err.contains("truncated file"),
            "{err}"
        );
    }
    s.fails_with(
        &["merge", "a.h5", "b.h5", "-o", "m.h5"],
        2,
        "b.h5: cannot merge grids: canvas 1000x1000",
    );
    s.fails_with(
        &["merge", "a.h5", "b.h5", "-o", "m.h5"],
        2,
        "; merge only grids binned with the same --width, --height, --x-range and --y-range",
    );
    s.fails_with(
        &["merge", "a.h5", "c.h5", "-o", "m.h5"],
        2,
        "c.h5: cannot merge grids: layers count,sum,minmax,zhist vs count; merge only grids \
         binned with the same --layers",
    );
    assert_nothing_written(&s, &["p.txt", "a.h5", "b.h5", "c.h5", "cut.h5"]);
}

#[test]
fn canvases_and_ranges_out_of_bounds() {
    let s = Scenario::new();
    s.write("p.txt", "1 2 3\n4 5 6\n");
    s.fails_with(
        &[
            "bin",
            "p.txt",
            "-o",
            "g.h5",
            "--width",
            "100000000",
            "--height",
            "100000000",
        ],
        2,
        "a 100000000x100000000 canvas has more than the 4294967294 pixels a grid can index; \
         lower --width/--height",
    );
    // Absurd thread counts are refused before any thread starts: a
    // hundred thousand made thread creation panic.
    for cmd in ["bin", "convert", "render"] {
        s.fails_with(
            &[cmd, "p.txt", "-o", "out.png", "--threads", "100000"],
            2,
            "--threads 100000 is more than 1024; use at most the number of cores",
        );
        s.fails_with(
            &[cmd, "p.txt", "-o", "out.png", "--threads", "0"],
            2,
            "--threads must be at least 1",
        );
    }
    // Ranges from the data that no canvas can map: the flags to give.
    s.write("far.txt", "1e300 1\n1e300 2\n");
    s.fails_with(
        &["bin", "far.txt", "-o", "g.h5"],
        2,
        "x: range 1e300,1e300 is empty or inverted: the first value must be below the second; \
         check --width and --x-range",
    );
    s.write("wide.txt", "1 -1e308\n2 1e308\n");
    s.fails_with(
        &["bin", "wide.txt", "-o", "g.h5"],
        2,
        "y: range -1e308,1e308 cannot be mapped onto 1000 pixels in double precision; \
         check --height and --y-range",
    );
    for range in ["nan,1", "-inf,1"] {
        s.fails_with(
            &["bin", "p.txt", "-o", "g.h5", "--x-range", range],
            2,
            &format!("the range {range} must be finite"),
        );
    }
    assert_nothing_written(&s, &["p.txt", "far.txt", "wide.txt"]);
}

#[test]
fn outputs_that_cannot_be_written() {
    let s = Scenario::new();
    s.write("p.txt", "1 2 3\n4 5 6\n");
    s.fails_with(
        &["bin", "p.txt", "-o", "p.txt/g.h5"],
        1,
        "p.txt: Not a directory",
    );
    // A file-size limit, as a full disk would fail the write.
    s.write("g.h5", "the previous output");
    let out = std::process::Command::new("sh")
        .current_dir(s.path(""))
        .arg("-c")
        .arg(format!(
            "ulimit -f 16; exec '{}' bin p.txt -o g.h5 --width 2000",
            env!("CARGO_BIN_EXE_densebin")
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("densebin: g.h5: ") && err.ends_with("File too large\n"),
        "{err}"
    );
    assert_eq!(err.matches("g.h5").count(), 1, "the path once: {err}");
    assert_eq!(
        std::fs::read_to_string(s.path("g.h5")).unwrap(),
        "the previous output"
    );
    assert_nothing_written(&s, &["p.txt", "g.h5"]);
}

/// Files and folders densebin may not read or write. Run as root, the test
/// drops to `nobody` (permission bits do not bind root), from a copy of the
/// binary that `nobody` can reach.
#[test]
fn permissions_are_errors() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let s = Scenario::new();
    let mode = |p: &str, m: u32| {
        std::fs::set_permissions(s.path(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode("", 0o755);
    std::fs::copy(env!("CARGO_BIN_EXE_densebin"), s.path("densebin")).unwrap();
    s.write("p.txt", "1 2 3\n4 5 6\n");
    s.write("secret.txt", "1 2 3\n");
    mode("secret.txt", 0o000);
    std::fs::create_dir(s.path("ro")).unwrap();
    s.write("ro/g.h5", "the previous output");
    mode("ro", 0o555);
    let fails = |args: &[&str], message: &str| {
        let mut cmd = std::process::Command::new(s.path("densebin"));
        cmd.current_dir(s.path("")).args(args);
        // Files are owned by whoever made them: this process's user.
        if std::fs::metadata(s.path("p.txt")).unwrap().uid() == 0 {
            cmd.uid(65534).gid(65534);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains(message),
            "{args:?}: expected {message:?} in {err}"
        );
    };
    fails(
        &["bin", "secret.txt", "-o", "g.h5"],
        "secret.txt: Permission denied",
    );
    fails(&["bin", "p.txt", "-o", "ro/g.h5"], "ro: Permission denied");
    fails(
        &["convert", "p.txt", "-o", "ro/p.f32"],
        "ro: Permission denied",
    );
    fails(
        &["render", "p.txt", "-o", "ro/p.png"],
        "ro: Permission denied",
    );
    assert_eq!(
        std::fs::read_to_string(s.path("ro/g.h5")).unwrap(),
        "the previous output"
    );
    assert_eq!(std::fs::read_dir(s.path("ro")).unwrap().count(), 1);
}

/// A run that cannot stop when asked (here blocked reading a standard input
/// that neither sends nor closes; a libhdf5 call that never returns is the
/// other case) is stopped a few seconds after the signal, or at once on a
/// second one.
#[test]
fn a_run_that_cannot_stop_is_stopped_after_a_grace_period() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    for (signals, message) in [
        (1, "interrupted, and still busy 5 s later: stopped at once"),
        (2, "interrupted again: stopped at once"),
    ] {
        let s = Scenario::new();
        s.write("g.h5", "the previous output");
        let mut child = Command::new(env!("CARGO_BIN_EXE_densebin"))
            .current_dir(s.path(""))
            .args(["bin", "-", "-o", "g.h5", "--x-range=0,2", "--y-range=0,1"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start densebin");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"0.5 0.5\n1.5 0.5\n").expect("feed");
        std::thread::sleep(Duration::from_millis(500));
        let start = Instant::now();
        for _ in 0..signals {
            let kill = Command::new("kill")
                .args(["-s", "TERM", &child.id().to_string()])
                .status()
                .expect("kill");
            assert!(kill.success());
            std::thread::sleep(Duration::from_millis(200));
        }
        while child.try_wait().expect("wait").is_none() {
            assert!(start.elapsed() < Duration::from_secs(30), "still running");
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("densebin's output");
        drop(stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(143), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        let waited = start.elapsed() >= Duration::from_secs(5);
        assert_eq!(
            waited,
            signals == 1,
            "{signals} signals: {:?}",
            start.elapsed()
        );
        assert_eq!(
            std::fs::read_to_string(s.path("g.h5")).unwrap(),
            "the previous output"
        );
    }
}
