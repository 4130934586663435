//! The orders a shipment document carries: new ones are created, existing ones
//! updated, in the order the document lists them, even when it names one twice.

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::ingest::post;
use crate::support::TestApp;

/// A Northwind trailer schedule carrying orders with these numbers and item counts.
fn schedule(shipment: &str, orders: &[(&str, usize)]) -> String {
    let orders: Vec<Value> = orders
        .iter()
        .map(|(number, items)| {
            json!({
                "orderNumber": number,
                "items": (0..*items).map(|k| json!({
                    "lpn": format!("LPN-{number}-{k}"), "sku": format!("SKU-{k}"),
                    "quantity": 24, "quantityUnit": "CASE"
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    json!({
        "business": "northwind", "facility": "rotterdam-dc", "direction": "OUTBOUND",
        "shipmentNumber": shipment,
        "appointment": { "start": "2026-06-11T08:30:00+02:00", "dock": "D07" },
        "orders": orders
    })
    .to_string()
}

async fn ingest(app: &TestApp, key: &str, body: String) -> Value {
    let response = post(app, key, "application/json", body).await;
    assert_eq!(response.status(), 201);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(ack["status"], "accepted", "{ack}");
    ack
}

/// Event type and order number (or shipment number) of every message, oldest first.
async fn events(app: &TestApp, key: &str) -> Vec<(String, String)> {
    let all: Value = app.get_json("/v1/messages", key).await;
    all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let data = &m["message"]["data"];
            let number = data["order_number"]
                .as_str()
                .or(data["shipment_number"].as_str())
                .unwrap_or_default();
            (m["type"].as_str().unwrap().to_string(), number.to_string())
        })
        .collect()
}

/// `(text, value)` pairs with the text owned, to compare with what the API answered.
fn owned<T: Copy>(pairs: &[(&str, T)]) -> Vec<(String, T)> {
    pairs
        .iter()
        .map(|(text, value)| (text.to_string(), *value))
        .collect()
}

/// Event types and numbers, owned.
fn kinds(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(kind, number)| (kind.to_string(), number.to_string()))
        .collect()
}

/// Number and item count of each order of the shipment `ack` acknowledged, as listed.
async fn orders_of(app: &TestApp, key: &str, ack: &Value) -> Vec<(String, usize)> {
    let id = &ack["results"][0]["id"];
    let shipment: Value = app.get_json(&format!("/v1/shipments/{id}"), key).await;
    shipment["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let items = o["items"].as_array().unwrap().len();
            (o["order_number"].as_str().unwrap().to_string(), items)
        })
        .collect()
}

#[tokio::test]
async fn new_existing_and_repeated_orders_of_a_schedule_are_written_in_document_order() {
    let app = TestApp::spawn().await;
    let key = app
        .key("northwind", &[Scope::Ingest, Scope::Read, Scope::Webhooks])
        .await;
    ingest(&app, &key, schedule("SHP-1", &[("SO-A", 1)])).await;
    let ack = ingest(
        &app,
        &key,
        schedule(
            "SHP-2",
            &[("SO-B", 2), ("SO-C", 1), ("SO-A", 3), ("SO-B", 4)],
        ),
    )
    .await;
    let expected = kinds(&[
        ("shipment.created", "SHP-1"),
        ("order.created", "SO-A"),
        ("shipment.created", "SHP-2"),
        ("order.created", "SO-B"),
        ("order.created", "SO-C"),
        ("order.updated", "SO-A"),
        ("order.updated", "SO-B"),
    ]);
    assert_eq!(events(&app, &key).await, expected);
    // Items are overwritten by the rule: the last mention of an order wins.
    let orders = orders_of(&app, &key, &ack).await;
    assert_eq!(orders, owned(&[("SO-A", 3), ("SO-B", 4), ("SO-C", 1)]));
}

#[tokio::test]
async fn events_keep_document_order_when_an_existing_order_comes_before_new_ones() {
    let app = TestApp::spawn().await;
    let key = app
        .key("northwind", &[Scope::Ingest, Scope::Read, Scope::Webhooks])
        .await;
    ingest(&app, &key, schedule("SHP-1", &[("SO-A", 1), ("SO-B", 1)])).await;
    // New orders are written before the existing ones are looked up, but every event
    // still follows the document: SO-A updated, SO-C created, SO-C updated, ...
    let ack = ingest(
        &app,
        &key,
        schedule(
            "SHP-2",
            &[
                ("SO-A", 2),
                ("SO-C", 1),
                ("SO-C", 3),
                ("SO-B", 2),
                ("SO-D", 1),
            ],
        ),
    )
    .await;
    let expected = kinds(&[
        ("shipment.created", "SHP-1"),
        ("order.created", "SO-A"),
        ("order.created", "SO-B"),
        ("shipment.created", "SHP-2"),
        ("order.updated", "SO-A"),
        ("order.created", "SO-C"),
        ("order.updated", "SO-C"),
        ("order.updated", "SO-B"),
        ("order.created", "SO-D"),
    ]);
    assert_eq!(events(&app, &key).await, expected);
    // Every order moved to SHP-2 with the items of its last mention; one row each.
    let mut orders = orders_of(&app, &key, &ack).await;
    orders.sort();
    let expected = owned(&[("SO-A", 2), ("SO-B", 2), ("SO-C", 3), ("SO-D", 1)]);
    assert_eq!(orders, expected);
}
