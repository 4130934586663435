//! Idempotency-Key: retries replay the first answer and never duplicate.

use freightgate::domain::Scope;
use freightgate::store::entities::order;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::ingest::feed;
use crate::support::{TestApp, assert_problem};

async fn send(app: &TestApp, key: &str, idempotency_key: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/v1/ingest"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("idempotency-key", idempotency_key)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let first = send(&app, &key, "retry-1", feed("tms-order-create.json")).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let retry = send(&app, &key, "retry-1", feed("tms-order-create.json")).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn a_rejection_is_replayed_too() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let body = feed("bad/missing-customer.json");
    let first = send(&app, &key, "bad-1", body.clone()).await;
    let first = assert_problem(first, 422, "validation_failed").await;
    let retry = send(&app, &key, "bad-1", body).await;
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(assert_problem(retry, 422, "validation_failed").await, first);
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_refused() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    send(&app, &key, "k-2", feed("tms-order-create.json")).await;
    let other = send(&app, &key, "k-2", feed("tms-order-cancel.json")).await;
    assert_problem(other, 422, "idempotency_key_reused").await;
}

#[tokio::test]
async fn keys_are_scoped_to_the_business() {
    let app = TestApp::spawn().await;
    let acme = app.key("acme", &[Scope::Ingest]).await;
    let other = app.key("zenith", &[Scope::Ingest]).await;
    assert_eq!(
        send(&app, &acme, "shared", feed("tms-order-create.json"))
            .await
            .status(),
        201
    );
    let theirs = send(&app, &other, "shared", feed("tms-order-create.json")).await;
    assert_eq!(
        theirs.status(),
        201,
        "another business's key of the same name is independent"
    );
    assert!(theirs.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn an_overlong_key_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let response = send(&app, &key, &"k".repeat(300), feed("tms-order-create.json")).await;
    assert_problem(response, 400, "invalid_idempotency_key").await;
}

#[tokio::test]
async fn twenty_concurrent_identical_requests_create_one_order_and_the_others_replay_it() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let body = feed("tms-order-create.json");
    let requests = (0..20).map(|_| send(&app, &key, "burst-1", body.clone()));
    let responses = futures_util::future::join_all(requests).await;
    let mut created = 0;
    for response in responses {
        let status = response.status().as_u16();
        let replayed = response.headers().get("idempotent-replayed").is_some();
        match status {
            201 if !replayed => created += 1,
            // The key is claimed in the payload's transaction: the others wait for
            // it and replay its answer instead of being told to come back.
            201 => {}
            other => panic!(
                "unexpected status {other}: {}",
                response.text().await.unwrap()
            ),
        };
    }
    assert_eq!(created, 1, "exactly one request did the work");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 1);
}
