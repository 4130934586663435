//! Two businesses side by side: neither can read, change, list, explain, replay,
//! subscribe to or be pushed the other's data, through REST, GraphQL, messages
//! pull and webhooks.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::graphql::{data, error_code};
use crate::support::{TestApp, assert_problem};
use crate::webhooks::receiver::{Receiver, types};
use crate::webhooks::{ingest, key, register_url};

const WAIT: Duration = Duration::from_secs(15);

/// Ids of the entities an acknowledgement names, by entity kind.
fn ids(ack: &Value, entity: &str) -> Vec<i64> {
    ack["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity"] == entity)
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// Northwind (a WMS shipment with orders) and acme (a TMS order), each with a
/// webhook receiver; returns everything the tests poke at.
struct Two {
    app: TestApp,
    north: String,
    acme: String,
    north_receiver: Receiver,
    acme_receiver: Receiver,
    north_endpoint: i64,
    north_secret: String,
    acme_endpoint: i64,
    north_ack: Value,
    acme_ack: Value,
}

async fn two_businesses() -> Two {
    let app = TestApp::spawn().await;
    let north = key(&app, "northwind").await;
    let acme = key(&app, "acme").await;
    let north_receiver = Receiver::start().await;
    let acme_receiver = Receiver::start().await;
    let (north_endpoint, north_secret) = register_url(&app, &north, &north_receiver.url).await;
    let (acme_endpoint, _) = register_url(&app, &acme, &acme_receiver.url).await;
    let north_ack = ingest(&app, &north, "wms-shipment-with-orders.json").await;
    let acme_ack = ingest(&app, &acme, "tms-order-create.json").await;
    Two {
        app,
        north,
        acme,
        north_receiver,
        acme_receiver,
        north_endpoint,
        north_secret,
        acme_endpoint,
        north_ack,
        acme_ack,
    }
}

#[tokio::test]
async fn over_rest_neither_business_reads_lists_explains_or_touches_the_other() {
    let t = two_businesses().await;
    let app = &t.app;
    let north_shipment = ids(&t.north_ack, "shipment")[0];
    let shipment: Value = app
        .get_json(&format!("/v1/shipments/{north_shipment}"), &t.north)
        .await;
    let north_order = shipment["orders"][0]["id"]
        .as_i64()
        .expect("northwind's order id");
    let acme_order = ids(&t.acme_ack, "order")[0];
    assert_eq!(
        app.get(&format!("/v1/shipments/{north_shipment}"), &t.north)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!("/v1/orders/{acme_order}"), &t.acme)
            .await
            .status(),
        200
    );
    let north_logging = t.north_ack["logging_id"].as_str().unwrap();
    for (path, key) in [
        (format!("/v1/shipments/{north_shipment}"), &t.acme),
        (format!("/v1/orders/{north_order}"), &t.acme),
        (format!("/v1/orders/{acme_order}"), &t.north),
        (format!("/v1/ingest/{north_logging}"), &t.acme),
    ] {
        assert_problem(app.get(&path, key).await, 404, "not_found").await;
    }

    // Explain and ingest use only the caller's rules: northwind's feed means
    // nothing to acme, and acme sending it changes nothing of northwind's.
    let wms = crate::ingest::feed("wms-shipment-with-orders.json");
    let explained: Value = app
        .client
        .post(app.url("/v1/ingest/explain"))
        .bearer_auth(&t.acme)
        .header("content-type", "application/json")
        .body(wms.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let explanation = &explained["documents"][0]["explanation"];
    assert!(explanation["chosen"].is_null(), "{explanation}");
    assert!(explanation["rules_for_other_businesses"].as_u64().unwrap() > 0);
    assert!(
        !explanation.to_string().contains("northwind-wms"),
        "{explanation}"
    );
    let before: Value = app
        .get_json(&format!("/v1/shipments/{north_shipment}"), &t.north)
        .await;
    let sent = crate::ingest::post(app, &t.acme, "application/json", wms).await;
    assert_problem(sent, 422, "").await;
    let after: Value = app
        .get_json(&format!("/v1/shipments/{north_shipment}"), &t.north)
        .await;
    assert_eq!(before, after);

    // Messages pull: each sees its own events only.
    for (key, own, other) in [
        (&t.north, "northwind", "acme"),
        (&t.acme, "acme", "northwind"),
    ] {
        let pulled: Value = app.get_json("/v1/messages", key).await;
        let messages = pulled["messages"].as_array().unwrap();
        assert!(!messages.is_empty(), "{own} has messages");
        for m in messages {
            assert_eq!(m["message"]["data"]["business"], own, "{m}");
            assert!(!m.to_string().contains(other), "{own} sees {other}: {m}");
        }
    }
}

#[tokio::test]
async fn webhook_endpoints_deliveries_and_pushes_stay_with_their_business() {
    let t = two_businesses().await;
    let app = &t.app;
    // Each receiver gets its own business's events and nothing else.
    let north_pushes = t.north_receiver.wait_for(WAIT, |p| p.len() >= 2).await;
    let acme_pushes = t.acme_receiver.wait_for(WAIT, |p| !p.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (pushes, own) in [
        (t.north_receiver.pushes(), "northwind"),
        (t.acme_receiver.pushes(), "acme"),
    ] {
        for push in &pushes {
            assert_eq!(push.json()["data"]["business"], own, "{}", push.body);
        }
    }
    assert!(types(&north_pushes).contains(&"shipment.created".to_string()));
    assert_eq!(types(&acme_pushes)[0], "order.created");

    let deliveries: Value = app
        .get_json(
            &format!("/v1/webhooks/endpoints/{}/deliveries", t.north_endpoint),
            &t.north,
        )
        .await;
    let north_delivery = deliveries["deliveries"][0]["id"].as_i64().unwrap();
    let n = t.north_endpoint;
    let a = t.acme_endpoint;
    let item = format!("/v1/webhooks/endpoints/{n}");
    let since = json!({"since": "2020-01-01T00:00:00Z"});
    let requests: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::GET, item.clone(), None),
        (
            reqwest::Method::PATCH,
            item.clone(),
            Some(json!({"url": "http://127.0.0.1:9999/stolen"})),
        ),
        (reqwest::Method::DELETE, item.clone(), None),
        (
            reqwest::Method::POST,
            format!("{item}/disable"),
            Some(json!({})),
        ),
        (
            reqwest::Method::POST,
            format!("{item}/enable"),
            Some(json!({})),
        ),
        (reqwest::Method::GET, format!("{item}/secret"), None),
        (
            reqwest::Method::POST,
            format!("{item}/rotate-secret"),
            Some(json!({})),
        ),
        (reqwest::Method::GET, format!("{item}/deliveries"), None),
        (reqwest::Method::GET, format!("{item}/attempts"), None),
        (
            reqwest::Method::POST,
            format!("{item}/recover"),
            Some(since.clone()),
        ),
        (
            reqwest::Method::POST,
            format!("{item}/deliveries/{north_delivery}/replay"),
            Some(json!({})),
        ),
        // Northwind's delivery through acme's own endpoint.
        (
            reqwest::Method::POST,
            format!("/v1/webhooks/endpoints/{a}/deliveries/{north_delivery}/replay"),
            Some(json!({})),
        ),
    ];
    for (method, path, body) in requests {
        let mut request = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&t.acme);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_problem(response, 404, "not_found").await;
    }
    let listed: Value = app.get_json("/v1/webhooks/endpoints", &t.acme).await;
    let listed_ids: Vec<i64> = listed["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed_ids, [a]);
    // Northwind's endpoint is as it was: same URL, enabled, same secret, and no
    // delivery was replayed (still exactly the ones the events made).
    let own: Value = app.get_json(&item, &t.north).await;
    assert_eq!(
        (own["url"].as_str(), own["disabled"].as_bool()),
        (Some(t.north_receiver.url.as_str()), Some(false))
    );
    let secret: Value = app.get_json(&format!("{item}/secret"), &t.north).await;
    assert_eq!(secret["secret"], t.north_secret);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids: Vec<String> = t
        .north_receiver
        .pushes()
        .iter()
        .map(|p| p.header("webhook-id"))
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "a replay went through: {ids:?}");
}

#[tokio::test]
async fn over_graphql_queries_and_mutations_never_cross_businesses() {
    let t = two_businesses().await;
    let app = &t.app;
    let north_shipment = ids(&t.north_ack, "shipment")[0];
    let q = "query($id: Int!) { shipment(id: $id) { id } }";
    assert_eq!(
        error_code(app, &t.acme, q, json!({"id": north_shipment})).await,
        "not_found"
    );
    let lists = "{ shipmentsConnection { edges { node { id } } } ordersConnection { edges { node { id } } } webhookEndpoints { id } businesses { slug } }";
    let seen = data(app, &t.acme, lists, json!({})).await;
    assert_eq!(seen["shipmentsConnection"]["edges"], json!([]));
    let orders: Vec<i64> = seen["ordersConnection"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(orders, ids(&t.acme_ack, "order"));
    assert_eq!(seen["webhookEndpoints"], json!([{"id": t.acme_endpoint}]));
    assert_eq!(seen["businesses"], json!([{"slug": "acme"}]));

    let n = t.north_endpoint;
    for (what, operation) in [
        (
            "read",
            format!("{{ webhookEndpoint(id: {n}) {{ id url }} }}"),
        ),
        (
            "update",
            format!(
                "mutation {{ updateWebhookEndpoint(id: {n}, input: {{url: \"http://127.0.0.1:9999/x\"}}) {{ id }} }}"
            ),
        ),
        (
            "delete",
            format!("mutation {{ deleteWebhookEndpoint(id: {n}) }}"),
        ),
        (
            "disable",
            format!("mutation {{ disableWebhookEndpoint(id: {n}) {{ id }} }}"),
        ),
        (
            "rotate",
            format!("mutation {{ rotateWebhookSecret(id: {n}) {{ secret }} }}"),
        ),
        (
            "replay",
            format!(
                "mutation {{ replayWebhookDelivery(endpointId: {n}, deliveryId: 1) {{ state }} }}"
            ),
        ),
        (
            "recover",
            format!(
                "mutation {{ recoverWebhookEndpoint(id: {n}, since: \"2020-01-01T00:00:00Z\") }}"
            ),
        ),
    ] {
        assert_eq!(
            error_code(app, &t.acme, &operation, json!({})).await,
            "not_found",
            "{what}"
        );
    }
    let foreign = [
        "mutation { processPayload(input: {businessSlug: \"northwind\", facilitySlug: \"rotterdam-dc\", payload: {}}) { success } }",
        "{ pushMessages(input: {since: \"2020-01-01T00:00:00Z\", businessSlug: \"northwind\"}) { id } }",
        "mutation { updateShipment(input: {businessSlug: \"northwind\", facilitySlug: \"rotterdam-dc\", shipmentNumber: \"NW-SHP-240611-0042\", carrier: \"X\"}) { success } }",
    ];
    for operation in foreign {
        assert_eq!(
            error_code(app, &t.acme, operation, json!({})).await,
            "forbidden",
            "{operation}"
        );
    }
    let own = format!("{{ webhookEndpoint(id: {n}) {{ url disabled }} }}");
    let own = data(app, &t.north, &own, json!({})).await;
    assert_eq!(own["webhookEndpoint"]["url"], t.north_receiver.url);
    assert_eq!(own["webhookEndpoint"]["disabled"], false);
}

async fn subscribe(
    app: &TestApp,
    key: &str,
    business: &str,
) -> impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
+ SinkExt<Message>
+ Unpin {
    let mut socket = crate::support::graphql_ws(&app.base, key).await;
    assert_eq!(
        next_json(&mut socket, Duration::from_secs(10))
            .await
            .unwrap()["type"],
        "connection_ack"
    );
    let query = format!(
        "subscription {{ pushMessage(filter: {{businessSlug: \"{business}\"}}) {{ businessSlug message }} }}"
    );
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    socket
}

async fn next_json<S>(socket: &mut S, within: Duration) -> Option<Value>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).ok();
        }
    }
}

#[tokio::test]
async fn subscriptions_stream_only_the_subscribers_own_business() {
    let t = two_businesses().await;
    let app = &t.app;
    let mut foreign = subscribe(app, &t.acme, "northwind").await;
    let refused = next_json(&mut foreign, Duration::from_secs(10))
        .await
        .unwrap();
    // Refused either as a protocol error or as a result with an error and no data.
    assert!(
        refused["type"] == "error" || refused["type"] == "next",
        "{refused}"
    );
    assert!(refused["payload"]["data"].is_null(), "{refused}");
    assert!(
        refused.to_string().contains("cannot act for `northwind`"),
        "{refused}"
    );

    let mut north = subscribe(app, &t.north, "northwind").await;
    let mut acme = subscribe(app, &t.acme, "acme").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    ingest(app, &t.north, "dock-pallet-scan.json").await;
    let got = next_json(&mut north, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(got["type"], "next", "{got}");
    assert_eq!(
        got["payload"]["data"]["pushMessage"]["businessSlug"],
        "northwind"
    );
    assert!(got.to_string().contains("PLT-0007731"));
    let leaked = next_json(&mut acme, Duration::from_secs(2)).await;
    assert!(
        leaked.is_none(),
        "acme was streamed northwind's pallet: {leaked:?}"
    );
}

#[tokio::test]
async fn a_payload_no_rule_matches_for_a_misspelt_business_says_rules_exist_for_others() {
    let app = TestApp::spawn().await;
    let key = app
        .key("northwnd", &[freightgate::domain::Scope::Ingest])
        .await;
    let response = crate::ingest::post(
        &app,
        &key,
        "application/json",
        crate::ingest::feed("wms-shipment-with-orders.json"),
    )
    .await;
    let problem = assert_problem(response, 422, "no_matching_rule").await;
    let detail = problem["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("no rule is written for business `northwnd`"),
        "{detail}"
    );
    assert!(
        detail.contains("`freightgate rules list --business northwnd`"),
        "{detail}"
    );
    assert!(detail.contains("for other businesses"), "{detail}");
    assert!(detail.contains("freightgate keys list"), "{detail}");
}

#[tokio::test]
async fn ids_say_nothing_of_how_much_other_businesses_wrote() {
    use freightgate::store::entities::{message, order};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let north = key(&app, "northwind").await;
    let acme = key(&app, "acme").await;
    // Northwind writes first: three shipments and their messages.
    let answer = crate::ingest::post(
        &app,
        &north,
        "text/csv",
        crate::ingest::feed("expected-shipments.csv"),
    )
    .await;
    assert_eq!(answer.status(), 201);
    let north_ack: Value = answer.json().await.unwrap();
    let shipments = ids(&north_ack, "shipment");
    assert_eq!(shipments.len(), 3, "{north_ack}");
    assert!(
        !(shipments[1] == shipments[0] + 1 && shipments[2] == shipments[1] + 1),
        "consecutive shipments got consecutive ids: {shipments:?}"
    );
    // Acme's first order: its row is the first of the table, its first message is
    // the fourth; neither number shows.
    let acme_ack = ingest(&app, &acme, "tms-order-create.json").await;
    let shown = ids(&acme_ack, "order")[0];
    let orders = order::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(orders.len(), 1, "the CSV holds shipments only");
    let row = orders[0].id;
    assert_ne!(shown, row);
    assert_eq!(shown, crate::support::public_id(row));
    let read = app.get(&format!("/v1/orders/{shown}"), &acme).await;
    assert_eq!(read.status(), 200);
    assert_problem(
        app.get(&format!("/v1/orders/{row}"), &acme).await,
        404,
        "not_found",
    )
    .await;
    let pulled: Value = app.get_json("/v1/messages", &acme).await;
    let first = pulled["messages"][0]["id"].as_i64().unwrap();
    let first_row = message::Entity::find()
        .filter(message::Column::EventType.eq("order.created"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("acme's message")
        .id;
    assert!(
        first_row > 3,
        "northwind's messages come first: {first_row}"
    );
    assert_ne!(first, first_row);
    assert!(
        first > 1_000,
        "an id this small says how many came before: {first}"
    );
    // Paging by the opaque ids still walks the messages in order, each once.
    let all: Value = app.get_json("/v1/messages?limit=1000", &north).await;
    let all: Vec<i64> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(all.len() >= 3, "{all:?}");
    let mut paged = Vec::new();
    let mut since = String::from("0");
    loop {
        let page: Value = app
            .get_json(&format!("/v1/messages?limit=1&since={since}"), &north)
            .await;
        let Some(m) = page["messages"].as_array().unwrap().first() else {
            break;
        };
        paged.push(m["id"].as_i64().unwrap());
        since = page["next"].as_str().unwrap().to_string();
    }
    assert_eq!(paged, all);
}
