//! Business isolation, scopes and error codes.

use crate::support::written;
use freightgate::domain::Scope;
use serde_json::json;

use super::{UPDATE_SHIPMENT, data, error_code, post, schedule};
use crate::support::{TestApp, internal_id};

#[tokio::test]
async fn a_key_never_sees_or_touches_another_business() {
    let app = TestApp::spawn().await;
    let north = app.key("northwind", &[Scope::Read, Scope::Write]).await;
    let south = app.key("southwind", &[Scope::Read, Scope::Write]).await;
    let theirs = schedule(&app, &north, "northwind", "NW-1").await;
    schedule(&app, &south, "southwind", "SW-1").await;

    let shipment = "query($id: Int!) { shipment(id: $id) { id } }";
    assert_eq!(
        error_code(&app, &south, shipment, json!({"id": theirs})).await,
        "not_found"
    );
    let listing = "{ shipmentsConnection { edges { node { id } } } businesses { slug facilities { shipments { id } } } }";
    let seen = data(&app, &south, listing, json!({})).await;
    assert_eq!(
        seen["shipmentsConnection"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        seen["businesses"],
        json!([{"slug": "southwind", "facilities": [{"shipments": [{"id": seen["shipmentsConnection"]["edges"][0]["node"]["id"]}]}]}])
    );

    let foreign = json!({"businessSlug": "northwind", "facilitySlug": "rotterdam-dc", "shipmentNumber": "NW-1", "carrier": "X"});
    assert_eq!(
        error_code(&app, &south, UPDATE_SHIPMENT, json!({"input": foreign})).await,
        "forbidden"
    );
    let attach = "mutation($input: OrderInput!) { createOrder(input: $input) { id } }";
    let order = json!({"businessSlug": "southwind", "facilitySlug": "rotterdam-dc", "orderNumber": "SO-1", "shipmentId": theirs});
    assert_eq!(
        error_code(&app, &south, attach, json!({"input": order})).await,
        "not_found"
    );
    let exception = "mutation { createException(input: {shipmentId: 1, customerExceptionDescription: \"x\"}) { exceptionId } }";
    let code = error_code(
        &app,
        &south,
        &exception.replace("shipmentId: 1", &format!("shipmentId: {theirs}")),
        json!({}),
    )
    .await;
    assert_eq!(code, "not_found");
    let payload = "mutation { processPayload(input: {businessSlug: \"northwind\", facilitySlug: \"x\", payload: {}}) { success } }";
    let ingester = app.key("southwind", &[Scope::Ingest]).await;
    assert_eq!(
        error_code(&app, &ingester, payload, json!({})).await,
        "forbidden"
    );
}

#[tokio::test]
async fn queries_need_read_mutations_write_and_process_payload_ingest() {
    let app = TestApp::spawn().await;
    let write_only = app.key("northwind", &[Scope::Write]).await;
    let read_only = app.key("northwind", &[Scope::Read]).await;
    assert_eq!(
        error_code(&app, &write_only, "{ businesses { slug } }", json!({})).await,
        "forbidden"
    );
    let input = json!({"businessSlug": "northwind", "facilitySlug": "f", "shipmentNumber": "S"});
    assert_eq!(
        error_code(&app, &read_only, UPDATE_SHIPMENT, json!({"input": input})).await,
        "forbidden"
    );
    let payload = "mutation { processPayload(input: {businessSlug: \"northwind\", facilitySlug: \"f\", payload: {}}) { success } }";
    assert_eq!(
        error_code(&app, &write_only, payload, json!({})).await,
        "forbidden"
    );
}

#[tokio::test]
async fn bad_input_gets_validation_failed_and_no_key_gets_401() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read, Scope::Write]).await;
    let input = json!({"businessSlug": "northwind", "facilitySlug": "f", "shipmentNumber": "S",
        "expectedArrivalAt": "tomorrow-ish"});
    assert_eq!(
        error_code(&app, &key, UPDATE_SHIPMENT, json!({"input": input})).await,
        "validation_failed"
    );
    let (status, body) = post(&app, "fgk_wrong", "{ ping }", json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "unauthorized");
}

#[tokio::test]
async fn a_document_is_served_to_its_business_only_with_its_mime_type() {
    use freightgate::domain::DocumentType;
    use freightgate::store::attach::{self, NewDocument, Target};
    let app = TestApp::spawn().await;
    let north = app.key("northwind", &[Scope::Read, Scope::Write]).await;
    let south = app.key("southwind", &[Scope::Read]).await;
    let id = schedule(&app, &north, "northwind", "NW-D").await;
    let slug = freightgate::domain::Slug::parse("northwind").unwrap();
    let business = freightgate::store::tenancy::find_business(&app.db, &slug)
        .await
        .unwrap();
    let business_id = business.expect("business exists").id;
    let doc = NewDocument {
        document_type: DocumentType::Cmr,
        external_id: Some("CMR-1".into()),
        file_name: "cmr.pdf".into(),
        mime_type: "application/pdf".into(),
        content: b"%PDF-1.4 test".to_vec(),
        notes: None,
        uploaded_at: None,
    };
    written(&app.db, async |t| {
        attach::document(t, business_id, Target::Shipment(internal_id(id)), doc).await
    })
    .await
    .unwrap();
    let query = "query($id: Int!) { shipment(id: $id) { documents { type externalId fileName fileUrl shipmentId } } }";
    let read = data(&app, &north, query, json!({"id": id})).await;
    let document = &read["shipment"]["documents"][0];
    assert_eq!(document["type"], "CMR");
    assert_eq!(document["shipmentId"], id);
    let url = document["fileUrl"].as_str().unwrap();
    let bytes = app.get(url, &north).await;
    assert_eq!(bytes.status(), 200);
    assert_eq!(bytes.headers()["content-type"], "application/pdf");
    assert_eq!(bytes.bytes().await.unwrap().as_ref(), b"%PDF-1.4 test");
    crate::support::assert_problem(app.get(url, &south).await, 404, "not_found").await;
}
