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
async fn an_x12_214_is_read_one_document_per_transaction_set() {
    let app = TestApp::spawn().await;
    let key = app.key("bavaria-buero", &[Scope::Ingest]).await;
    let explained = app
        .client
        .post(app.url("/v1/ingest/explain"))
        .bearer_auth(&key)
        .header("content-type", "application/EDI-X12")
        .body(feed("x12-214.edi"))
        .send()
        .await
        .unwrap();
    assert_eq!(explained.status(), 200);
    let explained: Value = explained.json().await.unwrap();
    let text = explained.to_string();
    // No shipped rule reads a 214 yet: explain shows the tree a rule would read.
    assert!(text.contains("\"ST01\":\"214\""), "{explained}");
    assert!(text.contains("\"AT701\""), "{explained}");
}
