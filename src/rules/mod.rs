//! freightgate's declarative rules engine.
//!
//! Senders post whatever JSON they produce; rules files (TOML) decide what each
//! payload is (operation + entity) and map its fields onto the canonical model.
//! Rules are compiled once into an immutable, indexed [`RuleSet`]: load a
//! directory with [`load_dir`], then call [`RuleSet::process`] (classify, map,
//! validate) or [`RuleSet::explain`] per payload. [`run_fixtures`] runs the
//! example payloads kept beside the rules.
//!
//! The file format is described in `rules/README.md`.

mod checks;
mod coerce;
pub(crate) mod condition;
mod datetime;
mod explain;
mod fixtures;
pub mod formats;
mod index;
pub mod live;
mod loader;
mod mapping;
mod model;
pub(crate) mod path;
pub(crate) mod raw;
pub(crate) mod reader;
mod rule;
mod ruleset;
mod schema;
pub(crate) mod transform;
pub(crate) mod value;
mod warnings;

pub use explain::{CandidateReport, ConditionFailure, Explanation};
pub use fixtures::{FixtureResult, run_fixtures};
pub(crate) use loader::line_of;
pub use loader::{
    DEFAULT_MAX_DOCUMENT_BYTES, LoadIssue, LoadOptions, LoadReport, load_dir, load_dir_with,
    load_sources, load_str,
};
pub use model::{
    DuplicatePolicy, Entity, Finding, ItemsMode, MappedItem, Operation, Outcome, RuleSummary,
    Severity, UpdateMode,
};
pub use rule::Rule;
pub use ruleset::RuleSet;
pub use schema::{CanonicalField, canonical_fields};

#[cfg(test)]
mod tests {
    use super::*;

    const CANCEL: &str = r#"
[[rule]]
name = "tms-order-cancel"
operation = "cancel"
entity = "order"
match = { path = "$.operation", equals = "DELETE" }
map = { order_number = "$.order_identifier" }
"#;

    #[test]
    fn a_rule_loaded_from_text_processes_a_payload() {
        let (set, report) = load_str("example.toml", CANCEL).expect("valid rules");
        assert!(report.is_ok() && set.len() == 1);
        let payload = serde_json::json!({"operation": "DELETE", "order_identifier": "TMS-1"});
        let outcome = set.process("acme", &payload);
        assert_eq!(outcome.rule.map(|r| r.operation), Some(Operation::Cancel));
        assert_eq!(outcome.items[0].document["order_number"], "TMS-1");
        assert!(
            set.process("acme", &serde_json::json!({"operation": "CREATE"}))
                .rule
                .is_none()
        );
    }

    #[test]
    fn rule_set_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug + serde::Serialize>() {}
        assert_send_sync::<RuleSet>();
        assert_send_sync::<Explanation>();
        assert_send_sync::<Outcome>();
        assert_send_sync::<LoadReport>();
        assert_send_sync::<FixtureResult>();
    }
}
