//! GraphQL over HTTP: content negotiation, status codes, GET, limits, GraphiQL.

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::support::TestApp;

async fn raw(app: &TestApp, key: &str, accept: &str, body: &str) -> (u16, String, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .header("accept", accept)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (
        status,
        content_type,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn validation_errors_are_400_for_graphql_response_json_and_200_for_json() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let bad = r#"{"query": "{ nope }"}"#;
    let (status, content_type, body) =
        raw(&app, &key, "application/graphql-response+json", bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(content_type.starts_with("application/graphql-response+json"));
    assert!(body.get("data").is_none(), "{body}");
    let (status, content_type, body) = raw(&app, &key, "application/json", bad).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("application/json"));
    assert!(body["errors"][0]["message"].is_string());

    let field_error = r#"{"query": "{ shipment(id: 999) { id } }"}"#;
    let (status, _, body) = raw(&app, &key, "application/graphql-response+json", field_error).await;
    assert_eq!(status, 200, "a field error is not a request error: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "not_found");
    let (status, _, _) = raw(&app, &key, "application/json", "{ not json").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn get_runs_queries_but_a_mutation_over_get_is_405() {
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read, Scope::Write]).await;
    let ok = app.get("/graphql?query=%7B%20ping%20%7D", &key).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<Value>().await.unwrap(),
        json!({"data": {"ping": true}})
    );
    let mutation = "/graphql?query=mutation%20%7B%20__typename%20%7D";
    let refused = app.get(mutation, &key).await;
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_query_nested_deeper_than_the_limit_is_refused() {
    let app = TestApp::spawn_with(|c| c.graphql_max_depth = 4).await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let deep = "{ businesses { facilities { shipments { orders { items { sku } } } } } }";
    let (status, body) = super::post(&app, &key, deep, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "query_too_deep",
        "{body}"
    );
    let shallow = "{ businesses { facilities { slug } } }";
    super::data(&app, &key, shallow, json!({})).await;
}

#[tokio::test]
async fn introspection_is_on_by_default_and_can_be_switched_off() {
    let query = "{ __schema { queryType { name } } }";
    let app = TestApp::spawn().await;
    let key = app.key("northwind", &[Scope::Read]).await;
    let on = super::data(&app, &key, query, json!({})).await;
    assert_eq!(on["__schema"]["queryType"]["name"], "QueryRoot");
    let closed = TestApp::spawn_with(|c| c.graphql_introspection = false).await;
    let key = closed.key("northwind", &[Scope::Read]).await;
    let (_, body) = super::post(&closed, &key, query, json!({})).await;
    assert!(
        body["errors"].is_array() || body["data"]["__schema"].is_null(),
        "{body}"
    );
    assert_ne!(
        body["data"]["__schema"]["queryType"]["name"], "QueryRoot",
        "{body}"
    );
}

#[tokio::test]
async fn browsers_get_graphiql() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
}
