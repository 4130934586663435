//! The legacy operations end to end, as an integration drives them.

use freightgate::domain::Scope;
use serde_json::json;

use super::{CREATE_OR_UPDATE_ORDER, UPDATE_SHIPMENT, data, error_code, schedule};
use crate::support::TestApp;

async fn writer(app: &TestApp) -> String {
    app.key("northwind", &[Scope::Read, Scope::Write, Scope::Ingest])
        .await
}

fn order_input(number: &str, shipment_id: i64) -> serde_json::Value {
    json!({
        "businessSlug": "northwind",
        "facilitySlug": "rotterdam-dc",
        "orderNumber": number,
        "direction": "OUTBOUND",
        "shipmentId": shipment_id,
        "clientName": "Acme Retail",
        "requestedShipDate": "2026-11-23T10:00:00Z",
        "shipperName": "Northwind DC",
        "consigneeName": "Acme Store 12",
        "consigneePhoneNumber": "+31 10 555 0100",
        "expectedQuantity": 12.0,
        "items": [
            { "identifier": "L1", "sku": "SKU-1", "quantity": 4, "quantityUnit": "CASE",
              "weightPerUnit": 2.5, "weightUnit": "KILOGRAM", "expirationDate": "2027-01-31" },
            { "identifier": "L2", "sku": "SKU-2", "quantity": 8 }
        ]
    })
}

const SHIPMENT: &str = "query($id: Int!) { shipment(id: $id) {
    id status shippingDirection carrier expectedArrivalAt dockId
    dock { slug displayName } facility { slug }
    statusEvents { status displayName completed completedAt }
    orders { orderNumber clientName expectedQuantity shipmentId consigneeName
             consigneePhoneNumber items { identifier sku quantity quantityUnit weightUnit expirationDate } }
} }";

#[tokio::test]
async fn a_shipment_scheduled_with_orders_attached_reads_back_with_its_items() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let id = schedule(&app, &key, "northwind", "NW-1").await;
    let saved = data(
        &app,
        &key,
        CREATE_OR_UPDATE_ORDER,
        json!({"input": order_input("SO-1", id)}),
    )
    .await;
    assert_eq!(saved["createOrUpdateOrder"]["type"], "CREATE");
    let again = data(
        &app,
        &key,
        CREATE_OR_UPDATE_ORDER,
        json!({"input": order_input("SO-1", id)}),
    )
    .await;
    assert_eq!(again["createOrUpdateOrder"]["type"], "UPDATE");
    assert_eq!(
        again["createOrUpdateOrder"]["id"],
        saved["createOrUpdateOrder"]["id"]
    );

    let shipment = data(&app, &key, SHIPMENT, json!({"id": id})).await["shipment"].clone();
    assert_eq!(shipment["status"], "SCHEDULED");
    assert_eq!(shipment["shippingDirection"], "SHIPPING");
    assert_eq!(shipment["expectedArrivalAt"], "2026-11-23T07:00:00Z");
    assert_eq!(shipment["dock"]["slug"], "D07");
    assert_eq!(shipment["facility"]["slug"], "rotterdam-dc");
    let scheduled = &shipment["statusEvents"][0];
    assert_eq!(
        (
            scheduled["status"].as_str(),
            scheduled["completed"].as_bool()
        ),
        (Some("SCHEDULED"), Some(true))
    );
    assert_eq!(shipment["statusEvents"][1]["completed"], false);
    let order = &shipment["orders"][0];
    assert_eq!(
        shipment["orders"].as_array().unwrap().len(),
        1,
        "an update does not duplicate"
    );
    assert_eq!(order["clientName"], "Acme Retail");
    assert_eq!(order["expectedQuantity"], 12.0);
    assert_eq!(order["consigneePhoneNumber"], "+31 10 555 0100");
    assert_eq!(
        order["items"].as_array().unwrap().len(),
        2,
        "items were replaced, not doubled"
    );
    assert_eq!(order["items"][0]["quantityUnit"], "CASE");
    assert_eq!(order["items"][0]["weightUnit"], "KILOGRAM");
    assert_eq!(order["items"][0]["expirationDate"], "2027-01-31");
    assert_eq!(order["items"][1]["quantityUnit"], "UNIT");
}

#[tokio::test]
async fn an_order_without_a_requested_date_is_listed_by_its_creation_time() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let id = schedule(&app, &key, "northwind", "NW-3").await;
    let mut input = order_input("SO-NODATE", id);
    input.as_object_mut().unwrap().remove("requestedShipDate");
    let today = chrono::Utc::now().date_naive();
    data(&app, &key, CREATE_OR_UPDATE_ORDER, json!({"input": input})).await;
    if chrono::Utc::now().date_naive() != today {
        return; // created across midnight: "today" is ambiguous
    }
    let listing = |start: chrono::NaiveDate, end: chrono::NaiveDate| {
        format!(
            "{{ businesses {{ facilities {{ orders(filter: {{startDate: \"{start}\", endDate: \"{end}\"}}) {{ orderNumber }} }} }} }}"
        )
    };
    let day = chrono::Duration::days(1);
    let read = data(&app, &key, &listing(today, today + day), json!({})).await;
    assert_eq!(
        read["businesses"][0]["facilities"][0]["orders"],
        json!([{"orderNumber": "SO-NODATE"}]),
        "created today, so today's listing has it"
    );
    let read = data(&app, &key, &listing(today - day, today), json!({})).await;
    assert_eq!(
        read["businesses"][0]["facilities"][0]["orders"],
        json!([]),
        "not yesterday's"
    );
    // The REST listing reads the same window.
    let rest: serde_json::Value = app
        .get_json(
            &format!("/v1/orders?requested_from={today}T00:00:00Z"),
            &key,
        )
        .await;
    let numbers: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["order_number"].as_str())
        .collect();
    assert_eq!(numbers, ["SO-NODATE"], "{rest}");
}

#[tokio::test]
async fn items_are_added_and_deleted_and_the_last_deletion_closes_the_order() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let id = schedule(&app, &key, "northwind", "NW-2").await;
    let saved = data(
        &app,
        &key,
        CREATE_OR_UPDATE_ORDER,
        json!({"input": order_input("SO-2", id)}),
    )
    .await;
    let order_id = saved["createOrUpdateOrder"]["id"].as_i64().unwrap();

    let add =
        "mutation($input: AddItemsToOrderInput!) { addItemsToOrder(input: $input) { success } }";
    let items = json!([{ "identifier": "L3", "quantity": 1, "quantityUnit": "PALLET" }]);
    let added = data(
        &app,
        &key,
        add,
        json!({"input": {"id": order_id, "items": items}}),
    )
    .await;
    assert_eq!(added["addItemsToOrder"]["success"], true);

    let delete = "mutation($input: DeleteItemsFromOrderInput!) {
        deleteItemsFromOrder(input: $input) { success deletedIdentifiers orderDeleted } }";
    let first = data(
        &app,
        &key,
        delete,
        json!({"input": {"id": order_id, "identifiers": ["L1", "nope"]}}),
    )
    .await;
    assert_eq!(
        first["deleteItemsFromOrder"]["deletedIdentifiers"],
        json!(["L1"])
    );
    assert_eq!(first["deleteItemsFromOrder"]["orderDeleted"], false);

    let listing = "{ businesses { slug facilities { slug orders(filter: {direction: OUTBOUND,
        startDate: \"2026-11-23\", endDate: \"2026-11-24\"}) { orderNumber status items { identifier } } } } }";
    let read = data(&app, &key, listing, json!({})).await;
    let orders = &read["businesses"][0]["facilities"][0]["orders"];
    assert_eq!(read["businesses"][0]["slug"], "northwind");
    assert_eq!(orders[0]["orderNumber"], "SO-2");
    assert_eq!(
        orders[0]["items"],
        json!([{"identifier": "L2"}, {"identifier": "L3"}])
    );

    let outside = "{ businesses { facilities { orders(filter: {startDate: \"2026-12-01\"}) { orderNumber } } } }";
    let none = data(&app, &key, outside, json!({})).await;
    assert_eq!(none["businesses"][0]["facilities"][0]["orders"], json!([]));

    let last = data(
        &app,
        &key,
        delete,
        json!({"input": {"id": order_id, "identifiers": ["L2", "L3"]}}),
    )
    .await;
    assert_eq!(last["deleteItemsFromOrder"]["orderDeleted"], true);
    let code = error_code(
        &app,
        &key,
        add,
        json!({"input": {"id": order_id, "items": items}}),
    )
    .await;
    assert_eq!(code, "order_cancelled");
}

#[tokio::test]
async fn create_order_twice_is_a_duplicate_and_a_shipment_with_orders_is_created_at_once() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let create = "mutation($input: OrderInput!) { createOrder(input: $input) { success id } }";
    let mut input = order_input("SO-3", 0);
    input.as_object_mut().unwrap().remove("shipmentId");
    data(&app, &key, create, json!({"input": input})).await;
    assert_eq!(
        error_code(&app, &key, create, json!({"input": input})).await,
        "duplicate"
    );

    let both = "mutation($input: CreateShipmentAndOrderInput!) {
        createShipmentAndOrder(input: $input) { shipment { id orders { orderNumber } } } }";
    let shipment = json!({"businessSlug": "northwind", "facilitySlug": "rotterdam-dc", "shipmentNumber": "NW-3"});
    let mut order = order_input("SO-4", 0);
    order.as_object_mut().unwrap().remove("shipmentId");
    let made = data(
        &app,
        &key,
        both,
        json!({"input": {"shipment": shipment, "orders": [order]}}),
    )
    .await;
    assert_eq!(
        made["createShipmentAndOrder"]["shipment"]["orders"][0]["orderNumber"],
        "SO-4"
    );
}

#[tokio::test]
async fn a_failing_order_rolls_back_the_whole_create_shipment_and_order() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let both = "mutation($input: CreateShipmentAndOrderInput!) {
        createShipmentAndOrder(input: $input) { shipment { id } } }";
    let shipment = json!({"businessSlug": "northwind", "facilitySlug": "rotterdam-dc", "shipmentNumber": "NW-9"});
    let mut bad = order_input("SO-9", 0);
    bad["items"][0]["quantity"] = json!(-1);
    let code = error_code(
        &app,
        &key,
        both,
        json!({"input": {"shipment": shipment, "orders": [bad]}}),
    )
    .await;
    assert_eq!(code, "validation_failed");
    let listing = "{ shipmentsConnection { edges { node { id } } } }";
    let read = data(&app, &key, listing, json!({})).await;
    assert_eq!(
        read["shipmentsConnection"]["edges"],
        json!([]),
        "nothing was written"
    );
}

#[tokio::test]
async fn process_payload_runs_the_ingest_pipeline_and_the_result_is_readable() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let feed = crate::ingest::feed("wms-shipment-with-orders.json");
    let payload: serde_json::Value = serde_json::from_str(&feed).unwrap();
    let mutation = "mutation($input: ProcessPayloadInput!) {
        processPayload(input: $input) { success message loggingId } }";
    let input =
        json!({"businessSlug": "northwind", "facilitySlug": "rotterdam-dc", "payload": payload});
    let result =
        data(&app, &key, mutation, json!({"input": input})).await["processPayload"].clone();
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["message"], "accepted");
    let logging_id = result["loggingId"].as_str().unwrap();
    let record = app.get(&format!("/v1/ingest/{logging_id}"), &key).await;
    assert_eq!(record.status(), 200);

    let query = "{ shipmentsConnection(filter: {query: \"NW-SHP-240611-0042\"}) {
        edges { node { carrier orders { orderNumber } } } } }";
    let read = data(&app, &key, query, json!({})).await;
    let node = &read["shipmentsConnection"]["edges"][0]["node"];
    assert_eq!(node["carrier"], "Van Dijk Transport");
    assert!(!node["orders"].as_array().unwrap().is_empty());

    // A batch with a good and an unknown document: the same outcome name as the
    // HTTP answer's `status` and the stored record's `outcome`.
    let mut second: serde_json::Value = serde_json::from_str(&feed).unwrap();
    second["shipmentNumber"] = json!("NW-SHP-240611-0043");
    let mixed = json!({"businessSlug": "northwind", "facilitySlug": "rotterdam-dc",
        "payload": [second, {"what": "no rule"}]});
    let partly =
        data(&app, &key, mutation, json!({"input": mixed})).await["processPayload"].clone();
    assert_eq!(partly["success"], true, "{partly}");
    assert_eq!(partly["message"], "partially_accepted", "{partly}");
    let logging_id = partly["loggingId"].as_str().unwrap();
    let record: serde_json::Value = app
        .get(&format!("/v1/ingest/{logging_id}"), &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["outcome"], "partially_accepted", "{record}");
    assert_eq!(record["response"]["status"], "partially_accepted");

    let rejected = json!({"businessSlug": "northwind", "facilitySlug": "rotterdam-dc", "payload": {"what": "no rule"}});
    let answer =
        data(&app, &key, mutation, json!({"input": rejected})).await["processPayload"].clone();
    assert_eq!(answer["success"], false);
}

#[tokio::test]
async fn a_status_update_stamps_the_arrival_and_an_exception_can_be_raised() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let id = schedule(&app, &key, "northwind", "NW-5").await;
    let arrive = json!({"businessSlug": "northwind", "facilitySlug": "rotterdam-dc",
        "shipmentNumber": "NW-5", "status": "AT_FACILITY", "statusOccurredAt": "2026-11-23T07:55:00Z"});
    let same = data(&app, &key, UPDATE_SHIPMENT, json!({"input": arrive})).await;
    assert_eq!(same["updateShipment"]["id"], id);
    let read = data(
        &app,
        &key,
        "query($id: Int!) { shipment(id: $id) { status arrivedAt carrier } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(read["shipment"]["arrivedAt"], "2026-11-23T07:55:00Z");
    assert_eq!(
        read["shipment"]["carrier"], "Van Dijk Transport",
        "untouched fields stay"
    );

    let raise = "mutation($input: CreateExceptionInput!) { createException(input: $input) { exceptionId } }";
    let input = json!({"shipmentId": id, "priority": "HIGH", "customerExceptionDescription": "seal broken"});
    let raised = data(&app, &key, raise, json!({"input": input})).await;
    assert!(raised["createException"]["exceptionId"].as_i64().is_some());
    let unknown_pallet =
        json!({"shipmentId": id, "palletId": "P-404", "customerExceptionDescription": "x"});
    assert_eq!(
        error_code(&app, &key, raise, json!({"input": unknown_pallet})).await,
        "not_found"
    );
    let blank = json!({"shipmentId": id, "customerExceptionDescription": "  "});
    assert_eq!(
        error_code(&app, &key, raise, json!({"input": blank})).await,
        "validation_failed"
    );
}
