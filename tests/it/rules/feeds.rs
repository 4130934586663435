//! The shipped rules against the sample feeds senders really produce.

use chrono::DateTime;
use freightgate::rules::{Entity, Finding, Operation, Outcome, RuleSet, Severity, load_dir};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| match load_dir(Path::new("rules")) {
        Ok((set, _)) => set,
        Err(report) => panic!("shipped rules must load:\n{report}"),
    })
}

fn feed(name: &str) -> Value {
    let text =
        std::fs::read_to_string(Path::new("tests/feeds").join(name)).expect("feed file exists");
    serde_json::from_str(&text).expect("feed is JSON")
}

fn ndjson_line(name: &str, line: usize) -> Value {
    let text =
        std::fs::read_to_string(Path::new("tests/feeds").join(name)).expect("feed file exists");
    let raw = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .nth(line - 1)
        .expect("line exists");
    serde_json::from_str(raw).expect("line is JSON")
}

fn process(business: &str, name: &str) -> Outcome {
    rules().process(business, &feed(name))
}

fn errors(outcome: &Outcome) -> Vec<&Finding> {
    outcome
        .items
        .iter()
        .flat_map(|i| &i.findings)
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

fn rule_name(outcome: &Outcome) -> &str {
    outcome
        .rule
        .as_ref()
        .map(|r| r.name.as_str())
        .unwrap_or("(none)")
}

type Expected = (&'static str, &'static str, &'static str, Operation, Entity);

/// (business, feed file, rule, operation, entity) for every good sample feed.
const GOOD_FEEDS: [Expected; 9] = [
    (
        "acme",
        "tms-order-create.json",
        "tms-order-create",
        Operation::Create,
        Entity::Order,
    ),
    (
        "acme",
        "tms-order-update.json",
        "tms-order-update",
        Operation::Update,
        Entity::Order,
    ),
    (
        "acme",
        "tms-order-cancel.json",
        "tms-order-cancel",
        Operation::Cancel,
        Entity::Order,
    ),
    (
        "acme",
        "pallet-network-consignment.json",
        "pallet-network-consignment",
        Operation::Create,
        Entity::Order,
    ),
    (
        "northwind",
        "wms-shipment-with-orders.json",
        "northwind-wms-shipment",
        Operation::Create,
        Entity::Shipment,
    ),
    (
        "northwind",
        "dock-pallet-scan.json",
        "northwind-dock-pallet-scan",
        Operation::Attach,
        Entity::Pallet,
    ),
    (
        "northwind",
        "pod-document.json",
        "northwind-pod-document",
        Operation::Attach,
        Entity::Document,
    ),
    (
        "northwind",
        "shipment-status.json",
        "northwind-yard-checkin",
        Operation::Update,
        Entity::Shipment,
    ),
    (
        "bavaria-buero",
        "erp-flat-order.json",
        "bavaria-erp-order",
        Operation::Create,
        Entity::Order,
    ),
];

#[test]
fn every_good_feed_is_classified_as_the_operation_its_sender_meant() {
    for (business, file, rule, op, entity) in GOOD_FEEDS {
        let outcome = process(business, file);
        let summary = outcome
            .rule
            .clone()
            .unwrap_or_else(|| panic!("{file} matched no rule"));
        assert_eq!(
            (summary.name.as_str(), summary.operation, summary.entity),
            (rule, op, entity),
            "{file}"
        );
        assert!(
            errors(&outcome).is_empty(),
            "{file}: {:?}",
            errors(&outcome)
        );
    }
}

#[test]
fn erp_pounds_become_kilograms_per_item() {
    let outcome = process("bavaria-buero", "erp-flat-order.json");
    let doc = &outcome.items[0].document;
    assert_eq!(doc["items"][0]["quantity"], json!(4));
    assert_eq!(doc["items"][0]["weight_per_unit"], json!(40.007));
    assert_eq!(doc["items"][0]["weight_unit"], json!("KILOGRAM"));
    assert_eq!(doc["items"][1]["weight_per_unit"], json!(12.02));
    assert_eq!(doc["items"][1]["quantity_unit"], json!("UNIT"));
}

#[test]
fn erp_local_delivery_time_is_placed_in_berlin_summer_time() {
    let outcome = process("bavaria-buero", "erp-flat-order.json");
    let text = outcome.items[0].document["requested_delivery_date"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(text, "2026-05-20T14:00:00+02:00");
    let instant = DateTime::parse_from_rfc3339(&text).expect("ISO 8601 with offset");
    let utc = DateTime::parse_from_rfc3339("2026-05-20T12:00:00Z").expect("valid");
    assert_eq!(instant, utc);
}

#[test]
fn wms_shipment_has_two_orders_with_two_and_one_items() {
    let outcome = process("northwind", "wms-shipment-with-orders.json");
    assert_eq!(outcome.items.len(), 1);
    let doc = &outcome.items[0].document;
    let orders = doc["orders"].as_array().expect("orders list");
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0]["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(orders[1]["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(orders[1]["order_number"], json!("SO-778121"));
    assert_eq!(
        orders[0]["customer"],
        json!("northwind"),
        "root value reached with $$"
    );
    assert_eq!(
        doc["expected_arrival_at"],
        json!("2026-06-11T08:30:00+02:00")
    );
    let summary = outcome.rule.expect("matched");
    assert_eq!(summary.identity, vec!["shipment_number", "facility"]);
}

#[test]
fn tms_create_maps_stops_to_parties_and_windows() {
    let outcome = process("acme", "tms-order-create.json");
    let doc = &outcome.items[0].document;
    assert_eq!(doc["shipper"]["city"], json!("Derby"));
    assert_eq!(doc["consignee"]["postal_code"], json!("BS1 5TT"));
    assert_eq!(
        doc["pickup_window"]["start"],
        json!("2026-03-12T08:00:00+00:00")
    );
    assert_eq!(doc["addons"], json!(["TAIL_LIFT", "BOOKING_IN"]));
    assert_eq!(doc["items"][0]["gross_weight"], json!(640.0));
}

#[test]
fn every_ndjson_line_uses_the_tms_create_rule_and_line_three_has_a_bad_country() {
    for line in 1..=3 {
        let outcome = rules().process("acme", &ndjson_line("batch-orders.ndjson", line));
        assert_eq!(rule_name(&outcome), "tms-order-create");
        let errs = errors(&outcome);
        if line < 3 {
            assert!(errs.is_empty(), "line {line}: {errs:?}");
        } else {
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].code, "invalid_country");
            assert_eq!(
                errs[0].path,
                "$.consignments[0].pickup_stop.location.country"
            );
        }
    }
}

/// (business, feed file, finding code, payload path) for every broken sample feed.
const BAD_FEEDS: [(&str, &str, &str, &str); 6] = [
    (
        "acme",
        "bad/ambiguous-address.json",
        "incomplete_address",
        "$.consignments[0].pickup_stop.location",
    ),
    (
        "acme",
        "bad/date-without-zone.json",
        "invalid_datetime",
        "$.consignments[0].pickup_stop.time_window.start",
    ),
    (
        "acme",
        "bad/missing-customer.json",
        "missing_field",
        "$.customer",
    ),
    (
        "acme",
        "bad/pallet-tracking-bad.json",
        "pattern_mismatch",
        "$.consignment.network_reference",
    ),
    (
        "acme",
        "bad/unknown-addon.json",
        "unknown_code",
        "$.addons[0]",
    ),
    (
        "northwind",
        "bad/unsupported-attachment.json",
        "unsupported_mime",
        "$.file.mime",
    ),
];

#[test]
fn bad_feeds_get_the_finding_an_operator_needs() {
    for (business, file, code, path) in BAD_FEEDS {
        let outcome = process(business, file);
        let errs = errors(&outcome);
        assert!(
            errs.iter().any(|f| f.code == code && f.path == path),
            "{file}: {errs:?}"
        );
    }
    let missing = process("acme", "bad/missing-customer.json");
    assert_eq!(
        errors(&missing)[0].detail,
        "Missing required field: customer"
    );
}

#[test]
fn an_unrecognised_shape_matches_nothing_and_the_explanation_says_why() {
    let payload = feed("bad/unrecognised-shape.json");
    assert!(rules().classify("acme", &payload).is_none());
    let outcome = rules().process("acme", &payload);
    assert!(outcome.rule.is_none() && outcome.items.is_empty());
    let ex = rules().explain("acme", &payload);
    assert!(ex.summary.starts_with("No rule matched"), "{}", ex.summary);
    assert!(
        ex.candidates
            .iter()
            .all(|c| !c.matched && c.failed.is_some())
    );
}

#[test]
fn scoped_rules_only_serve_their_business() {
    let payload = feed("dock-pallet-scan.json");
    assert!(rules().classify("northwind", &payload).is_some());
    assert!(rules().classify("acme", &payload).is_none());
    let ex = rules().explain("acme", &payload);
    assert!(ex.rules_for_other_businesses > 0);
}

#[test]
fn dock_scan_keeps_label_lists_including_empty_ones() {
    let outcome = process("northwind", "dock-pallet-scan.json");
    let labels = &outcome.items[0].document["labels"];
    assert_eq!(labels["SKU"], json!(["CHAIR-OAK-02"]));
    assert_eq!(labels["ExpirationDate"], json!([]));
}
