//! Signed webhook pushes to real receivers.

mod delivery;
mod endpoints;
pub mod receiver;
mod ssrf;
pub mod verifier;

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::support::TestApp;

/// A key for `business` with every scope the webhook tests need.
pub async fn key(app: &TestApp, business: &str) -> String {
    app.key(business, &[Scope::Ingest, Scope::Read, Scope::Webhooks])
        .await
}

/// Registers `url` for the business; returns (endpoint id, secret).
pub async fn register(app: &TestApp, key: &str, body: Value) -> (i64, String) {
    let response = app.post_json("/v1/webhooks/endpoints", key, &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    (
        created["id"].as_i64().unwrap(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

pub async fn register_url(app: &TestApp, key: &str, url: &str) -> (i64, String) {
    register(app, key, json!({"url": url})).await
}

/// Posts one of the sample feeds to `/v1/ingest`.
pub async fn ingest(app: &TestApp, key: &str, feed: &str) -> Value {
    let response =
        crate::ingest::post(app, key, "application/json", crate::ingest::feed(feed)).await;
    assert!(
        response.status().is_success(),
        "{feed}: {}",
        response.status()
    );
    response.json().await.unwrap()
}
