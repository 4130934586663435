//! The REST resource API: shipments and orders as resources, through the same use
//! cases (and so the same codes and events) as the other doors.

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

async fn writer(app: &TestApp) -> String {
    app.key("acme", &[Scope::Read, Scope::Write]).await
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request.send().await.expect("request")
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_string()
}

fn order(number: &str) -> Value {
    json!({
        "order_number": number,
        "facility": "rotterdam-dc",
        "direction": "OUTBOUND",
        "consignee": {"name": "Hendriks Retail BV", "city": "Utrecht", "country": "nl"},
        "items": [
            {"sku": "CHAIR-OAK-02", "quantity": 24, "quantity_unit": "CASE"},
            {"sku": "TABLE-OAK-01", "quantity": 6, "quantity_unit": "CASE"}
        ]
    })
}

/// Event types of every message, oldest first.
async fn event_types(app: &TestApp, key: &str) -> Vec<String> {
    let all: Value = app.get_json("/v1/messages", key).await;
    all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_order_created_over_rest_is_readable_listed_and_announced_like_any_other() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let created = send(
        &app,
        reqwest::Method::POST,
        "/v1/orders",
        &key,
        Some(order("SO-1")),
        None,
    )
    .await;
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let tag = etag(&created);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["order_number"], "SO-1");
    assert_eq!(
        body["consignee"]["country"], "NL",
        "country codes are normalised"
    );
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(tag, format!("\"{}\"", body["version"].as_str().unwrap()));

    let read = app.get(&location, &key).await;
    assert_eq!(read.status(), 200);
    assert_eq!(etag(&read), tag, "a read carries the same version");
    let listed = app.get_json("/v1/orders?facility=rotterdam-dc", &key).await;
    assert_eq!(listed["items"][0]["id"], body["id"]);
    assert_eq!(listed["next_cursor"], Value::Null);
    assert_eq!(
        app.get_json("/v1/orders?facility=elsewhere", &key).await["items"],
        json!([])
    );
    assert_eq!(event_types(&app, &key).await, ["order.created"]);
}

#[tokio::test]
async fn a_second_create_with_the_same_number_is_a_409_duplicate_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let first = send(
        &app,
        reqwest::Method::POST,
        "/v1/orders",
        &key,
        Some(order("SO-2")),
        None,
    )
    .await;
    assert_eq!(first.status(), 201);
    let again = send(
        &app,
        reqwest::Method::POST,
        "/v1/orders",
        &key,
        Some(order("SO-2")),
        None,
    )
    .await;
    assert_problem(again, 409, "duplicate").await;
    assert_eq!(event_types(&app, &key).await, ["order.created"]);
}

#[tokio::test]
async fn a_write_based_on_a_stale_version_is_a_412_and_a_fresh_one_goes_through() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let created = send(
        &app,
        reqwest::Method::POST,
        "/v1/orders",
        &key,
        Some(order("SO-3")),
        None,
    )
    .await;
    let first = etag(&created);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/orders/{id}");
    let patched = send(
        &app,
        reqwest::Method::PATCH,
        &path,
        &key,
        Some(json!({"notes": "ring twice"})),
        Some(&first),
    )
    .await;
    assert_eq!(patched.status(), 200);
    let second = etag(&patched);
    assert_ne!(first, second, "a change gives a new version");
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["notes"], "ring twice");
    assert_eq!(
        patched["items"].as_array().unwrap().len(),
        2,
        "a patch keeps the lines"
    );

    let stale = send(
        &app,
        reqwest::Method::PATCH,
        &path,
        &key,
        Some(json!({"notes": "lost update"})),
        Some(&first),
    )
    .await;
    assert_problem(stale, 412, "precondition_failed").await;
    assert_eq!(app.get_json(&path, &key).await["notes"], "ring twice");
}

#[tokio::test]
async fn replace_clears_what_it_leaves_out_and_lines_are_added_and_removed() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let created = send(
        &app,
        reqwest::Method::POST,
        "/v1/orders",
        &key,
        Some(order("SO-4")),
        None,
    )
    .await;
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/orders/{id}");
    let replaced = send(
        &app,
        reqwest::Method::PUT,
        &path,
        &key,
        Some(json!({"direction": "OUTBOUND", "items": [{"sku": "LAMP-11", "quantity": 1}]})),
        None,
    )
    .await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(
        replaced["consignee"],
        Value::Null,
        "replace cleared the consignee"
    );
    assert_eq!(replaced["items"][0]["sku"], "LAMP-11");

    let added = app
        .post_json(
            &format!("{path}/items"),
            &key,
            &json!({"items": [{"sku": "CHAIR-1", "quantity": 4}]}),
        )
        .await;
    assert_eq!(added.status(), 200);
    assert_eq!(
        added.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let missing = send(
        &app,
        reqwest::Method::DELETE,
        &format!("{path}/items/NOPE"),
        &key,
        None,
        None,
    )
    .await;
    assert_problem(missing, 404, "not_found").await;
    let removed = send(
        &app,
        reqwest::Method::DELETE,
        &format!("{path}/items/LAMP-11"),
        &key,
        None,
        None,
    )
    .await;
    assert_eq!(removed.status(), 200);
    let last = send(
        &app,
        reqwest::Method::DELETE,
        &format!("{path}/items/CHAIR-1"),
        &key,
        None,
        None,
    )
    .await;
    let last: Value = last.json().await.unwrap();
    assert_eq!(
        last["status"], "CANCELLED",
        "removing the last line cancels the order"
    );
    let after = app
        .post_json(
            &format!("{path}/items"),
            &key,
            &json!({"items": [{"sku": "X", "quantity": 1}]}),
        )
        .await;
    assert_problem(after, 409, "order_cancelled").await;
}

#[tokio::test]
async fn bad_bodies_are_problems_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let cases = [
        (
            json!({"order_number": "SO-5", "items": [{"sku": "A", "quantity": -2}]}),
            "$.items[0].quantity",
        ),
        (json!({"order_number": "SO-5", "colour": "red"}), "$.colour"),
        (
            json!({"order_number": "SO-5", "shipper": {"country": "Holland"}}),
            "$.shipper.country",
        ),
        (json!({"order_number": "", "items": []}), "$.order_number"),
        (
            json!({"order_number": "SO-5", "notes": "a\u{0}b"}),
            "$.notes",
        ),
    ];
    for (body, path) in cases {
        let response = app.post_json("/v1/orders", &key, &body).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["path"], path, "{problem}");
    }
    let not_json = app
        .client
        .post(app.url("/v1/orders"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"order_number\":")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, 400, "malformed_json").await;
    let text = app
        .client
        .post(app.url("/v1/orders"))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(text, 415, "unsupported_media_type").await;
    assert_eq!(app.get_json("/v1/orders", &key).await["items"], json!([]));
    assert_problem(
        app.get("/v1/orders?limit=0", &key).await,
        400,
        "invalid_query_parameter",
    )
    .await;
    assert_problem(
        app.get("/v1/orders?after=abc", &key).await,
        400,
        "invalid_query_parameter",
    )
    .await;
}

#[tokio::test]
async fn shipments_page_by_cursor_and_cancel_once() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    for n in 0..3 {
        let body = json!({"shipment_number": format!("NW-{n}"), "facility": "rotterdam-dc",
            "direction": "INBOUND", "carrier": "Van Dijk", "driver": {"name": "Anna"}});
        let created = app.post_json("/v1/shipments", &key, &body).await;
        assert_eq!(created.status(), 201);
    }
    let first = app.get_json("/v1/shipments?limit=2", &key).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = app
        .get_json(&format!("/v1/shipments?limit=2&after={cursor}"), &key)
        .await;
    assert_eq!(second["items"][0]["shipment_number"], "NW-2");
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(second["items"][0]["driver"]["name"], "Anna");

    let id = second["items"][0]["id"].as_i64().unwrap();
    for _ in 0..2 {
        let cancelled = app
            .post_json(&format!("/v1/shipments/{id}/cancel"), &key, &json!({}))
            .await;
        assert_eq!(cancelled.status(), 200);
    }
    let cancelled = app.get_json("/v1/shipments?status=CANCELLED", &key).await;
    assert_eq!(cancelled["items"].as_array().unwrap().len(), 1);
    let events = event_types(&app, &key).await;
    assert_eq!(
        events.iter().filter(|e| *e == "shipment.cancelled").count(),
        1,
        "{events:?}"
    );
    let change = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/shipments/{id}"),
        &key,
        Some(json!({"carrier": "Other"})),
        None,
    )
    .await;
    assert_problem(change, 409, "shipment_cancelled").await;
    let renumber = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/shipments/{id}"),
        &key,
        Some(json!({"shipment_number": "NW-9"})),
        None,
    )
    .await;
    assert_problem(renumber, 422, "validation_failed").await;
}

#[tokio::test]
async fn what_ingest_attached_to_a_shipment_is_listed_under_it() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;
    let feed = |name: &str| crate::ingest::feed(name);
    for name in [
        "wms-shipment-with-orders.json",
        "dock-pallet-scan.json",
        "pod-document.json",
    ] {
        let response = app
            .client
            .post(app.url("/v1/ingest"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(feed(name))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{name}: {}",
            response.status()
        );
    }
    let listed = app.get_json("/v1/shipments", &key).await;
    let id = listed["items"][0]["id"].as_i64().unwrap();
    let pallets = app
        .get_json(&format!("/v1/shipments/{id}/pallets"), &key)
        .await;
    assert_eq!(pallets.as_array().unwrap().len(), 1, "{pallets}");
    let documents = app
        .get_json(&format!("/v1/shipments/{id}/documents"), &key)
        .await;
    assert_eq!(documents[0]["document_type"], "POD", "{documents}");
    assert!(
        documents[0].get("content").is_none(),
        "bytes are not listed"
    );
    for part in ["references", "exceptions"] {
        let listed = app.get(&format!("/v1/shipments/{id}/{part}"), &key).await;
        assert_eq!(listed.status(), 200);
    }
    let other = app.key("acme", &[Scope::Read]).await;
    assert_problem(
        app.get(&format!("/v1/shipments/{id}/pallets"), &other)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn reads_need_read_and_writes_need_write() {
    let app = TestApp::spawn().await;
    let reader = app.key("acme", &[Scope::Read]).await;
    let response = app.post_json("/v1/orders", &reader, &order("SO-6")).await;
    assert_problem(response, 403, "forbidden").await;
    let ingest_only = app.key("acme", &[Scope::Ingest]).await;
    assert_problem(app.get("/v1/orders", &ingest_only).await, 403, "forbidden").await;
    assert_problem(
        app.get("/v1/orders", "fgk_unknown").await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn the_openapi_document_is_served_as_committed_and_its_reference_page_works_offline() {
    let app = TestApp::spawn().await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = freightgate::http::openapi::json();
    assert!(
        committed == generated,
        "openapi.json is out of date with the code; regenerate it with \
         `cargo run -q -- openapi > openapi.json` and review the diff"
    );
    let served: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let committed: Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(served, committed);
    assert_eq!(served["openapi"], "3.1.0");
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    let script = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.status(),
        200,
        "the bundle is served by the gateway itself"
    );
}

#[tokio::test]
async fn a_key_without_the_scope_gets_403_whatever_body_or_headers_it_sends() {
    let app = TestApp::spawn().await;
    let reader = app.key("acme", &[Scope::Read]).await;
    let bad_body = app
        .client
        .post(app.url("/v1/orders"))
        .bearer_auth(&reader)
        .header("content-type", "text/plain")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(bad_body, 403, "forbidden").await;
    let ingest_only = app.key("acme", &[Scope::Ingest]).await;
    let bad_query = app.get("/v1/orders?limit=0", &ingest_only).await;
    assert_problem(bad_query, 403, "forbidden").await;
    let no_ingest = app
        .client
        .post(app.url("/v1/ingest"))
        .bearer_auth(&reader)
        .header("idempotency-key", "")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(no_ingest, 403, "forbidden").await;
}

#[tokio::test]
async fn a_nul_in_the_query_or_path_is_a_400_not_a_database_error() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    assert_problem(
        app.get("/v1/shipments?q=a%00b", &key).await,
        400,
        "invalid_query_parameter",
    )
    .await;
    assert_problem(
        app.get("/v1/ingest/x%00y", &key).await,
        400,
        "invalid_path_parameter",
    )
    .await;
}

#[tokio::test]
async fn thousands_of_lines_and_dates_out_of_range_are_answered_not_failed() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let lines: Vec<Value> = (0..3_500)
        .map(|n| json!({"identifier": format!("L{n}"), "quantity": 1}))
        .collect();
    let many = app
        .post_json(
            "/v1/orders",
            &key,
            &json!({"order_number": "SO-BIG", "items": lines}),
        )
        .await;
    assert_eq!(many.status(), 201);
    let stored = many.json::<Value>().await.unwrap();
    assert_eq!(
        stored["items"].as_array().unwrap().len(),
        3_500,
        "every line is stored"
    );
    for (field, value) in [
        ("requested_ship_date", "-5000-01-01T00:00:00Z"),
        ("requested_delivery_date", "+20000-01-01T00:00:00Z"),
    ] {
        let body = json!({"order_number": "SO-OLD", field: value});
        let answer = app.post_json("/v1/orders", &key, &body).await;
        let problem = assert_problem(answer, 422, "validation_failed").await;
        assert_eq!(
            problem["errors"][0]["path"],
            format!("$.{field}"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn cancelled_as_a_status_cancels_the_one_way_through_every_door() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let created = app.post_json("/v1/orders", &key, &order("SO-7")).await;
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let patched = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/v1/orders/{id}"),
        &key,
        Some(json!({"status": "CANCELLED"})),
        None,
    )
    .await;
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["status"], "CANCELLED");
    assert!(patched["cancelled_at"].is_string(), "{patched}");
    let mutation = "mutation($input: OrderInput!) { createOrUpdateOrder(input: $input) { id } }";
    let input = json!({"businessSlug": "acme", "facilitySlug": "rotterdam-dc",
        "orderNumber": "SO-8", "status": "CANCELLED"});
    let answer = app
        .post_json(
            "/graphql",
            &key,
            &json!({"query": mutation, "variables": {"input": input}}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let gql_id = answer["data"]["createOrUpdateOrder"]["id"]
        .as_i64()
        .expect("an id");
    let read = app.get_json(&format!("/v1/orders/{gql_id}"), &key).await;
    assert!(read["cancelled_at"].is_string(), "{read}");
    let events = event_types(&app, &key).await;
    assert_eq!(
        events.iter().filter(|e| *e == "order.cancelled").count(),
        2,
        "one order.cancelled per order: {events:?}"
    );
}

#[tokio::test]
async fn put_without_lines_leaves_an_order_without_lines() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let created = app.post_json("/v1/orders", &key, &order("SO-9")).await;
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let replaced = send(
        &app,
        reqwest::Method::PUT,
        &format!("/v1/orders/{id}"),
        &key,
        Some(json!({"notes": "lines to follow"})),
        None,
    )
    .await;
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["items"], json!([]), "{replaced}");
}

#[tokio::test]
async fn two_writes_based_on_one_version_at_once_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    for round in 0..10 {
        let created = app
            .post_json("/v1/orders", &key, &order(&format!("SO-RACE-{round}")))
            .await;
        let tag = etag(&created);
        let id = created.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let path = format!("/v1/orders/{id}");
        let first = send(
            &app,
            reqwest::Method::PATCH,
            &path,
            &key,
            Some(json!({"notes": "first"})),
            Some(&tag),
        );
        let second = send(
            &app,
            reqwest::Method::PATCH,
            &path,
            &key,
            Some(json!({"notes": "second"})),
            Some(&tag),
        );
        let (first, second) = tokio::join!(first, second);
        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {round}");
    }
}

#[tokio::test]
async fn a_patch_clears_what_it_sets_to_null_and_keeps_what_it_leaves_out() {
    let app = TestApp::spawn().await;
    let key = writer(&app).await;
    let body = json!({"shipment_number": "NW-9", "facility": "rotterdam-dc",
        "direction": "INBOUND", "carrier": "Van Dijk", "seal_number": "S-1",
        "driver": {"name": "Anna", "phone": "+31 6 1234"}});
    let created: Value = app
        .post_json("/v1/shipments", &key, &body)
        .await
        .json()
        .await
        .unwrap();
    let shipment = created["id"].as_i64().unwrap();
    let path = format!("/v1/shipments/{shipment}");
    let clear = json!({"carrier": null, "driver": {"phone": null}});
    let patched = send(&app, reqwest::Method::PATCH, &path, &key, Some(clear), None).await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["carrier"], Value::Null, "{patched}");
    assert_eq!(patched["driver"]["phone"], Value::Null, "{patched}");
    assert_eq!(patched["driver"]["name"], "Anna", "left out, so kept");
    assert_eq!(patched["seal_number"], "S-1", "left out, so kept");

    // A member that cannot be cleared says so, with its path, and changes nothing.
    let refused = send(
        &app,
        reqwest::Method::PATCH,
        &path,
        &key,
        Some(json!({"status": null, "seal_number": null})),
        None,
    )
    .await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["path"], "$.status", "{problem}");
    let after = app.get_json(&path, &key).await;
    assert_eq!(after["seal_number"], "S-1");

    // An order leaves its shipment when the patch clears `shipment_id`.
    let mut linked = order("SO-9");
    linked["shipment_id"] = json!(shipment);
    let made: Value = app
        .post_json("/v1/orders", &key, &linked)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(made["shipment_id"], shipment);
    let order_path = format!("/v1/orders/{}", made["id"]);
    let unlink = json!({"shipment_id": null, "consignee": {"city": null, "name": "Hendriks"}});
    let patched = send(
        &app,
        reqwest::Method::PATCH,
        &order_path,
        &key,
        Some(unlink),
        None,
    )
    .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["shipment_id"], Value::Null, "{patched}");
    assert_eq!(patched["consignee"]["name"], "Hendriks");
    assert_eq!(patched["consignee"]["city"], Value::Null, "{patched}");
    assert_eq!(patched["items"].as_array().unwrap().len(), 2, "lines kept");
}
