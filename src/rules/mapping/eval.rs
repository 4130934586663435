//! Evaluating a compiled mapping over one payload item.

use super::super::checks::object_check;
use super::super::model::{Finding, Operation, Severity};
use super::super::path::{JsonPathExpr, Located, Scope};
use super::eval_scalar::eval_scalar;
use super::{FieldKind, FieldMap, Mapping, Nested};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// State shared while mapping one item.
pub(crate) struct EvalCtx {
    pub operation: Operation,
    pub max_document_bytes: usize,
    pub findings: Vec<Finding>,
    /// Canonical path → payload path of every value taken from the payload.
    pub sources: BTreeMap<String, String>,
    /// Canonical path → payload path that would have been read, for absent fields.
    pub missing: BTreeMap<String, String>,
    /// Whether to fill `sources` and `missing`: only a rule's own checks read them.
    pub track_paths: bool,
    /// Canonical path → payload path of every field naming a master-data record.
    pub references: BTreeMap<String, String>,
}

/// How a mapped field turned out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Status {
    /// Taken from the payload.
    Found,
    /// From a literal or default.
    Literal,
    /// The payload had a value but it was rejected (a finding says why).
    Invalid,
    /// Nothing to read; the path a sender should fill.
    Missing(String),
}

/// Field statuses of one object, by field name.
pub(crate) type Statuses = Vec<(&'static str, Status)>;

/// Maps the top-level document; `identity` fields are required on top of the schema's.
pub(crate) fn eval_document(
    m: &Mapping,
    scope: Scope<'_>,
    ctx: &mut EvalCtx,
    identity: &[String],
) -> Map<String, Value> {
    eval_object(m, scope, "", ctx, identity).0
}

fn eval_object(
    m: &Mapping,
    scope: Scope<'_>,
    prefix: &str,
    ctx: &mut EvalCtx,
    extra_required: &[String],
) -> (Map<String, Value>, bool) {
    let mut out = Map::with_capacity(m.fields.len());
    let mut statuses: Statuses = Vec::with_capacity(m.fields.len());
    for f in &m.fields {
        let canon = joined(prefix, f.def.name);
        let (value, status) = eval_field(f, scope, &canon, ctx);
        if let Some(v) = value {
            out.insert(f.def.name.to_string(), v);
        }
        if let (true, Status::Missing(path)) = (ctx.track_paths, &status) {
            ctx.missing.insert(canon, path.clone());
        }
        statuses.push((f.def.name, status));
    }
    let from_payload = statuses
        .iter()
        .any(|(_, s)| matches!(s, Status::Found | Status::Invalid));
    require_fields(
        m,
        &statuses,
        prefix,
        ctx,
        extra_required,
        scope.current_path,
    );
    if from_payload {
        let name = prefix.trim_end_matches('.');
        ctx.findings.extend(object_check(
            m.schema.check,
            &out,
            &statuses,
            scope.current_path,
            name,
        ));
    }
    (out, from_payload)
}

/// `prefix` followed by `name`, without the formatting machinery (this runs per field).
fn joined(prefix: &str, name: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + name.len() + 1);
    out.push_str(prefix);
    out.push_str(name);
    out
}

fn eval_field(
    f: &FieldMap,
    scope: Scope<'_>,
    canon: &str,
    ctx: &mut EvalCtx,
) -> (Option<Value>, Status) {
    match &f.kind {
        FieldKind::Scalar(s) => eval_scalar(s, f.def, scope, canon, ctx),
        FieldKind::Object(n) => eval_nested(n, scope, canon, ctx),
        FieldKind::List(list) => eval_list(list, scope, canon, ctx),
    }
}

fn require_fields(
    m: &Mapping,
    statuses: &Statuses,
    prefix: &str,
    ctx: &mut EvalCtx,
    extra: &[String],
    here: &str,
) {
    let status_of = |name: &str| statuses.iter().find(|(n, _)| *n == name).map(|(_, s)| s);
    for def in m.schema.fields {
        let required = def.required_for(ctx.operation) || extra.iter().any(|e| e == def.name);
        if let (true, Some(Status::Missing(path))) = (required, status_of(def.name)) {
            let detail = format!("Missing required field: {prefix}{}", def.name);
            ctx.findings.push(Finding::error(
                "missing_field",
                path,
                &format!("{prefix}{}", def.name),
                detail,
            ));
        }
    }
    for group in m.schema.any_of {
        let satisfied = group
            .iter()
            .any(|n| !matches!(status_of(n), Some(Status::Missing(_)) | None));
        if !satisfied {
            let path = group.iter().find_map(|n| match status_of(n) {
                Some(Status::Missing(p)) => Some(p.clone()),
                _ => None,
            });
            let names: Vec<String> = group.iter().map(|n| format!("{prefix}{n}")).collect();
            let detail = format!("Missing required field: {}", names.join(" or "));
            let field = names.first().cloned().unwrap_or_default();
            ctx.findings.push(Finding::error(
                "missing_field",
                path.as_deref().unwrap_or(here),
                &field,
                detail,
            ));
        }
    }
}

fn eval_nested(
    n: &Nested,
    scope: Scope<'_>,
    canon: &str,
    ctx: &mut EvalCtx,
) -> (Option<Value>, Status) {
    let (node, path) = match &n.path {
        Some(p) => match p
            .select_located(&scope)
            .into_iter()
            .find(|l| !l.value.is_null())
        {
            Some(l) => (l.value, l.path),
            None => return (None, Status::Missing(p.missing_path(&scope))),
        },
        None => (scope.current, scope.current_path.to_string()),
    };
    let sub = Scope {
        root: scope.root,
        current: node,
        current_path: &path,
    };
    let mark = ctx.findings.len();
    let (obj, from_payload) = eval_object(&n.mapping, sub, &joined(canon, "."), ctx, &[]);
    if from_payload && obj.is_empty() {
        // Every field was rejected: the findings say why; an empty object says nothing.
        (None, Status::Invalid)
    } else if from_payload {
        (Some(Value::Object(obj)), Status::Found)
    } else {
        ctx.findings.truncate(mark);
        (None, Status::Missing(path))
    }
}

/// Why a list path (`$.Lines.Line[*]`) that found nothing probably missed what the
/// sender sent: it ends at a value that is no list, or only its last key is missing
/// where the object holds a list or an object under another key. Nothing when the
/// sender sent nothing near it.
fn items_elsewhere(path: &JsonPathExpr, scope: &Scope<'_>) -> Option<(String, String)> {
    if !path.ends_in_wildcard() {
        return None;
    }
    let (reached, missing) = path.deepest_present(scope)?;
    let whole = missing == 0;
    let holds_a_list =
        |map: &Map<String, Value>| map.values().any(|v| v.is_array() || v.is_object());
    let shape = match reached.value {
        Value::Object(map) if missing == 1 && holds_a_list(map) => {
            let keys: Vec<&str> = map.keys().take(5).map(String::as_str).collect();
            let more = if map.len() > 5 { ", …" } else { "" };
            format!("an object with {}{more}", keys.join(", "))
        }
        Value::Object(_) | Value::Array(_) => return None,
        other if whole => super::super::value::type_name(other).to_string(),
        _ => return None,
    };
    let said = if whole {
        format!(
            "`{}` found no items: {} is {shape}",
            path.text(),
            reached.path
        )
    } else {
        format!(
            "`{}` found no items, but the payload has {shape} at {}: check the rule's path",
            path.text(),
            reached.path
        )
    };
    Some((reached.path, said))
}

fn eval_list(
    list: &[Nested],
    scope: Scope<'_>,
    canon: &str,
    ctx: &mut EvalCtx,
) -> (Option<Value>, Status) {
    let mut out = Vec::new();
    let mut selected_nothing = Vec::new();
    for n in list {
        let elements = match &n.path {
            Some(p) => p.elements(&scope),
            None => vec![Located {
                value: scope.current,
                path: scope.current_path.to_string(),
            }],
        };
        if let (Some(path), true) = (&n.path, elements.iter().all(|e| e.value.is_null())) {
            selected_nothing.push(path);
        }
        for el in elements.iter().filter(|e| !e.value.is_null()) {
            let sub = Scope {
                root: scope.root,
                current: el.value,
                current_path: &el.path,
            };
            let mark = ctx.findings.len();
            let (obj, from_payload) = eval_object(
                &n.mapping,
                sub,
                &format!("{canon}[{}].", out.len()),
                ctx,
                &[],
            );
            if from_payload {
                if !obj.is_empty() {
                    out.push(Value::Object(obj));
                }
            } else {
                ctx.findings.truncate(mark);
            }
        }
    }
    if out.is_empty() {
        for path in selected_nothing {
            if let Some((at, detail)) = items_elsewhere(path, &scope) {
                ctx.findings.push(Finding::new(
                    Severity::Warning,
                    "no_items",
                    &at,
                    canon,
                    detail,
                ));
            }
        }
        // The path a sender should fill: the first alternative's, computed only now.
        let missing = list.iter().find_map(|n| n.path.as_ref());
        let missing = missing.map_or_else(
            || scope.current_path.to_string(),
            |p| p.missing_path(&scope),
        );
        return (None, Status::Missing(missing));
    }
    (Some(Value::Array(out)), Status::Found)
}
