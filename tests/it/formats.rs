//! Every input format through the command line, against the oracle: text
//! in all its dialects, raw f32/f64 records, .npy (plain and structured),
//! standard input, several inputs, and the automatic ranges.

use crate::oracle::{Canvas, Oracle};
use crate::scenario::{Scenario, f32_records, f64_records, npy, text_lines};

const C: Canvas = Canvas {
    width: 13,
    height: 9,
    x: (-2.0, 3.0),
    y: (-1.5, 1.5),
    zhist: Some((4, (0.0, 1.0))),
};

/// Deterministic, structured points: a lattice with jitter, edges and a
/// few points outside the canvas.
fn points(n: usize) -> Vec<(f64, f64, f64)> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut pts: Vec<(f64, f64, f64)> = (0..n)
        .map(|_| (-2.2 + 5.4 * next(), -1.6 + 3.2 * next(), next() * 1.2 - 0.1))
        .collect();
    pts.extend([(-2.0, -1.5, 0.0), (3.0, 1.5, 1.0), (0.5, 0.0, 0.25)]);
    pts
}

/// The flags that fix the canvas to `C`.
fn canvas_args() -> Vec<&'static str> {
    vec![
        "--width",
        "13",
        "--height",
        "9",
        "--x-range",
        "-2,3",
        "--y-range",
        "-1.5,1.5",
        "--z-bins",
        "4",
        "--z-range",
        "0,1",
        "--layers",
        "count,sum,minmax,std,zhist",
        "-q",
    ]
}

fn bin_and_check(s: &Scenario, input: &str, extra: &[&str], pts: &[(f64, f64, f64)], what: &str) {
    let mut args = vec!["bin", input, "-o", "g.h5"];
    args.extend(canvas_args());
    args.extend(extra);
    s.ok(&args);
    Oracle::bin_xyz(C, pts).assert_matches(&s.grid("g.h5"), what);
}

#[test]
fn text_in_every_dialect() {
    let pts = points(500);
    let s = Scenario::new();
    for (name, sep) in [
        ("ws.txt", " "),
        ("tabs.tsv", "\t"),
        ("c.csv", ","),
        ("semi.txt", ";"),
        ("spaces.txt", "   "),
    ] {
        s.write(name, text_lines(&pts, sep));
        bin_and_check(&s, name, &[], &pts, name);
    }
    // CRLF, a BOM, comments, blank lines and a header.
    let crlf = format!(
        "\u{feff}# exported by a tool\r\nx,y,z\r\n\r\n{}",
        text_lines(&pts, ",").replace('\n', "\r\n")
    );
    s.write("crlf.csv", crlf);
    bin_and_check(&s, "crlf.csv", &[], &pts, "crlf");
    assert_eq!(s.grid("g.h5").counters().lines_ignored, 3);
    // The last line without a newline.
    let mut text = text_lines(&pts, " ");
    text.pop();
    s.write("nolf.txt", text);
    bin_and_check(&s, "nolf.txt", &[], &pts, "no final newline");
}

#[test]
fn numbers_in_every_usual_form() {
    let s = Scenario::new();
    s.write(
        "forms.txt",
        "1e-01 +2.5E-1 0.5\n.75 -0.0 1\n1. 1e0 nan\ninf 1 0\n-Infinity 1 0\nNaN 1 0\n0.30000000000000004 0.1 1e-300\n",
    );
    let pts = [
        (0.1, 0.25, 0.5),
        (0.75, -0.0, 1.0),
        (1.0, 1.0, f64::NAN),
        (f64::INFINITY, 1.0, 0.0),
        (f64::NEG_INFINITY, 1.0, 0.0),
        (f64::NAN, 1.0, 0.0),
        (0.30000000000000004, 0.1, 1e-300),
    ];
    bin_and_check(&s, "forms.txt", &[], &pts, "number forms");
    let c = s.grid("g.h5");
    assert_eq!(c.counters().nonfinite_xy, 3);
    assert_eq!(c.counters().nonfinite_z, 1);
    assert!(c.has_distinct_count_z());
}

#[test]
fn csv_with_quotes_header_names_and_text_columns() {
    let pts = points(200);
    let mut csv = String::from("id,\"name, with comma\",lat,lon,depth\n");
    for (i, (x, y, z)) in pts.iter().enumerate() {
        csv += &format!("{i},\"station \"\"{i}\"\", Zürich\",{y:?},\"{x:?}\",{z:?}\n");
    }
    let s = Scenario::new();
    s.write("stations.csv", csv);
    bin_and_check(
        &s,
        "stations.csv",
        &["--x", "lon", "--y", "LAT", "--z", "depth"],
        &pts,
        "named columns",
    );
    bin_and_check(
        &s,
        "stations.csv",
        &["--x", "3", "--y", "2", "--z", "4"],
        &pts,
        "indexed columns",
    );
}

#[test]
fn empty_fields_are_missing_values() {
    let s = Scenario::new();
    s.write("gaps.csv", "x,y,z\n0.5,0.5,\n,0.5,0.2\n0.1,0.1,0.9\n");
    let pts = [(0.5, 0.5, f64::NAN), (f64::NAN, 0.5, 0.2), (0.1, 0.1, 0.9)];
    bin_and_check(&s, "gaps.csv", &[], &pts, "empty fields");
}

#[test]
fn raw_binary_records() {
    let pts = points(700);
    let s = Scenario::new();
    s.write("p.f64", f64_records(&pts));
    bin_and_check(&s, "p.f64", &[], &pts, "f64");
    let (bytes, widened) = f32_records(&pts);
    s.write("p.f32", &bytes);
    bin_and_check(&s, "p.f32", &[], &widened, "f32");
    s.write("p.bin", &bytes);
    bin_and_check(&s, "p.bin", &["--format", "f32"], &widened, "f32 by flag");
}

#[test]
fn raw_records_with_more_fields_and_a_weight() {
    let pts = points(300);
    // Records of 5 f32: w, z, junk, x, y.
    let bytes: Vec<u8> = pts
        .iter()
        .enumerate()
        .flat_map(|(i, &(x, y, z))| [(i % 7) as f32, z as f32, -1.0, x as f32, y as f32])
        .flat_map(f32::to_le_bytes)
        .collect();
    let s = Scenario::new();
    s.write("p.f32", &bytes);
    let mut args = vec![
        "bin", "p.f32", "-o", "g.h5", "--fields", "5", "--x", "3", "--y", "4", "--z", "1",
        "--weight", "0",
    ];
    args.extend(canvas_args());
    s.ok(&args);
    let with_w: Vec<_> = pts
        .iter()
        .enumerate()
        .map(|(i, &(x, y, z))| {
            (
                x as f32 as f64,
                y as f32 as f64,
                z as f32 as f64,
                (i % 7) as f64,
            )
        })
        .collect();
    let g = s.grid("g.h5");
    assert!(g.sum_w().is_some(), "--weight adds the weight layer");
    Oracle::bin(C, &with_w).assert_matches(&g, "weights");
}

#[test]
fn npy_plain_and_structured() {
    let pts = points(400);
    let s = Scenario::new();
    let (f4, widened) = f32_records(&pts);
    s.write("p.npy", npy("'<f4'", &format!("({}, 3)", pts.len()), &f4));
    bin_and_check(&s, "p.npy", &[], &widened, "npy <f4");
    s.write(
        "p8.npy",
        npy("'<f8'", &format!("({}, 3)", pts.len()), &f64_records(&pts)),
    );
    bin_and_check(&s, "p8.npy", &[], &pts, "npy <f8");
    let be: Vec<u8> = pts
        .iter()
        .flat_map(|&(x, y, z)| [x, y, z])
        .flat_map(f64::to_be_bytes)
        .collect();
    s.write("be.npy", npy("'>f8'", &format!("({}, 3)", pts.len()), &be));
    bin_and_check(&s, "be.npy", &[], &pts, "npy >f8");

    // Structured: id (i8), lon (f8), pad (V4), lat (f4), depth (f8).
    let mut data = Vec::new();
    for (i, &(x, y, z)) in pts.iter().enumerate() {
        data.extend((i as i64).to_le_bytes());
        data.extend(x.to_le_bytes());
        data.extend([0u8; 4]);
        data.extend((y as f32).to_le_bytes());
        data.extend(z.to_le_bytes());
    }
    let descr = "[('id', '<i8'), ('lon', '<f8'), ('', '|V4'), ('lat', '<f4'), ('depth', '<f8')]";
    s.write("rec.npy", npy(descr, &format!("({},)", pts.len()), &data));
    let expect: Vec<_> = pts
        .iter()
        .map(|&(x, y, z)| (x, y as f32 as f64, z))
        .collect();
    bin_and_check(
        &s,
        "rec.npy",
        &["--x", "lon", "--y", "lat", "--z", "depth"],
        &expect,
        "structured",
    );
}

#[test]
fn standard_input_streams() {
    let pts = points(20_000);
    let s = Scenario::new();
    let mut args = vec!["bin", "-", "-o", "g.h5"];
    args.extend(canvas_args());
    let out = s
        .cmd()
        .args(&args)
        .write_stdin(text_lines(&pts, " "))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Oracle::bin_xyz(C, &pts).assert_matches(&s.grid("g.h5"), "stdin text");
    assert_eq!(s.grid("g.h5").inputs()[0].name, "-");

    let (bytes, widened) = f32_records(&pts);
    args.extend(["--format", "f32"]);
    let out = s.cmd().args(&args).write_stdin(bytes).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Oracle::bin_xyz(C, &widened).assert_matches(&s.grid("g.h5"), "stdin f32");
}

#[test]
fn several_inputs_of_mixed_formats() {
    let pts = points(900);
    let (a, rest) = pts.split_at(300);
    let (b, c) = rest.split_at(300);
    let s = Scenario::new();
    s.write("a.txt", text_lines(a, " "));
    s.write("b.f64", f64_records(b));
    s.write("c.csv", format!("x,y,z\n{}", text_lines(c, ",")));
    let mut args = vec!["bin", "a.txt", "b.f64", "c.csv", "-o", "g.h5"];
    args.extend(canvas_args());
    s.ok(&args);
    let g = s.grid("g.h5");
    Oracle::bin_xyz(C, &pts).assert_matches(&g, "three inputs");
    let names: Vec<_> = g.inputs().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["a.txt", "b.f64", "c.csv"]);
}

#[test]
fn automatic_ranges_are_the_finite_bounds() {
    let pts = [
        (1.0, 10.0, 5.0),
        (3.0, 20.0, 7.0),
        (f64::NAN, 100.0, 1.0),
        (2.0, f64::INFINITY, 1.0),
        (2.5, 15.0, f64::NAN),
    ];
    let s = Scenario::new();
    s.write("p.txt", text_lines(&pts, " "));
    s.ok(&[
        "bin", "p.txt", "-o", "g.h5", "--width", "4", "--height", "2", "-q",
    ]);
    let g = s.grid("g.h5");
    let spec = g.spec();
    assert_eq!((spec.x().lo(), spec.x().hi()), (1.0, 3.0));
    assert_eq!((spec.y().lo(), spec.y().hi()), (10.0, 20.0));
    let z = spec.zbins().unwrap();
    assert_eq!((z.lo(), z.hi()), (5.0, 7.0));
    assert_eq!(g.counters().points_binned, 3, "everything finite is inside");

    // A single value is widened by 0.5 on each side.
    s.write("one.txt", "2 2 2\n2 2 2\n");
    s.ok(&["bin", "one.txt", "-o", "g.h5", "-q"]);
    let g = s.grid("g.h5");
    assert_eq!((g.spec().x().lo(), g.spec().x().hi()), (1.5, 2.5));
    assert_eq!(g.counters().points_binned, 2);
}

#[test]
fn inputs_without_z_get_count_only() {
    let s = Scenario::new();
    s.write("xy.txt", "0 0\n1 1\n0.5 0.5\n");
    s.ok(&["bin", "xy.txt", "-o", "g.h5", "-q"]);
    assert_eq!(s.grid("g.h5").spec().layers().to_string(), "count");
    s.fails_with(
        &["bin", "xy.txt", "-o", "g.h5", "--layers", "count,sum"],
        2,
        "need a z column",
    );
}

#[test]
fn skipped_bad_lines_are_counted_and_located() {
    let s = Scenario::new();
    let mut text = String::new();
    for i in 0..50 {
        text += &match i {
            3 => "1 2 oops\n".to_string(),
            10 => "1 2\n".to_string(),
            40 => "1 2 3 4\n".to_string(),
            _ => format!("{} {} 0.5\n", i % 5, i % 3),
        };
    }
    s.write("bad.txt", text);
    let err = s.ok(&["bin", "bad.txt", "-o", "g.h5", "--skip-bad-lines"]);
    assert!(
        err.contains("skipped 3 malformed lines (first: bad.txt line 4, 11, 41)"),
        "{err}"
    );
    let g = s.grid("g.h5");
    assert_eq!(g.counters().bad_lines, 3);
    assert_eq!(g.counters().points_read, 47);
    assert_eq!(g.inputs()[0].bad_lines, [4, 11, 41]);
}

#[test]
fn convert_writes_the_points_once_as_records() {
    let pts = points(3000);
    let s = Scenario::new();
    s.write("p.txt", format!("# c\nx y z\n{}", text_lines(&pts, " ")));
    let err = s.ok(&["convert", "p.txt", "-o", "p.f64"]);
    assert!(err.contains("wrote 3,003 points (x y z) to p.f64"), "{err}");
    assert!(
        err.contains("densebin bin p.f64 --fields 3 --x-range=-2."),
        "{err}"
    );
    assert_eq!(
        std::fs::read(s.path("p.f64")).unwrap(),
        f64_records(&pts),
        "exact f64 records"
    );

    s.ok(&["convert", "p.txt", "-o", "p.f32", "-q"]);
    let (f32s, widened) = f32_records(&pts);
    assert_eq!(std::fs::read(s.path("p.f32")).unwrap(), f32s);
    bin_and_check(&s, "p.f32", &[], &widened, "converted f32");

    s.ok(&["convert", "p.txt", "-o", "p.npy", "--dtype", "f64", "-q"]);
    let bytes = std::fs::read(s.path("p.npy")).unwrap();
    let header = densebin::read::parse_npy_header(&bytes).unwrap();
    assert_eq!(header.shape, vec![pts.len() as u64, 3]);
    assert_eq!(&bytes[header.data_offset..], &f64_records(&pts)[..]);
    bin_and_check(&s, "p.npy", &[], &pts, "converted npy");

    // A weight column travels as the fourth field.
    s.write("w.csv", "x,y,z,w\n1,2,3,4\n5,6,7,8\n");
    s.ok(&["convert", "w.csv", "-o", "w.f32", "--weight", "w", "-q"]);
    let back: Vec<f32> = std::fs::read(s.path("w.f32"))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(back, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);

    s.fails_with(
        &["convert", "p.txt", "-o", "p.bin"],
        2,
        "name the output .f32, .f64 or .npy",
    );
    s.write("xy.txt", "1 2\n3 4\n");
    s.fails_with(
        &["convert", "p.txt", "xy.txt", "-o", "mixed.f32"],
        2,
        "all inputs of one conversion need the same columns (z and weight); convert them \
         separately",
    );
    assert!(!s.path("mixed.f32").exists(), "no output");
    s.write("bad.txt", "1 2 3\n1 x 3\n");
    s.fails_with(
        &["convert", "bad.txt", "-o", "bad.f32"],
        2,
        "bad.txt:2:3: expected a number",
    );
    assert!(!s.path("bad.f32").exists(), "no partial output");
}
