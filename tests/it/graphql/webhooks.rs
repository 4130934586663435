//! Webhook endpoint management through GraphQL, on the same services as REST.

use std::time::Duration;

use serde_json::json;

use super::{data, error_code};
use crate::support::TestApp;
use crate::webhooks::receiver::Receiver;
use crate::webhooks::verifier::signed_with;
use crate::webhooks::{ingest, key};

const CREATE: &str = "mutation($input: WebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes disabled } } }";

#[tokio::test]
async fn endpoints_are_managed_through_graphql_and_receive_signed_pushes() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    receiver.script(&[(500, None)]);
    let input = json!({"input": {"url": receiver.url, "eventTypes": ["order.created"]}});
    let created = data(&app, &key, CREATE, input).await["createWebhookEndpoint"].clone();
    let id = created["endpoint"]["id"].as_i64().unwrap();
    assert_eq!(created["endpoint"]["eventTypes"], json!(["order.created"]));
    let rotated = data(
        &app,
        &key,
        "mutation($id: Int!) { rotateWebhookSecret(id: $id) { secret } }",
        json!({"id": id}),
    )
    .await;
    let secret = rotated["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(secret, created["secret"]);
    ingest(&app, &key, "tms-order-create.json").await;
    let pushes = receiver
        .wait_for(Duration::from_secs(15), |p| p.len() >= 2)
        .await;
    assert!(
        signed_with(&pushes[1], &secret)
            && signed_with(&pushes[1], created["secret"].as_str().unwrap())
    );
    let query = "query($id: Int!) { webhookEndpoint(id: $id) { attempts { attempt statusCode } deliveries { state webhookId } } }";
    let started = std::time::Instant::now();
    loop {
        let found = data(&app, &key, query, json!({"id": id})).await["webhookEndpoint"].clone();
        // Deliveries and attempts are two reads: wait until both show the success.
        let attempts = found["attempts"].as_array().map_or(0, Vec::len);
        if found["deliveries"][0]["state"] == "delivered" && attempts >= 2 {
            assert_eq!(found["attempts"][1]["statusCode"], 500);
            assert_eq!(
                found["deliveries"][0]["webhookId"],
                pushes[0].header("webhook-id")
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{found}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let disabled = data(
        &app,
        &key,
        "mutation($id: Int!) { disableWebhookEndpoint(id: $id) { disabled } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(disabled["disableWebhookEndpoint"]["disabled"], true);
}

#[tokio::test]
async fn graphql_refuses_private_targets_and_other_businesses_endpoints() {
    let app = TestApp::spawn_with(|c| c.webhooks_allow_networks = Vec::new()).await;
    let key = key(&app, "acme").await;
    let private = json!({"input": {"url": "http://10.0.0.7/hooks"}});
    assert_eq!(
        error_code(&app, &key, CREATE, private).await,
        "validation_failed"
    );
    let public = json!({"input": {"url": "https://8.8.8.8/hooks"}});
    let id = data(&app, &key, CREATE, public).await["createWebhookEndpoint"]["endpoint"]["id"]
        .as_i64()
        .unwrap();
    let rival = crate::webhooks::key(&app, "zenith").await;
    let query = "query($id: Int!) { webhookEndpoint(id: $id) { url } }";
    assert_eq!(
        error_code(&app, &rival, query, json!({"id": id})).await,
        "not_found"
    );
    let reader = app.key("acme", &[freightgate::domain::Scope::Read]).await;
    assert_eq!(
        error_code(&app, &reader, "{ webhookEndpoints { id } }", json!({})).await,
        "forbidden"
    );
    let rotate =
        "mutation($id: Int!, $s: Int) { rotateWebhookSecret(id: $id, overlapSecs: $s) { secret } }";
    let (_, body) = super::post(&app, &key, rotate, json!({"id": id, "s": -5})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "validation_failed",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("negative"),
        "{body}"
    );
}
