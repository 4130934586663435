//! Master data: parties, resources and SKUs through the rules, REST and events, and
//! the strict settings that make orders name only known customers and SKUs.

use std::time::Duration;

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};
use crate::webhooks::receiver::{Receiver, types};

async fn key(app: &TestApp) -> String {
    app.key(
        "northwind",
        &[Scope::Ingest, Scope::Read, Scope::Write, Scope::Webhooks],
    )
    .await
}

async fn ingest(app: &TestApp, key: &str, feed: &str) -> (u16, Value) {
    crate::ingest::post_json(app, key, feed).await
}

#[tokio::test]
async fn a_customer_from_the_erp_is_pushed_out_created_updated_and_archived() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let receiver = Receiver::start().await;
    crate::webhooks::register(
        &app,
        &key,
        json!({"url": receiver.url, "event_types": ["party.created", "party.updated", "party.archived"]}),
    )
    .await;

    let (status, ack) = ingest(&app, &key, "erp-customer-master.json").await;
    assert_eq!(status, 201, "a created party answers 201: {ack}");
    assert_eq!(ack["results"][0]["entity"], "party", "{ack}");
    let party = app.get_json("/v1/parties/0000104711", &key).await;
    assert_eq!(party["role"], "CUSTOMER", "{party}");
    assert_eq!(party["name"], "Hendriks Retail BV");
    assert_eq!(party["country"], "NL", "country codes are normalised");
    assert_eq!(party["vat_number"], "NL812345678B01");
    assert_eq!(party["contacts"][0]["role"], "Transport planning");
    assert_eq!(party["contacts"][1]["email"], "ap@hendriks-retail.example");
    assert!(party["archived_at"].is_null());

    let (status, ack) = ingest(&app, &key, "erp-customer-master-moved.json").await;
    assert_eq!(status, 200, "{ack}");
    let moved = app.get_json("/v1/parties/0000104711", &key).await;
    assert_eq!(moved["address_one"], "Europalaan 40");
    assert_eq!(moved["postal_code"], "3526 KS");
    assert_eq!(
        moved["contacts"].as_array().map(Vec::len),
        Some(2),
        "an upsert changes the fields sent and keeps the others: {moved}"
    );

    let (status, ack) = ingest(&app, &key, "erp-customer-master-blocked.json").await;
    assert_eq!(status, 200, "{ack}");
    let archived = app.get_json("/v1/parties/0000104711", &key).await;
    assert!(archived["archived_at"].is_string(), "{archived}");
    let active = app.get_json("/v1/parties", &key).await;
    assert_eq!(
        active["items"],
        json!([]),
        "archived parties are not listed"
    );
    let all = app
        .get_json("/v1/parties?archived=true&role=CUSTOMER", &key)
        .await;
    assert_eq!(all["items"][0]["code"], "0000104711");

    let pushes = receiver
        .wait_for(Duration::from_secs(20), |p| p.len() >= 3)
        .await;
    assert_eq!(
        types(&pushes),
        ["party.created", "party.updated", "party.archived"]
    );
    let created = pushes[0].json();
    assert_eq!(created["data"]["code"], "0000104711");
    assert_eq!(created["data"]["business"], "northwind");
    assert_eq!(created["data"]["street"], Value::Null);
    assert_eq!(created["data"]["address_one"], "Oudegracht 112");
    assert_eq!(pushes[1].json()["data"]["address_one"], "Europalaan 40");
    assert!(pushes[2].json()["data"]["archived_at"].is_string());

    // The customer sent again after its block is restored, and announced as created.
    let (status, _) = ingest(&app, &key, "erp-customer-master-moved.json").await;
    assert_eq!(status, 201);
    let restored = app.get_json("/v1/parties/0000104711", &key).await;
    assert!(restored["archived_at"].is_null(), "{restored}");
    let pushes = receiver
        .wait_for(Duration::from_secs(20), |p| p.len() >= 4)
        .await;
    assert_eq!(types(&pushes[3..]), ["party.created"]);
    // The same record once more changes nothing and publishes nothing.
    let (status, _) = ingest(&app, &key, "erp-customer-master-moved.json").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.pushes().len(), 4);
}

#[tokio::test]
async fn a_fleet_export_becomes_resources_with_owner_and_availability() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let (status, ack) = ingest(&app, &key, "fleet-resources.json").await;
    assert_eq!(status, 201, "{ack}");
    assert_eq!(ack["results"].as_array().map(Vec::len), Some(3), "{ack}");
    let truck = app.get_json("/v1/resources/TRK-07", &key).await;
    assert_eq!(truck["kind"], "VEHICLE", "{truck}");
    assert_eq!(truck["owner"], "VANDIJK");
    assert_eq!(truck["license_plate"], "BX-482-K");
    assert_eq!(
        truck["availability"][1],
        json!({"start": "2026-06-12T03:00:00Z", "end": "2026-06-12T11:00:00Z"}),
        "shift times are kept, in UTC"
    );
    let drivers = app.get_json("/v1/resources?kind=DRIVER", &key).await;
    assert_eq!(
        drivers["items"].as_array().map(Vec::len),
        Some(1),
        "{drivers}"
    );
    assert_eq!(drivers["items"][0]["phone"], "+31 6 1234 5678");
    let (status, _) = ingest(&app, &key, "fleet-resource-retired.json").await;
    assert_eq!(status, 200);
    let listed = app.get_json("/v1/resources", &key).await;
    let codes: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["TRK-07", "DRV-112"],
        "the retired trailer is archived"
    );
}

#[tokio::test]
async fn parties_resources_and_skus_are_rest_resources() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    use reqwest::Method;
    let created = app.send(Method::PUT, "/v1/parties/VANDIJK", &key, Some(json!({
        "role": "SUBCONTRACTOR", "name": "Van Dijk Transport", "city": "Tilburg", "country": "nl"
    }))).await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["code"], "VANDIJK");
    assert_eq!(body["country"], "NL");
    let replaced = app
        .send(
            Method::PUT,
            "/v1/parties/VANDIJK",
            &key,
            Some(json!({
                "role": "SUBCONTRACTOR", "name": "Van Dijk Transport BV"
            })),
        )
        .await;
    assert_eq!(replaced.status(), 200);
    let body: Value = replaced.json().await.unwrap();
    assert!(
        body["city"].is_null(),
        "a PUT clears what it leaves out: {body}"
    );
    let patched = app
        .send(
            Method::PATCH,
            "/v1/parties/VANDIJK",
            &key,
            Some(json!({"city": "Breda"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let body: Value = patched.json().await.unwrap();
    assert_eq!(
        body["name"], "Van Dijk Transport BV",
        "a PATCH keeps the rest"
    );
    assert_eq!(body["city"], "Breda");
    let cleared = app
        .send(
            Method::PATCH,
            "/v1/parties/VANDIJK",
            &key,
            Some(json!({"city": null})),
        )
        .await;
    let body: Value = cleared.json().await.unwrap();
    assert!(
        body["city"].is_null(),
        "a PATCH clears what it sends as null: {body}"
    );
    assert_eq!(body["name"], "Van Dijk Transport BV");
    let roleless = app
        .send(
            Method::PATCH,
            "/v1/parties/VANDIJK",
            &key,
            Some(json!({"role": null})),
        )
        .await;
    let problem = assert_problem(roleless, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "$.role", "{problem}");

    // Refusals name the field.
    let no_role = app
        .send(
            Method::PUT,
            "/v1/parties/NEW",
            &key,
            Some(json!({"name": "x"})),
        )
        .await;
    let problem = assert_problem(no_role, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "$.role", "{problem}");
    let unknown = app
        .send(
            Method::PUT,
            "/v1/parties/NEW",
            &key,
            Some(json!({"role": "CUSTOMER", "colour": "red"})),
        )
        .await;
    assert_problem(unknown, 422, "").await;
    let backwards = app
        .send(
            Method::PUT,
            "/v1/resources/TRK-1",
            &key,
            Some(json!({
                "kind": "VEHICLE",
                "availability": [{"start": "2026-06-12T10:00:00Z", "end": "2026-06-12T09:00:00Z"}]
            })),
        )
        .await;
    let problem = assert_problem(backwards, 422, "validation_failed").await;
    assert_eq!(
        problem["errors"][0]["path"], "$.availability[0].end",
        "{problem}"
    );
    let missing = app
        .send(
            Method::PATCH,
            "/v1/parties/NOBODY",
            &key,
            Some(json!({"city": "x"})),
        )
        .await;
    assert_problem(missing, 404, "not_found").await;

    // SKUs live in a facility.
    let sku = app.send(Method::PUT, "/v1/facilities/rotterdam-dc/skus/CHAIR-OAK-02", &key, Some(json!({
        "description": "Oak chair", "unit_of_measure": "CASE", "alternate_sku_ids": ["8712345000017"], "cases_per_pallet": 40
    }))).await;
    assert_eq!(sku.status(), 201);
    let listed = app.get_json("/v1/facilities/rotterdam-dc/skus", &key).await;
    assert_eq!(listed["items"][0]["code"], "CHAIR-OAK-02", "{listed}");
    assert_eq!(listed["items"][0]["facility"], "rotterdam-dc");
    assert_eq!(listed["items"][0]["cases_per_pallet"], 40);
    let elsewhere = app
        .get("/v1/facilities/amsterdam/skus/CHAIR-OAK-02", &key)
        .await;
    assert_problem(elsewhere, 404, "not_found").await;
    let deleted = app
        .send(
            Method::DELETE,
            "/v1/facilities/rotterdam-dc/skus/CHAIR-OAK-02",
            &key,
            None,
        )
        .await;
    assert_eq!(deleted.status(), 200);
    let listed = app.get_json("/v1/facilities/rotterdam-dc/skus", &key).await;
    assert_eq!(listed["items"], json!([]));

    let reader = app.key("northwind", &[Scope::Read]).await;
    let refused = app
        .send(
            Method::PUT,
            "/v1/parties/X",
            &reader,
            Some(json!({"role": "CUSTOMER"})),
        )
        .await;
    assert_problem(refused, 403, "forbidden").await;
    let other = app.key("acme", &[Scope::Read]).await;
    let hidden = app.get("/v1/parties/VANDIJK", &other).await;
    assert_problem(hidden, 404, "not_found").await;
}

#[tokio::test]
async fn strict_references_refuse_unknown_customers_and_skus_where_the_sender_wrote_them() {
    let app = TestApp::spawn_with(|c| {
        c.strict_parties = true;
        c.strict_skus = true;
    })
    .await;
    let key = key(&app).await;
    use reqwest::Method;

    // The WMS feed's customer is `$.business`; its orders' lines name SKUs.
    let (status, ack) = ingest(&app, &key, "wms-shipment-with-orders.json").await;
    assert_eq!(status, 422, "{ack}");
    assert_eq!(
        ack["results"][0]["errors"][0]["code"], "unknown_customer",
        "{ack}"
    );
    assert_eq!(
        ack["results"][0]["errors"][0]["path"], "$.business",
        "{ack}"
    );

    let put = app
        .send(
            Method::PUT,
            "/v1/parties/northwind",
            &key,
            Some(json!({"role": "CUSTOMER"})),
        )
        .await;
    assert_eq!(put.status(), 201);
    for sku in ["CHAIR-OAK-02", "LAMP-BRASS-11"] {
        let put = app
            .send(
                Method::PUT,
                &format!("/v1/facilities/rotterdam-dc/skus/{sku}"),
                &key,
                Some(json!({})),
            )
            .await;
        assert_eq!(put.status(), 201);
    }
    let (status, ack) = ingest(&app, &key, "wms-shipment-with-orders.json").await;
    assert_eq!(status, 422, "{ack}");
    assert_eq!(
        ack["results"][0]["errors"][0]["code"], "unknown_sku",
        "{ack}"
    );
    assert_eq!(
        ack["results"][0]["errors"][0]["path"], "$.orders[0].items[1].sku",
        "{ack}"
    );
    let none = app.get_json("/v1/shipments", &key).await;
    assert_eq!(none["items"], json!([]), "a refused payload writes nothing");

    let put = app
        .send(
            Method::PUT,
            "/v1/facilities/rotterdam-dc/skus/TABLE-OAK-01",
            &key,
            Some(json!({"description": "Oak table"})),
        )
        .await;
    assert_eq!(put.status(), 201);
    let (status, ack) = ingest(&app, &key, "wms-shipment-with-orders.json").await;
    assert_eq!(status, 201, "{ack}");

    // The REST door refuses the same way, by the body's path.
    let order = json!({
        "order_number": "SO-9", "facility": "rotterdam-dc", "customer": "UNKNOWN",
        "items": [{"sku": "CHAIR-OAK-02", "quantity": 1}]
    });
    let refused = app
        .send(Method::POST, "/v1/orders", &key, Some(order))
        .await;
    let problem = assert_problem(refused, 422, "unknown_customer").await;
    assert_eq!(problem["errors"][0]["path"], "$.customer", "{problem}");
    let order = json!({
        "order_number": "SO-9", "facility": "rotterdam-dc", "customer": "northwind",
        "items": [{"sku": "CHAIR-OAK-02", "quantity": 1}, {"sku": "GHOST", "quantity": 1}]
    });
    let refused = app
        .send(Method::POST, "/v1/orders", &key, Some(order))
        .await;
    let problem = assert_problem(refused, 422, "unknown_sku").await;
    assert_eq!(problem["errors"][0]["path"], "$.items[1].sku", "{problem}");

    // An archived customer is unknown again.
    let archived = app
        .send(Method::DELETE, "/v1/parties/northwind", &key, None)
        .await;
    assert_eq!(archived.status(), 200);
    let order = json!({"order_number": "SO-10", "facility": "rotterdam-dc", "customer": "northwind", "items": []});
    let refused = app
        .send(Method::POST, "/v1/orders", &key, Some(order))
        .await;
    assert_problem(refused, 422, "unknown_customer").await;
}

const UPSERT_SKUS: &str = "mutation($input: UpsertSKUInput!) {
    upsertSKUs(input: $input) { numRecordsAdded numRecordsUpdated } }";
const DELETE_SKUS: &str = "mutation($input: DeleteSKUInput!) {
    deleteSKUs(input: $input) { numRecordsDeleted } }";
const FACILITY_SKUS: &str = "query($id: String!) { businesses { facilities { slug
    SKUs { business_slug facility_slug sku_id description unit_of_measure alternate_sku_ids sku_metadata created_at updated_at }
    SKU(id: $id) { sku_id description } } } }";

#[tokio::test]
async fn the_kargo_sku_operations_behave_as_its_schema_documents() {
    use crate::graphql::{data, error_code};
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let input = json!({"input": {"business_slug": "northwind", "facility_slug": "rotterdam-dc", "SKUs": [
        {"sku_id": "CHAIR-OAK-02", "description": "Oak chair", "unit_of_measure": "CASE",
         "alternate_sku_ids": ["8712345000017"], "sku_metadata": "{\"colour\":\"oak\"}"},
        {"sku_id": "TABLE-OAK-01", "description": "Oak table"}
    ]}});
    let added = data(&app, &key, UPSERT_SKUS, input).await;
    assert_eq!(
        added["upsertSKUs"],
        json!({"numRecordsAdded": 2, "numRecordsUpdated": 0})
    );
    // A partial update: the fields not sent stay.
    let input = json!({"input": {"business_slug": "northwind", "facility_slug": "rotterdam-dc", "SKUs": [
        {"sku_id": "CHAIR-OAK-02", "description": "Oak chair, set of 2"},
        {"sku_id": "LAMP-BRASS-11"}
    ]}});
    let changed = data(&app, &key, UPSERT_SKUS, input).await;
    assert_eq!(
        changed["upsertSKUs"],
        json!({"numRecordsAdded": 1, "numRecordsUpdated": 1})
    );
    let read = data(&app, &key, FACILITY_SKUS, json!({"id": "CHAIR-OAK-02"})).await;
    let facility = &read["businesses"][0]["facilities"][0];
    assert_eq!(facility["SKUs"].as_array().map(Vec::len), Some(3), "{read}");
    let chair = &facility["SKUs"][0];
    assert_eq!(chair["business_slug"], "northwind");
    assert_eq!(chair["facility_slug"], "rotterdam-dc");
    assert_eq!(chair["description"], "Oak chair, set of 2");
    assert_eq!(
        chair["unit_of_measure"], "CASE",
        "kept from the first upsert"
    );
    assert_eq!(chair["alternate_sku_ids"], json!(["8712345000017"]));
    assert_eq!(chair["sku_metadata"], "{\"colour\":\"oak\"}");
    assert!(chair["created_at"].is_string() && chair["updated_at"].is_string());
    assert_eq!(facility["SKU"]["sku_id"], "CHAIR-OAK-02");

    let deleted = data(
        &app,
        &key,
        DELETE_SKUS,
        json!({"input": {"business_slug": "northwind", "facility_slug": "rotterdam-dc",
            "SKUIDs": ["CHAIR-OAK-02", "NEVER-THERE"]}}),
    )
    .await;
    assert_eq!(deleted["deleteSKUs"]["numRecordsDeleted"], 1);
    let read = data(&app, &key, FACILITY_SKUS, json!({"id": "CHAIR-OAK-02"})).await;
    let facility = &read["businesses"][0]["facilities"][0];
    assert!(facility["SKU"].is_null(), "a deleted SKU is gone: {read}");
    assert_eq!(facility["SKUs"].as_array().map(Vec::len), Some(2));

    // The same SKU twice in one call is refused, and nothing is written.
    let twice = json!({"input": {"business_slug": "northwind", "facility_slug": "rotterdam-dc", "SKUs": [
        {"sku_id": "X-1"}, {"sku_id": "X-1", "description": "again"}
    ]}});
    assert_eq!(
        error_code(&app, &key, UPSERT_SKUS, twice).await,
        "validation_failed"
    );
    // Another business's slug is refused.
    let foreign = json!({"input": {"business_slug": "acme", "facility_slug": "rotterdam-dc", "SKUIDs": ["TABLE-OAK-01"]}});
    assert_eq!(
        error_code(&app, &key, DELETE_SKUS, foreign).await,
        "forbidden"
    );
    // Each change is announced.
    let messages = app.get_json("/v1/messages", &key).await;
    let kinds: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "sku.created",
            "sku.created",
            "sku.updated",
            "sku.created",
            "sku.archived"
        ]
    );
}
