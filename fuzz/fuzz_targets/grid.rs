//! The grid reader: any file must read as a grid or give an error. Bytes
//! go through libhdf5 first, so a crash here may be libhdf5's own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("fuzz.h5");
    std::fs::write(&path, data).expect("write the case");
    let _ = densebin::store::read_grid(&path);
});
