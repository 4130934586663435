//! The unified endpoint: `POST /v1/ingest`, `POST /v1/ingest/explain` and
//! `GET /v1/ingest/{logging_id}`. Parses, calls `app::ingest`, renders.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::extract::{Path, Query, RawBody};
use crate::app::App;
use crate::app::ingest::Ack;
use crate::app::ingest::{self as use_case, Answer, IdempotencyKey, Incoming};
use crate::domain::Scope;
use crate::error::{Error, Problem, Result};
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

/// The acknowledgement of a payload some of whose items were accepted.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a schema only: the answer is `Ack::body`
pub struct Acknowledgement {
    status: crate::app::ingest::Outcome,
    logging_id: String,
    results: Vec<crate::ingest::ack::ItemResult>,
}

/// The record of a received payload.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PayloadRecord {
    logging_id: String,
    received_at: chrono::DateTime<chrono::Utc>,
    content_type: String,
    body_sha256: String,
    /// The body as received (invalid UTF-8 replaced).
    body: String,
    /// The rule that matched its first item.
    rule: Option<String>,
    operation: Option<String>,
    entity: Option<String>,
    /// `accepted`, `accepted_with_warnings`, `partially_accepted` or `rejected`.
    outcome: String,
    /// The answer sent.
    #[schema(value_type = Option<Object>)]
    response: Option<Value>,
    /// The name of the key that sent it.
    key: Option<String>,
    /// `rest`, `graphql` or `reprocess`; absent on records older than the field.
    source: Option<String>,
    /// For a reprocess, the logging id of the payload it reprocessed.
    reprocess_of: Option<String>,
}

/// Classifies, maps, validates, stores and acknowledges a payload in the sender's
/// own shape; the answer comes once it is committed.
#[utoipa::path(post, path = "/v1/ingest", tag = "ingest", operation_id = "ingest",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 printable ASCII characters: a retry with the same key and body replays the first answer")),
    request_body(description = "A document, a JSON array of documents, NDJSON lines, CSV rows or an XML document",
        content((Object = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"), (String = "application/xml"))),
    responses(
        (status = 200, description = "Every item accepted; updates, cancels and attachments only", body = Acknowledgement),
        (status = 201, description = "Every item accepted, at least one created a record", body = Acknowledgement),
        (status = 207, description = "Some items accepted, others rejected (those wrote nothing)", body = Acknowledgement),
        (status = 400, description = "The body cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `ingest`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A Content-Type the endpoint does not take", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every item rejected (`errors`, `results`), or an Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ))]
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
        source: crate::ingest::Source::Rest,
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

/// How much an explain answers.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    /// `true`: explain every document of a batch in full (at most
    /// `explain_full_max_documents` documents); by default a batch gets a verdict per
    /// document.
    pub full: Option<bool>,
}

/// What the rules make of each document of a payload, and why, without writing.
#[utoipa::path(post, path = "/v1/ingest/explain", tag = "ingest", operation_id = "explainPayload",
    params(ExplainParams),
    request_body(description = "As for `POST /v1/ingest`",
        content((Object = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"), (String = "application/xml"))),
    responses(
        (status = 200, description = "Each document's classification, mapping and validation: in full for one document or with `full=true`, otherwise a verdict per document", body = Object),
        (status = 400, description = "The body cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `ingest`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More documents than `max_documents_per_payload`, or with `full=true` than `explain_full_max_documents` (`too_many_documents`), or a body over `max_body_bytes`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A Content-Type the endpoint does not take", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn explain(
    State(app): State<App>,
    principal: Principal,
    headers: HeaderMap,
    Query(params): Query<ExplainParams>,
    RawBody(body): RawBody,
) -> Result<Response> {
    let full = params.full.unwrap_or(false);
    let answer = use_case::explain(&app, &principal, content_type(&headers), &body, full)?;
    // Sized for the usual answer (a report per rule, the mapped documents), so the
    // buffer is not grown and copied over and over while serialising.
    let mut out = Vec::with_capacity(body.len() * 2 + answer.rules_loaded * 512);
    serde_json::to_writer(&mut out, &answer)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot serialise an explanation: {e}")))?;
    let json = HeaderValue::from_static("application/json");
    Ok(([(CONTENT_TYPE, json)], out).into_response())
}

/// Filters of `GET /v1/ingest`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayloadListParams {
    pub outcome: Option<use_case::Outcome>,
    /// The rule (of the first item a rule matched).
    pub rule: Option<String>,
    /// A problem code of the answer: the refusal's or an item error's.
    #[param(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub code: Option<String>,
    /// The name of the key that sent it.
    pub key: Option<String>,
    /// The door: `rest`, `graphql` or `reprocess`.
    pub source: Option<String>,
    /// Received at or after (RFC 3339).
    pub since: Option<String>,
    /// Received before (RFC 3339).
    pub until: Option<String>,
    /// Text in a reference an item names (a shipment or order number, …).
    pub reference: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// The business's received payloads, newest first, a page at a time (scope `ingest`
/// or `read`): what failed in the last hour is `?outcome=rejected&since=…`.
#[utoipa::path(get, path = "/v1/ingest", tag = "ingest", operation_id = "listPayloads",
    params(PayloadListParams),
    responses(
        (status = 200, description = "A page of payload records, without bodies", body = crate::app::Listing<use_case::PayloadSummary>),
        (status = 400, description = "A filter cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `ingest` and `read`", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(app): State<App>,
    principal: Principal,
    Query(params): Query<PayloadListParams>,
) -> Result<Response> {
    use super::rest::{PageParams, bad_query, text_param, time_param};
    let page = PageParams {
        after: params.after.clone(),
        limit: params.limit,
    }
    .page()?;
    let filter = use_case::PayloadFilter {
        outcome: params.outcome,
        rule: text_param("rule", params.rule)?,
        code: params.code,
        key: text_param("key", params.key)?,
        source: params.source,
        since: time_param("since", params.since.as_deref())?,
        until: time_param("until", params.until.as_deref())?,
        reference: text_param("reference", params.reference)?,
    };
    if let Some((_, detail)) = filter.problem() {
        return Err(bad_query(detail));
    }
    let listing = use_case::list(&app, &principal, filter, page).await?;
    Ok(axum::Json(listing).into_response())
}

/// The rules in use: their version (a hash of the files), count, files and
/// warnings, and how the last reload went, with its errors when a file was broken
/// (scope `ingest` or `read`).
#[utoipa::path(get, path = "/v1/rules", tag = "ingest", operation_id = "getRulesStatus",
    responses(
        (status = 200, description = "The rules in use and the last reload", body = crate::rules::live::RulesStatus),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `ingest` and `read`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rules(State(app): State<App>, principal: Principal) -> Result<Response> {
    Ok(axum::Json(crate::app::rules::status(&app, &principal)?).into_response())
}

/// How a reprocess runs.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReprocessParams {
    /// `true`: only explain what the current rules make of it (as
    /// `POST /v1/ingest/explain`), writing nothing.
    pub dry_run: Option<bool>,
}

/// Sends a stored payload through the current rules again, after a rule was fixed:
/// explained with `dry_run=true`, otherwise ingested under a new logging id whose
/// record names the original in `reprocess_of` (scope `ingest`).
#[utoipa::path(post, path = "/v1/ingest/{logging_id}/reprocess", tag = "ingest", operation_id = "reprocessPayload",
    params(("logging_id" = String, Path, description = "The `logging_id` of the stored payload"), ReprocessParams),
    responses(
        (status = 200, description = "With `dry_run=true`: the explanation; otherwise the acknowledgement as `POST /v1/ingest` gives it (also `201`, `207`, `422`)", body = Object),
        (status = 201, description = "Every item accepted, something created", body = Object),
        (status = 400, description = "`dry_run` is not `true` or `false`, or the stored body cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `ingest`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payload in the key's business", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing accepted: the acknowledgement says why", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reprocess(
    State(app): State<App>,
    principal: Principal,
    Path(logging_id): Path<String>,
    Query(params): Query<ReprocessParams>,
) -> Result<Response> {
    let dry_run = params.dry_run.unwrap_or(false);
    Ok(
        match use_case::reprocess(&app, &principal, logging_id, dry_run).await? {
            use_case::Reprocessed::Explained(answer) => axum::Json(answer).into_response(),
            use_case::Reprocessed::Ingested(ack) => render(&ack),
        },
    )
}

/// The record of a received payload: the body as received, the rule, the outcome
/// and the answer sent (scope `ingest` or `read`).
#[utoipa::path(get, path = "/v1/ingest/{logging_id}", tag = "ingest", operation_id = "getPayloadRecord",
    params(("logging_id" = String, Path, description = "The `logging_id` of the acknowledgement")),
    responses(
        (status = 200, description = "The record", body = PayloadRecord),
        (status = 400, description = "The id cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `ingest` and `read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payload in the key's business", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn record(
    State(app): State<App>,
    principal: Principal,
    Path(logging_id): Path<String>,
) -> Result<Response> {
    let use_case::PayloadRecord {
        record: found,
        body,
        response,
        key,
    } = use_case::record(&app, &principal, logging_id).await?;
    Ok(axum::Json(PayloadRecord {
        key,
        source: found.source,
        reprocess_of: found.reprocess_of,
        logging_id: found.logging_id,
        received_at: found.received_at,
        content_type: found.content_type,
        body_sha256: found.body_sha256,
        body,
        rule: found.rule,
        operation: found.operation,
        entity: found.entity,
        outcome: found.outcome,
        response,
    })
    .into_response())
}
