//! The corpus against webhook endpoint management.

use serde_json::json;

use super::{assert_still_up, client_problem, counts};
use crate::support::TestApp;
use crate::webhooks::{key, register_url};

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(key)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn hostile_endpoint_requests_are_4xx_problems_and_change_nothing() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let (id, _) = register_url(&app, &key, "http://127.0.0.1:9999/hooks").await;
    let before = counts(&app.db).await;
    let json = Some("application/json");
    let long_url = format!("http://127.0.0.1:9999/{}", "a".repeat(1024 * 1024));
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("empty body", json, Vec::new()),
        ("truncated", json, b"{\"url\": \"http://127.0".to_vec()),
        (
            "invalid UTF-8",
            json,
            b"{\"url\": \"http://\xff\"}".to_vec(),
        ),
        (
            "10,000-deep",
            json,
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        ),
        ("url not a string", json, br#"{"url": 5}"#.to_vec()),
        ("no url", json, br#"{"description": "x"}"#.to_vec()),
        (
            "1 MB url",
            json,
            json!({"url": long_url}).to_string().into_bytes(),
        ),
        (
            "1 MB description",
            json,
            json!({"url": "http://127.0.0.1:9999/h", "description": "d".repeat(1024 * 1024)})
                .to_string()
                .into_bytes(),
        ),
        (
            "NUL in host",
            json,
            br#"{"url": "http://127.0\u0000.0.1:9/h"}"#.to_vec(),
        ),
        (
            "NUL in description",
            json,
            br#"{"url": "http://127.0.0.1:9999/h", "description": "a\u0000b"}"#.to_vec(),
        ),
        (
            "unknown event type",
            json,
            br#"{"url": "http://127.0.0.1:9999/h", "event_types": ["x"]}"#.to_vec(),
        ),
        (
            "10,000 event types",
            json,
            json!({"url": "http://127.0.0.1:9999/h", "event_types": vec!["order.created"; 10_000]})
                .to_string()
                .into_bytes(),
        ),
        (
            "javascript url",
            json,
            br#"{"url": "javascript:alert(1)"}"#.to_vec(),
        ),
        (
            "wrong content type",
            Some("text/plain"),
            br#"{"url": "http://127.0.0.1:9999/h"}"#.to_vec(),
        ),
        (
            "missing content type",
            None,
            br#"{"url": "http://127.0.0.1:9999/h"}"#.to_vec(),
        ),
    ];
    let item = format!("/v1/webhooks/endpoints/{id}");
    for (what, content_type, body) in cases {
        let created = send(
            &app,
            reqwest::Method::POST,
            "/v1/webhooks/endpoints",
            &key,
            content_type,
            body.clone(),
        )
        .await;
        client_problem(&format!("create: {what}"), created).await;
        if what != "no url" {
            let patched = send(
                &app,
                reqwest::Method::PATCH,
                &item,
                &key,
                content_type,
                body,
            )
            .await;
            client_problem(&format!("update: {what}"), patched).await;
        }
    }
    for path in [
        "/v1/webhooks/endpoints/not-a-number".to_string(),
        "/v1/webhooks/endpoints/99999999999999999999999".to_string(),
        "/v1/webhooks/endpoints/-1/secret".to_string(),
        format!("{item}/deliveries/%00/replay"),
        format!("{item}/deliveries/abc/replay"),
    ] {
        let response = send(&app, reqwest::Method::GET, &path, &key, None, Vec::new()).await;
        client_problem(&path, response).await;
        let response = send(
            &app,
            reqwest::Method::POST,
            &path,
            &key,
            json,
            b"{}".to_vec(),
        )
        .await;
        client_problem(&path, response).await;
    }
    let messages = app.get("/v1/messages?since=yesterday", &key).await;
    client_problem("bad since", messages).await;
    let messages = app
        .get(&format!("/v1/messages?since={}", "9".repeat(5000)), &key)
        .await;
    client_problem("huge since", messages).await;
    assert_eq!(counts(&app.db).await, before, "nothing may change");
    assert_still_up(&app).await;
}

#[tokio::test]
async fn endpoints_per_business_are_capped_and_other_businesses_are_not_affected() {
    let app = TestApp::spawn_with(|c| c.webhooks_max_endpoints_per_business = 2).await;
    let northwind = key(&app, "northwind").await;
    let acme = key(&app, "acme").await;
    let endpoint = |n: u32| json!({"url": format!("http://127.0.0.1:9999/hook-{n}")});
    for n in 0..2 {
        let created = app
            .post_json("/v1/webhooks/endpoints", &northwind, &endpoint(n))
            .await;
        assert_eq!(created.status(), 201);
    }
    let refused = app
        .post_json("/v1/webhooks/endpoints", &northwind, &endpoint(3))
        .await;
    let problem = crate::support::assert_problem(refused, 422, "too_many_endpoints").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("webhooks_max_endpoints_per_business"),
        "{problem}"
    );
    // The same through GraphQL.
    let code = crate::graphql::error_code(
        &app,
        &northwind,
        "mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }",
        json!({"input": {"url": "http://127.0.0.1:9999/hook-4"}}),
    )
    .await;
    assert_eq!(code, "too_many_endpoints");
    let elsewhere = app
        .post_json("/v1/webhooks/endpoints", &acme, &endpoint(5))
        .await;
    assert_eq!(elsewhere.status(), 201);
}

#[tokio::test]
async fn a_payload_that_would_fan_out_past_the_delivery_cap_is_refused_whole() {
    use freightgate::store::entities::delivery;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn_with(|c| {
        c.webhooks_max_deliveries_per_payload = 7;
        c.webhooks_dispatcher = false;
    })
    .await;
    let key = key(&app, "acme").await;
    for n in 0..3 {
        let body = json!({"url": format!("http://127.0.0.1:9999/fan-{n}"), "event_types": ["order.created"]});
        let created = app.post_json("/v1/webhooks/endpoints", &key, &body).await;
        assert_eq!(created.status(), 201);
    }
    let order = |number: &str| {
        let mut doc: serde_json::Value =
            serde_json::from_str(&crate::ingest::feed("tms-order-create.json")).unwrap();
        doc["order_identifier"] = json!(number);
        doc.to_string()
    };
    // Two orders: 2 events x 3 endpoints = 6 deliveries, under the cap.
    let two = format!("{}\n{}", order("FAN-1"), order("FAN-2"));
    let accepted = crate::ingest::post(&app, &key, "application/x-ndjson", two).await;
    assert_eq!(accepted.status(), 201);
    let deliveries = delivery::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(deliveries, 6);
    // Three orders: 9 deliveries, over it: refused, nothing of it written.
    let before = counts(&app.db).await;
    let three = format!("{}\n{}\n{}", order("FAN-3"), order("FAN-4"), order("FAN-5"));
    let refused = crate::ingest::post(&app, &key, "application/x-ndjson", three).await;
    let problem = crate::support::assert_problem(refused, 413, "too_many_deliveries").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("webhooks_max_deliveries_per_payload"),
        "{problem}"
    );
    assert_eq!(counts(&app.db).await, before);
    assert_eq!(delivery::Entity::find().count(&app.db).await.unwrap(), 6);
}
