//! Delivery: signatures, retries, Retry-After, 410, dead letters, replay, pull,
//! isolation, rotation and several dispatchers on one database.

use std::time::Duration;

use freightgate::domain::Scope;
use serde_json::{Value, json};

use super::receiver::{Receiver, types};
use super::verifier::{signed_with, verified_by_standardwebhooks};
use super::{ingest, key, register, register_url};
use crate::support::TestApp;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_shipment_and_a_pallet_scan_push_signed_shipment_and_pallet_events() {
    let app = TestApp::spawn().await;
    let key = key(&app, "northwind").await;
    let receiver = Receiver::start().await;
    let (_, secret) = register_url(&app, &key, &receiver.url).await;
    ingest(&app, &key, "wms-shipment-with-orders.json").await;
    ingest(&app, &key, "dock-pallet-scan.json").await;
    let pushes = receiver
        .wait_for(WAIT, |p| types(p).contains(&"pallet.processed".to_string()))
        .await;
    let seen = types(&pushes);
    assert_eq!(
        &seen[..2],
        ["shipment.created", "order.created"],
        "{seen:?}"
    );
    let pallet = pushes
        .iter()
        .find(|p| p.json()["type"] == "pallet.processed")
        .unwrap()
        .json();
    let data = &pallet["data"];
    assert_eq!(data["business"], "northwind");
    assert_eq!(data["facility"], "rotterdam-dc");
    assert_eq!(data["shipment_number"], "NW-SHP-240611-0042");
    assert_eq!(data["pallet_id"], "PLT-0007731");
    assert_eq!(data["direction"], "LOADING");
    assert_eq!(data["occurred_at"], "2026-06-11T09:14:27Z");
    assert_eq!(data["dock"], "D07");
    assert_eq!(data["orders"], json!(["SO-778120"]));
    assert_eq!(data["labels"]["SKU"], json!(["CHAIR-OAK-02"]));
    assert!(pallet["timestamp"].is_string());
    for push in &pushes {
        assert!(push.header("webhook-id").starts_with("msg_"));
        assert!(signed_with(push, &secret), "bad signature on {}", push.body);
        let age = chrono::Utc::now().timestamp()
            - push.header("webhook-timestamp").parse::<i64>().unwrap();
        assert!((0..60).contains(&age));
    }
    verified_by_standardwebhooks(&pushes, &secret);
}

#[tokio::test]
async fn a_failed_push_is_retried_with_the_same_webhook_id_and_every_attempt_is_logged() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    receiver.script(&[(500, None), (503, None)]);
    let (id, _) = register(
        &app,
        &key,
        json!({"url": receiver.url, "event_types": ["order.created"]}),
    )
    .await;
    ingest(&app, &key, "tms-order-create.json").await;
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 3).await;
    let ids: Vec<String> = pushes.iter().map(|p| p.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    // The receiver answers before the attempt is written: wait for the log.
    let started = std::time::Instant::now();
    let attempts = loop {
        let attempts: Value = app
            .get_json(&format!("/v1/webhooks/endpoints/{id}/attempts"), &key)
            .await;
        if attempts["attempts"].as_array().unwrap().len() >= 3 || started.elapsed() > WAIT {
            break attempts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let codes: Vec<i64> = attempts["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [204, 503, 500], "newest first");
    let delivered: Value = app
        .get_json(&format!("/v1/webhooks/endpoints/{id}/deliveries"), &key)
        .await;
    assert_eq!(delivered["deliveries"][0]["state"], "delivered");
    assert_eq!(delivered["deliveries"][0]["attempts"], 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    receiver.script(&[(429, Some("2"))]);
    register(
        &app,
        &key,
        json!({"url": receiver.url, "event_types": ["order.created"]}),
    )
    .await;
    ingest(&app, &key, "tms-order-create.json").await;
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 2).await;
    let gap = pushes[1].at - pushes[0].at;
    assert!(
        gap >= Duration::from_millis(1900),
        "retried after {gap:?} despite Retry-After: 2"
    );
}

#[tokio::test]
async fn a_410_disables_the_endpoint() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    receiver.script(&[(410, None)]);
    let (id, _) = register(
        &app,
        &key,
        json!({"url": receiver.url, "event_types": ["order.created"]}),
    )
    .await;
    ingest(&app, &key, "tms-order-create.json").await;
    receiver.wait_for(WAIT, |p| !p.is_empty()).await;
    let path = format!("/v1/webhooks/endpoints/{id}");
    let started = std::time::Instant::now();
    loop {
        let endpoint: Value = app.get_json(&path, &key).await;
        if endpoint["disabled"] == true {
            assert!(
                endpoint["disabled_reason"]
                    .as_str()
                    .unwrap()
                    .contains("410")
            );
            break;
        }
        assert!(started.elapsed() < WAIT, "never disabled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.pushes().len(), 1, "no retry after 410");
}

async fn delivery_state(app: &TestApp, key: &str, endpoint: i64) -> Value {
    let body: Value = app
        .get_json(
            &format!("/v1/webhooks/endpoints/{endpoint}/deliveries"),
            key,
        )
        .await;
    body["deliveries"][0].clone()
}

async fn wait_state(app: &TestApp, key: &str, endpoint: i64, state: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let d = delivery_state(app, key, endpoint).await;
        if d["state"] == state {
            return d;
        }
        assert!(
            started.elapsed() < WAIT,
            "delivery never became {state}: {d}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_dead_lettered_push_can_be_replayed_and_recovered() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    receiver.script(&[
        (500, None),
        (500, None),
        (500, None),
        (500, None),
        (500, None),
        (500, None),
    ]);
    let (id, _) = register(
        &app,
        &key,
        json!({"url": receiver.url, "event_types": ["order.created"]}),
    )
    .await;
    ingest(&app, &key, "tms-order-create.json").await;
    let dead = wait_state(&app, &key, id, "failed").await;
    assert_eq!(dead["attempts"], 3, "the schedule has three attempts");
    let replay = format!(
        "/v1/webhooks/endpoints/{id}/deliveries/{}/replay",
        dead["id"]
    );
    let replayed = app.post_json(&replay, &key, &json!({})).await;
    assert_eq!(replayed.status(), 202);
    let replayed: Value = replayed.json().await.unwrap();
    assert_eq!(replayed["state"], "pending");
    assert_eq!(replayed["event_type"], "order.created", "{replayed}");
    assert_eq!(replayed["webhook_id"], dead["webhook_id"], "{replayed}");
    assert_eq!(
        replayed["attempts"], 3,
        "a replay keeps the count: {replayed}"
    );
    let dead_again = wait_state(&app, &key, id, "failed").await;
    assert_eq!(receiver.pushes().len(), 6, "the schedule starts again");
    assert_eq!(dead_again["attempts"], 6, "the numbers go on: {dead_again}");
    let recover = format!("/v1/webhooks/endpoints/{id}/recover");
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let requeued: Value = app
        .post_json(&recover, &key, &json!({"since": since}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(requeued["requeued"], 1);
    let delivered = wait_state(&app, &key, id, "delivered").await;
    assert_eq!(delivered["attempts"], 7, "{delivered}");
    let log: Value = app
        .get_json(&format!("/v1/webhooks/endpoints/{id}/attempts"), &key)
        .await;
    let mut numbers: Vec<i64> = log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attempt"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=7).collect::<Vec<_>>(), "{log}");
    let ids: Vec<String> = receiver
        .pushes()
        .iter()
        .map(|p| p.header("webhook-id"))
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "the same message every time"
    );
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_everything_when_it_comes_back() {
    let app = TestApp::spawn_with(|c| {
        c.webhooks_retry_schedule =
            freightgate::config::parse_durations("0s,200ms,400ms,800ms,1s,1s,1s,1s").unwrap()
    })
    .await;
    let key = key(&app, "acme").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    register_url(&app, &key, &format!("http://127.0.0.1:{port}/hooks")).await;
    ingest(&app, &key, "tms-order-create.json").await;
    ingest(&app, &key, "tms-order-update.json").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let receiver = Receiver::start_on(port).await;
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 2).await;
    assert_eq!(
        types(&pushes),
        ["order.created", "order.updated"],
        "in order, once each"
    );
}

#[tokio::test]
async fn a_slow_endpoint_does_not_delay_a_healthy_one() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let slow = Receiver::start().await;
    slow.slow(Duration::from_secs(3));
    let healthy = Receiver::start().await;
    register_url(&app, &key, &slow.url).await;
    register_url(&app, &key, &healthy.url).await;
    let started = std::time::Instant::now();
    new_orders(&app, &key, 3).await;
    healthy.wait_for(WAIT, |p| p.len() >= 3).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the healthy endpoint waited {:?}",
        started.elapsed()
    );
}

/// Posts `n` new orders; each pushes one `order.created`.
async fn new_orders(app: &TestApp, key: &str, n: usize) {
    for _ in 0..n {
        let body = json!({"operation": "CREATE", "order_identifier": uuid::Uuid::now_v7().to_string(),
            "customer": {"code": "ACME-UK"}, "consignments": [{"goods": [{"package_type": "PALLET", "quantity": 1}]}]});
        let response = app.post_json("/v1/ingest", key, &body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
}

fn webhook_ids(pushes: &[super::receiver::Push]) -> std::collections::BTreeSet<String> {
    pushes.iter().map(|p| p.header("webhook-id")).collect()
}

#[tokio::test]
async fn a_failing_endpoint_is_paced_and_gets_everything_once_it_answers() {
    const ORDERS: usize = 30;
    let app = TestApp::spawn_with(|c| {
        c.webhooks_retry_schedule =
            freightgate::config::parse_durations(&format!("0s{}", ",200ms".repeat(20))).unwrap();
        c.webhooks_failing_pause_max_ms = 1000;
    })
    .await;
    let key = key(&app, "acme").await;
    let failing = Receiver::start().await;
    failing.script(&[(500, None); 1000]);
    let healthy = Receiver::start().await;
    register_url(&app, &key, &failing.url).await;
    register_url(&app, &key, &healthy.url).await;
    let started = std::time::Instant::now();
    new_orders(&app, &key, ORDERS).await;
    let delivered = healthy.wait_for(WAIT, |p| p.len() >= ORDERS).await;
    let (tried, took) = (failing.pushes().len(), started.elapsed());
    // Pauses of 10, 20, 40 … 640 ms, then 1 s each: nine tries in the first 1.3 s,
    // one a second after that. Unpaced, every order would have been tried by now.
    let paced = 9 + took.as_secs() as usize + 1;
    assert!(
        tried <= paced.min(ORDERS - 1),
        "{tried} pushes to the failing endpoint in {took:?}"
    );
    let before = failing.heal();
    let wanted = webhook_ids(&delivered);
    failing
        .wait_for(WAIT, |p| webhook_ids(&p[before..]) == wanted)
        .await;
}

#[tokio::test]
async fn another_business_is_never_pushed_our_events() {
    let app = TestApp::spawn().await;
    let ours = key(&app, "acme").await;
    let theirs = key(&app, "zenith").await;
    let their_receiver = Receiver::start().await;
    register_url(&app, &theirs, &their_receiver.url).await;
    let our_receiver = Receiver::start().await;
    register_url(&app, &ours, &our_receiver.url).await;
    ingest(&app, &ours, "tms-order-create.json").await;
    our_receiver.wait_for(WAIT, |p| !p.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(their_receiver.pushes().is_empty());
    let pulled: Value = app.get_json("/v1/messages", &theirs).await;
    assert_eq!(pulled["messages"], json!([]));
}

#[tokio::test]
async fn messages_can_be_pulled_in_order_from_a_cursor() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    ingest(&app, &key, "tms-order-create.json").await;
    ingest(&app, &key, "tms-order-cancel.json").await;
    let all: Value = app.get_json("/v1/messages", &key).await;
    let kinds: Vec<&str> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["order.created", "order.cancelled"]);
    assert_eq!(
        all["messages"][0]["message"]["data"]["order_number"],
        "TMS-2026-118734"
    );
    let first = all["messages"][0]["id"].as_i64().unwrap();
    let rest: Value = app
        .get_json(&format!("/v1/messages?since={first}"), &key)
        .await;
    assert_eq!(rest["messages"].as_array().unwrap().len(), 1);
    let reader = app.key("acme", &[Scope::Ingest]).await;
    assert_eq!(app.get("/v1/messages", &reader).await.status(), 403);
}

#[tokio::test]
async fn during_rotation_both_secrets_sign_every_push() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    let (id, old) = register_url(&app, &key, &receiver.url).await;
    let rotated: Value = app
        .post_json(
            &format!("/v1/webhooks/endpoints/{id}/rotate-secret"),
            &key,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    ingest(&app, &key, "tms-order-create.json").await;
    let pushes = receiver.wait_for(WAIT, |p| !p.is_empty()).await;
    assert_eq!(pushes[0].header("webhook-signature").split(' ').count(), 2);
    assert!(signed_with(&pushes[0], &new) && signed_with(&pushes[0], &old));
    verified_by_standardwebhooks(&pushes, &new);
    verified_by_standardwebhooks(&pushes, &old);
}

#[tokio::test]
async fn two_dispatchers_on_one_database_deliver_each_message_once() {
    let app = TestApp::spawn().await;
    let second = app.second_instance(|_| {}).await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    register_url(&app, &key, &receiver.url).await;
    for i in 0..20 {
        let body = json!({"operation": "CREATE", "order_identifier": format!("TWO-{i}"),
            "customer": {"code": "ACME-UK"}, "consignments": [{"goods": [{"package_type": "PALLET", "quantity": 1}]}]});
        assert_eq!(app.post_json("/v1/ingest", &key, &body).await.status(), 201);
    }
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ids: Vec<String> = receiver
        .pushes()
        .iter()
        .map(|p| p.header("webhook-id"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert_eq!(
        receiver.pushes().len(),
        20,
        "no message delivered twice: {}",
        pushes.len()
    );
    second.cancel();
}

#[tokio::test]
async fn a_lane_held_longer_than_its_lease_is_renewed_and_never_taken_over() {
    // A one-second push timeout makes leases of six seconds; thirty pushes at a quarter
    // of a second each, one at a time, keep the lane busy well past that.
    let slow_and_serial = |c: &mut freightgate::Config| {
        c.webhooks_timeout_ms = 1000;
        c.webhooks_per_endpoint_concurrency = 1;
    };
    let app = TestApp::spawn_with(slow_and_serial).await;
    let second = app.second_instance(slow_and_serial).await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    receiver.slow(Duration::from_millis(250));
    register_url(&app, &key, &receiver.url).await;
    let batch: Vec<Value> = (0..30)
        .map(|i| json!({"operation": "CREATE", "order_identifier": format!("LEASE-{i}"),
            "customer": {"code": "ACME-UK"}, "consignments": [{"goods": [{"package_type": "PALLET", "quantity": 1}]}]}))
        .collect();
    assert_eq!(
        app.post_json("/v1/ingest", &key, &json!(batch))
            .await
            .status(),
        201
    );
    receiver
        .wait_for(Duration::from_secs(30), |p| p.len() >= 30)
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut ids: Vec<String> = receiver
        .pushes()
        .iter()
        .map(|p| p.header("webhook-id"))
        .collect();
    assert_eq!(ids.len(), 30, "no message delivered twice");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30);
    second.cancel();
}

#[tokio::test]
async fn the_pushes_of_one_shipment_follow_each_other_without_waiting_for_the_poll() {
    // A poll interval far longer than the test's bound: only the dispatcher's own
    // claim after each recorded push can bring the next one of the shipment in time.
    let app = TestApp::spawn_with(|c| c.webhooks_poll_ms = 3000).await;
    let key = key(&app, "northwind").await;
    let receiver = Receiver::start().await;
    register_url(&app, &key, &receiver.url).await;
    ingest(&app, &key, "wms-shipment-with-orders.json").await;
    receiver.wait_for(WAIT, |p| !p.is_empty()).await;
    let first = std::time::Instant::now();
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 3).await;
    assert_eq!(
        types(&pushes)[..3],
        ["shipment.created", "order.created", "order.created"]
    );
    assert!(
        first.elapsed() < Duration::from_millis(1500),
        "the shipment's orders took {:?} after its first push",
        first.elapsed()
    );
}

#[tokio::test]
async fn a_claim_round_gives_a_business_with_one_endpoint_a_turn_beside_one_with_many() {
    use freightgate::store::dispatch;
    use std::collections::HashSet;
    let app = TestApp::spawn_with(|c| c.webhooks_dispatcher = false).await;
    let many = key(&app, "northwind").await;
    let one = key(&app, "acme").await;
    // Twelve endpoints for one business, registered first (lower ids), one for the other.
    let mut crowd = HashSet::new();
    for n in 0..12 {
        let (id, _) = register_url(&app, &many, &format!("http://127.0.0.1:9999/crowd-{n}")).await;
        crowd.insert(id);
    }
    let (lone, _) = register_url(&app, &one, "http://127.0.0.1:9999/lone").await;
    ingest(&app, &many, "wms-shipment-with-orders.json").await;
    let order = crate::ingest::feed("tms-order-create.json");
    let answer = crate::ingest::post(&app, &one, "application/json", order).await;
    assert_eq!(answer.status(), 201);
    // A round of four endpoints, starting from the beginning.
    let now = chrono::Utc::now();
    let due = dispatch::due_endpoints(&app.db, now, &[], 0, 4)
        .await
        .unwrap();
    let lease = chrono::Duration::seconds(30);
    let gate = freightgate::store::gate::WriteGate::for_db(&app.db);
    let claimed = dispatch::claim(&gate, &app.db, "fairness-test", now, lease, 1, due)
        .await
        .unwrap();
    let endpoints: Vec<i64> = claimed
        .iter()
        .map(|c| crate::support::public_id(c.endpoint_id))
        .collect();
    assert_eq!(endpoints.len(), 4, "{endpoints:?}");
    assert!(
        endpoints.contains(&lone),
        "the business with one endpoint waited behind the one with twelve: {endpoints:?}"
    );
    assert_eq!(
        endpoints.iter().filter(|e| crowd.contains(e)).count(),
        3,
        "{endpoints:?}"
    );
}
