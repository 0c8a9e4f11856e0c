//! Categorical counts (`--by`, layer `count_cat`): against an oracle that
//! counts names per pixel, for every thread count and chunk size, text
//! (quoted names holding the delimiter, quotes and UTF-8; integer names in
//! numeric order) and `.npy` fields (integers, byte strings); fixed sets
//! (`--categories`) and what falls outside them; merges of grids with
//! different categories; the grid file and `info`; the errors.

use std::collections::BTreeMap;

use densebin::binning::BinRequest;
use densebin::read::{Column, Input, ReadOptions};
use densebin::{Grid, RunContext};
use proptest::prelude::*;

use crate::oracle::pixel;
use crate::scenario::{Scenario, npy};

const W: usize = 9;
const H: usize = 7;

/// Names that test the reader: the delimiter, quotes, spaces, UTF-8, a
/// name that looks like a number, and a prefix of another.
const NAMES: [&str; 7] = ["a, b", "say \"hi\"", "wäter", "Zed", "12", "a", " spaced "];

/// The oracle: per category name, the points in each pixel (row-major from
/// the bottom), over [0, 1]²; points without a category (`None`) counted
/// apart.
fn oracle(pts: &[(f64, f64, Option<String>)]) -> (BTreeMap<String, Vec<u32>>, u64) {
    let mut planes: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut none = 0;
    for (x, y, c) in pts {
        let (Some(i), Some(j)) = (pixel(*x, 0.0, 1.0, W), pixel(*y, 0.0, 1.0, H)) else {
            continue;
        };
        match c {
            Some(c) => planes.entry(c.clone()).or_insert_with(|| vec![0; W * H])[j * W + i] += 1,
            None => none += 1,
        }
    }
    (planes, none)
}

/// The grid's `count_cat` planes by name.
fn planes(g: &Grid) -> BTreeMap<String, Vec<u32>> {
    let cats = g.spec().categories().expect("count_cat");
    let counts = g
        .array(densebin::grid::ArrayId::CountCat)
        .expect("count_cat");
    let densebin::grid::ArrayView::U32(counts) = counts else {
        panic!("count_cat is u32");
    };
    let flat: Vec<u32> = counts.iter().copied().collect();
    let len = g.spec().pixels();
    cats.names()
        .iter()
        .enumerate()
        .map(|(k, n)| (n.clone(), flat[k * len..(k + 1) * len].to_vec()))
        .collect()
}

/// RFC 4180 quoting.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn cloud(n: usize, seed: u64, names: &[&str]) -> Vec<(f64, f64, Option<String>)> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|_| {
            let x = (next() % 1100) as f64 / 1000.0 - 0.05;
            let y = (next() % 1100) as f64 / 1000.0 - 0.05;
            let r = next() as usize % (names.len() + 1);
            (x, y, names.get(r).map(|n| n.to_string()))
        })
        .collect()
}

fn csv(pts: &[(f64, f64, Option<String>)]) -> String {
    let mut out = String::from("x,y,kind\n");
    for (x, y, c) in pts {
        let c = c.as_deref().map(csv_field).unwrap_or_default();
        out.push_str(&format!("{x},{y},{c}\n"));
    }
    out
}

fn bin(
    path: &std::path::Path,
    threads: usize,
    chunk: Option<usize>,
    fixed: Option<&[&str]>,
) -> Grid {
    let opts = ReadOptions {
        by: Some(Column::Name("kind".into())),
        ..ReadOptions::default()
    };
    let mut inputs = vec![Input::open(path, &opts).expect("open")];
    let req = BinRequest {
        width: W,
        height: H,
        x_range: Some((0.0, 1.0)),
        y_range: Some((0.0, 1.0)),
        chunk_size: chunk,
        categories: fixed.map(|f| f.iter().map(|s| s.to_string()).collect()),
        ..BinRequest::default()
    };
    let ctx = RunContext::new()
        .with_threads(Some(threads))
        .expect("threads");
    req.run(&mut inputs, &ctx).expect("bin")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn count_cat_equals_the_oracle_for_any_threads_and_chunks(
        n in 1usize..3000, seed in any::<u64>(), chunk in 1usize..300
    ) {
        let pts = cloud(n, seed, &NAMES);
        let s = Scenario::new();
        let path = s.write("p.csv", csv(&pts));
        let (want, none) = oracle(&pts);
        let reference = bin(&path, 1, None, None);
        let names: Vec<&str> = reference.spec().categories().unwrap().names().iter().map(String::as_str).collect();
        let mut sorted: Vec<&str> = want.keys().map(String::as_str).collect();
        sorted.sort_by(|a, b| {
            // Integers first, in numeric order, then the rest by bytes.
            match (a.parse::<i64>(), b.parse::<i64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                _ => a.cmp(b),
            }
        });
        // Categories of points off the canvas are found too.
        let all: std::collections::BTreeSet<&str> = pts.iter().filter_map(|p| p.2.as_deref()).collect();
        prop_assert_eq!(names.len(), all.len());
        let on_canvas: Vec<&str> = names.iter().copied().filter(|n| want.contains_key(*n)).collect();
        prop_assert_eq!(on_canvas, sorted);
        let got = planes(&reference);
        for (name, plane) in &got {
            let empty = vec![0; W * H];
            prop_assert_eq!(plane, want.get(name).unwrap_or(&empty), "{}", name);
        }
        prop_assert_eq!(reference.counters().uncategorised, none);
        let count: u64 = reference.count().iter().sum();
        let counted: u64 = got.values().flatten().map(|&c| u64::from(c)).sum();
        prop_assert_eq!(count, counted + none);
        for threads in [2, 3] {
            for chunk in [Some(chunk), Some(chunk * 37)] {
                let g = bin(&path, threads, chunk, None);
                prop_assert!(g == reference, "{} threads, chunk {:?}", threads, chunk);
            }
        }
    }
}

#[test]
fn a_fixed_set_keeps_its_order_and_counts_the_rest_as_uncategorised() {
    let pts = cloud(2000, 5, &NAMES);
    let s = Scenario::new();
    let path = s.write("p.csv", csv(&pts));
    let fixed = ["wäter", "a, b", "absent"];
    let g = bin(&path, 2, Some(500), Some(&fixed));
    assert_eq!(g.spec().categories().unwrap().names(), fixed);
    let (want, none) = oracle(&pts);
    let got = planes(&g);
    let mut outside = none;
    for (name, plane) in &want {
        if fixed.contains(&name.as_str()) {
            assert_eq!(&got[name], plane, "{name}");
        } else {
            outside += plane.iter().map(|&c| u64::from(c)).sum::<u64>();
        }
    }
    assert!(got["absent"].iter().all(|&c| c == 0));
    assert_eq!(g.counters().uncategorised, outside);
}

#[test]
fn integer_categories_sort_by_number_in_text_and_npy() {
    // LiDAR-like classes: whitespace text, and a structured .npy with a
    // u1 class and an S field.
    let classes = [2u8, 9, 17, 6, 2, 2, 9, 100, 6, 17, 2];
    let s = Scenario::new();
    let mut text = String::new();
    let mut rec = Vec::new();
    let labels = ["ground", "water", "building"];
    for (i, c) in classes.iter().enumerate() {
        let (x, y) = (i as f64 / 11.0, 0.5f64);
        text.push_str(&format!("{x} {y} {c}\n"));
        rec.extend(x.to_le_bytes());
        rec.extend(y.to_le_bytes());
        rec.push(*c);
        let mut label = [0u8; 8];
        let l = labels[i % 3].as_bytes();
        label[..l.len()].copy_from_slice(l);
        rec.extend(label);
    }
    s.write("p.txt", text);
    let descr = "[('x', '<f8'), ('y', '<f8'), ('class', '|u1'), ('label', '|S8')]";
    s.write("p.npy", npy(descr, "(11,)", &rec));
    let common = [
        "--width",
        "11",
        "--height",
        "1",
        "--x-range",
        "0,1",
        "--y-range",
        "0,1",
    ];
    fn with<'a>(common: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [&extra[..1], common, &extra[1..]].concat()
    }
    s.ok(&with(&common, &["bin", "p.txt", "--by", "2", "-o", "t.h5"]));
    s.ok(&with(
        &common,
        &["bin", "p.npy", "--by", "class", "-o", "n.h5"],
    ));
    s.ok(&with(
        &common,
        &["bin", "p.npy", "--by", "label", "-o", "l.h5"],
    ));
    let (t, n, l) = (s.grid("t.h5"), s.grid("n.h5"), s.grid("l.h5"));
    assert_eq!(
        t.spec().categories().unwrap().names(),
        ["2", "6", "9", "17", "100"]
    );
    assert!(
        t.spec().layers().to_string() == "count,count_cat",
        "the class column is no z"
    );
    assert_eq!(planes(&t), planes(&n));
    assert_eq!(t.spec().categories(), n.spec().categories());
    assert_eq!(
        l.spec().categories().unwrap().names(),
        ["building", "ground", "water"]
    );
    for name in labels {
        let want = (0..11).filter(|i| labels[i % 3] == name).count() as u32;
        assert_eq!(planes(&l)[name].iter().sum::<u32>(), want, "{name}");
    }
    // info lists the categories.
    let out = s.run(&["info", "t.h5"]);
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(info.contains("categories 5: 2, 6, 9, 17, 100\n"), "{info}");
    assert!(info.contains("0 binned without a category"), "{info}");
    let out = s.run(&["info", "t.h5", "--json"]);
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.contains(r#""categories":["2","6","9","17","100"]"#),
        "{json}"
    );
    assert!(json.contains(r#""uncategorised":0"#), "{json}");
    // Names that would read ambiguously in a list are quoted.
    s.write("q.csv", "x,y,k\n0.5,0.5,\"a, b\"\n0.5,0.5,plain\n");
    s.ok(&with(&common, &["bin", "q.csv", "--by", "k", "-o", "q.h5"]));
    let out = s.run(&["info", "q.h5"]);
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(info.contains("categories 2: \"a, b\", plain\n"), "{info}");
}

#[test]
fn merges_of_different_category_sets_are_their_union() {
    let s = Scenario::new();
    let a = cloud(800, 1, &["a", "b", "shared"]);
    let b = cloud(900, 2, &["shared", "c", "12"]);
    let all: Vec<_> = a.iter().chain(&b).cloned().collect();
    let pa = s.write("a.csv", csv(&a));
    let pb = s.write("b.csv", csv(&b));
    let pall = s.write("all.csv", csv(&all));
    let (ga, gb, whole) = (
        bin(&pa, 2, None, None),
        bin(&pb, 1, None, None),
        bin(&pall, 2, None, None),
    );
    for (first, second) in [(&ga, &gb), (&gb, &ga)] {
        let mut m = first.clone();
        m.merge(second).unwrap();
        assert_eq!(m.spec().categories(), whole.spec().categories());
        assert_eq!(planes(&m), planes(&whole));
        assert_eq!(m.counters().uncategorised, whole.counters().uncategorised);
    }
    // The command line's merge, through grid files.
    let common = [
        "--width",
        "9",
        "--height",
        "7",
        "--x-range",
        "0,1",
        "--y-range",
        "0,1",
        "--by",
        "kind",
    ];
    s.ok(&[&["bin", "a.csv", "-o", "a.h5"][..], &common].concat());
    s.ok(&[&["bin", "b.csv", "-o", "b.h5"][..], &common].concat());
    s.ok(&["merge", "a.h5", "b.h5", "-o", "m.h5"]);
    let m = s.grid("m.h5");
    assert_eq!(planes(&m), planes(&whole));
    assert_eq!(
        m.spec().categories().unwrap().names(),
        ["12", "a", "b", "c", "shared"]
    );
    // Byte-range parts of one file (its first half holds a's categories,
    // its second b's), merged: the whole.
    let mut parts = vec!["merge".to_string()];
    for i in 1..=3 {
        let out = format!("part{i}.h5");
        let part = format!("{i}/3");
        s.ok(&[
            &["bin", "all.csv", "--part", &part, "-o", &out][..],
            &common,
        ]
        .concat());
        parts.push(out);
    }
    let first = s.grid("part1.h5");
    assert_eq!(
        first.spec().categories().unwrap().names(),
        ["a", "b", "shared"]
    );
    parts.extend(["-o".to_string(), "parts.h5".to_string()]);
    s.ok(&parts.iter().map(String::as_str).collect::<Vec<_>>());
    let merged = s.grid("parts.h5");
    assert_eq!(merged.spec().categories(), whole.spec().categories());
    assert_eq!(planes(&merged), planes(&whole));
    assert_eq!(
        merged.counters().uncategorised,
        whole.counters().uncategorised
    );
}

#[test]
fn category_errors_are_clear() {
    let s = Scenario::new();
    // A column of measurements passed as the category column.
    let text: String = (0..400)
        .map(|i| format!("{} 0.5 {}\n", i as f64 / 400.0, i as f64 * 0.37))
        .collect();
    s.write("m.txt", text);
    let err = s.fails(&["bin", "m.txt", "--by", "2", "-o", "m.h5"], 2);
    assert!(
        err.contains("more than 256 distinct values") && err.contains("--categories"),
        "{err}"
    );
    assert!(!s.path("m.h5").exists());
    // ... which --categories makes a count of a few.
    s.ok(&[
        "bin",
        "m.txt",
        "--by",
        "2",
        "--categories",
        "0,0.37",
        "-o",
        "m.h5",
    ]);
    assert_eq!(s.grid("m.h5").counters().uncategorised, 398);
    let err = s.fails(&["bin", "m.txt", "--by", "kind", "-o", "x.h5"], 2);
    assert!(err.contains("\"kind\"") && err.contains("--by"), "{err}");
    let err = s.fails(&["bin", "m.txt", "--categories", "a,b", "-o", "x.h5"], 2);
    assert!(err.contains("--by"), "{err}");
    let err = s.fails(
        &[
            "bin",
            "m.txt",
            "--by",
            "2",
            "--categories",
            "a,a",
            "-o",
            "x.h5",
        ],
        2,
    );
    assert!(err.contains("\"a\" twice"), "{err}");
    // A float field of a .npy is no category.
    let rec: Vec<u8> = [0.5f64, 0.5, 1.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    s.write(
        "f.npy",
        npy("[('x', '<f8'), ('y', '<f8'), ('k', '<f8')]", "(1,)", &rec),
    );
    let err = s.fails(&["bin", "f.npy", "--by", "k", "-o", "x.h5"], 2);
    assert!(
        err.contains("integer or byte-string") && err.contains("--by"),
        "{err}"
    );
    // Non-UTF-8 names, with the line and column.
    s.write("u.txt", b"0.5 0.5 ok\n0.5 0.5 \xff\xfe\n");
    let err = s.fails(&["bin", "u.txt", "--by", "2", "-o", "x.h5"], 2);
    assert_eq!(
        err,
        "densebin: u.txt:2:9: the category \"\u{fffd}\u{fffd}\" is not valid UTF-8; fix the line"
    );
}

/// Categorical shading, pixel by pixel, against datashader's `_colorize`
/// computed from the oracle's counts: colour `trunc(Σ w_k · key_k / Σ w_k)`
/// per channel with `w_k = c_k - min(c)` (the least count anywhere), opacity `trunc(40 + 215 · (n - n_min) / (n_max - n_min))`
/// for `--how linear` (n the pixel's total, n_min the least non-empty).
#[test]
fn categorical_pixels_follow_datashaders_formula() {
    let pts = cloud(4000, 9, &["a", "b", "c"]);
    let s = Scenario::new();
    s.write("p.csv", csv(&pts));
    let common = [
        "--width",
        "9",
        "--height",
        "7",
        "--x-range",
        "0,1",
        "--y-range",
        "0,1",
    ];
    s.ok(&[&["bin", "p.csv", "--by", "kind", "-o", "g.h5"][..], &common].concat());
    let key = [
        ("a", [230u8, 25, 75]),
        ("b", [60, 180, 75]),
        ("c", [0, 130, 200]),
    ];
    let key_flag: Vec<String> = key
        .iter()
        .map(|(n, [r, g, b])| format!("{n}=#{r:02x}{g:02x}{b:02x}"))
        .collect();
    let key_flag = key_flag.join(",");
    s.ok(&[
        "shade",
        "g.h5",
        "--mode",
        "categorical",
        "--how",
        "linear",
        "--color-key",
        &key_flag,
        "-o",
        "c.png",
    ]);
    let png = Png::read(&s.path("c.png"));
    let (planes, _) = oracle(&pts);
    let total = |i: usize| planes.values().map(|p| p[i]).sum::<u32>();
    let totals: Vec<u32> = (0..W * H).map(total).collect();
    let lo = *totals.iter().filter(|&&n| n > 0).min().unwrap();
    let hi = *totals.iter().max().unwrap();
    // datashader first subtracts the least count of any category anywhere
    // (here every category is in every pixel: it is not 0).
    let baseline = (0..W * H)
        .flat_map(|p| key.iter().map(move |(n, _)| (p, *n)))
        .map(|(p, n)| planes.get(n).map_or(0, |pl| pl[p]))
        .min()
        .unwrap();
    assert!(baseline > 0, "the case this test is for");
    for j in 0..H {
        for i in 0..W {
            let p = j * W + i;
            // Image row 0 is the top.
            let got = png.px(i, H - 1 - j);
            if totals[p] == 0 {
                assert_eq!(got[3], 0, "pixel {i},{j} is empty");
                continue;
            }
            let mut want = [0u8; 4];
            let weight = |n: &str| planes.get(n).map_or(0, |pl| pl[p]) - baseline;
            let weights: u32 = key.iter().map(|(n, _)| weight(n)).sum();
            for ch in 0..3 {
                let sum: u32 = key.iter().map(|(n, c)| weight(n) * u32::from(c[ch])).sum();
                want[ch] = if weights == 0 {
                    (key.iter().map(|(_, c)| u32::from(c[ch])).sum::<u32>() as f32 / 3.0) as u8
                } else {
                    (sum as f32 / weights as f32) as u8
                };
            }
            want[3] = (40.0 + 215.0 * f64::from(totals[p] - lo) / f64::from(hi - lo)) as u8;
            assert_eq!(got, want, "pixel {i},{j}, total {}", totals[p]);
        }
    }
    // Palettes by name, and the errors: a category without a colour, a
    // palette too short, a key outside categorical mode.
    s.ok(&[
        "shade",
        "g.h5",
        "--mode",
        "categorical",
        "--palette",
        "set1",
        "-o",
        "p.png",
    ]);
    let err = s.fails(
        &[
            "shade",
            "g.h5",
            "--mode",
            "categorical",
            "--color-key",
            "a=#ff0000",
            "-o",
            "x.png",
        ],
        2,
    );
    assert!(
        err.contains("no colour for the categories \"b\", \"c\""),
        "{err}"
    );
    let err = s.fails(
        &[
            "shade",
            "g.h5",
            "--mode",
            "density",
            "--color-key",
            "a=#ff0000",
            "-o",
            "x.png",
        ],
        2,
    );
    assert!(
        err.contains("--color-key has no effect in density mode"),
        "{err}"
    );
    let many: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    s.write("m.csv", csv(&cloud(500, 3, &many)));
    s.ok(&[&["bin", "m.csv", "--by", "kind", "-o", "m.h5"][..], &common].concat());
    let err = s.fails(
        &["shade", "m.h5", "--mode", "categorical", "-o", "x.png"],
        2,
    );
    assert!(
        err.contains("category10 palette has 10 colours for 12 categories")
            && err.contains("--color-key"),
        "{err}"
    );
    s.ok(&[
        "shade",
        "m.h5",
        "--mode",
        "categorical",
        "--palette",
        "set3",
        "-o",
        "x.png",
    ]);
    // A grid without categories.
    s.ok(&[
        &["bin", "p.csv", "-o", "n.h5", "--layers", "count"][..],
        &common,
    ]
    .concat());
    let err = s.fails(
        &["shade", "n.h5", "--mode", "categorical", "-o", "y.png"],
        2,
    );
    assert!(
        err.contains("categorical mode needs the count_cat layer"),
        "{err}"
    );
    assert!(!s.path("y.png").exists());
}

use crate::shading::Png;

/// Golden images of the pandas-made fixture by category: bare, and framed
/// with the legend in the colorbar's place.
#[test]
fn categorical_goldens() {
    let s = Scenario::new();
    let fixture: std::path::PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "data",
        "categories.csv",
    ]
    .iter()
    .collect();
    let fixture = fixture.to_string_lossy().into_owned();
    s.ok(&[
        "bin",
        &fixture,
        "--by",
        "race",
        "-o",
        "g.h5",
        "--width",
        "120",
        "--height",
        "90",
        "--x-range",
        "-3,3",
        "--y-range",
        "-2.5,2.5",
        "-q",
    ]);
    let g = s.grid("g.h5");
    assert_eq!(
        g.spec().categories().unwrap().names(),
        ["Asian", "Black", "Hispanic", "Other, \"mixed\"", "Wéiß"]
    );
    let cases: [(&str, &[&str]); 2] = [
        (
            "categorical",
            &["--mode", "categorical", "--background", "black"],
        ),
        (
            "framed_categorical",
            &[
                "--mode",
                "categorical",
                "--how",
                "log",
                "--frame",
                "--title",
                "points by race",
            ],
        ),
    ];
    crate::shading::check_goldens(&s, "g.h5", &cases, |png| {
        png.width >= 120 && png.height >= 90
    });
}
