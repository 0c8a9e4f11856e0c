//! Compressed text and records: gzip (one member or several) and zstd (one
//! frame or several), detected by their magic bytes whatever the name, on
//! files and on standard input, bin to the grid of the uncompressed input —
//! ranges scanned from the data too (the file is decompressed twice). A
//! truncated or corrupt stream is an error naming the file and the
//! compressed byte; nothing is written.

use std::io::Write;

use crate::scenario::{Scenario, f64_records, text_lines};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn points() -> Vec<(f64, f64, f64)> {
    let mut s = 7u64;
    (0..60_000)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = |k: u32| ((s >> k) & 0xFFFF) as f64 / 65536.0;
            (u(1) * 8.0 - 4.0, u(17) * 6.0 - 3.0, f64::from(i % 97))
        })
        .collect()
}

#[test]
fn compressed_inputs_bin_as_the_uncompressed_ones() {
    let s = Scenario::new();
    let pts = points();
    let text = text_lines(&pts, " ");
    let half = text.len() / 2;
    let cut = half + text[half..].find('\n').unwrap() + 1;
    let (a, b) = text.as_bytes().split_at(cut);
    s.write("p.txt", &text);
    s.write("p.txt.gz", gzip(text.as_bytes()));
    s.write("members.txt.gz", [gzip(a), gzip(b)].concat());
    s.write("p.txt.zst", zstd(text.as_bytes()));
    s.write("frames.txt.zst", [zstd(a), zstd(b)].concat());
    // Detected by content, not by name.
    s.write("misnamed.txt", gzip(text.as_bytes()));
    s.write("p.f64.zst", zstd(&f64_records(&pts)));
    s.ok(&["bin", "p.txt", "-o", "want.h5"]);
    let want = s.grid("want.h5");
    for name in [
        "p.txt.gz",
        "members.txt.gz",
        "p.txt.zst",
        "frames.txt.zst",
        "misnamed.txt",
    ] {
        for threads in ["1", "2"] {
            // Ranges from the data: the stream is decompressed twice.
            s.ok(&["bin", name, "-o", "got.h5", "--threads", threads]);
            let got = s.grid("got.h5");
            assert_eq!(got.spec(), want.spec(), "{name}");
            assert_eq!(got.count(), want.count(), "{name}");
            assert_eq!(got.zhist(), want.zhist(), "{name}");
            assert_eq!(got.counters(), want.counters(), "{name}");
        }
    }
    // Raw records in a zstd file take their format from the inner name.
    s.ok(&["bin", "p.f64.zst", "-o", "rec.h5"]);
    assert_eq!(s.grid("rec.h5").count(), want.count());
    // Inputs keep the format they were read as.
    assert_eq!(s.grid("rec.h5").inputs()[0].format, "zstd f64");
    assert_eq!(s.grid("got.h5").inputs()[0].format, "gzip text");
    // Standard input, compressed.
    let ranges = {
        let (x, y) = (want.spec().x(), want.spec().y());
        [
            format!("{},{}", x.lo(), x.hi()),
            format!("{},{}", y.lo(), y.hi()),
        ]
    };
    let z = want.spec().zbins().unwrap();
    let z_range = format!("{},{}", z.lo(), z.hi());
    let out = s
        .cmd()
        .args([
            "bin",
            "-",
            "-o",
            "stdin.h5",
            "--x-range",
            &ranges[0],
            "--y-range",
            &ranges[1],
        ])
        .args(["--z-range", &z_range])
        .write_stdin(zstd(text.as_bytes()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.grid("stdin.h5").count(), want.count());
    assert_eq!(s.grid("stdin.h5").inputs()[0].format, "zstd text");
}

#[test]
fn corrupt_and_truncated_streams_fail_with_the_compressed_offset() {
    let s = Scenario::new();
    let text = text_lines(&points(), " ");
    let gz = gzip(text.as_bytes());
    let zs = zstd(text.as_bytes());
    let mut corrupt = zs.clone();
    for b in &mut corrupt[zs.len() / 2..zs.len() / 2 + 8] {
        *b ^= 0xA5;
    }
    s.write("cut.txt.gz", &gz[..gz.len() * 2 / 3]);
    s.write("bad.txt.zst", &corrupt);
    s.write("cut.txt.zst", &zs[..zs.len() - 10]);
    for (name, codec) in [
        ("cut.txt.gz", "gzip"),
        ("bad.txt.zst", "zstd"),
        ("cut.txt.zst", "zstd"),
    ] {
        let err = s.fails(&["bin", name, "-o", "x.h5"], 2);
        let want =
            format!("densebin: {name}: corrupt or truncated {codec} stream at compressed byte ");
        assert!(err.starts_with(&want), "{err}");
        // With ranges given, the failure comes while binning: the same.
        let err = s.fails(
            &[
                "bin",
                name,
                "-o",
                "x.h5",
                "--x-range",
                "-4,4",
                "--y-range",
                "-3,3",
                "--z-range",
                "0,97",
            ],
            2,
        );
        assert!(err.starts_with(&want), "{err}");
    }
    assert!(!s.path("x.h5").exists(), "nothing written");
}
