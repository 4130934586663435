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
use crate::ingest::body::{self, Format};
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
    let format = Format::from_content_type(content_type)?;
    let rules = app.rules.current();
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
                explanation: None,
                verdict: None,
                error: None,
            };
            match doc.value {
                Ok(value) => {
                    let explanation = rules.explain(&principal.business_slug, &value);
                    if full {
                        explained.explanation = Some(explanation);
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

/// The record of a payload received by the key's business (scope `ingest` or `read`).
pub async fn record(
    app: &App,
    principal: &Principal,
    logging_id: String,
) -> Result<inbound_payload::Model> {
    if principal.require(Scope::Ingest).is_err() {
        principal.require(Scope::Read)?;
    }
    inbound::find(&app.db, principal.business_id, &logging_id)
        .await?
        .ok_or(Error::NotFound {
            what: "payload",
            id: logging_id,
        })
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
