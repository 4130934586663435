//! Nothing a rule maps is dropped: a rule that maps every canonical field of a
//! shipment (its orders, their lines, parties, windows, driver and references
//! included) from a payload of distinct values, and the shipment read back holds
//! every one of them. The rule and the payload are built from the canonical schema
//! itself, so a field added to the schema but not stored fails here.

use freightgate::domain::Scope;
use freightgate::rules::{CanonicalField, Entity, canonical_fields};
use serde_json::{Map, Value, json};

use crate::ingest::post;
use crate::support::TestApp;

/// Builds the payload value of each field, and remembers the ones that must be
/// read back verbatim (each distinct, so finding it proves it is its own).
struct Sample {
    next: u32,
    expected: Vec<(String, Value)>,
}

impl Sample {
    fn value(&mut self, at: &str, field: &CanonicalField) -> Value {
        self.next += 1;
        let n = self.next;
        let value = match (at, field.name, field.kind) {
            // Slugs and numbers that must name existing or consistent records.
            (_, "facility", _) => json!("rotterdam-dc"),
            (_, "dock", _) => json!("door-7"),
            ("$.orders[0]", "shipment_number", _) => json!("KEPT-SHP-1"),
            ("$", "shipment_number", _) => json!("KEPT-SHP-1"),
            ("$", "status", _) => json!("AT_FACILITY"),
            // A trip goes to an existing subcontractor; its stops are numbered 1….
            ("$", "subcontractor", _) => json!("KEPT-SUB"),
            ("$.stops[0]", "seq", _) => json!(1),
            (_, _, "text") => json!(format!("kept-{}-{n}", field.name)),
            (_, _, "number") => json!(f64::from(n) + 0.25),
            (_, _, "count") => json!(n),
            (_, _, "boolean") => json!(true),
            (_, _, "date-time") => json!(format!("2027-01-{:02}T{:02}:30:00Z", n % 28 + 1, n % 24)),
            (_, _, "date") => json!(format!("2027-02-{:02}", n % 28 + 1)),
            (_, _, "country") => json!("NL"),
            (_, _, "enum") => json!(field.values[field.values.len() - 1]),
            (_, _, "email") => json!(format!("kept{n}@example.nl")),
            (_, _, "text list") => json!([format!("KEPT_ADDON_{n}")]),
            (_, _, kind) => panic!("{at}.{}: no sample for a {kind}", field.name),
        };
        if !matches!(field.kind, "enum" | "boolean" | "country")
            && !matches!(field.name, "facility" | "dock" | "shipment_number")
        {
            self.expected
                .push((format!("{at}.{}", field.name), value.clone()));
        }
        value
    }

    /// The payload object and the rule's mapping (a TOML inline table) of `fields`.
    fn object(&mut self, at: &str, fields: &[CanonicalField]) -> (Value, String) {
        let mut payload = Map::new();
        let mut map = Vec::new();
        for field in fields {
            let name = field.name;
            match field.kind {
                "object" => {
                    let (value, inner) = self.object(&format!("{at}.{name}"), &field.fields);
                    payload.insert(name.into(), value);
                    map.push(format!("{name} = {{ path = \"$.{name}\", map = {inner} }}"));
                }
                "list" => {
                    let (value, inner) = self.object(&format!("{at}.{name}[0]"), &field.fields);
                    payload.insert(name.into(), json!([value]));
                    map.push(format!(
                        "{name} = [{{ path = \"$.{name}[*]\", map = {inner} }}]"
                    ));
                }
                _ => {
                    payload.insert(name.into(), self.value(at, field));
                    map.push(format!("{name} = \"$.{name}\""));
                }
            }
        }
        (Value::Object(payload), format!("{{ {} }}", map.join(", ")))
    }
}

/// Every scalar in `value`, as text, for looking values up wherever the read puts them.
fn leaves(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
        other => out.push(other.clone()),
    }
}

fn same(expected: &Value, actual: &Value) -> bool {
    match (expected.as_f64(), actual.as_f64()) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => expected == actual,
    }
}

#[tokio::test]
async fn every_field_a_rule_maps_onto_a_shipment_is_stored_and_read_back() {
    let fields = canonical_fields(Entity::Shipment);
    let mut sample = Sample {
        next: 0,
        expected: Vec::new(),
    };
    let (payload, map) = sample.object("$", &fields);
    let rules = format!(
        "[[rule]]\nname = \"everything\"\nbusiness = \"kept\"\noperation = \"create\"\nentity = \"shipment\"\nmatch = {{ path = \"$.shipment_number\", equals = \"KEPT-SHP-1\" }}\nmap = {map}\n"
    );
    let (app, _rules) = TestApp::spawn_with_rules(&[("kept.toml", &rules)], false).await;
    let key = app
        .key("kept", &[Scope::Ingest, Scope::Read, Scope::Write])
        .await;
    let party = app
        .send(
            reqwest::Method::PUT,
            "/v1/parties/KEPT-SUB",
            &key,
            Some(json!({"role": "SUBCONTRACTOR"})),
        )
        .await;
    assert_eq!(party.status(), 201);
    let answer = post(&app, &key, "application/json", payload.to_string()).await;
    let status = answer.status();
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(status, 201, "{answer}");
    assert!(
        answer["results"][0]["warnings"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{answer}"
    );
    let id = answer["results"][0]["id"].to_string();
    let read: Value = app.get_json(&format!("/v1/shipments/{id}"), &key).await;
    let mut found = Vec::new();
    leaves(&read, &mut found);
    let lost: Vec<&(String, Value)> = sample
        .expected
        .iter()
        .filter(|(_, value)| match value {
            Value::Array(items) => !items.iter().all(|i| found.iter().any(|f| same(i, f))),
            _ => !found.iter().any(|f| same(value, f)),
        })
        .collect();
    assert!(
        lost.is_empty(),
        "mapped, accepted and not read back: {lost:?}\nread: {read}"
    );
    // The walk covered the nested objects and lists, not just the top level.
    for nested in [
        "$.orders[0].items[0].sku",
        "$.orders[0].consignee.email",
        "$.orders[0].pickup_window.start",
        "$.driver.license_plate",
        "$.references[0].value",
        "$.stops[0].address.city",
        "$.stops[0].note",
    ] {
        assert!(
            sample.expected.iter().any(|(at, _)| at == nested),
            "{nested} was not sampled"
        );
    }
}
