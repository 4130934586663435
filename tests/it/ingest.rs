//! The unified endpoint on the sample feeds of real senders.

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, internal_id};

pub fn feed(name: &str) -> String {
    let path = format!("{}/tests/feeds/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub async fn post(
    app: &TestApp,
    key: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url("/v1/ingest"))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

pub async fn post_json(app: &TestApp, key: &str, name: &str) -> (u16, Value) {
    let response = post(app, key, "application/json", feed(name)).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn get_json(app: &TestApp, key: &str, path: &str) -> Value {
    let response = app.get(path, key).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn northwind(app: &TestApp) -> String {
    app.key("northwind", &[Scope::Ingest, Scope::Read]).await
}

#[tokio::test]
async fn a_wms_schedule_creates_the_shipment_its_orders_and_items() {
    let app = TestApp::spawn().await;
    let key = northwind(&app).await;
    let (status, ack) = post_json(&app, &key, "wms-shipment-with-orders.json").await;
    assert_eq!(status, 201, "{ack}");
    assert_eq!(ack["status"], "accepted");
    let result = &ack["results"][0];
    assert_eq!(
        (result["operation"].as_str(), result["entity"].as_str()),
        (Some("create"), Some("shipment"))
    );
    assert_eq!(result["reference"], "NW-SHP-240611-0042");
    assert_eq!(result["rule"], "northwind-wms-shipment");
    let shipment = get_json(&app, &key, &format!("/v1/shipments/{}", result["id"])).await;
    assert_eq!(shipment["facility"], "rotterdam-dc");
    assert_eq!(shipment["direction"], "OUTBOUND");
    assert_eq!(shipment["dock"], "D07");
    assert_eq!(shipment["carrier"], "Van Dijk Transport");
    assert_eq!(shipment["carrier_service"], "FTL");
    assert_eq!(shipment["trailer_number"], "BX-482-K");
    assert_eq!(shipment["seal_number"], "SL998812");
    assert_eq!(shipment["expected_arrival_at"], "2026-06-11T06:30:00Z");
    let orders = shipment["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0]["order_number"], "SO-778120");
    assert_eq!(orders[0]["purchase_order"], "PO-55-1902");
    assert_eq!(orders[0]["requested_delivery_date"], "2026-06-12T14:00:00Z");
    assert_eq!(orders[0]["consignee"]["country"], "NL");
    assert_eq!(orders[0]["items"].as_array().unwrap().len(), 2);
    assert_eq!(orders[0]["items"][0]["lpn"], "00387123450000012345");
    assert_eq!(orders[0]["items"][0]["quantity"], 24.0);
    assert_eq!(orders[0]["items"][0]["lot"], "L2406A");
    assert_eq!(orders[1]["items"][0]["quantity_unit"], "PALLET");
}

#[tokio::test]
async fn a_tms_order_is_created_updated_and_cancelled_and_stays_cancelled() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let (status, created) = post_json(&app, &key, "tms-order-create.json").await;
    assert_eq!(status, 201, "{created}");
    let id = created["results"][0]["id"].as_i64().unwrap();
    let order = get_json(&app, &key, &format!("/v1/orders/{id}")).await;
    assert_eq!(order["customer"], "ACME-UK");
    assert_eq!(order["service_level"], "NEXT_DAY");
    assert_eq!(
        order["addons"],
        serde_json::json!(["TAIL_LIFT", "BOOKING_IN"])
    );
    assert_eq!(order["shipper"]["city"], "Derby");
    assert_eq!(order["consignee"]["postal_code"], "BS1 5TT");
    assert_eq!(order["pickup_window"]["start"], "2026-03-12T08:00:00Z");
    assert_eq!(order["items"][0]["quantity"], 3.0);

    let (status, updated) = post_json(&app, &key, "tms-order-update.json").await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["results"][0]["operation"], "update");
    let order = get_json(&app, &key, &format!("/v1/orders/{id}")).await;
    assert_eq!(order["delivery_window"]["start"], "2026-03-13T12:00:00Z");
    assert_eq!(
        order["shipper"]["city"], "Derby",
        "a patch keeps what it does not send"
    );
    assert_eq!(order["items"].as_array().unwrap().len(), 1);

    for _ in 0..2 {
        let (status, cancelled) = post_json(&app, &key, "tms-order-cancel.json").await;
        assert_eq!(status, 200, "cancel is idempotent: {cancelled}");
    }
    assert_eq!(
        get_json(&app, &key, &format!("/v1/orders/{id}")).await["status"],
        "CANCELLED"
    );
    let (status, revived) = post_json(&app, &key, "tms-order-update.json").await;
    assert_eq!(status, 422);
    assert_eq!(revived["code"], "order_cancelled", "{revived}");
}

#[tokio::test]
async fn an_order_created_again_under_a_reject_rule_is_a_duplicate_and_changes_nothing() {
    use freightgate::store::entities::{message, order, order_item};
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let (status, created) = post_json(&app, &key, "tms-order-create.json").await;
    assert_eq!(status, 201, "{created}");
    let id = created["results"][0]["id"].as_i64().unwrap();
    let before = get_json(&app, &key, &format!("/v1/orders/{id}")).await;
    let messages = message::Entity::find().count(&app.db).await.unwrap();

    let (_, again) = post_json(&app, &key, "tms-order-create.json").await;
    let result = &again["results"][0];
    assert_eq!(result["status"], "rejected", "{again}");
    assert_eq!(result["errors"][0]["code"], "duplicate", "{again}");
    let detail = result["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("already exists in facility"), "{detail}");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(
        order_item::Entity::find().count(&app.db).await.unwrap(),
        before["items"].as_array().unwrap().len() as u64
    );
    assert_eq!(
        message::Entity::find().count(&app.db).await.unwrap(),
        messages,
        "a refused create writes no event"
    );
    assert_eq!(
        get_json(&app, &key, &format!("/v1/orders/{id}")).await,
        before
    );
}

#[tokio::test]
async fn a_pallet_network_consignment_becomes_an_order_with_its_pallets() {
    let app = TestApp::spawn().await;
    let key = app.key("greenfield", &[Scope::Ingest, Scope::Read]).await;
    let (status, ack) = post_json(&app, &key, "pallet-network-consignment.json").await;
    assert_eq!(status, 201, "{ack}");
    let order = get_json(
        &app,
        &key,
        &format!("/v1/orders/{}", ack["results"][0]["id"]),
    )
    .await;
    assert_eq!(order["order_number"], "3127000458812");
    assert_eq!(order["consignee"]["phone"], "+44 1904 000000");
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["quantity_unit"], "PALLET");
}

#[tokio::test]
async fn an_erp_order_in_pounds_and_local_time_is_stored_in_kilograms_and_utc() {
    let app = TestApp::spawn().await;
    let key = app
        .key("bavaria-buero", &[Scope::Ingest, Scope::Read])
        .await;
    let (status, ack) = post_json(&app, &key, "erp-flat-order.json").await;
    assert_eq!(status, 201, "{ack}");
    let order = get_json(
        &app,
        &key,
        &format!("/v1/orders/{}", ack["results"][0]["id"]),
    )
    .await;
    assert_eq!(order["order_number"], "4500123987");
    // 14:00 in Munich in May is 12:00 UTC.
    assert_eq!(order["requested_delivery_date"], "2026-05-20T12:00:00Z");
    assert_eq!(order["consignee"]["city"], "München");
    let weight = order["items"][0]["weight_per_unit"].as_f64().unwrap();
    assert!(
        (weight - 40.007).abs() < 0.01,
        "88.2 lb is about 40.007 kg, got {weight}"
    );
    assert_eq!(order["items"][0]["weight_unit"], "KILOGRAM");
}

/// A schedule sent again under its upsert rule updates the shipment it created:
/// one shipment, the changed fields stored, one `shipment.created` event, and the
/// dock the schedule names resolved to the same dock.
#[tokio::test]
async fn a_schedule_sent_again_updates_its_shipment_instead_of_adding_one() {
    use freightgate::store::entities::{dock, message, shipment};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let key = northwind(&app).await;
    let (status, first) = post_json(&app, &key, "wms-shipment-with-orders.json").await;
    assert_eq!(status, 201, "{first}");
    let id = first["results"][0]["id"].as_i64().unwrap();
    let mut again: Value = serde_json::from_str(&feed("wms-shipment-with-orders.json")).unwrap();
    again["trailerNumber"] = json!("BX-999-Z");
    let answer = app.post_json("/v1/ingest", &key, &again).await;
    let status = answer.status();
    let second: Value = answer.json().await.unwrap();
    assert!(status.is_success(), "{status} {second}");
    assert_eq!(second["results"][0]["id"].as_i64(), Some(id), "{second}");
    assert_eq!(shipment::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(dock::Entity::find().count(&app.db).await.unwrap(), 1);
    let shipment = get_json(&app, &key, &format!("/v1/shipments/{id}")).await;
    assert_eq!(shipment["trailer_number"], "BX-999-Z");
    assert_eq!(shipment["dock"], "D07");
    assert_eq!(shipment["orders"].as_array().unwrap().len(), 2);
    let created = message::Entity::find()
        .filter(message::Column::EventType.eq("shipment.created"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(created, 1);
}

async fn scheduled(app: &TestApp) -> (String, i64) {
    let key = northwind(app).await;
    let (status, ack) = post_json(app, &key, "wms-shipment-with-orders.json").await;
    assert_eq!(status, 201, "{ack}");
    (key, ack["results"][0]["id"].as_i64().unwrap())
}

#[tokio::test]
async fn a_yard_check_in_moves_the_shipment_to_at_facility() {
    let app = TestApp::spawn().await;
    let (key, id) = scheduled(&app).await;
    let (status, ack) = post_json(&app, &key, "shipment-status.json").await;
    assert_eq!(status, 200, "{ack}");
    let shipment = get_json(&app, &key, &format!("/v1/shipments/{id}")).await;
    assert_eq!(shipment["status"], "AT_FACILITY");
    assert_eq!(shipment["arrived_at"], "2026-06-11T06:21:55Z");
    assert_eq!(shipment["driver"]["name"], "P. de Vries");
    let history = shipment["status_history"].as_array().unwrap();
    let arrival = serde_json::json!({"status": "AT_FACILITY", "occurred_at": "2026-06-11T06:21:55Z", "note": null});
    assert!(history.contains(&arrival), "{history:?}");
}

#[tokio::test]
async fn a_dock_scan_attaches_a_loading_pallet_to_the_shipment() {
    use freightgate::store::entities::{pallet, pallet_order};
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let (key, id) = scheduled(&app).await;
    let (status, ack) = post_json(&app, &key, "dock-pallet-scan.json").await;
    assert_eq!(status, 200, "an attach is not a create: {ack}");
    assert_eq!(ack["results"][0]["operation"], "attach");
    let pallets = pallet::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(pallets.len(), 1);
    assert_eq!(pallets[0].shipment_id, internal_id(id));
    assert_eq!(pallets[0].pallet_code, "PLT-0007731");
    assert_eq!(
        pallets[0].labels["LPN"],
        serde_json::json!(["00387123450000012345"])
    );
    assert_eq!(
        pallet_order::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_proof_of_delivery_is_attached_to_its_order_with_a_checksum() {
    use freightgate::store::entities::document;
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let (key, _) = scheduled(&app).await;
    let (status, ack) = post_json(&app, &key, "pod-document.json").await;
    assert_eq!(status, 200, "{ack}");
    let docs = document::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].mime_type, "application/pdf");
    assert!(docs[0].content.starts_with(b"%PDF-1.4"));
    assert_eq!(docs[0].sha256.len(), 64);
    assert!(docs[0].order_id.is_some());
}

/// A yard system's damage report and its CMR number on a shipment.
const EXCEPTION_AND_REFERENCE_RULES: &str = r#"
[[rule]]
name = "yard-damage"
operation = "attach"
entity = "exception"
match = { path = "$.event", equals = "DAMAGE" }
map = { shipment_number = "$.trip", priority = { value = "HIGH" }, description = "$.text", occurred_at = "$.at" }

[[rule]]
name = "yard-cmr"
operation = "update"
entity = "shipment"
match = { path = "$.event", equals = "CMR" }

[rule.map]
shipment_number = "$.trip"
facility = { value = "rotterdam-dc" }

[[rule.map.references]]
map = { kind = { value = "CMR" }, value = "$.cmr" }
"#;

#[tokio::test]
async fn the_shipment_reads_back_with_its_pallets_documents_references_and_exceptions() {
    let (app, _rules) =
        TestApp::spawn_with_rules(&[("yard.toml", EXCEPTION_AND_REFERENCE_RULES)], true).await;
    let (key, id) = scheduled(&app).await;
    for feed in ["dock-pallet-scan.json", "pod-document.json"] {
        let (status, ack) = post_json(&app, &key, feed).await;
        assert_eq!(status, 200, "{feed}: {ack}");
    }
    for event in [
        json!({"event": "DAMAGE", "trip": "NW-SHP-240611-0042", "text": "a pallet crushed", "at": "2026-06-11T07:40:00+02:00"}),
        json!({"event": "CMR", "trip": "NW-SHP-240611-0042", "cmr": "CMR-2026-0042"}),
    ] {
        let answer = post(&app, &key, "application/json", event.to_string()).await;
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }
    let shipment = get_json(&app, &key, &format!("/v1/shipments/{id}")).await;
    assert_eq!(
        shipment["pallets"][0]["pallet_id"], "PLT-0007731",
        "{shipment}"
    );
    assert_eq!(shipment["pallets"].as_array().unwrap().len(), 1);
    // The POD is attached to one of the shipment's orders, and listed with it.
    let documents = shipment["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{shipment}");
    assert_eq!(documents[0]["document_type"], "POD", "{shipment}");
    assert!(
        documents[0].get("content").is_none(),
        "no bytes: {shipment}"
    );
    assert_eq!(
        shipment["references"],
        json!([{"id": shipment["references"][0]["id"], "shipment_id": id, "order_id": null,
            "kind": "CMR", "value": "CMR-2026-0042", "created_at": shipment["references"][0]["created_at"]}]),
        "{shipment}"
    );
    assert_eq!(
        shipment["exceptions"][0]["description"], "a pallet crushed",
        "{shipment}"
    );
    assert_eq!(
        shipment["exceptions"][0]["occurred_at"], "2026-06-11T05:40:00Z",
        "{shipment}"
    );
    // The same lists as the sub-resources.
    for part in ["pallets", "documents", "references", "exceptions"] {
        let listed = get_json(&app, &key, &format!("/v1/shipments/{id}/{part}")).await;
        assert_eq!(listed, shipment[part], "{part}");
    }
}

#[tokio::test]
async fn a_document_for_an_unknown_order_is_rejected_as_not_found() {
    let app = TestApp::spawn().await;
    let key = northwind(&app).await;
    let (status, ack) = post_json(&app, &key, "pod-document.json").await;
    assert_eq!(status, 422);
    assert_eq!(ack["code"], "not_found", "{ack}");
    assert!(
        ack["detail"].as_str().unwrap().contains("SO-778120"),
        "{ack}"
    );
}

#[tokio::test]
async fn a_csv_feed_creates_one_shipment_per_row() {
    let app = TestApp::spawn().await;
    let key = northwind(&app).await;
    let response = post(&app, &key, "text/csv", feed("expected-shipments.csv")).await;
    assert_eq!(response.status(), 201);
    let ack: Value = response.json().await.unwrap();
    let results = ack["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let second = get_json(&app, &key, &format!("/v1/shipments/{}", results[1]["id"])).await;
    assert_eq!(second["carrier"], "Smit & Zonen, Logistiek");
    assert_eq!(second["direction"], "INBOUND");
    assert_eq!(second["expected_arrival_at"], "2026-06-12T05:30:00Z");
}

#[tokio::test]
async fn an_ndjson_batch_acknowledges_each_line_and_stores_only_the_good_ones() {
    use freightgate::store::entities::order;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let response = post(
        &app,
        &key,
        "application/x-ndjson",
        feed("batch-orders.ndjson"),
    )
    .await;
    assert_eq!(response.status(), 207);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(statuses(&ack), ["accepted", "accepted", "rejected"]);
    // One name for the outcome: in the answer and in the stored record.
    assert_eq!(ack["status"], "partially_accepted", "{ack}");
    let logging_id = ack["logging_id"].as_str().unwrap();
    let record = get_json(&app, &key, &format!("/v1/ingest/{logging_id}")).await;
    assert_eq!(record["outcome"], "partially_accepted", "{record}");
    let error = &ack["results"][2]["errors"][0];
    assert_eq!(error["code"], "invalid_country", "{ack}");
    assert!(
        error["path"].as_str().unwrap().ends_with(".country"),
        "{error}"
    );
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 2);
}

/// A payload's items share one savepoint until the store refuses one of them; then
/// the payload is written again an item to a savepoint. Either way only the refused
/// item is left out: the items around it, and their events, are kept once.
#[tokio::test]
async fn an_item_the_store_refuses_leaves_out_only_itself_and_its_events() {
    use freightgate::store::entities::{message, order};
    use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let batch = feed("batch-orders.ndjson");
    let mut lines: Vec<&str> = batch.lines().take(2).collect();
    let unknown = json!({
        "operation": "DELETE",
        "order_identifier": "TMS-2026-999999",
        "customer": { "code": "ACME-UK" },
        "reason": "Customer cancelled"
    })
    .to_string();
    lines.insert(1, unknown.as_str());
    let body = lines.join("\n");
    let response = post(&app, &key, "application/x-ndjson", body).await;
    assert_eq!(response.status(), 207);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(
        statuses(&ack),
        ["accepted", "rejected", "accepted"],
        "{ack}"
    );
    assert_eq!(ack["results"][1]["errors"][0]["code"], "not_found", "{ack}");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 2);
    let bodies: Vec<String> = message::Entity::find()
        .order_by_asc(message::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    let about = |number: &str| bodies.iter().filter(|b| b.contains(number)).count();
    assert!(about("TMS-2026-200001") > 0, "{bodies:?}");
    assert_eq!(
        about("TMS-2026-200001"),
        about("TMS-2026-200002"),
        "{bodies:?}"
    );
    assert_eq!(about("TMS-2026-999999"), 0, "{bodies:?}");
    assert_eq!(
        bodies.len(),
        about("TMS-2026-200001") + about("TMS-2026-200002"),
        "{bodies:?}"
    );
    // In the order of the items.
    let first_of = |number: &str| bodies.iter().position(|b| b.contains(number)).unwrap();
    assert!(first_of("TMS-2026-200001") < first_of("TMS-2026-200002"));
}

async fn rejected(app: &TestApp, key: &str, name: &str) -> Value {
    let response = post(app, key, "application/json", feed(name)).await;
    assert_problem(response, 422, "").await
}

#[tokio::test]
async fn bad_payloads_are_rejected_with_a_code_and_a_path_into_the_payload() {
    let app = TestApp::spawn().await;
    let acme = app.key("acme", &[Scope::Ingest]).await;
    let northwind = northwind(&app).await;
    let cases = [
        (
            &acme,
            "bad/missing-customer.json",
            "missing_field",
            "$.customer",
        ),
        (
            &acme,
            "bad/ambiguous-address.json",
            "incomplete_address",
            "$.consignments[0].pickup_stop.location",
        ),
        (
            &acme,
            "bad/date-without-zone.json",
            "invalid_datetime",
            "$.consignments[0].pickup_stop.time_window.start",
        ),
        (
            &acme,
            "bad/unknown-addon.json",
            "unknown_code",
            "$.addons[0]",
        ),
        (
            &acme,
            "bad/pallet-tracking-bad.json",
            "pattern_mismatch",
            "$.consignment.network_reference",
        ),
        (
            &acme,
            "bad/unrecognised-shape.json",
            "no_matching_rule",
            "$",
        ),
        (
            &northwind,
            "bad/unsupported-attachment.json",
            "unsupported_mime",
            "$.file.mime",
        ),
    ];
    for (key, name, code, path) in cases {
        let problem = rejected(&app, key, name).await;
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["code"] == code && e["path"] == path),
            "{name}: expected {code} at {path}, got {problem:#}"
        );
        assert!(problem["logging_id"].is_string(), "{name}");
    }
    let missing = rejected(&app, &acme, "bad/missing-customer.json").await;
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("Missing required field: customer"),
        "{missing}"
    );
}

/// The status of each item of an acknowledgement, in order.
pub fn statuses(ack: &Value) -> Vec<&str> {
    ack["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect()
}

/// A marketplace's fulfilment order: weights in grams, quantities with a decimal
/// comma, the order number inside a longer reference, a padded SKU.
const MARKETPLACE_RULE: &str = r#"
[[rule]]
name = "marketplace-order"
operation = "create"
entity = "order"
match = { path = "$.kind", equals = "fulfilment" }

[rule.map]
order_number = { path = "$.ref", transform = [{ regex = "^MP-(\\d+)/" }] }
customer = { path = "$.shop", transform = [{ split = ["|", -1] }, "trim"] }

[rule.map.items]
path = "$.lines[*]"
map.sku = { path = "$.sku", transform = [{ pad_left = [8, "0"] }] }
map.quantity = { path = "$.qty", transform = [{ number = { decimal = ",", thousands = "." } }] }
map.gross_weight = { path = "$.grams", transform = [{ convert = ["g", "kg"] }] }
map.weight_unit = { value = "KILOGRAM" }
"#;

#[tokio::test]
async fn transforms_with_parameters_map_grams_decimal_commas_and_parts_of_text() {
    let (app, _rules) =
        TestApp::spawn_with_rules(&[("marketplace.toml", MARKETPLACE_RULE)], false).await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let payload = json!({
        "kind": "fulfilment",
        "ref": "MP-40077/2",
        "shop": "EU | Hendriks Retail ",
        "lines": [
            {"sku": "4711", "qty": "1.234,5", "grams": 12500},
            {"sku": 815, "qty": "2", "grams": "750"}
        ]
    });
    let answer = post(&app, &key, "application/json", payload.to_string()).await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    let answer: Value = answer.json().await.unwrap();
    let id = answer["results"][0]["id"].to_string();
    let order: Value = app.get_json(&format!("/v1/orders/{id}"), &key).await;
    assert_eq!(order["order_number"], "40077", "{order}");
    assert_eq!(order["customer"], "Hendriks Retail", "{order}");
    let items = order["items"].as_array().unwrap();
    assert_eq!(items[0]["sku"], "00004711", "{order}");
    assert_eq!(items[0]["quantity"], 1234.5, "{order}");
    assert_eq!(items[0]["metadata"]["gross_weight"], 12.5, "{order}");
    assert_eq!(items[0]["weight_unit"], "KILOGRAM", "{order}");
    assert_eq!(items[1]["sku"], "00000815", "{order}");
    assert_eq!(items[1]["metadata"]["gross_weight"], 0.75, "{order}");

    // A reference the regex does not find is named, with its path.
    let odd = json!({"kind": "fulfilment", "ref": "X-1", "shop": "EU | A", "lines": []});
    let answer = post(&app, &key, "application/json", odd.to_string()).await;
    let problem: Value = answer.json().await.unwrap();
    assert_eq!(problem["errors"][0]["path"], "$.ref", "{problem}");
    assert!(
        problem["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("does not match"),
        "{problem}"
    );
}

#[tokio::test]
async fn an_empty_body_is_empty_payload_in_every_format() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest]).await;
    for content_type in ["application/json", "application/x-ndjson", "text/csv"] {
        for body in ["", "  \n", "\u{feff}"] {
            let response = post(&app, &key, content_type, body.to_string()).await;
            let problem = assert_problem(response, 400, "empty_payload").await;
            assert!(
                problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{content_type} {body:?}: {problem}"
            );
        }
    }
}

/// A yard system's cancellation of a shipment and a damage report on it.
const CANCEL_AND_EXCEPTION_RULES: &str = r#"
[[rule]]
name = "yard-storno"
operation = "cancel"
entity = "shipment"
match = { path = "$.event", equals = "STORNO" }
map = { shipment_number = "$.trip", facility = { value = "rotterdam-dc" }, notes = "$.why", status_occurred_at = "$.at" }

[[rule]]
name = "yard-damage"
operation = "attach"
entity = "exception"
match = { path = "$.event", equals = "DAMAGE" }
map = { shipment_number = "$.trip", priority = { value = "HIGH" }, description = "$.text", occurred_at = "$.at" }
"#;

#[tokio::test]
async fn a_cancel_keeps_its_reason_and_time_and_an_exception_its_time() {
    let (app, _rules) =
        TestApp::spawn_with_rules(&[("yard.toml", CANCEL_AND_EXCEPTION_RULES)], true).await;
    let key = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;
    let created: Value = post(
        &app,
        &key,
        "application/json",
        feed("wms-shipment-with-orders.json"),
    )
    .await
    .json()
    .await
    .unwrap();
    let shipment = created["results"][0]["id"].to_string();
    let damage = json!({"event": "DAMAGE", "trip": "NW-SHP-240611-0042",
        "text": "two pallets crushed", "at": "2026-06-11T07:40:00+02:00"});
    let answer = post(&app, &key, "application/json", damage.to_string()).await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let storno = json!({"event": "STORNO", "trip": "NW-SHP-240611-0042",
        "why": "trailer broke down", "at": "2026-06-11T08:15:00+02:00"});
    let answer = post(&app, &key, "application/json", storno.to_string()).await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());

    let read: Value = app
        .get_json(&format!("/v1/shipments/{shipment}"), &key)
        .await;
    assert_eq!(read["status"], "CANCELLED", "{read}");
    let cancelled = read["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "CANCELLED")
        .unwrap_or_else(|| panic!("{read}"));
    assert_eq!(cancelled["note"], "trailer broke down", "{read}");
    assert_eq!(cancelled["occurred_at"], "2026-06-11T06:15:00Z", "{read}");
    let exceptions: Value = app
        .get_json(&format!("/v1/shipments/{shipment}/exceptions"), &key)
        .await;
    let first = &exceptions[0];
    assert_eq!(first["description"], "two pallets crushed", "{exceptions}");
    assert_eq!(first["occurred_at"], "2026-06-11T05:40:00Z", "{exceptions}");
    // GraphQL reads the same exception beside the shipment.
    let query = format!(
        "{{ shipment(id: {shipment}) {{ references {{ kind value }} exceptions {{ priority description occurredAt }} }} }}"
    );
    let graphql = json!({"data": crate::graphql::data(&app, &key, &query, json!({})).await});
    assert_eq!(
        graphql["data"]["shipment"],
        json!({"references": [], "exceptions": [{"priority": "HIGH", "description": "two pallets crushed", "occurredAt": "2026-06-11T05:40:00Z"}]}),
        "{graphql}"
    );

    // The shipped TMS cancel keeps its reason on the order.
    post(
        &app,
        &key,
        "application/json",
        feed("tms-order-create.json"),
    )
    .await;
    let answer: Value = post(
        &app,
        &key,
        "application/json",
        feed("tms-order-cancel.json"),
    )
    .await
    .json()
    .await
    .unwrap();
    let order = answer["results"][0]["id"].to_string();
    let read: Value = app.get_json(&format!("/v1/orders/{order}"), &key).await;
    assert_eq!(read["status"], "CANCELLED", "{read}");
    assert_eq!(read["cancel_reason"], "Customer cancelled", "{read}");
}

#[tokio::test]
async fn a_windows_1252_csv_with_semicolons_is_onboarded_by_naming_its_dialect() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;
    let path = format!(
        "{}/tests/feeds/erp-order-lines-1252.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    // Read as UTF-8, the file is refused as a whole: nothing is half-read.
    let plain = post(&app, &key, "text/csv", bytes.clone()).await;
    let problem = assert_problem(plain, 400, "invalid_encoding").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("UTF-8"),
        "{problem}"
    );

    let dialect = r#"text/csv; charset=windows-1252; delimiter=";""#;
    let answer = post(&app, &key, dialect, bytes.clone()).await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    // Sent again, it changes nothing: lines merge by their number.
    let again = post(&app, &key, dialect, bytes).await;
    assert!(
        again.status().is_success(),
        "{}",
        again.text().await.unwrap()
    );

    let orders: Value = app.get_json("/v1/orders?facility=rotterdam-dc", &key).await;
    let find = |number: &str| {
        orders["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["order_number"] == number)
            .cloned()
            .unwrap_or_else(|| panic!("{number} in {orders}"))
    };
    let cafe = find("NW-SO-5501");
    assert_eq!(cafe["customer"], "Café De Gouden Leeuw");
    let id = cafe["id"].to_string();
    let cafe: Value = app.get_json(&format!("/v1/orders/{id}"), &key).await;
    let items = cafe["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{cafe}");
    assert_eq!(items[0]["quantity"], 24.0, "{cafe}");
    assert_eq!(items[1]["description"], "Tafel eiken, 80×80 cm", "{cafe}");
    assert_eq!(items[1]["metadata"]["gross_weight"], 31.0, "{cafe}");
    let bakery = find("NW-SO-5502");
    assert_eq!(bakery["customer"], "Bäckerei Müller");
}

#[tokio::test]
async fn no_matching_rule_names_the_field_the_closest_rule_needs() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    // A TMS create without its order number: the create rule needs it to match.
    let mut payload: Value = serde_json::from_str(&feed("tms-order-create.json")).unwrap();
    payload.as_object_mut().unwrap().remove("order_identifier");
    let response = post(&app, &key, "application/json", payload.to_string()).await;
    let problem = assert_problem(response, 422, "no_matching_rule").await;
    let error = &problem["errors"][0];
    assert_eq!(error["path"], "$.order_identifier", "{problem}");
    let detail = error["detail"].as_str().unwrap();
    assert!(
        detail.contains("closest: rule `tms-order-create` (2 of 3 conditions met)"),
        "{detail}"
    );
    assert!(detail.contains("found nothing"), "{detail}");

    // A shape unlike every rule names no closest rule and points at the whole payload.
    let response = post(
        &app,
        &key,
        "application/json",
        feed("bad/unrecognised-shape.json"),
    )
    .await;
    let problem = assert_problem(response, 422, "no_matching_rule").await;
    assert_eq!(problem["errors"][0]["path"], "$", "{problem}");
}

#[tokio::test]
async fn an_xml_order_in_latin_1_is_read_as_a_tree_and_stored() {
    let app = TestApp::spawn().await;
    let key = app
        .key("bavaria-buero", &[Scope::Ingest, Scope::Read])
        .await;
    let path = format!("{}/tests/feeds/erp-order.xml", env!("CARGO_MANIFEST_DIR"));
    let answer = post(&app, &key, "application/xml", std::fs::read(path).unwrap()).await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["results"][0]["rule"], "bavaria-erp-xml-order");
    let id = answer["results"][0]["id"].to_string();
    let order: Value = app.get_json(&format!("/v1/orders/{id}"), &key).await;
    assert_eq!(order["order_number"], "4500124410", "{order}");
    assert_eq!(order["consignee"]["city"], "München", "{order}");
    assert_eq!(order["items"].as_array().unwrap().len(), 1, "{order}");
    assert_eq!(order["items"][0]["quantity_unit"], "CASE", "{order}");
    assert_eq!(
        order["items"][0]["metadata"]["gross_weight"], 2.45,
        "{order}"
    );
}

#[tokio::test]
async fn hostile_xml_is_refused_whole_and_writes_nothing() {
    use freightgate::store::entities::order;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let key = app.key("bavaria-buero", &[Scope::Ingest]).await;
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><Auftrag Belegart="AUFTRAG" Nummer="1">&lol1;</Auftrag>"#;
    let external = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Auftrag Belegart="AUFTRAG" Nummer="2">&x;</Auftrag>"#;
    let deep = format!(
        "<Auftrag>{}{}</Auftrag>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    let truncated = r#"<Auftrag Belegart="AUFTRAG" Nummer="3"><Positionen><Position>"#.to_string();
    for (what, body) in [
        ("billion laughs", laughs.to_string()),
        ("external entity", external.to_string()),
        ("10,000 deep", deep),
        ("truncated", truncated),
    ] {
        let response = post(&app, &key, "application/xml", body.into_bytes()).await;
        let problem = assert_problem(response, 400, "malformed_xml").await;
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {problem}"
        );
    }
    // Bytes that are not Latin-1-compatible UTF-8 under a UTF-8 declaration.
    let response = post(&app, &key, "application/xml", b"<a>\xff</a>".to_vec()).await;
    assert_problem(response, 400, "invalid_encoding").await;
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 0);
}

/// A carrier's trip notice with weights in pounds, volume in cubic feet and counts.
const TRIP_RULE: &str = r#"
[[rule]]
name = "trip-notice"
operation = "create"
entity = "shipment"
match = { path = "$.trip", exists = true }

[rule.map]
shipment_number = "$.trip"
facility = { value = "rotterdam-dc" }
gross_weight = { path = "$.weight_lb", transform = [{ convert = ["lb", "kg"] }, { round = 1 }] }
weight_unit = { value = "KILOGRAM" }
volume = { path = "$.cube_ft3", transform = [{ convert = ["ft3", "m3"] }, { round = 2 }] }
pallet_count = "$.pallets"
package_count = "$.cartons"
"#;

#[tokio::test]
async fn a_shipment_keeps_its_weight_volume_and_counts_through_every_door() {
    let (app, _rules) = TestApp::spawn_with_rules(&[("trip.toml", TRIP_RULE)], false).await;
    let key = app
        .key("northwind", &[Scope::Ingest, Scope::Read, Scope::Write])
        .await;
    let trip = json!({"trip": "TRIP-1", "weight_lb": 22046.2, "cube_ft3": 1000, "pallets": 26, "cartons": "140"});
    let answer = post(&app, &key, "application/json", trip.to_string()).await;
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    let answer: Value = answer.json().await.unwrap();
    let id = answer["results"][0]["id"].to_string();
    let read: Value = app.get_json(&format!("/v1/shipments/{id}"), &key).await;
    assert_eq!(read["gross_weight"], 10000.0, "{read}");
    assert_eq!(read["weight_unit"], "KILOGRAM", "{read}");
    assert_eq!(read["volume"], 28.32, "{read}");
    assert_eq!(read["pallet_count"], 26, "{read}");
    assert_eq!(read["package_count"], 140, "{read}");

    // Half a pallet is not a count; the finding points at the field.
    let half = json!({"trip": "TRIP-2", "pallets": 2.5});
    let problem: Value = post(&app, &key, "application/json", half.to_string())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(problem["errors"][0]["path"], "$.pallets", "{problem}");

    // REST changes them and refuses a negative weight.
    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/v1/shipments/{id}")))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let changed: Value = patch(json!({"pallet_count": 24}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["pallet_count"], 24, "{changed}");
    assert_eq!(
        changed["gross_weight"], 10000.0,
        "a patch keeps the rest: {changed}"
    );
    let refused = patch(json!({"gross_weight": -1})).await.unwrap();
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "$.gross_weight", "{problem}");

    // GraphQL reads them too.
    let query = format!(
        "{{ shipment(id: {id}) {{ grossWeight weightUnit volume palletCount packageCount }} }}"
    );
    let graphql = json!({"data": crate::graphql::data(&app, &key, &query, json!({})).await});
    assert_eq!(
        graphql["data"]["shipment"],
        json!({"grossWeight": 10000.0, "weightUnit": "KILOGRAM", "volume": 28.32, "palletCount": 24, "packageCount": 140}),
        "{graphql}"
    );
}

#[tokio::test]
async fn a_refused_item_is_found_by_the_number_the_sender_sent() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    // An update of an order that does not exist: mapped, then refused.
    let refused = post(
        &app,
        &key,
        "application/json",
        feed("tms-order-update.json"),
    )
    .await;
    let problem = assert_problem(refused, 422, "not_found").await;
    let logging_id = problem["logging_id"].as_str().unwrap().to_string();
    let found: Value = app
        .get_json("/v1/ingest?reference=TMS-2026-118734", &key)
        .await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["logging_id"], logging_id.as_str(), "{found}");
}

/// Orders whose facility the sender names, one rule linking them to a trip.
const DEPOT_ORDER_RULES: &str = r#"
[[rule]]
name = "depot-order-on-trip"
operation = "create"
entity = "order"
identity = ["order_number", "facility"]
match = { path = "$.kind", equals = "on-trip" }
map = { order_number = "$.order", facility = "$.depot", shipment_number = "$.trip", customer = { value = "DEPOT" }, direction = { value = "OUTBOUND" } }

[[rule]]
name = "depot-order"
operation = "create"
entity = "order"
identity = ["order_number", "facility"]
match = { path = "$.kind", equals = "plain" }
map = { order_number = "$.order", facility = "$.depot", customer = { value = "DEPOT" }, direction = { value = "OUTBOUND" } }
"#;

#[tokio::test]
async fn an_item_after_a_rejected_one_does_not_use_what_the_rejected_one_created() {
    let (app, _rules) =
        TestApp::spawn_with_rules(&[("depot.toml", DEPOT_ORDER_RULES)], false).await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    // The first item creates facility `new-depot`, then is rejected (no such trip),
    // which undoes the facility; the second must create it again, not reuse the
    // first one's row.
    let payload = json!([
        { "kind": "on-trip", "order": "DEP-1", "depot": "new-depot", "trip": "NO-SUCH-TRIP" },
        { "kind": "plain", "order": "DEP-2", "depot": "new-depot" },
        { "kind": "plain", "order": "DEP-3", "depot": "new-depot" }
    ]);
    let answer = post(&app, &key, "application/json", payload.to_string()).await;
    let status = answer.status();
    let ack: Value = answer.json().await.unwrap();
    assert!(status.is_success(), "{status} {ack}");
    let results = ack["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "rejected", "{ack}");
    assert_eq!(results[0]["errors"][0]["code"], "not_found", "{ack}");
    for result in &results[1..] {
        assert_eq!(result["status"], "accepted", "{ack}");
    }
    let listed = app.get_json("/v1/orders?facility=new-depot", &key).await;
    let mut numbers: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_number"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, ["DEP-2", "DEP-3"], "{listed}");
}
