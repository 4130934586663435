//! The corpus against `POST /v1/ingest` and `POST /v1/ingest/explain`.

use std::time::Duration;

use freightgate::domain::Scope;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{assert_still_up, client_problem, counts};
use crate::ingest::feed;
use crate::support::TestApp;

const JSON: Option<&str> = Some("application/json");

fn nested(depth: usize, open: &str, close: &str) -> Vec<u8> {
    format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
}

/// Bodies no door may accept: (what, content type, body).
fn corpus() -> Vec<(&'static str, Option<&'static str>, Vec<u8>)> {
    let order = feed("tms-order-create.json");
    let half = order.len() / 2;
    vec![
        ("empty body", JSON, Vec::new()),
        ("whitespace only", JSON, b"  \n\t ".to_vec()),
        ("truncated JSON", JSON, order.as_bytes()[..half].to_vec()),
        ("unquoted keys", JSON, b"{operation: CREATE}".to_vec()),
        ("trailing garbage", JSON, format!("{order} ]").into_bytes()),
        (
            "two documents",
            JSON,
            format!("{order}{order}").into_bytes(),
        ),
        (
            "invalid UTF-8",
            JSON,
            b"{\"operation\": \"\xc3\x28\"}".to_vec(),
        ),
        (
            "lone surrogate escape",
            JSON,
            br#"{"operation": "\ud800"}"#.to_vec(),
        ),
        (
            "raw NUL byte",
            JSON,
            b"{\"operation\": \"CRE\0ATE\"}".to_vec(),
        ),
        (
            "escaped NUL",
            JSON,
            order.replace("ACME-UK", "ACME\\u0000UK").into_bytes(),
        ),
        ("NUL bytes only", JSON, vec![0; 64]),
        ("10,000-deep arrays", JSON, nested(10_000, "[", "]")),
        ("10,000-deep objects", JSON, nested(10_000, "{\"a\":", "}")),
        (
            "1e400",
            JSON,
            order
                .replacen("\"quantity\": 3", "\"quantity\": 1e400", 1)
                .into_bytes(),
        ),
        (
            "duplicate keys",
            JSON,
            order
                .replacen("{", "{\"operation\": \"DELETE\",", 1)
                .into_bytes(),
        ),
        ("empty array", JSON, b"[]".to_vec()),
        ("bare number", JSON, b"-0".to_vec()),
        (
            "wrong content type",
            Some("text/plain"),
            order.clone().into_bytes(),
        ),
        (
            "XML content type",
            Some("application/xml"),
            b"<order/>".to_vec(),
        ),
        ("missing content type", None, order.clone().into_bytes()),
        (
            "garbage content type",
            Some(";;;==\"/"),
            order.clone().into_bytes(),
        ),
        ("CSV without header", Some("text/csv"), Vec::new()),
        (
            "CSV with an empty column name",
            Some("text/csv"),
            b"id,,name\n1,2,3\n".to_vec(),
        ),
        (
            "CSV in invalid UTF-8",
            Some("text/csv"),
            b"id,name\n1,\xff\xfe\n".to_vec(),
        ),
        (
            "NDJSON of blank lines",
            Some("application/x-ndjson"),
            b"\n\n  \n".to_vec(),
        ),
    ]
}

async fn send(
    app: &TestApp,
    path: &str,
    key: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).bearer_auth(key).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_hostile_body_is_a_4xx_problem_on_ingest_and_explain_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let before = counts(&app.db).await;
    for (what, content_type, body) in corpus() {
        let response = send(&app, "/v1/ingest", &key, content_type, body.clone()).await;
        client_problem(what, response).await;
        // Explain writes nothing and judges each readable document on its own.
        let response = send(&app, "/v1/ingest/explain", &key, content_type, body).await;
        if response.status() == 200 {
            let explained: Value = response.json().await.unwrap();
            for doc in explained["documents"].as_array().unwrap() {
                let refused = doc["error"].is_string()
                    || doc["explanation"]["chosen"].is_null()
                    || doc["explanation"]["items"]
                        .to_string()
                        .contains("\"severity\":\"error\"");
                assert!(refused, "{what}: explain accepted it: {doc}");
            }
        } else {
            client_problem(&format!("{what} on explain"), response).await;
        }
    }
    assert_eq!(counts(&app.db).await, before, "nothing may be written");
    assert_still_up(&app).await;
    let fine = send(
        &app,
        "/v1/ingest",
        &key,
        JSON,
        feed("tms-order-create.json").into(),
    )
    .await;
    assert_eq!(fine.status(), 201, "a good payload still goes through");
}

#[tokio::test]
async fn a_1_mb_string_is_refused_without_writing() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let before = counts(&app.db).await;
    let long = "X".repeat(1024 * 1024);
    let order = feed("tms-order-create.json");
    for (field, body) in [
        (
            "identifier",
            order.replacen(
                "\"order_identifier\": \"",
                &format!("\"order_identifier\": \"{long}"),
                1,
            ),
        ),
        (
            "customer code",
            order.replacen("\"ACME-UK\"", &format!("\"{long}\""), 1),
        ),
        (
            "goods description",
            order.replacen("Garden furniture", &long, 1),
        ),
        ("city", order.replacen("Derby", &long, 1)),
        (
            "country",
            order.replacen("\"GB\"", &format!("\"{long}\""), 1),
        ),
    ] {
        let response = send(&app, "/v1/ingest", &key, JSON, body.into_bytes()).await;
        client_problem(field, response).await;
    }
    assert_eq!(counts(&app.db).await, before);
}

#[tokio::test]
async fn minus_zero_is_stored_as_zero() {
    use freightgate::store::entities::order_item;
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let order = feed("tms-order-create.json");
    let body = order.replacen("\"quantity\": 3", "\"quantity\": -0.0", 1);
    assert_ne!(body, order, "the feed changed shape");
    let response = send(&app, "/v1/ingest", &key, JSON, body.into_bytes()).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let items = order_item::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(items.len(), 1);
    assert!(
        items[0].quantity == 0.0 && items[0].quantity.is_sign_positive(),
        "{}",
        items[0].quantity
    );
}

#[tokio::test]
async fn an_overlong_or_binary_idempotency_key_is_refused_before_anything_is_written() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let before = counts(&app.db).await;
    for idempotency in [
        "k".repeat(256),
        "k".repeat(8 * 1024),
        String::new(),
        "\"\"".into(),
    ] {
        let response = app
            .client
            .post(app.url("/v1/ingest"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .header("idempotency-key", idempotency.as_str())
            .body(feed("tms-order-create.json"))
            .send()
            .await
            .unwrap();
        let (status, body) = client_problem("idempotency key", response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_idempotency_key"))
        );
    }
    let binary = reqwest::header::HeaderValue::from_bytes(b"caf\xe9").unwrap();
    let response = app
        .client
        .post(app.url("/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("idempotency-key", binary)
        .body(feed("tms-order-create.json"))
        .send()
        .await
        .unwrap();
    client_problem("binary idempotency key", response).await;
    assert_eq!(counts(&app.db).await, before);
}

#[tokio::test]
async fn a_bad_ndjson_line_or_ragged_csv_row_fails_alone_and_writes_nothing_of_its_own() {
    let app = TestApp::spawn().await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let good: Value = serde_json::from_str(&feed("tms-order-create.json")).unwrap();
    let mut second = good.clone();
    second["order_identifier"] = "TMS-NDJSON-2".into();
    let body = format!("{good}\n{{\"operation\": \"CREATE\", \"order_\n{second}\n");
    let response = send(
        &app,
        "/v1/ingest",
        &key,
        Some("application/x-ndjson"),
        body.into(),
    )
    .await;
    assert_eq!(response.status(), 207);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(
        crate::ingest::statuses(&ack),
        ["accepted", "rejected", "accepted"],
        "{ack}"
    );
    assert!(ack["results"][1].to_string().contains("line 2"), "{ack}");
    let orders = counts(&app.db).await.0[1];
    assert_eq!(orders, 2, "only the good lines are stored");

    let csv = feed("expected-shipments.csv");
    let mut lines: Vec<&str> = csv.lines().collect();
    let header = lines.remove(0);
    let ragged = format!(
        "\u{feff}{header}\n{}\n\"quoted\nnewline\",x\n{}\n",
        lines[0], lines[1]
    );
    let before = counts(&app.db).await;
    let response = send(&app, "/v1/ingest", &key, Some("text/csv"), ragged.into()).await;
    let status = response.status().as_u16();
    let ack: Value = response.json().await.unwrap();
    assert!(status == 207 || status == 422, "{status}: {ack}");
    let rows = ack["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{ack}");
    assert_eq!(rows[1]["status"], "rejected", "{ack}");
    assert!(rows[1].to_string().contains("row 3"), "{ack}");
    let after = counts(&app.db).await;
    let accepted = rows.iter().filter(|r| r["status"] == "accepted").count() as u64;
    assert_eq!(
        after.0[0] - before.0[0],
        accepted,
        "one shipment per accepted row: {ack}"
    );
}

/// Sends raw bytes on a fresh connection and returns what came back first.
async fn raw(app: &TestApp, request: Vec<u8>, close_write: bool) -> String {
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(&request).await.unwrap();
    if close_write {
        stream.shutdown().await.unwrap();
    }
    let mut answer = vec![0; 16 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server answers instead of hanging")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

fn head(key: &str, length: &str) -> String {
    format!(
        "POST /v1/ingest HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn bodies_over_the_limit_and_lying_content_lengths_get_4xx_not_hangs() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 64 * 1024).await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let before = counts(&app.db).await;
    let big = format!("{{\"notes\": \"{}\"}}", "x".repeat(200 * 1024));
    let response = send(&app, "/v1/ingest", &key, JSON, big.into_bytes()).await;
    let (status, _) = client_problem("over the limit", response).await;
    assert_eq!(status, 413);

    // Announces 100 MB, sends a little: refused on the announcement alone.
    let answer = raw(
        &app,
        format!("{}{{\"a\":", head(&key, "100000000")).into_bytes(),
        false,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    // Announces more than it sends, then stops: an error, not a wait for ever.
    let order = feed("tms-order-create.json");
    let short = format!("{}{}", head(&key, &(order.len() + 50).to_string()), order);
    let answer = raw(&app, short.into_bytes(), true).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
    // Announces less than it sends: the body is cut at the announced length.
    let long = format!("{}{}", head(&key, &(order.len() / 2).to_string()), order);
    let answer = raw(&app, long.into_bytes(), false).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("malformed_json"), "{answer}");
    // Two Content-Length headers that disagree.
    let twice = format!(
        "POST /v1/ingest HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ncontent-length: 2\r\ncontent-length: 20\r\n\r\n{{}}"
    );
    let answer = raw(&app, twice.into_bytes(), false).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    assert_eq!(counts(&app.db).await, before, "nothing may be written");
    assert_still_up(&app).await;
}

#[tokio::test]
async fn identifiers_are_nfc_and_invisible_or_overlong_ones_are_refused_under_their_own_codes() {
    use crate::support::assert_problem;
    let app = TestApp::spawn().await;
    let key = app
        .key("acme", &[Scope::Write, Scope::Read, Scope::Ingest])
        .await;
    let order = |number: &str| {
        json!({"order_number": number, "facility": "rotterdam-dc", "direction": "OUTBOUND",
               "items": [{"sku": "A", "quantity": 1}]})
    };
    let composed = app
        .post_json("/v1/orders", &key, &order("CAF\u{00C9}-1"))
        .await;
    assert_eq!(composed.status(), 201);
    let decomposed = app
        .post_json("/v1/orders", &key, &order("CAFE\u{0301}-1"))
        .await;
    assert_problem(decomposed, 409, "duplicate").await;
    for (number, code) in [
        ("SO\u{200B}1", "forbidden_character"),
        ("\u{FEFF}SO-2", "forbidden_character"),
        ("SO-\u{202E}3", "forbidden_character"),
    ] {
        let refused = app.post_json("/v1/orders", &key, &order(number)).await;
        let problem = assert_problem(refused, 422, code).await;
        assert_eq!(problem["errors"][0]["path"], "$.order_number", "{problem}");
    }
    let long = "x".repeat(129);
    let refused = app.post_json("/v1/orders", &key, &order(&long)).await;
    assert_problem(refused, 422, "too_long").await;
    // The same through ingest: the item's error carries the code.
    let mut doc: Value =
        serde_json::from_str(&crate::ingest::feed("tms-order-create.json")).unwrap();
    doc["order_identifier"] = json!(long);
    let response = crate::ingest::post(&app, &key, "application/json", doc.to_string()).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "too_long", "{body}");
    doc["order_identifier"] = json!("TMS\u{200D}-9");
    let response = crate::ingest::post(&app, &key, "application/json", doc.to_string()).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "forbidden_character", "{body}");
}
