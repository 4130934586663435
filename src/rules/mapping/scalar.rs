//! Compiling single-valued (and string-list) mapping entries.

use super::super::coerce::{CoerceCtx, coerce};
use super::super::condition::Problems;
use super::super::datetime::{DateSpec, Format};
use super::super::model::Severity;
use super::super::raw::RawField;
use super::super::schema::{FieldDef, FieldType};
use super::super::transform::Transform;
use super::super::value::toml_to_json;
use super::compile::{Compiler, parse_path};
use super::{Lookup, Part, ScalarMap, Source};
use chrono_tz::Tz;
use serde_json::Value;
use std::sync::Arc;

pub(super) fn compile_scalar(
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
    def: &'static FieldDef,
    raw: &RawField,
    dates: &DateSpec,
    at: &str,
    c: &mut Compiler<'_>,
) -> Option<Source> {
    let given = [
        raw.path.is_some(),
        raw.value.is_some(),
        raw.concat.is_some(),
        raw.first_of.is_some(),
        raw.cases.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        c.problems.push((
            at.to_string(),
            "give exactly one of `path`, `value`, `concat`, `first_of`, `cases`".into(),
        ));
        return None;
    }
    if raw.when.is_some() {
        c.problems.push((
            format!("{at}.when"),
            "`when` belongs to an entry of `cases`".into(),
        ));
    }
    if let Some(cases) = &raw.cases {
        return compile_cases(def, raw, cases, at, c);
    }
    if let Some(paths) = &raw.first_of {
        if paths.is_empty() {
            c.problems.push((
                format!("{at}.first_of"),
                "list at least one JSONPath".into(),
            ));
            return None;
        }
        let compiled: Vec<_> = paths
            .iter()
            .enumerate()
            .filter_map(|(i, p)| parse_path(p, &format!("{at}.first_of[{i}]"), c))
            .collect();
        return (compiled.len() == paths.len()).then_some(Source::FirstOf(compiled));
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

/// `cases`: each entry is a field entry of its own with an optional `when`; only the
/// last may leave `when` out (it is the otherwise), and the field's own `default`
/// applies when no case holds.
fn compile_cases(
    def: &'static FieldDef,
    raw: &RawField,
    cases: &[RawField],
    at: &str,
    c: &mut Compiler<'_>,
) -> Option<Source> {
    let before = c.problems.len();
    if cases.is_empty() {
        c.problems
            .push((format!("{at}.cases"), "list at least one case".into()));
    }
    if !raw.transform.is_empty() || raw.lookup.is_some() || raw.separator.is_some() {
        c.problems.push((
            at.to_string(),
            "with `cases`, give `transform`, `lookup` and `separator` inside each case".into(),
        ));
    }
    let mut compiled = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let case_at = format!("{at}.cases[{i}]");
        if case.when.is_none() && i + 1 < cases.len() {
            c.problems.push((
                format!("{case_at}.when"),
                "only the last case may leave out `when`: the cases after it could never apply"
                    .into(),
            ));
        }
        if case.default.is_some() {
            c.problems.push((
                format!("{case_at}.default"),
                "give `default` on the field, beside `cases`: it applies when no case holds".into(),
            ));
        }
        let when = case.when.as_ref().and_then(|w| {
            super::super::condition::compile(w, &format!("{case_at}.when"), c.problems)
        });
        let inner = RawField {
            when: None,
            default: None,
            ..case.clone()
        };
        if let Some(map) = compile_scalar(def, &inner, &case_at, c) {
            compiled.push(super::Case { when, map });
        }
    }
    (c.problems.len() == before).then_some(Source::Cases(compiled))
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

fn compile_transforms(entries: &[toml::Value], at: &str, c: &mut Compiler<'_>) -> Vec<Transform> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| {
            Transform::compile(entry)
                .map_err(|msg| c.problems.push((format!("{at}.transform[{i}]"), msg)))
                .ok()
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
