//! Idempotency-Key handling around the pipeline (IETF httpapi draft semantics): the
//! first complete answer is kept with a fingerprint of the request and replayed for
//! retries; a different request under the same key is refused.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use sha2::{Digest, Sha256};

use super::ack::Reply;
use super::{Incoming, ingest};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::idempotency::{self, Claim};

/// Header a retried response carries.
pub const REPLAYED: &str = "idempotent-replayed";

/// The key a client sent, if any; checked for length and printable ASCII.
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let invalid = |detail: &str| Error::BadRequest {
        code: "invalid_idempotency_key",
        detail: detail.to_string(),
    };
    let text = value
        .to_str()
        .map_err(|_| invalid("the Idempotency-Key must be printable ASCII"))?;
    // Structured-field strings arrive quoted; the bare token form is accepted too.
    let key = text.trim().trim_matches('"');
    if key.is_empty() || key.len() > 255 {
        return Err(invalid("the Idempotency-Key must be 1 to 255 characters"));
    }
    if !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(invalid("the Idempotency-Key must be printable ASCII"));
    }
    Ok(Some(key.to_string()))
}

fn fingerprint(content_type: Option<&str>, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(content_type.unwrap_or("").as_bytes());
    hash.update([0]);
    hash.update(body);
    hex::encode(hash.finalize())
}

/// Runs the pipeline once per key: claims the key, or replays / refuses.
pub async fn ingest_once(
    state: &AppState,
    mut incoming: Incoming<'_>,
    key: Option<String>,
) -> Result<Response> {
    let Some(key) = key else {
        return Ok(ingest(state, incoming).await?.into_response());
    };
    let print = fingerprint(incoming.content_type, incoming.body);
    let window = idempotency::Window {
        ttl: Duration::seconds(state.config.idempotency_ttl_secs as i64),
        // No request outlives the request timeout, so an older claim is abandoned;
        // twice the timeout leaves room for a commit already on its way.
        abandoned_after: Duration::milliseconds(2 * state.config.request_timeout_ms as i64),
    };
    let business_id = incoming.principal.business_id;
    match idempotency::claim(&state.db, business_id, &key, &print, window).await? {
        Claim::Claimed(id) => {
            incoming.idempotency = Some(id);
            match ingest(state, incoming).await {
                Ok(reply) => Ok(reply.into_response()),
                Err(error) => {
                    // Our failure: free the key so the client's retry runs again.
                    if let Err(e) = idempotency::release(&state.db, id).await {
                        tracing::warn!(error = %e, "could not release an idempotency key");
                    }
                    Err(error)
                }
            }
        }
        Claim::Existing(row) if row.fingerprint != print => Err(Error::Invalid {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used for a different request; use a new key".into(),
            errors: Vec::new(),
        }),
        Claim::Existing(row) if row.state != "complete" => Err(Error::Conflict {
            code: "idempotency_in_flight",
            detail: "a request with this Idempotency-Key is still being processed; retry later"
                .into(),
        }),
        Claim::Existing(row) => {
            let status = row
                .response_status
                .and_then(|s| StatusCode::from_u16(s as u16).ok())
                .unwrap_or(StatusCode::OK);
            let body = row
                .response_body
                .and_then(|b| serde_json::from_str(&b).ok())
                .unwrap_or_default();
            let mut response = Reply { status, body }.into_response();
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            Ok(response)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        let mut headers = HeaderMap::new();
        assert_eq!(key_from(&headers).unwrap(), None);
        headers.insert(
            "idempotency-key",
            HeaderValue::from_static("\"8e03978e-40d5\""),
        );
        assert_eq!(
            key_from(&headers).unwrap().as_deref(),
            Some("8e03978e-40d5")
        );
        headers.insert(
            "idempotency-key",
            HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        );
        assert!(key_from(&headers).is_err());
    }

    #[test]
    fn the_fingerprint_covers_content_type_and_body() {
        assert_ne!(
            fingerprint(Some("text/csv"), b"a"),
            fingerprint(Some("application/json"), b"a")
        );
        assert_ne!(fingerprint(None, b"a"), fingerprint(None, b"b"));
    }
}
