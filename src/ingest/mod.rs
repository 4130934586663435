//! The unified endpoint's pipeline: read the body into documents, classify and map
//! each with the rules, validate, apply them in one transaction (a savepoint per
//! item, so a failed item writes nothing), record the payload and acknowledge.

pub mod ack;
pub mod apply;
pub mod body;
pub mod canonical;
pub mod idempotent;

use chrono::Utc;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use serde_json::Value;

use self::ack::{ItemResult, Reply, Status};
use self::apply::{Applied, Context, Failure, Issue};
use self::body::{Document, Format};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::rules::{RuleSet, RuleSummary, Severity};
use crate::store::keys::Principal;
use crate::store::{self, idempotency, inbound};

/// One request to the unified endpoint.
pub struct Incoming<'a> {
    pub principal: &'a Principal,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// A claimed Idempotency-Key to finish in the same transaction as the writes.
    pub idempotency: Option<i64>,
}

/// A document's item, ready for the store or already rejected.
enum Prepared {
    Rejected(ItemResult),
    Ready {
        result: ItemResult,
        rule: RuleSummary,
        path: String,
        document: Value,
    },
}

/// Runs the pipeline and returns the acknowledgement. Errors are ours (5xx); every
/// problem with the payload is inside the reply.
pub async fn ingest(state: &AppState, incoming: Incoming<'_>) -> Result<Reply> {
    let logging_id = uuid::Uuid::now_v7().to_string();
    let received_at = Utc::now();
    let rules = state.rules.current();
    // Reading and classifying happen before the write transaction starts, so the
    // (SQLite) write lock is held only for the store work.
    let prepared = Format::from_content_type(incoming.content_type)
        .and_then(|format| body::documents(format, incoming.body))
        .map(|documents| prepare(&rules, &incoming.principal.business_slug, documents));
    let txn = store::begin_write(&state.db)
        .await
        .map_err(Error::from_db_err)?;
    let (reply, rule) = match prepared {
        Err(e) if e.status().is_client_error() => (Reply::problem(&logging_id, &e), None),
        Err(e) => return Err(e),
        Ok(prepared) => {
            let rule = prepared.iter().find_map(|p| match p {
                Prepared::Ready { rule, .. } => Some(rule.clone()),
                Prepared::Rejected(_) => None,
            });
            let results = apply_all(state, &txn, incoming.principal, prepared).await?;
            (Reply::for_results(&logging_id, results), rule)
        }
    };
    finish(txn, &incoming, &logging_id, received_at, reply, rule).await
}

/// Records the payload and the idempotent answer with the writes, then commits.
async fn finish(
    txn: DatabaseTransaction,
    incoming: &Incoming<'_>,
    logging_id: &str,
    received_at: chrono::DateTime<Utc>,
    reply: Reply,
    rule: Option<RuleSummary>,
) -> Result<Reply> {
    let record = inbound::NewInbound {
        logging_id,
        business_id: incoming.principal.business_id,
        api_key_id: incoming.principal.key_id,
        content_type: incoming.content_type.unwrap_or(""),
        body: incoming.body,
        rule: rule.as_ref().map(|r| r.name.clone()),
        operation: rule.as_ref().map(|r| r.operation.as_str().to_string()),
        entity: rule.as_ref().map(|r| r.entity.as_str().to_string()),
        outcome: reply.outcome(),
        response: reply.body.clone(),
        received_at,
    };
    inbound::record(&txn, record).await?;
    if let Some(claim) = incoming.idempotency {
        let body = serde_json::to_string(&reply.body).unwrap_or_default();
        idempotency::finish(&txn, claim, reply.status.as_u16(), &body).await?;
    }
    txn.commit().await.map_err(Error::from_db_err)?;
    tracing::info!(
        logging_id,
        outcome = reply.outcome(),
        status = reply.status.as_u16(),
        "payload acknowledged"
    );
    Ok(reply)
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
    for doc in documents {
        let value = match doc.value {
            Ok(value) => value,
            Err(detail) => {
                let mut result = blank_result(doc.index, 0);
                result
                    .errors
                    .push(Issue::new("malformed_document", &doc.location, detail));
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
        ));
    }
    prepared
}

fn prepare_document(
    rules: &RuleSet,
    business: &str,
    index: usize,
    location: &str,
    value: &Value,
) -> Vec<Prepared> {
    let outcome = rules.process(business, value);
    let Some(rule) = outcome.rule else {
        let mut result = blank_result(index, 0);
        result.errors.push(Issue::new(
            "no_matching_rule",
            &locate(location, "$"),
            "no rule matches this payload; POST it to /v1/ingest/explain to see why each rule did not match",
        ));
        return vec![Prepared::Rejected(result)];
    };
    if outcome.items.is_empty() {
        let mut result = labelled(blank_result(index, 0), &rule);
        result.errors.push(Issue::new(
            "validation_failed",
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
                }
            } else {
                Prepared::Rejected(result)
            }
        })
        .collect()
}

fn labelled(mut result: ItemResult, rule: &RuleSummary) -> ItemResult {
    result.operation = Some(rule.operation.as_str());
    result.entity = Some(rule.entity.as_str());
    result.rule = Some(rule.name.clone());
    result
}

async fn apply_all(
    state: &AppState,
    txn: &DatabaseTransaction,
    principal: &Principal,
    prepared: Vec<Prepared>,
) -> Result<Vec<ItemResult>> {
    let mut results = Vec::with_capacity(prepared.len());
    for item in prepared {
        let (mut result, rule, path, document) = match item {
            Prepared::Rejected(result) => {
                results.push(result);
                continue;
            }
            Prepared::Ready {
                result,
                rule,
                path,
                document,
            } => (result, rule, path, document),
        };
        let savepoint = txn.begin().await.map_err(Error::from_db_err)?;
        let cx = Context {
            db: &savepoint,
            business_id: principal.business_id,
            strict_facilities: state.config.strict_facilities,
            rule: &rule,
            path,
        };
        match apply::apply(&cx, &document).await {
            Ok(applied) => {
                savepoint.commit().await.map_err(Error::from_db_err)?;
                accept(&mut result, applied);
            }
            Err(Failure::Rejected(issue)) => {
                savepoint.rollback().await.map_err(Error::from_db_err)?;
                result.errors.push(issue);
            }
            Err(Failure::Fatal(error)) => return Err(error),
        }
        results.push(result);
    }
    Ok(results)
}

fn accept(result: &mut ItemResult, applied: Applied) {
    result.warnings.extend(applied.warnings);
    result.status = if result.warnings.is_empty() {
        Status::Accepted
    } else {
        Status::AcceptedWithWarnings
    };
    result.id = Some(applied.id);
    result.reference = Some(applied.reference);
    result.created = applied.created;
}
