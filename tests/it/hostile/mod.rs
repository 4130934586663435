//! Hostile input on every door: a corpus of malformed, oversized and lying requests
//! against ingest, explain, GraphQL and webhook endpoint management; property tests
//! over the rules engine, the body reader and the rules loader.

mod batches;
mod connections;
mod graphql;
mod ingest;
mod properties;
mod races;
mod rules;
mod webhooks;

use freightgate::store::Db;
use freightgate::store::entities::{
    document, idempotency_key, message, order, order_item, pallet, shipment, webhook_endpoint,
};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::support::TestApp;

/// Rows of every table a request could write to, to prove nothing partial was.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts([u64; 8]);

pub async fn counts(db: &Db) -> Counts {
    Counts([
        shipment::Entity::find().count(db).await.unwrap(),
        order::Entity::find().count(db).await.unwrap(),
        order_item::Entity::find().count(db).await.unwrap(),
        pallet::Entity::find().count(db).await.unwrap(),
        document::Entity::find().count(db).await.unwrap(),
        message::Entity::find().count(db).await.unwrap(),
        webhook_endpoint::Entity::find().count(db).await.unwrap(),
        idempotency_key::Entity::find().count(db).await.unwrap(),
    ])
}

/// The server still answers a plain health check.
pub async fn assert_still_up(app: &TestApp) {
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the server must stay up");
}

/// Checks a 4xx problem+json with a non-empty detail; returns (status, body).
pub async fn client_problem(what: &str, response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.text().await.unwrap();
    assert!(
        (400..500).contains(&status),
        "{what}: status {status}: {text}"
    );
    assert_eq!(content_type, "application/problem+json", "{what}: {text}");
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
    assert_eq!(body["status"], status, "{what}: {body}");
    let code = body["code"].as_str().unwrap_or("");
    assert!(!code.is_empty(), "{what}: no code in {body}");
    let detail = body["detail"].as_str().unwrap_or("");
    assert!(detail.len() > 10, "{what}: no useful detail in {body}");
    (status, body)
}
mod websocket;
