//! A load test at twice the measured capacity: the gateway sheds what it cannot
//! serve with 429/503 at once, and every acknowledged payload is stored.

use crate::support::written;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use freightgate::domain::Scope;
use freightgate::store::keys;

use super::{order_payload, stored};
use crate::support::TestApp;

const PROBE: Duration = Duration::from_secs(2);
const DRIVE: Duration = Duration::from_secs(5);
const TIMEOUT_MS: u64 = 10_000;

async fn send(client: &reqwest::Client, url: &str, key: &str, n: usize) -> (u16, Duration) {
    let started = Instant::now();
    let status = match client
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(order_payload(&format!("LOAD-{n}")))
        .send()
        .await
    {
        Ok(response) => response.status().as_u16(),
        // Counted as a failure below: a load test must never see these.
        Err(e) => {
            eprintln!("transport error: {e}");
            0
        }
    };
    (status, started.elapsed())
}

/// Closed loop: `workers` clients each send as soon as the last answer came back.
async fn measure_capacity(app: &TestApp, key: &str, next: &Arc<AtomicUsize>) -> f64 {
    let client = reqwest::Client::new();
    let url = app.url("/v1/ingest");
    let started = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, key, next) =
                (client.clone(), url.clone(), key.to_string(), next.clone());
            tokio::spawn(async move {
                let mut ok = 0usize;
                while started.elapsed() < PROBE {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let (status, _) = send(&client, &url, &key, n).await;
                    assert_eq!(status, 201, "the probe stays under the limits");
                    ok += 1;
                }
                ok
            })
        })
        .collect();
    let mut ok = 0;
    for worker in workers {
        ok += worker.await.unwrap();
    }
    ok as f64 / started.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_twice_the_measured_capacity_only_2xx_429_503_come_back_and_every_ack_is_stored() {
    let app = TestApp::spawn_with(|c| {
        c.max_concurrent_requests = 16;
        c.request_timeout_ms = TIMEOUT_MS;
        c.rate_limit_per_sec = 0;
    })
    .await;
    let slug = freightgate::domain::Slug::parse("loadtest").unwrap();
    let key = written(&app.db, async |t| {
        keys::create(t, &slug, "load", &[Scope::Ingest]).await
    })
    .await
    .unwrap()
    .plaintext;
    let next = Arc::new(AtomicUsize::new(0));
    let capacity = measure_capacity(&app, &key, &next).await;
    assert!(capacity > 1.0, "capacity {capacity:.1}/s");
    // Half the drive comes from a second key allowed a fifth of the capacity: what gets
    // a slot past the concurrency limit (503) is then refused by its bucket (429).
    let limited_key = written(&app.db, async |t| {
        keys::create_with_rate_limit(
            t,
            &slug,
            "limited",
            &[Scope::Ingest],
            Some((capacity / 5.0).ceil() as u32),
        )
        .await
    })
    .await
    .unwrap()
    .plaintext;
    let rate = (capacity * 2.0).min(2_000.0);
    let total = (rate * DRIVE.as_secs_f64()) as usize;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = app.url("/v1/ingest");
    let started = Instant::now();
    let mut requests = Vec::with_capacity(total);
    for i in 0..total {
        // Open loop: send on schedule whether or not earlier requests were answered.
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let n = next.fetch_add(1, Ordering::Relaxed);
        let key = if i % 2 == 0 { &key } else { &limited_key };
        let (client, url, key) = (client.clone(), url.clone(), key.clone());
        requests.push(tokio::spawn(
            async move { send(&client, &url, &key, n).await },
        ));
    }
    let mut answers = Vec::with_capacity(total);
    for request in requests {
        answers.push(request.await.unwrap());
    }
    let elapsed = started.elapsed();
    let count = |f: &dyn Fn(u16) -> bool| answers.iter().filter(|(s, _)| f(*s)).count();
    let (ok, limited, shed) = (
        count(&|s| (200..300).contains(&s)),
        count(&|s| s == 429),
        count(&|s| s == 503),
    );
    let mut latencies: Vec<Duration> = answers.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    eprintln!(
        "load: capacity {capacity:.0} ingests/s (closed loop, 8 clients, {PROBE:?}); \
         drove {total} at {rate:.0}/s in {elapsed:.1?}: {ok} × 2xx, {limited} × 429, {shed} × 503; \
         latency p50 {:?} p99 {:?} max {:?}",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    let others: Vec<u16> = answers
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| !(200..300).contains(s) && *s != 429 && *s != 503)
        .collect();
    assert!(
        others.is_empty(),
        "only 2xx, 429 and 503 may come back: {others:?}"
    );
    assert!(
        limited + shed > 0,
        "twice the capacity must be refused in part"
    );
    assert!(
        pct(1.0) < Duration::from_millis(TIMEOUT_MS),
        "nothing queues without bound: slowest answer {:?}",
        pct(1.0)
    );
    // The probe's payloads were acknowledged too.
    let probed = next.load(Ordering::Relaxed) - total;
    let acknowledged = (probed + ok) as u64;
    assert_eq!(stored(&app.db).await, (acknowledged, acknowledged));
}
