//! The binning kernel against the oracle: adversarial points (edges, NaN,
//! infinities, huge and tiny magnitudes) and random ones.

use densebin::read::Points;
use densebin::{Grid, GridSpec, LayerSet};
use proptest::prelude::*;

use crate::oracle::{Canvas, Oracle};

const ALL_LAYERS: &str = "count,sum,minmax,std,zhist,weight";

pub fn spec_for(c: &Canvas, layers: &str) -> GridSpec {
    let layers: LayerSet = layers.parse().expect("layers");
    GridSpec::new(c.width, c.height, c.x, c.y)
        .expect("spec")
        .with_layers(layers, c.zhist)
        .expect("layers")
}

pub fn points_of(pts: &[(f64, f64, f64, f64)]) -> Points {
    Points {
        x: pts.iter().map(|p| p.0).collect(),
        y: pts.iter().map(|p| p.1).collect(),
        z: pts.iter().map(|p| p.2).collect(),
        w: pts.iter().map(|p| p.3).collect(),
        ..Points::default()
    }
}

fn bin_direct(c: &Canvas, layers: &str, pts: &[(f64, f64, f64, f64)]) -> Grid {
    let mut g = Grid::empty(spec_for(c, layers));
    for batch in pts.chunks(1000) {
        g.append(&points_of(batch)).expect("append");
    }
    g
}

/// Values around every pixel edge of an axis, and the nasty ones.
pub fn adversarial(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let mut v = vec![
        lo,
        hi,
        lo.next_down(),
        hi.next_up(),
        lo.next_up(),
        hi.next_down(),
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        -1e300,
        1e-300,
        -1e-300,
        5e-324,
        -0.0,
        0.0,
        f64::MAX,
        f64::MIN,
    ];
    for k in 1..n {
        let edge = lo + k as f64 * (hi - lo) / n as f64;
        v.extend([edge, edge.next_up(), edge.next_down()]);
    }
    v
}

fn canvases() -> Vec<Canvas> {
    vec![
        Canvas {
            width: 8,
            height: 4,
            x: (0.0, 8.0),
            y: (0.0, 1.0),
            zhist: Some((4, (0.0, 1.0))),
        },
        Canvas {
            width: 7,
            height: 3,
            x: (-10.0, 10.0),
            y: (-0.7, 0.3),
            zhist: Some((5, (-1.0, 1.0))),
        },
        Canvas {
            width: 5,
            height: 3,
            x: (-1e300, 1e300),
            y: (1e8, 1e8 + 1.0),
            zhist: Some((3, (1e-10, 2e-10))),
        },
        Canvas {
            width: 3,
            height: 5,
            x: (1e-10, 2e-10),
            y: (-3e-300, 1e-300),
            zhist: Some((2, (-1e300, 1e300))),
        },
    ]
}

#[test]
fn adversarial_points_match_the_oracle_exactly() {
    for c in canvases() {
        let xs = adversarial(c.x.0, c.x.1, c.width);
        let ys = adversarial(c.y.0, c.y.1, c.height);
        let (zl, zh) = c.zhist.unwrap().1;
        let zs = adversarial(zl, zh, c.zhist.unwrap().0);
        let mut pts = Vec::new();
        for (i, &x) in xs.iter().enumerate() {
            for (j, &y) in ys.iter().enumerate() {
                let z = zs[(i * 7 + j) % zs.len()];
                let w = xs[(i + 3 * j) % xs.len()];
                pts.push((x, y, z, w));
            }
        }
        let grid = bin_direct(&c, ALL_LAYERS, &pts);
        Oracle::bin(c, &pts).assert_matches(&grid, &format!("{c:?}"));
        assert!(grid.counters().points_binned > 0, "{c:?}: some points bin");
    }
}

#[test]
fn points_on_exact_edges_land_in_the_pixel_they_start() {
    // Independent of the formula: on [0, 8] with 8 pixels every integer is
    // exactly representable, k starts pixel k, and 8 closes pixel 7.
    let c = Canvas {
        width: 8,
        height: 1,
        x: (0.0, 8.0),
        y: (0.0, 1.0),
        zhist: None,
    };
    let pts: Vec<_> = (0..=8).map(|k| (k as f64, 0.5, 0.0, 0.0)).collect();
    let grid = bin_direct(&c, "count", &pts);
    let counts: Vec<u64> = grid.count().iter().copied().collect();
    assert_eq!(counts, [1, 1, 1, 1, 1, 1, 1, 2]);
}

#[test]
fn row_zero_is_the_bottom() {
    let c = Canvas {
        width: 1,
        height: 3,
        x: (0.0, 1.0),
        y: (0.0, 3.0),
        zhist: None,
    };
    let grid = bin_direct(
        &c,
        "count",
        &[
            (0.5, 0.1, 0.0, 0.0),
            (0.5, 2.9, 0.0, 0.0),
            (0.5, 2.8, 0.0, 0.0),
        ],
    );
    assert_eq!(grid.count()[[0, 0]], 1, "low y in row 0");
    assert_eq!(grid.count()[[2, 0]], 2, "high y in the last row");
}

fn value(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    let span = hi - lo;
    prop_oneof![
        12 => (lo - 0.1 * span)..(hi + 0.1 * span),
        1 => Just(lo),
        1 => Just(hi),
        1 => (0..8u32).prop_map(move |k| lo + k as f64 * span / 8.0),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e-300]),
    ]
}

fn cloud(c: Canvas) -> impl Strategy<Value = Vec<(f64, f64, f64, f64)>> {
    let (zl, zh) = c.zhist.unwrap().1;
    prop::collection::vec(
        (
            value(c.x.0, c.x.1),
            value(c.y.0, c.y.1),
            value(zl, zh),
            value(-1.0, 1.0),
        ),
        0..400,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_points_match_the_oracle(
        pts in cloud(Canvas { width: 9, height: 5, x: (-3.0, 4.5), y: (10.0, 20.0), zhist: Some((6, (-2.0, 2.0))) })
    ) {
        let c = Canvas { width: 9, height: 5, x: (-3.0, 4.5), y: (10.0, 20.0), zhist: Some((6, (-2.0, 2.0))) };
        let grid = bin_direct(&c, ALL_LAYERS, &pts);
        Oracle::bin(c, &pts).assert_matches(&grid, "random");
    }
}
