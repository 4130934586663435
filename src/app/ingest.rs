//! Ingest use cases: a payload through the pipeline (at most once per
//! Idempotency-Key), what the rules make of a payload without writing, and the
//! record of a payload received earlier.

use axum::http::StatusCode;
use chrono::Duration;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::App;
use crate::domain::{KeyState, Scope};
use crate::error::{Error, ProblemCode, Result};
use crate::ingest::body;
use crate::ingest::writer::{KeyClaim, Written};
use crate::rules::{Explanation, Finding};
use crate::store::entities::{idempotency_key, inbound_payload};
use crate::store::keys::Principal;
use crate::store::{idempotency, inbound};

pub use crate::ingest::Incoming;
pub use crate::ingest::ack::{Ack, Outcome};

/// A client's Idempotency-Key: 1 to 255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key as sent; structured-field strings arrive quoted, and the bare
    /// token form is accepted too.
    pub fn parse(text: &str) -> Result<Self> {
        let key = text.trim().trim_matches('"');
        if key.is_empty() || key.len() > 255 {
            return Err(invalid_key(
                "the Idempotency-Key must be 1 to 255 characters",
            ));
        }
        if !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(invalid_key("the Idempotency-Key must be printable ASCII"));
        }
        Ok(Self(key.to_string()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The error for a key that is not 1 to 255 printable ASCII characters.
pub fn invalid_key(detail: &str) -> Error {
    Error::BadRequest {
        code: ProblemCode::InvalidIdempotencyKey,
        detail: detail.to_string(),
    }
}

/// What a payload was answered with.
#[derive(Debug)]
pub enum Answer {
    /// Processed now.
    Fresh(Ack),
    /// The key was used for this same request before: its stored answer, unchanged.
    Replayed { status: StatusCode, body: Value },
}

/// Runs a payload through the pipeline and answers once it is committed. With a key,
/// the key is claimed in the payload's own transaction, so a key is either unused or
/// holds a committed answer; a repeat gets that answer and writes nothing.
#[tracing::instrument(skip_all, fields(business = %incoming.principal.business_slug))]
pub async fn ingest(
    app: &App,
    mut incoming: Incoming<'_>,
    key: Option<IdempotencyKey>,
) -> Result<Answer> {
    incoming.principal.require(Scope::Ingest)?;
    let print = key
        .as_ref()
        .map(|_| fingerprint(incoming.content_type, &incoming.body));
    if let (Some(key), Some(print)) = (key, &print) {
        let window = idempotency::Window {
            ttl: Duration::seconds(app.config.idempotency_ttl_secs as i64),
            // No request outlives the request timeout, so an older claim is abandoned;
            // twice the timeout leaves room for a commit already on its way.
            abandoned_after: Duration::milliseconds(2 * app.config.request_timeout_ms as i64),
        };
        incoming.key = Some(KeyClaim {
            key: key.0,
            fingerprint: print.clone(),
            window,
        });
    }
    let rules = app.rules.current();
    let max = app.config.max_documents_per_payload;
    match crate::ingest::write(&rules, &app.writer, incoming, max).await? {
        Written::Fresh(ack) => Ok(Answer::Fresh(ack)),
        Written::Earlier(row) => replay(app, row, print.as_deref().unwrap_or_default()).await,
    }
}

fn fingerprint(content_type: Option<&str>, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(content_type.unwrap_or("").as_bytes());
    hash.update([0]);
    hash.update(body);
    hex::encode(hash.finalize())
}

/// The answer to a key used before: its stored answer, or why there is none.
async fn replay(app: &App, row: idempotency_key::Model, print: &str) -> Result<Answer> {
    if row.fingerprint != print {
        return Err(Error::Invalid {
            code: ProblemCode::IdempotencyKeyReused,
            detail: "this Idempotency-Key was used for a different request; use a new key".into(),
            errors: Vec::new(),
        });
    }
    if row.state != KeyState::Complete {
        return Err(Error::Conflict {
            code: ProblemCode::IdempotencyInFlight,
            detail: "a request with this Idempotency-Key is still being processed; retry later"
                .into(),
        });
    }
    let status = row
        .response_status
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    // The answer is kept once, with the payload's record; keys stored before that
    // hold a copy of their own.
    let body = match &row.logging_id {
        Some(logging_id) => inbound::find(&app.db, row.business_id, logging_id)
            .await?
            .and_then(|record| record.response)
            .unwrap_or_default(),
        None => row
            .response_body
            .and_then(|b| serde_json::from_str(&b).ok())
            .unwrap_or_default(),
    };
    Ok(Answer::Replayed { status, body })
}

/// What the rules make of each document of a payload, without writing.
#[derive(Serialize)]
pub struct ExplainAnswer {
    pub rules_loaded: usize,
    /// Whether each document is explained in full (`explanation`) or summarised
    /// (`verdict`): a payload of one document, or `full=true`, is explained in full.
    pub full: bool,
    pub documents: Vec<ExplainedDocument>,
}

/// One document of the payload: its explanation or verdict, or why it could not be read.
#[derive(Serialize)]
pub struct ExplainedDocument {
    pub index: usize,
    pub location: String,
    /// The document as the rules saw it (a CSV row's keys and strings, one element
    /// of an array), with a full explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What became of one document of a batch, in short: the rule, the verdict, and the
/// first findings.
#[derive(Serialize)]
pub struct Verdict {
    /// The rule chosen, if any.
    pub rule: Option<String>,
    pub operation: Option<&'static str>,
    pub entity: Option<&'static str>,
    /// The explanation's one-paragraph verdict.
    pub summary: String,
    /// Items the rule maps from the document, and how many of them validate.
    pub items: usize,
    pub accepted_items: usize,
    /// The first findings (errors and warnings) over all items.
    pub findings: Vec<Finding>,
    /// All findings, of which `findings` holds the first few.
    pub findings_total: usize,
}

/// Findings a verdict lists.
const VERDICT_FINDINGS: usize = 10;

impl Verdict {
    fn of(explanation: Explanation) -> Self {
        let findings_total = explanation.items.iter().map(|i| i.findings.len()).sum();
        let accepted_items = explanation.items.iter().filter(|i| i.is_accepted()).count();
        let items = explanation.items.len();
        let findings = explanation
            .items
            .into_iter()
            .flat_map(|item| item.findings)
            .take(VERDICT_FINDINGS)
            .collect();
        let chosen = explanation.chosen;
        Verdict {
            operation: chosen.as_ref().map(|r| r.operation.as_str()),
            entity: chosen.as_ref().map(|r| r.entity.as_str()),
            rule: chosen.map(|r| r.name),
            summary: explanation.summary,
            items,
            accepted_items,
            findings,
            findings_total,
        }
    }
}

/// Classifies, maps and validates a payload as ingest would, and says why. A batch
/// is answered with a verdict per document unless `full` asks for every
/// explanation, which is capped at `explain_full_max_documents` documents.
pub fn explain(
    app: &App,
    principal: &Principal,
    content_type: Option<&str>,
    payload: &[u8],
    full: bool,
) -> Result<ExplainAnswer> {
    principal.require(Scope::Ingest)?;
    let rules = app.rules.current();
    let format = body::format(&rules, &principal.business_slug, content_type)?;
    let documents = body::documents_at_most(format, payload, app.config.max_documents_per_payload)?;
    let cap = app.config.explain_full_max_documents;
    if full && documents.len() > cap {
        return Err(Error::TooManyDocuments {
            max: cap,
            setting: "explain_full_max_documents",
        });
    }
    let full = full || documents.len() == 1;
    let documents = documents
        .into_iter()
        .map(|doc| {
            let mut explained = ExplainedDocument {
                index: doc.index,
                location: doc.location,
                document: None,
                explanation: None,
                verdict: None,
                error: None,
            };
            match doc.value {
                Ok(value) => {
                    let explanation = rules.explain(&principal.business_slug, &value);
                    if full {
                        explained.explanation = Some(explanation);
                        explained.document = Some(value);
                    } else {
                        explained.verdict = Some(Verdict::of(explanation));
                    }
                }
                Err(error) => explained.error = Some(error),
            }
            explained
        })
        .collect();
    Ok(ExplainAnswer {
        rules_loaded: rules.len(),
        full,
        documents,
    })
}

/// A payload record, its body and answer, and the name of the key that sent it.
pub struct PayloadRecord {
    pub record: inbound_payload::Model,
    /// The body as received (invalid UTF-8 replaced).
    pub body: String,
    /// The answer sent.
    pub response: Option<serde_json::Value>,
    pub key: Option<String>,
}

/// The record of a payload received by the key's business (scope `ingest` or `read`).
pub async fn record(app: &App, principal: &Principal, logging_id: String) -> Result<PayloadRecord> {
    principal.require_either(Scope::Ingest, Scope::Read)?;
    let inbound::Stored {
        record,
        body,
        response,
    } = inbound::find(&app.db, principal.business_id, &logging_id)
        .await?
        .ok_or(Error::NotFound {
            what: "payload",
            id: logging_id,
        })?;
    let key = match record.api_key_id {
        Some(id) => crate::store::keys::names(&app.db, record.business_id, [id])
            .await?
            .remove(&id),
        None => None,
    };
    Ok(PayloadRecord {
        record,
        body,
        response,
        key,
    })
}

/// What a listing of payload records asks for; `None` means "no restriction".
#[derive(Debug, Clone, Default)]
pub struct PayloadFilter {
    pub outcome: Option<Outcome>,
    pub rule: Option<String>,
    /// A problem code in the answer (the refusal's or an item's error).
    pub code: Option<String>,
    /// The name of the key that sent it.
    pub key: Option<String>,
    pub source: Option<String>,
    /// Received at or after.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Received before.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Text in a reference the answer names (shipment or order number, …).
    pub reference: Option<String>,
}

impl PayloadFilter {
    /// What is wrong with the filter, if anything: the field and why (a problem
    /// code that cannot be one, a source that is not a door). Each door answers it
    /// in its own way.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if let Some(code) = &self.code
            && !((1..=64).contains(&code.len())
                && code.starts_with(|c: char| c.is_ascii_lowercase())
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        {
            return Some((
                "code",
                format!("code `{}` is not a problem code", code.escape_debug()),
            ));
        }
        if let Some(source) = &self.source
            && !crate::ingest::Source::NAMES.contains(&source.as_str())
        {
            return Some((
                "source",
                format!(
                    "source `{}` is not one of {}",
                    source.escape_debug(),
                    crate::ingest::Source::NAMES.join(", ")
                ),
            ));
        }
        None
    }
}

/// A payload record as listed: what came, through which door and key, what the rules
/// made of it; the body and the answer are at `GET /v1/ingest/{logging_id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayloadSummary {
    pub logging_id: String,
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub content_type: String,
    /// The rule of the first item a rule matched.
    pub rule: Option<String>,
    pub operation: Option<String>,
    pub entity: Option<String>,
    /// `accepted`, `accepted_with_warnings`, `partially_accepted` or `rejected`.
    pub outcome: String,
    /// The answer's problem codes (the refusal's and the items' errors), each once.
    pub problem_codes: Vec<String>,
    /// The references its items name (shipment and order numbers, …), each once.
    pub references: Vec<String>,
    /// The name of the key that sent it.
    pub key: Option<String>,
    /// `rest`, `graphql` or `reprocess`; absent on records older than the field.
    pub source: Option<String>,
    /// For a reprocess, the logging id of the payload it reprocessed.
    pub reprocess_of: Option<String>,
}

/// The business's payload records matching `filter`, newest first (scope `ingest` or
/// `read`).
pub async fn list(
    app: &App,
    principal: &Principal,
    filter: PayloadFilter,
    page: crate::store::listing::Page,
) -> Result<super::Listing<PayloadSummary>> {
    principal.require_either(Scope::Ingest, Scope::Read)?;
    let business = principal.business_id;
    let key_ids = match &filter.key {
        Some(name) => Some(crate::store::keys::ids_named(&app.db, business, name).await?),
        None => None,
    };
    if key_ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(super::Listing::empty());
    }
    let query = inbound::InboundQuery {
        outcome: filter.outcome.map(|o| o.as_str().to_string()),
        rule: filter.rule,
        code: filter.code,
        key_ids,
        source: filter.source,
        since: filter.since,
        until: filter.until,
        reference: filter.reference,
    };
    let found = inbound::list(&app.db, business, &query, page).await?;
    let next = super::next_after(&found, |r| r.id);
    let names = crate::store::keys::names(
        &app.db,
        business,
        found.rows.iter().filter_map(|r| r.api_key_id),
    )
    .await?;
    let items = found
        .rows
        .into_iter()
        .map(|r| PayloadSummary {
            key: r.api_key_id.and_then(|id| names.get(&id).cloned()),
            logging_id: r.logging_id,
            received_at: r.received_at,
            content_type: r.content_type,
            rule: r.rule,
            operation: r.operation,
            entity: r.entity,
            outcome: r.outcome,
            problem_codes: r
                .problem_codes
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            references: r
                .refs
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect(),
            source: r.source,
            reprocess_of: r.reprocess_of,
        })
        .collect();
    Ok(super::Listing::new(items, next))
}

/// A stored payload through the current rules again: explained only (`dry_run`),
/// or ingested under a new logging id whose record names the original
/// (`reprocess_of`). Scope `ingest`; the payload must be of the key's business.
pub async fn reprocess(
    app: &App,
    principal: &Principal,
    logging_id: String,
    dry_run: bool,
) -> Result<Reprocessed> {
    principal.require(Scope::Ingest)?;
    let original = inbound::find(&app.db, principal.business_id, &logging_id)
        .await?
        .ok_or(Error::NotFound {
            what: "payload",
            id: logging_id.clone(),
        })?;
    let content_type =
        (!original.record.content_type.is_empty()).then_some(original.record.content_type);
    if dry_run {
        return explain(
            app,
            principal,
            content_type.as_deref(),
            original.body.as_bytes(),
            false,
        )
        .map(Reprocessed::Explained);
    }
    let incoming = Incoming {
        principal,
        content_type: content_type.as_deref(),
        body: original.body.into_bytes().into(),
        key: None,
        source: crate::ingest::Source::Reprocess { of: logging_id },
    };
    match ingest(app, incoming, None).await? {
        Answer::Fresh(ack) => Ok(Reprocessed::Ingested(ack)),
        Answer::Replayed { .. } => Err(Error::Internal(anyhow::anyhow!(
            "a reprocess without an Idempotency-Key was answered as a repeat"
        ))),
    }
}

/// What a reprocess answers.
pub enum Reprocessed {
    /// `dry_run`: what the current rules make of it.
    Explained(ExplainAnswer),
    /// Ingested under a new logging id.
    Ingested(Ack),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        assert_eq!(
            IdempotencyKey::parse("\"8e03978e-40d5\"").unwrap().as_str(),
            "8e03978e-40d5"
        );
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("caf\u{e9}").is_err());
    }

    #[test]
    fn the_fingerprint_covers_content_type_and_body() {
        assert_ne!(
            fingerprint(Some("text/csv"), b"a"),
            fingerprint(Some("application/json"), b"a")
        );
        assert_ne!(fingerprint(None, b"a"), fingerprint(None, b"b"));
    }
}
