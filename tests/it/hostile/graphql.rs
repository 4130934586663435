//! The corpus against `POST /graphql`: depth and alias bombs, batches, bad
//! variables and broken bodies all get a GraphQL error, never a 5xx.

use freightgate::domain::Scope;
use serde_json::{Value, json};

use super::{assert_still_up, counts};
use crate::graphql::{UPDATE_SHIPMENT, schedule};
use crate::support::TestApp;

async fn raw(app: &TestApp, key: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .header("accept", "application/json")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, body)
}

/// Asserts a GraphQL error answer with a message; returns its first error.
fn graphql_error(what: &str, (status, body): (u16, Value)) -> Value {
    assert!(status < 500, "{what}: {status} {body}");
    let error = &body["errors"][0];
    let message = error["message"].as_str().unwrap_or("");
    assert!(message.len() > 5, "{what}: no useful error in {body}");
    assert!(
        body["data"].is_null() || body.get("data").is_none(),
        "{what}: {body}"
    );
    error.clone()
}

fn request(query: &str, variables: Value) -> Vec<u8> {
    json!({"query": query, "variables": variables})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn depth_alias_and_fragment_bombs_are_refused_before_running() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read, Scope::Write]).await;
    schedule(&app, &key, "northwind", "NW-BOMB").await;
    let deep = format!(
        "{{ {} id {} }}",
        "businesses { facilities { shipments { orders { shipment { orders { shipment { orders { shipment {".repeat(3),
        "} } } } } } } } }".repeat(3)
    );
    let aliases: String = (0..5000)
        .map(|i| format!("a{i}: businesses {{ slug }} "))
        .collect();
    let fragments =
        "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }";
    let mut wide = String::from("fragment F0 on QueryRoot { businesses { slug } }");
    for i in 1..30 {
        wide.push_str(&format!(
            " fragment F{i} on QueryRoot {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    wide.push_str(" query { ...F29 }");
    let braces = format!("{}{}", "{".repeat(10_000), "}".repeat(10_000));
    let directives = format!(
        "{{ businesses {} {{ slug }} }}",
        "@include(if: true) ".repeat(5000)
    );
    for (what, query, code) in [
        ("depth bomb", deep, Some("query_too_deep")),
        (
            "alias bomb",
            format!("{{ {aliases} }}"),
            Some("query_too_complex"),
        ),
        ("fragment cycle", fragments.to_string(), None),
        ("fragment fan-out", wide, Some("query_too_complex")),
        ("10,000 braces", braces, None),
        ("directive flood", directives, None),
        ("syntax error", "{ businesses { slug ".into(), None),
        ("unknown field", "{ nothingHere }".into(), None),
    ] {
        let started = std::time::Instant::now();
        let answer = raw(&app, &key, "application/json", request(&query, json!({}))).await;
        let error = graphql_error(what, answer);
        if let Some(code) = code {
            assert_eq!(error["extensions"]["code"], code, "{what}: {error}");
        }
        assert!(
            started.elapsed().as_secs() < 5,
            "{what} took {:?}",
            started.elapsed()
        );
    }
    assert_still_up(&app).await;
}

#[tokio::test]
async fn batches_broken_bodies_and_wrong_content_types_are_refused() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read, Scope::Write]).await;
    let one = json!({"query": "{ businesses { slug } }"});
    let batch = Value::Array(vec![one.clone(); 10_000])
        .to_string()
        .into_bytes();
    let deep_variables = format!(
        "{{\"query\": \"{{ ping }}\", \"variables\": {}1{}}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    for (what, content_type, body) in [
        ("huge batch", "application/json", batch),
        ("empty body", "application/json", Vec::new()),
        (
            "truncated",
            "application/json",
            b"{\"query\": \"{ busin".to_vec(),
        ),
        (
            "invalid UTF-8",
            "application/json",
            b"{\"query\": \"\xff\"}".to_vec(),
        ),
        (
            "NUL in query",
            "application/json",
            b"{\"query\": \"{ busi\\u0000nesses { slug } }\"}".to_vec(),
        ),
        (
            "duplicate keys",
            "application/json",
            b"{\"query\": \"{ ping }\", \"query\": \"{ businesses { slug } }\"}".to_vec(),
        ),
        (
            "query not a string",
            "application/json",
            b"{\"query\": 12}".to_vec(),
        ),
        (
            "variables not an object",
            "application/json",
            b"{\"query\": \"{ ping }\", \"variables\": [1]}".to_vec(),
        ),
        (
            "deep variables",
            "application/json",
            deep_variables.into_bytes(),
        ),
        (
            "wrong content type",
            "text/plain",
            one.to_string().into_bytes(),
        ),
        (
            "form content type",
            "application/x-www-form-urlencoded",
            b"query=%7Bping%7D".to_vec(),
        ),
    ] {
        graphql_error(what, raw(&app, &key, content_type, body).await);
    }
    assert_still_up(&app).await;
}

#[tokio::test]
async fn bad_variables_are_errors_and_write_nothing() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read, Scope::Write]).await;
    let before = counts(&app.db).await;
    let long = "S".repeat(1024 * 1024);
    for (what, variables) in [
        ("missing input", json!({})),
        ("input of the wrong type", json!({"input": "shipment"})),
        (
            "unknown input field",
            json!({"input": {"businessSlug": "northwind", "facilitySlug": "f", "shipmentNumber": "S", "nope": 1}}),
        ),
        (
            "number where a string goes",
            json!({"input": {"businessSlug": 7, "facilitySlug": "f", "shipmentNumber": "S"}}),
        ),
        (
            "bad enum",
            json!({"input": {"businessSlug": "northwind", "facilitySlug": "f", "shipmentNumber": "S", "status": "EXPLODED"}}),
        ),
        (
            "bad date",
            json!({"input": {"businessSlug": "northwind", "facilitySlug": "f", "shipmentNumber": "S", "expectedArrivalAt": "31/02/2026"}}),
        ),
        (
            "1 MB shipment number",
            json!({"input": {"businessSlug": "northwind", "facilitySlug": "f", "shipmentNumber": long}}),
        ),
        (
            "NUL in a string",
            json!({"input": {"businessSlug": "northwind", "facilitySlug": "f", "shipmentNumber": "S\u{0}1"}}),
        ),
        (
            "empty slug",
            json!({"input": {"businessSlug": "", "facilitySlug": "f", "shipmentNumber": "S"}}),
        ),
    ] {
        let answer = raw(
            &app,
            &key,
            "application/json",
            request(UPDATE_SHIPMENT, variables),
        )
        .await;
        let (status, body) = &answer;
        assert!(*status < 500, "{what}: {status} {body}");
        let success = body["data"]["updateShipment"]["success"].as_bool();
        assert!(
            body["errors"][0]["message"].is_string() && success != Some(true),
            "{what} was accepted: {body}"
        );
    }
    assert_eq!(counts(&app.db).await, before, "nothing may be written");
}

#[tokio::test]
async fn a_fragment_bomb_over_the_websocket_is_refused_at_once() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let mut socket = crate::support::graphql_ws(&app.base, &key).await;
    let mut bomb = String::from(
        "fragment F0 on SubscriptionRoot { pushMessage(filter: {businessSlug: \"northwind\"}) { id } }",
    );
    for i in 1..30 {
        bomb.push_str(&format!(
            " fragment F{i} on SubscriptionRoot {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    bomb.push_str(" subscription { ...F29 }");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": bomb}});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let answer = loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("an answer within 5 s")
            .expect("the socket stays open")
            .unwrap();
        if let Message::Text(text) = message
            && !text.contains("connection_ack")
        {
            break text.to_string();
        }
    };
    assert!(started.elapsed().as_secs() < 5);
    assert!(answer.contains("too complex"), "{answer}");
    assert_still_up(&app).await;
}

#[tokio::test]
async fn process_payload_with_hostile_payloads_fails_cleanly_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let order: Value = serde_json::from_str(&crate::ingest::feed("tms-order-create.json")).unwrap();
    let mut long = order.clone();
    long["customer"]["code"] = Value::String("C".repeat(1024 * 1024));
    let mut nul = order.clone();
    nul["order_identifier"] = Value::String("TMS\u{0}1".into());
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!({ "consignments": [deep] });
    }
    let before = counts(&app.db).await;
    let mutation = "mutation($payload: JSON!) { processPayload(input: {businessSlug: \"acme\", facilitySlug: \"derby\", payload: $payload}) { success message loggingId } }";
    for (what, payload) in [
        ("1 MB code", long),
        ("NUL", nul),
        ("100 deep", deep),
        ("a string", json!("x")),
    ] {
        let (status, body) = raw(
            &app,
            &key,
            "application/json",
            request(mutation, json!({ "payload": payload })),
        )
        .await;
        assert!(status < 500, "{what}: {status} {body}");
        let message = if body["errors"].is_array() {
            graphql_error(what, (status, body.clone()))["message"].clone()
        } else {
            let result = &body["data"]["processPayload"];
            assert_eq!(result["success"], false, "{what}: {body}");
            result["message"].clone()
        };
        assert!(message.as_str().unwrap().len() > 5, "{what}: {body}");
    }
    assert_eq!(counts(&app.db).await, before, "nothing may be written");
}

#[tokio::test]
async fn a_key_without_read_gets_ids_only_from_a_mutations_result() {
    use crate::graphql::{data, error_code};
    let app = TestApp::spawn().await;
    let write_only = app.key("northwind", &[Scope::Write]).await;
    let reader = app.key("northwind", &[Scope::Write, Scope::Read]).await;
    let mutation = |selection: &str| {
        format!(
            "mutation($input: CreateShipmentAndOrderInput!) {{ createShipmentAndOrder(input: $input) {{ {selection} }} }}"
        )
    };
    let input = |number: &str| {
        json!({"input": {
            "shipment": {"businessSlug": "northwind", "facilitySlug": "rotterdam-dc", "shipmentNumber": number},
            "orders": [{"businessSlug": "northwind", "facilitySlug": "rotterdam-dc", "orderNumber": format!("{number}-SO"),
                        "consigneeName": "Secret Consignee", "items": [{"sku": "SECRET-SKU", "quantity": 1}]}]
        }})
    };
    let before = counts(&app.db).await;
    // Reading through the result: refused as a whole, nothing written.
    let through_a_fragment = format!(
        "{} fragment S on Shipment {{ orders {{ id }} }}",
        mutation("shipment { ...S }")
    );
    for query in [
        mutation("shipment { id orders { consigneeName items { sku } } }"),
        mutation("shipment { status }"),
        through_a_fragment,
    ] {
        let code = error_code(&app, &write_only, &query, input("NW-SCOPE-1")).await;
        assert_eq!(code, "forbidden", "{query}");
    }
    assert_eq!(counts(&app.db).await, before);
    // Ids only: fine.
    let made = data(
        &app,
        &write_only,
        &mutation("shipment { id __typename }"),
        input("NW-SCOPE-2"),
    )
    .await;
    assert!(
        made["createShipmentAndOrder"]["shipment"]["id"].is_number(),
        "{made}"
    );
    // With `read`, the whole result.
    let made = data(
        &app,
        &reader,
        &mutation("shipment { id orders { consigneeName items { sku } } }"),
        input("NW-SCOPE-3"),
    )
    .await;
    assert_eq!(
        made["createShipmentAndOrder"]["shipment"]["orders"][0]["items"][0]["sku"],
        "SECRET-SKU"
    );
}
