//! Arbitrary JSON must never panic the engine.

use freightgate::rules::{RuleSet, load_dir};
use serde_json::{Value, json};
use std::path::Path;

fn rules() -> RuleSet {
    load_dir(Path::new("rules"))
        .map(|(s, _)| s)
        .unwrap_or_else(|r| panic!("{r}"))
}

fn exercise(set: &RuleSet, payload: &Value) {
    for business in ["northwind", "acme", "bavaria-buero", ""] {
        let _ = set.classify(business, payload);
        let _ = set.process(business, payload);
        let ex = set.explain(business, payload);
        let _ = serde_json::to_string(&ex).expect("explanations serialise");
    }
}

const KEYS: &[&str] = &[
    "operation",
    "order_identifier",
    "customer",
    "code",
    "consignments",
    "pickup_stop",
    "location",
    "country",
    "goods",
    "quantity",
    "weight_kg",
    "addons",
    "consignment",
    "network_reference",
    "depot",
    "pallets",
    "shipmentNumber",
    "facility",
    "orders",
    "items",
    "pallet",
    "label",
    "file",
    "mime",
    "content_base64",
    "type",
    "order_ref",
    "Positionen",
    "Gewicht_lb",
    "Lieferdatum",
    "time_window",
    "start",
    "kind",
];

const STRINGS: &[&str] = &[
    "CREATE",
    "UPDATE",
    "DELETE",
    "GB",
    "ZZ",
    "",
    "2026-03-12 08:00",
    "palletObserved",
    "AUFTRAG",
    "proof_of_delivery",
    "yard.checkin",
    "application/pdf",
    "%%%",
    "ünï©ødé",
];

/// A small deterministic generator (xorshift) so failures reproduce.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn value(&mut self, depth: u32) -> Value {
        match (self.next() % 9, depth) {
            (0, _) => Value::Null,
            (1, _) => json!(self.next().is_multiple_of(2)),
            (2, _) => json!(self.next() as i64),
            (3, _) => json!(f64::from_bits(self.next() & 0x7fef_ffff_ffff_ffff)),
            (4 | 5, _) | (_, 0) => json!(self.pick(STRINGS)),
            (6, _) => Value::Array(
                (0..self.next() % 4)
                    .map(|_| self.value(depth - 1))
                    .collect(),
            ),
            _ => {
                let n = self.next() % 6;
                let map = (0..n)
                    .map(|_| (self.pick(KEYS).to_string(), self.value(depth - 1)))
                    .collect();
                Value::Object(map)
            }
        }
    }
}

#[test]
fn random_payloads_never_panic() {
    let set = rules();
    let mut generator = Gen(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let payload = generator.value(6);
        exercise(&set, &payload);
    }
}

#[test]
fn deep_nesting_huge_strings_and_extreme_numbers_are_handled() {
    let set = rules();
    let mut deep = json!("bottom");
    for i in 0..120u32 {
        deep = if i.is_multiple_of(2) {
            json!({ "consignment": deep })
        } else {
            json!({ "orders": [deep] })
        };
    }
    exercise(&set, &deep);
    let huge = "9".repeat(5_000_000);
    let payload = json!({"operation": "CREATE", "order_identifier": huge, "customer": {"code": huge}, "consignments": [{"goods": [{"quantity": 1e308, "weight_kg": -0.0}]}], "addons": [huge]});
    exercise(&set, &payload);
    let numbers = json!({"consignment": {"network_reference": u64::MAX, "depot": i64::MIN, "pallets": [{"weight_kg": 1.7976931348623157e308}], "collection_date": 12}});
    exercise(&set, &numbers);
}

#[test]
fn oversized_attachments_are_refused_without_decoding_them() {
    let set = rules();
    let content = "A".repeat(20 * 1024 * 1024);
    let payload = json!({"type": "proof_of_delivery", "order_ref": "SO-1", "file": {"name": "a.pdf", "mime": "application/pdf", "content_base64": content}});
    let out = set.process("northwind", &payload);
    let codes: Vec<&str> = out.items[0]
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(codes, vec!["too_large"]);
}

#[test]
fn payloads_shaped_like_rules_but_with_wrong_types_get_findings_not_panics() {
    let set = rules();
    let payload = json!({"operation": "CREATE", "order_identifier": {"a": 1}, "customer": {"code": [1, 2]}, "addons": "TAIL_LIFT", "consignments": [{"goods": [{"quantity": "lots", "weight_kg": -5}], "pickup_stop": {"location": "Derby", "time_window": {"start": 17}}}]});
    let out = set.process("acme", &payload);
    let codes: Vec<&str> = out.items[0]
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    for code in ["invalid_value", "negative_value", "invalid_datetime"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert_eq!(out.items[0].document["addons"], json!(["TAIL_LIFT"]));
}
