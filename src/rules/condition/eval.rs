//! Evaluating conditions, with or without an explanation of the failure.

use super::super::explain::ConditionFailure;
use super::super::path::Scope;
use super::super::value::{loose_eq, preview};
use super::{CmpOp, Condition, Leaf, Test};
use serde_json::Value;
use std::fmt;

impl CmpOp {
    pub(super) fn symbol(self) -> &'static str {
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

    pub(super) fn weight(&self) -> u32 {
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
        condition: leaf.to_string(),
        path: leaf.path.text().to_string(),
        expected: leaf.test.expected(),
        found,
        alternatives: Vec::new(),
    }
}

impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.text();
        match &self.test {
            Test::Exists => write!(f, "{p} exists"),
            Test::Absent => write!(f, "{p} is absent"),
            Test::Equals(v) => write!(f, "{p} equals {v}"),
            Test::OneOf(list) => write!(f, "{p} one_of {}", Value::Array(list.clone())),
            Test::Regex(re) => write!(f, "{p} matches /{}/", re.as_str()),
            Test::Compare(op, b) => write!(f, "{p} {} {b}", op_sign(*op)),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Leaf(l) => write!(f, "{l}"),
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
