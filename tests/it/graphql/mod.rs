//! The GraphQL API: legacy operations, isolation, errors, the HTTP protocol, data
//! loaders and the committed schema.

mod isolation;
mod legacy;
mod loaders;
mod operator;
mod protocol;
mod push;
mod schema;
mod webhooks;

use serde_json::{Value, json};

use crate::support::TestApp;

/// Posts an operation with `Accept: application/json`; returns status and body.
pub async fn post(app: &TestApp, key: &str, query: &str, variables: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .header("accept", "application/json")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// Runs an operation that must succeed and returns its `data`.
pub async fn data(app: &TestApp, key: &str, query: &str, variables: Value) -> Value {
    let (status, body) = post(app, key, query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// Runs an operation that must fail and returns the first error's code.
pub async fn error_code(app: &TestApp, key: &str, query: &str, variables: Value) -> String {
    let (status, body) = post(app, key, query, variables).await;
    assert_eq!(status, 200, "{body}");
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_string()
}

pub const UPDATE_SHIPMENT: &str = "mutation($input: UpdateShipmentInput!) {
    updateShipment(input: $input) { success id } }";

pub const CREATE_OR_UPDATE_ORDER: &str = "mutation($input: OrderInput!) {
    createOrUpdateOrder(input: $input) { success id type } }";

/// Schedules shipment `number` at `rotterdam-dc` for `business`; returns its id.
pub async fn schedule(app: &TestApp, key: &str, business: &str, number: &str) -> i64 {
    let input = json!({
        "businessSlug": business,
        "facilitySlug": "rotterdam-dc",
        "shipmentNumber": number,
        "status": "SCHEDULED",
        "direction": "SHIPPING",
        "expectedArrivalAt": "2026-11-23T08:00:00+01:00",
        "dockSlug": "D07",
        "carrier": "Van Dijk Transport",
    });
    let data = data(app, key, UPDATE_SHIPMENT, json!({ "input": input })).await;
    data["updateShipment"]["id"].as_i64().expect("id")
}
