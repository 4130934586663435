//! Push messages over GraphQL: `pushMessages` and the `pushMessage` subscription.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{data, error_code};
use crate::support::{TestApp, next_json};
use crate::webhooks::{ingest, key};

const PUSH_MESSAGES: &str = "query($input: PushMessageFilter!) {
    pushMessages(input: $input) { id messageType message sentAt facilitySlug businessSlug } }";

#[tokio::test]
async fn push_messages_returns_pallet_events_since_a_time() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let since = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    ingest(&app, &key, "wms-shipment-with-orders.json").await;
    ingest(&app, &key, "dock-pallet-scan.json").await;
    let input = json!({"input": {"since": since, "businessSlug": "northwind", "facilitySlug": "rotterdam-dc"}});
    let found = data(&app, &key, PUSH_MESSAGES, input).await;
    let messages = found["pushMessages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "only the legacy types: {found}");
    assert_eq!(messages[0]["messageType"], "PALLET_EVENT");
    assert_eq!(messages[0]["facilitySlug"], "rotterdam-dc");
    let envelope: Value = serde_json::from_str(messages[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(envelope["data"]["pallet_id"], "PLT-0007731");
    let later =
        json!({"input": {"since": chrono::Utc::now().to_rfc3339(), "businessSlug": "northwind"}});
    assert_eq!(
        data(&app, &key, PUSH_MESSAGES, later).await["pushMessages"],
        json!([])
    );
    let foreign = json!({"input": {"since": since, "businessSlug": "southwind"}});
    assert_eq!(
        error_code(&app, &key, PUSH_MESSAGES, foreign).await,
        "forbidden"
    );
}

#[tokio::test]
async fn the_push_message_subscription_streams_new_pallet_events() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    ingest(&app, &key, "wms-shipment-with-orders.json").await;
    let mut socket = crate::support::graphql_ws(&app.base, &key).await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription { pushMessage(filter: {businessSlug: \"northwind\"}) { id messageType businessSlug } }"}});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    ingest(&app, &key, "dock-pallet-scan.json").await;
    let next = next_json(&mut socket).await;
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(
        next["payload"]["data"]["pushMessage"]["messageType"],
        "PALLET_EVENT"
    );
    assert_eq!(
        next["payload"]["data"]["pushMessage"]["businessSlug"],
        "northwind"
    );
}

#[tokio::test]
async fn a_websocket_without_a_valid_key_is_refused() {
    let app = TestApp::spawn().await;
    let mut request = format!("{}/graphql/ws", app.base.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({"type": "connection_init", "payload": {"authorization": "Bearer fgk_wrong"}});
    socket.send(Message::text(init.to_string())).await.unwrap();
    assert!(crate::support::refused_session(&mut socket).await);
}
