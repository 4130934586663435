use freightgate::domain::Scope;

use crate::support::written;
use crate::support::{TestApp, assert_problem};

#[tokio::test]
async fn status_pull_without_a_key_is_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/v1/shipments/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let problem = assert_problem(response, 401, "unauthorized").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("no API key was sent"), "{detail}");
    assert!(detail.contains("keys create"), "{detail}");
}

#[tokio::test]
async fn a_missing_header_an_unknown_key_and_a_malformed_header_say_different_things() {
    let app = TestApp::spawn().await;
    let mut details = std::collections::BTreeSet::new();
    for header in [
        None,
        Some("Bearer fgk_not-a-real-key"),
        Some("Basic dXNlcjpwYXNz"),
    ] {
        let mut request = app.client.get(app.url("/v1/orders/1"));
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        let problem = assert_problem(request.send().await.unwrap(), 401, "unauthorized").await;
        details.insert(problem["detail"].as_str().unwrap().to_string());
    }
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(
        details
            .iter()
            .any(|d| d.contains("unknown or revoked") && d.contains("keys list")),
        "{details:?}"
    );
}

#[tokio::test]
async fn unknown_and_malformed_keys_are_401() {
    let app = TestApp::spawn().await;
    for header in [
        "Bearer fgk_not-a-real-key",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "fgk_x",
    ] {
        let response = app
            .client
            .get(app.url("/v1/orders/1"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_problem(response, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn a_key_without_the_read_scope_is_403() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest]).await;
    let body = assert_problem(app.get("/v1/shipments/1", &key).await, 403, "forbidden").await;
    assert!(body["detail"].as_str().unwrap().contains("read"), "{body}");
}

#[tokio::test]
async fn a_revoked_key_is_401() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read]).await;
    assert_eq!(app.get("/v1/shipments/1", &key).await.status(), 404);
    let id = freightgate::store::keys::list(&app.db).await.unwrap()[0]
        .0
        .id;
    written(&app.db, async |t| {
        freightgate::store::keys::revoke(t, id).await
    })
    .await
    .unwrap();
    assert_problem(app.get("/v1/shipments/1", &key).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let (stored, _) = freightgate::store::keys::list(&app.db)
        .await
        .unwrap()
        .remove(0);
    assert_ne!(stored.key_hash, key);
    assert!(!stored.key_hash.contains(&key[4..]));
    assert_eq!(stored.key_hash, freightgate::store::keys::hash(&key));
}
