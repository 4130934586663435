//! kill -9 of the real binary under ingest load, then a restart on the same port.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{order_payload, stored};
use crate::support::TestDb;
use crate::webhooks::receiver::Receiver;

const BIN: &str = env!("CARGO_BIN_EXE_freightgate");
const CLIENTS: usize = 8;

/// A server process, killed when dropped so a failing test leaves none behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(database_url: &str, port: u16) -> Server {
    let child = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "FREIGHTGATE_RULES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/rules"),
        )
        .env("FREIGHTGATE_RULES_POLL_MS", "0")
        .env("FREIGHTGATE_RATE_LIMIT_PER_SEC", "0")
        // Claims of requests cut off by the kill are taken over after 2 × this.
        .env("FREIGHTGATE_REQUEST_TIMEOUT_MS", "1500")
        .env("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8")
        .env(
            "FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE",
            "0s,200ms,200ms,200ms,500ms,1s,1s",
        )
        .env("FREIGHTGATE_WEBHOOKS_POLL_MS", "25")
        // Leases of pushes cut off by the kill expire 5 s after this.
        .env("FREIGHTGATE_WEBHOOKS_TIMEOUT_MS", "1000")
        .env("FREIGHTGATE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start freightgate");
    Server(child)
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while !client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never became ready"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The first 2xx answer per Idempotency-Key: (body sent, status, answer).
type Acks = Arc<Mutex<HashMap<String, (String, u16, Value)>>>;

/// Retries by cause: connection errors, 503, 409 still in flight.
static RETRIES: [std::sync::atomic::AtomicUsize; 3] =
    [const { std::sync::atomic::AtomicUsize::new(0) }; 3];

/// Sends payload after payload, each retried under its Idempotency-Key through
/// connection errors, 503 and 409 (still in flight) until it gets a final answer.
async fn client_loop(worker: usize, base: String, key: String, stop: Arc<AtomicBool>, acks: Acks) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let idempotency_key = format!("crash-{worker}-{n}");
        let body = order_payload(&format!("CRASH-{worker}-{n}"));
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "{idempotency_key} never answered"
            );
            let sent = client
                .post(format!("{base}/v1/ingest"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .header("idempotency-key", &idempotency_key)
                .body(body.clone())
                .send()
                .await;
            let Ok(response) = sent else {
                RETRIES[0].fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let status = response.status().as_u16();
            if matches!(status, 409 | 503) {
                assert!(response.headers().contains_key("retry-after"), "{status}");
            }
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            if status == 503 || (status == 409 && answer["code"] == "idempotency_in_flight") {
                RETRIES[if status == 503 { 1 } else { 2 }].fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            assert!(
                (200..300).contains(&status),
                "{idempotency_key}: {status} {answer}"
            );
            acks.lock()
                .unwrap()
                .insert(idempotency_key, (body, status, answer));
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_ingest_load_loses_no_acknowledged_payload_and_retries_get_the_original_answer()
 {
    let database = TestDb::new().await;
    let created = Command::new(BIN)
        .args(["keys", "create", "--business", "acme"])
        .env("DATABASE_URL", &database.url)
        .env("FREIGHTGATE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let key = String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut first = serve(&database.url, port);
    wait_ready(&client, &base).await;
    let receiver = Receiver::start().await;
    // A receiver slower than the ingest keeps pushes in flight when the kill comes.
    receiver.slow(Duration::from_millis(200));
    let endpoint = serde_json::json!({"url": receiver.url, "event_types": ["order.created"]});
    let registered = client
        .post(format!("{base}/v1/webhooks/endpoints"))
        .bearer_auth(&key)
        .json(&endpoint)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    let stop = Arc::new(AtomicBool::new(false));
    let acks: Acks = Arc::default();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|w| {
            tokio::spawn(client_loop(
                w,
                base.clone(),
                key.clone(),
                stop.clone(),
                acks.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    // The kill comes under load and while a push is held by the receiver: one that
    // arrived under 50 ms ago has 150 ms left, so its answer cannot have been recorded.
    let in_flight = |pushes: &[crate::webhooks::receiver::Push]| {
        pushes
            .last()
            .is_some_and(|p| p.at.elapsed() < Duration::from_millis(50))
    };
    while acks.lock().unwrap().len() < 40 || !in_flight(&receiver.pushes()) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no load, or no push in flight"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = Command::new("kill")
        .args(["-9", &first.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    first.0.wait().unwrap();
    let before_kill: HashSet<String> = acks.lock().unwrap().keys().cloned().collect();
    let second = serve(&database.url, port);
    wait_ready(&client, &base).await;
    let restarted = acks.lock().unwrap().len();
    while acks.lock().unwrap().len() < restarted + 40 {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "no load after the restart"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let acks = acks.lock().unwrap().clone();

    // Every acknowledged payload is stored once; nothing unacknowledged slipped in.
    let db = database.connect().await;
    let acknowledged = acks.len() as u64;
    assert_eq!(stored(&db).await, (acknowledged, acknowledged));

    // Retrying any acknowledged request replays the original answer.
    for (idempotency_key, (body, status, answer)) in &acks {
        let response = client
            .post(format!("{base}/v1/ingest"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .header("idempotency-key", idempotency_key)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), *status, "{idempotency_key}");
        assert_eq!(response.headers()["idempotent-replayed"], "true");
        assert_eq!(
            &response.json::<Value>().await.unwrap(),
            answer,
            "{idempotency_key}"
        );
    }
    assert_eq!(
        stored(&db).await,
        (acknowledged, acknowledged),
        "replays create nothing"
    );

    // One order.created message per order, each pushed (again) under one webhook-id.
    let pushes = receiver
        .wait_for(Duration::from_secs(30), |pushes| {
            let ids: HashSet<String> = pushes.iter().map(|p| p.header("webhook-id")).collect();
            // Every message, and the pushes cut off by the kill once their lease expired.
            ids.len() >= acks.len() && pushes.len() > ids.len()
        })
        .await;
    let mut bodies: HashMap<String, String> = HashMap::new();
    for push in &pushes {
        let previous = bodies
            .entry(push.header("webhook-id"))
            .or_insert(push.body.clone());
        assert_eq!(
            previous, &push.body,
            "a redelivery carries its original id and body"
        );
    }
    assert_eq!(
        bodies.len(),
        acks.len(),
        "one message per acknowledged order"
    );
    assert!(
        pushes.len() > bodies.len(),
        "pushes cut off by the kill were delivered again"
    );
    eprintln!(
        "crash: {} payloads acknowledged ({} before the kill -9); retries: {} on connection \
         errors, {} on 503, {} on 409 in flight; {} pushes for {} messages",
        acks.len(),
        before_kill.len(),
        RETRIES[0].load(Ordering::Relaxed),
        RETRIES[1].load(Ordering::Relaxed),
        RETRIES[2].load(Ordering::Relaxed),
        pushes.len(),
        bodies.len()
    );
    drop(second);
}
