//! Explanations: why a payload did or did not match, and what it maps to.

use super::model::{MappedItem, RuleSummary};
use super::path::Scope;
use super::rule::Rule;
use super::ruleset::RuleSet;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;

/// Everything an operator needs to understand how a payload was handled.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Business the payload was classified for.
    pub business: String,
    /// The rule chosen, if any.
    pub chosen: Option<RuleSummary>,
    /// One-paragraph verdict in plain words.
    pub summary: String,
    /// Other matching rules that ranked equal with the chosen one (tie broken by name).
    pub tied_with: Vec<String>,
    /// Every rule applicable to the business: matches first, then the closest misses.
    pub candidates: Vec<CandidateReport>,
    /// Rules skipped because they belong to another business.
    pub rules_for_other_businesses: usize,
    /// Mapped documents and findings (empty when nothing matched).
    pub items: Vec<MappedItem>,
}

/// How one rule fared against the payload.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateReport {
    /// Rule name.
    pub rule: String,
    /// File the rule comes from.
    pub file: String,
    /// Business scope, if any.
    pub business: Option<String>,
    /// Explicit priority.
    pub priority: i64,
    /// Computed specificity.
    pub specificity: u32,
    /// The requirement the index files this rule under.
    pub indexed_as: String,
    /// Whether the index selected the rule for full evaluation on this payload.
    pub preselected: bool,
    /// Whether every condition held.
    pub matched: bool,
    /// Top-level conditions that held.
    pub conditions_met: usize,
    /// Top-level conditions in total.
    pub conditions_total: usize,
    /// The first condition that failed, in written order.
    pub failed: Option<ConditionFailure>,
}

/// A failed condition with what was expected and what the payload had.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConditionFailure {
    /// The condition as text, e.g. `$.operation equals "CREATE"`.
    pub condition: String,
    /// The JSONPath the condition reads.
    pub path: String,
    /// What the condition wanted.
    pub expected: String,
    /// What the payload had there (`nothing` when the path selects nothing).
    pub found: String,
    /// For `any`: why each alternative failed.
    pub alternatives: Vec<ConditionFailure>,
}

impl RuleSet {
    /// The rule closest to matching a payload no rule matches: the business's own
    /// rules first, the most conditions met; none when no rule meets even one.
    pub fn closest_miss(&self, business: &str, payload: &Value) -> Option<CandidateReport> {
        self.explain(business, payload)
            .candidates
            .into_iter()
            .find(|c| !c.matched)
            .filter(|c| c.conditions_met > 0)
    }

    /// Explains classification, mapping and validation of a payload.
    pub fn explain(&self, business: &str, payload: &Value) -> Explanation {
        let scope = Scope::root(payload);
        let preselected: HashSet<u32> = self
            .index()
            .candidates(business, payload)
            .into_iter()
            .collect();
        let mut candidates = Vec::new();
        let mut other_businesses = 0;
        // What `classify` picks: the first preselected rule, in rank order, that matches.
        let mut chosen = None;
        for (id, rule) in self.rules().iter().enumerate() {
            if rule.business().is_some_and(|b| b != business) {
                other_businesses += 1;
                continue;
            }
            let mut report = report_for(rule, &scope);
            report.indexed_as = self.index().filed_as(id).to_string();
            report.preselected = preselected.contains(&(id as u32));
            if chosen.is_none() && report.preselected && report.matched {
                chosen = Some(rule);
            }
            candidates.push(report);
        }
        let tied_with = ties(chosen, self);
        let tied_with: Vec<String> = tied_with
            .into_iter()
            .filter(|n| candidates.iter().any(|c| c.matched && &c.rule == n))
            .collect();
        // Matches first; then the closest misses: the business's own rules before
        // rules for every business, most conditions met first, then the larger share.
        let ratio = |c: &CandidateReport| c.conditions_met * 1000 / c.conditions_total.max(1);
        candidates.sort_by_key(|c| {
            let miss = !c.matched;
            (
                miss,
                miss && c.business.is_none(),
                std::cmp::Reverse(if miss { c.conditions_met } else { 0 }),
                std::cmp::Reverse(if miss { ratio(c) } else { 0 }),
            )
        });
        let summary = summarize(business, chosen, &tied_with, &candidates);
        Explanation {
            business: business.to_string(),
            chosen: chosen.map(Rule::summary),
            summary,
            tied_with,
            candidates,
            rules_for_other_businesses: other_businesses,
            items: chosen
                .map(|r| self.map_items(r, payload))
                .unwrap_or_default(),
        }
    }
}

fn report_for(rule: &Rule, scope: &Scope<'_>) -> CandidateReport {
    // Each top-level part is evaluated once; only the first failing one is explained.
    let parts = rule.condition.parts();
    let mut conditions_met = 0;
    let mut first_failing = None;
    for part in &parts {
        if part.matches(scope) {
            conditions_met += 1;
        } else if first_failing.is_none() {
            first_failing = Some(*part);
        }
    }
    let failed = first_failing.and_then(|part| part.first_failure(scope));
    CandidateReport {
        rule: rule.name().to_string(),
        file: rule.file().to_string(),
        business: rule.business().map(str::to_string),
        priority: rule.priority(),
        specificity: rule.specificity(),
        indexed_as: String::new(),
        preselected: false,
        matched: failed.is_none(),
        conditions_met,
        conditions_total: parts.len(),
        failed,
    }
}

/// Names of rules ranking equal with the chosen one (candidates for a tie).
fn ties(chosen: Option<&Rule>, set: &RuleSet) -> Vec<String> {
    let Some(c) = chosen else { return Vec::new() };
    set.rules()
        .iter()
        .filter(|r| {
            r.name() != c.name()
                && r.priority() == c.priority()
                && r.specificity() == c.specificity()
        })
        .map(|r| r.name().to_string())
        .collect()
}

fn summarize(
    business: &str,
    chosen: Option<&Rule>,
    tied: &[String],
    candidates: &[CandidateReport],
) -> String {
    match chosen {
        Some(rule) if !tied.is_empty() => format!(
            "Rule '{}' was chosen, but {} also match{} with the same priority ({}) and specificity ({}); \
             the tie was broken by name order. Give the rule that should win a higher priority.",
            rule.name(),
            tied.iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if tied.len() == 1 { "es" } else { "" },
            rule.priority(),
            rule.specificity()
        ),
        Some(rule) => format!(
            "Rule '{}' matched ({} {}, priority {}, specificity {}); {} other rule(s) for business '{business}' were checked.",
            rule.name(),
            rule.operation(),
            rule.entity(),
            rule.priority(),
            rule.specificity(),
            candidates.len().saturating_sub(1)
        ),
        None => no_match_summary(business, candidates),
    }
}

fn no_match_summary(business: &str, candidates: &[CandidateReport]) -> String {
    let Some(closest) = candidates.first() else {
        return format!(
            "No rule matched: there are no rules for business '{business}' and no unscoped rules."
        );
    };
    if closest.conditions_met == 0 {
        return format!(
            "No rule matched, and none of the {} rule(s) for business '{business}' has even one \
             condition met: the payload is unlike every rule (each candidate names its first \
             failed condition).",
            candidates.len()
        );
    }
    let why = closest
        .failed
        .as_ref()
        .map(|f| {
            format!(
                " failed at `{}`: expected {}, found {}",
                f.condition, f.expected, f.found
            )
        })
        .unwrap_or_default();
    format!(
        "No rule matched. Closest: '{}' ({} of {} conditions met){why}.",
        closest.rule, closest.conditions_met, closest.conditions_total
    )
}
