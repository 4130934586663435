//! Compiling `[rule.map]` against the canonical schema.

use super::super::condition::Problems;
use super::super::datetime::Format;
use super::super::model::Operation;
use super::super::path::JsonPathExpr;
use super::super::raw::RawField;
use super::super::schema::{FieldDef, FieldType, ObjectSchema};
use super::scalar::compile_scalar;
use super::{FieldKind, FieldMap, Lookup, Mapping, Nested};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Date settings declared on the rule, inherited by every date field.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleDates {
    pub zone: Option<Tz>,
    pub formats: Vec<Format>,
}

/// Everything mapping compilation needs besides the table itself.
pub(crate) struct Compiler<'a> {
    pub lookups: &'a HashMap<String, Arc<Lookup>>,
    pub dates: &'a RuleDates,
    pub max_document_bytes: usize,
    pub problems: &'a mut Problems,
}

/// Compiles a `map` table for `schema`; problems are recorded under `at`.
pub(crate) fn compile_mapping(
    schema: &'static ObjectSchema,
    raw: &BTreeMap<String, toml::Value>,
    at: &str,
    c: &mut Compiler<'_>,
) -> Mapping {
    let mut fields = Vec::new();
    for (name, value) in raw {
        let here = format!("{at}.{name}");
        let Some(def) = schema.field(name) else {
            let hint = schema
                .suggest(name)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            c.problems.push((
                here,
                format!("unknown canonical field `{name}` for {}{hint}", schema.name),
            ));
            continue;
        };
        if let Some(kind) = compile_field(def, value, &here, c) {
            fields.push(FieldMap { def, kind });
        }
    }
    Mapping { schema, fields }
}

fn compile_field(
    def: &'static FieldDef,
    value: &toml::Value,
    at: &str,
    c: &mut Compiler<'_>,
) -> Option<FieldKind> {
    match (def.ty, value) {
        (FieldType::Object(sub), toml::Value::Table(_)) => {
            compile_nested(sub, value, at, c).map(|n| FieldKind::Object(Box::new(n)))
        }
        (FieldType::ObjectList(sub), toml::Value::Table(_)) => {
            compile_nested(sub, value, at, c).map(|n| FieldKind::List(vec![n]))
        }
        (FieldType::ObjectList(sub), toml::Value::Array(entries)) => {
            let nested: Vec<Nested> = entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| compile_nested(sub, e, &format!("{at}[{i}]"), c))
                .collect();
            (nested.len() == entries.len()).then_some(FieldKind::List(nested))
        }
        (FieldType::Object(_) | FieldType::ObjectList(_), _) => {
            let msg = format!(
                "`{}` is a {}: give a table with `map` (and optional `path`)",
                def.name,
                def.ty.describe()
            );
            c.problems.push((at.to_string(), msg));
            None
        }
        (_, toml::Value::String(path)) => {
            let raw = RawField {
                path: Some(path.clone()),
                ..RawField::default()
            };
            compile_scalar(def, &raw, at, c).map(|s| FieldKind::Scalar(Box::new(s)))
        }
        (_, toml::Value::Table(_)) => {
            let raw: RawField = parse_table(value, at, c)?;
            compile_scalar(def, &raw, at, c).map(|s| FieldKind::Scalar(Box::new(s)))
        }
        _ => {
            let msg = "give a JSONPath string or a table; write literals as `{ value = ... }`"
                .to_string();
            c.problems.push((at.to_string(), msg));
            None
        }
    }
}

fn parse_table(value: &toml::Value, at: &str, c: &mut Compiler<'_>) -> Option<RawField> {
    match value.clone().try_into::<RawField>() {
        Ok(raw) => Some(raw),
        Err(e) => {
            c.problems
                .push((at.to_string(), e.message().trim().to_string()));
            None
        }
    }
}

fn compile_nested(
    sub: &'static ObjectSchema,
    value: &toml::Value,
    at: &str,
    c: &mut Compiler<'_>,
) -> Option<Nested> {
    let raw = parse_table(value, at, c)?;
    let extra = raw.value.is_some()
        || raw.concat.is_some()
        || raw.first_of.is_some()
        || raw.cases.is_some()
        || !raw.transform.is_empty()
        || raw.lookup.is_some()
        || raw.default.is_some()
        || raw.timezone.is_some()
        || raw.formats.is_some();
    if extra {
        c.problems.push((
            at.to_string(),
            "a nested object takes only `path` and `map`".into(),
        ));
    }
    let Some(map) = &raw.map else {
        c.problems.push((
            at.to_string(),
            format!("a {} needs a `map` table", sub.name),
        ));
        return None;
    };
    let path = raw
        .path
        .as_deref()
        .and_then(|p| parse_path(p, &format!("{at}.path"), c));
    if raw.path.is_some() && path.is_none() {
        return None;
    }
    let mapping = compile_mapping(sub, map, &format!("{at}.map"), c);
    Some(Nested { path, mapping })
}

pub(super) fn parse_path(text: &str, at: &str, c: &mut Compiler<'_>) -> Option<JsonPathExpr> {
    JsonPathExpr::parse(text)
        .map_err(|e| c.problems.push((at.to_string(), e)))
        .ok()
}

/// Required fields (for `op`) and `any_of` groups that the mapping leaves unmapped.
pub(crate) fn required_problems(m: &Mapping, op: Operation, at: &str) -> Problems {
    let mut out = Problems::new();
    for def in m.schema.fields.iter().filter(|d| d.required_for(op)) {
        if m.get(def.name).is_none() {
            let msg = format!(
                "required field `{}` for {} {op} is not mapped",
                def.name, m.schema.name
            );
            out.push((at.to_string(), msg));
        }
    }
    for group in m.schema.any_of {
        if !group.iter().any(|n| m.get(n).is_some()) {
            out.push((
                at.to_string(),
                format!("map at least one of: {}", group.join(", ")),
            ));
        }
    }
    for f in &m.fields {
        let nested: Vec<&Nested> = match &f.kind {
            FieldKind::Object(n) => vec![n.as_ref()],
            FieldKind::List(list) => list.iter().collect(),
            FieldKind::Scalar(_) => Vec::new(),
        };
        for n in nested {
            out.extend(required_problems(
                &n.mapping,
                op,
                &format!("{at}.{}.map", f.def.name),
            ));
        }
    }
    out
}
