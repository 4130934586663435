//! Load-time warnings about rules that compete for the same payloads.

use super::loader::LoadIssue;
use super::rule::Rule;
use std::collections::HashMap;

/// Warns about rules with identical conditions whose business scopes overlap:
/// equal rank means a tie (broken by name), otherwise the lower one may never win.
pub(crate) fn overlap_warnings(rules: &[Rule]) -> Vec<LoadIssue> {
    let mut groups: HashMap<String, Vec<&Rule>> = HashMap::new();
    for rule in rules {
        groups
            .entry(rule.condition.canonical())
            .or_default()
            .push(rule);
    }
    let mut out = Vec::new();
    let mut keys: Vec<&String> = groups.keys().collect();
    keys.sort();
    for key in keys {
        let Some(group) = groups.get(key) else {
            continue;
        };
        for (i, a) in group.iter().enumerate() {
            for b in group.iter().skip(i + 1) {
                if let Some(w) = compare(a, b) {
                    out.push(w);
                }
            }
        }
    }
    out
}

fn rank(r: &Rule) -> (i64, u32) {
    (r.priority(), r.specificity())
}

fn compare(a: &Rule, b: &Rule) -> Option<LoadIssue> {
    let overlap = a.business().is_none() || b.business().is_none() || a.business() == b.business();
    if !overlap {
        return None;
    }
    let issue = |on: &Rule, message: String| LoadIssue {
        file: on.file().to_string(),
        line: None,
        rule: Some(on.name().to_string()),
        at: Some("match".into()),
        message,
    };
    if rank(a) == rank(b) {
        let (first, second) = if a.name() <= b.name() { (a, b) } else { (b, a) };
        let message = format!(
            "rules '{}' and '{}' have identical conditions, priority and specificity; '{}' wins by name order. \
             Give the one that should win a higher priority.",
            first.name(),
            second.name(),
            first.name()
        );
        return Some(issue(second, message));
    }
    let (high, low) = if rank(a) > rank(b) { (a, b) } else { (b, a) };
    let covers = high.business().is_none() || high.business() == low.business();
    covers.then(|| {
        let message = format!(
            "rule '{}' can never match: '{}' has the same conditions and ranks higher",
            low.name(),
            high.name()
        );
        issue(low, message)
    })
}
