//! The unified endpoint: `POST /v1/ingest`, `POST /v1/ingest/explain` and
//! `GET /v1/ingest/{logging_id}`. Parses, calls `app::ingest`, renders.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::extract::{Path, RawBody};
use crate::app::App;
use crate::app::ingest::Ack;
use crate::app::ingest::{self as use_case, Answer, IdempotencyKey, Incoming};
use crate::domain::Scope;
use crate::error::{Error, Result};
use crate::store::keys::Principal;

/// Header a retried response carries.
pub const REPLAYED: &str = "idempotent-replayed";

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// The Idempotency-Key a client sent, if any.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| use_case::invalid_key("the Idempotency-Key must be printable ASCII"))?;
    IdempotencyKey::parse(text).map(Some)
}

/// `POST /v1/ingest`: classify, map, validate, store and acknowledge a payload.
#[tracing::instrument(skip_all)]
pub async fn ingest(
    State(app): State<App>,
    principal: Principal,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response> {
    // The scope first: a key that may not ingest hears nothing about its headers.
    principal.require(Scope::Ingest)?;
    let key = idempotency_key(&headers)?;
    let incoming = Incoming {
        principal: &principal,
        content_type: content_type(&headers),
        body,
        key: None,
    };
    Ok(match use_case::ingest(&app, incoming, key).await? {
        Answer::Fresh(ack) => render(&ack),
        Answer::Replayed { status, body } => {
            let mut response = json_response(status, &body);
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            response
        }
    })
}

/// An acknowledgement as an HTTP answer.
pub fn render(ack: &Ack) -> Response {
    json_response(ack.status(), &ack.body())
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let content_type = if status.is_client_error() || status.is_server_error() {
        "application/problem+json"
    } else {
        "application/json"
    };
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(CONTENT_TYPE, content_type)], bytes).into_response()
}

/// `POST /v1/ingest/explain`: what the rules make of a payload, without writing.
#[tracing::instrument(skip_all)]
pub async fn explain(
    State(app): State<App>,
    principal: Principal,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response> {
    let answer = use_case::explain(&app, &principal, content_type(&headers), &body)?;
    // Sized for the usual answer (a report per rule, the mapped documents), so the
    // buffer is not grown and copied over and over while serialising.
    let mut out = Vec::with_capacity(body.len() * 2 + answer.rules_loaded * 512);
    serde_json::to_writer(&mut out, &answer)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot serialise an explanation: {e}")))?;
    let json = HeaderValue::from_static("application/json");
    Ok(([(CONTENT_TYPE, json)], out).into_response())
}

/// `GET /v1/ingest/{logging_id}`: the record of a received payload.
#[tracing::instrument(skip_all)]
pub async fn record(
    State(app): State<App>,
    principal: Principal,
    Path(logging_id): Path<String>,
) -> Result<Response> {
    let found = use_case::record(&app, &principal, logging_id).await?;
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
