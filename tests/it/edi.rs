//! UN/EDIFACT and ANSI X12 on the unified endpoint: an interchange's messages read
//! into trees before the rules, and broken interchanges refused whole.

use freightgate::domain::Scope;
use freightgate::store::entities::{order, shipment};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::ingest::post;
use crate::support::{TestApp, assert_problem};

fn feed(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/feeds/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn an_iftmin_in_latin_1_becomes_a_shipment_with_its_goods_items() {
    let app = TestApp::spawn().await;
    let key = app
        .key("bavaria-buero", &[Scope::Ingest, Scope::Read])
        .await;
    let answer = post(&app, &key, "application/EDIFACT", feed("iftmin.edi")).await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["results"][0]["rule"], "bavaria-iftmin-consignment");
    let id = answer["results"][0]["id"].to_string();
    let shipment: Value = app.get_json(&format!("/v1/shipments/{id}"), &key).await;
    assert_eq!(shipment["shipment_number"], "CNS20261204001", "{shipment}");
    assert_eq!(shipment["gross_weight"], 1250.5, "{shipment}");
    assert_eq!(shipment["carrier"], "Spedition Nord GmbH", "{shipment}");
    let order = &shipment["orders"][0];
    assert_eq!(
        order["consignee"]["name"], "Müller Bürobedarf GmbH",
        "{order}"
    );
    let skus: Vec<&str> = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["LAMP-210", "CHAIR-88"], "{order}");
}

#[tokio::test]
async fn broken_interchanges_are_refused_whole_naming_the_segment_and_write_nothing() {
    let app = TestApp::spawn().await;
    let key = app.key("bavaria-buero", &[Scope::Ingest]).await;
    for (name, content_type, says) in [
        ("bad/iftmin-truncated.edi", "application/EDIFACT", "no UNT"),
        ("bad/iftmin-wrong-count.edi", "application/EDIFACT", "UNT"),
        ("bad/x12-204-wrong-count.edi", "application/EDI-X12", "SE"),
    ] {
        let response = post(&app, &key, content_type, feed(name)).await;
        let problem = assert_problem(response, 400, "malformed_edi").await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{name}: {problem}");
        assert!(detail.contains("segment"), "{name}: {problem}");
    }
    // JSON sent as EDIFACT, and a Latin-1 byte under a syntax that allows ASCII only.
    let response = post(&app, &key, "application/EDIFACT", r#"{"a": 1}"#).await;
    assert_problem(response, 400, "malformed_edi").await;
    let mut bytes = feed("iftmin.edi");
    let syntax = bytes.windows(4).position(|w| w == b"UNOC").unwrap();
    bytes[syntax..syntax + 4].copy_from_slice(b"UNOA");
    let response = post(&app, &key, "application/EDIFACT", bytes).await;
    assert_problem(response, 400, "invalid_encoding").await;
    assert_eq!(shipment::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn an_x12_204_creates_the_load_and_the_carriers_214_marks_it_departed() {
    let app = TestApp::spawn().await;
    let key = app.key("nordlicht", &[Scope::Ingest, Scope::Read]).await;
    let tender = post(&app, &key, "application/EDI-X12", feed("x12-204.edi")).await;
    assert_eq!(tender.status(), 201, "{}", tender.text().await.unwrap());
    let tender: Value = tender.json().await.unwrap();
    assert_eq!(
        tender["results"][0]["rule"],
        "nordlicht-x12-204-load-tender"
    );
    let status = post(&app, &key, "application/EDI-X12", feed("x12-214.edi")).await;
    assert!(
        status.status().is_success(),
        "{}",
        status.text().await.unwrap()
    );
    let status: Value = status.json().await.unwrap();
    assert_eq!(status["results"][0]["rule"], "nordlicht-x12-214-departed");
    let id = tender["results"][0]["id"].to_string();
    let shipment: Value = app.get_json(&format!("/v1/shipments/{id}"), &key).await;
    assert_eq!(shipment["shipment_number"], "SH20261204001", "{shipment}");
    assert_eq!(shipment["status"], "DEPARTED", "{shipment}");
    assert_eq!(shipment["trailer_number"], "TRL4471", "{shipment}");
    assert_eq!(shipment["gross_weight"], 1250.5, "{shipment}");
    assert_eq!(shipment["pallet_count"], 3, "{shipment}");
    assert_eq!(
        shipment["departed_at"], "2026-12-05T23:42:00Z",
        "{shipment}"
    );
}

#[tokio::test]
async fn the_carriers_arrival_then_the_shippers_cancel_are_read_back_in_the_history() {
    let app = TestApp::spawn().await;
    let key = app.key("nordlicht", &[Scope::Ingest, Scope::Read]).await;
    let tender = post(&app, &key, "application/EDI-X12", feed("x12-204.edi")).await;
    assert_eq!(tender.status(), 201, "{}", tender.text().await.unwrap());
    let id = tender.json::<Value>().await.unwrap()["results"][0]["id"].to_string();
    for (name, rule) in [
        ("x12-214-arrived.edi", "nordlicht-x12-214-arrived"),
        ("x12-204-cancel.edi", "nordlicht-x12-204-cancel"),
    ] {
        let answer = post(&app, &key, "application/EDI-X12", feed(name)).await;
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(answer["results"][0]["rule"], rule, "{answer}");
    }
    let shipment: Value = app.get_json(&format!("/v1/shipments/{id}"), &key).await;
    assert_eq!(shipment["status"], "CANCELLED", "{shipment}");
    assert_eq!(shipment["arrived_at"], "2026-12-05T21:58:00Z", "{shipment}");
    let history: Vec<(&str, &str, &Value)> = shipment["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap(),
                e["occurred_at"].as_str().unwrap(),
                &e["note"],
            )
        })
        .collect();
    let arrived = history.iter().find(|e| e.0 == "AT_FACILITY");
    assert_eq!(
        arrived.map(|e| e.1),
        Some("2026-12-05T21:58:00Z"),
        "{shipment}"
    );
    let cancelled = history.iter().find(|e| e.0 == "CANCELLED").unwrap();
    assert_eq!(cancelled.1, "2026-12-05T15:10:00Z", "{shipment}");
    assert_eq!(cancelled.2, "Order withdrawn by customer", "{shipment}");
}
