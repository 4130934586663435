//! Choosing between rules, explaining the choice, and splitting batches.

use freightgate::rules::{RuleSet, Severity, load_str};
use serde_json::json;

fn load(toml: &str) -> RuleSet {
    match load_str("test.toml", toml) {
        Ok((set, _)) => set,
        Err(report) => panic!("{report}"),
    }
}

fn rule(name: &str, extra: &str, condition: &str) -> String {
    format!(
        "[[rule]]\nname = \"{name}\"\noperation = \"cancel\"\nentity = \"order\"\n{extra}\nmatch = {condition}\nmap = {{ order_number = \"$.id\" }}\n\n"
    )
}

const TYPE_IS_ORDER: &str = r#"{ path = "$.type", equals = "ORDER" }"#;
const TYPE_AND_ID: &str =
    r#"{ all = [ { path = "$.type", equals = "ORDER" }, { path = "$.id", exists = true } ] }"#;

#[test]
fn higher_priority_wins_over_more_specific_conditions() {
    let set = load(
        &(rule("specific", "", TYPE_AND_ID) + &rule("important", "priority = 10", TYPE_IS_ORDER)),
    );
    let payload = json!({"type": "ORDER", "id": "1"});
    assert_eq!(
        set.classify("any", &payload).map(|r| r.name()),
        Some("important")
    );
}

#[test]
fn at_equal_priority_the_more_specific_rule_wins() {
    let set = load(&(rule("general", "", TYPE_IS_ORDER) + &rule("specific", "", TYPE_AND_ID)));
    let payload = json!({"type": "ORDER", "id": "1"});
    assert_eq!(
        set.classify("any", &payload).map(|r| r.name()),
        Some("specific")
    );
    assert_eq!(
        set.classify("any", &json!({"type": "ORDER"}))
            .map(|r| r.name()),
        Some("general")
    );
}

#[test]
fn a_business_scoped_rule_beats_the_same_unscoped_rule_for_that_business() {
    let set = load(
        &(rule("generic", "", TYPE_IS_ORDER)
            + &rule("acme-only", "business = \"acme\"", TYPE_IS_ORDER)),
    );
    let payload = json!({"type": "ORDER", "id": "1"});
    assert_eq!(
        set.classify("acme", &payload).map(|r| r.name()),
        Some("acme-only")
    );
    assert_eq!(
        set.classify("other", &payload).map(|r| r.name()),
        Some("generic")
    );
}

#[test]
fn identical_rules_warn_at_load_and_the_tie_is_broken_by_name_and_explained() {
    let toml = rule("zebra", "", TYPE_IS_ORDER) + &rule("alpha", "", TYPE_IS_ORDER);
    let (set, report) = load_str("test.toml", &toml).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(report.warnings.len(), 1, "{report}");
    assert!(
        report.warnings[0]
            .message
            .contains("'alpha' wins by name order"),
        "{report}"
    );
    let payload = json!({"type": "ORDER", "id": "1"});
    assert_eq!(set.classify("x", &payload).map(|r| r.name()), Some("alpha"));
    let ex = set.explain("x", &payload);
    assert_eq!(ex.tied_with, vec!["zebra"]);
    assert!(
        ex.summary.contains("tie was broken by name"),
        "{}",
        ex.summary
    );
}

#[test]
fn a_rule_hidden_behind_an_identical_higher_priority_rule_is_reported() {
    let toml = rule("hidden", "", TYPE_IS_ORDER) + &rule("winner", "priority = 1", TYPE_IS_ORDER);
    let (_, report) = load_str("test.toml", &toml).unwrap_or_else(|r| panic!("{r}"));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.message.contains("'hidden' can never match")),
        "{report}"
    );
}

#[test]
fn explanation_lists_the_first_failed_condition_with_found_and_expected() {
    let cond = r#"{ all = [ { path = "$.type", equals = "ORDER" }, { path = "$.qty", gt = 5 }, { path = "$.ref", regex = "^R-" } ] }"#;
    let set = load(&rule("big-orders", "", cond));
    let ex = set.explain("x", &json!({"type": "ORDER", "qty": 2, "ref": "R-1"}));
    assert!(ex.chosen.is_none());
    let c = &ex.candidates[0];
    assert_eq!((c.conditions_met, c.conditions_total), (2, 3));
    let failed = c.failed.as_ref().expect("a failure");
    assert_eq!(failed.path, "$.qty");
    assert_eq!(failed.found, "2");
    assert_eq!(failed.expected, "a number > 5");
    assert!(ex.summary.contains("big-orders"), "{}", ex.summary);
    let text = serde_json::to_string(&ex).expect("serialisable");
    assert!(text.contains("\"preselected\""));
}

#[test]
fn any_not_one_of_and_numeric_conditions_combine() {
    let cond = r#"{ all = [
        { any = [ { path = "$.kind", one_of = ["A", "B"] }, { path = "$.legacy", exists = true } ] },
        { not = { path = "$.test", equals = true } },
        { path = "$.weight", lte = 100.5 },
    ] }"#;
    let set = load(&rule("combo", "", cond));
    let ok = |v: serde_json::Value| set.classify("x", &v).is_some();
    assert!(ok(json!({"kind": "B", "weight": 100})));
    assert!(ok(json!({"legacy": 1, "weight": "99.5"})));
    assert!(!ok(json!({"kind": "C", "weight": 1})));
    assert!(!ok(json!({"kind": "A", "weight": 1, "test": true})));
    assert!(!ok(json!({"kind": "A", "weight": 101})));
    let ex = set.explain("x", &json!({"kind": "C", "weight": 1}));
    let failed = ex.candidates[0].failed.clone().expect("fails");
    assert_eq!(failed.alternatives.len(), 2);
}

#[test]
fn for_each_splits_a_batch_and_double_dollar_reads_the_root() {
    let toml = r#"
[[rule]]
name = "batch"
operation = "cancel"
entity = "order"
for_each = "$.orders[*]"
match = { path = "$.orders", exists = true }
[rule.map]
order_number = "$.number"
facility = "$$.site"
notes = { concat = ["$$.site", "$.number"], separator = "/" }
"#;
    let set = load(toml);
    let payload = json!({"site": "ams", "orders": [{"number": "A"}, {"nope": 1}, {"number": "C"}]});
    let out = set.process("x", &payload);
    assert_eq!(out.items.len(), 3);
    assert_eq!(out.items[2].source_path, "$.orders[2]");
    assert_eq!(
        out.items[2].document,
        json!({"order_number": "C", "facility": "ams", "notes": "ams/C"})
    );
    let missing = &out.items[1].findings[0];
    assert_eq!(
        (missing.code.as_str(), missing.path.as_str()),
        ("missing_field", "$.orders[1].number")
    );
    assert!(out.items[0].is_accepted() && !out.items[1].is_accepted());
    let empty = set.process("x", &json!({"orders": []}));
    assert_eq!(empty.items[0].findings[0].code, "empty_batch");
}

#[test]
fn lookups_can_downgrade_unknown_codes_to_warnings_and_defaults_fill_gaps() {
    let toml = r#"
[lookup.levels]
FAST = "NEXT_DAY"

[[rule]]
name = "r"
operation = "update"
entity = "order"
match = { path = "$.id", exists = true }
[rule.map]
order_number = "$.id"
service_level = { path = "$.level", lookup = "levels", on_unknown = "warning" }
carrier = { path = "$.carrier", default = "UNASSIGNED" }
"#;
    let set = load(toml);
    let out = set.process("x", &json!({"id": "1", "level": "SLOW"}));
    let f = &out.items[0].findings[0];
    assert_eq!(
        (f.severity, f.code.as_str(), f.path.as_str()),
        (Severity::Warning, "unknown_code", "$.level")
    );
    assert!(out.items[0].is_accepted());
    assert_eq!(
        out.items[0].document,
        json!({"order_number": "1", "carrier": "UNASSIGNED"})
    );
    let fast = set.process("x", &json!({"id": "1", "level": "FAST"}));
    assert_eq!(fast.items[0].document["service_level"], json!("NEXT_DAY"));
}

#[test]
fn a_time_window_that_ends_before_it_starts_is_refused() {
    let toml = r#"
[[rule]]
name = "r"
operation = "update"
entity = "order"
match = { path = "$.id", exists = true }
[rule.map]
order_number = "$.id"
delivery_window = { path = "$.w", map = { start = "$.from", end = "$.to" } }
"#;
    let set = load(toml);
    let payload = json!({"id": "1", "w": {"from": "2026-03-13T12:00:00+00:00", "to": "2026-03-13T11:00:00+00:00"}});
    let out = set.process("x", &payload);
    let f = &out.items[0].findings[0];
    assert_eq!(
        (f.code.as_str(), f.path.as_str(), f.field.as_str()),
        ("invalid_value", "$.w", "delivery_window")
    );
}

#[test]
fn validate_checks_reach_list_elements() {
    let toml = r#"
[[rule]]
name = "r"
operation = "update"
entity = "order"
match = { path = "$.id", exists = true }
[rule.map]
order_number = "$.id"
items = { path = "$.lines[*]", map = { lpn = "$.sscc", quantity = "$.q" } }
[[rule.validate]]
field = "items[].lpn"
regex = '^\d{18}$'
severity = "warning"
code = "invalid_sscc"
"#;
    let set = load(toml);
    let payload = json!({"id": "1", "lines": [{"sscc": "003871234500000123", "q": 1}, {"sscc": "12", "q": 1}]});
    let out = set.process("x", &payload);
    let f = &out.items[0].findings;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].code.as_str(), f[0].path.as_str(), f[0].field.as_str()),
        ("invalid_sscc", "$.lines[1].sscc", "items[1].lpn")
    );
}

/// A document converted from XML: one `<Line>` becomes an object, two an array.
#[test]
fn a_bracket_wildcard_over_a_lone_object_reads_it_as_a_list_of_one() {
    let set = load(
        r#"
[[rule]]
name = "xml-orders"
operation = "create"
entity = "order"
for_each = "$.Orders.Order[*]"
match = { path = "$.Orders", exists = true }

[rule.map]
order_number = "$.No"
customer = "$.Customer"

[rule.map.items]
path = "$.Lines.Line[*]"
map = { sku = "$.Sku", quantity = "$.Qty" }
"#,
    );
    let one = json!({"Orders": {"Order": {"No": "X-1", "Customer": "C",
        "Lines": {"Line": {"Sku": "A", "Qty": 2}}}}});
    let out = set.process("x", &one);
    assert_eq!(out.items.len(), 1, "{:?}", out.items);
    assert_eq!(out.items[0].source_path, "$.Orders.Order");
    assert_eq!(
        out.items[0].document["items"],
        json!([{"sku": "A", "quantity": 2}])
    );
    let two = json!({"Orders": {"Order": [
        {"No": "X-1", "Customer": "C", "Lines": {"Line": [{"Sku": "A", "Qty": 2}, {"Sku": "B", "Qty": 1}]}},
        {"No": "X-2", "Customer": "C", "Lines": {"Line": {"Sku": "C", "Qty": 5}}}]}});
    let out = set.process("x", &two);
    assert_eq!(out.items.len(), 2);
    assert_eq!(out.items[1].source_path, "$.Orders.Order[1]");
    assert_eq!(
        out.items[0].document["items"][1],
        json!({"sku": "B", "quantity": 1})
    );
    assert_eq!(
        out.items[1].document["items"],
        json!([{"sku": "C", "quantity": 5}])
    );
}

#[test]
fn an_item_list_that_finds_nothing_where_the_sender_put_lines_warns() {
    let set = load(
        r#"
[[rule]]
name = "xml-order"
operation = "create"
entity = "order"
match = { path = "$.No", exists = true }

[rule.map]
order_number = "$.No"
customer = "$.Customer"

[rule.map.items]
path = "$.Lines.Line[*]"
map = { sku = "$.Sku", quantity = "$.Qty" }
"#,
    );
    let warnings = |payload: serde_json::Value| -> Vec<String> {
        let out = set.process("x", &payload);
        out.items[0]
            .findings
            .iter()
            .filter(|f| f.code == "no_items")
            .map(|f| format!("{} {} {:?}", f.path, f.detail, f.severity))
            .collect()
    };
    let renamed = warnings(json!({"No": "1", "Customer": "C",
        "Lines": {"Item": [{"Sku": "A", "Qty": 1}]}}));
    assert_eq!(renamed.len(), 1, "{renamed:?}");
    assert!(renamed[0].starts_with("$.Lines `"), "{renamed:?}");
    assert!(
        renamed[0].contains("an object with Item at $.Lines"),
        "{renamed:?}"
    );
    assert!(renamed[0].contains("Warning"), "{renamed:?}");
    let text = warnings(json!({"No": "1", "Customer": "C", "Lines": {"Line": "A x1"}}));
    assert!(text[0].contains("$.Lines.Line is a string"), "{text:?}");
    // Nothing near: no lines were sent, nothing to warn about.
    assert!(warnings(json!({"No": "1", "Customer": "C"})).is_empty());
    assert!(warnings(json!({"No": "1", "Customer": "C", "Lines": {"Line": []}})).is_empty());
    assert!(warnings(json!({"No": "1", "Customer": "C", "Lines": {}})).is_empty());
}

#[test]
fn first_of_reads_the_first_place_that_holds_a_value() {
    let set = load(
        r#"
[[rule]]
name = "either-number"
operation = "create"
entity = "order"
match = { path = "$.kind", equals = "ORDER" }

[rule.map]
order_number = { first_of = ["$.delivery.no", "$.order_no"], transform = ["trim"] }
customer = "$.customer"
"#,
    );
    let number = |payload: serde_json::Value| {
        let out = set.process("x", &payload);
        (
            out.items[0].document["order_number"].clone(),
            out.items[0]
                .findings
                .iter()
                .map(|f| f.path.clone())
                .collect::<Vec<_>>(),
        )
    };
    let (from_delivery, _) = number(
        json!({"kind": "ORDER", "customer": "C", "delivery": {"no": "D-1"}, "order_no": "O-1"}),
    );
    assert_eq!(from_delivery, json!("D-1"));
    // An empty text is "not given": the next place is read.
    let (from_order, _) = number(
        json!({"kind": "ORDER", "customer": "C", "delivery": {"no": " "}, "order_no": "O-1"}),
    );
    assert_eq!(from_order, json!("O-1"));
    let (nothing, paths) = number(json!({"kind": "ORDER", "customer": "C"}));
    assert_eq!(nothing, serde_json::Value::Null);
    assert_eq!(
        paths,
        vec!["$.delivery".to_string()],
        "the first place is named"
    );
    let report = match load_str(
        "test.toml",
        r#"
[[rule]]
name = "both"
operation = "create"
entity = "order"
match = { path = "$.kind", equals = "ORDER" }
map = { order_number = { path = "$.a", first_of = ["$.b"] }, customer = "$.c" }
"#,
    ) {
        Ok(_) => panic!("path and first_of together must not load"),
        Err(report) => report,
    };
    assert!(report.to_string().contains("first_of"), "{report}");
}

#[test]
fn cases_map_a_field_by_the_first_condition_that_holds() {
    let set = load(
        r#"
[[rule]]
name = "weights"
operation = "create"
entity = "order"
match = { path = "$.kind", equals = "ORDER" }

[rule.map]
order_number = "$.no"
customer = "$.customer"

[rule.map.items]
path = "$.lines[*]"

[rule.map.items.map]
sku = "$.sku"
quantity = { value = 1 }
# The line says its unit: grams and pounds are converted, kilograms read as they are.
weight_per_unit = { cases = [
  { when = { path = "$.unit", equals = "G" }, path = "$.weight", transform = [{ convert = ["g", "kg"] }] },
  { when = { path = "$.unit", one_of = ["LB", "LBS"] }, path = "$.weight", transform = [{ convert = ["lb", "kg"] }] },
  { when = { path = "$.unit", equals = "KG" }, path = "$.weight" },
] }
weight_unit = { value = "KILOGRAM" }
# No case holds: the default.
quantity_unit = { cases = [{ when = { path = "$.pack", equals = "CARTON" }, value = "CASE" }], default = "UNIT" }
"#,
    );
    let payload = json!({"kind": "ORDER", "no": "1", "customer": "C", "lines": [
        {"sku": "A", "unit": "G", "weight": "1500"},
        {"sku": "B", "unit": "LBS", "weight": 10, "pack": "CARTON"},
        {"sku": "C", "unit": "KG", "weight": 2.5},
        {"sku": "D", "unit": "OZ", "weight": 3},
    ]});
    let out = set.process("x", &payload);
    let items = &out.items[0].document["items"];
    assert_eq!(items[0]["weight_per_unit"], json!(1.5));
    assert_eq!(items[1]["weight_per_unit"], json!(4.535923700));
    assert_eq!(items[2]["weight_per_unit"], json!(2.5));
    // No case holds and no default: not given.
    assert!(items[3].get("weight_per_unit").is_none(), "{items}");
    assert_eq!(items[0]["quantity_unit"], json!("UNIT"));
    assert_eq!(items[1]["quantity_unit"], json!("CASE"));

    for (bad, says) in [
        (
            r#"{ cases = [{ path = "$.a" }, { when = { path = "$.b", exists = true }, path = "$.b" }] }"#,
            "only the last case may leave out `when`",
        ),
        (
            r#"{ cases = [{ when = { path = "$.b" }, path = "$.b" }] }"#,
            "condition needs one of",
        ),
        (
            r#"{ path = "$.a", when = { path = "$.b", exists = true } }"#,
            "`when` belongs to an entry of `cases`",
        ),
        (
            r#"{ cases = [{ when = { path = "$.b", exists = true }, path = "$.b" }], transform = ["trim"] }"#,
            "inside each case",
        ),
        (
            r#"{ cases = [{ when = { path = "$.b", exists = true }, path = "$.b", transform = ["nope"] }] }"#,
            "map.customer.cases[0]",
        ),
    ] {
        let text = format!(
            "[[rule]]\nname = \"bad\"\noperation = \"create\"\nentity = \"order\"\nmatch = {{ path = \"$.k\", exists = true }}\nmap = {{ order_number = \"$.n\", customer = {bad} }}\n"
        );
        let report = match load_str("test.toml", &text) {
            Ok(_) => panic!("{bad} must not load"),
            Err(report) => report.to_string(),
        };
        assert!(report.contains(says), "{bad}: {report}");
    }
}
