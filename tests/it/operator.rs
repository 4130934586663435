//! The operator's view: find what came in and what failed, see why, fix the rule and
//! reprocess the payload.

use std::path::Path;
use std::time::{Duration, Instant};

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::ingest::{feed, post};
use crate::support::{TestApp, assert_problem};

/// The logging ids of a page of `GET /v1/ingest`, newest first.
fn logging_ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["logging_id"].as_str().unwrap())
        .collect()
}

async fn ingest(app: &TestApp, key: &str, name: &str) -> (u16, Value) {
    let response = post(app, key, "application/json", feed(name)).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn received_payloads_are_found_by_outcome_code_key_reference_and_time() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (status, good) = ingest(&app, &key, "tms-order-create.json").await;
    assert_eq!(status, 201, "{good}");
    let (status, bad) = ingest(&app, &key, "bad/missing-customer.json").await;
    assert_eq!(status, 422, "{bad}");
    let (good_id, bad_id) = (
        good["logging_id"].as_str().unwrap(),
        bad["logging_id"].as_str().unwrap(),
    );

    // Newest first; the rejection says which rule, which codes, which key, which door.
    let all: Value = app.get_json("/v1/ingest", &key).await;
    assert_eq!(logging_ids(&all), [bad_id, good_id]);
    let rejected: Value = app.get_json("/v1/ingest?outcome=rejected", &key).await;
    assert_eq!(logging_ids(&rejected), [bad_id]);
    let item = &rejected["items"][0];
    assert_eq!(item["outcome"], "rejected");
    assert_eq!(item["rule"], "tms-order-create", "{item}");
    assert_eq!(item["key"], "test");
    assert_eq!(item["source"], "rest");
    assert!(
        item["problem_codes"]
            .as_array()
            .unwrap()
            .contains(&json!("missing_field")),
        "{item}"
    );
    assert!(item.get("body").is_none(), "a listing carries no bodies");

    // Each filter alone, and two together.
    for (query, expected) in [
        ("code=missing_field", vec![bad_id]),
        ("reference=TMS-2026-1187", vec![good_id]),
        ("outcome=accepted&rule=tms-order-create", vec![good_id]),
        ("key=test&source=rest", vec![bad_id, good_id]),
        ("key=nobody", vec![]),
        ("source=graphql", vec![]),
        ("reference=%25", vec![]),
        (
            &format!("since={}", started.replace('+', "%2B")),
            vec![bad_id, good_id],
        ),
        (&format!("until={}", started.replace('+', "%2B")), vec![]),
    ] {
        let page: Value = app.get_json(&format!("/v1/ingest?{query}"), &key).await;
        assert_eq!(logging_ids(&page), expected, "{query}: {page}");
    }

    // One at a time, by cursor.
    let first: Value = app.get_json("/v1/ingest?limit=1", &key).await;
    assert_eq!(logging_ids(&first), [bad_id]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_json(&format!("/v1/ingest?limit=1&after={cursor}"), &key)
        .await;
    assert_eq!(logging_ids(&second), [good_id]);
    assert!(second["next_cursor"].is_null(), "{second}");

    // The record names its key and door too.
    let record: Value = app.get_json(&format!("/v1/ingest/{bad_id}"), &key).await;
    assert_eq!(record["key"], "test");
    assert_eq!(record["source"], "rest");
    assert_eq!(record["rule"], "tms-order-create");

    // Filters that cannot be read, and another business.
    let long = "x".repeat(300);
    for query in [
        "outcome=lost",
        "source=fax",
        "since=yesterday",
        "after=x1",
        "code=Missing%20Field",
        "code=0",
        "reference=a%00b",
        "rule=%00",
        &format!("key={long}"),
    ] {
        assert_problem(
            app.get(&format!("/v1/ingest?{query}"), &key).await,
            400,
            "invalid_query_parameter",
        )
        .await;
    }
    let other = app.key("northwind", &[Scope::Read]).await;
    let theirs: Value = app.get_json("/v1/ingest", &other).await;
    assert_eq!(logging_ids(&theirs), Vec::<&str>::new());
    let writer = app.key("acme", &[Scope::Write]).await;
    assert_problem(app.get("/v1/ingest", &writer).await, 403, "forbidden").await;
}

const STRICT_RULE: &str = r#"
[[rule]]
name = "walk-in-order"
operation = "create"
entity = "order"
match = { path = "$.ref", exists = true }
map = { order_number = "$.ref", customer = "$.customer" }
"#;

const FIXED_RULE: &str = r#"
[[rule]]
name = "walk-in-order"
operation = "create"
entity = "order"
match = { path = "$.ref", exists = true }
map = { order_number = "$.ref", customer = { value = "WALK-IN" } }
"#;

fn write_rule(dir: &Path, text: &str) {
    std::fs::write(dir.join("walk-in.toml"), text).unwrap();
}

#[tokio::test]
async fn a_rejected_payload_is_reprocessed_once_its_rule_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    write_rule(dir.path(), STRICT_RULE);
    let rules_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| {
        c.rules_dir = rules_dir;
        c.rules_poll_ms = 50;
    })
    .await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let payload = json!({"ref": "WALK-1"}).to_string();
    let answer = post(&app, &key, "application/json", payload).await;
    assert_eq!(answer.status(), 422);
    let original: Value = answer.json().await.unwrap();
    let original = original["logging_id"].as_str().unwrap().to_string();
    let reprocess = |dry_run: bool| {
        app.client
            .post(app.url(&format!(
                "/v1/ingest/{original}/reprocess?dry_run={dry_run}"
            )))
            .bearer_auth(&key)
            .send()
    };

    // Before the fix a dry run says what is wrong, and writes nothing.
    let explained: Value = reprocess(true).await.unwrap().json().await.unwrap();
    assert!(explained.to_string().contains("customer"), "{explained}");
    write_rule(dir.path(), FIXED_RULE);
    let started = Instant::now();
    loop {
        let explained: Value = reprocess(true).await.unwrap().json().await.unwrap();
        let accepted = explained["documents"][0]["explanation"]["items"][0]["findings"]
            .as_array()
            .is_some_and(Vec::is_empty);
        if accepted {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the fixed rule was never loaded: {explained}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let listed: Value = app.get_json("/v1/ingest", &key).await;
    assert_eq!(
        logging_ids(&listed),
        [original.as_str()],
        "dry runs write nothing"
    );

    // The reprocess stores the order under a new logging id linked to the original.
    let answer = reprocess(false).await.unwrap();
    assert_eq!(answer.status(), 201);
    let ack: Value = answer.json().await.unwrap();
    let again = ack["logging_id"].as_str().unwrap();
    assert_ne!(again, original);
    let record: Value = app.get_json(&format!("/v1/ingest/{again}"), &key).await;
    assert_eq!(record["reprocess_of"], original.as_str());
    assert_eq!(record["source"], "reprocess");
    assert_eq!(record["outcome"], "accepted");
    let order: Value = app
        .get_json(&format!("/v1/orders/{}", ack["results"][0]["id"]), &key)
        .await;
    assert_eq!(order["order_number"], "WALK-1");
    assert_eq!(order["customer"], "WALK-IN");
    let reprocessed: Value = app.get_json("/v1/ingest?source=reprocess", &key).await;
    assert_eq!(logging_ids(&reprocessed), [again]);

    // Only the business's own payloads, and only with `ingest`.
    let other = app.key("northwind", &[Scope::Ingest]).await;
    let path = format!("/v1/ingest/{original}/reprocess");
    let foreign = app.client.post(app.url(&path)).bearer_auth(&other).send();
    assert_problem(foreign.await.unwrap(), 404, "not_found").await;
    let reader = app.key("acme", &[Scope::Read]).await;
    let read_only = app.client.post(app.url(&path)).bearer_auth(&reader).send();
    assert_problem(read_only.await.unwrap(), 403, "forbidden").await;
}

#[tokio::test]
async fn failed_deliveries_are_listed_across_endpoints() {
    use crate::webhooks::receiver::Receiver;
    use crate::webhooks::{key, register_url};
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    // A port nothing listens on: every attempt is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    let (good, _) = register_url(&app, &key, &receiver.url).await;
    let (bad, _) = register_url(&app, &key, &dead).await;
    let (status, _) = ingest(&app, &key, "tms-order-create.json").await;
    assert_eq!(status, 201);

    let started = Instant::now();
    let failed = loop {
        let page: Value = app
            .get_json("/v1/webhooks/deliveries?state=failed", &key)
            .await;
        if !page["items"].as_array().unwrap().is_empty() {
            break page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no delivery was dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{failed}");
    assert_eq!(items[0]["endpoint_id"], bad);
    assert_eq!(items[0]["event_type"], "order.created");
    assert_eq!(items[0]["attempts"], 3, "every scheduled attempt was made");
    receiver
        .wait_for(Duration::from_secs(15), |p| !p.is_empty())
        .await;

    let endpoints = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["endpoint_id"].as_i64().unwrap())
            .collect()
    };
    for (query, expected) in [
        ("state=delivered", vec![good]),
        (&format!("endpoint={good}") as &str, vec![good]),
        ("event_type=order.created&state=failed", vec![bad]),
        ("event_type=shipment.created", vec![]),
        ("since=2999-01-01T00:00:00Z", vec![]),
    ] {
        let page: Value = app
            .get_json(&format!("/v1/webhooks/deliveries?{query}"), &key)
            .await;
        assert_eq!(endpoints(&page), expected, "{query}: {page}");
    }
    let first: Value = app.get_json("/v1/webhooks/deliveries?limit=1", &key).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_json(
            &format!("/v1/webhooks/deliveries?limit=1&after={cursor}"),
            &key,
        )
        .await;
    assert!(second["next_cursor"].is_null(), "{second}");
    let mut both = [endpoints(&first), endpoints(&second)].concat();
    both.sort();
    let mut expected = vec![good, bad];
    expected.sort();
    assert_eq!(both, expected);

    // Each endpoint's health says which one fails, and since when.
    let health = |id: i64| {
        let app = &app;
        let key = &key;
        async move {
            app.get_json(&format!("/v1/webhooks/endpoints/{id}/health"), key)
                .await
        }
    };
    let sick = health(bad).await;
    assert_eq!(sick["attempts"], 3, "{sick}");
    assert_eq!(sick["delivered"], 0);
    assert_eq!(sick["success_rate"], 0.0);
    assert!(sick["last_success_at"].is_null());
    assert!(sick["failing_since"].is_string(), "{sick}");
    assert_eq!(sick["dead_letters"], 1);
    assert_eq!(sick["backlog"], 0);
    let fine = health(good).await;
    assert_eq!(fine["attempts"], 1, "{fine}");
    assert_eq!(fine["success_rate"], 1.0);
    assert!(fine["failing_since"].is_null());
    assert!(fine["last_success_at"].is_string());

    // Replayed by filter: the dead letter goes out again, and fails again.
    let replay = |body: Value| {
        app.client
            .post(app.url("/v1/webhooks/deliveries/replay"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    assert_problem(
        replay(json!({"state": "pending"})).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        replay(json!({"stat": "failed"})).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        replay(json!({"event_type": "shipment.exploded\u{0}"}))
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get("/v1/webhooks/deliveries?event_type=nope%00", &key)
            .await,
        400,
        "invalid_query_parameter",
    )
    .await;
    let none: Value = replay(json!({"event_type": "shipment.created"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["requeued"], 0);
    let replayed = replay(json!({})).await.unwrap();
    assert_eq!(replayed.status(), 202);
    let replayed: Value = replayed.json().await.unwrap();
    assert_eq!(replayed["requeued"], 1);
    let started = Instant::now();
    loop {
        let attempts: Value = app
            .get_json(&format!("/v1/webhooks/endpoints/{bad}/attempts"), &key)
            .await;
        if attempts["attempts"].as_array().unwrap().len() == 6 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the replay was not attempted: {attempts}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Another business sees none of them, and not the endpoint either.
    let other = crate::webhooks::key(&app, "northwind").await;
    let theirs: Value = app.get_json("/v1/webhooks/deliveries", &other).await;
    assert_eq!(theirs["items"], json!([]));
    assert_problem(
        app.get(&format!("/v1/webhooks/deliveries?endpoint={bad}"), &other)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/webhooks/endpoints/{bad}/health"), &other)
            .await,
        404,
        "not_found",
    )
    .await;
    let theirs = app
        .client
        .post(app.url("/v1/webhooks/deliveries/replay"))
        .bearer_auth(&other)
        .json(&json!({"endpoint": bad}))
        .send()
        .await
        .unwrap();
    assert_problem(theirs, 404, "not_found").await;
}

#[tokio::test]
async fn a_broken_reload_is_visible_in_the_rules_status_not_only_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    write_rule(dir.path(), STRICT_RULE);
    let rules_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| {
        c.rules_dir = rules_dir;
        c.rules_poll_ms = 50;
    })
    .await;
    let key = app.key("acme", &[Scope::Read]).await;
    let before: Value = app.get_json("/v1/rules", &key).await;
    assert_eq!(before["rules"], 1);
    assert_eq!(before["files"], json!(["walk-in.toml"]));
    assert!(before["last_reload"].is_null(), "{before}");
    let version = before["version"].as_str().unwrap().to_string();
    assert_eq!(version.len(), 12);

    let wait_for = |ok: bool| {
        let app = &app;
        let key = &key;
        async move {
            let started = Instant::now();
            loop {
                let status: Value = app.get_json("/v1/rules", key).await;
                if status["last_reload"]["ok"] == ok {
                    return status;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "no reload with ok={ok}: {status}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    write_rule(dir.path(), "[[rule]]\nname = \"broken\"\n");
    let broken = wait_for(false).await;
    assert_eq!(
        broken["version"],
        version.as_str(),
        "the old rules stay in use"
    );
    let errors = broken["last_reload"]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("walk-in.toml")),
        "{broken}"
    );
    write_rule(dir.path(), FIXED_RULE);
    let fixed = wait_for(true).await;
    assert_ne!(fixed["version"], version.as_str());
    assert_eq!(fixed["last_reload"]["errors"], json!([]));
    let writer = app.key("acme", &[Scope::Write]).await;
    assert_problem(app.get("/v1/rules", &writer).await, 403, "forbidden").await;
}

#[tokio::test]
async fn the_event_catalogue_shows_each_type_in_the_shape_real_pushes_have() {
    use std::collections::BTreeSet;
    let app = TestApp::spawn().await;
    let key = app
        .key("northwind", &[Scope::Ingest, Scope::Read, Scope::Webhooks])
        .await;
    let catalogue: Value = app.get_json("/v1/webhooks/event-types", &key).await;
    let types = catalogue["event_types"].as_array().unwrap();
    assert_eq!(types.len(), freightgate::domain::EventType::ALL.len());
    for feed_name in [
        "wms-shipment-with-orders.json",
        "shipment-status.json",
        "dock-pallet-scan.json",
        "pod-document.json",
    ] {
        let (status, ack) = ingest(&app, &key, feed_name).await;
        assert!(status < 300, "{feed_name}: {ack}");
    }
    let keys =
        |data: &Value| -> BTreeSet<String> { data.as_object().unwrap().keys().cloned().collect() };
    let pulled: Value = app.get_json("/v1/messages?limit=1000", &key).await;
    let mut compared = BTreeSet::new();
    for message in pulled["messages"].as_array().unwrap() {
        let event_type = message["type"].as_str().unwrap();
        let entry = types
            .iter()
            .find(|t| t["type"] == event_type)
            .unwrap_or_else(|| panic!("{event_type} is not in the catalogue"));
        assert!(entry["description"].as_str().is_some_and(|d| !d.is_empty()));
        let example = &entry["example"];
        assert_eq!(example["type"], event_type);
        assert_eq!(
            keys(&example["data"]),
            keys(&message["message"]["data"]),
            "{event_type}: the example's fields differ from a real push's"
        );
        compared.insert(event_type.to_string());
    }
    assert!(compared.len() >= 5, "compared only {compared:?}");
}

#[tokio::test]
async fn a_test_event_reaches_one_endpoint_signed_and_stays_out_of_the_pull() {
    use crate::webhooks::receiver::Receiver;
    use crate::webhooks::verifier::signed_with;
    use crate::webhooks::{key, register};
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    let other_receiver = Receiver::start().await;
    // It subscribes to orders only: a test is sent whatever the filters.
    let (id, secret) = register(
        &app,
        &key,
        json!({"url": receiver.url, "event_types": ["order.created"]}),
    )
    .await;
    register(&app, &key, json!({"url": other_receiver.url})).await;
    let send = |body: Value| {
        app.client
            .post(app.url(&format!("/v1/webhooks/endpoints/{id}/test")))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let sent = send(json!({})).await.unwrap();
    assert_eq!(sent.status(), 202);
    let delivery: Value = sent.json().await.unwrap();
    assert_eq!(delivery["event_type"], "shipment.created");
    assert_eq!(delivery["endpoint_id"], id);
    let pushes = receiver
        .wait_for(Duration::from_secs(15), |p| !p.is_empty())
        .await;
    let push = &pushes[0];
    assert!(signed_with(push, &secret), "{}", push.body);
    assert_eq!(
        push.header("webhook-id"),
        delivery["webhook_id"].as_str().unwrap()
    );
    assert_eq!(push.json()["type"], "shipment.created");
    assert_eq!(push.json()["data"]["shipment_number"], "NW-SHP-240611-0042");
    let pallet = send(json!({"event_type": "pallet.processed"}))
        .await
        .unwrap();
    assert_eq!(pallet.status(), 202);
    receiver
        .wait_for(Duration::from_secs(15), |p| p.len() == 2)
        .await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        other_receiver.pushes().is_empty(),
        "only the endpoint tested"
    );
    let pulled: Value = app.get_json("/v1/messages", &key).await;
    assert_eq!(pulled["messages"], json!([]), "a test is not an event");
    assert_problem(
        send(json!({"event_type": "shipment.exploded"}))
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let other = crate::webhooks::key(&app, "northwind").await;
    let theirs = app
        .client
        .post(app.url(&format!("/v1/webhooks/endpoints/{id}/test")))
        .bearer_auth(&other)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(theirs, 404, "not_found").await;
}

#[tokio::test]
async fn a_nul_in_a_search_filter_is_a_clear_refusal_on_every_door() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Read]).await;
    assert_problem(
        app.get("/v1/shipments?q=a%00b", &key).await,
        400,
        "invalid_query_parameter",
    )
    .await;
    let query =
        "query($q: String) { shipmentsConnection(filter: {query: $q}) { edges { node { id } } } }";
    let code = crate::graphql::error_code(&app, &key, query, json!({"q": "a\u{0}b"})).await;
    assert_eq!(code, "validation_failed");
}

#[tokio::test]
async fn an_array_where_an_object_belongs_is_refused_with_its_path() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Read, Scope::Write]).await;
    for (field, value) in [
        ("delivery_window", json!([null, null])),
        ("consignee", json!(["Hendriks", "NL"])),
        ("pickup_window", json!("soon")),
    ] {
        let mut order = json!({"order_number": "ARR-1", "facility": "rotterdam-dc"});
        order[field] = value;
        let answer = app.post_json("/v1/orders", &key, &order).await;
        let problem = assert_problem(answer, 422, "validation_failed").await;
        assert_eq!(
            problem["errors"][0]["path"],
            format!("$.{field}"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn the_key_says_whose_it_is_and_what_it_may_do() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Webhooks]).await;
    let me: Value = app.get_json("/v1/key", &key).await;
    assert_eq!(
        me,
        json!({"business": "acme", "name": "test", "scopes": ["ingest", "webhooks"], "role": "tenant"})
    );
    let refused = app.get("/v1/key", "fgk_not_a_key").await;
    assert_eq!(refused.status(), 401);
}

/// The sum of one outcome over every minute of an activity answer.
fn total(activity: &Value, outcome: &str) -> u64 {
    activity["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[outcome].as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn activity_counts_the_business_payloads_by_outcome_per_minute_and_its_webhook_queue() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let other = app.key("globex", &[Scope::Ingest, Scope::Read]).await;
    assert_eq!(ingest(&app, &key, "tms-order-create.json").await.0, 201);
    assert_eq!(ingest(&app, &key, "bad/missing-customer.json").await.0, 422);
    assert_eq!(ingest(&app, &key, "bad/unknown-addon.json").await.0, 422);

    let activity: Value = app.get_json("/v1/activity?minutes=5", &key).await;
    let minutes = activity["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 5, "{activity}");
    // Oldest first, one minute apart, the current minute last.
    let starts: Vec<chrono::DateTime<chrono::Utc>> = minutes
        .iter()
        .map(|m| m["minute"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        starts
            .windows(2)
            .all(|w| w[1] - w[0] == chrono::Duration::minutes(1))
    );
    assert!(chrono::Utc::now() - starts[4] < chrono::Duration::minutes(2));
    assert_eq!(
        (total(&activity, "accepted"), total(&activity, "rejected")),
        (1, 2),
        "{activity}"
    );
    assert_eq!(activity["deliveries"], json!({"pending": 0, "failed": 0}));

    // Another business's traffic is not counted; a key without `read` or
    // `webhooks` does not see the queue.
    let theirs: Value = app.get_json("/v1/activity", &other).await;
    assert_eq!(theirs["minutes"].as_array().unwrap().len(), 60);
    assert_eq!(total(&theirs, "accepted") + total(&theirs, "rejected"), 0);
    let ingest_only = app.key("acme", &[Scope::Ingest]).await;
    let narrow: Value = app.get_json("/v1/activity", &ingest_only).await;
    assert!(narrow["deliveries"].is_null(), "{narrow}");
    assert_eq!(total(&narrow, "rejected"), 2);

    for query in ["minutes=0", "minutes=1441", "minutes=x"] {
        let response = app.get(&format!("/v1/activity?{query}"), &key).await;
        assert_problem(response, 400, "invalid_query_parameter").await;
    }
    let webhooks_only = app.key("acme", &[Scope::Webhooks]).await;
    let response = app.get("/v1/activity", &webhooks_only).await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn the_console_and_graphiql_come_from_the_binary_with_nothing_from_outside() {
    let app = TestApp::spawn().await;
    let page = |path: &'static str, accept: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url(path))
                .header("accept", accept)
                .send()
                .await
                .unwrap()
        }
    };
    for (path, media) in [
        ("/console", "text/html"),
        ("/console/", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
        ("/graphiql/graphiql.min.js", "text/javascript"),
        ("/graphiql/init.js", "text/javascript"),
    ] {
        let response = page(path, "*/*").await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(media),
            "{path}"
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    let missing = page("/console/nothing.js", "*/*").await;
    assert_problem(missing, 404, "not_found").await;

    // A browser asking /graphql gets GraphiQL, every asset of which the gateway
    // serves itself.
    let html = page("/graphql", "text/html").await.text().await.unwrap();
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with('/') || s.contains("://"))
        .collect();
    assert!(assets.len() >= 5, "{html}");
    for asset in assets {
        assert!(
            asset.starts_with("/graphiql/"),
            "{asset} is not served here"
        );
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
}
