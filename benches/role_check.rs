//! What a role-bound key's check costs, beside a tenant key reading the same record in
//! the same run, closed loop, the sides alternating: a customer key on
//! `GET /v1/orders/{id}` and `GET /v1/shipments/{id}` (its order and the shipment
//! carrying it), and a subcontractor key on `GET /v1/shipments/{id}` and GraphQL
//! `shipment(id)` (the shipment assigned to it).
//!
//! `cargo bench --bench role_check` (`FG_BENCH_SECS` per side and round, default 5;
//! `FG_BENCH_ROUNDS`, default 3). The goal: role-bound ÷ tenant ≥ 0.95.

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
    // A key acting for `role`, made as `keys create --role … --party …` makes it.
    let role_key = async |role: KeyRole| {
        let txn = gate.begin(&db).await.unwrap();
        let created = freightgate::store::keys::create_with_role(
            &txn,
            &slug,
            role.name(),
            Scope::DEFAULT,
            None,
            &role,
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        created.plaintext
    };
    let customer = role_key(KeyRole::Customer("northwind".into())).await;

    // The same shipment assigned to a subcontractor, and that subcontractor's key.
    for (method, path, body) in [
        (
            "PUT",
            "/v1/parties/VANDIJK".to_string(),
            json!({"role": "SUBCONTRACTOR"}),
        ),
        (
            "PATCH",
            format!("/v1/shipments/{shipment}"),
            json!({"subcontractor": "VANDIJK",
                   "stops": [{"seq": 1, "kind": "PICKUP"}, {"seq": 2, "kind": "DELIVERY"}]}),
        ),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let answer = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&tenant)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
    }
    let subcontractor = role_key(KeyRole::Subcontractor("VANDIJK".into())).await;

    println!(
        "closed loop, {CONCURRENCY} connections, {secs} s per side, {rounds} rounds, sides alternating"
    );
    let graphql = json!({
        "query": "query($id: Int!) { shipment(id: $id) { id shipmentNumber status orders { orderNumber } } }",
        "variables": {"id": shipment},
    });
    // A GraphQL refusal would answer 200 too: both keys must read the shipment.
    for key in [&tenant, &subcontractor] {
        let answer: serde_json::Value = client
            .post(format!("{base}/graphql"))
            .bearer_auth(key)
            .json(&graphql)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            answer["errors"].is_null() && answer["data"]["shipment"]["id"].is_number(),
            "{answer}"
        );
    }
    let cases = [
        ("customer", &customer, format!("/v1/orders/{order}"), None),
        (
            "customer",
            &customer,
            format!("/v1/shipments/{shipment}"),
            None,
        ),
        (
            "subcontractor",
            &subcontractor,
            format!("/v1/shipments/{shipment}"),
            None,
        ),
        (
            "subcontractor",
            &subcontractor,
            "/graphql".to_string(),
            Some(graphql),
        ),
    ];
    for (role, role_key, path, body) in cases {
        let (mut as_tenant, mut as_role) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for (key, into) in [(&tenant, &mut as_tenant), (role_key, &mut as_role)] {
                let (c, k, url) = (client.clone(), key.clone(), format!("{base}{path}"));
                let body = body.clone();
                into.push(
                    drive(
                        move || match &body {
                            Some(query) => c.post(&url).bearer_auth(&k).json(query),
                            None => c.get(&url).bearer_auth(&k),
                        },
                        secs,
                    )
                    .await,
                );
            }
        }
        let (t, r) = (median(as_tenant.clone()), median(as_role.clone()));
        match body {
            Some(_) => println!("POST {path} shipment(id)"),
            None => println!("GET {path}"),
        }
        println!("  tenant key:   {as_tenant:.0?} requests/s, median {t:.0}");
        println!("  {role} key: {as_role:.0?} requests/s, median {r:.0}");
        println!("  {role} / tenant: {:.3}", r / t);
    }
    shutdown.cancel();
}
