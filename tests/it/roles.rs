//! Keys bound to a customer: through every door they see and change only that
//! customer's orders and read the shipments carrying them; every other operation is
//! refused. Tenant keys see everything of the business.

use freightgate::domain::{KeyRole, Scope, Slug};
use freightgate::store;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, written};

async fn customer_key(app: &TestApp, party: &str) -> Result<String, String> {
    let slug = Slug::parse("northwind").unwrap();
    let role = KeyRole::Customer(party.to_string());
    written(&app.db, async |t| {
        store::keys::create_with_role(t, &slug, "customer", Scope::DEFAULT, None, &role).await
    })
    .await
    .map(|k| k.plaintext)
    .map_err(|e| e.to_string())
}

/// Creates the parties (code, role) of the business with `tenant`'s key.
pub(crate) async fn put_parties(app: &TestApp, tenant: &str, parties: &[(&str, &str)]) {
    for (code, role) in parties {
        let put = app
            .send(
                Method::PUT,
                &format!("/v1/parties/{code}"),
                tenant,
                Some(json!({"role": role})),
            )
            .await;
        assert_eq!(put.status(), 201, "{code}");
    }
}

async fn created(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 201, "created");
    response.json().await.unwrap()
}

fn codes(listing: &Value, field: &str) -> Vec<String> {
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}

/// Two customers, their orders, and a shipment carrying one order of each.
struct World {
    app: TestApp,
    tenant: String,
    hendriks: String,
    own_order: i64,
    other_order: i64,
    shared_shipment: i64,
    other_shipment: i64,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let tenant = app
        .key(
            "northwind",
            &[Scope::Ingest, Scope::Read, Scope::Write, Scope::Webhooks],
        )
        .await;
    put_parties(
        &app,
        &tenant,
        &[
            ("HENDRIKS", "CUSTOMER"),
            ("DEBOER", "CUSTOMER"),
            ("VANDIJK", "SUBCONTRACTOR"),
        ],
    )
    .await;
    let shipment = |number: &str| json!({"shipment_number": number, "facility": "rotterdam-dc"});
    let shared = created(
        app.send(
            Method::POST,
            "/v1/shipments",
            &tenant,
            Some(shipment("SHP-SHARED")),
        )
        .await,
    )
    .await;
    let other = created(
        app.send(
            Method::POST,
            "/v1/shipments",
            &tenant,
            Some(shipment("SHP-DEBOER")),
        )
        .await,
    )
    .await;
    let order = |number: &str, customer: &str, shipment: &Value| {
        json!({"order_number": number, "facility": "rotterdam-dc", "customer": customer,
               "shipment_id": shipment["id"], "items": [{"sku": "CHAIR-OAK-02", "quantity": 2}]})
    };
    let own = created(
        app.send(
            Method::POST,
            "/v1/orders",
            &tenant,
            Some(order("SO-H-1", "HENDRIKS", &shared)),
        )
        .await,
    )
    .await;
    let theirs = created(
        app.send(
            Method::POST,
            "/v1/orders",
            &tenant,
            Some(order("SO-D-1", "DEBOER", &shared)),
        )
        .await,
    )
    .await;
    created(
        app.send(
            Method::POST,
            "/v1/orders",
            &tenant,
            Some(order("SO-D-2", "DEBOER", &other)),
        )
        .await,
    )
    .await;
    let hendriks = customer_key(&app, "HENDRIKS")
        .await
        .expect("a customer key");
    World {
        tenant,
        hendriks,
        own_order: own["id"].as_i64().unwrap(),
        other_order: theirs["id"].as_i64().unwrap(),
        shared_shipment: shared["id"].as_i64().unwrap(),
        other_shipment: other["id"].as_i64().unwrap(),
        app,
    }
}

#[tokio::test]
async fn a_customer_key_needs_a_customer_party_that_is_not_archived() {
    let w = world().await;
    let subcontractor = customer_key(&w.app, "VANDIJK").await.unwrap_err();
    assert!(
        subcontractor.contains("is not a customer"),
        "{subcontractor}"
    );
    let unknown = customer_key(&w.app, "NOBODY").await.unwrap_err();
    assert!(unknown.contains("is not a party"), "{unknown}");
    w.app
        .send(Method::DELETE, "/v1/parties/DEBOER", &w.tenant, None)
        .await;
    let archived = customer_key(&w.app, "DEBOER").await.unwrap_err();
    assert!(archived.contains("is archived"), "{archived}");
}

#[tokio::test]
async fn a_customer_key_reads_and_changes_only_its_own_orders_over_rest() {
    let w = world().await;
    let (app, key) = (&w.app, w.hendriks.as_str());

    let listed = app.get_json("/v1/orders", key).await;
    assert_eq!(codes(&listed, "order_number"), ["SO-H-1"]);
    let own = app
        .get_json(&format!("/v1/orders/{}", w.own_order), key)
        .await;
    assert_eq!(own["order_number"], "SO-H-1");
    let other = format!("/v1/orders/{}", w.other_order);
    assert_problem(app.get(&other, key).await, 404, "not_found").await;
    for (method, path, body) in [
        (
            Method::PATCH,
            other.clone(),
            Some(json!({"notes": "mine now"})),
        ),
        (
            Method::PUT,
            other.clone(),
            Some(json!({"notes": "mine now"})),
        ),
        (Method::POST, format!("{other}/cancel"), None),
        (
            Method::POST,
            format!("{other}/items"),
            Some(json!({"items": [{"sku": "X", "quantity": 1}]})),
        ),
        (Method::DELETE, format!("{other}/items/CHAIR-OAK-02"), None),
    ] {
        let refused = app.send(method.clone(), &path, key, body).await;
        assert_problem(refused, 404, "not_found").await;
    }
    let untouched = app.get_json(&other, &w.tenant).await;
    assert_eq!(untouched["status"], "CREATED", "{untouched}");
    assert_eq!(untouched["items"].as_array().map(Vec::len), Some(1));

    // Its own orders: created for its customer, whatever it leaves out.
    let new = created(
        app.send(
            Method::POST,
            "/v1/orders",
            key,
            Some(json!({"order_number": "SO-H-2", "facility": "rotterdam-dc"})),
        )
        .await,
    )
    .await;
    assert_eq!(new["customer"], "HENDRIKS");
    let foreign = app
        .send(
            Method::POST,
            "/v1/orders",
            key,
            Some(json!({"order_number": "SO-H-3", "customer": "DEBOER"})),
        )
        .await;
    assert_problem(foreign, 403, "forbidden").await;
    let on_shipment = app
        .send(
            Method::POST,
            "/v1/orders",
            key,
            Some(json!({"order_number": "SO-H-4", "shipment_id": w.shared_shipment})),
        )
        .await;
    assert_problem(on_shipment, 403, "forbidden").await;
    let taken = app
        .send(
            Method::POST,
            "/v1/orders",
            key,
            Some(json!({"order_number": "SO-D-1", "facility": "rotterdam-dc"})),
        )
        .await;
    assert_problem(taken, 409, "duplicate").await;
    let changed = app
        .send(
            Method::PUT,
            &format!("/v1/orders/{}", w.own_order),
            key,
            Some(json!({"notes": "ring first"})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(
        changed["customer"], "HENDRIKS",
        "a replace keeps the key's customer"
    );
    // Shipments: those carrying its orders, with only its orders and nothing attached.
    let shipments = app.get_json("/v1/shipments", key).await;
    assert_eq!(codes(&shipments, "shipment_number"), ["SHP-SHARED"]);
    let shared = app
        .get_json(&format!("/v1/shipments/{}", w.shared_shipment), key)
        .await;
    let numbers: Vec<&str> = shared["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["SO-H-1"], "{shared}");
    let hidden = app
        .get(&format!("/v1/shipments/{}", w.other_shipment), key)
        .await;
    assert_problem(hidden, 404, "not_found").await;

    let cancelled = app
        .send(
            Method::POST,
            &format!("/v1/orders/{}/cancel", w.own_order),
            key,
            None,
        )
        .await;
    assert_eq!(cancelled.status(), 200);

    // The tenant sees everything.
    let all = app.get_json("/v1/orders", &w.tenant).await;
    assert_eq!(
        codes(&all, "order_number"),
        ["SO-H-1", "SO-D-1", "SO-D-2", "SO-H-2"]
    );
    let shared = app
        .get_json(&format!("/v1/shipments/{}", w.shared_shipment), &w.tenant)
        .await;
    assert_eq!(shared["orders"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn every_other_door_is_closed_to_a_customer_key() {
    let w = world().await;
    let (app, key) = (&w.app, w.hendriks.as_str());
    for (method, path) in [
        (Method::GET, "/v1/messages?since=0"),
        (Method::GET, "/v1/webhooks/endpoints"),
        (Method::GET, "/v1/webhooks/deliveries"),
        (Method::GET, "/v1/webhooks/event-types"),
        (Method::GET, "/v1/ingest"),
        (Method::POST, "/v1/ingest/explain"),
        (Method::GET, "/v1/rules"),
        (Method::GET, "/v1/activity"),
        (Method::GET, "/v1/sources"),
        (Method::GET, "/v1/outbound/targets"),
        (Method::GET, "/v1/parties"),
        (Method::PUT, "/v1/parties/HENDRIKS"),
        (Method::GET, "/v1/resources"),
        (Method::GET, "/v1/facilities/rotterdam-dc/skus"),
        (Method::POST, "/v1/shipments"),
        (Method::PATCH, "/v1/shipments/1"),
        (Method::GET, "/v1/shipments/1/pallets"),
        (Method::GET, "/v1/shipments/1/documents"),
    ] {
        let refused = app.send(method.clone(), path, key, Some(json!({}))).await;
        let problem = assert_problem(refused, 403, "forbidden").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("a customer key may not use"),
            "{method} {path}: {problem}"
        );
    }
    let me = app.get_json("/v1/key", key).await;
    assert_eq!(me["business"], "northwind", "{me}");
    assert_eq!(me["role"], "customer", "{me}");
    assert_eq!(me["party"], "HENDRIKS", "{me}");
}

#[tokio::test]
async fn a_customer_key_sends_only_its_own_orders_through_the_unified_endpoint() {
    let w = world().await;
    let (app, key) = (&w.app, w.hendriks.as_str());
    // The TMS feed names customer ACME-UK: not this key's.
    let (status, ack) = crate::ingest::post_json(app, key, "tms-order-create.json").await;
    assert_eq!(status, 403, "{ack}");
    assert_eq!(ack["results"][0]["errors"][0]["code"], "forbidden", "{ack}");
    assert_eq!(
        ack["results"][0]["errors"][0]["path"], "$.customer.code",
        "{ack}"
    );
    // A shipment is the business's to plan.
    let (status, ack) = crate::ingest::post_json(app, key, "wms-shipment-with-orders.json").await;
    assert_eq!(status, 403, "{ack}");
    assert_eq!(ack["results"][0]["errors"][0]["code"], "forbidden", "{ack}");
    // Its own customer's order goes through.
    let order = crate::ingest::feed("tms-order-create.json").replace("ACME-UK", "HENDRIKS");
    let response = crate::ingest::post(app, key, "application/json", order).await;
    assert_eq!(response.status(), 201);
    let listed = app.get_json("/v1/orders", key).await;
    assert_eq!(
        codes(&listed, "order_number"),
        ["SO-H-1", "TMS-2026-118734"]
    );
    // Another customer's order cannot be cancelled by number.
    let cancel = crate::ingest::feed("tms-order-cancel.json");
    let cancel = cancel.replace("TMS-2026-118734", "SO-D-1");
    let response = crate::ingest::post(app, key, "application/json", cancel).await;
    let ack: Value = response.json().await.unwrap();
    assert_eq!(ack["results"][0]["errors"][0]["code"], "not_found", "{ack}");
    let untouched = app
        .get_json(&format!("/v1/orders/{}", w.other_order), &w.tenant)
        .await;
    assert_eq!(untouched["status"], "CREATED");
}

#[tokio::test]
async fn over_graphql_a_customer_key_may_only_write_its_own_orders() {
    use crate::graphql::{data, error_code};
    let w = world().await;
    let (app, key) = (&w.app, w.hendriks.as_str());
    assert_eq!(data(app, key, "{ ping }", json!({})).await["ping"], true);
    let shipment = format!(
        "{{ shipment(id: {}) {{ orders {{ orderNumber }} }} }}",
        w.shared_shipment
    );
    for query in [
        "{ businesses { slug } }".to_string(),
        shipment.clone(),
        format!(
            "{{ mine: shipment(id: {}) {{ shipmentNumber }} }}",
            w.shared_shipment
        ),
        "query { ...everything } fragment everything on QueryRoot { businesses { slug } }"
            .to_string(),
        "{ ordersConnection(first: 10) { edges { node { orderNumber } } } }".to_string(),
        "{ webhookEndpoints { id } }".to_string(),
    ] {
        assert_eq!(
            error_code(app, key, &query, json!({})).await,
            "forbidden",
            "{query}"
        );
    }
    assert_eq!(
        data(app, &w.tenant, &shipment, json!({})).await["shipment"]["orders"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    let create = "mutation($input: OrderInput!) { createOrder(input: $input) { success id } }";
    let input = |number: &str, client: Option<&str>| {
        json!({"input": {"businessSlug": "northwind", "facilitySlug": "rotterdam-dc",
        "orderNumber": number, "direction": "OUTBOUND", "clientName": client, "items": []}})
    };
    let made = data(app, key, create, input("GQL-H-1", None)).await;
    let id = made["createOrder"]["id"].as_i64().unwrap();
    let read = app.get_json(&format!("/v1/orders/{id}"), key).await;
    assert_eq!(read["customer"], "HENDRIKS");
    assert_eq!(
        error_code(app, key, create, input("GQL-H-2", Some("DEBOER"))).await,
        "forbidden"
    );
    let add =
        "mutation($input: AddItemsToOrderInput!) { addItemsToOrder(input: $input) { success } }";
    let other = json!({"input": {"id": w.other_order, "items": [{"sku": "X", "quantity": 1, "quantityUnit": "CASE"}]}});
    assert_eq!(error_code(app, key, add, other).await, "not_found");
}

#[tokio::test]
async fn archiving_the_customer_revokes_its_keys() {
    let w = world().await;
    assert_eq!(w.app.get("/v1/orders", &w.hendriks).await.status(), 200);
    let archived = w
        .app
        .send(Method::DELETE, "/v1/parties/HENDRIKS", &w.tenant, None)
        .await;
    assert_eq!(archived.status(), 200);
    let refused = w.app.get("/v1/orders", &w.hendriks).await;
    assert_problem(refused, 401, "unauthorized").await;
    assert_eq!(w.app.get("/v1/orders", &w.tenant).await.status(), 200);
}

#[tokio::test]
async fn a_customer_key_cannot_open_subscriptions() {
    let w = world().await;
    let mut socket = crate::support::graphql_ws(&w.app.base, &w.hendriks).await;
    assert!(crate::support::refused_session(&mut socket).await);
}
