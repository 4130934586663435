//! Match conditions: compilation, evaluation, explanation and specificity.

use crate::rules::explain::ConditionFailure;
use crate::rules::path::{JsonPathExpr, Scope, Step};
use crate::rules::raw::RawCondition;
use crate::rules::value::{loose_eq, number_key, preview, toml_to_json};
use regex::Regex;
use serde_json::Value;
use std::fmt;

/// A compiled condition tree.
#[derive(Debug, Clone)]
pub(crate) enum Condition {
    Leaf(Box<Leaf>),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

/// A test on the nodes one JSONPath selects.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub path: JsonPathExpr,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Exists,
    Absent,
    Equals(Value),
    OneOf(Vec<Value>),
    Regex(Regex),
    Compare(CmpOp, f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A requirement the rule index can look up directly in a payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct IndexKey {
    pub steps: Vec<Step>,
    pub value: Option<KeyValue>,
}

/// A scalar an `equals`/`one_of` discriminator requires.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum KeyValue {
    Str(String),
    Num(u64),
    Bool(bool),
}

/// Problems found while compiling: (location inside the rule, message).
pub(crate) type Problems = Vec<(String, String)>;

const OPERATORS: [&str; 12] = [
    "exists", "absent", "equals", "one_of", "regex", "gt", "gte", "lt", "lte", "all", "any", "not",
];

/// Compiles a raw condition, collecting every problem under `at`.
pub(crate) fn compile(raw: &RawCondition, at: &str, problems: &mut Problems) -> Option<Condition> {
    let present = present_operators(raw);
    if present.len() != 1 {
        let msg = if present.is_empty() {
            format!("condition needs one of: {}", OPERATORS.join(", "))
        } else {
            format!(
                "condition has several operators ({}); combine them with `all`",
                present.join(", ")
            )
        };
        problems.push((at.to_string(), msg));
        return None;
    }
    if let Some(list) = raw.all.as_ref().or(raw.any.as_ref()) {
        return compile_group(raw, list, at, problems);
    }
    if let Some(inner) = &raw.not {
        reject_path(raw, at, problems);
        return compile(inner, &format!("{at}.not"), problems).map(|c| Condition::Not(Box::new(c)));
    }
    compile_leaf(raw, at, problems)
}

fn present_operators(raw: &RawCondition) -> Vec<&'static str> {
    let flags = [
        raw.exists.is_some(),
        raw.absent.is_some(),
        raw.equals.is_some(),
        raw.one_of.is_some(),
        raw.regex.is_some(),
        raw.gt.is_some(),
        raw.gte.is_some(),
        raw.lt.is_some(),
        raw.lte.is_some(),
        raw.all.is_some(),
        raw.any.is_some(),
        raw.not.is_some(),
    ];
    OPERATORS
        .iter()
        .zip(flags)
        .filter(|(_, f)| *f)
        .map(|(n, _)| *n)
        .collect()
}

fn reject_path(raw: &RawCondition, at: &str, problems: &mut Problems) {
    if raw.path.is_some() {
        problems.push((
            at.to_string(),
            "`path` is not allowed on all/any/not".into(),
        ));
    }
}

fn compile_group(
    raw: &RawCondition,
    list: &[RawCondition],
    at: &str,
    problems: &mut Problems,
) -> Option<Condition> {
    reject_path(raw, at, problems);
    let kind = if raw.all.is_some() { "all" } else { "any" };
    if list.is_empty() {
        problems.push((
            at.to_string(),
            format!("`{kind}` needs at least one condition"),
        ));
        return None;
    }
    let before = problems.len();
    let children: Vec<Condition> = list
        .iter()
        .enumerate()
        .filter_map(|(i, c)| compile(c, &format!("{at}.{kind}[{i}]"), problems))
        .collect();
    if problems.len() > before {
        return None;
    }
    Some(if kind == "all" {
        Condition::All(children)
    } else {
        Condition::Any(children)
    })
}

fn compile_leaf(raw: &RawCondition, at: &str, problems: &mut Problems) -> Option<Condition> {
    let Some(text) = &raw.path else {
        problems.push((at.to_string(), "condition needs a `path`".into()));
        return None;
    };
    let path = match JsonPathExpr::parse(text) {
        Ok(p) => p,
        Err(e) => {
            problems.push((format!("{at}.path"), e));
            return None;
        }
    };
    match compile_test(raw) {
        Ok(test) => Some(Condition::Leaf(Box::new(Leaf { path, test }))),
        Err(e) => {
            problems.push((at.to_string(), e));
            None
        }
    }
}

fn compile_test(raw: &RawCondition) -> Result<Test, String> {
    if let Some(e) = raw.exists {
        return Ok(if e { Test::Exists } else { Test::Absent });
    }
    if let Some(a) = raw.absent {
        return Ok(if a { Test::Absent } else { Test::Exists });
    }
    if let Some(v) = &raw.equals {
        return toml_to_json(v).map(Test::Equals);
    }
    if let Some(list) = &raw.one_of {
        if list.is_empty() {
            return Err("`one_of` needs at least one value".into());
        }
        return list
            .iter()
            .map(toml_to_json)
            .collect::<Result<_, _>>()
            .map(Test::OneOf);
    }
    if let Some(re) = &raw.regex {
        return Regex::new(re)
            .map(Test::Regex)
            .map_err(|e| format!("bad regex `{re}`: {e}"));
    }
    let numeric = [
        (CmpOp::Gt, &raw.gt),
        (CmpOp::Gte, &raw.gte),
        (CmpOp::Lt, &raw.lt),
        (CmpOp::Lte, &raw.lte),
    ];
    for (op, v) in numeric {
        if let Some(v) = v {
            return match v {
                toml::Value::Integer(i) => Ok(Test::Compare(op, *i as f64)),
                toml::Value::Float(f) if f.is_finite() => Ok(Test::Compare(op, *f)),
                _ => Err(format!("`{}` needs a number", op.symbol())),
            };
        }
    }
    Err("condition has no operator".into())
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
        }
    }

    fn holds(self, found: f64, bound: f64) -> bool {
        match self {
            CmpOp::Gt => found > bound,
            CmpOp::Gte => found >= bound,
            CmpOp::Lt => found < bound,
            CmpOp::Lte => found <= bound,
        }
    }
}

impl Test {
    /// Whether the selected nodes satisfy the test (existential over nodes).
    fn holds(&self, nodes: &[&Value]) -> bool {
        let present = || nodes.iter().filter(|v| !v.is_null());
        match self {
            Test::Exists => present().next().is_some(),
            Test::Absent => present().next().is_none(),
            Test::Equals(want) => nodes.iter().any(|v| loose_eq(v, want)),
            Test::OneOf(list) => nodes.iter().any(|v| list.iter().any(|w| loose_eq(v, w))),
            Test::Regex(re) => nodes
                .iter()
                .any(|v| v.as_str().is_some_and(|s| re.is_match(s))),
            Test::Compare(op, bound) => nodes
                .iter()
                .any(|v| as_number(v).is_some_and(|n| op.holds(n, *bound))),
        }
    }

    fn expected(&self) -> String {
        match self {
            Test::Exists => "a value".into(),
            Test::Absent => "nothing".into(),
            Test::Equals(v) => preview(v),
            Test::OneOf(list) => format!(
                "one of [{}]",
                list.iter().map(preview).collect::<Vec<_>>().join(", ")
            ),
            Test::Regex(re) => format!("a string matching /{}/", re.as_str()),
            Test::Compare(op, b) => format!("a number {} {b}", op_sign(*op)),
        }
    }

    fn weight(&self) -> u32 {
        match self {
            Test::Equals(_) => 3,
            Test::OneOf(_) | Test::Regex(_) | Test::Compare(..) => 2,
            Test::Exists | Test::Absent => 1,
        }
    }
}

fn op_sign(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
    }
}

/// Numbers, and strings holding a number (flat-file feeds send everything as text).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

impl Condition {
    /// Evaluates against the payload root.
    pub fn matches(&self, scope: &Scope<'_>) -> bool {
        match self {
            Condition::Leaf(leaf) => match leaf.path.first(scope) {
                Some(v) if leaf.path.is_singular() => leaf.test.holds(&[v]),
                None if leaf.path.is_singular() => leaf.test.holds(&[]),
                _ => leaf.test.holds(&leaf.path.select(scope)),
            },
            Condition::All(list) => list.iter().all(|c| c.matches(scope)),
            Condition::Any(list) => list.iter().any(|c| c.matches(scope)),
            Condition::Not(inner) => !inner.matches(scope),
        }
    }

    /// The first condition (in written order) that fails, with what was found.
    pub fn first_failure(&self, scope: &Scope<'_>) -> Option<ConditionFailure> {
        match self {
            Condition::Leaf(leaf) => {
                let nodes = leaf.path.select(scope);
                (!leaf.test.holds(&nodes)).then(|| leaf_failure(leaf, &nodes))
            }
            Condition::All(list) => list.iter().find_map(|c| c.first_failure(scope)),
            Condition::Any(list) => {
                let fails: Option<Vec<_>> = list.iter().map(|c| c.first_failure(scope)).collect();
                fails.map(|alternatives| ConditionFailure {
                    condition: self.to_string(),
                    path: alternatives
                        .first()
                        .map(|a| a.path.clone())
                        .unwrap_or_default(),
                    expected: format!("any of {} alternatives", list.len()),
                    found: "none matched".into(),
                    alternatives,
                })
            }
            Condition::Not(inner) => inner.matches(scope).then(|| ConditionFailure {
                condition: self.to_string(),
                path: inner.first_path().unwrap_or_default(),
                expected: format!("not ({inner})"),
                found: "the inner condition matched".into(),
                alternatives: Vec::new(),
            }),
        }
    }

    /// Top-level parts: the children of a top-level `all`, else the condition itself.
    pub fn parts(&self) -> Vec<&Condition> {
        match self {
            Condition::All(list) => list.iter().collect(),
            other => vec![other],
        }
    }

    fn first_path(&self) -> Option<String> {
        match self {
            Condition::Leaf(l) => Some(l.path.text().to_string()),
            Condition::All(list) | Condition::Any(list) => {
                list.iter().find_map(Condition::first_path)
            }
            Condition::Not(inner) => inner.first_path(),
        }
    }

    /// Specificity: equals 3; one_of, regex, comparisons 2; exists/absent 1;
    /// all = sum; any = weakest alternative; not = 1.
    pub fn specificity(&self) -> u32 {
        match self {
            Condition::Leaf(l) => l.test.weight(),
            Condition::All(list) => list.iter().map(Condition::specificity).sum(),
            Condition::Any(list) => list.iter().map(Condition::specificity).min().unwrap_or(0),
            Condition::Not(_) => 1,
        }
    }

    /// Order-independent text used to spot rules with identical conditions.
    pub fn canonical(&self) -> String {
        match self {
            Condition::Leaf(_) => self.to_string(),
            Condition::All(list) | Condition::Any(list) => {
                let mut parts: Vec<String> = list.iter().map(Condition::canonical).collect();
                parts.sort();
                parts.dedup();
                let kind = if matches!(self, Condition::All(_)) {
                    "all"
                } else {
                    "any"
                };
                if parts.len() == 1 && kind == "all" {
                    return parts.remove(0);
                }
                format!("{kind}({})", parts.join("; "))
            }
            Condition::Not(inner) => format!("not({})", inner.canonical()),
        }
    }

    /// Alternative sets of index keys; the rule can only match if one key of some set hits.
    pub fn key_options(&self) -> Vec<Vec<IndexKey>> {
        match self {
            Condition::Leaf(l) => leaf_keys(l).into_iter().collect(),
            Condition::All(list) => list.iter().flat_map(Condition::key_options).collect(),
            Condition::Any(list) => {
                let firsts: Option<Vec<Vec<IndexKey>>> = list
                    .iter()
                    .map(|c| c.key_options().into_iter().next())
                    .collect();
                firsts.map(|sets| sets.concat()).into_iter().collect()
            }
            Condition::Not(_) => Vec::new(),
        }
    }
}

fn leaf_keys(leaf: &Leaf) -> Option<Vec<IndexKey>> {
    let steps = leaf.path.steps()?.to_vec();
    let key = |value| IndexKey {
        steps: steps.clone(),
        value,
    };
    match &leaf.test {
        Test::Absent => None,
        Test::Equals(v) => Some(vec![key(scalar_key(v))]),
        Test::OneOf(list) => {
            let keys: Option<Vec<KeyValue>> = list.iter().map(scalar_key).collect();
            Some(match keys {
                Some(ks) => ks.into_iter().map(|k| key(Some(k))).collect(),
                None => vec![key(None)],
            })
        }
        Test::Exists | Test::Regex(_) | Test::Compare(..) => Some(vec![key(None)]),
    }
}

/// Index key of a scalar value; containers are not indexed by value.
pub(crate) fn scalar_key(v: &Value) -> Option<KeyValue> {
    match v {
        Value::String(s) => Some(KeyValue::Str(s.clone())),
        Value::Number(n) => number_key(n).map(KeyValue::Num),
        Value::Bool(b) => Some(KeyValue::Bool(*b)),
        _ => None,
    }
}

fn leaf_failure(leaf: &Leaf, nodes: &[&Value]) -> ConditionFailure {
    let found = match nodes {
        [] => "nothing".to_string(),
        [one] => preview(one),
        many => {
            let shown: Vec<String> = many.iter().take(5).map(|v| preview(v)).collect();
            format!(
                "{} nodes: [{}{}]",
                many.len(),
                shown.join(", "),
                if many.len() > 5 { ", …" } else { "" }
            )
        }
    };
    ConditionFailure {
        condition: Condition::Leaf(Box::new(leaf.clone())).to_string(),
        path: leaf.path.text().to_string(),
        expected: leaf.test.expected(),
        found,
        alternatives: Vec::new(),
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Leaf(l) => {
                let p = l.path.text();
                match &l.test {
                    Test::Exists => write!(f, "{p} exists"),
                    Test::Absent => write!(f, "{p} is absent"),
                    Test::Equals(v) => write!(f, "{p} equals {v}"),
                    Test::OneOf(list) => write!(f, "{p} one_of {}", Value::Array(list.clone())),
                    Test::Regex(re) => write!(f, "{p} matches /{}/", re.as_str()),
                    Test::Compare(op, b) => write!(f, "{p} {} {b}", op_sign(*op)),
                }
            }
            Condition::All(list) | Condition::Any(list) => {
                let kind = if matches!(self, Condition::All(_)) {
                    "all"
                } else {
                    "any"
                };
                let parts: Vec<String> = list.iter().map(|c| c.to_string()).collect();
                write!(f, "{kind}({})", parts.join("; "))
            }
            Condition::Not(inner) => write!(f, "not({inner})"),
        }
    }
}
