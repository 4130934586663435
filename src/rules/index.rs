//! The rule index: keeps classification cost flat as rule sets grow.
//!
//! Each rule is filed under one necessary requirement ("key"): an
//! `equals`/`one_of` value on a simple path, or the existence of a simple path.
//! Keys live in a trie of path steps per business (plus one for unscoped
//! rules). A payload is walked against the trie once, iterating whichever is
//! smaller at each level, the payload object or the trie's children, so the
//! walk costs about the size of the payload, not the number of rules. Only the
//! rules whose key hit (plus the few with no usable key) are then evaluated.

use super::condition::{IndexKey, KeyValue};
use super::path::{Step, resolve_index};
use super::rule::Rule;
use super::value::number_key;
use serde_json::Value;
use std::collections::HashMap;

/// Rules are referred to by their rank (position in the sorted rule list).
type RuleId = u32;

#[derive(Debug, Clone, Default)]
pub(crate) struct RuleIndex {
    scoped: HashMap<String, Bucket>,
    global: Bucket,
    /// How each rule is filed, for explanations.
    filed_as: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Bucket {
    trie: TrieNode,
    slots: Vec<Slot>,
    always: Vec<RuleId>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    keys: HashMap<String, TrieNode>,
    indexes: Vec<(i64, TrieNode)>,
    slot: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    strings: HashMap<String, Vec<RuleId>>,
    numbers: HashMap<u64, Vec<RuleId>>,
    bools: [Vec<RuleId>; 2],
    exists: Vec<RuleId>,
}

impl RuleIndex {
    /// Builds the index over rules already sorted by rank.
    pub fn build(rules: &[Rule]) -> Self {
        let options: Vec<Vec<Vec<IndexKey>>> =
            rules.iter().map(|r| r.condition.key_options()).collect();
        let mut freq: HashMap<&IndexKey, usize> = HashMap::new();
        for key in options.iter().flatten().flatten() {
            *freq.entry(key).or_default() += 1;
        }
        let mut index = RuleIndex::default();
        for (id, (rule, opts)) in rules.iter().zip(&options).enumerate() {
            let best = opts
                .iter()
                .min_by_key(|set| set.iter().map(|k| cost(k, &freq)).sum::<usize>());
            let bucket = match rule.business() {
                Some(b) => index.scoped.entry(b.to_string()).or_default(),
                None => &mut index.global,
            };
            let id = id as RuleId;
            match best {
                Some(keys) => {
                    keys.iter().for_each(|k| bucket.insert(k, id));
                    index
                        .filed_as
                        .push(keys.iter().map(describe).collect::<Vec<_>>().join(" or "));
                }
                None => {
                    bucket.always.push(id);
                    index
                        .filed_as
                        .push("always checked (no indexable requirement)".into());
                }
            }
        }
        index
    }

    /// Ranks of the rules worth evaluating for this payload, ascending.
    pub fn candidates(&self, business: &str, payload: &Value) -> Vec<RuleId> {
        let mut out = Vec::new();
        self.global.collect(payload, &mut out);
        if let Some(bucket) = self.scoped.get(business) {
            bucket.collect(payload, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// How the rule of rank `id` is filed.
    pub fn filed_as(&self, id: usize) -> &str {
        self.filed_as
            .get(id)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// Expected number of rules sharing the key's bucket. Presence of a path is
/// likelier than one particular value, so existence keys count double: a value
/// wins ties, but a path only a few rules mention beats a value many rules share.
fn cost(key: &IndexKey, freq: &HashMap<&IndexKey, usize>) -> usize {
    let f = freq.get(key).copied().unwrap_or(0);
    if key.value.is_some() { f } else { 2 * f + 1 }
}

fn describe(key: &IndexKey) -> String {
    let mut path = String::from("$");
    for step in &key.steps {
        match step {
            Step::Key(k) => super::path::push_key(&mut path, k),
            Step::Index(i) => super::path::push_index(&mut path, *i),
        }
    }
    match &key.value {
        None => format!("{path} exists"),
        Some(KeyValue::Str(s)) => format!("{path} = {}", Value::String(s.clone())),
        Some(KeyValue::Num(bits)) => format!("{path} = {}", f64::from_bits(*bits)),
        Some(KeyValue::Bool(b)) => format!("{path} = {b}"),
    }
}

impl Bucket {
    fn insert(&mut self, key: &IndexKey, id: RuleId) {
        let mut node = &mut self.trie;
        for step in &key.steps {
            node = match step {
                Step::Key(k) => node.keys.entry(k.clone()).or_default(),
                Step::Index(i) => {
                    let pos = match node.indexes.iter().position(|(j, _)| j == i) {
                        Some(pos) => pos,
                        None => {
                            node.indexes.push((*i, TrieNode::default()));
                            node.indexes.len() - 1
                        }
                    };
                    &mut node.indexes[pos].1
                }
            };
        }
        let slot_id = *node.slot.get_or_insert_with(|| {
            self.slots.push(Slot::default());
            self.slots.len() - 1
        });
        let slot = &mut self.slots[slot_id];
        match &key.value {
            None => slot.exists.push(id),
            Some(KeyValue::Str(s)) => slot.strings.entry(s.clone()).or_default().push(id),
            Some(KeyValue::Num(n)) => slot.numbers.entry(*n).or_default().push(id),
            Some(KeyValue::Bool(b)) => slot.bools[usize::from(*b)].push(id),
        }
    }

    fn collect(&self, payload: &Value, out: &mut Vec<RuleId>) {
        out.extend_from_slice(&self.always);
        self.walk(&self.trie, payload, out);
    }

    fn walk(&self, node: &TrieNode, value: &Value, out: &mut Vec<RuleId>) {
        if let Some(slot) = node.slot.and_then(|s| self.slots.get(s)) {
            slot.hit(value, out);
        }
        match value {
            Value::Object(map) if !node.keys.is_empty() => {
                if map.len() <= node.keys.len() {
                    for (k, v) in map {
                        if let Some(child) = node.keys.get(k.as_str()) {
                            self.walk(child, v, out);
                        }
                    }
                } else {
                    for (k, child) in &node.keys {
                        if let Some(v) = map.get(k) {
                            self.walk(child, v, out);
                        }
                    }
                }
            }
            Value::Array(items) if !node.indexes.is_empty() => {
                for (i, child) in &node.indexes {
                    if let Some(v) = resolve_index(*i, items.len()).and_then(|i| items.get(i)) {
                        self.walk(child, v, out);
                    }
                }
            }
            _ => {}
        }
    }
}

impl Slot {
    fn hit(&self, value: &Value, out: &mut Vec<RuleId>) {
        if value.is_null() {
            return;
        }
        out.extend_from_slice(&self.exists);
        let by_value = match value {
            Value::String(s) => self.strings.get(s.as_str()),
            Value::Number(n) => number_key(n).and_then(|k| self.numbers.get(&k)),
            Value::Bool(b) => Some(&self.bools[usize::from(*b)]),
            _ => None,
        };
        if let Some(ids) = by_value {
            out.extend_from_slice(ids);
        }
    }
}
