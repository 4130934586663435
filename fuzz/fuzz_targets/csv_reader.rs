//! The CSV (and NDJSON) body reader on arbitrary bytes: never panics, and what it
//! returns is one document per row, numbered in order.
#![no_main]

use freightgate::ingest::body::{Format, documents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Csv, Format::Ndjson] {
        if let Ok(docs) = documents(format, data) {
            assert!(!docs.is_empty());
            for (i, doc) in docs.iter().enumerate() {
                assert_eq!(doc.index, i);
                if let Ok(value) = &doc.value {
                    assert!(format != Format::Csv || value.is_object());
                }
            }
        }
    }
});
