//! Reading one scalar (or string-list) field: source, transforms, lookup, coercion.

use super::super::coerce::{CoerceCtx, coerce};
use super::super::model::Finding;
use super::super::path::{JsonPathExpr, Scope, flatten};
use super::super::schema::{FieldDef, FieldType};
use super::super::value::preview;
use super::eval::{EvalCtx, Status};
use super::{Part, ScalarMap, Source};
use serde_json::Value;
use std::borrow::Cow;

enum Refined {
    Value(Value),
    Empty,
    Invalid,
}

/// Values a field's source yields, each with its payload path, and the path to report when none.
type Gathered<'a> = (Vec<(Cow<'a, Value>, String)>, String);

/// The nodes the paths select, in order, and when none holds a value the path the
/// sender should fill: the first path's, up to its first missing step.
fn nodes_of<'a>(paths: &[JsonPathExpr], list: bool, scope: Scope<'a>) -> Gathered<'a> {
    let mut nodes = Vec::new();
    for p in paths {
        let located = p.select_located(&scope);
        let located = if list { flatten(located) } else { located };
        nodes.extend(
            located
                .into_iter()
                .map(|l| (Cow::Borrowed(l.value), l.path)),
        );
    }
    // Only read when no node holds a value (then the first node's path is not there).
    let missing = match (nodes.iter().any(|n| !n.0.is_null()), paths.first()) {
        (false, Some(first)) => first.missing_path(&scope),
        _ => String::new(),
    };
    (nodes, missing)
}

fn gather<'a>(source: &Source, list: bool, scope: Scope<'a>) -> Gathered<'a> {
    match source {
        Source::Literal(v) => (vec![(Cow::Owned(v.clone()), String::new())], String::new()),
        Source::Path(p) => nodes_of(std::slice::from_ref(p), list, scope),
        Source::FirstOf(paths) => nodes_of(paths, list, scope),
        // Chosen before gathering, in `eval_scalar`.
        Source::Cases(_) => (Vec::new(), String::new()),
        Source::Concat { parts, separator } => {
            let (joined, missing) = concat(parts, separator, scope);
            let nodes = joined.map(|(text, path)| (Cow::Owned(Value::String(text)), path));
            (nodes.into_iter().collect(), missing)
        }
    }
}

pub(super) fn eval_scalar(
    s: &ScalarMap,
    def: &FieldDef,
    scope: Scope<'_>,
    canon: &str,
    ctx: &mut EvalCtx,
) -> (Option<Value>, Status) {
    if let Source::Literal(v) = &s.source {
        return (Some(v.clone()), Status::Literal);
    }
    if let Source::Cases(cases) = &s.source {
        if let Some(case) = cases
            .iter()
            .find(|c| c.when.as_ref().is_none_or(|w| w.matches(&scope)))
        {
            return eval_scalar(&case.map, def, scope, canon, ctx);
        }
        return match &s.default {
            Some(d) => (Some(d.clone()), Status::Literal),
            None => (None, Status::Missing(scope.current_path.to_string())),
        };
    }
    let list = matches!(def.ty, FieldType::StrList);
    let (nodes, missing_path) = gather(&s.source, list, scope);
    let mut values = Vec::new();
    let mut invalid = false;
    let mut first_path = None;
    for (value, path) in nodes.into_iter().filter(|n| !n.0.is_null()) {
        let refined = refine(s, def, value.into_owned(), &path, canon, ctx);
        if let (Refined::Value(_), true) = (&refined, ctx.track_paths)
            && !ctx.sources.contains_key(canon)
        {
            ctx.sources.insert(canon.to_string(), path.clone());
        }
        if def.refers && matches!(refined, Refined::Value(_)) {
            ctx.references.insert(canon.to_string(), path.clone());
        }
        if first_path.is_none() {
            first_path = Some(path);
        }
        match refined {
            Refined::Value(v) => {
                values.push(v);
                if !list {
                    break;
                }
            }
            Refined::Invalid => invalid = true,
            Refined::Empty => {}
        }
    }
    match (values.is_empty(), list) {
        (false, true) => (Some(Value::Array(values)), Status::Found),
        (false, false) => (values.into_iter().next(), Status::Found),
        _ if invalid => (None, Status::Invalid),
        _ => match &s.default {
            Some(d) => (Some(d.clone()), Status::Literal),
            None => (None, Status::Missing(first_path.unwrap_or(missing_path))),
        },
    }
}

/// Where a value came from, for findings.
struct Origin<'a> {
    path: &'a str,
    canon: &'a str,
}

/// Transforms, lookup and type coercion of one value, recording findings at `path`.
fn refine(
    s: &ScalarMap,
    def: &FieldDef,
    v: Value,
    path: &str,
    canon: &str,
    ctx: &mut EvalCtx,
) -> Refined {
    let at = Origin { path, canon };
    let Some(v) = transform(s, v, &at, ctx) else {
        return Refined::Invalid;
    };
    if v.is_null() || v.as_str().is_some_and(str::is_empty) {
        return Refined::Empty;
    }
    let Some(v) = look_up(s, v, &at, ctx) else {
        return Refined::Invalid;
    };
    let cctx = CoerceCtx {
        dates: &s.dates,
        max_document_bytes: ctx.max_document_bytes,
    };
    let (value, problem) = coerce(v, def.ty, canon, &cctx);
    if let Some(p) = problem {
        ctx.findings
            .push(Finding::new(p.severity, p.code, path, canon, p.detail));
    }
    value.map_or(Refined::Invalid, Refined::Value)
}

fn transform(s: &ScalarMap, mut v: Value, at: &Origin<'_>, ctx: &mut EvalCtx) -> Option<Value> {
    for t in &s.transforms {
        match t.apply(v) {
            Ok(next) => v = next,
            Err(detail) => {
                let detail = format!("{}: {detail}", at.canon);
                ctx.findings
                    .push(Finding::error("invalid_value", at.path, at.canon, detail));
                return None;
            }
        }
    }
    Some(v)
}

fn look_up(s: &ScalarMap, v: Value, at: &Origin<'_>, ctx: &mut EvalCtx) -> Option<Value> {
    let Some(table) = &s.lookup else {
        return Some(v);
    };
    let key = match &v {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if let Some(mapped) = table.entries.get(&key) {
        return Some(mapped.clone());
    }
    let detail = format!(
        "Unknown code {} for {} (not in lookup table `{}`)",
        preview(&v),
        at.canon,
        table.name
    );
    ctx.findings.push(Finding::new(
        s.on_unknown,
        "unknown_code",
        at.path,
        at.canon,
        detail,
    ));
    None
}

/// Joins the parts present (text, path of the first part read); nothing when no path part has a value.
fn concat(parts: &[Part], separator: &str, scope: Scope<'_>) -> (Option<(String, String)>, String) {
    let mut texts = Vec::new();
    let mut first_path: Option<String> = None;
    let mut missing = None;
    for part in parts {
        match part {
            Part::Text(t) => texts.push(t.clone()),
            Part::Path(p) => match p
                .select_located(&scope)
                .into_iter()
                .find(|l| !l.value.is_null())
            {
                Some(l) => {
                    texts.push(match l.value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                    first_path.get_or_insert(l.path);
                }
                None => {
                    missing.get_or_insert_with(|| p.missing_path(&scope));
                }
            },
        }
    }
    let missing = missing.unwrap_or_else(|| scope.current_path.to_string());
    (first_path.map(|p| (texts.join(separator), p)), missing)
}
