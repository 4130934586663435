//! Whole-object checks (addresses, time windows) and the rule's own
//! `[[rule.validate]]` checks on mapped fields.

use super::condition::Problems;
use super::mapping::EvalCtx;
use super::mapping::{Status, Statuses};
use super::model::{Finding, Severity};
use super::path::{JsonPathExpr, Scope};
use super::raw::RawValidate;
use super::schema::{FieldType, ObjectCheck, ObjectSchema};
use chrono::DateTime;
use regex::Regex;
use serde_json::{Map, Value};

/// Parts an address needs to be deliverable.
const ADDRESS_PARTS: [&str; 4] = ["address_one", "postal_code", "city", "country"];

/// Runs the schema's whole-object check on a mapped object found at `path`.
pub(crate) fn object_check(
    check: ObjectCheck,
    obj: &Map<String, Value>,
    statuses: &Statuses,
    path: &str,
    name: &str,
) -> Vec<Finding> {
    match check {
        ObjectCheck::None => Vec::new(),
        ObjectCheck::Address => address_check(obj, statuses, path, name),
        ObjectCheck::Window => window_check(obj, path, name),
    }
}

fn address_check(
    obj: &Map<String, Value>,
    statuses: &Statuses,
    path: &str,
    name: &str,
) -> Vec<Finding> {
    // A part the sender gave but we rejected (e.g. country ZZ) already has its own finding.
    let invalid = |part: &str| {
        statuses
            .iter()
            .any(|(n, s)| *n == part && *s == Status::Invalid)
    };
    let missing: Vec<&str> = ADDRESS_PARTS
        .iter()
        .copied()
        .filter(|p| !obj.contains_key(*p) && !invalid(p))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let detail = format!(
        "Address of {name} is incomplete: missing {}",
        missing.join(", ")
    );
    vec![Finding::error("incomplete_address", path, name, detail)]
}

fn window_check(obj: &Map<String, Value>, path: &str, name: &str) -> Vec<Finding> {
    let at = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    };
    match (at("start"), at("end")) {
        (Some(start), Some(end)) if end < start => {
            let detail = format!("Time window {name} ends before it starts");
            vec![Finding::error("invalid_value", path, name, detail)]
        }
        _ => Vec::new(),
    }
}

/// A compiled `[[rule.validate]]` check.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    field: String,
    regex: Option<Regex>,
    one_of: Option<Vec<String>>,
    starts_with_field: Option<String>,
    starts_with_path: Option<JsonPathExpr>,
    required: bool,
    message: Option<String>,
    code: String,
    severity: Severity,
}

/// Compiles a validate entry against the entity schema.
pub(crate) fn compile_check(
    raw: &RawValidate,
    schema: &'static ObjectSchema,
    at: &str,
    problems: &mut Problems,
) -> Option<Check> {
    let before = problems.len();
    check_targets(raw, schema, at, problems);
    let regex = raw.regex.as_ref().and_then(|r| {
        let bad = |e: regex::Error| {
            problems.push((format!("{at}.regex"), format!("bad regex `{r}`: {e}")))
        };
        Regex::new(r).map_err(bad).ok()
    });
    let starts_with_path = raw.starts_with_path.as_ref().and_then(|p| {
        JsonPathExpr::parse(p)
            .map_err(|e| problems.push((format!("{at}.starts_with_path"), e)))
            .ok()
    });
    let severity = match raw.severity.as_deref().map(Severity::parse) {
        None => Severity::Error,
        Some(Some(s)) => s,
        Some(None) => {
            problems.push((
                format!("{at}.severity"),
                "must be `error` or `warning`".into(),
            ));
            Severity::Error
        }
    };
    (problems.len() == before).then(|| Check {
        field: raw.field.clone(),
        regex,
        one_of: raw.one_of.clone(),
        starts_with_field: raw.starts_with_field.clone(),
        starts_with_path,
        required: raw.required == Some(true),
        message: raw.message.clone(),
        code: raw
            .code
            .clone()
            .unwrap_or_else(|| "pattern_mismatch".into()),
        severity,
    })
}

/// The checked field, the field it is compared with, and that there is something to check.
fn check_targets(
    raw: &RawValidate,
    schema: &'static ObjectSchema,
    at: &str,
    problems: &mut Problems,
) {
    check_field_path(&raw.field, schema, &format!("{at}.field"), problems);
    if let Some(other) = &raw.starts_with_field {
        if other.contains("[]") {
            problems.push((
                format!("{at}.starts_with_field"),
                "must name a single field (no `[]`)".into(),
            ));
        }
        check_field_path(other, schema, &format!("{at}.starts_with_field"), problems);
    }
    let tests = [
        raw.regex.is_some(),
        raw.one_of.is_some(),
        raw.starts_with_field.is_some(),
        raw.starts_with_path.is_some(),
        raw.required == Some(true),
    ];
    if !tests.contains(&true) {
        let msg =
            "give at least one of regex, one_of, starts_with_field, starts_with_path, required";
        problems.push((at.to_string(), msg.into()));
    }
}

/// Checks a canonical field path like `items[].lpn` names a scalar field.
fn check_field_path(text: &str, schema: &'static ObjectSchema, at: &str, problems: &mut Problems) {
    let mut current = schema;
    let segments: Vec<&str> = text.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let (name, each) = match seg.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (*seg, false),
        };
        let last = i + 1 == segments.len();
        let Some(def) = current.field(name) else {
            problems.push((
                at.to_string(),
                format!(
                    "unknown canonical field `{name}` in `{text}` ({})",
                    current.name
                ),
            ));
            return;
        };
        match (def.ty, each, last) {
            (FieldType::ObjectList(sub), true, false) | (FieldType::Object(sub), false, false) => {
                current = sub
            }
            (ty, false, true) if ty.is_scalar() => return,
            _ => {
                let msg = format!(
                    "`{text}` must lead to a single-valued field; use `name[]` to step into lists"
                );
                problems.push((at.to_string(), msg));
                return;
            }
        }
    }
}

/// Runs the rule's checks against the mapped document.
pub(crate) fn run_checks(
    checks: &[Check],
    doc: &Map<String, Value>,
    scope: Scope<'_>,
    ctx: &mut EvalCtx,
) {
    for check in checks {
        let targets = resolve(doc, &check.field);
        if targets.is_empty() && check.required {
            let path = ctx
                .missing
                .get(&check.field)
                .cloned()
                .unwrap_or_else(|| scope.current_path.to_string());
            let detail = check
                .message
                .clone()
                .unwrap_or_else(|| format!("Missing required field: {}", check.field));
            ctx.findings.push(Finding::new(
                check.severity,
                "missing_field",
                &path,
                &check.field,
                detail,
            ));
        }
        for (canon, value) in targets {
            if let Some(reason) = check.failure(&value, doc, scope) {
                let path = ctx
                    .sources
                    .get(&canon)
                    .cloned()
                    .unwrap_or_else(|| scope.current_path.to_string());
                let detail = match &check.message {
                    Some(m) => m.replace("{value}", &value).replace("{field}", &canon),
                    None => format!("{canon} '{value}' {reason}"),
                };
                ctx.findings.push(Finding::new(
                    check.severity,
                    &check.code,
                    &path,
                    &canon,
                    detail,
                ));
            }
        }
    }
}

impl Check {
    fn failure(&self, value: &str, doc: &Map<String, Value>, scope: Scope<'_>) -> Option<String> {
        if let Some(re) = &self.regex
            && !re.is_match(value)
        {
            return Some(format!("does not match /{}/", re.as_str()));
        }
        if let Some(list) = &self.one_of
            && !list.iter().any(|v| v == value)
        {
            return Some(format!("is not one of {}", list.join(", ")));
        }
        if let Some(other) = &self.starts_with_field {
            let prefix = resolve(doc, other).into_iter().next().map(|(_, v)| v);
            if !prefix.as_deref().is_some_and(|p| value.starts_with(p)) {
                return Some(format!(
                    "does not start with {other} ({})",
                    prefix.unwrap_or_else(|| "missing".into())
                ));
            }
        }
        if let Some(path) = &self.starts_with_path {
            let prefix = path.first(&scope).map(scalar_text);
            if !prefix
                .as_deref()
                .is_some_and(|p| !p.is_empty() && value.starts_with(p))
            {
                let shown = prefix.unwrap_or_else(|| "missing".into());
                return Some(format!("does not start with {} ({shown})", path.text()));
            }
        }
        None
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Concrete (canonical path, text) pairs a field path like `orders[].items[].sku` reaches.
fn resolve(doc: &Map<String, Value>, field: &str) -> Vec<(String, String)> {
    let mut frontier: Vec<(String, &Value)> = Vec::new();
    let mut current: Vec<(String, &Map<String, Value>)> = vec![(String::new(), doc)];
    let segments: Vec<&str> = field.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let (name, each) = seg.strip_suffix("[]").map_or((*seg, false), |n| (n, true));
        let last = i + 1 == segments.len();
        let mut next = Vec::new();
        for (prefix, obj) in &current {
            let Some(v) = obj.get(name) else { continue };
            let here = format!("{prefix}{name}");
            match (v, each, last) {
                (_, false, true) => frontier.push((here, v)),
                (Value::Object(o), false, false) => next.push((format!("{here}."), o)),
                (Value::Array(items), true, false) => next.extend(
                    items
                        .iter()
                        .enumerate()
                        .filter_map(|(j, it)| it.as_object().map(|o| (format!("{here}[{j}]."), o))),
                ),
                _ => {}
            }
        }
        current = next;
    }
    frontier
        .into_iter()
        .map(|(p, v)| (p, scalar_text(v)))
        .collect()
}
