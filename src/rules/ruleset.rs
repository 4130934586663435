//! The immutable, indexed set of compiled rules.

use super::checks::run_checks;
use super::formats::{Format, ReadError, Reader};
use super::index::RuleIndex;
use super::mapping::{EvalCtx, eval_document};
use super::model::{Finding, MappedItem, Outcome};
use super::path::{Located, Scope, push_index};
use super::rule::Rule;
use serde::Serialize;
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Compiled rules, ordered by rank and indexed; immutable and cheap to share via `Arc`.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSet {
    /// Sorted by priority (desc), specificity (desc), name (asc).
    rules: Vec<Rule>,
    /// The rules files' `[[reader]]`s, in file order.
    #[serde(skip)]
    readers: Vec<Reader>,
    max_document_bytes: usize,
    #[serde(skip)]
    index: RuleIndex,
}

impl RuleSet {
    pub(crate) fn new(
        mut rules: Vec<Rule>,
        readers: Vec<Reader>,
        max_document_bytes: usize,
    ) -> Self {
        rules.sort_by(|a, b| {
            (Reverse(a.priority()), Reverse(a.specificity()), a.name()).cmp(&(
                Reverse(b.priority()),
                Reverse(b.specificity()),
                b.name(),
            ))
        });
        let index = RuleIndex::build(&rules);
        RuleSet {
            rules,
            readers,
            max_document_bytes,
            index,
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the set holds no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// All rules in rank order (the order in which they are tried).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The declared readers.
    pub fn readers(&self) -> &[Reader] {
        &self.readers
    }

    /// How a body `business` sent with this Content-Type is read (see
    /// [`Format::for_sender`]).
    pub fn format(&self, business: &str, content_type: Option<&str>) -> Result<Format, ReadError> {
        Format::for_sender(content_type, &self.readers, business)
    }

    /// A rule by name.
    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name() == name)
    }

    /// Decoded size limit for document content, in bytes.
    pub fn max_document_bytes(&self) -> usize {
        self.max_document_bytes
    }

    /// The best matching rule for a payload of `business`: highest priority, then
    /// specificity, then name. Only rules the index preselects are evaluated.
    pub fn classify(&self, business: &str, payload: &Value) -> Option<&Rule> {
        let scope = Scope::root(payload);
        self.index
            .candidates(business, payload)
            .into_iter()
            .filter_map(|id| self.rules.get(id as usize))
            .find(|r| r.condition.matches(&scope))
    }

    /// Classifies, maps and validates a payload.
    pub fn process(&self, business: &str, payload: &Value) -> Outcome {
        match self.classify(business, payload) {
            Some(rule) => Outcome {
                rule: Some(rule.summary()),
                items: self.map_items(rule, payload),
            },
            None => Outcome {
                rule: None,
                items: Vec::new(),
            },
        }
    }

    pub(crate) fn index(&self) -> &RuleIndex {
        &self.index
    }

    /// Maps a payload with a given rule: one item per `for_each` element.
    pub(crate) fn map_items(&self, rule: &Rule, payload: &Value) -> Vec<MappedItem> {
        let Some(for_each) = &rule.for_each else {
            return vec![self.map_one(rule, payload, payload, "$", 0)];
        };
        let root = Scope::root(payload);
        let items = if for_each.ends_in_wildcard() {
            for_each.elements(&root)
        } else {
            split_items(for_each.select_located(&root))
        };
        if items.is_empty() {
            let path = for_each.missing_path(&root);
            let detail = format!("The payload has no items at {} (for_each)", for_each.text());
            let finding = Finding::error("empty_batch", &path, "", detail);
            return vec![MappedItem {
                index: 0,
                source_path: path,
                document: Value::Null,
                findings: vec![finding],
                references: BTreeMap::new(),
            }];
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.map_one(rule, payload, item.value, &item.path, i))
            .collect()
    }

    fn map_one(
        &self,
        rule: &Rule,
        root: &Value,
        item: &Value,
        path: &str,
        index: usize,
    ) -> MappedItem {
        let scope = Scope {
            root,
            current: item,
            current_path: path,
        };
        let mut ctx = EvalCtx {
            operation: rule.operation(),
            max_document_bytes: self.max_document_bytes,
            findings: Vec::new(),
            sources: BTreeMap::new(),
            missing: BTreeMap::new(),
            track_paths: !rule.checks.is_empty(),
            references: BTreeMap::new(),
        };
        let doc = eval_document(&rule.mapping, scope, &mut ctx, rule.identity());
        run_checks(&rule.checks, &doc, scope, &mut ctx);
        MappedItem {
            index,
            source_path: path.to_string(),
            document: Value::Object(doc),
            findings: ctx.findings,
            references: ctx.references,
        }
    }
}

/// `for_each` may select elements (`$.orders[*]`) or the array itself (`$.orders`).
fn split_items(nodes: Vec<Located<'_>>) -> Vec<Located<'_>> {
    match nodes.as_slice() {
        [single] if single.value.is_array() => {
            let base = single.path.clone();
            let items = single
                .value
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            items
                .iter()
                .enumerate()
                .map(|(i, value)| {
                    let mut path = base.clone();
                    push_index(&mut path, i as i64);
                    Located { value, path }
                })
                .collect()
        }
        _ => nodes.into_iter().filter(|n| !n.value.is_null()).collect(),
    }
}
