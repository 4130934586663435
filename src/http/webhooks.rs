//! Webhook endpoint management (scope `webhooks`) and the message pull (scope `read`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Json, Path, Query, RawBody};
use crate::app::App;
use crate::domain::{DeliveryState, Scope, Slug};
use crate::error::{Error, ProblemCode, Result};
use crate::store::entities::{delivery, delivery_attempt, message, webhook_endpoint};
use crate::store::keys::Principal;
use crate::store::webhooks;
use crate::store::{outbox, tenancy};
use crate::webhooks::manage::{self, EndpointRequest};

fn invalid(path: &str, detail: String) -> Error {
    Error::invalid_field(path, detail)
}

fn view(e: &webhook_endpoint::Model) -> Value {
    json!({
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "event_types": e.event_types,
        "facilities": e.facilities,
        "disabled": e.disabled,
        "disabled_reason": e.disabled_reason,
        "previous_secret_expires_at": e.previous_secret_expires_at,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    })
}

fn with_secret(e: &webhook_endpoint::Model) -> Value {
    let mut body = view(e);
    body["secret"] = Value::String(e.secret.clone());
    body
}

/// `POST /v1/webhooks/endpoints`: 201 with the endpoint and its secret.
pub async fn create(
    State(state): State<App>,
    p: Principal,
    Json(body): Json<EndpointRequest>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let fields = manage::validate(&state.config, body).await?;
    let endpoint = manage::create(&state.db, p.business_id, fields).await?;
    Ok((StatusCode::CREATED, axum::Json(with_secret(&endpoint))).into_response())
}

/// `GET /v1/webhooks/endpoints`.
pub async fn list(State(state): State<App>, p: Principal) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let endpoints = webhooks::list_for(&state.db, p.business_id).await?;
    Ok(
        axum::Json(json!({"endpoints": endpoints.iter().map(view).collect::<Vec<_>>()}))
            .into_response(),
    )
}

/// `GET /v1/webhooks/endpoints/{id}`.
pub async fn get(State(state): State<App>, p: Principal, Path(id): Path<i64>) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    Ok(axum::Json(view(&webhooks::find(&state.db, p.business_id, id).await?)).into_response())
}

/// `PATCH /v1/webhooks/endpoints/{id}`.
pub async fn update(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
    Json(body): Json<EndpointRequest>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let endpoint = webhooks::find(&state.db, p.business_id, id).await?;
    let fields = manage::validate(&state.config, body).await?;
    Ok(axum::Json(view(&webhooks::update(&state.db, endpoint, fields).await?)).into_response())
}

/// `DELETE /v1/webhooks/endpoints/{id}`: 204.
pub async fn delete(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let endpoint = webhooks::find(&state.db, p.business_id, id).await?;
    webhooks::delete(&state.db, endpoint).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1/webhooks/endpoints/{id}/disable`.
pub async fn disable(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let endpoint = webhooks::find(&state.db, p.business_id, id).await?;
    let reason = Some("disabled through the API".to_string());
    Ok(axum::Json(view(
        &webhooks::set_disabled(&state.db, endpoint, true, reason).await?,
    ))
    .into_response())
}

/// `POST /v1/webhooks/endpoints/{id}/enable`.
pub async fn enable(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let endpoint = webhooks::find(&state.db, p.business_id, id).await?;
    Ok(axum::Json(view(
        &webhooks::set_disabled(&state.db, endpoint, false, None).await?,
    ))
    .into_response())
}

/// `GET /v1/webhooks/endpoints/{id}/secret`: the secret, on explicit request.
pub async fn secret(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let endpoint = webhooks::find(&state.db, p.business_id, id).await?;
    Ok(axum::Json(json!({"secret": endpoint.secret})).into_response())
}

/// Body of `rotate-secret`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    overlap_secs: Option<u64>,
}

/// `POST /v1/webhooks/endpoints/{id}/rotate-secret`: the new secret; the old one
/// keeps signing beside it for the overlap.
pub async fn rotate(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
    RawBody(body): RawBody,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    let endpoint = webhooks::find(&state.db, p.business_id, id).await?;
    let body: RotateBody = if body.iter().all(u8::is_ascii_whitespace) {
        RotateBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::BadRequest {
            code: ProblemCode::MalformedJson,
            detail: format!("the body is not a valid rotate request: {e}"),
        })?
    };
    let rotated = manage::rotate(&state.db, &state.config, endpoint, body.overlap_secs).await?;
    Ok(axum::Json(with_secret(&rotated)).into_response())
}

fn delivery_view(d: &delivery::Model, m: Option<&message::Model>) -> Value {
    json!({
        "id": d.id,
        "message_id": d.message_id,
        "webhook_id": m.map(|m| m.webhook_id.clone()),
        "event_type": m.map(|m| m.event_type.clone()),
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": d.created_at,
    })
}

/// Filters of the delivery and attempt lists.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    state: Option<DeliveryState>,
    limit: Option<u64>,
}

/// `GET /v1/webhooks/endpoints/{id}/deliveries?state=failed`.
pub async fn deliveries(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    webhooks::find(&state.db, p.business_id, id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = webhooks::deliveries(&state.db, id, q.state, limit).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|(d, m)| delivery_view(d, m.as_ref()))
        .collect();
    Ok(axum::Json(json!({"deliveries": items})).into_response())
}

fn attempt_view(a: &delivery_attempt::Model, d: &delivery::Model) -> Value {
    json!({
        "id": a.id,
        "delivery_id": d.id,
        "message_id": d.message_id,
        "attempt": a.attempt,
        "attempted_at": a.attempted_at,
        "status_code": a.status_code,
        "duration_ms": a.duration_ms,
        "response_body": a.response_body,
        "error": a.error,
    })
}

/// `GET /v1/webhooks/endpoints/{id}/attempts`: every attempt, newest first.
pub async fn attempts(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    webhooks::find(&state.db, p.business_id, id).await?;
    let rows = webhooks::attempts(&state.db, id, q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    let items: Vec<Value> = rows.iter().map(|(a, d)| attempt_view(a, d)).collect();
    Ok(axum::Json(json!({"attempts": items})).into_response())
}

/// `POST /v1/webhooks/endpoints/{id}/deliveries/{delivery_id}/replay`.
pub async fn replay(
    State(state): State<App>,
    p: Principal,
    Path((id, delivery_id)): Path<(i64, i64)>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    webhooks::find(&state.db, p.business_id, id).await?;
    let d = webhooks::replay(&state.db, id, delivery_id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(delivery_view(&d, None))).into_response())
}

/// Body of `recover`: a time range of messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

/// `POST /v1/webhooks/endpoints/{id}/recover`: re-queues dead-lettered deliveries.
pub async fn recover(
    State(state): State<App>,
    p: Principal,
    Path(id): Path<i64>,
    Json(body): Json<RecoverBody>,
) -> Result<Response> {
    p.require(Scope::Webhooks)?;
    webhooks::find(&state.db, p.business_id, id).await?;
    let until = body.until.unwrap_or_else(Utc::now);
    let requeued = webhooks::recover(&state.db, id, body.since, until).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"requeued": requeued})),
    )
        .into_response())
}

/// Query of the message pull.
#[derive(Debug, Deserialize)]
pub struct MessagesQuery {
    /// A message id (exclusive) or an RFC 3339 time.
    since: Option<String>,
    facility: Option<String>,
    limit: Option<u64>,
}

/// `GET /v1/messages?since=`: the business's messages in order, for catching up.
pub async fn messages(
    State(state): State<App>,
    p: Principal,
    Query(q): Query<MessagesQuery>,
) -> Result<Response> {
    p.require(Scope::Read)?;
    let (after_id, since) = match q.since.as_deref() {
        None => (0, None),
        Some(s) => match s.parse::<i64>() {
            Ok(id) => (id, None),
            Err(_) => {
                let at = DateTime::parse_from_rfc3339(s).map_err(|e| Error::BadRequest {
                    code: ProblemCode::InvalidQueryParameter,
                    detail: format!("`since` must be a message id or an RFC 3339 time: {e}"),
                })?;
                (0, Some(at.with_timezone(&Utc)))
            }
        },
    };
    let facility_id = match q.facility.as_deref() {
        Some(slug) => {
            let slug = Slug::parse(slug).map_err(|e| invalid("facility", e))?;
            let found = tenancy::find_facility(&state.db, p.business_id, &slug).await?;
            Some(found.map(|f| f.id).unwrap_or(-1))
        }
        None => None,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = outbox::messages_after(
        &state.db,
        p.business_id,
        after_id,
        since,
        facility_id,
        None,
        limit,
    )
    .await?;
    let next = rows.last().map(|m| m.id).unwrap_or(after_id);
    let items: Vec<Value> = rows
        .iter()
        .map(|m| {
            let envelope: Value = serde_json::from_str(&m.body).unwrap_or_default();
            json!({"id": m.id, "webhook_id": m.webhook_id, "type": m.event_type, "created_at": m.created_at, "message": envelope})
        })
        .collect();
    Ok(axum::Json(json!({"messages": items, "next": next.to_string()})).into_response())
}
