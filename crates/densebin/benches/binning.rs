//! Binning kernels: `Grid::append` per layer set and canvas size, and
//! `Grid::merge`. Points are the structured cloud of `examples/gen_points.rs`
//! in file order (random pixel order), so the numbers include the cache
//! misses a real run pays.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use densebin::read::Points;
use densebin::{Grid, GridSpec, LayerSet};

/// A deterministic cloud: clusters of many sizes plus a uniform background.
fn cloud(n: usize) -> Points {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut u = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut p = Points::default();
    for i in 0..n {
        let (cx, cy, r) = match i % 10 {
            0 => (0.0, 0.0, 10.0),
            k => (
                (k as f64 - 5.0) * 1.7,
                (k as f64 * 1.3).sin() * 4.0,
                0.05 * k as f64,
            ),
        };
        let (a, b) = (u() * std::f64::consts::TAU, u().sqrt() * r);
        p.x.push(cx + b * a.cos());
        p.y.push(cy + b * a.sin() * 0.6);
        p.z.push((cx + cy).sin() + u() * 0.1);
    }
    p
}

fn batches(p: &Points) -> Vec<Points> {
    (0..p.len())
        .step_by(densebin::read::BATCH)
        .map(|i| {
            let j = (i + densebin::read::BATCH).min(p.len());
            Points {
                x: p.x[i..j].to_vec(),
                y: p.y[i..j].to_vec(),
                z: p.z[i..j].to_vec(),
                w: Vec::new(),
                ..Points::default()
            }
        })
        .collect()
}

fn spec(size: usize, layers: &str) -> GridSpec {
    let layers: LayerSet = layers.parse().unwrap();
    GridSpec::new(size, size, (-10.0, 10.0), (-6.0, 6.0))
        .unwrap()
        .with_layers(layers, Some((32, (-2.0, 2.0))))
        .unwrap()
}

fn append(c: &mut Criterion) {
    // Batches of the size the readers hand over.
    let batches = batches(&cloud(1 << 20));
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(1 << 20));
    group.sample_size(10);
    for size in [1000, 4000] {
        for layers in [
            "count",
            "count,sum",
            "count,sum,minmax",
            "count,sum,minmax,zhist",
        ] {
            if size == 4000 && layers.contains("zhist") {
                continue; // 2 GiB of histogram: measured end to end instead
            }
            let mut grid = Grid::empty(spec(size, layers));
            group.bench_with_input(BenchmarkId::new(layers, size), &batches, |b, batches| {
                b.iter(|| {
                    for batch in batches {
                        grid.append(batch).unwrap();
                    }
                })
            });
        }
    }
    group.finish();
}

/// The worker path: an Accumulator (u8 counts that carry, memory touched up front),
/// as `densebin bin` runs it.
fn accumulate(c: &mut Criterion) {
    let batches = batches(&cloud(1 << 20));
    let mut group = c.benchmark_group("accumulate");
    group.throughput(Throughput::Elements(1 << 20));
    group.sample_size(10);
    for size in [1000, 4000] {
        for layers in ["count", "count,sum"] {
            let spec = spec(size, layers);
            let shared = densebin::binning::SharedZhist::new(&spec);
            let cats = densebin::binning::SharedCategories::new(&spec, 0);
            let mut acc = densebin::binning::Accumulator::new(spec, true, shared, cats);
            group.bench_with_input(BenchmarkId::new(layers, size), &batches, |b, batches| {
                b.iter(|| {
                    for batch in batches {
                        acc.append(batch).unwrap();
                    }
                })
            });
        }
    }
    group.finish();
}

fn merge(c: &mut Criterion) {
    let mut group = c.benchmark_group("merge");
    group.sample_size(10);
    for layers in ["count", "count,sum,minmax,zhist"] {
        let s = spec(1000, layers);
        let mut a = Grid::empty(s.clone());
        let mut b = Grid::empty(s);
        let pts = cloud(1 << 16);
        a.append(&pts).unwrap();
        b.append(&pts).unwrap();
        group.bench_function(BenchmarkId::new(layers, 1000), |bench| {
            bench.iter(|| a.merge(&b).unwrap())
        });
    }
    group.finish();
}

/// Log axes against linear ones: the same points shifted to positive x
/// and y (so that all are binned), counted at 1000², linear and log on
/// both axes. What `log10` costs per point.
fn log_axes(c: &mut Criterion) {
    use densebin::grid::AxisType::{Linear, Log};
    let mut batches = batches(&cloud(1 << 20));
    for b in &mut batches {
        b.x.iter_mut().for_each(|x| *x += 11.0);
        b.y.iter_mut().for_each(|y| *y += 7.0);
    }
    let mut group = c.benchmark_group("axes");
    group.throughput(Throughput::Elements(1 << 20));
    group.sample_size(10);
    for (name, axis) in [("linear", Linear), ("log", Log)] {
        let spec = GridSpec::new(1000, 1000, (1.0, 21.0), (1.0, 13.0))
            .unwrap()
            .with_axis_types(axis, axis)
            .unwrap();
        let mut grid = Grid::empty(spec);
        group.bench_with_input(BenchmarkId::new(name, 1000), &batches, |b, batches| {
            b.iter(|| {
                for batch in batches {
                    grid.append(batch).unwrap();
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, append, accumulate, merge, log_axes);
criterion_main!(benches);
