//! Reading: parsing text and decoding binary records, one thread, through
//! the range scan (`data_bounds`), which reads every point and does almost
//! nothing else. Files come from a deterministic cloud written to a
//! temporary folder: 1 M points as `x y z` text (4 decimals, like the
//! motivating file), as CSV, and as float32 records. The memory map is what
//! makes this zero-copy; see `read::Input::open`.

use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use densebin::binning::data_bounds;
use densebin::read::{Input, ReadOptions};

const N: usize = 1_000_000;

fn cloud() -> Vec<[f32; 3]> {
    let mut s = 0x853c_49e6_748f_ea9bu64;
    let mut u = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f32 / (1u64 << 53) as f32
    };
    (0..N)
        .map(|_| [u() * 20.0 - 10.0, u() * 12.0 - 6.0, u() * 4.0 - 2.0])
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pts = cloud();
    let write = |name: &str, bytes: Vec<u8>| {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        path
    };
    let text = |sep: &str| -> Vec<u8> {
        pts.iter()
            .flat_map(|p| format!("{:.4}{sep}{:.4}{sep}{:.4}\n", p[0], p[1], p[2]).into_bytes())
            .collect()
    };
    let files = [
        ("text_whitespace", write("p.txt", text(" "))),
        ("text_csv", write("p.csv", text(","))),
        (
            "f32_records",
            write(
                "p.f32",
                pts.iter().flatten().flat_map(|v| v.to_le_bytes()).collect(),
            ),
        ),
    ];
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    for (name, path) in &files {
        let bytes = std::fs::metadata(path).unwrap().len();
        group.throughput(Throughput::Bytes(bytes));
        let inputs = vec![Input::open(path, &ReadOptions::default()).unwrap()];
        group.bench_function(*name, |b| {
            let ctx = densebin::RunContext::new();
            b.iter(|| data_bounds(&inputs, None, None, Default::default(), 1, None, &ctx).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
