//! `/v1/outbound…`: the outbound targets of the key's business, and what their
//! mappings make of an event, without sending.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::app::App;
use crate::app::outbound as use_case;
use crate::error::Result;
use crate::http::openapi::{ReadProblems, WriteProblems};
use crate::outbound::{Explained, TargetSummary};
use crate::store::keys::Principal;

/// The outbound targets of the key's business, with their mappings (scope `read`).
/// Their deliveries are listed under the webhook endpoint whose `url` is
/// `outbound:NAME`.
#[utoipa::path(get, path = "/v1/outbound/targets", tag = "outbound", operation_id = "listOutboundTargets",
    responses(
        (status = 200, description = "The targets", body = Vec<TargetSummary>),
        ReadProblems,
    ))]
pub async fn targets(State(app): State<App>, who: Principal) -> Result<Response> {
    Ok(axum::Json(use_case::targets(&app, &who)?).into_response())
}

/// What every mapping of the key's business makes of an event (a webhook body:
/// `type`, `timestamp`, `data`), without sending: whether it fires, or why not, and
/// the request or file it would send (scope `read`).
#[utoipa::path(post, path = "/v1/outbound/explain", tag = "outbound", operation_id = "explainOutbound",
    request_body(content = Object, description = "An event, as a webhook push carries it"),
    responses(
        (status = 200, description = "Each mapping of the business's targets", body = Vec<Explained>),
        WriteProblems,
    ))]
pub async fn explain(
    State(app): State<App>,
    who: Principal,
    crate::http::extract::Json(event): crate::http::extract::Json<Value>,
) -> Result<Response> {
    Ok(axum::Json(use_case::explain(&app, &who, event)?).into_response())
}
