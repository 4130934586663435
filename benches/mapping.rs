//! Classification + mapping + validation of each sample feed with the shipped rules,
//! next to a plain JSON parse of the same bytes as the floor.
//!
//! NDJSON feeds count their first line; CSV rows are read into the flat objects the
//! ingest endpoint builds from them (header names as keys, values as strings).

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
        let text = std::fs::read_to_string(&path).unwrap();
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

criterion_group!(benches, bench_mapping);
criterion_main!(benches);
