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
    metrics::gauge!("freightgate_db_pool_connections", "state" => "open").set(open as f64);
    metrics::gauge!("freightgate_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("freightgate_db_pool_max_connections")
        .set(f64::from(state.config.db_pool_size()));
    crate::telemetry::record_memory(state.config.is_sqlite());
    // The queue is counted at scrape time, so the gauges hold between retries and
    // agree across instances; a database that does not answer leaves them as they were.
    let counted = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        crate::app::webhooks::backlog(&state),
    )
    .await;
    match counted {
        Ok(Ok(backlog)) => {
            let age = backlog
                .oldest_pending
                .map(|at| (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0)
                .unwrap_or(0.0);
            metrics::gauge!("freightgate_webhook_backlog").set(backlog.pending as f64);
            metrics::gauge!("freightgate_webhook_oldest_pending_age_seconds").set(age);
            metrics::gauge!("freightgate_webhook_dead_letters").set(backlog.failed as f64);
            metrics::gauge!("freightgate_webhook_endpoints_failing")
                .set(backlog.failing_endpoints as f64);
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e.report(), "cannot count the delivery queue for /metrics")
        }
        Err(_) => tracing::debug!("counting the delivery queue for /metrics took over 2 s"),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::metrics_handle().render(),
    )
}
