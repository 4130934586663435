//! `GET /v1/key` and `GET /v1/activity`: who the key is, and its business's recent
//! traffic (the console's sign-in and live chart).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::App;
use crate::app::activity::{self as use_case, Activity, KeyInfo};
use crate::error::{Problem, Result};
use crate::http::extract::Query;
use crate::store::keys::Principal;

/// The calling key: its business, name and scopes. Any valid key may ask.
#[utoipa::path(get, path = "/v1/key", tag = "keys", operation_id = "getCallingKey",
    responses(
        (status = 200, description = "The calling key", body = KeyInfo),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn key(State(app): State<App>, principal: Principal) -> Result<Response> {
    Ok(axum::Json(use_case::key(&app, &principal).await?).into_response())
}

/// The window of `GET /v1/activity`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// Minutes to cover, the current one included: 1 to 1440 (default 60).
    #[param(minimum = 1, maximum = 1440)]
    pub minutes: Option<u32>,
}

/// The business's recent traffic: payloads by outcome, minute by minute, and its
/// webhook queue (pending deliveries and dead letters) now (scope `ingest` or
/// `read`; the queue needs `webhooks` or `read`).
#[utoipa::path(get, path = "/v1/activity", tag = "ingest", operation_id = "getActivity",
    params(ActivityParams),
    responses(
        (status = 200, description = "Counts per minute and the queue", body = Activity),
        (status = 400, description = "`minutes` is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `ingest` and `read`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn activity(
    State(app): State<App>,
    principal: Principal,
    Query(params): Query<ActivityParams>,
) -> Result<Response> {
    let minutes = params.minutes.unwrap_or(60);
    Ok(axum::Json(use_case::activity(&app, &principal, minutes).await?).into_response())
}
