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
    // An empty list would receive nothing, silently.
    for field in ["event_types", "facilities"] {
        let body = json!({"url": "http://127.0.0.1:9999/h", field: []});
        let problem = assert_problem(
            app.post_json("/v1/webhooks/endpoints", &key, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(
            problem["errors"][0]["path"],
            format!("$.{field}"),
            "{problem}"
        );
    }
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

#[tokio::test]
async fn management_bodies_of_the_wrong_shape_name_the_field_in_plain_words() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let (id, _) = register(&app, &key, json!({"url": "http://127.0.0.1:9999/hooks"})).await;
    let rotate = format!("/v1/webhooks/endpoints/{id}/rotate-secret");
    for (body, detail) in [
        (
            json!({"overlap_secs": -5}),
            "expected a whole number, 0 or more, found the number -5",
        ),
        (
            json!({"overlap_secs": "1h"}),
            r#"expected a whole number, 0 or more, found the text "1h""#,
        ),
        (json!({"overlap_secs": 3_000_000}), "more than 30 days"),
    ] {
        let problem = assert_problem(
            app.post_json(&rotate, &key, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["path"], "$.overlap_secs", "{problem}");
        let said = problem["errors"][0]["detail"].as_str().unwrap();
        assert!(said.contains(detail), "{body}: {said}");
    }
    let problem = assert_problem(
        app.post_json(&rotate, &key, &json!({"overlap": 60})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "$.overlap", "{problem}");

    // A missing field is named, and an empty range is refused, not answered with 0.
    let recover = format!("/v1/webhooks/endpoints/{id}/recover");
    let problem = assert_problem(
        app.post_json(&recover, &key, &json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "$.since", "{problem}");
    let backwards = json!({"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"});
    let problem = assert_problem(
        app.post_json(&recover, &key, &backwards).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "$.until", "{problem}");

    let test = format!("/v1/webhooks/endpoints/{id}/test");
    let problem = assert_problem(
        app.post_json(&test, &key, &json!({"event_type": "shipment.exploded"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["path"], "$.event_type", "{problem}");
    // The body is optional: none sends the default example event.
    let sent = app
        .client
        .post(app.url(&test))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["event_type"], "shipment.created", "{sent}");
}

#[tokio::test]
async fn a_key_with_neither_of_two_scopes_is_told_both() {
    let app = TestApp::spawn().await;
    let ingest_only = app
        .key("northwind", &[freightgate::domain::Scope::Ingest])
        .await;
    let response = app
        .client
        .get(app.url("/v1/webhooks/event-types"))
        .bearer_auth(&ingest_only)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 403, "forbidden").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("`webhooks` or `read`") || detail.contains("`read` or `webhooks`"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_message_pull_from_a_time_with_nothing_after_it_resumes_at_the_end() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    crate::ingest::post(
        &app,
        &key,
        "application/json",
        crate::ingest::feed("tms-order-create.json"),
    )
    .await;
    let everything: Value = app.get_json("/v1/messages", &key).await;
    let last = everything["next"].clone();
    assert_ne!(last, json!("0"), "{everything}");
    let later: Value = app
        .get_json("/v1/messages?since=2030-01-01T00:00:00Z", &key)
        .await;
    assert_eq!(later["messages"], json!([]), "{later}");
    assert_eq!(
        later["next"], last,
        "the next pull would start over: {later}"
    );
}
