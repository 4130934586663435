//! JSONPath expressions compiled once at load time.
//!
//! Every path is parsed by jsonpath-rust (RFC 9535). Paths made only of member
//! names and indexes (`$.a.b[0]`), which is nearly all of them in rules, are
//! additionally kept as a list of steps and evaluated by direct lookup: that
//! avoids building a normalized path string for every visited node on the hot
//! classification path. Everything else runs through jsonpath-rust's evaluator.

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

mod render;

pub(crate) use render::{push_index, push_key};
use render::{rebase_normalized, uses_regex_function};

/// A parsed JSONPath; `$$` at the start addresses the payload root from inside `for_each`.
#[derive(Debug, Clone)]
pub(crate) struct JsonPathExpr {
    text: String,
    from_root: bool,
    kind: Kind,
    /// The steps of a simple path without negative indexes, rendered once: where
    /// such a path lands never depends on the payload, only on the base.
    rendered: Option<String>,
    /// For a path ending in `[*]` (`$.Lines.Line[*]`), the path of what it
    /// ranges over (`$.Lines.Line`): a list of elements reads a lone object there
    /// as a list of one (a converted XML document has an object where one line was
    /// sent and an array where there were several).
    container: Option<Box<JsonPathExpr>>,
}

#[derive(Debug, Clone)]
enum Kind {
    Simple(Vec<Step>),
    Query(Box<JpQuery>),
}

/// One step of a simple path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Step {
    Key(String),
    Index(i64),
}

/// Where a path is evaluated: the payload root and the current item.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub root: &'a Value,
    pub current: &'a Value,
    /// Dotted JSONPath of `current` inside the payload.
    pub current_path: &'a str,
}

impl<'a> Scope<'a> {
    /// Scope at the payload root.
    pub fn root(root: &'a Value) -> Self {
        Scope {
            root,
            current: root,
            current_path: "$",
        }
    }
}

/// A selected node with its dotted JSONPath in the payload.
#[derive(Debug, Clone)]
pub(crate) struct Located<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl JsonPathExpr {
    /// Parses `text`, refusing filter functions that would compile a regex per evaluation.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (from_root, body) = match text.strip_prefix("$$") {
            Some(rest) => (true, format!("${rest}")),
            None if text.starts_with('$') => (false, text.to_string()),
            None => return Err(format!("JSONPath `{text}` must start with `$` or `$$`")),
        };
        if uses_regex_function(&body) {
            return Err(format!(
                "JSONPath `{text}` uses match()/search(); use a `regex` condition instead \
                 (it is compiled once at load)"
            ));
        }
        let kind = match shorthand_steps(&body) {
            Some(steps) => Kind::Simple(steps),
            None => {
                let query = parse_json_path(&body)
                    .map_err(|e| format!("invalid JSONPath `{text}`: {e}"))?;
                match simple_steps(&query) {
                    Some(steps) => Kind::Simple(steps),
                    None => Kind::Query(Box::new(query)),
                }
            }
        };
        let rendered = match &kind {
            Kind::Simple(steps) if !steps.iter().any(|s| matches!(s, Step::Index(i) if *i < 0)) => {
                Some(render_steps("", steps, None))
            }
            _ => None,
        };
        // Only `[*]`: `.*` keeps ranging over an object's member values.
        let container = text
            .strip_suffix("[*]")
            .filter(|rest| !rest.is_empty() && *rest != "$$")
            .and_then(|rest| JsonPathExpr::parse(rest).ok())
            .map(Box::new);
        Ok(JsonPathExpr {
            text: text.to_string(),
            from_root,
            kind,
            rendered,
            container,
        })
    }

    /// True for paths ending in `[*]`.
    pub fn ends_in_wildcard(&self) -> bool {
        self.container.is_some()
    }

    /// The elements of a list this path selects, with their paths: an array's
    /// elements, in order (nulls left out); a path ending in `[*]` over an object
    /// yields the object itself, as a list of one.
    pub fn elements<'a>(&self, scope: &Scope<'a>) -> Vec<Located<'a>> {
        let Some(container) = &self.container else {
            return flatten(self.select_located(scope));
        };
        let mut out = Vec::new();
        for node in container.select_located(scope) {
            match node.value {
                Value::Object(_) => out.push(node),
                Value::Array(_) => out.extend(
                    flatten(vec![node])
                        .into_iter()
                        .filter(|element| !element.value.is_null()),
                ),
                _ => {}
            }
        }
        out
    }

    /// The path as written in the rules file.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Steps of a simple path evaluated from the current item (used by the index).
    pub fn steps(&self) -> Option<&[Step]> {
        match &self.kind {
            Kind::Simple(steps) => Some(steps),
            Kind::Query(_) => None,
        }
    }

    /// True for paths that can select at most one node.
    pub fn is_singular(&self) -> bool {
        matches!(self.kind, Kind::Simple(_))
    }

    /// Values selected in `scope`, without building paths.
    pub fn select<'a>(&self, scope: &Scope<'a>) -> Vec<&'a Value> {
        let start = self.start(scope);
        match &self.kind {
            Kind::Simple(steps) => follow(start, steps).into_iter().collect(),
            Kind::Query(q) => match js_path_process(q.as_ref(), start) {
                Ok(refs) => refs.into_iter().map(|r| r.val).collect(),
                Err(_) => Vec::new(),
            },
        }
    }

    /// First value selected in `scope` (cheap for simple paths).
    pub fn first<'a>(&self, scope: &Scope<'a>) -> Option<&'a Value> {
        match &self.kind {
            Kind::Simple(steps) => follow(self.start(scope), steps),
            Kind::Query(_) => self.select(scope).into_iter().next(),
        }
    }

    /// Values selected in `scope` with their dotted paths in the payload.
    pub fn select_located<'a>(&self, scope: &Scope<'a>) -> Vec<Located<'a>> {
        let start = self.start(scope);
        let base = self.base(scope);
        match &self.kind {
            Kind::Simple(steps) => follow(start, steps)
                .map(|value| Located {
                    value,
                    path: match &self.rendered {
                        Some(rendered) => [base, rendered.as_str()].concat(),
                        None => render_steps(base, steps, Some(start)),
                    },
                })
                .into_iter()
                .collect(),
            Kind::Query(q) => match js_path_process(q.as_ref(), start) {
                Ok(refs) => refs
                    .into_iter()
                    .map(|r| Located {
                        value: r.val,
                        path: rebase_normalized(base, &r.path),
                    })
                    .collect(),
                Err(_) => Vec::new(),
            },
        }
    }

    /// For a simple path (or one ending in `[*]`), the deepest node it reached below
    /// its start, with its path and how many of its steps are missing after it:
    /// where a list was looked for and what was there instead.
    pub fn deepest_present<'a>(&self, scope: &Scope<'a>) -> Option<(Located<'a>, usize)> {
        let Kind::Simple(steps) = &self.container.as_deref().unwrap_or(self).kind else {
            return None;
        };
        let mut node = self.start(scope);
        let mut taken = 0;
        for step in steps {
            match step_into(node, step) {
                Some(next) if !next.is_null() => {
                    node = next;
                    taken += 1;
                }
                _ => break,
            }
        }
        (taken > 0).then(|| {
            let path = render_steps(self.base(scope), &steps[..taken], Some(self.start(scope)));
            (Located { value: node, path }, steps.len() - taken)
        })
    }

    /// The payload path a sender should fill in when this path selects nothing:
    /// for simple paths, up to and including the first step that is missing.
    pub fn missing_path(&self, scope: &Scope<'_>) -> String {
        let base = self.base(scope);
        match &self.kind {
            Kind::Simple(steps) => {
                let mut node = Some(self.start(scope));
                let mut taken = 0;
                for step in steps {
                    taken += 1;
                    node = node.and_then(|n| step_into(n, step));
                    if node.is_none_or(Value::is_null) {
                        break;
                    }
                }
                render_steps(base, &steps[..taken], None)
            }
            Kind::Query(_) => {
                let rest = self.text.trim_start_matches('$');
                format!("{base}{rest}")
            }
        }
    }

    fn start<'a>(&self, scope: &Scope<'a>) -> &'a Value {
        if self.from_root {
            scope.root
        } else {
            scope.current
        }
    }

    fn base<'s>(&self, scope: &Scope<'s>) -> &'s str {
        if self.from_root {
            "$"
        } else {
            scope.current_path
        }
    }
}

/// Arrays among `nodes` replaced by their elements, each with its own path.
pub(crate) fn flatten(nodes: Vec<Located<'_>>) -> Vec<Located<'_>> {
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        match node.value {
            Value::Array(items) => out.extend(items.iter().enumerate().map(|(i, value)| {
                let mut path = node.path.clone();
                push_index(&mut path, i as i64);
                Located { value, path }
            })),
            _ => out.push(node),
        }
    }
    out
}

/// The steps of a path written with shorthand member names (ASCII) and integer
/// indexes only (`$.order.lines[0].sku`), read without the full parser. Nearly
/// every path in rules is one, and a load of 10,000 rules reads some 150,000 of
/// them. Only text that RFC 9535 reads the same way is taken; anything else
/// (quoted names, wildcards, filters, non-ASCII names, leading zeros, large
/// indexes) answers `None` and goes through jsonpath-rust.
fn shorthand_steps(body: &str) -> Option<Vec<Step>> {
    let mut rest = body.strip_prefix('$')?.as_bytes();
    let mut steps = Vec::new();
    while let Some((&first, after)) = rest.split_first() {
        match first {
            b'.' => {
                let len = after
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                if len == 0 || after[0].is_ascii_digit() {
                    return None;
                }
                let name = std::str::from_utf8(&after[..len]).ok()?;
                steps.push(Step::Key(name.to_string()));
                rest = &after[len..];
            }
            b'[' => {
                let close = after.iter().position(|b| *b == b']')?;
                let inner = std::str::from_utf8(&after[..close]).ok()?;
                let digits = inner.strip_prefix('-').unwrap_or(inner);
                let canonical = (1..=15).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && (!digits.starts_with('0') || inner == "0");
                if !canonical {
                    return None;
                }
                steps.push(Step::Index(inner.parse().ok()?));
                rest = &after[close + 1..];
            }
            _ => return None,
        }
    }
    Some(steps)
}

fn simple_steps(query: &JpQuery) -> Option<Vec<Step>> {
    query
        .segments
        .iter()
        .map(|seg| match seg {
            Segment::Selector(Selector::Name(n)) => Some(Step::Key(n.clone())),
            Segment::Selector(Selector::Index(i)) => Some(Step::Index(*i)),
            _ => None,
        })
        .collect()
}

/// Follows simple steps; RFC 9535 semantics (names on objects, indexes on arrays, negative from the end).
pub(crate) fn follow<'a>(start: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(start, step_into)
}

fn step_into<'a>(node: &'a Value, step: &Step) -> Option<&'a Value> {
    match (step, node) {
        (Step::Key(k), Value::Object(map)) => map.get(k),
        (Step::Index(i), Value::Array(items)) => {
            resolve_index(*i, items.len()).and_then(|i| items.get(i))
        }
        _ => None,
    }
}

pub(crate) fn resolve_index(i: i64, len: usize) -> Option<usize> {
    if i >= 0 {
        usize::try_from(i).ok()
    } else {
        let back = usize::try_from(i.unsigned_abs()).ok()?;
        len.checked_sub(back)
    }
}

/// Renders steps after `base`; with `resolve_in`, negative indexes become concrete ones.
fn render_steps(base: &str, steps: &[Step], resolve_in: Option<&Value>) -> String {
    let mut out = base.to_string();
    let mut node = resolve_in;
    for step in steps {
        match step {
            Step::Key(k) => push_key(&mut out, k),
            Step::Index(i) => {
                let len = node.and_then(Value::as_array).map(Vec::len);
                match len.and_then(|l| resolve_index(*i, l)) {
                    Some(idx) => push_index(&mut out, idx as i64),
                    None => push_index(&mut out, *i),
                }
            }
        }
        node = node.and_then(|n| step_into(n, step));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shorthand_paths_read_as_the_full_parser_reads_them() {
        let taken = [
            "$",
            "$.a",
            "$.order.lines[0].sku",
            "$._x.y_2[-1][12]",
            "$[3].a",
            "$.A1.b",
        ];
        for text in taken {
            let full = simple_steps(&parse_json_path(text).unwrap());
            assert_eq!(shorthand_steps(text), full, "{text}");
        }
        // Left to jsonpath-rust: valid but not shorthand, or not valid at all.
        let left = [
            "$['a b']",
            "$.*",
            "$[*]",
            "$..a",
            "$.a[?@.b]",
            "$.é",
            "$[01]",
            "$[-0]",
            "$.1a",
            "$.",
            "$[]",
            "$[1:2]",
            "$[9007199254740993]",
            "$.a-b",
            "a.b",
        ];
        for text in left {
            assert_eq!(shorthand_steps(text), None, "{text}");
        }
    }

    #[test]
    fn simple_and_query_paths_report_dotted_locations() {
        let doc = json!({"a": {"b c": [1, {"d": 2}]}, "list": [{"x": 1}, {"x": 2}]});
        let scope = Scope::root(&doc);
        let p = JsonPathExpr::parse("$.a['b c'][-1].d").expect("valid");
        assert!(p.steps().is_some());
        let got = p.select_located(&scope);
        assert_eq!(got[0].path, "$.a['b c'][1].d");
        let p = JsonPathExpr::parse("$.a['b c'][1].d").expect("valid");
        assert_eq!(p.select_located(&scope)[0].path, "$.a['b c'][1].d");
        let q = JsonPathExpr::parse("$.list[*].x").expect("valid");
        let paths: Vec<String> = q
            .select_located(&scope)
            .into_iter()
            .map(|l| l.path)
            .collect();
        assert_eq!(paths, vec!["$.list[0].x", "$.list[1].x"]);
    }

    #[test]
    fn missing_path_stops_at_first_absent_step() {
        let doc = json!({"consignments": [{"x": 1}]});
        let p = JsonPathExpr::parse("$.customer.code").expect("valid");
        assert_eq!(p.missing_path(&Scope::root(&doc)), "$.customer");
        let p = JsonPathExpr::parse("$.consignments[0].pickup_stop.location").expect("valid");
        assert_eq!(
            p.missing_path(&Scope::root(&doc)),
            "$.consignments[0].pickup_stop"
        );
    }

    #[test]
    fn regex_filter_functions_are_refused() {
        assert!(JsonPathExpr::parse("$.a[?match(@.b, 'x.*')]").is_err());
        assert!(JsonPathExpr::parse("$.a[?@.b == 'match(']").is_ok());
        assert!(JsonPathExpr::parse("a.b").is_err());
    }

    #[test]
    fn double_dollar_reads_the_payload_root() {
        let doc = json!({"business": "northwind", "orders": [{"n": 1}]});
        let item = &doc["orders"][0];
        let scope = Scope {
            root: &doc,
            current: item,
            current_path: "$.orders[0]",
        };
        let p = JsonPathExpr::parse("$$.business").expect("valid");
        assert_eq!(p.first(&scope), Some(&json!("northwind")));
        let n = JsonPathExpr::parse("$.n").expect("valid");
        assert_eq!(n.select_located(&scope)[0].path, "$.orders[0].n");
    }
}
