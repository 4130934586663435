//! The operator's view through GraphQL: the same listings, reprocess, replay, health,
//! test events, catalogue and rules status as REST, on the same use cases.

use std::time::Duration;

use serde_json::{Value, json};

use super::{data, error_code};
use crate::support::TestApp;
use crate::webhooks::receiver::Receiver;
use crate::webhooks::{ingest, key, register_url};

const PAYLOADS: &str = "query($filter: PayloadFilter, $first: Int, $after: String) {
    payloads(filter: $filter, first: $first, after: $after) {
        items { loggingId outcome rule problemCodes references key source reprocessOf }
        nextCursor } }";

fn ids(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn payloads_are_listed_read_and_reprocessed_as_over_rest() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    ingest(&app, &key, "tms-order-create.json").await;
    let refused = crate::ingest::post(
        &app,
        &key,
        "application/json",
        crate::ingest::feed("bad/missing-customer.json"),
    )
    .await;
    assert_eq!(refused.status(), 422);

    // The same rows, in the same order, with the same fields as GET /v1/ingest.
    for (filter, query) in [
        (json!({}), ""),
        (json!({"outcome": "REJECTED"}), "outcome=rejected"),
        (
            json!({"code": "missing_field", "key": "test"}),
            "code=missing_field&key=test",
        ),
        (
            json!({"reference": "TMS-2026-1187"}),
            "reference=TMS-2026-1187",
        ),
        (json!({"source": "graphql"}), "source=graphql"),
    ] {
        let graphql =
            data(&app, &key, PAYLOADS, json!({"filter": filter})).await["payloads"].clone();
        let rest: Value = app.get_json(&format!("/v1/ingest?{query}"), &key).await;
        assert_eq!(
            ids(&graphql, "loggingId"),
            ids(&rest, "logging_id"),
            "{filter}"
        );
        for (g, r) in graphql["items"]
            .as_array()
            .unwrap()
            .iter()
            .zip(rest["items"].as_array().unwrap())
        {
            assert_eq!(g["problemCodes"], r["problem_codes"]);
            assert_eq!(g["rule"], r["rule"]);
            assert_eq!(g["key"], r["key"]);
        }
    }

    // Paged one at a time with the cursor, every payload once.
    let first = data(&app, &key, PAYLOADS, json!({"first": 1})).await["payloads"].clone();
    let cursor = first["nextCursor"].as_str().unwrap().to_string();
    let second =
        data(&app, &key, PAYLOADS, json!({"first": 1, "after": cursor})).await["payloads"].clone();
    assert!(second["nextCursor"].is_null(), "{second}");
    let rejected_id = ids(&first, "loggingId")[0].clone();
    assert_eq!(first["items"][0]["outcome"], "rejected");
    assert_ne!(ids(&second, "loggingId"), ids(&first, "loggingId"));

    // The record, then a dry run (writes nothing) and a reprocess (a new record
    // naming the original).
    let record = data(
        &app,
        &key,
        "query($id: String!) { payload(loggingId: $id) { outcome rule body response } }",
        json!({"id": rejected_id}),
    )
    .await["payload"]
        .clone();
    assert_eq!(record["outcome"], "rejected");
    assert_eq!(record["response"]["code"], "validation_failed", "{record}");
    assert!(record["body"].as_str().unwrap().contains("TMS-"));
    const REPROCESS: &str = "mutation($id: String!, $dry: Boolean) {
        reprocessPayload(loggingId: $id, dryRun: $dry) { status loggingId answer } }";
    let dry = data(
        &app,
        &key,
        REPROCESS,
        json!({"id": rejected_id, "dry": true}),
    )
    .await["reprocessPayload"]
        .clone();
    assert_eq!(
        (dry["status"].clone(), dry["loggingId"].clone()),
        (json!(200), Value::Null)
    );
    let count = |page: Value| page["items"].as_array().unwrap().len();
    assert_eq!(
        count(data(&app, &key, PAYLOADS, json!({})).await["payloads"].clone()),
        2
    );
    let again =
        data(&app, &key, REPROCESS, json!({"id": rejected_id})).await["reprocessPayload"].clone();
    assert_eq!(again["status"], 422, "the rule is unchanged: {again}");
    let new_id = again["loggingId"].as_str().unwrap();
    let reprocessed = data(
        &app,
        &key,
        PAYLOADS,
        json!({"filter": {"source": "reprocess"}}),
    )
    .await["payloads"]
        .clone();
    assert_eq!(ids(&reprocessed, "loggingId"), [new_id]);
    assert_eq!(reprocessed["items"][0]["reprocessOf"], rejected_id.as_str());

    // Filters that cannot be read are refused with the field named.
    for (filter, first, after) in [
        (json!({"code": "Not A Code"}), None, None),
        (json!({"source": "ftp"}), None, None),
        (json!({"rule": "a\u{0}b"}), None, None),
        (json!({"reference": "x".repeat(257)}), None, None),
        (json!({"since": "yesterday"}), None, None),
        (json!({}), Some(0), None),
        (json!({}), Some(201), None),
        (json!({}), None, Some("not-a-cursor")),
    ] {
        let variables = json!({"filter": filter, "first": first, "after": after});
        assert_eq!(
            error_code(&app, &key, PAYLOADS, variables.clone()).await,
            "validation_failed",
            "{variables}"
        );
    }

    // The rules status is the REST one.
    let rules = data(
        &app,
        &key,
        "{ rulesStatus { version rules files lastReload { ok } } }",
        json!({}),
    )
    .await["rulesStatus"]
        .clone();
    let rest: Value = app.get_json("/v1/rules", &key).await;
    assert_eq!(rules["version"], rest["version"]);
    assert_eq!(rules["rules"], rest["rules"]);
    assert_eq!(rules["files"], rest["files"]);
}

const DELIVERIES: &str = "query($filter: DeliveryFilter) {
    webhookDeliveries(filter: $filter) {
        items { id endpointId eventType state attempts lastStatus lastError createdAt }
        nextCursor } }";

#[tokio::test]
async fn deliveries_health_replay_test_events_and_the_catalogue_through_graphql() {
    let app = TestApp::spawn().await;
    let key = key(&app, "acme").await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = register_url(&app, &key, &receiver.url).await;

    // A test event, delivered and visible across endpoints with its endpoint id.
    let sent = data(
        &app,
        &key,
        "mutation($id: Int!) { sendTestWebhook(endpointId: $id, eventType: \"order.created\") { id endpointId eventType state } }",
        json!({"id": endpoint}),
    )
    .await["sendTestWebhook"]
        .clone();
    assert_eq!(sent["endpointId"], endpoint);
    assert_eq!(sent["eventType"], "order.created");
    receiver
        .wait_for(Duration::from_secs(15), |p| !p.is_empty())
        .await;
    let started = std::time::Instant::now();
    let delivered = loop {
        let page = data(
            &app,
            &key,
            DELIVERIES,
            json!({"filter": {"state": "delivered"}}),
        )
        .await;
        let items = page["webhookDeliveries"]["items"]
            .as_array()
            .unwrap()
            .clone();
        if !items.is_empty() {
            break items;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(delivered[0]["id"], sent["id"]);
    assert_eq!(delivered[0]["endpointId"], endpoint);
    let rest: Value = app
        .get_json(
            &format!("/v1/webhooks/deliveries?state=delivered&endpoint={endpoint}"),
            &key,
        )
        .await;
    assert_eq!(rest["items"][0]["id"], sent["id"]);

    // Health, as REST gives it.
    let health = data(
        &app,
        &key,
        "query($id: Int!) { webhookEndpoint(id: $id) { health { attempts delivered successRate backlog deadLetters failingSince } } }",
        json!({"id": endpoint}),
    )
    .await["webhookEndpoint"]["health"]
        .clone();
    let rest: Value = app
        .get_json(&format!("/v1/webhooks/endpoints/{endpoint}/health"), &key)
        .await;
    assert_eq!(health["attempts"], rest["attempts"]);
    assert_eq!(health["successRate"], rest["success_rate"]);
    assert_eq!(health["deadLetters"], rest["dead_letters"]);

    // Replay everything delivered to the endpoint: the receiver gets it again.
    let replayed = data(
        &app,
        &key,
        "mutation($f: DeliveryFilter) { replayWebhookDeliveries(filter: $f) }",
        json!({"f": {"state": "delivered", "endpointId": endpoint}}),
    )
    .await["replayWebhookDeliveries"]
        .clone();
    assert_eq!(replayed, 1);
    receiver
        .wait_for(Duration::from_secs(15), |p| p.len() >= 2)
        .await;

    // The catalogue, as REST gives it.
    let types = data(
        &app,
        &key,
        "{ webhookEventTypes { name description example } }",
        json!({}),
    )
    .await["webhookEventTypes"]
        .clone();
    let rest: Value = app.get_json("/v1/webhooks/event-types", &key).await;
    let names: Vec<&Value> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    let rest_names: Vec<&Value> = rest["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["type"])
        .collect();
    assert_eq!(names, rest_names);
    assert_eq!(types[0]["example"], rest["event_types"][0]["example"]);

    // Filters that cannot be read, and a key without `webhooks`.
    for filter in [
        json!({"state": "lost"}),
        json!({"eventType": "order.deleted"}),
        json!({"since": "soon"}),
    ] {
        assert_eq!(
            error_code(&app, &key, DELIVERIES, json!({"filter": filter})).await,
            "validation_failed",
            "{filter}"
        );
    }
    assert_eq!(
        error_code(
            &app,
            &key,
            "mutation { replayWebhookDeliveries(filter: {state: \"pending\"}) }",
            json!({})
        )
        .await,
        "validation_failed"
    );
    let reader = app.key("acme", &[freightgate::domain::Scope::Read]).await;
    assert_eq!(
        error_code(&app, &reader, DELIVERIES, json!({})).await,
        "forbidden"
    );
}
