//! The CSV (in several dialects), XML and NDJSON body readers on arbitrary bytes:
//! never panic, and what they return is documents numbered in order.
#![no_main]

use freightgate::ingest::body::{Format, documents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dialects = [
        "text/csv",
        r#"text/csv; charset=windows-1252; delimiter=";""#,
        "text/csv; header=absent",
        "application/xml",
    ]
    .map(|c| Format::from_content_type(Some(c)).expect("a CSV dialect"));
    for format in dialects.into_iter().chain([Format::Ndjson]) {
        if let Ok(docs) = documents(format, data) {
            assert!(!docs.is_empty());
            for (i, doc) in docs.iter().enumerate() {
                assert_eq!(doc.index, i);
                if let Ok(value) = &doc.value {
                    assert!(format == Format::Ndjson || value.is_object());
                }
            }
        }
    }
});
