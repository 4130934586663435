//! Extractors whose rejections are problem+json, not axum's plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};

use crate::error::Error;

/// A JSON body; malformed JSON, wrong types, a wrong content type and an oversized
/// body are all answered with problem+json.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

/// A path parameter that answers 400 problem+json when it does not parse.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

/// Query parameters that answer 400 problem+json when they do not parse.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

/// The raw request body; an oversized one is a 413 problem.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(Error::from)
    }
}
