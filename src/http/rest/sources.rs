//! `/v1/sources…`: the pull sources of the key's business, their runs, a run now,
//! pause and resume.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::App;
use crate::app::sources::{self as use_case, RunView, SourceView};
use crate::error::{Problem, Result};
use crate::http::extract::{Path, Query};
use crate::http::openapi::ReadProblems;
use crate::store::keys::Principal;

/// The business's pull sources with their state and latest run (scope `read`).
#[utoipa::path(get, path = "/v1/sources", tag = "sources", operation_id = "listSources",
    responses(
        (status = 200, description = "The sources", body = Vec<SourceView>),
        ReadProblems,
    ))]
pub async fn list(State(app): State<App>, who: Principal) -> Result<Response> {
    Ok(axum::Json(use_case::list(&app, &who).await?).into_response())
}

/// One source with its state and latest run (scope `read`).
#[utoipa::path(get, path = "/v1/sources/{name}", tag = "sources", operation_id = "getSource",
    params(("name" = String, Path, description = "The source's name")),
    responses(
        (status = 200, description = "The source", body = SourceView),
        ReadProblems,
    ))]
pub async fn get(
    State(app): State<App>,
    who: Principal,
    Path(name): Path<String>,
) -> Result<Response> {
    Ok(axum::Json(use_case::get(&app, &who, &name).await?).into_response())
}

/// The page of `GET /v1/sources/{name}/runs`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsParams {
    /// Runs before this run id (the last id of the previous page).
    pub before: Option<i64>,
    /// Runs per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// The source's runs, newest first (scope `read`).
#[utoipa::path(get, path = "/v1/sources/{name}/runs", tag = "sources", operation_id = "listSourceRuns",
    params(("name" = String, Path, description = "The source's name"), RunsParams),
    responses(
        (status = 200, description = "The runs", body = Vec<RunView>),
        ReadProblems,
    ))]
pub async fn runs(
    State(app): State<App>,
    who: Principal,
    Path(name): Path<String>,
    Query(params): Query<RunsParams>,
) -> Result<Response> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(crate::error::Error::BadRequest {
            code: crate::error::ProblemCode::InvalidQueryParameter,
            detail: format!("limit {limit}: give 1 to 200"),
        });
    }
    Ok(axum::Json(use_case::runs(&app, &who, &name, limit, params.before).await?).into_response())
}

/// Runs the source now and answers the run once it ended (scope `ingest`). A run
/// the caller stops waiting for goes on.
#[utoipa::path(post, path = "/v1/sources/{name}/run", tag = "sources", operation_id = "runSource",
    params(("name" = String, Path, description = "The source's name")),
    responses(
        (status = 200, description = "The run, ended (`outcome` says how)", body = RunView),
        (status = 409, description = "`source_busy`: a run of the source is under way", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ))]
pub async fn run(
    State(app): State<App>,
    who: Principal,
    Path(name): Path<String>,
) -> Result<Response> {
    Ok(axum::Json(use_case::run_now(&app, &who, &name).await?).into_response())
}

/// Pauses the source's schedule (scope `ingest`); a manual run still runs.
#[utoipa::path(post, path = "/v1/sources/{name}/pause", tag = "sources", operation_id = "pauseSource",
    params(("name" = String, Path, description = "The source's name")),
    responses(
        (status = 200, description = "The source, paused", body = SourceView),
        ReadProblems,
    ))]
pub async fn pause(
    State(app): State<App>,
    who: Principal,
    Path(name): Path<String>,
) -> Result<Response> {
    Ok(axum::Json(use_case::set_paused(&app, &who, &name, true).await?).into_response())
}

/// Resumes the source's schedule (scope `ingest`); a run that fell due while it was
/// paused starts at once.
#[utoipa::path(post, path = "/v1/sources/{name}/resume", tag = "sources", operation_id = "resumeSource",
    params(("name" = String, Path, description = "The source's name")),
    responses(
        (status = 200, description = "The source, resumed", body = SourceView),
        ReadProblems,
    ))]
pub async fn resume(
    State(app): State<App>,
    who: Principal,
    Path(name): Path<String>,
) -> Result<Response> {
    Ok(axum::Json(use_case::set_paused(&app, &who, &name, false).await?).into_response())
}
