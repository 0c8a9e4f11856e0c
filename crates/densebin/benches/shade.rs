//! Shading and PNG encoding of a 4000 x 4000 grid: the re-colouring path,
//! which must stay well under a second; and what framing a 1000 x 1000
//! image as a figure adds.

use criterion::{Criterion, criterion_group, criterion_main};
use densebin::encode::{Compression, encode_png};
use densebin::figure::{FrameOptions, frame};
use densebin::read::Points;
use densebin::shade::{How, Mode, Shading, shade};
use densebin::{Grid, GridSpec, LayerSet};

const SIZE: usize = 4000;

/// `size` x `size` with count, sum, minmax and an 8-bin z histogram, from
/// 8 M clustered points (most pixels empty or sparse, a few dense).
fn grid(size: usize) -> Grid {
    let layers: LayerSet = "count,sum,minmax,zhist".parse().unwrap();
    let spec = GridSpec::new(size, size, (-10.0, 10.0), (-10.0, 10.0))
        .unwrap()
        .with_layers(layers, Some((8, (-2.0, 2.0))))
        .unwrap();
    let mut g = Grid::empty(spec);
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut u = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..2000 {
        let mut p = Points::default();
        for i in 0..4096 {
            let r = if i % 4 == 0 {
                9.0 * u().sqrt()
            } else {
                2.0 * u() * u()
            };
            let a = u() * std::f64::consts::TAU;
            let (x, y) = (r * a.cos(), r * a.sin());
            p.x.push(x);
            p.y.push(y);
            p.z.push((x * 0.5).sin() + (y * 0.3).cos());
        }
        g.append(&p).unwrap();
    }
    g
}

fn bench(c: &mut Criterion) {
    let g = grid(SIZE);
    let mut group = c.benchmark_group("shade_4000");
    group.sample_size(10);
    let cases = [
        ("density_eq_hist", Shading::default()),
        (
            "density_log",
            Shading {
                how: Some(How::Log),
                ..Shading::default()
            },
        ),
        (
            "mean_fade_eq_hist",
            Shading {
                mode: Mode::Mean,
                how: Some(How::EqHist),
                background: Some([0.0; 3]),
                ..Shading::default()
            },
        ),
        (
            "scatter_8_bins",
            Shading {
                mode: Mode::Scatter,
                alpha: 0.05,
                background: Some([1.0; 3]),
                ..Shading::default()
            },
        ),
    ];
    for (name, s) in &cases {
        group.bench_function(*name, |b| b.iter(|| shade(&g, s).unwrap()));
    }
    let img = shade(&g, &cases[0].1).unwrap().image;
    for (name, level) in [
        ("png_fast", Compression::Fast),
        ("png_level3", Compression::Level(3)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(64 << 20);
                encode_png(&img, &mut out, level, &[]).unwrap();
                out.len()
            })
        });
    }
    group.bench_function("density_eq_hist_and_png_level3", |b| {
        b.iter(|| {
            let img = shade(&g, &cases[0].1).unwrap().image;
            let mut out = Vec::with_capacity(64 << 20);
            encode_png(&img, &mut out, Compression::Level(3), &[]).unwrap();
            out.len()
        })
    });
    group.finish();
}

/// Framing a 1000 x 1000 density image: the figure's layout, text, ticks
/// and colorbar, against shading alone.
fn bench_frame(c: &mut Criterion) {
    let g = grid(1000);
    let mut group = c.benchmark_group("frame_1000");
    group.sample_size(20);
    let s = Shading::default();
    group.bench_function("shade", |b| b.iter(|| shade(&g, &s).unwrap()));
    let shaded = shade(&g, &s).unwrap();
    let opts = FrameOptions {
        title: Some("8 million points".to_string()),
        ..FrameOptions::default()
    };
    group.bench_function("frame", |b| {
        b.iter(|| frame(&shaded.image, &shaded.legend, g.spec(), &opts).to_image())
    });
    let figure = frame(&shaded.image, &shaded.legend, g.spec(), &opts);
    group.bench_function("svg", |b| {
        b.iter(|| figure.to_svg(Compression::Level(3), &[]).unwrap().len())
    });
    group.finish();
}

criterion_group!(benches, bench, bench_frame);
criterion_main!(benches);
