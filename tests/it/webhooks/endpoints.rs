//! Managing endpoints: secrets, rotation, SSRF refusal, isolation.

use serde_json::{Value, json};

use super::{key, register, register_url};
use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn a_new_endpoint_gets_a_secret_shown_only_on_creation_and_request() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let (id, secret) = register(
        &app,
        &key,
        json!({"url": "http://127.0.0.1:9999/hooks", "description": "WMS"}),
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    let decoded =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &secret[6..]).unwrap();
    assert!(decoded.len() >= 24);
    let got: Value = app
        .get_json(&format!("/v1/webhooks/endpoints/{id}"), &key)
        .await;
    assert_eq!(got["description"], "WMS");
    assert!(got.get("secret").is_none(), "{got}");
    let listed: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    assert!(!listed.to_string().contains(&secret));
    let shown: Value = app
        .get_json(&format!("/v1/webhooks/endpoints/{id}/secret"), &key)
        .await;
    assert_eq!(shown["secret"], secret);
}

#[tokio::test]
async fn private_and_reserved_targets_are_refused_at_registration() {
    let app = TestApp::spawn_with(|c| c.webhooks_allow_networks = Vec::new()).await;
    let key = key(&app, "northwind").await;
    for url in [
        "http://127.0.0.1:8080/hooks",
        "http://10.0.0.5/hooks",
        "http://192.168.1.20/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hooks",
        "http://[fd00::1]/hooks",
        "http://localhost:8080/hooks",
        "file:///etc/passwd",
    ] {
        let response = app
            .post_json("/v1/webhooks/endpoints", &key, &json!({"url": url}))
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["path"], "$.url", "{url}: {problem}");
    }
}

#[tokio::test]
async fn unknown_event_types_and_fields_are_refused() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let body = json!({"url": "http://127.0.0.1:9999/h", "event_types": ["shipment.created", "shipment.exploded"]});
    let problem = assert_problem(
        app.post_json("/v1/webhooks/endpoints", &key, &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "$.event_types[1]");
    let typo = json!({"url": "http://127.0.0.1:9999/h", "evnt_types": []});
    assert_problem(
        app.post_json("/v1/webhooks/endpoints", &key, &typo).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn endpoints_of_another_business_are_not_found() {
    let app = TestApp::spawn().await;
    let northwind = key(&app, "northwind").await;
    let rival = key(&app, "southwind").await;
    let (id, _) = register_url(&app, &northwind, "http://127.0.0.1:9999/hooks").await;
    for path in [
        format!("/v1/webhooks/endpoints/{id}"),
        format!("/v1/webhooks/endpoints/{id}/secret"),
    ] {
        assert_problem(app.get(&path, &rival).await, 404, "not_found").await;
    }
    let listed: Value = app.get_json("/v1/webhooks/endpoints", &rival).await;
    assert_eq!(listed["endpoints"], json!([]));
}

#[tokio::test]
async fn managing_endpoints_needs_the_webhooks_scope() {
    let app = TestApp::spawn().await;
    let key = app
        .key("northwind", &[freightgate::domain::Scope::Read])
        .await;
    let response = app
        .post_json(
            "/v1/webhooks/endpoints",
            &key,
            &json!({"url": "http://127.0.0.1:9999/h"}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;
}

#[tokio::test]
async fn endpoints_can_be_updated_disabled_enabled_and_deleted() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let (id, _) = register_url(&app, &key, "http://127.0.0.1:9999/hooks").await;
    let path = format!("/v1/webhooks/endpoints/{id}");
    let patched: Value = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&key)
        .json(&json!({"event_types": ["pallet.processed"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["event_types"], json!(["pallet.processed"]));
    let disabled: Value = app
        .post_json(&format!("{path}/disable"), &key, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(disabled["disabled"], true);
    let enabled: Value = app
        .post_json(&format!("{path}/enable"), &key, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enabled["disabled"], false);
    let deleted = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get(&path, &key).await, 404, "not_found").await;
}
