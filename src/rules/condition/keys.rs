//! Ranking and indexing facts about conditions: specificity, canonical form, index keys.

use super::super::value::number_key;
use super::{Condition, IndexKey, KeyValue, Leaf, Test};
use serde_json::Value;

impl Condition {
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
fn scalar_key(v: &Value) -> Option<KeyValue> {
    match v {
        Value::String(s) => Some(KeyValue::Str(s.clone())),
        Value::Number(n) => number_key(n).map(KeyValue::Num),
        Value::Bool(b) => Some(KeyValue::Bool(*b)),
        _ => None,
    }
}
