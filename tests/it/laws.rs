//! The merge laws (identity, commutativity, associativity) and partition
//! invariance: 1, 2, 4 and 8 partitions — by hand, and through the parallel
//! driver with any number of threads and chunk sizes — give the same grid.

use densebin::Grid;
use densebin::RunContext;
use densebin::binning::BinRequest;
use densebin::read::{Input, ReadOptions};
use proptest::prelude::*;

use crate::kernel::{points_of, spec_for};
use crate::oracle::{Canvas, Oracle, assert_grids_close};
use crate::scenario::{Scenario, f64_records, text_lines};

const CANVAS: Canvas = Canvas {
    width: 11,
    height: 7,
    x: (-1.0, 1.0),
    y: (-2.0, 3.0),
    zhist: Some((5, (0.0, 10.0))),
};
const LAYERS: &str = "count,sum,minmax,std,zhist,weight";

fn coord(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    prop_oneof![
        10 => lo..hi,
        1 => Just(lo),
        1 => Just(hi),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, hi + 1.0]),
    ]
}

fn cloud(max: usize) -> impl Strategy<Value = Vec<(f64, f64, f64, f64)>> {
    prop::collection::vec(
        (
            coord(-1.0, 1.0),
            coord(-2.0, 3.0),
            coord(-1.0, 11.0),
            -5.0..5.0f64,
        ),
        0..max,
    )
}

fn grid_of(pts: &[(f64, f64, f64, f64)]) -> Grid {
    let mut g = Grid::empty(spec_for(&CANVAS, LAYERS));
    g.append(&points_of(pts)).expect("append");
    g
}

fn merged(a: &Grid, b: &Grid) -> Grid {
    let mut m = a.clone();
    m.merge(b).expect("same spec");
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn empty_is_the_identity(pts in cloud(300)) {
        let g = grid_of(&pts);
        let empty = Grid::empty(g.spec().clone());
        // Exact: adding zero, min with +inf and Chan with n = 0 change nothing.
        prop_assert!(merged(&g, &empty) == g);
        prop_assert!(merged(&empty, &g) == g);
    }

    #[test]
    fn merge_commutes(a in cloud(200), b in cloud(200)) {
        let (a, b) = (grid_of(&a), grid_of(&b));
        assert_grids_close(&merged(&a, &b), &merged(&b, &a), "a+b vs b+a");
    }

    #[test]
    fn merge_associates(a in cloud(150), b in cloud(150), c in cloud(150)) {
        let (a, b, c) = (grid_of(&a), grid_of(&b), grid_of(&c));
        let left = merged(&merged(&a, &b), &c);
        let right = merged(&a, &merged(&b, &c));
        assert_grids_close(&left, &right, "(a+b)+c vs a+(b+c)");
    }

    #[test]
    fn partitions_give_the_same_grid(
        pts in cloud(600),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 7),
        assign in prop::collection::vec(0..8usize, 600),
    ) {
        let whole = grid_of(&pts);
        Oracle::bin(CANVAS, &pts).assert_matches(&whole, "whole");
        for parts in [1usize, 2, 4, 8] {
            // Contiguous pieces at random cut points...
            let mut at: Vec<usize> = cuts[..parts - 1].iter().map(|i| i.index(pts.len() + 1)).collect();
            at.sort_unstable();
            let mut bounds = vec![0];
            bounds.extend(at);
            bounds.push(pts.len());
            let mut g = Grid::empty(whole.spec().clone());
            for w in bounds.windows(2) {
                g.merge(&grid_of(&pts[w[0]..w[1]])).unwrap();
            }
            assert_grids_close(&g, &whole, &format!("{parts} contiguous parts"));
            // ...and points dealt to partitions at random.
            let mut g = Grid::empty(whole.spec().clone());
            for part in 0..parts {
                let mine: Vec<_> = pts.iter().zip(&assign).filter(|(_, a)| *a % parts == part).map(|(p, _)| *p).collect();
                g.merge(&grid_of(&mine)).unwrap();
            }
            assert_grids_close(&g, &whole, &format!("{parts} dealt parts"));
        }
    }
}

fn bin_file(path: &std::path::Path, threads: usize, chunk: Option<usize>) -> Grid {
    let mut inputs = vec![Input::open(path, &ReadOptions::default()).expect("open")];
    let req = BinRequest {
        width: CANVAS.width,
        height: CANVAS.height,
        x_range: Some(CANVAS.x),
        y_range: Some(CANVAS.y),
        layers: Some("count,sum,minmax,std,zhist".parse().unwrap()),
        z_bins: CANVAS.zhist.unwrap().0,
        z_range: Some(CANVAS.zhist.unwrap().1),
        chunk_size: chunk,
        ..BinRequest::default()
    };
    let ctx = RunContext::new()
        .with_threads(Some(threads))
        .expect("threads");
    req.run(&mut inputs, &ctx).expect("bin")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn threads_and_chunks_give_the_same_grid(pts in cloud(3000), chunk in 1usize..200) {
        let mut xyz: Vec<(f64, f64, f64)> = pts.iter().map(|p| (p.0, p.1, p.2)).collect();
        xyz.push((0.5, 0.5, 5.0)); // an empty input is an error, not a grid
        let s = Scenario::new();
        let text = s.write("p.txt", text_lines(&xyz, " "));
        let raw = s.write("p.f64", f64_records(&xyz));
        let oracle = Oracle::bin_xyz(CANVAS, &xyz);
        let reference = bin_file(&text, 1, None);
        oracle.assert_matches(&reference, "1 thread");
        for path in [&text, &raw] {
            for threads in [1, 2, 4, 8] {
                for chunk in [None, Some(chunk), Some(chunk * 24)] {
                    let g = bin_file(path, threads, chunk);
                    assert_grids_close(&g, &reference, &format!("{} {threads} threads, chunk {chunk:?}", path.display()));
                }
            }
        }
    }
}

/// Bins borrowed columns through the driver, as the Python package will
/// hand over numpy arrays.
fn bin_arrays(points: densebin::read::PointsRef<'_>, threads: usize, chunk: usize) -> Grid {
    let req = BinRequest {
        width: CANVAS.width,
        height: CANVAS.height,
        x_range: Some(CANVAS.x),
        y_range: Some(CANVAS.y),
        layers: Some(LAYERS.parse().unwrap()),
        z_bins: CANVAS.zhist.unwrap().0,
        z_range: Some(CANVAS.zhist.unwrap().1),
        chunk_size: Some(chunk),
        ..BinRequest::default()
    };
    let ctx = RunContext::new()
        .with_threads(Some(threads))
        .expect("threads");
    let mut sources = [densebin::read::ArraySource::new("arrays", points)];
    req.run(&mut sources, &ctx).expect("bin")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Column views of one (N, 4) array — strided, as `X, Y, Z, W =
    /// memmap.T` gives them — bin to the grid of the owned copy, in f64 and
    /// in f32, with any number of threads and chunk size: integer layers
    /// exactly, float layers to rounding.
    #[test]
    fn borrowed_strided_views_bin_like_the_owned_copy(pts in cloud(3000), chunk in 1usize..200) {
        use densebin::read::{ColumnRef, PointsRef};
        use ndarray::Array2;
        let n = pts.len();
        let wide = Array2::from_shape_fn((n, 4), |(i, j)| [pts[i].0, pts[i].1, pts[i].2, pts[i].3][j]);
        let narrow = wide.mapv(|v| v as f32);
        let wcol = |j: usize| ColumnRef::F64(wide.column(j));
        let f64s = PointsRef::new(wcol(0), wcol(1), Some(wcol(2)), Some(wcol(3))).unwrap();
        // And contiguous columns, which are binned in place.
        let columns = wide.t().as_standard_layout().into_owned();
        let ccol = |j: usize| ColumnRef::F64(columns.row(j));
        let contiguous = PointsRef::new(ccol(0), ccol(1), Some(ccol(2)), Some(ccol(3))).unwrap();
        let col = |j: usize| ColumnRef::F32(narrow.column(j));
        let f32s = PointsRef::new(col(0), col(1), Some(col(2)), Some(col(3))).unwrap();
        let widened: Vec<(f64, f64, f64, f64)> = narrow
            .rows()
            .into_iter()
            .map(|r| (f64::from(r[0]), f64::from(r[1]), f64::from(r[2]), f64::from(r[3])))
            .collect();
        for (points, owned) in [(f64s, pts.clone()), (contiguous, pts.clone()), (f32s, widened)] {
            let reference = grid_of(&owned);
            Oracle::bin(CANVAS, &owned).assert_matches(&reference, "owned");
            for threads in [1, 3] {
                for chunk in [chunk, chunk * 97] {
                    let g = bin_arrays(points.clone(), threads, chunk);
                    let what = format!("{threads} threads, chunk {chunk}");
                    prop_assert_eq!(g.count(), reference.count(), "{}", what);
                    prop_assert_eq!(g.count_z(), reference.count_z(), "{}", what);
                    prop_assert_eq!(g.zhist(), reference.zhist(), "{}", what);
                    assert_grids_close(&g, &reference, &what);
                }
            }
        }
    }
}
