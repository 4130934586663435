//! Compiling `[rule.map]` against the canonical schema.

use super::{FieldKind, FieldMap, Lookup, Mapping, Nested, Part, ScalarMap, Source};
use crate::rules::coerce::{CoerceCtx, coerce};
use crate::rules::condition::Problems;
use crate::rules::datetime::{DateSpec, Format};
use crate::rules::model::{Operation, Severity};
use crate::rules::path::JsonPathExpr;
use crate::rules::raw::RawField;
use crate::rules::schema::{FieldDef, FieldType, ObjectSchema};
use crate::rules::transform::{NAMES, Transform};
use crate::rules::value::toml_to_json;
use chrono_tz::Tz;
use serde_json::Value;
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

fn parse_path(text: &str, at: &str, c: &mut Compiler<'_>) -> Option<JsonPathExpr> {
    JsonPathExpr::parse(text)
        .map_err(|e| c.problems.push((at.to_string(), e)))
        .ok()
}

fn compile_scalar(
    def: &'static FieldDef,
    raw: &RawField,
    at: &str,
    c: &mut Compiler<'_>,
) -> Option<ScalarMap> {
    let before = c.problems.len();
    if raw.map.is_some() {
        c.problems.push((
            at.to_string(),
            format!("`{}` is not an object; `map` does not apply", def.name),
        ));
    }
    let dates = compile_dates(def, raw, at, c);
    let source = compile_source(def, raw, &dates, at, c);
    let transforms = compile_transforms(&raw.transform, at, c);
    let (lookup, on_unknown) = compile_lookup(raw, at, c);
    let default = raw
        .default
        .as_ref()
        .and_then(|d| literal(def, d, &dates, &format!("{at}.default"), c));
    if matches!(source, Some(Source::Literal(_))) && (!raw.transform.is_empty() || lookup.is_some())
    {
        c.problems.push((
            at.to_string(),
            "transform and lookup do not apply to a literal `value`".into(),
        ));
    }
    if c.problems.len() > before {
        return None;
    }
    Some(ScalarMap {
        source: source?,
        transforms,
        lookup,
        on_unknown,
        default,
        dates,
    })
}

fn compile_source(
    def: &FieldDef,
    raw: &RawField,
    dates: &DateSpec,
    at: &str,
    c: &mut Compiler<'_>,
) -> Option<Source> {
    let given = [
        raw.path.is_some(),
        raw.value.is_some(),
        raw.concat.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        c.problems.push((
            at.to_string(),
            "give exactly one of `path`, `value`, `concat`".into(),
        ));
        return None;
    }
    if raw.separator.is_some() && raw.concat.is_none() {
        c.problems.push((
            at.to_string(),
            "`separator` only applies to `concat`".into(),
        ));
    }
    if let Some(p) = &raw.path {
        return parse_path(p, &format!("{at}.path"), c).map(Source::Path);
    }
    if let Some(v) = &raw.value {
        return literal(def, v, dates, &format!("{at}.value"), c).map(Source::Literal);
    }
    let parts = raw.concat.as_deref().unwrap_or_default();
    let compiled: Vec<Part> = parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p.starts_with('$') {
            true => parse_path(p, &format!("{at}.concat[{i}]"), c).map(Part::Path),
            false => Some(Part::Text(p.clone())),
        })
        .collect();
    (compiled.len() == parts.len()).then(|| Source::Concat {
        parts: compiled,
        separator: raw.separator.clone().unwrap_or_default(),
    })
}

/// Literals are coerced now, so a rule cannot carry a value its field would reject.
fn literal(
    def: &FieldDef,
    v: &toml::Value,
    dates: &DateSpec,
    at: &str,
    c: &mut Compiler<'_>,
) -> Option<Value> {
    let json = toml_to_json(v)
        .map_err(|e| c.problems.push((at.to_string(), e)))
        .ok()?;
    let ctx = CoerceCtx {
        dates,
        max_document_bytes: c.max_document_bytes,
    };
    let coerced = match (def.ty, json) {
        (FieldType::StrList, Value::Array(items)) => {
            let out: Option<Vec<Value>> = items
                .into_iter()
                .map(|i| coerce(i, def.ty, def.name, &ctx).0)
                .collect();
            out.map(Value::Array)
        }
        (FieldType::StrList, single) => coerce(single, def.ty, def.name, &ctx)
            .0
            .map(|v| Value::Array(vec![v])),
        (ty, other) => {
            let (value, problem) = coerce(other, ty, def.name, &ctx);
            if let Some(p) = problem.filter(|p| p.severity == Severity::Error) {
                c.problems
                    .push((at.to_string(), format!("invalid literal: {}", p.detail)));
                return None;
            }
            value
        }
    };
    if coerced.is_none() {
        c.problems.push((
            at.to_string(),
            format!("invalid literal for {} ({})", def.name, def.ty.describe()),
        ));
    }
    coerced
}

fn compile_transforms(names: &[String], at: &str, c: &mut Compiler<'_>) -> Vec<Transform> {
    names
        .iter()
        .filter_map(|n| {
            let t = Transform::parse(n);
            if t.is_none() {
                let msg = format!("unknown transform `{n}` (known: {})", NAMES.join(", "));
                c.problems.push((format!("{at}.transform"), msg));
            }
            t
        })
        .collect()
}

fn compile_lookup(
    raw: &RawField,
    at: &str,
    c: &mut Compiler<'_>,
) -> (Option<Arc<Lookup>>, Severity) {
    let severity = match raw.on_unknown.as_deref() {
        None | Some("error") => Severity::Error,
        Some("warning") => Severity::Warning,
        Some(other) => {
            c.problems.push((
                format!("{at}.on_unknown"),
                format!("`{other}` is not `error` or `warning`"),
            ));
            Severity::Error
        }
    };
    if raw.on_unknown.is_some() && raw.lookup.is_none() {
        c.problems
            .push((at.to_string(), "`on_unknown` needs a `lookup`".into()));
    }
    let table = raw.lookup.as_ref().and_then(|name| {
        let found = c.lookups.get(name).cloned();
        if found.is_none() {
            c.problems.push((
                format!("{at}.lookup"),
                format!("no lookup table `{name}` is defined"),
            ));
        }
        found
    });
    (table, severity)
}

fn compile_dates(def: &FieldDef, raw: &RawField, at: &str, c: &mut Compiler<'_>) -> DateSpec {
    if (raw.timezone.is_some() || raw.formats.is_some()) && !def.ty.is_temporal() {
        c.problems.push((
            at.to_string(),
            format!(
                "`timezone`/`formats` only apply to date fields, not {}",
                def.name
            ),
        ));
    }
    let zone = match &raw.timezone {
        Some(z) => parse_zone(z, &format!("{at}.timezone"), c.problems),
        None => c.dates.zone,
    };
    let formats = match &raw.formats {
        Some(list) => compile_formats(list, &format!("{at}.formats"), c.problems),
        None => c.dates.formats.clone(),
    };
    DateSpec { zone, formats }
}

/// Parses an IANA zone name such as `Europe/Berlin`.
pub(crate) fn parse_zone(name: &str, at: &str, problems: &mut Problems) -> Option<Tz> {
    let zone = name.parse::<Tz>().ok();
    if zone.is_none() {
        problems.push((at.to_string(), format!("unknown IANA time zone `{name}`")));
    }
    zone
}

/// Compiles chrono format strings.
pub(crate) fn compile_formats(list: &[String], at: &str, problems: &mut Problems) -> Vec<Format> {
    list.iter()
        .filter_map(|f| {
            Format::compile(f)
                .map_err(|e| problems.push((at.to_string(), e)))
                .ok()
        })
        .collect()
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
