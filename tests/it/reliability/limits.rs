//! Rate limits (429), the concurrency limit and request timeout (503), and an
//! exhausted database pool (503): each refusal is problem+json with Retry-After.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use freightgate::domain::Scope;

use super::{bounded_client, hold_writes, order_payload, retry_after};
use crate::support::{TestApp, assert_problem};

async fn ingest(app: &TestApp, client: &reqwest::Client, key: &str, n: usize) -> reqwest::Response {
    client
        .post(app.url("/v1/ingest"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(order_payload(&format!("LIM-{n}")))
        .send()
        .await
        .expect("an answer, not a hang")
}

#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_with_retry_after_and_other_keys_do_not() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_sec = 1;
        c.rate_limit_burst = 3;
    })
    .await;
    let busy = app.key("acme", &[Scope::Read]).await;
    let quiet = app.key("acme", &[Scope::Read]).await;
    for _ in 0..3 {
        assert_problem(app.get("/v1/shipments/1", &busy).await, 404, "not_found").await;
    }
    let refused = app.get("/v1/shipments/1", &busy).await;
    let wait = retry_after(&refused).expect("429 carries Retry-After");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let body = assert_problem(refused, 429, "rate_limited").await;
    assert!(
        body["detail"].as_str().unwrap().contains("retry after"),
        "{body}"
    );
    // GraphQL shares the key's bucket and says the same.
    let graphql = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&busy)
        .json(&serde_json::json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(graphql.status(), 429);
    assert!(retry_after(&graphql).is_some());
    assert_problem(app.get("/v1/shipments/1", &quiet).await, 404, "not_found").await;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_problem(app.get("/v1/shipments/1", &busy).await, 404, "not_found").await;
}

#[tokio::test]
async fn keys_create_rate_limit_gives_one_key_its_own_limit() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_sec = 1000).await;
    let output = Command::new(env!("CARGO_BIN_EXE_freightgate"))
        .args(["keys", "create", "--business", "acme", "--scopes", "read"])
        .args(["--rate-limit", "2"])
        .env("DATABASE_URL", &app.database.url)
        .env("FREIGHTGATE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("2 requests/s"), "{text}");
    let key = text.lines().last().unwrap().to_string();
    let statuses: Vec<u16> = futures_util::future::join_all(
        (0..5).map(|_| async { app.get("/v1/shipments/1", &key).await.status().as_u16() }),
    )
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        3,
        "{statuses:?}"
    );
    let listed = Command::new(env!("CARGO_BIN_EXE_freightgate"))
        .args(["keys", "list"])
        .env("DATABASE_URL", &app.database.url)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains(" 2 "), "{listed}");
    let zero = Command::new(env!("CARGO_BIN_EXE_freightgate"))
        .args(["keys", "create", "--business", "acme", "--rate-limit", "0"])
        .env("DATABASE_URL", &app.database.url)
        .output()
        .unwrap();
    assert!(!zero.status.success(), "a zero limit is refused");
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_get_503_at_once_instead_of_queuing() {
    let app = TestApp::spawn_with(|c| {
        c.max_concurrent_requests = 2;
        c.rate_limit_per_sec = 0;
    })
    .await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let client = bounded_client();
    let lock = hold_writes(&app).await;
    // Two ingests wait on the lock, each retrying until it holds one of the two slots.
    let blocked: Vec<_> = (0..2)
        .map(|n| {
            let (client, key, url) = (client.clone(), key.clone(), app.url("/v1/ingest"));
            tokio::spawn(async move {
                loop {
                    let response = client
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(order_payload(&format!("CON-{n}")))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status().as_u16();
                    if status != 503 {
                        return (status, response.text().await.unwrap());
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();
    // A probe refused with 503 means both slots are taken by the waiting ingests.
    let started = Instant::now();
    let refused = loop {
        let response = app.get("/v1/shipments/1", &key).await;
        if response.status() == 503 {
            break response;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let asked = Instant::now();
    assert_eq!(retry_after(&refused), Some(1));
    assert_problem(refused, 503, "overloaded").await;
    let again = app.get("/v1/shipments/1", &key).await;
    assert!(asked.elapsed() < Duration::from_secs(1), "refused at once");
    assert_problem(again, 503, "overloaded").await;
    // Probes stay outside the limit.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    lock.rollback().await.unwrap();
    for request in blocked {
        let (status, body) = request.await.unwrap();
        assert_eq!(status, 201, "{body}");
    }
    assert_problem(app.get("/v1/shipments/1", &key).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_request_over_the_timeout_gets_503_and_writes_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.request_timeout_ms = 400;
        c.rate_limit_per_sec = 0;
    })
    .await;
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    let client = bounded_client();
    let lock = hold_writes(&app).await;
    let started = Instant::now();
    let response = ingest(&app, &client, &key, 1).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    assert_eq!(retry_after(&response), Some(1));
    assert_problem(response, 503, "timeout").await;
    lock.rollback().await.unwrap();
    assert_eq!(
        super::stored(&app.db).await,
        (0, 0),
        "nothing partial was written"
    );
    let response = ingest(&app, &client, &key, 1).await;
    assert_eq!(
        response.status(),
        201,
        "the same payload succeeds afterwards"
    );
}

#[tokio::test]
async fn an_exhausted_database_pool_answers_503_instead_of_hanging() {
    let app = TestApp::spawn_with(|c| {
        c.db_max_connections = 1;
        c.db_acquire_timeout_ms = 300;
        c.webhooks_dispatcher = false;
        c.rate_limit_per_sec = 0;
    })
    .await;
    let key = app
        .key("acme", &[Scope::Ingest, Scope::Read, Scope::Write])
        .await;
    let created = app
        .send(
            reqwest::Method::POST,
            "/v1/orders",
            &key,
            Some(serde_json::json!({"order_number": "POOL-1", "items": []})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let order: serde_json::Value = created.json().await.unwrap();
    let client = bounded_client();
    let lock = hold_writes(&app).await;
    // This change takes the pool's only connection and waits on the lock with it
    // (ingest and creates would not: their writers have connections of their own).
    let holder = {
        let (client, key) = (client.clone(), key.clone());
        let url = app.url(&format!("/v1/orders/{}", order["id"].as_i64().unwrap()));
        tokio::spawn(async move {
            client
                .patch(url)
                .bearer_auth(key)
                .json(&serde_json::json!({"customer": "C-2"}))
                .send()
                .await
                .expect("an answer")
                .json::<serde_json::Value>()
                .await
                .expect("an order")
        })
    };
    let started = Instant::now();
    let refused = loop {
        let asked = Instant::now();
        let response = app.get("/v1/shipments/1", &key).await;
        if response.status() == 503 {
            assert!(
                asked.elapsed() < Duration::from_secs(3),
                "{:?}",
                asked.elapsed()
            );
            break response;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the pool never ran out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(retry_after(&refused), Some(1));
    assert_problem(refused, 503, "unavailable").await;
    lock.rollback().await.unwrap();
    let answer = holder.await.unwrap();
    assert_eq!(
        answer["customer"], "C-2",
        "the waiting change completes once the lock is gone: {answer}"
    );
    assert_problem(app.get("/v1/shipments/1", &key).await, 404, "not_found").await;
}
