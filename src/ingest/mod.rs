//! The unified endpoint's pipeline: read the body into documents, classify and map
//! each with the rules, validate, then (in the group-commit writer) apply them in one
//! transaction (a savepoint per item, so a failed item writes nothing), record the
//! payload and acknowledge once committed.

pub mod ack;
pub mod apply;
pub mod body;
pub mod canonical;
pub mod writer;

use crate::store::gate::WriteTxn;
use crate::store::unit::Unit;
use axum::body::Bytes;
use chrono::Utc;
use serde_json::Value;

use self::ack::{ItemResult, Status};
use self::apply::{Applied, Context, Failure, Issue};
use self::body::Document;
use self::writer::{KeyClaim, Writer, Written};
use crate::error::{ProblemCode, Result};
use crate::rules::{RuleSet, RuleSummary, Severity};
use crate::store::{self, keys::Principal};

/// One request to the unified endpoint.
pub struct Incoming<'a> {
    pub principal: &'a Principal,
    pub content_type: Option<&'a str>,
    pub body: Bytes,
    /// An Idempotency-Key to claim in the same transaction as the writes.
    pub key: Option<KeyClaim>,
    pub source: Source,
}

/// The door a payload came through, as its record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `POST /v1/ingest`.
    Rest,
    /// GraphQL `processPayload`.
    Graphql,
    /// A stored payload sent through the current rules again.
    Reprocess {
        /// The logging id of the stored payload.
        of: String,
    },
    /// A page a pull source fetched.
    Pull {
        /// The source's name.
        source: String,
        /// The run's id.
        run: i64,
        /// The cursor the source reaches once this page is stored.
        cursor: Option<String>,
        /// The page's items to remember as stored (unless their document is
        /// rejected), so that pulled again unchanged they are left alone.
        seen: Vec<PulledItem>,
    },
    /// A partner's answer to an outbound delivery (see `outbound`).
    Reply {
        /// The outbound target's name.
        target: String,
        /// The delivery it answered.
        delivery: i64,
    },
}

/// A pulled item: its document's position in the payload, its key (the source's
/// declared item id, or its digest) and the digest of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledItem {
    pub index: usize,
    pub key: String,
    pub digest: String,
}

impl Source {
    /// The name stored and filtered by.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Rest => "rest",
            Source::Graphql => "graphql",
            Source::Reprocess { .. } => "reprocess",
            Source::Pull { .. } => "pull",
            Source::Reply { .. } => "reply",
        }
    }

    /// Every name, for the listing's filter.
    pub const NAMES: [&'static str; 5] = ["rest", "graphql", "reprocess", "pull", "reply"];
}

/// A document's item, ready for the store or already rejected.
enum Prepared {
    Rejected(ItemResult),
    Ready {
        result: ItemResult,
        rule: RuleSummary,
        path: String,
        document: Value,
        /// Where each field naming master data was read, by canonical path.
        references: std::collections::BTreeMap<String, String>,
    },
}

/// Reads and classifies the payload here, in parallel with other requests, then
/// leaves the store work to the group-commit writer; answers once it committed.
pub async fn write(
    rules: &RuleSet,
    writer: &Writer,
    incoming: Incoming<'_>,
    max_documents: usize,
) -> Result<Written> {
    let logging_id = uuid::Uuid::now_v7().to_string();
    let received_at = Utc::now();
    let business = &incoming.principal.business_slug;
    let work = body::format(rules, business, incoming.content_type)
        .and_then(|format| body::documents_at_most(format, &incoming.body, max_documents))
        .map(|documents| prepare(rules, business, documents));
    let work = match work {
        Err(e) if !e.status().is_client_error() => return Err(e),
        work => work,
    };
    let rule = work.as_ref().ok().and_then(|prepared| {
        prepared.iter().find_map(|p| match p {
            Prepared::Ready { rule, .. } => Some(rule.clone()),
            Prepared::Rejected(_) => None,
        })
    });
    let payload = writer::Payload {
        principal: incoming.principal.clone(),
        content_type: incoming.content_type.map(str::to_string),
        body: incoming.body,
        key: incoming.key,
        logging_id,
        received_at,
        work,
        rule,
        source: incoming.source,
    };
    writer.submit(payload).await
}

/// A JSONPath inside document `location` of a JSON array batch, e.g. `$[2].customer`.
fn locate(location: &str, path: &str) -> String {
    match (location.strip_prefix('$'), path.strip_prefix('$')) {
        (Some(prefix), Some(rest)) => format!("${prefix}{rest}"),
        _ => path.to_string(),
    }
}

fn blank_result(index: usize, item: usize) -> ItemResult {
    ItemResult {
        index,
        item,
        status: Status::Rejected,
        operation: None,
        entity: None,
        id: None,
        reference: None,
        rule: None,
        warnings: Vec::new(),
        errors: Vec::new(),
        created: false,
    }
}

fn prepare(rules: &RuleSet, business: &str, documents: Vec<Document>) -> Vec<Prepared> {
    let mut prepared = Vec::new();
    // The same for every document of the payload: worked out once, if one needs it.
    let no_rule = std::cell::OnceCell::new();
    for doc in documents {
        let value = match doc.value {
            Ok(value) => value,
            Err(detail) => {
                let mut result = blank_result(doc.index, 0);
                result.errors.push(Issue::new(
                    ProblemCode::MalformedDocument,
                    &doc.location,
                    detail,
                ));
                prepared.push(Prepared::Rejected(result));
                continue;
            }
        };
        prepared.extend(prepare_document(
            rules,
            business,
            doc.index,
            &doc.location,
            &value,
            &no_rule,
        ));
    }
    prepared
}

/// Documents of a payload, from the first, whose `no_matching_rule` names the
/// closest rule's failed condition.
const CLOSEST_HINTS: usize = 10;

/// Why no rule matched, and what to do. Rules written for other businesses are
/// counted: a key made for a misspelt business sees none of them.
fn no_rule_detail(rules: &RuleSet, business: &str) -> String {
    let (mut own, mut every, mut elsewhere) = (0, 0, 0);
    for rule in rules.rules() {
        match rule.business() {
            Some(b) if b == business => own += 1,
            Some(_) => elsewhere += 1,
            None => every += 1,
        }
    }
    let mut detail = if own == 0 {
        format!(
            "no rule matches this payload, and no rule is written for business `{business}` \
             ({} for every business {} tried); \
             `freightgate rules list --business {business}` shows the rules that apply to it",
            rules_count(every),
            if every == 1 { "was" } else { "were" }
        )
    } else {
        format!(
            "no rule matches this payload ({} {} to business `{business}`); \
             POST it to /v1/ingest/explain to see why each rule did not match",
            rules_count(own + every),
            if own + every == 1 { "applies" } else { "apply" }
        )
    };
    if elsewhere > 0 {
        detail.push_str(&format!(
            "; {} {} written for other businesses only: if the payload is one of theirs, check which business the key belongs to (`freightgate keys list`)",
            rules_count(elsewhere),
            if elsewhere == 1 { "is" } else { "are" }
        ));
    }
    detail
}

fn rules_count(n: usize) -> String {
    match n {
        1 => "1 rule".to_owned(),
        n => format!("{n} rules"),
    }
}

fn prepare_document(
    rules: &RuleSet,
    business: &str,
    index: usize,
    location: &str,
    value: &Value,
    no_rule: &std::cell::OnceCell<String>,
) -> Vec<Prepared> {
    let outcome = rules.process(business, value);
    let Some(rule) = outcome.rule else {
        let mut result = blank_result(index, 0);
        let detail = no_rule
            .get_or_init(|| no_rule_detail(rules, business))
            .clone();
        // The closest rule says which field the sender left out or got wrong (for
        // the first documents of a batch only: it evaluates every rule).
        let closest = (index < CLOSEST_HINTS)
            .then(|| rules.closest_miss(business, value))
            .flatten()
            .and_then(|c| {
                c.failed
                    .map(|f| (c.rule, c.conditions_met, c.conditions_total, f))
            });
        let issue = match closest {
            Some((rule, met, total, failed)) => Issue::new(
                ProblemCode::NoMatchingRule,
                &locate(
                    location,
                    if failed.path.starts_with('$') {
                        &failed.path
                    } else {
                        "$"
                    },
                ),
                format!(
                    "{detail}; closest: rule `{rule}` ({met} of {total} conditions met) needs `{}`: expected {}, found {}",
                    failed.condition, failed.expected, failed.found
                ),
            ),
            None => Issue::new(ProblemCode::NoMatchingRule, &locate(location, "$"), detail),
        };
        result.errors.push(issue);
        return vec![Prepared::Rejected(result)];
    };
    if outcome.items.is_empty() {
        let mut result = labelled(blank_result(index, 0), &rule);
        result.errors.push(Issue::new(
            ProblemCode::ValidationFailed,
            &locate(location, "$"),
            format!("rule `{}` selected no items in this payload", rule.name),
        ));
        return vec![Prepared::Rejected(result)];
    }
    outcome
        .items
        .into_iter()
        .enumerate()
        .map(|(item, mapped)| {
            let mut result = labelled(blank_result(index, item), &rule);
            // The number the sender sent, so that a refused item can be found by it.
            result.reference = mapped_reference(&mapped.document, &rule.identity);
            for finding in &mapped.findings {
                let issue = Issue::new(
                    &finding.code,
                    &locate(location, &finding.path),
                    finding.detail.clone(),
                );
                match finding.severity {
                    Severity::Error => result.errors.push(issue),
                    Severity::Warning => result.warnings.push(issue),
                }
            }
            if result.errors.is_empty() {
                Prepared::Ready {
                    path: locate(location, &mapped.source_path),
                    result,
                    rule: rule.clone(),
                    document: mapped.document,
                    references: mapped
                        .references
                        .into_iter()
                        .map(|(field, path)| (field, locate(location, &path)))
                        .collect(),
                }
            } else {
                Prepared::Rejected(result)
            }
        })
        .collect()
}

/// The first identity field of a mapped document that holds text (the order or
/// shipment number the sender sent), else its shipment or order number.
fn mapped_reference(document: &serde_json::Value, identity: &[String]) -> Option<String> {
    identity
        .iter()
        .map(String::as_str)
        .chain(["shipment_number", "order_number"])
        .filter_map(|field| document.get(field).and_then(serde_json::Value::as_str))
        .map(str::trim)
        .find(|text| !text.is_empty())
        .map(str::to_owned)
}

fn labelled(mut result: ItemResult, rule: &RuleSummary) -> ItemResult {
    result.operation = Some(rule.operation.as_str());
    result.entity = Some(rule.entity.as_str());
    result.rule = Some(rule.name.clone());
    result
}

async fn apply_all(
    txn: &WriteTxn,
    strict: crate::config::Strict,
    max_deliveries: usize,
    principal: &Principal,
    prepared: &[Prepared],
) -> Result<Vec<ItemResult>> {
    let mut budget = store::unit::DeliveryBudget::new(max_deliveries);
    let ready = prepared
        .iter()
        .filter(|p| matches!(p, Prepared::Ready { .. }))
        .count();
    // Most payloads have no item the store refuses. Their items share one unit: one
    // savepoint for the payload instead of one per item, and their outbox messages
    // written together in multi-row statements. The first refusal undoes the lot,
    // and the payload is written again an item to a unit, so that only the refused
    // item is left out.
    if ready > 1 {
        let unit = Unit::begin(txn).await?;
        let mut results = Vec::with_capacity(prepared.len());
        for item in prepared {
            match apply_item(&unit, strict, principal, item).await {
                Ok(result) => results.push(result),
                Err(Failure::Rejected(_)) => {
                    unit.rollback().await?;
                    return apply_apart(txn, &mut budget, strict, principal, prepared).await;
                }
                Err(Failure::Fatal(error)) => return Err(error),
            }
        }
        unit.commit(&mut budget).await?;
        return Ok(results);
    }
    apply_apart(txn, &mut budget, strict, principal, prepared).await
}

/// The payload's items one unit each, on a savepoint of its own: a refused item
/// undoes only itself.
async fn apply_apart(
    txn: &WriteTxn,
    budget: &mut store::unit::DeliveryBudget,
    strict: crate::config::Strict,
    principal: &Principal,
    prepared: &[Prepared],
) -> Result<Vec<ItemResult>> {
    let mut results = Vec::with_capacity(prepared.len());
    for item in prepared {
        let result = match item {
            Prepared::Rejected(result) => {
                results.push(result.clone());
                continue;
            }
            Prepared::Ready { result, .. } => result,
        };
        // Its events share their lookups and are written together at its end.
        let unit = Unit::begin(txn).await?;
        match apply_item(&unit, strict, principal, item).await {
            Ok(result) => {
                unit.commit(budget).await?;
                results.push(result);
            }
            Err(Failure::Rejected(issue)) => {
                unit.rollback().await?;
                let mut result = result.clone();
                result.errors.push(issue);
                results.push(result);
            }
            Err(Failure::Fatal(error)) => return Err(error),
        }
    }
    Ok(results)
}

/// Applies one item on `unit` and answers its result; an item refused before the
/// store answers as it was.
async fn apply_item(
    unit: &Unit,
    strict: crate::config::Strict,
    principal: &Principal,
    item: &Prepared,
) -> std::result::Result<ItemResult, Failure> {
    let (result, rule, path, document, references) = match item {
        Prepared::Rejected(result) => return Ok(result.clone()),
        Prepared::Ready {
            result,
            rule,
            path,
            document,
            references,
        } => (result, rule, path, document, references),
    };
    let cx = Context {
        db: unit,
        business_id: principal.business_id,
        strict,
        rule,
        path: path.clone(),
        references,
        customer: principal.role.customer(),
        subcontractor: principal.role.subcontractor(),
    };
    let applied = apply::apply(&cx, document).await?;
    let mut result = result.clone();
    accept(&mut result, applied);
    Ok(result)
}

fn accept(result: &mut ItemResult, applied: Applied) {
    result.warnings.extend(applied.warnings);
    result.status = if result.warnings.is_empty() {
        Status::Accepted
    } else {
        Status::AcceptedWithWarnings
    };
    result.id = Some(applied.id.into());
    result.reference = Some(applied.reference);
    result.created = applied.created;
}
