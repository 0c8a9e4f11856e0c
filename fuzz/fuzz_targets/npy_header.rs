//! .npy files: the header parser (magic, version, dict, dtype, shape) and
//! the records it describes. Any file must give points or an error.
#![no_main]

use densebin::binning::read_points;
use densebin::read::{Format, Input, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("fuzz.npy");
    std::fs::write(&path, data).expect("write the case");
    let opts = ReadOptions {
        format: Format::Npy,
        ..ReadOptions::default()
    };
    if let Ok(input) = Input::open(&path, &opts) {
        let _ = read_points(&[input], &densebin::RunContext::new(), |_| Ok(()));
    }
});
