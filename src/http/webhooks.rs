//! Webhook endpoint management (scope `webhooks`) and the message pull (scope
//! `read`): parse, call `app::webhooks`, render.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::extract::{Path, Query, RawBody};
use super::rest::body::{self, Body};
use crate::app::App;
use crate::app::webhooks::{self as use_case, Since};
use crate::domain::PublicId;
use crate::domain::{DeliveryState, Slug};
use crate::error::{Error, Problem, ProblemCode, Result};
use crate::http::openapi::{ReadProblems, WriteProblems};
use crate::store::entities::{delivery, delivery_attempt, message, webhook_endpoint};
use crate::store::keys::Principal;
use crate::webhooks::manage::EndpointRequest;

/// A receiver of the business's pushes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    pub id: PublicId,
    pub url: String,
    pub description: Option<String>,
    /// Event types it receives; null: all.
    pub event_types: Option<Vec<String>>,
    /// Facility slugs it receives; null: all.
    pub facilities: Option<Vec<String>>,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    /// Until when the previous secret still signs beside the current one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signing secret: only in the answers of create and rotate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl EndpointView {
    fn new(e: webhook_endpoint::Model, with_secret: bool) -> Self {
        Self {
            id: e.id.into(),
            event_types: e.event_type_names(),
            facilities: e.facility_slugs(),
            url: e.url,
            description: e.description,
            disabled: e.disabled,
            disabled_reason: e.disabled_reason,
            previous_secret_expires_at: e.previous_secret_expires_at,
            created_at: e.created_at,
            updated_at: e.updated_at,
            secret: with_secret.then_some(e.secret),
        }
    }
}

/// The business's endpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointList {
    pub endpoints: Vec<EndpointView>,
}

/// One message on its way to one endpoint.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: PublicId,
    pub endpoint_id: PublicId,
    pub message_id: PublicId,
    /// The `webhook-id` header every attempt of this message carries.
    pub webhook_id: Option<String>,
    pub event_type: Option<String>,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl DeliveryView {
    fn new((d, m): use_case::Delivery) -> Self {
        Self {
            id: d.id.into(),
            endpoint_id: d.endpoint_id.into(),
            message_id: d.message_id.into(),
            webhook_id: m.as_ref().map(|m| m.webhook_id.clone()),
            event_type: m.map(|m| m.event_type),
            state: d.state,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
        }
    }
}

/// An endpoint's deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

/// One push and its answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub id: PublicId,
    pub delivery_id: PublicId,
    pub message_id: PublicId,
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// The first 4 KiB of the answer.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl AttemptView {
    fn new((a, d): (delivery_attempt::Model, delivery::Model)) -> Self {
        Self {
            id: a.id.into(),
            delivery_id: d.id.into(),
            message_id: d.message_id.into(),
            attempt: a.attempt,
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            response_body: a.response_body,
            error: a.error,
        }
    }
}

/// An endpoint's attempts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptList {
    pub attempts: Vec<AttemptView>,
}

/// The signing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SecretView {
    /// `whsec_` and the base64 key.
    pub secret: String,
}

/// How many deliveries were put back in the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Requeued {
    pub requeued: u64,
}

/// An endpoint to register, or the fields to change (unknown fields are refused).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    /// A public http(s) URL (see `webhooks_allow_networks`); required on create.
    pub url: Option<String>,
    pub description: Option<String>,
    /// Event types to receive; null or absent: all.
    pub event_types: Option<Vec<String>>,
    /// Facility slugs to receive; null or absent: all.
    pub facilities: Option<Vec<String>>,
}

impl From<EndpointBody> for EndpointRequest {
    fn from(b: EndpointBody) -> Self {
        EndpointRequest {
            url: b.url,
            description: b.description,
            event_types: b.event_types,
            facilities: b.facilities,
        }
    }
}

/// Registers an endpoint; the answer holds its secret.
#[utoipa::path(post, path = "/v1/webhooks/endpoints", tag = "webhooks", operation_id = "createWebhookEndpoint",
    request_body = EndpointBody,
    responses(
        (status = 201, description = "Registered, with its secret", body = EndpointView,
            links(
                ("GetEndpoint" = (operation_id = "getWebhookEndpoint", parameters(("id" = "$response.body#/id")))),
                ("Deliveries" = (operation_id = "listWebhookDeliveries", parameters(("id" = "$response.body#/id")))),
                ("Attempts" = (operation_id = "listWebhookAttempts", parameters(("id" = "$response.body#/id")))),
                ("Rotate" = (operation_id = "rotateWebhookSecret", parameters(("id" = "$response.body#/id")))),
                ("Disable" = (operation_id = "disableWebhookEndpoint", parameters(("id" = "$response.body#/id")))),
            )),
        WriteProblems,
    ))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    Body(body): Body<EndpointBody>,
) -> Result<Response> {
    let endpoint = use_case::create(&app, &p, body.into()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(EndpointView::new(endpoint, true)),
    )
        .into_response())
}

/// The business's endpoints.
#[utoipa::path(get, path = "/v1/webhooks/endpoints", tag = "webhooks", operation_id = "listWebhookEndpoints",
    responses(
        (status = 200, description = "The endpoints", body = EndpointList),
        ReadProblems,
    ))]
pub async fn list(State(app): State<App>, p: Principal) -> Result<Response> {
    let endpoints = use_case::list(&app, &p).await?;
    let endpoints = endpoints
        .into_iter()
        .map(|e| EndpointView::new(e, false))
        .collect();
    Ok(axum::Json(EndpointList { endpoints }).into_response())
}

/// One endpoint.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{id}", tag = "webhooks", operation_id = "getWebhookEndpoint",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointView),
        ReadProblems,
    ))]
pub async fn get(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    let endpoint = use_case::get(&app, &p, id.into()).await?;
    Ok(axum::Json(EndpointView::new(endpoint, false)).into_response())
}

/// Changes the fields given.
#[utoipa::path(patch, path = "/v1/webhooks/endpoints/{id}", tag = "webhooks", operation_id = "updateWebhookEndpoint",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body = EndpointBody,
    responses(
        (status = 200, description = "The changed endpoint", body = EndpointView),
        WriteProblems,
    ))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
    Body(body): Body<EndpointBody>,
) -> Result<Response> {
    let endpoint = use_case::update(&app, &p, id.into(), body.into()).await?;
    Ok(axum::Json(EndpointView::new(endpoint, false)).into_response())
}

/// Removes an endpoint and its pending deliveries.
#[utoipa::path(delete, path = "/v1/webhooks/endpoints/{id}", tag = "webhooks", operation_id = "deleteWebhookEndpoint",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        WriteProblems,
    ))]
pub async fn delete(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    use_case::delete(&app, &p, id.into()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Pauses pushes to an endpoint.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/disable", tag = "webhooks", operation_id = "disableWebhookEndpoint",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The disabled endpoint", body = EndpointView,
            links(("Enable" = (operation_id = "enableWebhookEndpoint", parameters(("id" = "$response.body#/id")))))),
        WriteProblems,
    ))]
pub async fn disable(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    let endpoint = use_case::set_disabled(&app, &p, id.into(), true).await?;
    Ok(axum::Json(EndpointView::new(endpoint, false)).into_response())
}

/// Resumes pushes to an endpoint.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/enable", tag = "webhooks", operation_id = "enableWebhookEndpoint",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The enabled endpoint", body = EndpointView),
        WriteProblems,
    ))]
pub async fn enable(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    let endpoint = use_case::set_disabled(&app, &p, id.into(), false).await?;
    Ok(axum::Json(EndpointView::new(endpoint, false)).into_response())
}

/// The endpoint's signing secret, on explicit request.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{id}/secret", tag = "webhooks", operation_id = "getWebhookSecret",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The secret", body = SecretView),
        ReadProblems,
    ))]
pub async fn secret(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    let secret = use_case::secret(&app, &p, id.into()).await?;
    Ok(axum::Json(SecretView { secret }).into_response())
}

/// Body of `rotate-secret` (may be empty).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the old secret keeps signing, in seconds (default
    /// `webhooks_secret_overlap_secs`, at most 30 days).
    overlap_secs: Option<u64>,
}

/// A new secret; the old one keeps signing beside it for the overlap.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/rotate-secret", tag = "webhooks", operation_id = "rotateWebhookSecret",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body(content = Option<RotateBody>, description = "Optional"),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = EndpointView),
        WriteProblems,
    ))]
pub async fn rotate(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
    RawBody(body): RawBody,
) -> Result<Response> {
    p.require(crate::domain::Scope::Webhooks)?;
    let body: RotateBody = if body.iter().all(u8::is_ascii_whitespace) {
        RotateBody::default()
    } else {
        body::parse(&body)?
    };
    let rotated = use_case::rotate(&app, &p, id.into(), body.overlap_secs).await?;
    Ok(axum::Json(EndpointView::new(rotated, true)).into_response())
}

/// Filters of the delivery and attempt lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only deliveries in this state.
    state: Option<DeliveryState>,
    /// Rows, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

/// The endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{id}/deliveries", tag = "webhooks", operation_id = "listWebhookDeliveries",
    params(("id" = i64, Path, description = "The endpoint's id"), ListQuery),
    responses(
        (status = 200, description = "Its deliveries", body = DeliveryList),
        ReadProblems,
    ))]
pub async fn deliveries(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    let rows = use_case::deliveries(&app, &p, id.into(), q.state, q.limit).await?;
    let deliveries = rows.into_iter().map(DeliveryView::new).collect();
    Ok(axum::Json(DeliveryList { deliveries }).into_response())
}

/// Filters of `GET /v1/webhooks/deliveries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllDeliveriesQuery {
    /// Only deliveries in this state (`failed`: dead-lettered).
    state: Option<DeliveryState>,
    /// Only this endpoint's (its id).
    endpoint: Option<PublicId>,
    /// Only messages of this event type, e.g. `shipment.created`.
    event_type: Option<String>,
    /// Written at or after (RFC 3339).
    since: Option<String>,
    /// Written before (RFC 3339).
    until: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// The business's deliveries to all its endpoints, newest first, a page at a time:
/// the dead letters of the last hour are `?state=failed&since=…`.
#[utoipa::path(get, path = "/v1/webhooks/deliveries", tag = "webhooks", operation_id = "listAllWebhookDeliveries",
    params(AllDeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = crate::app::Listing<DeliveryView>),
        ReadProblems,
    ))]
pub async fn all_deliveries(
    State(app): State<App>,
    p: Principal,
    Query(q): Query<AllDeliveriesQuery>,
) -> Result<Response> {
    use super::rest::{PageParams, text_param, time_param};
    let page = PageParams {
        after: q.after,
        limit: q.limit,
    }
    .page()?;
    let filter = use_case::DeliveryFilter {
        endpoint: q.endpoint.map(PublicId::internal),
        state: q.state,
        event_type: known_event_type(text_param("event_type", q.event_type)?, |detail| {
            super::rest::bad_query(detail)
        })?,
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
    };
    let found = use_case::all_deliveries(&app, &p, filter, page).await?;
    Ok(axum::Json(crate::app::Listing {
        items: found
            .items
            .into_iter()
            .map(DeliveryView::new)
            .collect::<Vec<_>>(),
        next_cursor: found.next_cursor,
    })
    .into_response())
}

/// The endpoint's attempts, newest first.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{id}/attempts", tag = "webhooks", operation_id = "listWebhookAttempts",
    params(("id" = i64, Path, description = "The endpoint's id"), ListQuery),
    responses(
        (status = 200, description = "Its attempts", body = AttemptList),
        ReadProblems,
    ))]
pub async fn attempts(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    let rows = use_case::attempts(&app, &p, id.into(), q.limit).await?;
    let attempts = rows.into_iter().map(AttemptView::new).collect();
    Ok(axum::Json(AttemptList { attempts }).into_response())
}

/// Sends one delivery again.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/deliveries/{delivery_id}/replay", tag = "webhooks", operation_id = "replayWebhookDelivery",
    params(("id" = i64, Path, description = "The endpoint's id"), ("delivery_id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "Queued again", body = DeliveryView),
        WriteProblems,
    ))]
pub async fn replay(
    State(app): State<App>,
    p: Principal,
    Path((id, delivery_id)): Path<(PublicId, PublicId)>,
) -> Result<Response> {
    let replayed = use_case::replay(&app, &p, id.into(), delivery_id.into()).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(DeliveryView::new(replayed)),
    )
        .into_response())
}

/// Body of `recover`: a time range of messages.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    since: DateTime<Utc>,
    /// Defaults to now.
    until: Option<DateTime<Utc>>,
}

/// Re-queues the endpoint's dead-lettered deliveries written in `[since, until)`.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/recover", tag = "webhooks", operation_id = "recoverWebhookEndpoint",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body = RecoverBody,
    responses(
        (status = 202, description = "How many were queued again", body = Requeued),
        WriteProblems,
    ))]
pub async fn recover(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
    Body(body): Body<RecoverBody>,
) -> Result<Response> {
    let requeued = use_case::recover(&app, &p, id.into(), body.since, body.until).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Requeued { requeued })).into_response())
}

/// An event type filter: one of ours, or the error `refuse` makes of its detail.
fn known_event_type(
    name: Option<String>,
    refuse: impl FnOnce(String) -> Error,
) -> Result<Option<String>> {
    match name {
        None => Ok(None),
        Some(name) => match use_case::unknown_event_type(&name) {
            None => Ok(Some(name)),
            Some(detail) => Err(refuse(detail)),
        },
    }
}

/// Which deliveries to send again: the business's dead letters unless narrowed
/// (unknown fields are refused).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayFilter {
    /// `failed` (the default: dead letters) or `delivered`.
    state: Option<DeliveryState>,
    /// Only this endpoint's (its id).
    #[schema(value_type = Option<i64>)]
    endpoint: Option<PublicId>,
    /// Only messages of this event type.
    event_type: Option<String>,
    /// Written at or after.
    since: Option<DateTime<Utc>>,
    /// Written before.
    until: Option<DateTime<Utc>>,
}

/// Sends again every delivery of the business matching the filter, at once: after
/// a receiver's outage, `{"since": …}` replays what was given up meanwhile.
#[utoipa::path(post, path = "/v1/webhooks/deliveries/replay", tag = "webhooks", operation_id = "replayWebhookDeliveries",
    request_body = ReplayFilter,
    responses(
        (status = 202, description = "How many were queued again", body = Requeued),
        WriteProblems,
    ))]
pub async fn replay_matching(
    State(app): State<App>,
    p: Principal,
    Body(body): Body<ReplayFilter>,
) -> Result<Response> {
    let filter = use_case::DeliveryFilter {
        endpoint: body.endpoint.map(PublicId::internal),
        state: body.state,
        event_type: known_event_type(body.event_type, |detail| {
            Error::invalid_field("$.event_type", detail)
        })?,
        since: body.since,
        until: body.until,
    };
    let requeued = use_case::replay_matching(&app, &p, filter).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Requeued { requeued })).into_response())
}

/// How an endpoint is doing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthView {
    /// The attempts counted below are those of the last this many hours.
    pub window_hours: i64,
    pub attempts: u64,
    /// Of them, answered 2xx.
    pub delivered: u64,
    /// `delivered / attempts`; null without attempts.
    pub success_rate: Option<f64>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The first failed attempt after the last success, while the last attempt failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Deliveries waiting for an attempt.
    pub backlog: u64,
    /// Deliveries given up.
    pub dead_letters: u64,
}

/// The endpoint's health: success rate over the last 24 hours, last success, since
/// when it fails, backlog and dead letters.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{id}/health", tag = "webhooks", operation_id = "getWebhookEndpointHealth",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Its health", body = HealthView),
        ReadProblems,
    ))]
pub async fn health(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    let h = use_case::health(&app, &p, id.into()).await?;
    Ok(axum::Json(HealthView {
        window_hours: use_case::HEALTH_WINDOW_HOURS,
        attempts: h.attempts,
        delivered: h.delivered,
        success_rate: (h.attempts > 0).then(|| h.delivered as f64 / h.attempts as f64),
        last_success_at: h.last_success_at,
        last_failure_at: h.last_failure_at,
        failing_since: h.failing_since,
        backlog: h.backlog,
        dead_letters: h.dead_letters,
    })
    .into_response())
}

/// What a test push carries.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEvent {
    /// The event type whose catalogue example is sent (default `shipment.created`).
    event_type: Option<String>,
}

/// Sends an example event to the endpoint now, signed like any push, whatever event
/// types it subscribes to; the message pull and subscriptions leave it out. The
/// answer is the delivery: follow it in the endpoint's deliveries and attempts.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/test", tag = "webhooks", operation_id = "sendWebhookTestEvent",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body(content = Option<TestEvent>, description = "Optional"),
    responses(
        (status = 202, description = "The test delivery, queued", body = DeliveryView),
        WriteProblems,
    ))]
pub async fn send_test(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<PublicId>,
    RawBody(raw): RawBody,
) -> Result<Response> {
    // The body is optional: none sends the default event type.
    let body: TestEvent = if raw.iter().all(u8::is_ascii_whitespace) {
        TestEvent::default()
    } else {
        body::parse(&raw)?
    };
    let name = body.event_type.as_deref().unwrap_or("shipment.created");
    let event_type = crate::domain::EventType::parse(name).ok_or_else(|| {
        Error::invalid_field(
            "$.event_type",
            use_case::unknown_event_type(name).unwrap_or_default(),
        )
    })?;
    let sent = use_case::send_test(&app, &p, id.into(), event_type).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(DeliveryView::new(sent))).into_response())
}

/// The event-type catalogue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventTypeList {
    pub event_types: Vec<use_case::EventTypeInfo>,
}

/// Every event type an endpoint can subscribe to, with when it is published and an
/// example push body (scope `webhooks` or `read`).
#[utoipa::path(get, path = "/v1/webhooks/event-types", tag = "webhooks", operation_id = "listWebhookEventTypes",
    responses(
        (status = 200, description = "The catalogue", body = EventTypeList),
        ReadProblems,
    ))]
pub async fn event_types(p: Principal) -> Result<Response> {
    p.require_either(crate::domain::Scope::Webhooks, crate::domain::Scope::Read)?;
    Ok(axum::Json(EventTypeList {
        event_types: use_case::event_types(),
    })
    .into_response())
}

/// Query of the message pull.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// A message id (exclusive) or an RFC 3339 time.
    since: Option<String>,
    /// Only this facility's messages (its slug).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    facility: Option<String>,
    /// Messages, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

/// One message as pulled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: PublicId,
    pub webhook_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    /// The envelope a push carries: `type`, `timestamp`, `data`.
    #[schema(value_type = Object)]
    pub message: Value,
}

/// A page of the message pull.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    /// Pass as `since` for the next page.
    pub next: String,
}

impl MessageView {
    fn new(m: message::Model) -> Self {
        Self {
            message: serde_json::from_str(&m.body).unwrap_or_default(),
            id: m.id.into(),
            webhook_id: m.webhook_id,
            event_type: m.event_type,
            created_at: m.created_at,
        }
    }
}

/// The business's messages in order, for catching up.
#[utoipa::path(get, path = "/v1/messages", tag = "webhooks", operation_id = "listMessages",
    params(MessagesQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, description = "A filter cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The facility is not a slug", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn messages(
    State(app): State<App>,
    p: Principal,
    Query(q): Query<MessagesQuery>,
) -> Result<Response> {
    p.require(crate::domain::Scope::Read)?;
    let since = match q.since.as_deref() {
        None => Since::Start,
        Some(s) => match s.parse::<i64>() {
            Ok(id) => Since::After(PublicId::from_public(id).internal()),
            Err(_) => {
                let at = DateTime::parse_from_rfc3339(s).map_err(|e| Error::BadRequest {
                    code: ProblemCode::InvalidQueryParameter,
                    detail: format!("`since` must be a message id or an RFC 3339 time: {e}"),
                })?;
                Since::Time(at.with_timezone(&Utc))
            }
        },
    };
    let facility = q
        .facility
        .as_deref()
        .map(|slug| Slug::parse(slug).map_err(|e| Error::invalid_field("facility", e)))
        .transpose()?;
    let page = use_case::messages(&app, &p, since, facility, q.limit).await?;
    Ok(axum::Json(MessagePage {
        messages: page.messages.into_iter().map(MessageView::new).collect(),
        next: PublicId::from(page.next).to_string(),
    })
    .into_response())
}
