//! Bearer API-key authentication for `/v1/*`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::limits::RateLimits;
use crate::app::App;
use crate::error::{AuthFailure, Error};
use crate::store::key_cache::KeyCache;
use crate::store::keys::{self, Principal};

impl FromRequestParts<App> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &App) -> Result<Self, Error> {
        let malformed = Error::Unauthorized(AuthFailure::Malformed);
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(Error::Unauthorized(AuthFailure::Missing))?
            .to_str()
            .map_err(|_| Error::Unauthorized(AuthFailure::Malformed))?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(Error::Unauthorized(AuthFailure::Malformed));
        }
        let token = token.trim();
        let found = match parts.extensions.get::<Arc<KeyCache>>() {
            Some(cache) => cache.authenticate(&state.db, token).await?,
            None => keys::authenticate(&state.db, token).await?,
        };
        let principal = found.ok_or(Error::Unauthorized(AuthFailure::Unknown))?;
        let route = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str());
        crate::app::access::http(&principal, parts.method.as_str(), route)?;
        tracing::Span::current().record("business", principal.business_slug.as_str());
        if let Some(limits) = parts.extensions.get::<Arc<RateLimits>>() {
            limits.check(&principal)?;
        }
        Ok(principal)
    }
}
