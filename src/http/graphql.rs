//! `/graphql` over HTTP per the GraphQL-over-HTTP spec: POST with JSON, GET for
//! queries only, `application/graphql-response+json` or `application/json` by
//! `Accept`, GraphiQL for browsers.

use std::collections::HashMap;

use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Variables};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequest, Query, State};
use axum::http::header::{ACCEPT, ALLOW, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::error::{Error, ProblemCode};
use crate::graphql::{self, AppSchema};
use crate::store::keys::Principal;

/// The response media types, by the spec's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// The response type the client accepts: the first acceptable entry with a
/// non-zero quality, `application/json` when none is sent; `None` when it accepts
/// neither.
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let mut ranges: Vec<(f32, usize, Media)> = Vec::new();
    for (position, entry) in accept.split(',').enumerate() {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let matched = match media.as_str() {
            "application/graphql-response+json" => Media::GraphqlResponse,
            "application/json" | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if quality > 0.0 {
            ranges.push((quality, position, matched));
        }
    }
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.first().map(|r| r.2)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// A GraphQL-shaped error answer (used before execution: bad request, no key, …).
fn failure(media: Media, status: StatusCode, code: ProblemCode, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    set_type(&mut response, media);
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn set_type(response: &mut Response, media: Media) {
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
}

fn from_error(media: Media, error: &Error) -> Response {
    let mut response = failure(media, error.status(), error.code(), &error.to_string());
    if let Some(seconds) = error.retry_after() {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
    response
}

fn not_acceptable() -> Response {
    failure(
        Media::Json,
        StatusCode::NOT_ACCEPTABLE,
        ProblemCode::NotAcceptable,
        "accepts application/graphql-response+json or application/json responses only",
    )
}

/// `GET /graphql`: GraphiQL for browsers, otherwise a query from the URL.
#[tracing::instrument(skip_all)]
pub async fn get(
    State(_state): State<App>,
    Extension(schema): Extension<AppSchema>,
    principal: Result<Principal, Error>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if wants_html(&headers) {
        return super::console::graphiql_page();
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let params: HashMap<String, String> = match Query::try_from_uri(&uri) {
        Ok(Query(params)) => params,
        Err(e) => {
            return failure(
                media,
                StatusCode::BAD_REQUEST,
                ProblemCode::BadRequest,
                &e.body_text(),
            );
        }
    };
    let request = match from_query_params(params).and_then(to_request) {
        Ok(request) => request,
        Err(message) => {
            return failure(
                media,
                StatusCode::BAD_REQUEST,
                ProblemCode::BadRequest,
                &message,
            );
        }
    };
    if is_mutation(&request) {
        let mut response = failure(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            ProblemCode::MethodNotAllowed,
            "mutations are only accepted with POST",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&schema, principal, media, request).await
}

/// `POST /graphql`: a JSON GraphQL request. The key is checked before the body is
/// read, so a client without one cannot hold a request slot by sending slowly.
#[tracing::instrument(skip_all)]
pub async fn post(
    State(state): State<App>,
    Extension(schema): Extension<AppSchema>,
    principal: Result<Principal, Error>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if let Err(error) = check_content_type(&headers) {
        return from_error(media, &error);
    }
    let principal = match principal {
        Ok(principal) => principal,
        Err(error) => return from_error(media, &error),
    };
    let body = match Bytes::from_request(request, &state).await {
        Ok(body) => body,
        Err(rejection) => return from_error(media, &Error::from(rejection)),
    };
    let request = match std::str::from_utf8(&body) {
        Err(e) => Err(format!(
            "the body is not valid UTF-8 (first bad byte at offset {})",
            e.valid_up_to()
        )),
        Ok(text) => match crate::ingest::body::strict_json(text) {
            Ok(value) => to_request(value),
            Err(e) => Err(format!("the body is not valid JSON: {e}")),
        },
    };
    match request {
        Ok(request) => execute(&schema, Ok(principal), media, request).await,
        Err(message) => failure(
            media,
            StatusCode::BAD_REQUEST,
            ProblemCode::BadRequest,
            &message,
        ),
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let value = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(
            "expected `Content-Type: application/json`".into(),
        ))
    }
}

/// GET parameters as the JSON object a POST would carry.
fn from_query_params(mut params: HashMap<String, String>) -> Result<Value, String> {
    let mut object = Map::new();
    if let Some(query) = params.remove("query") {
        object.insert("query".into(), Value::String(query));
    }
    if let Some(name) = params.remove("operationName") {
        object.insert("operationName".into(), Value::String(name));
    }
    for key in ["variables", "extensions"] {
        if let Some(raw) = params.remove(key) {
            let parsed = serde_json::from_str(&raw)
                .map_err(|e| format!("`{key}` is not a JSON object: {e}"))?;
            object.insert(key.into(), parsed);
        }
    }
    Ok(Value::Object(object))
}

/// Checks the request parameters' types and builds the request.
fn to_request(value: Value) -> Result<Request, String> {
    let Value::Object(mut object) = value else {
        return Err("the request must be a JSON object".into());
    };
    let query = match object.remove("query") {
        Some(Value::String(query)) => query,
        Some(_) => return Err("`query` must be a string".into()),
        None => return Err("`query` is missing".into()),
    };
    let mut request = Request::new(query);
    match object.remove("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name),
        Some(_) => return Err("`operationName` must be a string or null".into()),
    }
    match object.remove("variables") {
        None | Some(Value::Null) => {}
        Some(vars @ Value::Object(_)) => request = request.variables(Variables::from_json(vars)),
        Some(_) => return Err("`variables` must be an object or null".into()),
    }
    match object.remove("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("`extensions` must be an object or null".into()),
    }
    Ok(request)
}

/// Whether the operation the request selects is a mutation. A document that does
/// not parse is left for execution to report.
fn is_mutation(request: &Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let name = request.operation_name.as_deref();
    document.operations.iter().any(|(op_name, op)| {
        let selected = match (name, op_name) {
            (Some(wanted), Some(actual)) => wanted == actual.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        };
        selected && op.node.ty == OperationType::Mutation
    })
}

async fn execute(
    schema: &AppSchema,
    principal: Result<Principal, Error>,
    media: Media,
    request: Request,
) -> Response {
    let principal = match principal {
        Ok(principal) => principal,
        Err(error) => return from_error(media, &error),
    };
    let db = match schema.data::<App>() {
        Some(state) => state.db.clone(),
        None => {
            return from_error(
                media,
                &Error::Internal(anyhow::anyhow!("schema without state")),
            );
        }
    };
    let response = schema
        .execute(request.data(graphql::request_data(principal, db)))
        .await;
    render(media, response)
}

/// Serialises a response. Errors raised before execution (no data, no error with
/// a path) are request errors: 400 without `data` for graphql-response+json.
fn render(media: Media, response: async_graphql::Response) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
    let status = if request_error && media == Media::GraphqlResponse {
        if let Some(object) = body.as_object_mut() {
            object.remove("data");
        }
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut http = (status, body.to_string()).into_response();
    set_type(&mut http, media);
    http
}
