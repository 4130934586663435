//! The HTTP surface: router, shared state and cross-cutting middleware.

mod auth;
pub mod console;
pub mod documents;
pub mod extract;
pub mod graphql;
mod graphql_ws;
pub mod health;
pub mod ingest;
pub mod limits;
pub mod openapi;
pub mod rest;
pub mod server;
pub mod webhooks;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, Response};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::App;
use crate::error::{Error, ProblemCode};
use crate::store::key_cache::KeyCache;

/// Header carrying the request id, generated when the client sends none.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete application router. `shedding` is raised when a request is refused
/// for want of capacity, and read by `/readyz`.
pub fn router(state: App, shedding: Arc<server::Shedding>) -> Router {
    let max_body = state.config.max_body_bytes;
    let in_flight = Arc::new(limits::InFlight::new(state.config.max_requests_per_key));
    let pace = limits::BodyPace::from_config(&state.config);
    let shed = shedding.clone();
    let rate_limits = Arc::new(limits::RateLimits::new(&state.config));
    let key_cache = Arc::new(KeyCache::new(state.config.api_key_cache_ttl()));
    // One semaphore for all routes: axum applies layers route by route, and the plain
    // ConcurrencyLimitLayer would make one per route.
    let overload = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(move |error| {
            limits::overload_error(shed.clone(), error)
        }))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(
            state.config.max_concurrent_requests,
        ))
        .timeout(state.config.request_timeout());
    let api = Router::new()
        .route(
            "/v1/shipments",
            get(rest::shipments::list).post(rest::shipments::create),
        )
        .route(
            "/v1/shipments/{id}",
            get(rest::shipments::get)
                .put(rest::shipments::replace)
                .patch(rest::shipments::patch),
        )
        .route("/v1/shipments/{id}/cancel", post(rest::shipments::cancel))
        .route("/v1/shipments/{id}/pallets", get(rest::shipments::pallets))
        .route(
            "/v1/shipments/{id}/stops/{seq}",
            axum::routing::patch(rest::shipments::report_stop),
        )
        .route(
            "/v1/shipments/{id}/documents",
            get(rest::shipments::documents),
        )
        .route(
            "/v1/shipments/{id}/references",
            get(rest::shipments::references),
        )
        .route(
            "/v1/shipments/{id}/exceptions",
            get(rest::shipments::exceptions),
        )
        .route(
            "/v1/orders",
            get(rest::orders::list).post(rest::orders::create),
        )
        .route(
            "/v1/orders/{id}",
            get(rest::orders::get)
                .put(rest::orders::replace)
                .patch(rest::orders::patch),
        )
        .route("/v1/orders/{id}/cancel", post(rest::orders::cancel))
        .route("/v1/orders/{id}/items", post(rest::orders::add_items))
        .route(
            "/v1/orders/{id}/items/{key}",
            axum::routing::delete(rest::orders::remove_item),
        )
        .route("/v1/parties", get(rest::master::list_parties))
        .route(
            "/v1/parties/{code}",
            get(rest::master::get_party)
                .put(rest::master::put_party)
                .patch(rest::master::patch_party)
                .delete(rest::master::archive_party),
        )
        .route("/v1/resources", get(rest::master::list_resources))
        .route(
            "/v1/resources/{code}",
            get(rest::master::get_resource)
                .put(rest::master::put_resource)
                .patch(rest::master::patch_resource)
                .delete(rest::master::archive_resource),
        )
        .route(
            "/v1/facilities/{facility}/skus",
            get(rest::master::list_skus),
        )
        .route(
            "/v1/facilities/{facility}/skus/{sku_id}",
            get(rest::master::get_sku)
                .put(rest::master::put_sku)
                .patch(rest::master::patch_sku)
                .delete(rest::master::archive_sku),
        )
        .route("/v1/ingest", post(ingest::ingest).get(ingest::list))
        .route("/v1/ingest/explain", post(ingest::explain))
        .route("/v1/ingest/{logging_id}", get(ingest::record))
        .route("/v1/ingest/{logging_id}/reprocess", post(ingest::reprocess))
        .route("/v1/rules", get(ingest::rules))
        .route("/v1/outbound/targets", get(rest::outbound::targets))
        .route("/v1/outbound/explain", post(rest::outbound::explain))
        .route("/v1/sources", get(rest::sources::list))
        .route("/v1/sources/{name}", get(rest::sources::get))
        .route("/v1/sources/{name}/runs", get(rest::sources::runs))
        .route("/v1/sources/{name}/run", post(rest::sources::run))
        .route("/v1/sources/{name}/pause", post(rest::sources::pause))
        .route("/v1/sources/{name}/resume", post(rest::sources::resume))
        .route("/v1/key", get(rest::activity::key))
        .route("/v1/activity", get(rest::activity::activity))
        .route("/v1/messages", get(webhooks::messages))
        .route("/v1/webhooks/deliveries", get(webhooks::all_deliveries))
        .route("/v1/webhooks/event-types", get(webhooks::event_types))
        .route(
            "/v1/webhooks/deliveries/replay",
            post(webhooks::replay_matching),
        )
        .route("/v1/webhooks/endpoints/{id}/health", get(webhooks::health))
        .route(
            "/v1/webhooks/endpoints/{id}/test",
            post(webhooks::send_test),
        )
        .route(
            "/v1/webhooks/endpoints",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/v1/webhooks/endpoints/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/disable",
            post(webhooks::disable),
        )
        .route("/v1/webhooks/endpoints/{id}/enable", post(webhooks::enable))
        .route("/v1/webhooks/endpoints/{id}/secret", get(webhooks::secret))
        .route(
            "/v1/webhooks/endpoints/{id}/rotate-secret",
            post(webhooks::rotate),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/attempts",
            get(webhooks::attempts),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/deliveries/{delivery_id}/replay",
            post(webhooks::replay),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/recover",
            post(webhooks::recover),
        )
        .route("/v1/documents/{id}/content", get(documents::content));
    let graphql = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(graphql_ws::upgrade))
        .layer(axum::Extension(crate::graphql::schema(state.clone())));
    // Probes and metrics stay outside the limits so operators can see an overload.
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(openapi::routes())
        .merge(console::routes())
        .merge(api.merge(graphql).layer(overload))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::Extension(rate_limits))
        .layer(axum::Extension(key_cache))
        .layer(axum::Extension(shedding))
        .layer(middleware::from_fn_with_state(
            in_flight,
            limits::cap_in_flight_per_key,
        ))
        .layer(middleware::from_fn_with_state(pace, limits::pace_body))
        .layer(middleware::from_fn_with_state(
            max_body,
            refuse_announced_oversize,
        ))
        .layer(middleware::from_fn(refuse_nul_in_uri))
        .layer(middleware::from_fn(record_metrics))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

fn make_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        business = tracing::field::Empty,
    )
}

async fn not_found() -> Error {
    Error::NotFound {
        what: "route",
        id: "for this path".into(),
    }
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<axum::body::Body> {
    Error::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// Answers 400 when the path or the query holds a NUL character (`%00`): it cannot be
/// stored or compared as text (PostgreSQL refuses it), so no handler should see one.
async fn refuse_nul_in_uri(request: Request, next: Next) -> axum::response::Response {
    let uri = request.uri();
    let nul = |text: &str| text.contains("%00");
    if nul(uri.path()) {
        return Error::BadRequest {
            code: ProblemCode::InvalidPathParameter,
            detail: "the path holds a NUL character (%00), which is not accepted".into(),
        }
        .into_response();
    }
    if uri.query().is_some_and(nul) {
        return Error::BadRequest {
            code: ProblemCode::InvalidQueryParameter,
            detail: "the query holds a NUL character (%00), which is not accepted".into(),
        }
        .into_response();
    }
    next.run(request).await
}

/// Answers 413 at once when Content-Length announces more than the limit, instead
/// of waiting for a body that will be refused anyway (or never comes).
async fn refuse_announced_oversize(
    axum::extract::State(max_body): axum::extract::State<usize>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(length) if length > max_body as u64 => Error::PayloadTooLarge.into_response(),
        _ => next.run(request).await,
    }
}

/// Requests by route and status, and a latency histogram by route. Unmatched paths
/// share one label so scanners cannot blow up the series count.
async fn record_metrics(request: Request, next: Next) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    // Only the methods the API knows get their own series: any other is `other`, so
    // made-up method names cannot grow the series count.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("freightgate_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("freightgate_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
