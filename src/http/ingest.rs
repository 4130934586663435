//! The unified endpoint: `POST /v1/ingest`, `POST /v1/ingest/explain` and
//! `GET /v1/ingest/{logging_id}`.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::AppState;
use super::extract::{Path, RawBody};
use crate::domain::Scope;
use crate::error::{Error, Result};
use crate::ingest::body::{self, Format};
use crate::ingest::{Incoming, idempotent};
use crate::rules::Explanation;
use crate::store::inbound;
use crate::store::keys::Principal;

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// `POST /v1/ingest`: classify, map, validate, store and acknowledge a payload.
#[tracing::instrument(skip_all)]
pub async fn ingest(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response> {
    principal.require(Scope::Ingest)?;
    let key = idempotent::key_from(&headers)?;
    let incoming = Incoming {
        principal: &principal,
        content_type: content_type(&headers),
        body,
        key: None,
    };
    idempotent::ingest_once(&state, incoming, key).await
}

/// `POST /v1/ingest/explain`: what the rules make of a payload, without writing.
#[tracing::instrument(skip_all)]
pub async fn explain(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response> {
    principal.require(Scope::Ingest)?;
    let format = Format::from_content_type(content_type(&headers))?;
    let rules = state.rules.current();
    let documents = body::documents(format, &body)?
        .into_iter()
        .map(|doc| {
            let (explanation, error) = match doc.value {
                Ok(value) => (Some(rules.explain(&principal.business_slug, &value)), None),
                Err(error) => (None, Some(error)),
            };
            ExplainedDocument {
                index: doc.index,
                location: doc.location,
                explanation,
                error,
            }
        })
        .collect();
    let answer = ExplainAnswer {
        rules_loaded: rules.len(),
        documents,
    };
    // Sized for the usual answer (a report per rule, the mapped documents), so the
    // buffer is not grown and copied over and over while serialising.
    let mut out = Vec::with_capacity(body.len() * 2 + rules.len() * 512);
    serde_json::to_writer(&mut out, &answer)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot serialise an explanation: {e}")))?;
    let json = HeaderValue::from_static("application/json");
    Ok(([(CONTENT_TYPE, json)], out).into_response())
}

/// The body of an explain answer, serialised straight from the explanations.
#[derive(Serialize)]
struct ExplainAnswer {
    rules_loaded: usize,
    documents: Vec<ExplainedDocument>,
}

/// One document of the payload: its explanation, or why it could not be read.
#[derive(Serialize)]
struct ExplainedDocument {
    index: usize,
    location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<Explanation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `GET /v1/ingest/{logging_id}`: the record of a received payload.
#[tracing::instrument(skip_all)]
pub async fn record(
    State(state): State<AppState>,
    principal: Principal,
    Path(logging_id): Path<String>,
) -> Result<Response> {
    if principal.require(Scope::Ingest).is_err() {
        principal.require(Scope::Read)?;
    }
    let found = inbound::find(&state.db, principal.business_id, &logging_id)
        .await?
        .ok_or(Error::NotFound {
            what: "payload",
            id: logging_id,
        })?;
    Ok(axum::Json(json!({
        "logging_id": found.logging_id,
        "received_at": found.received_at,
        "content_type": found.content_type,
        "body_sha256": found.body_sha256,
        "body": found.body,
        "rule": found.rule,
        "operation": found.operation,
        "entity": found.entity,
        "outcome": found.outcome,
        "response": found.response,
    }))
    .into_response())
}
