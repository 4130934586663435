//! The body of an outbound mapping: the partner's own JSON, built from the event with
//! the mapping language of the rules (`path`, `value`, `concat`, `first_of`, `cases`,
//! `transform`, `lookup`, `default`), but with the partner's field names instead of
//! the canonical schema's.
//!
//! An entry is a JSONPath string, or a table: a scalar (one of the sources above), an
//! object (`map`, optionally read from a singular `path`), or a list (`map` for each
//! node of a `path` that selects several). A scalar without a value is left out of
//! its object unless it is `required`; then the event cannot be rendered.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::rules::condition::{self, Condition, Problems};
use crate::rules::path::{JsonPathExpr, Scope};
use crate::rules::raw::RawCondition;
use crate::rules::transform::Transform;
use crate::rules::value::toml_to_json;

/// A compiled object template: its fields in the order they were written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Template {
    fields: Vec<(String, Node)>,
}

#[derive(Debug, Clone)]
enum Node {
    Scalar(Box<Scalar>),
    /// An object read from the current node, or from the one a singular path selects.
    Object {
        path: Option<JsonPathExpr>,
        template: Template,
    },
    /// One object for each node the path selects.
    List {
        path: JsonPathExpr,
        template: Template,
    },
}

#[derive(Debug, Clone)]
struct Scalar {
    source: Source,
    transforms: Vec<Transform>,
    lookup: Option<Arc<HashMap<String, Value>>>,
    lookup_name: String,
    default: Option<Value>,
    required: bool,
    /// Every value the path selects, as a list (else the first).
    list: bool,
}

#[derive(Debug, Clone)]
enum Source {
    Path(JsonPathExpr),
    Literal(Value),
    Concat { parts: Vec<Part>, separator: String },
    FirstOf(Vec<JsonPathExpr>),
    Cases(Vec<(Option<Condition>, Scalar)>),
}

#[derive(Debug, Clone)]
enum Part {
    Path(JsonPathExpr),
    Text(String),
}

/// The table form of an entry.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    path: Option<String>,
    value: Option<toml::Value>,
    concat: Option<Vec<String>>,
    separator: Option<String>,
    first_of: Option<Vec<String>>,
    cases: Option<Vec<RawEntry>>,
    when: Option<RawCondition>,
    #[serde(default)]
    transform: Vec<toml::Value>,
    lookup: Option<String>,
    default: Option<toml::Value>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    list: bool,
    map: Option<toml::Table>,
}

/// Lookup tables by name.
pub(crate) type Lookups = HashMap<String, Arc<HashMap<String, Value>>>;

/// Compiles the table `raw`, recording problems under `at`.
pub(crate) fn compile(
    raw: &toml::Table,
    at: &str,
    lookups: &Lookups,
    problems: &mut Problems,
) -> Template {
    let mut fields = Vec::new();
    for (name, value) in raw {
        let here = format!("{at}.{name}");
        if let Some(node) = compile_node(value, &here, lookups, problems) {
            fields.push((name.clone(), node));
        }
    }
    Template { fields }
}

fn parse_path(text: &str, at: &str, problems: &mut Problems) -> Option<JsonPathExpr> {
    JsonPathExpr::parse(text)
        .map_err(|e| problems.push((at.to_string(), e)))
        .ok()
}

fn json_of(v: &toml::Value, at: &str, problems: &mut Problems) -> Option<Value> {
    toml_to_json(v)
        .map_err(|e| problems.push((at.to_string(), e)))
        .ok()
}

fn compile_node(
    value: &toml::Value,
    at: &str,
    lookups: &Lookups,
    problems: &mut Problems,
) -> Option<Node> {
    let raw: RawEntry = match value {
        toml::Value::String(path) => RawEntry {
            path: Some(path.clone()),
            ..RawEntry::default()
        },
        toml::Value::Table(_) => match value.clone().try_into::<RawEntry>() {
            Ok(raw) => raw,
            Err(e) => {
                problems.push((at.to_string(), e.message().trim().to_string()));
                return None;
            }
        },
        _ => {
            problems.push((
                at.to_string(),
                "give a JSONPath string or a table; write literals as `{ value = ... }`".into(),
            ));
            return None;
        }
    };
    if let Some(map) = &raw.map {
        let extra = raw.value.is_some()
            || raw.concat.is_some()
            || raw.first_of.is_some()
            || raw.cases.is_some()
            || !raw.transform.is_empty()
            || raw.lookup.is_some()
            || raw.default.is_some()
            || raw.list;
        if extra {
            problems.push((
                at.to_string(),
                "an object or list takes only `path` and `map`".into(),
            ));
        }
        let template = compile(map, &format!("{at}.map"), lookups, problems);
        return match &raw.path {
            None => Some(Node::Object {
                path: None,
                template,
            }),
            Some(text) => {
                let path = parse_path(text, &format!("{at}.path"), problems)?;
                Some(if path.is_singular() {
                    Node::Object {
                        path: Some(path),
                        template,
                    }
                } else {
                    Node::List { path, template }
                })
            }
        };
    }
    compile_scalar(&raw, at, lookups, problems).map(|s| Node::Scalar(Box::new(s)))
}

fn compile_scalar(
    raw: &RawEntry,
    at: &str,
    lookups: &Lookups,
    problems: &mut Problems,
) -> Option<Scalar> {
    let before = problems.len();
    let given = [
        raw.path.is_some(),
        raw.value.is_some(),
        raw.concat.is_some(),
        raw.first_of.is_some(),
        raw.cases.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        problems.push((
            at.to_string(),
            "give exactly one of `path`, `value`, `concat`, `first_of`, `cases` (or `map` for an object)".into(),
        ));
        return None;
    }
    if raw.when.is_some() {
        problems.push((
            format!("{at}.when"),
            "`when` belongs to an entry of `cases`".into(),
        ));
    }
    if raw.separator.is_some() && raw.concat.is_none() {
        problems.push((
            at.to_string(),
            "`separator` only applies to `concat`".into(),
        ));
    }
    let source = if let Some(p) = &raw.path {
        parse_path(p, &format!("{at}.path"), problems).map(Source::Path)
    } else if let Some(v) = &raw.value {
        json_of(v, &format!("{at}.value"), problems).map(Source::Literal)
    } else if let Some(paths) = &raw.first_of {
        if paths.is_empty() {
            problems.push((
                format!("{at}.first_of"),
                "list at least one JSONPath".into(),
            ));
        }
        let compiled: Vec<_> = paths
            .iter()
            .enumerate()
            .filter_map(|(i, p)| parse_path(p, &format!("{at}.first_of[{i}]"), problems))
            .collect();
        Some(Source::FirstOf(compiled))
    } else if let Some(parts) = &raw.concat {
        let compiled = parts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p.starts_with('$') {
                true => parse_path(p, &format!("{at}.concat[{i}]"), problems).map(Part::Path),
                false => Some(Part::Text(p.clone())),
            })
            .collect();
        Some(Source::Concat {
            parts: compiled,
            separator: raw.separator.clone().unwrap_or_default(),
        })
    } else {
        let cases = raw.cases.as_deref().unwrap_or_default();
        let mut compiled = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let here = format!("{at}.cases[{i}]");
            let when = case
                .when
                .as_ref()
                .and_then(|w| condition::compile(w, &format!("{here}.when"), problems));
            let inner = RawEntry {
                when: None,
                ..case.clone()
            };
            if let Some(scalar) = compile_scalar(&inner, &here, lookups, problems) {
                compiled.push((when, scalar));
            }
        }
        Some(Source::Cases(compiled))
    };
    let transforms: Vec<Transform> = raw
        .transform
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            Transform::compile(t)
                .map_err(|e| problems.push((format!("{at}.transform[{i}]"), e)))
                .ok()
        })
        .collect();
    let lookup = raw.lookup.as_ref().and_then(|name| {
        let found = lookups.get(name).cloned();
        if found.is_none() {
            let mut known: Vec<&str> = lookups.keys().map(String::as_str).collect();
            known.sort_unstable();
            problems.push((
                format!("{at}.lookup"),
                format!(
                    "no lookup table `{name}` in this file (tables: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        found
    });
    if matches!(source, Some(Source::Literal(_))) && (!raw.transform.is_empty() || lookup.is_some())
    {
        problems.push((
            at.to_string(),
            "transform and lookup do not apply to a literal `value`".into(),
        ));
    }
    if problems.len() > before {
        return None;
    }
    Some(Scalar {
        source: source?,
        transforms,
        lookup,
        lookup_name: raw.lookup.clone().unwrap_or_default(),
        default: match &raw.default {
            Some(d) => Some(json_of(d, &format!("{at}.default"), problems)?),
            None => None,
        },
        required: raw.required,
        list: raw.list,
    })
}

impl Template {
    /// The object this template builds from `scope`; the error names the field
    /// (`at` is where the template sits in the output) and why.
    pub(crate) fn render(&self, scope: Scope<'_>, at: &str) -> Result<Value, String> {
        let mut out = Map::new();
        for (name, node) in &self.fields {
            let here = format!("{at}.{name}");
            if let Some(value) = node.render(scope, &here)? {
                out.insert(name.clone(), value);
            }
        }
        Ok(Value::Object(out))
    }

    /// The names of its fields, in order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.fields.iter().map(|(n, _)| n.clone()).collect()
    }

    /// True when the template has no fields.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl Node {
    fn render(&self, scope: Scope<'_>, at: &str) -> Result<Option<Value>, String> {
        match self {
            Node::Scalar(s) => s.render(scope, at),
            Node::Object {
                path: None,
                template,
            } => template.render(scope, at).map(Some),
            Node::Object {
                path: Some(path),
                template,
            } => match path.select_located(&scope).into_iter().next() {
                Some(node) if !node.value.is_null() => {
                    let inner = Scope {
                        root: scope.root,
                        current: node.value,
                        current_path: &node.path,
                    };
                    template.render(inner, at).map(Some)
                }
                _ => Ok(None),
            },
            Node::List { path, template } => {
                let mut items = Vec::new();
                for (i, node) in path.select_located(&scope).into_iter().enumerate() {
                    let inner = Scope {
                        root: scope.root,
                        current: node.value,
                        current_path: &node.path,
                    };
                    items.push(template.render(inner, &format!("{at}[{i}]"))?);
                }
                Ok(Some(Value::Array(items)))
            }
        }
    }
}

impl Scalar {
    fn render(&self, scope: Scope<'_>, at: &str) -> Result<Option<Value>, String> {
        let found = match &self.source {
            Source::Literal(v) => return Ok(Some(v.clone())),
            Source::Cases(cases) => {
                match cases
                    .iter()
                    .find(|(when, _)| when.as_ref().is_none_or(|w| w.matches(&scope)))
                {
                    Some((_, case)) => case.render(scope, at)?,
                    None => None,
                }
            }
            Source::Path(path) => self.refine_all(path.select(&scope), at)?,
            Source::FirstOf(paths) => {
                let mut found = None;
                for path in paths {
                    found = self.refine_all(path.select(&scope), at)?;
                    if found.is_some() {
                        break;
                    }
                }
                found
            }
            Source::Concat { parts, separator } => {
                let mut texts = Vec::new();
                for part in parts {
                    match part {
                        Part::Text(t) => texts.push(t.clone()),
                        Part::Path(p) => {
                            if let Some(v) = p.first(&scope).filter(|v| !v.is_null()) {
                                texts.push(text_of(v));
                            }
                        }
                    }
                }
                let joined = texts.join(separator);
                self.refine_all(vec![&Value::String(joined)], at)?
            }
        };
        match (found, &self.default) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(d)) => Ok(Some(d.clone())),
            (None, None) if self.required => Err(format!("{at}: required, but has no value")),
            (None, None) => Ok(None),
        }
    }

    /// The first value (or, with `list`, every value) after transforms and lookup;
    /// nulls and empty strings count as no value.
    fn refine_all(&self, nodes: Vec<&Value>, at: &str) -> Result<Option<Value>, String> {
        let mut values = Vec::new();
        for node in nodes.into_iter().filter(|v| !v.is_null()) {
            if let Some(v) = self.refine(node.clone(), at)? {
                values.push(v);
                if !self.list {
                    break;
                }
            }
        }
        Ok(match self.list {
            true => (!values.is_empty()).then_some(Value::Array(values)),
            false => values.into_iter().next(),
        })
    }

    fn refine(&self, mut value: Value, at: &str) -> Result<Option<Value>, String> {
        for t in &self.transforms {
            value = t.apply(value).map_err(|e| format!("{at}: {e}"))?;
        }
        if value.is_null() || value.as_str().is_some_and(str::is_empty) {
            return Ok(None);
        }
        if let Some(table) = &self.lookup {
            let key = text_of(&value);
            return match (table.get(&key), &self.default) {
                (Some(v), _) => Ok(Some(v.clone())),
                (None, Some(d)) => Ok(Some(d.clone())),
                (None, None) => Err(format!(
                    "{at}: `{key}` is not in lookup table `{}`",
                    self.lookup_name
                )),
            };
        }
        Ok(Some(value))
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(text: &str) -> Result<Template, Problems> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        let mut lookups = Lookups::new();
        lookups.insert(
            "codes".into(),
            Arc::new(HashMap::from([("DELIVERED".to_string(), json!("POD"))])),
        );
        let mut problems = Problems::new();
        let t = compile(&table, "body", &lookups, &mut problems);
        match problems.is_empty() {
            true => Ok(t),
            false => Err(problems),
        }
    }

    #[test]
    fn renders_fields_in_their_order_with_lists_lookups_and_defaults() {
        let t = template(
            r#"
            ref = { path = "$.data.number", transform = ["upper"] }
            code = { path = "$.data.status", lookup = "codes" }
            depot = { value = 312 }
            note = { path = "$.data.missing", default = "none" }
            absent = "$.data.missing"
            name = { concat = ["$.data.number", "-", "$.data.status"] }
            pallets = { path = "$.data.pallets[*]", map = { id = "$.pallet_id", root = "$$.data.number" } }
            who = { path = "$.data.party", map = { n = "$.name" } }
            "#,
        )
        .expect("compiles");
        let event = json!({"data": {"number": "ab1", "status": "DELIVERED",
            "pallets": [{"pallet_id": "P1"}, {"pallet_id": "P2"}], "party": {"name": "X"}}});
        let out = t.render(Scope::root(&event), "body").expect("renders");
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"ref":"AB1","code":"POD","depot":312,"note":"none","name":"ab1-DELIVERED","pallets":[{"id":"P1","root":"ab1"},{"id":"P2","root":"ab1"}],"who":{"n":"X"}}"#
        );
    }

    #[test]
    fn a_required_field_without_a_value_and_an_unknown_code_are_errors() {
        let t = template(r#"ref = { path = "$.data.number", required = true }"#).unwrap();
        let err = t
            .render(Scope::root(&json!({"data": {}})), "body")
            .unwrap_err();
        assert_eq!(err, "body.ref: required, but has no value");
        let t = template(r#"code = { path = "$.s", lookup = "codes" }"#).unwrap();
        let err = t
            .render(Scope::root(&json!({"s": "LOST"})), "body")
            .unwrap_err();
        assert_eq!(err, "body.code: `LOST` is not in lookup table `codes`");
    }

    #[test]
    fn cases_pick_the_first_that_holds() {
        let t = template(
            r#"kind = { cases = [ { when = { path = "$.s", equals = "A" }, value = "first" }, { value = "other" } ] }"#,
        )
        .unwrap();
        let render = |v: Value| t.render(Scope::root(&v), "b").unwrap()["kind"].clone();
        assert_eq!(render(json!({"s": "A"})), json!("first"));
        assert_eq!(render(json!({"s": "B"})), json!("other"));
    }

    #[test]
    fn problems_name_where_they_are() {
        let problems = template(
            r#"
            a = 5
            b = { path = "$.x", value = 1 }
            c = { path = "$.x", lookup = "nope" }
            d = { path = "$.x", transform = ["shout"] }
            "#,
        )
        .unwrap_err();
        let at: Vec<&str> = problems.iter().map(|(at, _)| at.as_str()).collect();
        assert_eq!(
            at,
            ["body.a", "body.b", "body.c.lookup", "body.d.transform[0]"]
        );
    }
}
