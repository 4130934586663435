//! Idempotency-Key handling around the pipeline (IETF httpapi draft semantics): the
//! first answer is kept with a fingerprint of the request and replayed for retries;
//! a different request under the same key is refused.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use sha2::{Digest, Sha256};

use super::ack::Reply;
use super::writer::{KeyClaim, Written};
use super::{Incoming, ingest, write};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::entities::idempotency_key;
use crate::store::idempotency;

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

/// Runs the pipeline once per key: the key is claimed in the payload's own
/// transaction, so a key is either unused or holds a committed answer.
pub async fn ingest_once(
    state: &AppState,
    mut incoming: Incoming<'_>,
    key: Option<String>,
) -> Result<Response> {
    let Some(key) = key else {
        return Ok(ingest(state, incoming).await?.into_response());
    };
    let fingerprint = fingerprint(incoming.content_type, &incoming.body);
    let window = idempotency::Window {
        ttl: Duration::seconds(state.config.idempotency_ttl_secs as i64),
        // No request outlives the request timeout, so an older claim is abandoned;
        // twice the timeout leaves room for a commit already on its way.
        abandoned_after: Duration::milliseconds(2 * state.config.request_timeout_ms as i64),
    };
    let print = fingerprint.clone();
    incoming.key = Some(KeyClaim {
        key,
        fingerprint,
        window,
    });
    match write(state, incoming).await? {
        Written::Fresh(reply) => Ok(reply.into_response()),
        Written::Earlier(row) => replay(row, &print),
    }
}

/// The answer to a key used before: its stored answer, or why there is none.
fn replay(row: idempotency_key::Model, print: &str) -> Result<Response> {
    if row.fingerprint != print {
        return Err(Error::Invalid {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used for a different request; use a new key".into(),
            errors: Vec::new(),
        });
    }
    if row.state != "complete" {
        return Err(Error::Conflict {
            code: "idempotency_in_flight",
            detail: "a request with this Idempotency-Key is still being processed; retry later"
                .into(),
        });
    }
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
