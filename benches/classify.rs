//! Classification cost as the rule set grows: 10, 100, 1000 and 10,000 rules; and
//! the time to load (or reload) 10,000 rules from a directory of 100 files.
//!
//! The synthetic sets look like a real gateway's: many senders, each with a
//! handful of rules (create / update / cancel / status). Some senders are
//! scoped to their own business, some share generic paths with their own
//! discriminator values, and some use field names nobody else uses.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use freightgate::rules::{RuleSet, load_dir, load_str};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Duration;

const MAPPING: &str = r#"
[rule.map]
order_number = "$.order.id"
customer = "$.order.customer"
service_level = { path = "$.order.service", transform = ["trim", "upper"] }
notes = "$.order.notes"
[rule.map.consignee]
path = "$.order.deliver_to"
map = { name = "$.name", address_one = "$.street", city = "$.city", postal_code = "$.zip", country = "$.country" }
[rule.map.items]
path = "$.order.lines[*]"
map = { sku = "$.sku", quantity = "$.qty", weight_per_unit = { path = "$.lb", transform = ["lb_to_kg"] } }
"#;

/// A cancel keeps the order number and the reason only (the loader refuses a cancel
/// rule that maps fields it would drop).
const CANCEL_MAPPING: &str = r#"
[rule.map]
order_number = "$.order.id"
notes = "$.order.notes"
"#;

/// Rule `n` of sender `k`: one of four operations, discriminated the way that sender's shape allows.
fn sender_rule(k: usize, n: usize) -> String {
    let ops = [
        ("CREATE", "create"),
        ("UPDATE", "update"),
        ("DELETE", "cancel"),
        ("AMEND", "update"),
    ];
    let mut out = String::new();
    for (code, op) in ops.into_iter().skip(n).take(1) {
        let (scope, condition) = match k % 3 {
            0 => (
                format!("business = \"biz-{k}\""),
                format!(
                    r#"{{ all = [ {{ path = "$.operation", equals = "{code}" }}, {{ path = "$.order.id", exists = true }} ] }}"#
                ),
            ),
            1 => (
                String::new(),
                format!(
                    r#"{{ all = [ {{ path = "$.source.system", equals = "sys-{k}" }}, {{ path = "$.operation", equals = "{code}" }}, {{ path = "$.order.id", regex = "^[A-Z]+-\\d+$" }} ] }}"#
                ),
            ),
            _ => (
                String::new(),
                format!(
                    r#"{{ all = [ {{ path = "$.header.sender_{k}_ref", exists = true }}, {{ path = "$.header.msg", one_of = ["{code}", "{code}_V2"] }}, {{ path = "$.order.lines[0].qty", gt = 0 }} ] }}"#
                ),
            ),
        };
        out.push_str(&format!(
            "[[rule]]\nname = \"sender-{k}-{op}-{code}\"\n{scope}\noperation = \"{op}\"\nentity = \"order\"\nmatch = {condition}\n{}\n",
            if op == "cancel" { CANCEL_MAPPING } else { MAPPING }
        ));
    }
    out
}

fn rules_text(rules: std::ops::Range<usize>) -> String {
    rules.map(|i| sender_rule(i / 4, i % 4)).collect()
}

fn rule_set(rules: usize) -> RuleSet {
    match load_str("bench.toml", &rules_text(0..rules)) {
        Ok((set, _)) => set,
        Err(report) => panic!("benchmark rules must load: {report}"),
    }
}

/// A realistic order payload from sender `k`.
fn payload(k: usize, operation: &str) -> Value {
    json!({
        "operation": operation,
        "source": { "system": format!("sys-{k}"), "version": "4.2" },
        "header": { format!("sender_{k}_ref"): "H-1", "msg": operation, "sent_at": "2026-03-12T08:00:00+00:00" },
        "order": {
            "id": "ORD-100234",
            "customer": "ACME",
            "service": "next_day",
            "notes": "Ring the bell",
            "deliver_to": { "name": "Brightside", "street": "22 Harbour Road", "city": "Bristol", "zip": "BS1 5TT", "country": "GB" },
            "lines": (0..20).map(|i| json!({ "sku": format!("SKU-{i}"), "qty": i + 1, "lb": 12.5 })).collect::<Vec<_>>()
        },
        "meta": { "trace": "abc", "tags": ["a", "b", "c"], "attempt": 1 }
    })
}

fn bench_classify(c: &mut Criterion) {
    let mut group = c.benchmark_group("classify");
    group
        .measurement_time(Duration::from_secs(4))
        .sample_size(60);
    let cases = [
        ("scoped-sender", "biz-0", payload(0, "UPDATE")),
        ("generic-paths", "biz-x", payload(1, "DELETE")),
        ("own-paths", "biz-x", payload(2, "CREATE")),
        ("no-match", "biz-x", payload(999_999, "CREATE")),
    ];
    for size in [10usize, 100, 1000, 10_000] {
        let set = rule_set(size);
        assert_eq!(set.len(), size);
        for (label, business, p) in &cases {
            let found = set.classify(business, p).is_some();
            assert_eq!(found, *label != "no-match", "{label} at {size} rules");
            group.bench_with_input(BenchmarkId::new(*label, size), &set, |b, set| {
                b.iter(|| black_box(set.classify(black_box(business), black_box(p))).is_some())
            });
        }
    }
    group.finish();
}

/// Loading 10,000 rules from 100 files, as a start or a reload reads them (a reload
/// builds the new set beside the old one, which requests in flight keep using).
fn bench_load(c: &mut Criterion) {
    const RULES: usize = 10_000;
    const FILES: usize = 100;
    let dir = std::env::temp_dir().join(format!("fg-bench-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let per_file = RULES / FILES;
    for f in 0..FILES {
        let text = rules_text(f * per_file..(f + 1) * per_file);
        std::fs::write(dir.join(format!("sender-{f:03}.toml")), text).expect("write rules");
    }
    let (set, _) = load_dir(&dir).expect("benchmark rules must load");
    assert_eq!(set.len(), RULES);
    let mut group = c.benchmark_group("load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function(BenchmarkId::new("dir", RULES), |b| {
        b.iter(|| black_box(load_dir(&dir).expect("load")).0.len())
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_classify, bench_load);
criterion_main!(benches);
