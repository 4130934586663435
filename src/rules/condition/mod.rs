//! Match conditions: compilation, evaluation, explanation and specificity.

mod eval;
mod keys;

use super::path::{JsonPathExpr, Step};
use super::raw::RawCondition;
use super::value::toml_to_json;
use regex::Regex;
use serde_json::Value;

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
