use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use freightgate::Error;
use freightgate::http::extract::Json;
use serde::Deserialize;

use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = TestApp::spawn().await;
    let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Shipment {
    number: String,
    pallets: u32,
}

/// A server using freightgate's JSON extractor under a 1 KiB body limit.
async fn json_server() -> String {
    async fn accept(Json(s): Json<Shipment>) -> Result<String, Error> {
        Ok(s.number)
    }
    let app = Router::new()
        .route("/echo", post(accept))
        .layer(DefaultBodyLimit::max(1024));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/echo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn post_json(
    url: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_400_problem_naming_the_position() {
    let url = json_server().await;
    let body = assert_problem(
        post_json(&url, "application/json", r#"{"number": "A"#).await,
        400,
        "malformed_json",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("line 1"),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_types_are_a_422_problem_naming_the_field() {
    let url = json_server().await;
    let response = post_json(
        &url,
        "application/json",
        r#"{"number": "A", "pallets": "two"}"#,
    )
    .await;
    let body = assert_problem(response, 422, "validation_failed").await;
    assert!(
        body["detail"].as_str().unwrap().contains("pallets"),
        "{body}"
    );
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let url = json_server().await;
    let response = post_json(&url, "text/plain", r#"{"number": "A", "pallets": 2}"#).await;
    assert_problem(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let url = json_server().await;
    let big = format!(r#"{{"number": "{}", "pallets": 1}}"#, "x".repeat(4096));
    assert_problem(
        post_json(&url, "application/json", big).await,
        413,
        "payload_too_large",
    )
    .await;
}
