//! Liveness, readiness and Prometheus metrics.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::server::Shedding;
use crate::app::App;
use crate::error::{Error, Problem};

/// The process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz", security(()),
    responses((status = 200, description = "The process is up: `{\"status\": \"ok\"}`", body = Object)))]
pub async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// The database answers and the process has not turned work away in the last few
/// seconds; 503 problem+json otherwise so load balancers send work elsewhere.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz", security(()),
    responses(
        (status = 200, description = "The database answers: `{\"status\": \"ready\"}`", body = Object),
        (status = 503, description = "The database does not answer (`unavailable`), or the process refused requests or connections for want of capacity in the last 5 s (`overloaded`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(
    State(state): State<App>,
    Extension(shedding): Extension<Arc<Shedding>>,
) -> Result<impl IntoResponse, Error> {
    if shedding.is_shedding() {
        return Err(Error::Overloaded);
    }
    state.db.ping().await.map_err(Error::Unavailable)?;
    Ok(axum::Json(json!({"status": "ready"})))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics", security(()),
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<App>) -> impl IntoResponse {
    let (open, idle) = crate::store::pool_stats(&state.db);
    metrics::gauge!("db_pool_connections", "state" => "open").set(open as f64);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("db_pool_max_connections").set(state.config.db_max_connections as f64);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::metrics_handle().render(),
    )
}
