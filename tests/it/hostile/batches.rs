//! Bodies shaped to multiply work: many tiny documents on ingest and explain, and the
//! answers they leave behind.

use freightgate::domain::Scope;
use freightgate::store::entities::{idempotency_key, inbound_body, inbound_payload};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::support::{TestApp, assert_problem};

async fn send(app: &TestApp, path: &str, key: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(key)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_payload_of_more_documents_than_the_cap_is_refused_with_413_and_recorded() {
    let app = TestApp::spawn_with(|c| c.max_documents_per_payload = 50).await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let before = super::counts(&app.db).await;
    let response = send(&app, "/v1/ingest", &key, "{}\n".repeat(51)).await;
    let problem = assert_problem(response, 413, "too_many_documents").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("max_documents_per_payload"),
        "{problem}"
    );
    // Refused, not lost: the payload is on record with its answer.
    let logging_id = problem["logging_id"].as_str().expect("a logging id");
    let record = app
        .get_json(&format!("/v1/ingest/{logging_id}"), &key)
        .await;
    assert_eq!(record["outcome"], "rejected", "{record}");
    assert_eq!(super::counts(&app.db).await, before);
    // The same on explain, and for a JSON array.
    let array = format!("[{}{{}}]", "{},".repeat(50));
    let response = app
        .client
        .post(app.url("/v1/ingest/explain"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(array)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "too_many_documents").await;
    // At the cap it is taken.
    let response = send(&app, "/v1/ingest", &key, "{}\n".repeat(50)).await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn explain_answers_a_batch_with_a_verdict_per_document_and_in_full_only_on_request() {
    let app = TestApp::spawn_with(|c| c.explain_full_max_documents = 3).await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let order = crate::ingest::feed("tms-order-create.json").replace('\n', " ");
    let body = format!("{order}\n{{}}\n");
    let response = send(&app, "/v1/ingest/explain", &key, body.clone()).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["full"], false);
    let first = &answer["documents"][0];
    assert!(first.get("explanation").is_none(), "{first}");
    assert_eq!(first["verdict"]["rule"], "tms-order-create", "{first}");
    assert_eq!(first["verdict"]["operation"], "create");
    assert_eq!(first["verdict"]["items"], 1);
    assert_eq!(first["verdict"]["accepted_items"], 1);
    let second = &answer["documents"][1]["verdict"];
    assert_eq!(second["rule"], Value::Null, "{second}");
    assert!(second["summary"].as_str().unwrap().len() > 10);
    // In full on request.
    let response = send(&app, "/v1/ingest/explain?full=true", &key, body).await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["full"], true);
    assert_eq!(
        answer["documents"][0]["explanation"]["chosen"]["name"],
        "tms-order-create"
    );
    // In full, past its own cap: 413 naming the setting.
    let response = send(&app, "/v1/ingest/explain?full=true", &key, "{}\n".repeat(4)).await;
    let problem = assert_problem(response, 413, "too_many_documents").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("explain_full_max_documents"),
        "{problem}"
    );
    // The summary of a large batch stays small: 2,000 empty documents.
    let response = send(&app, "/v1/ingest/explain", &key, "{}\n".repeat(2_000)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.len() < 2_000 * 1_000,
        "an explain summary of 2,000 empty documents is {} bytes",
        text.len()
    );
}

#[tokio::test]
async fn a_large_answer_is_stored_once_as_a_summary_with_the_rejected_items() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let order = crate::ingest::feed("tms-order-create.json");
    let order: Value = serde_json::from_str(&order).unwrap();
    // 3,000 documents: 2,999 orders that are accepted and one that matches no rule.
    let mut lines = Vec::new();
    for i in 0..2_999 {
        let mut doc = order.clone();
        doc["order_identifier"] = Value::String(format!("BIG-{i}"));
        lines.push(doc.to_string());
    }
    lines.push("{}".into());
    let body = lines.join("\n");
    let response = app
        .client
        .post(app.url("/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/x-ndjson")
        .header("idempotency-key", "big-batch-1")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 207);
    let sent = response.text().await.unwrap();
    let answer: Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(answer["results"].as_array().unwrap().len(), 3_000);
    let logging_id = answer["logging_id"].as_str().unwrap().to_string();

    let record = inbound_payload::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.logging_id == logging_id)
        .expect("the payload record");
    let stored = inbound_body::Entity::find_by_id(record.id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("the payload's body row")
        .response
        .expect("a stored answer");
    let stored_size = serde_json::to_vec(&stored).unwrap().len();
    assert!(
        stored_size <= 256 * 1024 && stored_size * 4 < sent.len(),
        "stored {stored_size} bytes of a {} byte answer",
        sent.len()
    );
    assert_eq!(
        stored["stored_summary"]["items"], 3_000,
        "{}",
        stored["stored_summary"]
    );
    assert_eq!(stored["stored_summary"]["accepted"], 2_999);
    assert_eq!(stored["stored_summary"]["rejected"], 1);
    let kept = stored["results"].as_array().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["index"], 2_999);
    assert_eq!(kept[0]["errors"][0]["code"], "no_matching_rule");

    // The key holds no second copy; a retry replays the stored answer.
    let keys = idempotency_key::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].response_body, None);
    assert_eq!(keys[0].logging_id.as_deref(), Some(logging_id.as_str()));
    let retry = app
        .client
        .post(app.url("/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/x-ndjson")
        .header("idempotency-key", "big-batch-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 207);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let replayed: Value = retry.json().await.unwrap();
    assert_eq!(replayed, stored);
    assert_eq!(
        inbound_payload::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}
