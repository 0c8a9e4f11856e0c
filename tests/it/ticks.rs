//! Tick values and labels against matplotlib itself: every case of
//! `tests/data/ticks.tsv` (written by `scripts/make_tick_table.py` from
//! matplotlib's own `MaxNLocator` and `ScalarFormatter` on real axes).

use densebin::figure::ticks::{auto_nbins, tick_space, ticks};

#[test]
fn ticks_are_the_ones_matplotlib_picks() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ticks.tsv");
    let table = std::fs::read_to_string(path).expect("the tick table");
    let mut cases = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 9, "{line}");
        let num = |s: &str| s.parse::<f64>().expect(s);
        let (lo, hi) = (num(f[0]), num(f[1]));
        let (length_px, along_x, size) = (num(f[2]), f[3] == "x", num(f[4]));
        // 100 dpi: a pixel is 0.72 points.
        let length_pt = length_px * 72.0 / 100.0;
        let what = format!("{lo}..{hi}, {length_px} px along {}, {size} pt", f[3]);
        assert_eq!(
            tick_space(length_pt, size, along_x),
            num(f[5]) as i64,
            "{what}"
        );
        let got = ticks(lo, hi, auto_nbins(length_pt, size, along_x));
        let want: Vec<f64> = f[6].split_whitespace().map(num).collect();
        assert_eq!(got.values, want, "{what}: values");
        let labels: Vec<&str> = f[7].split_whitespace().collect();
        assert_eq!(got.labels, labels, "{what}: labels");
        assert_eq!(got.offset, f[8], "{what}: offset");
        cases += 1;
    }
    assert!(cases >= 40, "{cases} cases");
}

/// Log axes: every case of `tests/data/log_ticks.tsv` (matplotlib's
/// `LogLocator` for major and minor ticks and `LogFormatterSciNotation`,
/// its mathtext written as `10³` and `2×10⁻²`; `_` is no label).
#[test]
fn log_ticks_are_the_ones_matplotlib_picks() {
    use densebin::figure::logticks::log_ticks;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/log_ticks.tsv");
    let table = std::fs::read_to_string(path).expect("the log tick table");
    let mut cases = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 10, "{line}");
        let num = |s: &str| s.parse::<f64>().expect(s);
        let (lo, hi) = (num(f[0]), num(f[1]));
        let (length_px, along_x, size) = (num(f[2]), f[3] == "x", num(f[4]));
        let length_pt = length_px * 72.0 / 100.0;
        let what = format!("{lo}..{hi}, {length_px} px along {}, {size} pt", f[3]);
        let space = tick_space(length_pt, size, along_x);
        assert_eq!(space, num(f[5]) as i64, "{what}");
        let got = log_ticks(lo, hi, space);
        let values = |s: &str| s.split_whitespace().map(num).collect::<Vec<f64>>();
        let labels = |s: &str| {
            s.split_whitespace()
                .map(|l| {
                    if l == "_" {
                        String::new()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<String>>()
        };
        let near = |a: &[f64], b: &[f64]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs())
        };
        assert!(
            near(&got.major, &values(f[6])),
            "{what}: major {:?} vs {}",
            got.major,
            f[6]
        );
        assert_eq!(got.major_labels, labels(f[7]), "{what}: major labels");
        assert!(
            near(&got.minor, &values(f[8])),
            "{what}: minor {:?} vs {}",
            got.minor,
            f[8]
        );
        assert_eq!(got.minor_labels, labels(f[9]), "{what}: minor labels");
        cases += 1;
    }
    assert!(cases >= 100, "{cases} cases");
}
