//! Bearer API-key authentication for `/v1/*`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::limits::RateLimits;
use crate::app::App;
use crate::error::Error;
use crate::store::key_cache::KeyCache;
use crate::store::keys::{self, Principal};

impl FromRequestParts<App> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &App) -> Result<Self, Error> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(Error::Unauthorized)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(Error::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Error::Unauthorized);
        }
        let token = token.trim();
        let found = match parts.extensions.get::<Arc<KeyCache>>() {
            Some(cache) => cache.authenticate(&state.db, token).await?,
            None => keys::authenticate(&state.db, token).await?,
        };
        let principal = found.ok_or(Error::Unauthorized)?;
        tracing::Span::current().record("business", principal.business_slug.as_str());
        if let Some(limits) = parts.extensions.get::<Arc<RateLimits>>() {
            limits.check(&principal)?;
        }
        Ok(principal)
    }
}
