//! A compiled rule and its compilation from a `[[rule]]` table.

use super::checks::{Check, compile_check};
use super::condition::{self, Condition, Problems};
use super::mapping::{self, Compiler, Lookup, Mapping, RuleDates, compile_formats, parse_zone};
use super::model::{DuplicatePolicy, Entity, ItemsMode, Operation, RuleSummary, UpdateMode};
use super::path::JsonPathExpr;
use super::raw::RawRule;
use super::schema::{default_identity, entity_schema};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// A rule compiled from a rules file; it cannot hold a broken path, regex or field.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    name: String,
    description: Option<String>,
    file: String,
    business: Option<String>,
    priority: i64,
    specificity: u32,
    operation: Operation,
    entity: Entity,
    identity: Vec<String>,
    on_duplicate: DuplicatePolicy,
    update_mode: UpdateMode,
    items_mode: ItemsMode,
    /// The match condition as text, for listings.
    conditions: String,
    #[serde(skip)]
    pub(crate) condition: Condition,
    #[serde(skip)]
    pub(crate) for_each: Option<JsonPathExpr>,
    #[serde(skip)]
    pub(crate) mapping: Mapping,
    #[serde(skip)]
    pub(crate) checks: Vec<Check>,
}

impl Rule {
    /// Unique name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Business slug the rule is limited to, if any.
    pub fn business(&self) -> Option<&str> {
        self.business.as_deref()
    }
    /// Explicit priority (higher wins).
    pub fn priority(&self) -> i64 {
        self.priority
    }
    /// Computed specificity (see rules/README.md), the second ordering key.
    pub fn specificity(&self) -> u32 {
        self.specificity
    }
    /// Operation the payload becomes.
    pub fn operation(&self) -> Operation {
        self.operation
    }
    /// Entity the payload is about.
    pub fn entity(&self) -> Entity {
        self.entity
    }
    /// File the rule was loaded from.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// Free-text description from the rules file.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The match condition rendered as text.
    pub fn conditions(&self) -> &str {
        &self.conditions
    }
    /// Canonical fields that find an existing record.
    pub fn identity(&self) -> &[String] {
        &self.identity
    }
    /// What later pipeline stages need to store the result.
    pub fn summary(&self) -> RuleSummary {
        RuleSummary {
            name: self.name.clone(),
            operation: self.operation,
            entity: self.entity,
            identity: self.identity.clone(),
            on_duplicate: self.on_duplicate,
            update_mode: self.update_mode,
            items_mode: self.items_mode,
        }
    }
}

/// Inputs shared by the compilation of every rule in a set.
pub(crate) struct RuleEnv<'a> {
    pub file: &'a str,
    pub lookups: &'a HashMap<String, Arc<Lookup>>,
    pub max_document_bytes: usize,
}

/// Compiles one rule, returning every problem found in it.
pub(crate) fn compile_rule(raw: RawRule, env: &RuleEnv<'_>) -> Result<Rule, Problems> {
    let mut p = Problems::new();
    check_names(&raw, &mut p);
    let operation = Operation::parse(&raw.operation);
    let entity = Entity::parse(&raw.entity);
    check_kind(&raw, operation, entity, &mut p);
    let condition = condition::compile(&raw.condition, "match", &mut p);
    let for_each = raw.for_each.as_deref().and_then(|f| {
        JsonPathExpr::parse(f)
            .map_err(|e| p.push(("for_each".into(), e)))
            .ok()
    });
    let (Some(operation), Some(entity)) = (operation, entity) else {
        return Err(p);
    };
    let body = compile_body(&raw, operation, entity, env, &mut p);
    let Some(condition) = condition.filter(|_| p.is_empty()) else {
        return Err(p);
    };
    Ok(Rule {
        specificity: condition.specificity() + if raw.business.is_some() { 3 } else { 0 },
        conditions: condition.to_string(),
        name: raw.name,
        description: raw.description,
        file: env.file.to_string(),
        business: raw.business,
        priority: raw.priority,
        operation,
        entity,
        identity: body.identity,
        on_duplicate: body.policies.0,
        update_mode: body.policies.1,
        items_mode: body.policies.2,
        condition,
        for_each,
        mapping: body.mapping,
        checks: body.checks,
    })
}

fn check_names(raw: &RawRule, p: &mut Problems) {
    if raw.name.trim().is_empty() {
        p.push(("name".into(), "rule name must not be empty".into()));
    }
    if raw.business.as_deref().is_some_and(|b| b.trim().is_empty()) {
        let msg = "business slug must not be empty (leave it out to apply to all)";
        p.push(("business".into(), msg.into()));
    }
}

/// What a rule does once it matched: mapping, identity, checks and policies.
struct Body {
    mapping: Mapping,
    identity: Vec<String>,
    checks: Vec<Check>,
    policies: Policies,
}

fn compile_body(
    raw: &RawRule,
    operation: Operation,
    entity: Entity,
    env: &RuleEnv<'_>,
    p: &mut Problems,
) -> Body {
    let dates = RuleDates {
        zone: raw
            .timezone
            .as_deref()
            .and_then(|z| parse_zone(z, "timezone", p)),
        formats: compile_formats(
            raw.date_formats.as_deref().unwrap_or_default(),
            "date_formats",
            p,
        ),
    };
    let policies = policies(raw, operation, p);
    let schema = entity_schema(entity);
    let mut compiler = Compiler {
        lookups: env.lookups,
        dates: &dates,
        max_document_bytes: env.max_document_bytes,
        problems: p,
    };
    let mapping = mapping::compile_mapping(schema, &raw.map, "map", &mut compiler);
    p.extend(mapping::required_problems(&mapping, operation, "map"));
    let identity = identity(raw, entity, &mapping, p);
    if operation == Operation::Cancel {
        dropped_by_cancel(&mapping, entity, &identity, p);
    }
    let checks = raw
        .validate
        .iter()
        .enumerate()
        .filter_map(|(i, v)| compile_check(v, schema, &format!("validate[{i}]"), p))
        .collect();
    Body {
        mapping,
        identity,
        checks,
        policies,
    }
}

/// A cancel stores its target, when it happened and why; any other field mapped in a
/// cancel rule would be read from the sender and then lost, so it is a load error.
fn dropped_by_cancel(mapping: &Mapping, entity: Entity, identity: &[String], p: &mut Problems) {
    let master = matches!(entity, Entity::Party | Entity::Resource | Entity::Sku);
    // Archiving master data keeps no reason: only a SKU's facility finds it.
    let mut kept = if master {
        vec!["facility"]
    } else {
        vec!["facility", "notes"]
    };
    if entity == Entity::Shipment {
        kept.push("status_occurred_at");
    }
    for field in &mapping.fields {
        let name = field.def.name;
        if !kept.contains(&name) && !identity.iter().any(|i| i == name) {
            p.push((
                format!("map.{name}"),
                format!(
                    "a cancel stores the {entity} it finds by {}{}{}; \
                     `{name}` would be read and then dropped: remove it, or map it in an update rule",
                    identity.join(", "),
                    if master {
                        " (archived)"
                    } else {
                        ", `notes` as the reason"
                    },
                    if entity == Entity::Shipment {
                        " and `status_occurred_at` as when"
                    } else {
                        ""
                    },
                ),
            ));
        }
    }
}

fn check_kind(raw: &RawRule, op: Option<Operation>, entity: Option<Entity>, p: &mut Problems) {
    if op.is_none() {
        p.push((
            "operation".into(),
            format!(
                "unknown operation `{}` (create, update, cancel, attach)",
                raw.operation
            ),
        ));
    }
    if entity.is_none() {
        let msg = format!(
            "unknown entity `{}` (shipment, order, pallet, document, reference, exception)",
            raw.entity
        );
        p.push(("entity".into(), msg));
    }
    if let (Some(op), Some(e)) = (op, entity)
        && !e.operations().contains(&op)
    {
        let allowed: Vec<&str> = e.operations().iter().map(|o| o.as_str()).collect();
        p.push((
            "operation".into(),
            format!(
                "`{op}` is not possible for {e} (allowed: {})",
                allowed.join(", ")
            ),
        ));
    }
}

type Policies = (DuplicatePolicy, UpdateMode, ItemsMode);

fn policies(raw: &RawRule, op: Operation, p: &mut Problems) -> Policies {
    let on_duplicate = match raw.on_duplicate.as_deref() {
        None | Some("reject") => DuplicatePolicy::Reject,
        Some("upsert") => DuplicatePolicy::Upsert,
        Some(other) => bad(
            p,
            "on_duplicate",
            other,
            "reject, upsert",
            DuplicatePolicy::Reject,
        ),
    };
    let update_mode = match raw.update_mode.as_deref() {
        None | Some("patch") => UpdateMode::Patch,
        Some("replace") => UpdateMode::Replace,
        Some(other) => bad(p, "update_mode", other, "patch, replace", UpdateMode::Patch),
    };
    let items_mode = match raw.items_mode.as_deref() {
        None | Some("merge") => ItemsMode::Merge,
        Some("overwrite") => ItemsMode::Overwrite,
        Some("append") => ItemsMode::Append,
        Some("delete") => ItemsMode::Delete,
        Some(other) => bad(
            p,
            "items_mode",
            other,
            "overwrite, merge, append, delete",
            ItemsMode::Merge,
        ),
    };
    if raw.on_duplicate.is_some() && op != Operation::Create {
        p.push(("on_duplicate".into(), "only applies to create rules".into()));
    }
    if raw.update_mode.is_some() && op != Operation::Update {
        p.push(("update_mode".into(), "only applies to update rules".into()));
    }
    let upserting = op == Operation::Create && on_duplicate == DuplicatePolicy::Upsert;
    if raw.items_mode.is_some() && op != Operation::Update && !upserting {
        p.push((
            "items_mode".into(),
            "only applies to update rules and creates with on_duplicate = \"upsert\"".into(),
        ));
    }
    (on_duplicate, update_mode, items_mode)
}

fn bad<T>(p: &mut Problems, key: &str, got: &str, allowed: &str, fallback: T) -> T {
    p.push((key.into(), format!("`{got}` is not one of {allowed}")));
    fallback
}

fn identity(raw: &RawRule, entity: Entity, mapping: &Mapping, p: &mut Problems) -> Vec<String> {
    let names: Vec<String> = match &raw.identity {
        Some(list) => list.clone(),
        None => default_identity(entity)
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let schema = entity_schema(entity);
    for name in &names {
        match schema.field(name) {
            None => p.push((
                "identity".into(),
                format!("unknown canonical field `{name}` for {entity}"),
            )),
            Some(def) if !def.ty.is_scalar() => p.push((
                "identity".into(),
                format!("`{name}` is not a single value and cannot identify a record"),
            )),
            Some(_) if mapping.get(name).is_none() => p.push((
                "identity".into(),
                format!("identity field `{name}` is not mapped"),
            )),
            Some(_) => {}
        }
    }
    check_stored_key(entity, &names, p);
    names
}

/// Shipments and orders are stored under their number within a facility, so that is
/// the only identity the store can look them up by.
fn check_stored_key(entity: Entity, names: &[String], p: &mut Problems) {
    let number = match entity {
        Entity::Shipment => "shipment_number",
        Entity::Order => "order_number",
        _ => return,
    };
    let fits =
        names.iter().any(|n| n == number) && names.iter().all(|n| n == number || n == "facility");
    if !fits {
        p.push((
            "identity".into(),
            format!(
                "a {entity} is identified by `{number}`, optionally with `facility`; got {names:?}"
            ),
        ));
    }
}
