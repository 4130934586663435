use crate::support::written;
use chrono::{TimeZone, Utc};
use freightgate::domain::{
    OrderNumber, Quantity, QuantityUnit, Scope, ShipmentDirection, ShipmentNumber, ShipmentStatus,
    Slug, UpdateMode, WeightUnit,
};
use freightgate::store::orders::{ItemFields, OrderFields};
use freightgate::store::shipments::ShipmentFields;
use freightgate::store::{orders, shipments, tenancy};

use crate::support::{TestApp, assert_problem, public_id};

/// A shipment at `rotterdam-dc` with one order of two items; returns (shipment, order) ids.
pub async fn seed_shipment(app: &TestApp, business: &str) -> (i64, i64) {
    let business = written(&app.db, async |t| {
        tenancy::ensure_business(t, &Slug::parse(business).unwrap()).await
    })
    .await
    .unwrap();
    let facility = written(&app.db, async |t| {
        tenancy::facility(t, business.id, &Slug::parse("rotterdam-dc").unwrap(), false).await
    })
    .await
    .unwrap();
    let fields = ShipmentFields {
        direction: Some(ShipmentDirection::Outbound),
        status: Some(ShipmentStatus::Scheduled),
        status_occurred_at: Some(Utc.with_ymd_and_hms(2026, 6, 11, 6, 0, 0).unwrap()),
        expected_arrival_at: Some(Utc.with_ymd_and_hms(2026, 6, 11, 6, 30, 0).unwrap()),
        dock: Some(Slug::parse("D07").unwrap()),
        carrier: Some("Van Dijk Transport".into()),
        trailer_number: Some("BX-482-K".into()),
        ..Default::default()
    };
    let number = ShipmentNumber::parse("NW-SHP-240611-0042").unwrap();
    let shipment = written(&app.db, async |t| {
        shipments::create(t, &facility, &number, fields).await
    })
    .await
    .unwrap();
    let arrived = ShipmentFields {
        status: Some(ShipmentStatus::AtFacility),
        status_occurred_at: Some(Utc.with_ymd_and_hms(2026, 6, 11, 6, 21, 55).unwrap()),
        ..Default::default()
    };
    written(&app.db, async |t| {
        shipments::update(t, shipment.clone(), arrived, UpdateMode::Patch).await
    })
    .await
    .unwrap();
    let mut chair = ItemFields::new(Quantity::new(24.0).unwrap(), QuantityUnit::Case);
    chair.lpn = Some("00387123450000012345".into());
    chair.sku = Some("CHAIR-OAK-02".into());
    chair.weight_per_unit = Some(11.5);
    chair.weight_unit = Some(WeightUnit::Kilogram);
    let mut table = ItemFields::new(Quantity::new(6.0).unwrap(), QuantityUnit::Case);
    table.sku = Some("TABLE-OAK-01".into());
    let order = OrderFields {
        purchase_order: Some("PO-55-1902".into()),
        shipment_id: Some(shipment.id),
        items: Some(vec![chair, table]),
        ..Default::default()
    };
    let order = written(&app.db, async |t| {
        orders::create(
            t,
            &facility,
            &OrderNumber::parse("SO-778120").unwrap(),
            order,
        )
        .await
    })
    .await
    .unwrap();
    (public_id(shipment.id), public_id(order.id))
}

#[tokio::test]
async fn shipment_pull_shows_status_history_orders_and_items() {
    let app = TestApp::spawn().await;
    let (shipment_id, _) = seed_shipment(&app, "northwind").await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let response = app.get(&format!("/v1/shipments/{shipment_id}"), &key).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["id"], shipment_id);
    assert_eq!(body["shipment_number"], "NW-SHP-240611-0042");
    assert_eq!(body["facility"], "rotterdam-dc");
    assert_eq!(body["dock"], "D07");
    assert_eq!(body["direction"], "OUTBOUND");
    assert_eq!(body["status"], "AT_FACILITY");
    assert_eq!(body["arrived_at"], "2026-06-11T06:21:55Z");
    assert_eq!(body["expected_arrival_at"], "2026-06-11T06:30:00Z");
    let history: Vec<&str> = body["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["SCHEDULED", "AT_FACILITY"]);
    let order = &body["orders"][0];
    assert_eq!(order["order_number"], "SO-778120");
    assert_eq!(order["items"][0]["sku"], "CHAIR-OAK-02");
    assert_eq!(order["items"][0]["quantity"], 24.0);
    assert_eq!(order["items"][0]["weight_unit"], "KILOGRAM");
    assert_eq!(order["items"][1]["sku"], "TABLE-OAK-01");
}

#[tokio::test]
async fn order_pull_returns_the_order_with_its_items() {
    let app = TestApp::spawn().await;
    let (shipment_id, order_id) = seed_shipment(&app, "northwind").await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let response = app.get(&format!("/v1/orders/{order_id}"), &key).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["order_number"], "SO-778120");
    assert_eq!(body["status"], "CREATED");
    assert_eq!(body["shipment_id"], shipment_id);
    assert_eq!(body["purchase_order"], "PO-55-1902");
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn another_businesses_shipment_and_order_are_not_found() {
    let app = TestApp::spawn().await;
    let (shipment_id, order_id) = seed_shipment(&app, "northwind").await;
    let rival = app.key("southwind", &[Scope::Read]).await;
    let body = assert_problem(
        app.get(&format!("/v1/shipments/{shipment_id}"), &rival)
            .await,
        404,
        "not_found",
    )
    .await;
    assert!(!body.to_string().contains("northwind"), "{body}");
    assert_problem(
        app.get(&format!("/v1/orders/{order_id}"), &rival).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn unknown_shipment_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read]).await;
    assert_problem(app.get("/v1/shipments/1", &key).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_non_numeric_id_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read]).await;
    assert_problem(
        app.get("/v1/shipments/abc", &key).await,
        400,
        "invalid_path_parameter",
    )
    .await;
    assert_problem(
        app.get("/v1/orders/99999999999999999999999", &key).await,
        400,
        "invalid_path_parameter",
    )
    .await;
}
