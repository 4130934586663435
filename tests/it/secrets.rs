//! Secrets stay secret: API keys are stored hashed, and the logs of a full tour at
//! debug level (the real binary, its stderr captured) hold no API key and no
//! webhook secret.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Message;

use crate::support::TestDb;
use crate::webhooks::receiver::Receiver;
use crate::webhooks::verifier::signed_with;

const BIN: &str = env!("CARGO_BIN_EXE_freightgate");

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn feed(name: &str) -> String {
    crate::ingest::feed(name)
}

/// `keys create` through the binary; returns the key and what it logged.
fn create_key(database_url: &str) -> (String, String) {
    let output = Command::new(BIN)
        .args(["keys", "create", "--business", "northwind"])
        .env("DATABASE_URL", database_url)
        .env("FREIGHTGATE_LOG", "debug")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let key = stdout.lines().last().unwrap().to_string();
    (key, String::from_utf8_lossy(&output.stderr).into_owned())
}

struct Tour {
    base: String,
    client: reqwest::Client,
    key: String,
}

impl Tour {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn ingest(&self, name: &str) {
        let response = self
            .client
            .post(format!("{}/v1/ingest", self.base))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .header("idempotency-key", format!("tour-{name}"))
            .body(feed(name))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{name}");
    }

    /// A graphql-transport-ws session authorised with the key in `connection_init`.
    async fn websocket(&self) {
        let mut socket = crate::support::graphql_ws(&self.base, &self.key).await;
        let ack = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap();
        assert!(matches!(ack, Some(Ok(Message::Text(t))) if t.contains("connection_ack")));
        socket.close(None).await.ok();
    }
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_full_tour_logs_no_api_key_and_no_webhook_secret() {
    let database = TestDb::new().await;
    database.connect().await;
    let (key, key_logs) = create_key(&database.url);
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("freightgate.log");
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", &database.url)
        .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "FREIGHTGATE_RULES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/rules"),
        )
        .env("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE", "0s,200ms,200ms")
        .env("FREIGHTGATE_WEBHOOKS_POLL_MS", "25")
        .env("FREIGHTGATE_LOG", "debug")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let tour = Tour {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        key: key.clone(),
    };
    wait_ready(&tour.client, &tour.base).await;

    // A wrong key that looks real is refused and must not be logged either.
    let wrong = "fgk_WrongButPlausibleKeyThatMustNotBeLogged0123456";
    let refused = tour
        .client
        .get(format!("{}/v1/messages", tour.base))
        .bearer_auth(wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let receiver = Receiver::start().await;
    receiver.script(&[(500, None)]);
    let created = tour
        .send(
            reqwest::Method::POST,
            "/v1/webhooks/endpoints",
            Some(json!({"url": receiver.url})),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let first = created["secret"].as_str().unwrap().to_string();
    let shown = tour
        .send(
            reqwest::Method::GET,
            &format!("/v1/webhooks/endpoints/{id}/secret"),
            None,
        )
        .await;
    assert_eq!(shown["secret"], first);
    let rotated = tour
        .send(
            reqwest::Method::POST,
            &format!("/v1/webhooks/endpoints/{id}/rotate-secret"),
            Some(json!({})),
        )
        .await;
    let second = rotated["secret"].as_str().unwrap().to_string();
    let mutation = json!({"query": "mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }",
        "variables": {"input": {"url": format!("{}/other", receiver.url)}}});
    let graphql = tour
        .send(reqwest::Method::POST, "/graphql", Some(mutation))
        .await;
    let third = graphql["data"]["createWebhookEndpoint"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    tour.ingest("wms-shipment-with-orders.json").await;
    tour.ingest("dock-pallet-scan.json").await;
    tour.ingest("dock-pallet-scan.json").await;
    tour.websocket().await;
    let pushes = receiver
        .wait_for(Duration::from_secs(20), |p| p.len() >= 3)
        .await;
    assert!(
        pushes.iter().skip(1).any(|p| signed_with(p, &second)),
        "pushes were received and signed"
    );

    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(15), "did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = format!("{key_logs}{}", std::fs::read_to_string(&log_path).unwrap());
    // The capture works: the tour's own events are in it, at debug level.
    assert!(
        logs.contains("payload acknowledged"),
        "no ingest in the logs"
    );
    assert!(
        logs.contains("/v1/webhooks/endpoints"),
        "no requests in the logs"
    );
    assert!(logs.contains("DEBUG"), "not at debug level");
    let secret_part = |s: &str| s.trim_start_matches("whsec_").to_string();
    for (what, secret) in [
        ("API key", key.clone()),
        ("API key body", key[key.len() - 24..].to_string()),
        ("wrong API key", wrong.to_string()),
        ("first secret", secret_part(&first)),
        ("rotated secret", secret_part(&second)),
        ("GraphQL-created secret", secret_part(&third)),
    ] {
        assert!(!logs.contains(&secret), "the {what} is in the logs");
    }
    assert!(!logs.contains("whsec_"), "a webhook secret is in the logs");
}

#[tokio::test]
async fn api_keys_are_stored_as_their_sha256_only() {
    use freightgate::store::entities::api_key;
    use sea_orm::EntityTrait;
    let database = TestDb::new().await;
    let db = database.connect().await;
    let (key, _) = create_key(&database.url);
    let rows = api_key::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.key_hash, hex::encode(Sha256::digest(key.as_bytes())));
    let stored = format!("{row:?}");
    assert!(!stored.contains(&key[12..]), "the key is stored: {stored}");
    assert!(
        key.starts_with(&row.prefix) && row.prefix.len() <= 12,
        "{stored}"
    );
}
