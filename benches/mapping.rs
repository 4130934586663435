//! Classification + mapping + validation of each sample feed with the shipped rules,
//! next to a plain JSON parse of the same bytes as the floor.
//!
//! NDJSON feeds count their first line; CSV rows are read into the flat objects the
//! ingest endpoint builds from them (header names as keys, values as strings).
//!
//! The `reader` group reads each feed that is not JSON (CSV, XML, EDIFACT, X12,
//! fixed-width) into its documents with the endpoint's own readers, next to the
//! plainest pass over the same bytes that a reader cannot do without: the csv
//! crate's records, quick-xml's events over the decoded text, counting EDI segment
//! terminators, decoding and splitting a fixed-width file into lines.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freightgate::rules::load_dir;
use serde_json::{Map, Value};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const BUSINESSES: [&str; 2] = ["northwind", "bavaria-buero"];

/// (feed name, the bytes one document arrives as, the document as the pipeline sees it)
fn documents() -> Vec<(String, Vec<u8>, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/feeds");
    let mut out = vec![];
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Feeds in other charsets and formats are the `reader` group's.
        let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) else {
            continue;
        };
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                let v = serde_json::from_str(&text).unwrap();
                out.push((name, text.into_bytes(), v));
            }
            Some("ndjson") => {
                let line = text.lines().next().unwrap().to_string();
                let v = serde_json::from_str(&line).unwrap();
                out.push((name, line.into_bytes(), v));
            }
            Some("csv") => {
                let mut reader = csv::Reader::from_reader(text.as_bytes());
                let headers = reader.headers().unwrap().clone();
                let row = reader.records().next().unwrap().unwrap();
                let object: Map<String, Value> = headers
                    .iter()
                    .zip(row.iter())
                    .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                    .collect();
                let v = Value::Object(object);
                out.push((name, v.to_string().into_bytes(), v));
            }
            _ => {}
        }
    }
    out
}

fn bench_mapping(c: &mut Criterion) {
    let rules_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let (set, _) = load_dir(&rules_dir).unwrap_or_else(|r| panic!("shipped rules load: {r}"));
    let mut group = c.benchmark_group("feed");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    for (name, bytes, document) in documents() {
        let business = BUSINESSES
            .into_iter()
            .find(|b| set.classify(b, &document).is_some())
            .unwrap_or_else(|| panic!("a shipped rule recognises {name}"));
        let outcome = set.process(business, &document);
        assert!(
            !outcome.items.is_empty(),
            "{name} maps to at least one item"
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("json_parse", &name), &bytes, |b, bytes| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(bytes)).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("classify_map_validate", &name),
            &document,
            |b, document| b.iter(|| set.process(black_box(business), black_box(document))),
        );
    }
    group.finish();
}

/// How the ingest endpoint would be sent each feed that is not JSON, by extension.
fn content_type(name: &str, bytes: &[u8]) -> Option<&'static str> {
    let ext = name.rsplit('.').next()?;
    Some(match ext {
        "csv" if name.contains("1252") => r#"text/csv; charset=windows-1252; delimiter=";""#,
        "csv" => "text/csv",
        "xml" => "application/xml",
        "edi" if bytes.starts_with(b"ISA") => "application/EDI-X12",
        "edi" => "application/EDIFACT",
        "txt" => "text/plain",
        _ => return None,
    })
}

/// The floor for a feed: what any reader of its format must do with the bytes.
fn floor(content_type: &str, bytes: &[u8]) -> usize {
    if content_type.starts_with("text/csv") {
        let delimiter = if content_type.contains(';') {
            b';'
        } else {
            b','
        };
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(bytes)
            .byte_records()
            .count()
    } else if content_type == "application/xml" {
        // Decoded to text first, as the reader must (the feed declares ISO-8859-1).
        let text = encoding_rs::WINDOWS_1252.decode(bytes).0;
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut events = 0;
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Eof => break events,
                _ => events += 1,
            }
        }
    } else if content_type == "application/EDIFACT" {
        bytes.iter().filter(|b| **b == b'\'').count()
    } else if content_type == "application/EDI-X12" {
        bytes.iter().filter(|b| **b == b'~').count()
    } else {
        encoding_rs::WINDOWS_1252.decode(bytes).0.lines().count()
    }
}

fn bench_readers(c: &mut Criterion) {
    use freightgate::ingest::body;
    let rules_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let (set, _) = load_dir(&rules_dir).unwrap_or_else(|r| panic!("shipped rules load: {r}"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/feeds");
    let mut feeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    feeds.sort();
    let mut group = c.benchmark_group("reader");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    for path in feeds {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let Some(content_type) = content_type(&name, &bytes) else {
            continue;
        };
        let format = set
            .format("northwind", Some(content_type))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let read =
            body::documents(format.clone(), &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(read.iter().all(|d| d.value.is_ok()), "{name} reads whole");
        assert!(floor(content_type, &bytes) > 0, "{name}: the floor sees it");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("floor", &name), &bytes, |b, bytes| {
            b.iter(|| floor(content_type, black_box(bytes)))
        });
        group.bench_with_input(BenchmarkId::new("documents", &name), &bytes, |b, bytes| {
            b.iter(|| body::documents(format.clone(), black_box(bytes)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_mapping, bench_readers);
criterion_main!(benches);
