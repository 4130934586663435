//! `GET /v1/documents/{id}/content`: a stored document's bytes.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};

use super::extract::Path;
use crate::app::App;
use crate::domain::PublicId;
use crate::domain::Scope;
use crate::error::{Error, Problem, Result};
use crate::store::attach;
use crate::store::keys::Principal;

/// The bytes of a document of the key's business, with their MIME type.
#[utoipa::path(get, path = "/v1/documents/{id}/content", tag = "shipments", operation_id = "getDocumentContent",
    params(("id" = i64, Path, description = "The document's id")),
    responses(
        (status = 200, description = "The bytes, with the stored MIME type", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document in the key's business", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn content(
    State(state): State<App>,
    principal: Principal,
    Path(id): Path<PublicId>,
) -> Result<Response> {
    principal.require(Scope::Read)?;
    let document = attach::find_document(&state.db, principal.business_id, id.internal())
        .await?
        .ok_or(Error::NotFound {
            what: "document",
            id: id.to_string(),
        })?;
    let mime = HeaderValue::from_str(&document.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let name: String = document
        .file_name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("inline"));
    let mut response = document.content.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, mime);
    headers.insert(CONTENT_DISPOSITION, disposition);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}
