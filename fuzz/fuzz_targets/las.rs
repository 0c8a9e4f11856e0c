//! The LAS and LAZ reader: the header checks, the chunk table and the
//! record decoding are densebin's own (the header's fields and the LAZ
//! decoder come from the `las` and `laz` crates). Any file must give
//! points or an error, never a panic (the LAZ decoder's own panics on
//! damaged chunks are caught and reported as errors).
#![no_main]

use densebin::binning::read_points;
use densebin::read::{Column, Format, Input, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the columns: coordinates, or attributes as z
    // and as categories.
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("fuzz.las");
    std::fs::write(&path, file).expect("write the case");
    let mut opts = ReadOptions {
        format: Format::Las,
        ..ReadOptions::default()
    };
    if pick & 1 != 0 {
        opts.z = Some(Column::Name("gps_time".into()));
        opts.by = Some(Column::Name("classification".into()));
    }
    if let Ok(input) = Input::open(&path, &opts) {
        let _ = read_points(&[input], &densebin::RunContext::new(), |_| Ok(()));
    }
});
