//! Explain and the payload record: how operators see what happened.

use freightgate::domain::Scope;
use serde_json::Value;

use crate::ingest::{feed, post};
use crate::support::{TestApp, assert_problem};

async fn explain(app: &TestApp, key: &str, body: String) -> Value {
    let response = app
        .client
        .post(app.url("/v1/ingest/explain"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn explain_shows_the_chosen_rule_the_misses_and_the_mapping_without_writing() {
    use freightgate::store::entities::order;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let body = explain(&app, &key, feed("tms-order-update.json")).await;
    let explanation = &body["documents"][0]["explanation"];
    assert_eq!(
        explanation["chosen"]["name"], "tms-order-update",
        "{explanation:#}"
    );
    let create = explanation["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "tms-order-create")
        .expect("the create rule is listed as a candidate");
    assert_eq!(create["matched"], false);
    assert_eq!(create["failed"]["path"], "$.operation", "{create:#}");
    assert_eq!(create["failed"]["found"], "\"UPDATE\"", "{create:#}");
    assert_eq!(
        explanation["items"][0]["document"]["order_number"],
        "TMS-2026-118734"
    );
    assert_eq!(
        order::Entity::find().count(&app.db).await.unwrap(),
        0,
        "explain writes nothing"
    );
}

#[tokio::test]
async fn explain_reports_validation_findings() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let body = explain(&app, &key, feed("bad/unknown-addon.json")).await;
    let findings = &body["documents"][0]["explanation"]["items"][0]["findings"];
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "unknown_code"),
        "{findings:#}"
    );
}

/// The answer's exact text: documents in order, each `index`, `location`, then its
/// `explanation` (the rules engine's, field for field) or its `error`.
#[tokio::test]
async fn explain_answers_each_document_in_order_with_the_engines_explanation_or_its_error() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let good = feed("tms-order-update.json").replace('\n', " ");
    let body = format!(
        "{good}\n{{\"operation\": \n{}\n",
        feed("bad/unknown-addon.json").replace('\n', " ")
    );
    let response = app
        .client
        .post(app.url("/v1/ingest/explain?full=true"))
        .bearer_auth(&key)
        .header("content-type", "application/x-ndjson")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    let rules_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let (rules, _) = freightgate::rules::load_dir(&rules_dir).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let explained = |line: &str| {
        let payload: Value = serde_json::from_str(line).unwrap();
        serde_json::to_value(rules.explain("acme", &payload)).unwrap()
    };
    let document = |line: &str| serde_json::from_str::<Value>(line).unwrap();
    let bad_line = freightgate::ingest::body::strict_json(lines[1]).unwrap_err();
    let expected = serde_json::json!({
        "rules_loaded": rules.len(),
        "full": true,
        "documents": [
            {"index": 0, "location": "line 1", "document": document(lines[0]), "explanation": explained(lines[0])},
            {"index": 1, "location": "line 2", "error": format!("line 2 is not valid JSON: {bad_line}")},
            {"index": 2, "location": "line 3", "document": document(lines[2]), "explanation": explained(lines[2])},
        ]
    });
    assert_eq!(text, expected.to_string());
}

#[tokio::test]
async fn every_payload_is_recorded_with_its_rule_and_outcome() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let response = post(
        &app,
        &key,
        "application/json",
        feed("tms-order-create.json"),
    )
    .await;
    let ack: Value = response.json().await.unwrap();
    let logging_id = ack["logging_id"].as_str().unwrap();
    let record: Value = app
        .get_json(&format!("/v1/ingest/{logging_id}"), &key)
        .await;
    assert_eq!(record["rule"], "tms-order-create");
    assert_eq!(record["operation"], "create");
    assert_eq!(record["outcome"], "accepted");
    assert_eq!(record["response"], ack);
    let other = app.key("zenith", &[Scope::Ingest]).await;
    let hidden = app.get(&format!("/v1/ingest/{logging_id}"), &other).await;
    assert_problem(hidden, 404, "not_found").await;
}

#[tokio::test]
async fn unreadable_bodies_get_a_problem_with_a_logging_id() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let malformed = post(&app, &key, "application/json", "{\"operation\": ").await;
    let problem = assert_problem(malformed, 400, "malformed_json").await;
    assert!(problem["logging_id"].is_string());
    let xml = post(&app, &key, "application/xml", "<order><line></order>").await;
    let problem = assert_problem(xml, 400, "malformed_xml").await;
    assert!(problem["logging_id"].is_string());
    let yaml = post(&app, &key, "application/yaml", "order: 1").await;
    assert_problem(yaml, 415, "unsupported_media_type").await;
    let binary = app
        .client
        .post(app.url("/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    assert_problem(binary, 400, "invalid_encoding").await;
}

#[tokio::test]
async fn ingest_needs_the_ingest_scope() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Read]).await;
    let response = post(
        &app,
        &key,
        "application/json",
        feed("tms-order-create.json"),
    )
    .await;
    assert_problem(response, 403, "forbidden").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 4096).await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let big = format!("{{\"notes\": \"{}\"}}", "x".repeat(10_000));
    assert_problem(
        post(&app, &key, "application/json", big).await,
        413,
        "payload_too_large",
    )
    .await;
}

#[tokio::test]
async fn a_nul_character_is_refused_without_reaching_the_database() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let body = feed("tms-order-create.json").replace("ACME-UK", "ACME\\u0000UK");
    let problem = assert_problem(
        post(&app, &key, "application/json", body).await,
        422,
        "malformed_document",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("NUL"),
        "{problem}"
    );
}

#[tokio::test]
async fn explain_shows_each_csv_row_as_the_rules_saw_it() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Ingest]).await;
    // A `;` file sent as plain CSV: the row's one key shows the delimiter problem.
    let csv = "Ordernummer;Regel;Klant\nNW-1;1;Acme\n";
    let explain_as = |content_type: &'static str| {
        app.client
            .post(app.url("/v1/ingest/explain"))
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(csv)
            .send()
    };
    for (content_type, read) in [
        (
            "text/csv",
            serde_json::json!({"Ordernummer;Regel;Klant": "NW-1;1;Acme"}),
        ),
        (
            r#"text/csv; delimiter=";""#,
            serde_json::json!({"Ordernummer": "NW-1", "Regel": "1", "Klant": "Acme"}),
        ),
    ] {
        let body: Value = explain_as(content_type)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["documents"][0]["document"], read, "{body:#}");
    }
}
