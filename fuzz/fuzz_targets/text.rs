//! The text reader: sniffing (delimiter, header, columns) and parsing
//! every point. Any input must give points or an error, never a panic.
#![no_main]

use densebin::binning::read_points;
use densebin::read::{Format, Input, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks whether malformed lines fail the run or are
    // skipped, so that both paths are explored.
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let opts = ReadOptions {
        format: Format::Text,
        skip_bad_lines: pick & 1 != 0,
        ..ReadOptions::default()
    };
    let reader = Box::new(std::io::Cursor::new(text.to_vec()));
    if let Ok(input) = Input::open_stream(reader, "fuzz.txt".into(), Format::Text, &opts) {
        let _ = read_points(&[input], &densebin::RunContext::new(), |_| Ok(()));
    }
});
