//! What a customer key's role check costs: `GET /v1/orders/{id}` and
//! `GET /v1/shipments/{id}` with a tenant key and with a customer key reading the same
//! customer's order and its shipment, closed loop, the sides alternating in one run.
//!
//! `cargo bench --bench role_check` (`FG_BENCH_SECS` per side and round, default 5;
//! `FG_BENCH_ROUNDS`, default 3). The goal: customer ÷ tenant ≥ 0.95.

#[path = "common/closed_loop.rs"]
mod closed_loop;

use std::time::Duration;

use closed_loop::{CONCURRENCY, drive};
use freightgate::Config;
use freightgate::domain::{KeyRole, Scope, Slug};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let (secs, rounds) = (env("FG_BENCH_SECS", 5), env("FG_BENCH_ROUNDS", 3));
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        rules_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/rules").into(),
        log: "warn".into(),
        rate_limit_per_sec: 0,
        ..Config::default()
    };
    let db = freightgate::store::connect(&config).await.unwrap();
    freightgate::store::migrate(&db).await.unwrap();
    let gate = freightgate::store::gate::WriteGate::for_db(&db);
    let slug = Slug::parse("northwind").unwrap();
    let txn = gate.begin(&db).await.unwrap();
    let tenant = freightgate::store::keys::create(&txn, &slug, "bench", Scope::DEFAULT)
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
    let put = client
        .put(format!("{base}/v1/parties/northwind"))
        .bearer_auth(&tenant)
        .json(&json!({"role": "CUSTOMER"}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    // The WMS feed's orders are for customer `northwind` (its `business`).
    let feed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/feeds/wms-shipment-with-orders.json"
    ))
    .unwrap();
    let ack: serde_json::Value = client
        .post(format!("{base}/v1/ingest"))
        .bearer_auth(&tenant)
        .header("content-type", "application/json")
        .body(feed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shipment = ack["results"][0]["id"].as_i64().unwrap();
    let orders: serde_json::Value = client
        .get(format!("{base}/v1/orders"))
        .bearer_auth(&tenant)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order = orders["items"][0]["id"].as_i64().unwrap();
    let txn = gate.begin(&db).await.unwrap();
    let role = KeyRole::Customer("northwind".into());
    let customer = freightgate::store::keys::create_with_role(
        &txn,
        &slug,
        "bench-customer",
        Scope::DEFAULT,
        None,
        &role,
    )
    .await
    .unwrap()
    .plaintext;
    txn.commit().await.unwrap();

    println!(
        "closed loop, {CONCURRENCY} connections, {secs} s per side, {rounds} rounds, sides alternating"
    );
    for path in [
        format!("/v1/orders/{order}"),
        format!("/v1/shipments/{shipment}"),
    ] {
        let (mut as_tenant, mut as_customer) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for (key, into) in [(&tenant, &mut as_tenant), (&customer, &mut as_customer)] {
                let (c, k, url) = (client.clone(), key.clone(), format!("{base}{path}"));
                into.push(drive(move || c.get(&url).bearer_auth(&k), secs).await);
            }
        }
        let (t, c) = (median(as_tenant.clone()), median(as_customer.clone()));
        println!("GET {path}");
        println!("  tenant key:   {as_tenant:.0?} requests/s, median {t:.0}");
        println!("  customer key: {as_customer:.0?} requests/s, median {c:.0}");
        println!("  customer / tenant: {:.3}", c / t);
    }
    shutdown.cancel();
}
