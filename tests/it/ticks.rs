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
