//! Trips for subcontractors: a shipment assigned to a subcontractor party, its stops,
//! and a key bound to the subcontractor that sees exactly the shipments assigned to
//! it, reports on their stops, pulls and receives its trip events, and loses a
//! shipment when it is taken away.

use std::time::Duration;

use freightgate::domain::{KeyRole, Scope, Slug};
use freightgate::store;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, written};
use crate::webhooks::receiver::{Receiver, types};

async fn role_key(app: &TestApp, role: KeyRole) -> Result<String, String> {
    let slug = Slug::parse("northwind").unwrap();
    let scopes = [Scope::Ingest, Scope::Read, Scope::Write, Scope::Webhooks];
    written(&app.db, async |t| {
        store::keys::create_with_role(t, &slug, "partner", &scopes, None, &role).await
    })
    .await
    .map(|k| k.plaintext)
    .map_err(|e| e.to_string())
}

async fn ok(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

fn numbers(listing: &Value) -> Vec<String> {
    let mut found: Vec<String> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["shipment_number"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    found
}

fn message_types(listing: &Value) -> Vec<String> {
    listing["messages"]
        .as_array()
        .or_else(|| listing["items"].as_array())
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

struct World {
    app: TestApp,
    tenant: String,
    vandijk: String,
    bosman: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let tenant = app
        .key(
            "northwind",
            &[Scope::Ingest, Scope::Read, Scope::Write, Scope::Webhooks],
        )
        .await;
    crate::roles::put_parties(
        &app,
        &tenant,
        &[
            ("HENDRIKS", "CUSTOMER"),
            ("VANDIJK", "SUBCONTRACTOR"),
            ("BOSMAN", "SUBCONTRACTOR"),
        ],
    )
    .await;
    let vandijk = role_key(&app, KeyRole::Subcontractor("VANDIJK".into()))
        .await
        .expect("a subcontractor key");
    let bosman = role_key(&app, KeyRole::Subcontractor("BOSMAN".into()))
        .await
        .expect("a subcontractor key");
    World {
        app,
        tenant,
        vandijk,
        bosman,
    }
}

#[tokio::test]
async fn a_subcontractor_key_needs_a_subcontractor_party() {
    let w = world().await;
    let refused = role_key(&w.app, KeyRole::Subcontractor("HENDRIKS".into())).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("is not a subcontractor")),
        "{refused:?}"
    );
    let me = w.app.get_json("/v1/key", &w.vandijk).await;
    assert_eq!(me["role"], "subcontractor", "{me}");
    assert_eq!(me["party"], "VANDIJK", "{me}");
}

#[tokio::test]
async fn a_subcontractor_sees_exactly_its_assigned_shipments_and_loses_them_when_unassigned() {
    let w = world().await;
    let (app, tenant) = (&w.app, w.tenant.as_str());

    // The subcontractor's own endpoint: only its trips' events reach it.
    let receiver = Receiver::start().await;
    let endpoint = ok(
        app.send(
            Method::POST,
            "/v1/webhooks/endpoints",
            &w.vandijk,
            Some(json!({"url": receiver.url})),
        )
        .await,
        201,
    )
    .await;
    let tenant_endpoints = app.get_json("/v1/webhooks/endpoints", &w.bosman).await;
    assert_eq!(
        tenant_endpoints["endpoints"].as_array().map(Vec::len),
        Some(0),
        "another subcontractor does not see it: {tenant_endpoints}"
    );
    let foreign = app
        .get(
            &format!("/v1/webhooks/endpoints/{}", endpoint["id"]),
            &w.bosman,
        )
        .await;
    assert_problem(foreign, 404, "not_found").await;

    let trip = |number: &str, subcontractor: Option<&str>| {
        json!({"shipment_number": number, "facility": "rotterdam-dc", "subcontractor": subcontractor,
        "stops": [
            {"seq": 1, "kind": "PICKUP", "location": "Rotterdam DC",
             "planned_from": "2026-06-11T06:00:00Z", "planned_to": "2026-06-11T07:00:00Z"},
            {"seq": 2, "kind": "DELIVERY", "location": "Hendriks Utrecht",
             "address": {"city": "Utrecht", "country": "NL"},
             "planned_from": "2026-06-11T09:00:00Z"}
        ]})
    };
    let mine = ok(
        app.send(
            Method::POST,
            "/v1/shipments",
            tenant,
            Some(trip("TRIP-1", Some("VANDIJK"))),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(mine["subcontractor"], "VANDIJK");
    assert_eq!(mine["stops"][1]["status"], "PLANNED", "{mine}");
    let theirs = ok(
        app.send(
            Method::POST,
            "/v1/shipments",
            tenant,
            Some(trip("TRIP-2", Some("BOSMAN"))),
        )
        .await,
        201,
    )
    .await;
    ok(
        app.send(
            Method::POST,
            "/v1/shipments",
            tenant,
            Some(trip("TRIP-3", None)),
        )
        .await,
        201,
    )
    .await;
    // A trip goes only to a subcontractor party.
    let wrong = app
        .send(
            Method::POST,
            "/v1/shipments",
            tenant,
            Some(trip("TRIP-4", Some("HENDRIKS"))),
        )
        .await;
    let problem = assert_problem(wrong, 422, "unknown_party").await;
    assert_eq!(problem["errors"][0]["path"], "$.subcontractor", "{problem}");

    // The subcontractor sees exactly its shipment.
    let listed = app.get_json("/v1/shipments", &w.vandijk).await;
    assert_eq!(numbers(&listed), ["TRIP-1"]);
    let all = app.get_json("/v1/shipments", tenant).await;
    assert_eq!(
        numbers(&all),
        ["TRIP-1", "TRIP-2", "TRIP-3"],
        "the tenant sees all"
    );
    let mine_id = mine["id"].as_i64().unwrap();
    let theirs_id = theirs["id"].as_i64().unwrap();
    let read = app
        .get_json(&format!("/v1/shipments/{mine_id}"), &w.vandijk)
        .await;
    assert_eq!(read["stops"].as_array().map(Vec::len), Some(2), "{read}");
    for path in [
        format!("/v1/shipments/{theirs_id}"),
        format!("/v1/shipments/{theirs_id}/pallets"),
    ] {
        assert_problem(app.get(&path, &w.vandijk).await, 404, "not_found").await;
    }

    // It reports on its stops, and only on its own.
    let reported = ok(
        app.send(
            Method::PATCH,
            &format!("/v1/shipments/{mine_id}/stops/1"),
            &w.vandijk,
            Some(json!({"status": "COMPLETED", "note": "loaded 26 pallets"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reported["stops"][0]["status"], "COMPLETED", "{reported}");
    assert!(
        reported["stops"][0]["departed_at"].is_string(),
        "COMPLETED stamps the departure: {reported}"
    );
    let elsewhere = app
        .send(
            Method::PATCH,
            &format!("/v1/shipments/{theirs_id}/stops/1"),
            &w.vandijk,
            Some(json!({"status": "ARRIVED"})),
        )
        .await;
    assert_problem(elsewhere, 404, "not_found").await;
    let no_stop = app
        .send(
            Method::PATCH,
            &format!("/v1/shipments/{mine_id}/stops/9"),
            &w.vandijk,
            Some(json!({"status": "ARRIVED"})),
        )
        .await;
    assert_problem(no_stop, 404, "not_found").await;
    let unknown = app
        .send(
            Method::PATCH,
            &format!("/v1/shipments/{mine_id}/stops/2"),
            &w.vandijk,
            Some(json!({"status": "ARRIVED", "eta": "soon"})),
        )
        .await;
    assert_problem(unknown, 422, "").await;
    for (method, path) in [
        (Method::PATCH, format!("/v1/shipments/{mine_id}")),
        (Method::POST, format!("/v1/shipments/{mine_id}/cancel")),
        (Method::POST, "/v1/shipments".to_string()),
        (Method::GET, "/v1/orders".to_string()),
        (Method::GET, "/v1/parties".to_string()),
        (Method::GET, "/v1/webhooks/deliveries".to_string()),
    ] {
        let refused = app
            .send(method.clone(), &path, &w.vandijk, Some(json!({})))
            .await;
        let problem = assert_problem(refused, 403, "forbidden").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("a subcontractor key may not use"),
            "{method} {path}: {problem}"
        );
    }

    // Through the unified endpoint it reports with its own system's message.
    let plain = |feed: &str| crate::ingest::feed(feed);
    let mut arrived: Value =
        serde_json::from_str(&plain("subcontractor-stop-arrived.json")).unwrap();
    arrived["tripRef"] = json!("TRIP-1");
    let ack = crate::ingest::post(app, &w.vandijk, "application/json", arrived.to_string()).await;
    ok(ack, 200).await;
    let read = app
        .get_json(&format!("/v1/shipments/{mine_id}"), tenant)
        .await;
    assert_eq!(read["stops"][1]["status"], "ARRIVED", "{read}");
    assert_eq!(
        read["stops"][1]["arrived_at"], "2026-06-11T07:12:00Z",
        "{read}"
    );
    // Another's trip is unknown to it, and a plan is not its to send.
    arrived["tripRef"] = json!("TRIP-2");
    let ack = crate::ingest::post(app, &w.vandijk, "application/json", arrived.to_string()).await;
    let problem = ok(ack, 422).await;
    assert!(problem.to_string().contains("not_found"), "{problem}");
    let plan = crate::ingest::post(
        app,
        &w.vandijk,
        "application/json",
        plain("tms-trip-plan.json"),
    )
    .await;
    let problem = ok(plan, 403).await;
    assert!(problem.to_string().contains("forbidden"), "{problem}");

    // It pulls only its trips' events.
    let pulled = app.get_json("/v1/messages?since=0", &w.vandijk).await;
    let pulled_types = message_types(&pulled);
    assert_eq!(
        pulled_types,
        [
            "trip.created",
            "stop.updated",
            "trip.updated",
            "stop.updated",
            "trip.updated"
        ],
        "{pulled}"
    );
    let bosman = app.get_json("/v1/messages?since=0", &w.bosman).await;
    assert_eq!(message_types(&bosman), ["trip.created"], "{bosman}");

    // The planner moves the trip to another subcontractor: it is gone for VANDIJK.
    ok(
        app.send(
            Method::PATCH,
            &format!("/v1/shipments/{mine_id}"),
            tenant,
            Some(json!({"subcontractor": "BOSMAN"})),
        )
        .await,
        200,
    )
    .await;
    let listed = app.get_json("/v1/shipments", &w.vandijk).await;
    assert_eq!(numbers(&listed), Vec::<String>::new(), "{listed}");
    let gone = app
        .get(&format!("/v1/shipments/{mine_id}"), &w.vandijk)
        .await;
    assert_problem(gone, 404, "not_found").await;
    let now_bosman = app.get_json("/v1/shipments", &w.bosman).await;
    assert_eq!(numbers(&now_bosman), ["TRIP-1", "TRIP-2"]);
    // Unassigned altogether: nobody's but the tenant's.
    ok(
        app.send(
            Method::PATCH,
            &format!("/v1/shipments/{mine_id}"),
            tenant,
            Some(json!({"subcontractor": null})),
        )
        .await,
        200,
    )
    .await;
    let now_bosman = app.get_json("/v1/shipments", &w.bosman).await;
    assert_eq!(numbers(&now_bosman), ["TRIP-2"]);
    let bosman = app.get_json("/v1/messages?since=0", &w.bosman).await;
    assert_eq!(
        message_types(&bosman),
        ["trip.created", "trip.created", "trip.cancelled"],
        "{bosman}"
    );

    // Its endpoint received its trip's life and nothing else of the business.
    let pushes = receiver
        .wait_for(Duration::from_secs(20), |p| p.len() >= 6)
        .await;
    assert_eq!(
        types(&pushes),
        [
            "trip.created",
            "stop.updated",
            "trip.updated",
            "stop.updated",
            "trip.updated",
            "trip.cancelled"
        ]
    );
    let created = pushes[0].json();
    assert_eq!(created["data"]["shipment_number"], "TRIP-1");
    assert_eq!(created["data"]["subcontractor"], "VANDIJK");
    assert_eq!(created["data"]["stops"][1]["location"], "Hendriks Utrecht");
    assert_eq!(pushes[5].json()["data"]["subcontractor"], "BOSMAN");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.pushes().len(), 6, "nothing else reaches it");
}

#[tokio::test]
async fn a_trip_plan_from_the_tms_is_assigned_and_its_stops_reported_through_rules() {
    let w = world().await;
    let (app, tenant) = (&w.app, w.tenant.as_str());
    let plan = crate::ingest::post(
        app,
        tenant,
        "application/json",
        crate::ingest::feed("tms-trip-plan.json"),
    )
    .await;
    ok(plan, 201).await;
    let listed = app.get_json("/v1/shipments", &w.vandijk).await;
    assert_eq!(numbers(&listed), ["TRIP-240611-07"]);
    let id = listed["items"][0]["id"].as_i64().unwrap();
    let refused = crate::ingest::post(
        app,
        &w.vandijk,
        "application/json",
        crate::ingest::feed("subcontractor-stop-refused.json"),
    )
    .await;
    ok(refused, 200).await;
    let read = app
        .get_json(&format!("/v1/shipments/{id}"), &w.vandijk)
        .await;
    let stop = &read["stops"][1];
    assert_eq!(stop["status"], "FAILED", "{read}");
    assert_eq!(stop["departed_at"], "2026-06-11T07:40:00Z");
    assert_eq!(
        stop["note"],
        "Consignee refused 2 pallets: damaged wrapping"
    );
    assert_eq!(
        read["stops"][0]["status"], "PLANNED",
        "the other stop is as planned"
    );
    assert_eq!(stop["address"]["city"], "Utrecht");
    // A plan naming an unknown haulier is refused where the sender wrote it.
    let mut unknown: Value =
        serde_json::from_str(&crate::ingest::feed("tms-trip-plan.json")).unwrap();
    unknown["trip"]["ref"] = json!("TRIP-X");
    unknown["trip"]["haulier"] = json!("nobody");
    let ack = crate::ingest::post(app, tenant, "application/json", unknown.to_string()).await;
    let body = ok(ack, 422).await;
    assert!(
        body.to_string().contains("$.trip.haulier"),
        "the path points into the payload: {body}"
    );
}

#[tokio::test]
async fn a_subcontractor_scans_pallets_and_sends_pods_for_its_trips_only() {
    let w = world().await;
    let (app, tenant) = (&w.app, w.tenant.as_str());
    let feed = crate::ingest::feed;
    let post = |key: &str, body: String| {
        let key = key.to_string();
        async move { crate::ingest::post(app, &key, "application/json", body).await }
    };
    // The WMS announces the shipment with its orders; the planner gives it to VANDIJK.
    let ack = ok(
        post(tenant, feed("wms-shipment-with-orders.json")).await,
        201,
    )
    .await;
    let id = ack["results"][0]["id"].as_i64().unwrap();
    // Before it is assigned, the subcontractor cannot scan onto it.
    let early = ok(post(&w.vandijk, feed("dock-pallet-scan.json")).await, 422).await;
    assert!(early.to_string().contains("not_found"), "{early}");
    ok(
        app.send(
            Method::PATCH,
            &format!("/v1/shipments/{id}"),
            tenant,
            Some(json!({"subcontractor": "VANDIJK"})),
        )
        .await,
        200,
    )
    .await;
    ok(post(&w.vandijk, feed("dock-pallet-scan.json")).await, 200).await;
    ok(post(&w.vandijk, feed("pod-document.json")).await, 200).await;
    // Another subcontractor's POD for the same order is refused, as unknown.
    let foreign = ok(post(&w.bosman, feed("pod-document.json")).await, 422).await;
    assert!(foreign.to_string().contains("does not exist"), "{foreign}");
    let read = app.get_json(&format!("/v1/shipments/{id}"), tenant).await;
    assert_eq!(read["pallets"][0]["pallet_id"], "PLT-0007731", "{read}");
    assert_eq!(read["documents"][0]["document_type"], "POD", "{read}");
    assert_eq!(
        read["documents"].as_array().map(Vec::len),
        Some(1),
        "{read}"
    );
}

#[tokio::test]
async fn over_graphql_a_subcontractor_key_reads_only_its_assigned_shipments() {
    use crate::graphql::{data, error_code};
    let w = world().await;
    let (app, tenant) = (&w.app, w.tenant.as_str());
    let mut ids = Vec::new();
    for (number, subcontractor) in [("TRIP-1", "VANDIJK"), ("TRIP-2", "BOSMAN")] {
        let created = ok(
            app.send(
                Method::POST,
                "/v1/shipments",
                tenant,
                Some(json!({"shipment_number": number, "subcontractor": subcontractor})),
            )
            .await,
            201,
        )
        .await;
        ids.push(created["id"].as_i64().unwrap());
    }
    let query = "query($id: Int!) { shipment(id: $id) { shipmentNumber } }";
    let mine = data(app, &w.vandijk, query, json!({"id": ids[0]})).await;
    assert_eq!(mine["shipment"]["shipmentNumber"], "TRIP-1");
    let theirs = error_code(app, &w.vandijk, query, json!({"id": ids[1]})).await;
    assert_eq!(theirs, "not_found");
    let tenant_reads = data(app, tenant, query, json!({"id": ids[1]})).await;
    assert_eq!(tenant_reads["shipment"]["shipmentNumber"], "TRIP-2");
    for refused in [
        "{ businesses { slug } }",
        "{ pushMessages(input: {businessSlug: \"northwind\", since: \"2026-01-01T00:00:00Z\"}) { __typename } }",
    ] {
        let code = error_code(app, &w.vandijk, refused, json!({})).await;
        assert_eq!(code, "forbidden", "{refused}");
    }
    let mut socket = crate::support::graphql_ws(&w.app.base, &w.vandijk).await;
    assert!(crate::support::refused_session(&mut socket).await);
}
