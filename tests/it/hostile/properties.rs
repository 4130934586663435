//! Property tests (proptest): classify, map, validate and explain over arbitrary
//! JSON, the body reader over arbitrary bytes and the rules loader over arbitrary
//! text never panic. Case counts stay modest so the suite stays quick.

use std::path::Path;
use std::sync::OnceLock;

use freightgate::ingest::body::{self, Format};
use freightgate::rules::{RuleSet, load_dir, load_str};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        load_dir(Path::new("rules"))
            .map(|(set, _)| set)
            .unwrap_or_else(|report| panic!("{report}"))
    })
}

const FEEDS: &[&str] = &[
    "dock-pallet-scan.json",
    "erp-flat-order.json",
    "pallet-network-consignment.json",
    "pod-document.json",
    "shipment-status.json",
    "tms-order-cancel.json",
    "tms-order-create.json",
    "tms-order-update.json",
    "wms-shipment-with-orders.json",
];

fn feeds() -> &'static [Value] {
    static PARSED: OnceLock<Vec<Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        FEEDS
            .iter()
            .map(|name| serde_json::from_str(&crate::ingest::feed(name)).expect(name))
            .collect()
    })
}

/// Keys the shipped rules look at, so generated objects reach their conditions.
const KEYS: &[&str] = &[
    "operation",
    "order_identifier",
    "customer",
    "code",
    "consignments",
    "goods",
    "quantity",
    "weight_kg",
    "consignment",
    "pallets",
    "shipmentNumber",
    "facility",
    "orders",
    "items",
    "pallet",
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
    "country",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(Value::from(-0.0)),
        any::<String>().prop_map(Value::String),
        "[A-Z]{2}|20[0-9]{2}-[01][0-9]-[0-3][0-9]([T ][0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?(Z|[+-][01][0-9]:?[0-5][0-9])?"
            .prop_map(Value::String),
    ]
}

/// Arbitrary JSON up to a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Replaces the subtree that `choice` steers to with `new`: a real feed with one
/// part swapped for garbage gets past classification and into mapping.
fn graft(here: &mut Value, choice: u64, new: Value) {
    let stop = choice.is_multiple_of(4);
    let rest = choice / 4;
    let child = match here {
        Value::Object(map) if !map.is_empty() && !stop => {
            let at = (rest % map.len() as u64) as usize;
            map.values_mut().nth(at)
        }
        Value::Array(items) if !items.is_empty() && !stop => {
            let at = (rest % items.len() as u64) as usize;
            items.get_mut(at)
        }
        _ => None,
    };
    match child {
        Some(child) => graft(child, rest / 7, new),
        None => *here = new,
    }
}

/// Runs every rules entry point on `payload` and checks they agree.
fn exercise(payload: &Value) {
    let set = rules();
    for business in ["northwind", "acme", "bavaria-buero", "nobody"] {
        let classified = set
            .classify(business, payload)
            .map(|r| r.name().to_string());
        let outcome = set.process(business, payload);
        let explanation = set.explain(business, payload);
        assert_eq!(
            outcome.rule.as_ref().map(|r| r.name.clone()),
            classified,
            "process and classify disagree on {payload}"
        );
        assert_eq!(
            explanation.chosen.as_ref().map(|r| r.name.clone()),
            classified,
            "explain and classify disagree on {payload}"
        );
        serde_json::to_string(&explanation).expect("explanations serialise");
        serde_json::to_string(&outcome).expect("outcomes serialise");
    }
}

/// Every body format: CSV in several dialects (`;`, Windows-1252, no header row),
/// XML, both EDI standards and the shipped fixed-width reader.
fn formats() -> Vec<Format> {
    let mut all = vec![Format::Json, Format::Ndjson];
    for content_type in [
        "text/csv",
        r#"text/csv; charset=windows-1252; delimiter=";""#,
        "text/csv; header=absent; delimiter=tab",
    ] {
        all.push(Format::from_content_type(Some(content_type)).expect("a CSV dialect"));
    }
    all.push(Format::from_content_type(Some("application/xml")).expect("XML"));
    all.push(Format::Edifact);
    all.push(Format::X12);
    all.push(
        rules()
            .format("northwind", Some("text/plain"))
            .expect("the shipped fixed-width reader"),
    );
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_classify_map_validate_or_explain(payload in json()) {
        exercise(&payload);
    }

    #[test]
    fn real_feeds_with_a_part_replaced_never_panic(
        feed in 0..FEEDS.len(),
        grafts in prop::collection::vec((any::<u64>(), json()), 1..4),
    ) {
        let mut payload = feeds()[feed].clone();
        for (choice, new) in grafts {
            graft(&mut payload, choice, new);
        }
        exercise(&payload);
    }

    #[test]
    fn the_body_reader_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        format in prop::sample::select(formats()),
    ) {
        if let Ok(documents) = body::documents(format, &bytes) {
            prop_assert!(!documents.is_empty());
            for (i, doc) in documents.iter().enumerate() {
                prop_assert_eq!(doc.index, i);
            }
        }
    }

    #[test]
    fn csv_and_ndjson_text_never_panics_and_each_row_is_accounted_for(
        rows in prop::collection::vec("[a-z0-9\",;\n\r\u{feff} ]{0,24}", 1..12),
        format in prop::sample::select(formats()[1..].to_vec()),
    ) {
        let text = rows.join("\n");
        if let Ok(documents) = body::documents(format, text.as_bytes()) {
            prop_assert!(documents.len() <= text.split(['\n', '\r']).count());
        }
    }

    #[test]
    fn the_rules_loader_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = load_str("fuzz.toml", &text);
    }

    #[test]
    fn the_rules_loader_never_panics_on_damaged_rules_files(
        file in 0..SHIPPED.len(),
        cut in any::<prop::sample::Index>(),
        insert in "[\\[\\]{}=\"'.,a-z0-9_ \n$*?@<>!]{0,12}",
    ) {
        let text = std::fs::read_to_string(Path::new("rules").join(SHIPPED[file])).unwrap();
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let damaged = format!("{}{insert}{}", &text[..at], &text[at..]);
        let _ = load_str(SHIPPED[file], &damaged);
    }
}

const SHIPPED: &[&str] = &[
    "bavaria-erp.toml",
    "northwind-dock.toml",
    "northwind-documents.toml",
    "northwind-expected-shipments.toml",
    "northwind-flat.toml",
    "northwind-wms.toml",
    "northwind-yard.toml",
    "pallet-network.toml",
    "tms-orders.toml",
];
