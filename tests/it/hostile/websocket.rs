//! `/graphql/ws` gets what HTTP gets: a revoked key closes the socket, operations
//! take tokens from the key's rate limit, subscriptions are capped, and all of them
//! are fed by one poller.

use crate::support::written;
use std::time::Duration;

use freightgate::domain::{Scope, Slug};
use freightgate::store;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{GraphqlWs, TestApp, graphql_ws, next_json};

async fn send(socket: &mut GraphqlWs, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

async fn acked(app: &TestApp, key: &str) -> GraphqlWs {
    let mut socket = graphql_ws(&app.base, key).await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    socket
}

const SUBSCRIBE: &str =
    "subscription { pushMessage(filter: {businessSlug: \"northwind\"}) { id messageType } }";

#[tokio::test]
async fn a_revoked_key_closes_the_socket_and_ends_its_subscriptions() {
    let app = TestApp::spawn_with(|c| {
        c.graphql_ws_key_check_ms = 200;
        c.api_key_cache_ttl_ms = 100;
    })
    .await;
    let created = written(&app.db, async |t| {
        store::keys::create(
            t,
            &Slug::parse("northwind").unwrap(),
            "ws",
            &[Scope::Read, Scope::Write],
        )
        .await
    })
    .await
    .unwrap();
    let mut socket = acked(&app, &created.plaintext).await;
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
    )
    .await;
    send(
        &mut socket,
        json!({"id": "2", "type": "subscribe", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "next");
    // Revoked as another process would (the CLI): straight in the database.
    written(&app.db, async |t| {
        store::keys::revoke(t, created.key.id).await
    })
    .await
    .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the socket is closed within 5 s of the revocation");
    let frame = closed.expect("a close frame");
    assert_eq!(frame.code, CloseCode::from(4403));
    assert!(frame.reason.contains("revoked"), "{}", frame.reason);
}

#[tokio::test]
async fn operations_over_the_socket_take_tokens_from_the_keys_rate_limit() {
    let app = TestApp::spawn().await;
    let created = written(&app.db, async |t| {
        store::keys::create_with_rate_limit(
            t,
            &Slug::parse("northwind").unwrap(),
            "slow",
            &[Scope::Read],
            Some(1),
        )
        .await
    })
    .await
    .unwrap();
    let mut socket = acked(&app, &created.plaintext).await;
    for id in 0..20 {
        send(
            &mut socket,
            json!({"id": id.to_string(), "type": "subscribe", "payload": {"query": "{ __typename }"}}),
        )
        .await;
    }
    let mut limited = 0;
    let mut answered = 0;
    while answered < 20 {
        let message = next_json(&mut socket).await;
        match message["type"].as_str() {
            Some("next") => {
                answered += 1;
                if let Some(errors) = message["payload"]["errors"].as_array() {
                    assert_eq!(errors[0]["extensions"]["code"], "rate_limited", "{message}");
                    limited += 1;
                }
            }
            Some("error") => {
                answered += 1;
                assert_eq!(message["payload"][0]["extensions"]["code"], "rate_limited");
                limited += 1;
            }
            _ => {}
        }
    }
    assert!(
        limited >= 17,
        "a key limited to 1 request/s ran {} of 20 operations at once",
        20 - limited
    );
}

#[tokio::test]
async fn subscriptions_are_capped_per_key_and_a_closed_one_frees_its_place() {
    let app = TestApp::spawn_with(|c| c.graphql_max_subscriptions_per_key = 2).await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let other = app.key("northwind", &[Scope::Read]).await;
    let mut socket = acked(&app, &key).await;
    for id in ["1", "2", "3"] {
        send(
            &mut socket,
            json!({"id": id, "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
        )
        .await;
    }
    // The three are resolved concurrently: whichever came third is refused.
    let refused = next_json(&mut socket).await;
    let code = &refused["payload"]["errors"][0]["extensions"]["code"];
    assert_eq!(code, "too_many_subscriptions", "{refused}");
    let refused_id = refused["id"].as_str().unwrap().to_string();
    let accepted: Vec<&str> = ["1", "2", "3"]
        .into_iter()
        .filter(|id| *id != refused_id)
        .collect();
    // Another key has places of its own.
    let mut elsewhere = acked(&app, &other).await;
    send(
        &mut elsewhere,
        json!({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
    )
    .await;
    // Completing one frees a place.
    send(&mut socket, json!({"id": accepted[0], "type": "complete"})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(
        &mut socket,
        json!({"id": "4", "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ingest_key = app.key("northwind", &[Scope::Ingest]).await;
    crate::webhooks::ingest(&app, &ingest_key, "wms-shipment-with-orders.json").await;
    crate::webhooks::ingest(&app, &ingest_key, "dock-pallet-scan.json").await;
    let mut ids = Vec::new();
    while ids.len() < 2 {
        let message = next_json(&mut socket).await;
        if message["type"] == "complete" {
            // The refused subscription's end.
            continue;
        }
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        ids.push(message["id"].as_str().unwrap().to_string());
    }
    ids.sort();
    let mut expected = vec![accepted[1].to_string(), "4".to_string()];
    expected.sort();
    assert_eq!(ids, expected);
    let other_feed = next_json(&mut elsewhere).await;
    assert_eq!(other_feed["type"], "next", "{other_feed}");
}

#[tokio::test]
async fn many_subscriptions_are_fed_by_one_poller() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read, Scope::Ingest]).await;
    let mut socket = acked(&app, &key).await;
    for id in 0..40 {
        send(
            &mut socket,
            json!({"id": id.to_string(), "type": "subscribe", "payload": {"query": SUBSCRIBE}}),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let polls = |text: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with("freightgate_graphql_subscription_polls_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let scrape = || async {
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = polls(&scrape().await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = polls(&scrape().await) - before;
    // One poller reads 4 times a second; one per subscription would read 160 times.
    // Other tests' pollers may run at the same time, so the bound leaves room.
    assert!(
        during < 60.0,
        "40 subscriptions made {during} outbox reads in one second"
    );
    crate::webhooks::ingest(&app, &key, "wms-shipment-with-orders.json").await;
    crate::webhooks::ingest(&app, &key, "dock-pallet-scan.json").await;
    let mut received = std::collections::HashSet::new();
    while received.len() < 40 {
        let message = next_json(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        received.insert(message["id"].as_str().unwrap().to_string());
    }
}
