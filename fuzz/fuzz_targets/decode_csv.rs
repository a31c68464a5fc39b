//! Fuzzes the CSV decoder: the first line is the header, the rest one row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starling_formats::{Context, CsvDecoder, CsvMapping};
use starling_model::{Platform, Source};

fuzz_target!(|data: &[u8]| {
    let source = Source::Generated("fuzz".into());
    let context = Context::new(&source, starling_model::Timestamp::default());
    let (header, row) = data.split_at(data.iter().position(|byte| *byte == b'\n').map_or(data.len(), |end| end + 1));
    if let Ok(decoder) = CsvDecoder::new(header, &CsvMapping::default(), Platform::Other, &context) {
        let _ = decoder.decode(row, &context);
    }
});
