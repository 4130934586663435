//! Server-side request forgery: private and reserved targets are refused at
//! registration in every IPv4 and IPv6 spelling and behind DNS names, and again at
//! delivery time (a name re-pointed after registration, a redirect).

use crate::support::written;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use freightgate::domain::Slug;
use freightgate::store::{self, webhooks::EndpointFields};
use serde_json::{Value, json};

use super::receiver::Receiver;
use super::{ingest, key};
use crate::support::{TestApp, assert_problem};

async fn refused(app: &TestApp, key: &str, url: &str) -> Value {
    let response = app
        .post_json("/v1/webhooks/endpoints", key, &json!({"url": url}))
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "$.url", "{url}: {problem}");
    problem
}

#[tokio::test]
async fn every_spelling_of_a_private_ipv4_or_ipv6_address_is_refused() {
    let app = TestApp::spawn_with(|c| c.webhooks_allow_networks = Vec::new()).await;
    let key = key(&app, "northwind").await;
    let loopback = refused(&app, &key, "http://127.0.0.1:9000/hooks").await;
    let detail = loopback["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("webhooks_allow_networks")
            && detail.contains("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS")
            && detail.contains("127.0.0.1/32"),
        "the refusal names the setting that allows it: {detail}"
    );
    for url in [
        // IPv4, in the forms URL parsers accept.
        "http://2130706433/hooks",
        "http://0x7f000001/hooks",
        "http://0177.0.0.1/hooks",
        "http://127.1/hooks",
        "http://0x7f.1/hooks",
        "http://0/hooks",
        "http://0.0.0.0/hooks",
        "http://172.16.0.1/hooks",
        "http://172.31.255.254/hooks",
        "http://100.64.0.1/hooks",
        "http://198.18.0.1/hooks",
        "http://192.0.0.1/hooks",
        "http://224.0.0.1/hooks",
        "http://255.255.255.255/hooks",
        "http://169.254.169.254./latest",
        // IPv6.
        "http://[::]/hooks",
        "http://[0:0:0:0:0:0:0:1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[::ffff:7f00:1]/hooks",
        "http://[::ffff:169.254.169.254]/hooks",
        "http://[::127.0.0.1]/hooks",
        "http://[fe80::1]/hooks",
        "http://[fc00::1]/hooks",
        "http://[fec0::1]/hooks",
        "http://[64:ff9b::a00:1]/hooks",
        "http://[2002:7f00:1::1]/hooks",
        "http://[2001:0:4136:e378::1]/hooks",
        "http://[2001:db8::1]/hooks",
        "http://[ff02::1]/hooks",
    ] {
        refused(&app, &key, url).await;
    }
}

#[tokio::test]
async fn dns_names_resolving_to_private_addresses_are_refused() {
    let app = TestApp::spawn_with(|c| c.webhooks_allow_networks = Vec::new()).await;
    let key = key(&app, "northwind").await;
    for url in [
        "http://localhost/hooks",
        "http://localhost./hooks",
        "http://LOCALHOST:8080/hooks",
        "https://localhost/hooks",
    ] {
        refused(&app, &key, url).await;
    }
}

/// Registers `url` for `business` straight in the store, as if it had passed the
/// check when the name still pointed somewhere public.
async fn stored_endpoint(app: &TestApp, business: &str, url: &str) -> i64 {
    let slug = Slug::parse(business).unwrap();
    let found = store::tenancy::find_business(&app.db, &slug).await.unwrap();
    let fields = EndpointFields {
        url: Some(url.to_string()),
        ..EndpointFields::default()
    };
    written(&app.db, async |t| {
        store::webhooks::create(
            t,
            found.unwrap().id,
            url.to_string(),
            fields,
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        )
        .await
    })
    .await
    .map(|created| crate::support::public_id(created.id))
    .unwrap()
}

async fn first_attempt_error(app: &TestApp, key: &str, endpoint: i64) -> Value {
    let started = std::time::Instant::now();
    loop {
        let attempts: Value = app
            .get_json(&format!("/v1/webhooks/endpoints/{endpoint}/attempts"), key)
            .await;
        if let Some(first) = attempts["attempts"].as_array().and_then(|a| a.first()) {
            return first.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no attempt: {attempts}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn at_delivery_a_name_or_address_now_private_is_not_connected_to() {
    let app = TestApp::spawn_with(|c| c.webhooks_allow_networks = Vec::new()).await;
    let key = key(&app, "northwind").await;
    let receiver = Receiver::start().await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let by_name =
        stored_endpoint(&app, "northwind", &format!("http://localhost:{port}/hooks")).await;
    let by_address = stored_endpoint(&app, "northwind", &receiver.url).await;
    ingest(&app, &key, "wms-shipment-with-orders.json").await;
    let named = first_attempt_error(&app, &key, by_name).await;
    let addressed = first_attempt_error(&app, &key, by_address).await;
    assert!(named["status_code"].is_null(), "{named}");
    assert!(named.to_string().contains("permitted"), "{named}");
    assert!(
        addressed.to_string().contains("private or reserved"),
        "{addressed}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.pushes().is_empty(),
        "a push reached a private address"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let inner = Receiver::start().await;
    let target = inner.url.clone();
    let redirect =
        Router::new().route(
            "/hooks",
            post(move || {
                let target = target.clone();
                async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirect).await });
    let (endpoint, _) = super::register_url(&app, &key, &url).await;
    ingest(&app, &key, "wms-shipment-with-orders.json").await;
    let attempt = first_attempt_error(&app, &key, endpoint).await;
    assert_eq!(attempt["status_code"], 307, "{attempt}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(inner.pushes().is_empty(), "the redirect was followed");
    let deliveries: Value = app
        .get_json(
            &format!("/v1/webhooks/endpoints/{endpoint}/deliveries"),
            &key,
        )
        .await;
    assert_ne!(
        deliveries["deliveries"][0]["state"], "delivered",
        "{deliveries}"
    );
}
