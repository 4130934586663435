//! Loading rules files: every problem is reported with file, rule and reason.

use freightgate::rules::{LoadReport, load_dir, load_sources, load_str};
use std::path::Path;

fn errors_of(toml: &str) -> LoadReport {
    match load_str("test.toml", toml) {
        Ok((set, _)) => panic!("expected load errors, got {} rules", set.len()),
        Err(report) => report,
    }
}

fn has(report: &LoadReport, needle: &str) -> bool {
    report.errors.iter().any(|e| e.to_string().contains(needle))
}

const GOOD: &str = r#"
[[rule]]
name = "cancel"
operation = "cancel"
entity = "order"
match = { path = "$.op", equals = "DELETE" }
map = { order_number = "$.id" }
"#;

#[test]
fn shipped_rules_load_without_errors_or_warnings() {
    let (set, report) = load_dir(Path::new("rules")).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(set.len(), report.rules);
    assert!(set.len() >= 10);
    assert!(report.warnings.is_empty(), "{report}");
}

#[test]
fn toml_syntax_errors_name_the_file_and_line() {
    let report = errors_of("[[rule]]\nname = \"x\"\noperation = = \"create\"\n");
    let e = &report.errors[0];
    assert_eq!(e.file, "test.toml");
    assert_eq!(e.line, Some(3));
}

#[test]
fn unknown_keys_are_errors_not_silently_ignored() {
    let report = errors_of(&GOOD.replace("entity = \"order\"", "entity = \"order\"\npriorty = 5"));
    assert!(
        has(&report, "rule 'cancel'") && has(&report, "priorty"),
        "{report}"
    );
    let report = errors_of(&format!("{GOOD}\n[[rules]]\nname = \"y\""));
    assert!(has(&report, "rules"), "{report}");
}

#[test]
fn every_problem_of_every_rule_is_collected() {
    let toml = r#"
[[rule]]
name = "broken-one"
operation = "create"
entity = "order"
match = { all = [ { path = "operation", equals = "X" }, { path = "$.a", regex = "([" } ] }
map = { order_number = "$.id", custmer = "$.c", notes = { path = "$.n", transform = ["reverse"] } }

[[rule]]
name = "broken-two"
operation = "attach"
entity = "order"
match = { path = "$[?match(@.a, 'x')]", exists = true }
map = { order_number = "$.id" }

[[rule]]
name = "broken-one"
operation = "cancel"
entity = "order"
match = { path = "$.x", exists = true }
map = { order_number = "$.id" }
"#;
    let report = errors_of(toml);
    assert!(has(&report, "must start with `$`"), "{report}");
    assert!(has(&report, "bad regex"), "{report}");
    assert!(
        has(
            &report,
            "unknown canonical field `custmer` for order (did you mean `customer`?)"
        ),
        "{report}"
    );
    assert!(has(&report, "unknown transform `reverse`"), "{report}");
    assert!(
        has(
            &report,
            "required field `customer` for order create is not mapped"
        ),
        "{report}"
    );
    assert!(
        has(&report, "`attach` is not possible for order"),
        "{report}"
    );
    assert!(has(&report, "match()/search()"), "{report}");
    assert!(has(&report, "duplicate rule name"), "{report}");
    assert!(
        report
            .errors
            .iter()
            .all(|e| e.file == "test.toml" && e.rule.is_some())
    );
}

#[test]
fn problems_in_several_files_are_all_reported() {
    let sources = vec![
        ("a.toml".to_string(), "not toml at all = =".to_string()),
        ("b.toml".to_string(), GOOD.replace("$.op", "$.op[")),
    ];
    let report = match load_sources(&sources, &Default::default(), Default::default()) {
        Err(r) => r,
        Ok(_) => panic!("must fail"),
    };
    assert!(report.errors.iter().any(|e| e.file == "a.toml"));
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.file == "b.toml" && e.message.contains("invalid JSONPath"))
    );
}

#[test]
fn lookups_literals_and_zones_are_checked_at_load() {
    let toml = r#"
[[rule]]
name = "r"
operation = "create"
entity = "order"
timezone = "Mars/Olympus"
match = { path = "$.a", exists = true }
[rule.map]
order_number = "$.id"
customer = { value = 5 }
direction = { value = "SIDEWAYS" }
service_level = { path = "$.s", lookup = "nope" }
notes = { path = "$.n", timezone = "Europe/Berlin" }
requested_ship_date = { path = "$.d", formats = ["%Q"] }
"#;
    let report = errors_of(toml);
    assert!(
        has(&report, "unknown IANA time zone `Mars/Olympus`"),
        "{report}"
    );
    assert!(has(&report, "SIDEWAYS"), "{report}");
    assert!(has(&report, "no lookup table `nope`"), "{report}");
    assert!(has(&report, "only apply to date fields"), "{report}");
    assert!(has(&report, "bad date format"), "{report}");
}

#[test]
fn policies_must_fit_the_operation() {
    let report = errors_of(&GOOD.replace(
        "entity = \"order\"",
        "entity = \"order\"\non_duplicate = \"upsert\"\nitems_mode = \"append\"",
    ));
    assert!(
        has(&report, "on_duplicate: only applies to create rules"),
        "{report}"
    );
    assert!(has(&report, "items_mode: only applies"), "{report}");
    let report = errors_of(&GOOD.replace("entity = \"order\"", "entity = \"pallet\""));
    assert!(
        has(&report, "`cancel` is not possible for pallet"),
        "{report}"
    );
}

#[test]
fn identity_fields_must_be_known_and_mapped() {
    let report = errors_of(&GOOD.replace(
        "entity = \"order\"",
        "entity = \"order\"\nidentity = [\"order_number\", \"facility\", \"colour\"]",
    ));
    assert!(
        has(&report, "identity field `facility` is not mapped"),
        "{report}"
    );
    assert!(has(&report, "unknown canonical field `colour`"), "{report}");
}

#[test]
fn validate_checks_must_name_single_valued_fields() {
    let toml = format!(
        "{GOOD}\n[[rule.validate]]\nfield = \"items.sku\"\nregex = \"^A\"\n\n[[rule.validate]]\nfield = \"order_number\"\n"
    );
    let report = errors_of(&toml);
    assert!(has(&report, "use `name[]` to step into lists"), "{report}");
    assert!(has(&report, "give at least one of"), "{report}");
}

#[test]
fn a_missing_directory_is_a_load_error() {
    let report = load_dir(Path::new("no/such/dir")).expect_err("must fail");
    assert!(
        report.errors[0]
            .message
            .contains("cannot read rules directory")
    );
}

#[test]
fn an_order_identity_other_than_its_number_and_facility_is_a_load_error() {
    let rules = r#"
[[rule]]
name = "by-customer"
operation = "update"
entity = "order"
identity = ["customer"]
match = { path = "$.c", exists = true }
map = { order_number = "$.n", customer = "$.c" }
"#;
    let report = freightgate::rules::load_str("identity.toml", rules).unwrap_err();
    let message = &report.errors[0].message;
    assert!(
        message.contains("order_number") && message.contains("facility"),
        "{message}"
    );
}

#[test]
fn a_cancel_rule_that_maps_what_a_cancel_does_not_keep_does_not_load() {
    let report = errors_of(
        r#"
[[rule]]
name = "cancel-with-extras"
operation = "cancel"
entity = "order"
match = { path = "$.op", equals = "DELETE" }
map = { order_number = "$.id", notes = "$.why", customer = "$.customer" }

[[rule]]
name = "shipment-cancel-with-extras"
operation = "cancel"
entity = "shipment"
match = { path = "$.op", equals = "STORNO" }
map = { shipment_number = "$.id", status_occurred_at = "$.at", carrier = "$.carrier" }
"#,
    );
    assert_eq!(report.errors.len(), 2, "{report}");
    assert!(has(&report, "map.customer"), "{report}");
    assert!(
        has(&report, "`customer` would be read and then dropped"),
        "{report}"
    );
    assert!(has(&report, "map.carrier"), "{report}");
    assert!(!has(&report, "map.notes"), "{report}");
    assert!(!has(&report, "map.status_occurred_at"), "{report}");
}
