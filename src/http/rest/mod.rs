//! The REST resource API: shipments and orders with their lines, pallets,
//! documents, references and exceptions. Handlers parse, call `app::shipments` or
//! `app::orders`, and render; the OpenAPI document is generated from them.

pub mod activity;
pub mod body;
pub mod master;
pub mod orders;
pub mod outbound;
pub mod shipments;
pub mod sources;

use axum::http::header::{ETAG, IF_MATCH, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::app::{App, Expected};
use crate::domain::Scope;
use crate::error::{Error, ProblemCode, Result};
use crate::store::Cleared;
use crate::store::keys::Principal;
use crate::store::listing::Page;

/// Most rows one page may hold.
pub const MAX_PAGE: u64 = 200;
/// Rows per page when `limit` is not given.
pub const DEFAULT_PAGE: u64 = 50;

/// `after` and `limit`, shared by every listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

impl PageParams {
    /// The store's page, or `400 invalid_query_parameter`.
    pub fn page(&self) -> Result<Page> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(bad_query(format!(
                "limit must be 1 to {MAX_PAGE}, not {limit}"
            )));
        }
        let after = match self.after.as_deref() {
            None => None,
            Some(cursor) => Some(crate::app::cursor_row(cursor).ok_or_else(|| {
                bad_query(format!(
                    "after `{cursor}` is not a cursor this API gave out (use `next_cursor`)"
                ))
            })?),
        };
        Ok(Page { after, limit })
    }
}

pub(crate) fn bad_query(detail: String) -> Error {
    Error::BadRequest {
        code: ProblemCode::InvalidQueryParameter,
        detail,
    }
}

/// A malformed path segment: `400 invalid_path_parameter`.
pub(crate) fn bad_path(detail: String) -> Error {
    Error::BadRequest {
        code: ProblemCode::InvalidPathParameter,
        detail,
    }
}

/// Longest text a search filter takes.
pub const MAX_FILTER_CHARS: usize = 256;

/// The columns a patch's `null` members clear. Each clearable member names its
/// columns; `parent.*` covers the members of an object that is replaced whole
/// (nothing more to clear). A member not listed cannot be cleared: a 422 says so.
pub fn cleared(nulls: &[String], clearable: &[(&str, &[&'static str])]) -> Result<Cleared> {
    let mut columns = Vec::new();
    for null in nulls {
        let whole = null
            .split_once('.')
            .map(|(parent, _)| format!("{parent}.*"));
        let found = clearable
            .iter()
            .find(|(member, _)| member == null || whole.as_deref() == Some(*member));
        match found {
            Some((_, names)) => columns.extend(names.iter().copied()),
            None => {
                return Err(body::invalid(
                    format!("$.{null}"),
                    "cannot be cleared: leave it out to keep it, or send a value".into(),
                ));
            }
        }
    }
    Ok(Cleared::new(columns))
}

/// A free-text query parameter: empty is no filter; more than [`MAX_FILTER_CHARS`]
/// characters is `400 invalid_query_parameter` (a NUL never gets here: the router
/// refuses a query holding `%00` before any handler runs).
pub fn text_param(name: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.chars().count() > MAX_FILTER_CHARS => Err(bad_query(format!(
            "{name} is longer than {MAX_FILTER_CHARS} characters"
        ))),
        Some(v) => Ok(Some(v)),
    }
}

/// A timestamp query parameter (RFC 3339).
pub fn time_param(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| bad_query(format!("{name} `{v}` is not an RFC 3339 timestamp: {e}")))
        })
        .transpose()
}

/// The `If-Match` a client sent: `*`, or one or more entity tags.
pub fn if_match(headers: &HeaderMap) -> Result<Option<Expected>> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| Error::BadRequest {
        code: ProblemCode::BadRequest,
        detail: "If-Match must be ASCII".into(),
    })?;
    if text.trim() == "*" {
        return Ok(Some(Expected::Any));
    }
    let tags = text
        .split(',')
        .map(|t| {
            t.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_string()
        })
        .filter(|t| !t.is_empty())
        .collect();
    Ok(Some(Expected::OneOf(tags)))
}

/// A record with its `ETag`, and `Location` when it was just created.
pub fn with_etag<T: Serialize>(
    status: StatusCode,
    version: &str,
    location: Option<String>,
    body: &T,
) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(ETAG, tag);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// The caller, checked for the `read` scope while the request's head is read: before
/// any query parameter or body, so a key without the scope gets `403` whatever it sends.
pub struct Reader(pub Principal);

/// The caller, checked for the `write` scope before anything else is read.
pub struct Writer(pub Principal);

impl FromRequestParts<App> for Reader {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Error> {
        let who = Principal::from_request_parts(parts, app).await?;
        who.require(Scope::Read)?;
        Ok(Reader(who))
    }
}

impl FromRequestParts<App> for Writer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Error> {
        let who = Principal::from_request_parts(parts, app).await?;
        who.require(Scope::Write)?;
        Ok(Writer(who))
    }
}
