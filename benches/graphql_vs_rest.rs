//! `shipment(id)` with orders and items through GraphQL against
//! `GET /v1/shipments/{id}` for the same data, closed loop, in one run.
//!
//! `cargo bench --bench graphql_vs_rest` (`FG_BENCH_SECS` per side, default 10).

use std::time::Duration;

use freightgate::Config;
use freightgate::domain::{Scope, Slug};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[path = "common/closed_loop.rs"]
mod closed_loop;

use closed_loop::{CONCURRENCY, drive};

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("FG_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        rules_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/rules").into(),
        log: "warn".into(),
        // One key at full speed: the per-key rate limit would measure 429s.
        rate_limit_per_sec: 0,
        ..Config::default()
    };
    let db = freightgate::store::connect(&config).await.unwrap();
    freightgate::store::migrate(&db).await.unwrap();
    let txn = freightgate::store::gate::WriteGate::for_db(&db)
        .begin(&db)
        .await
        .unwrap();
    let key = freightgate::store::keys::create(
        &txn,
        &Slug::parse("northwind").unwrap(),
        "bench",
        &[Scope::Ingest, Scope::Read],
    )
    .await
    .unwrap()
    .plaintext;
    txn.commit().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(freightgate::run(config, listener, shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::new();
    let feed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/feeds/wms-shipment-with-orders.json"
    ))
    .unwrap();
    let ack: serde_json::Value = client
        .post(format!("{base}/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(feed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = ack["results"][0]["id"].as_i64().unwrap();
    let query = json!({"query": format!("{{ shipment(id: {id}) {{ id status carrier arrivedAt expectedArrivalAt dock {{ slug }} \
        statusEvents {{ status completedAt }} orders {{ orderNumber purchaseOrder status items {{ id lpn sku quantity quantityUnit \
        weightPerUnit weightUnit lot }} }} }} }}")});
    let (c, k, b) = (client.clone(), key.clone(), base.clone());
    let rest = drive(
        move || c.get(format!("{b}/v1/shipments/{id}")).bearer_auth(&k),
        secs,
    )
    .await;
    let (c, k, b) = (client.clone(), key.clone(), base.clone());
    let graphql = drive(
        move || c.post(format!("{b}/graphql")).bearer_auth(&k).json(&query),
        secs,
    )
    .await;
    println!(
        "closed loop, {CONCURRENCY} connections, {secs} s each, same shipment (2 orders, 3 items)"
    );
    println!("GET /v1/shipments/{{id}}: {rest:>8.0} requests/s");
    println!("GraphQL shipment(id):    {graphql:>8.0} requests/s");
    println!("ratio GraphQL / REST: {:.2}", graphql / rest);
    shutdown.cancel();
}
