//! A sender's own readers (`[[reader]]` in a rules file): a fixed-width file read by
//! its layout, a CSV dialect declared once for a business and overridden by the
//! Content-Type, and the refusals of each.

use freightgate::domain::Scope;
use freightgate::store::entities::order;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::ingest::post;
use crate::support::{TestApp, assert_problem};

fn feed(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/feeds/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn a_fixed_width_export_becomes_orders_with_their_lines() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;
    let answer = post(&app, &key, "text/plain", feed("northwind-orders.txt")).await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    let answer: Value = answer.json().await.unwrap();
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{answer}");
    assert!(
        results
            .iter()
            .all(|r| r["rule"] == "northwind-as400-order" && r["status"] == "accepted"),
        "{answer}"
    );
    let id = results[0]["id"].to_string();
    let order: Value = app.get_json(&format!("/v1/orders/{id}"), &key).await;
    assert_eq!(order["order_number"], "NW-7000412", "{order}");
    assert_eq!(order["consignee"]["name"], "Café 't Hoekje", "{order}");
    assert_eq!(order["consignee"]["postal_code"], "3511 AV", "{order}");
    assert_eq!(
        order["requested_delivery_date"], "2026-12-08T13:00:00Z",
        "{order}"
    );
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{order}");
    assert_eq!(items[1]["description"], "Filterzakjes nr. 4, doos à 20");
    assert_eq!(items[1]["quantity"], 6.0);
    assert_eq!(items[1]["metadata"]["gross_weight"], 2.35, "{order}");
    let second = results[1]["id"].to_string();
    let order: Value = app.get_json(&format!("/v1/orders/{second}"), &key).await;
    assert_eq!(order["consignee"]["name"], "Bakkerij Ëlzen", "{order}");
    assert_eq!(order["items"].as_array().unwrap().len(), 1, "{order}");
}

#[tokio::test]
async fn a_broken_fixed_width_file_is_refused_whole_naming_its_line() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest]).await;
    let good = String::from_utf8_lossy(&feed("northwind-orders.txt")).into_owned();
    for (body, says) in [
        // A record type the layout does not know.
        (
            good.replace("\r\nTRL", "\r\nXYZ"),
            "line 7: record type `XYZ`",
        ),
        // A line before any order.
        (
            good.replacen("FHD", "LIN", 1),
            "line 1: a `LIN` record belongs under a document's `lines`",
        ),
    ] {
        let response = post(&app, &key, "text/plain", body.into_bytes()).await;
        let problem = assert_problem(response, 400, "malformed_fixed_width").await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{problem}");
    }
    // The Content-Type's charset overrides the reader's: Latin-1 bytes sent as
    // UTF-8 are refused rather than mangled.
    let response = post(
        &app,
        &key,
        "text/plain; charset=utf-8",
        feed("northwind-orders.txt"),
    )
    .await;
    assert_problem(response, 400, "invalid_encoding").await;
    // One line of 4 MiB: read in linear time as one short order with no lines.
    let mut long = b"ORDNW-1".to_vec();
    long.resize(4 << 20, b'9');
    let response = post(&app, &key, "text/plain", long).await;
    assert_eq!(response.status(), 422, "{}", response.text().await.unwrap());
    // A 200 MB line is over the body limit before it is read.
    let huge = vec![b'X'; 200 << 20];
    let response = post(&app, &key, "text/plain", huge).await;
    assert_problem(response, 413, "payload_too_large").await;
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 0);
    // Another business has no reader for text/plain.
    let other = app.key("bavaria-buero", &[Scope::Ingest]).await;
    let response = post(&app, &other, "text/plain", feed("northwind-orders.txt")).await;
    let problem = assert_problem(response, 415, "unsupported_media_type").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("[[reader]]"),
        "{problem}"
    );
}

const ACME_CSV: &str = r#"
[[reader]]
name = "acme-lines"
business = "acme"
charset = "windows-1252"
csv = { delimiter = ";", quote = "'" }

[[rule]]
name = "acme-line"
business = "acme"
operation = "create"
entity = "order"
identity = ["order_number"]

[rule.match]
path = "$.Order"
exists = true

[rule.map]
order_number = "$.Order"
customer = "$.Customer"
direction = { value = "OUTBOUND" }

[rule.map.items]
path = "$"

[rule.map.items.map]
sku = "$.Sku"
quantity = { path = "$.Qty", transform = [{ number = { decimal = "," } }] }
"#;

#[tokio::test]
async fn a_business_csv_dialect_applies_to_plain_text_csv_and_the_content_type_overrides_it() {
    let (app, _rules) = TestApp::spawn_with_rules(&[("acme.toml", ACME_CSV)], false).await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    // Windows-1252, `;` and `'` quotes, sent as plain text/csv.
    let body = b"Order;Customer;Sku;Qty\nA-1;'M\xfcller; Co';SKU-1;2,5\n".to_vec();
    let answer = post(&app, &key, "text/csv", body).await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    let answer: Value = answer.json().await.unwrap();
    let id = answer["results"][0]["id"].to_string();
    let order: Value = app.get_json(&format!("/v1/orders/{id}"), &key).await;
    assert_eq!(order["customer"], "Müller; Co", "{order}");
    assert_eq!(order["items"][0]["quantity"], 2.5, "{order}");
    // The sender's Content-Type parameters win over the declared dialect.
    let body = "Order,Customer,Sku,Qty\nA-2,Ünal,SKU-2,3\n";
    let answer = post(
        &app,
        &key,
        "text/csv; charset=utf-8; delimiter=\",\"",
        body.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    // Naming a reader the business does not have is a 415 that lists its readers.
    let response = post(
        &app,
        &key,
        "text/csv; reader=other",
        body.as_bytes().to_vec(),
    )
    .await;
    let problem = assert_problem(response, 415, "unsupported_media_type").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("acme-lines"),
        "{problem}"
    );
}

#[tokio::test]
async fn explain_shows_the_document_a_reader_read() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest]).await;
    let response = app
        .client
        .post(app.url("/v1/ingest/explain"))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body(feed("northwind-orders.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["documents"].as_array().unwrap().len(), 2, "{answer}");
    assert_eq!(answer["documents"][1]["location"], "line 5", "{answer}");
}
