//! The shipped example sources (`examples/sources/`), run with the shipped rules
//! against their sample responses: the pallet network's consignments API, then its
//! updates feed with an edit and a cancellation, and the expected-shipments drop on a
//! real OpenSSH server. Only the partner's address and credentials are changed.

use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use freightgate::domain::Scope;
use freightgate::store::entities::{order, shipment};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::support::TestApp;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap()
}

/// Replaces `from` in `text`, which must hold it.
fn set(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` in {text}");
    text.replace(from, to)
}

/// The shipped rules and `sources` (file name, text) in directories of their own.
async fn gateway(sources: &[(&str, String)]) -> (TestApp, tempfile::TempDir) {
    let sources: Vec<(&str, &str)> = sources.iter().map(|(n, t)| (*n, t.as_str())).collect();
    TestApp::spawn_with_sources(&[], true, &sources, |_| {}).await
}

#[derive(serde::Deserialize)]
struct Paged {
    page: Option<u32>,
}

/// The network's two endpoints, answering the sample pages (the updates feed's
/// second page is empty), each checking its credentials.
async fn network() -> String {
    async fn consignments(headers: HeaderMap) -> Response {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer pn-token") {
            return axum::http::StatusCode::UNAUTHORIZED.into_response();
        }
        let page: Value =
            serde_json::from_str(&read("tests/feeds/pull/pallet-network-page.json")).unwrap();
        axum::Json(page).into_response()
    }
    async fn updates(headers: HeaderMap, Query(paged): Query<Paged>) -> Response {
        if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some("pn-key") {
            return axum::http::StatusCode::UNAUTHORIZED.into_response();
        }
        let page = match paged.page.unwrap_or(1) {
            1 => serde_json::from_str(&read("tests/feeds/pull/pallet-network-updates-page.json"))
                .unwrap(),
            n => json!({"updates": [], "page": n, "page_count": 1}),
        };
        axum::Json::<Value>(page).into_response()
    }
    let app = axum::Router::new()
        .route(
            "/v1/depots/312/consignments",
            axum::routing::get(consignments),
        )
        .route("/v1/depots/312/updates", axum::routing::get(updates));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn the_pallet_network_examples_create_then_amend_and_cancel_consignments() {
    let base = network().await;
    let secrets = tempfile::tempdir().unwrap();
    let (token, api_key) = (secrets.path().join("token"), secrets.path().join("api-key"));
    std::fs::write(&token, "pn-token\n").unwrap();
    std::fs::write(&api_key, "pn-key").unwrap();
    let origin = "https://api.pallet-network.example";
    let consignments = set(
        &set(&read("examples/sources/pallet-network.toml"), origin, &base),
        "token_env = \"PALLET_NETWORK_TOKEN\"",
        &format!("token_file = \"{}\"", token.display()),
    );
    let updates = set(
        &set(
            &read("examples/sources/pallet-network-updates.toml"),
            origin,
            &base,
        ),
        "value_env = \"PALLET_NETWORK_API_KEY\"",
        &format!("value_file = \"{}\"", api_key.display()),
    );
    let (app, _dirs) = gateway(&[
        ("pallet-network.toml", consignments),
        ("pallet-network-updates.toml", updates),
    ])
    .await;
    let key = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;

    let first = app.run_source(&key, "pallet-network-consignments").await;
    assert_eq!(
        (first["outcome"].as_str(), first["created"].as_i64()),
        (Some("succeeded"), Some(2)),
        "{first}"
    );
    let changes = app.run_source(&key, "pallet-network-updates").await;
    assert_eq!(changes["outcome"], "succeeded", "{changes}");
    assert_eq!(
        (
            changes["pages"].as_i64(),
            changes["items"].as_i64(),
            changes["updated"].as_i64(),
            changes["rejected"].as_i64()
        ),
        (Some(2), Some(2), Some(2), Some(0)),
        "two pages (the second empty), an edit and a cancellation: {changes}"
    );
    assert_eq!(changes["cursor_after"], "2026-12-05T09:40:51Z", "{changes}");
    // A refresh that finds the same page again changes nothing.
    let refresh = app.run_source(&key, "pallet-network-updates").await;
    assert_eq!(
        (refresh["unchanged"].as_i64(), refresh["updated"].as_i64()),
        (Some(2), Some(0)),
        "{refresh}"
    );

    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 2);
    let orders: Value = app.get_json("/v1/orders?limit=10", &key).await;
    let by_number = |n: &str| {
        orders["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["order_number"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} in {orders}"))
    };
    let cancelled = by_number("3129900000001");
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    assert_eq!(
        cancelled["cancel_reason"], "Cancelled by the shipper",
        "{cancelled}"
    );
    let amended = by_number("3129900000002");
    assert_eq!(
        amended["requested_ship_date"], "2026-12-09T00:00:00Z",
        "{amended}"
    );
    assert_eq!(
        amended["notes"], "Collection moved to Wednesday; tail-lift needed",
        "{amended}"
    );
}

#[tokio::test]
async fn the_expected_shipments_example_takes_the_csv_drop_from_a_real_sftp_server() {
    let Some(sshd) = crate::sources_files::sshd().await else {
        return;
    };
    let outbox = tempfile::tempdir().unwrap();
    let mut source = read("examples/sources/expected-shipments-sftp.toml");
    for (from, to) in [
        (
            "host = \"sftp.northwind.example\"".to_string(),
            format!("host = \"127.0.0.1\"\nport = {}", sshd.port),
        ),
        (
            "user = \"freightgate\"".to_string(),
            format!("user = \"{}\"", crate::sources_files::current_user()),
        ),
        (
            "key_file = \"/run/secrets/northwind_sftp_ed25519\"".to_string(),
            format!("key_file = \"{}\"", sshd.client_key.display()),
        ),
        (
            "path = \"/outbox\"".to_string(),
            format!("path = \"{}\"", outbox.path().display()),
        ),
        (
            "settle = \"5s\"".to_string(),
            "settle = \"200ms\"".to_string(),
        ),
    ] {
        source = set(&source, &from, &to);
    }
    let pinned = source
        .lines()
        .find(|l| l.starts_with("host_key = "))
        .unwrap()
        .to_string();
    source = set(
        &source,
        &pinned,
        &format!("host_key = \"{}\"", sshd.host_key),
    );
    let (app, _dirs) = gateway(&[("expected-shipments-sftp.toml", source)]).await;
    let key = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;
    std::fs::copy(
        format!("{ROOT}/tests/feeds/expected-shipments.csv"),
        outbox.path().join("expected-20260612.csv"),
    )
    .unwrap();
    std::fs::write(outbox.path().join("readme.txt"), "not taken").unwrap();
    let taken = app.run_source(&key, "northwind-expected-shipments").await;
    assert_eq!(taken["outcome"], "succeeded", "{taken}");
    let rows = read("tests/feeds/expected-shipments.csv").lines().count() as i64 - 1;
    assert_eq!(
        (
            taken["pages"].as_i64(),
            taken["created"].as_i64(),
            taken["rejected"].as_i64()
        ),
        (Some(1), Some(rows), Some(0)),
        "{taken}"
    );
    assert_eq!(
        shipment::Entity::find().count(&app.db).await.unwrap(),
        rows as u64
    );
    assert!(outbox.path().join("readme.txt").exists());
    assert!(
        outbox
            .path()
            .join("processed/expected-20260612.csv.ack.json")
            .exists()
    );
}
