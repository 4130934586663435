//! What one ingested payload costs the database, counted statement by statement: a
//! regression here is a regression of every sender's throughput.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use freightgate::domain::{Scope, Slug};
use freightgate::http::AppState;
use freightgate::ingest::{self, Incoming};
use freightgate::store::gate::WriteGate;
use freightgate::store::keys;

use crate::support::{TestDb, config_for};

/// A Northwind trailer schedule with `orders` orders of three items each.
fn schedule(n: usize, orders: usize) -> String {
    let orders: Vec<serde_json::Value> = (0..orders)
        .map(|j| {
            serde_json::json!({
                "orderNumber": format!("SO-{n}-{j}"),
                "items": (0..3).map(|k| serde_json::json!({
                    "lpn": format!("00387123450000{n:02}{j:02}{k}"), "sku": format!("SKU-{k}"),
                    "quantity": 24, "quantityUnit": "CASE"
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    serde_json::json!({
        "business": "northwind", "facility": "rotterdam-dc", "direction": "OUTBOUND",
        "shipmentNumber": format!("NW-SHP-{n}"),
        "appointment": { "start": "2026-06-11T08:30:00+02:00", "dock": "D07" },
        "orders": orders
    })
    .to_string()
}

/// Statements the ingest of schedule `n` with `orders` orders runs.
async fn statements_for(orders: usize) -> usize {
    let database = TestDb::new().await;
    let mut db = database.connect().await;
    let created = keys::create(
        &db,
        &Slug::parse("northwind").unwrap(),
        "t",
        &[Scope::Ingest],
    )
    .await
    .unwrap();
    let principal = keys::authenticate(&db, &created.plaintext)
        .await
        .unwrap()
        .unwrap();
    let counter = Arc::new(AtomicUsize::new(0));
    let seen = counter.clone();
    db.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let config = config_for(&database.url);
    let gate = WriteGate::for_db(&db);
    let (writer, _writers) = ingest::writer::Writer::start(
        db.clone(),
        gate.clone(),
        ingest::writer::Settings::from_config(&config),
    );
    let state = AppState {
        db: db.clone(),
        rules: Arc::new(freightgate::load_rules(&config).unwrap()),
        config: Arc::new(config),
        writer,
        gate,
    };
    let mut counted = 0;
    // The second payload is the steady state: facility and dock exist by then.
    for n in 0..2 {
        counter.store(0, Ordering::SeqCst);
        let reply = ingest::ingest(
            &state,
            Incoming {
                principal: &principal,
                content_type: Some("application/json"),
                body: schedule(n, orders).into(),
                key: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 201, "{}", reply.body);
        counted = counter.load(Ordering::SeqCst);
    }
    counted
}

#[tokio::test]
async fn a_shipment_with_orders_costs_a_bounded_number_of_statements_per_order() {
    let one = statements_for(1).await;
    let eight = statements_for(8).await;
    // Per order: the lookup by number, the order, its items in one insert, the
    // event (business and facility slugs in one query, the message, its endpoints).
    assert!(
        eight - one <= 7 * 6,
        "1 order: {one} statements, 8 orders: {eight}: more than 6 per order"
    );
    assert!(one <= 16, "a shipment with one order took {one} statements");
}
