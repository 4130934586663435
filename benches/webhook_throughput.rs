//! Webhook deliveries per second to a local receiver that answers 204, against a
//! plain reqwest loop posting the same bytes with the same concurrency, in one run.
//!
//! `cargo bench --bench webhook_throughput` (set `FG_BENCH_MESSAGES`, default 2000).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use freightgate::Config;
use freightgate::store::{self, outbox};
use freightgate::webhooks::dispatcher::Dispatcher;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

const CONCURRENCY: usize = 4;

async fn receiver(count: Arc<AtomicUsize>) -> String {
    let app = Router::new().route(
        "/hooks",
        post(move || {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::Relaxed);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn plain_loop(url: &str, body: &str, n: usize) -> Duration {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, next, url, body) = (
                client.clone(),
                next.clone(),
                url.to_string(),
                body.to_string(),
            );
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    client.post(&url).body(body.clone()).send().await.unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    started.elapsed()
}

async fn dispatched(config: &Config, url: &str, n: usize) -> (Duration, String) {
    let db = store::connect(config).await.unwrap();
    store::migrate(&db).await.unwrap();
    let business =
        store::tenancy::ensure_business(&db, &freightgate::domain::Slug::parse("bench").unwrap())
            .await
            .unwrap();
    let secret = freightgate::webhooks::signer::WebhookSecret::generate();
    store::webhooks::create(
        &db,
        business.id,
        url.into(),
        Default::default(),
        secret.expose(),
    )
    .await
    .unwrap();
    let mut body = String::new();
    for i in 0..n {
        let event = outbox::NewEvent {
            business_id: business.id,
            facility_id: None,
            facility_slug: None,
            event_type: "order.created",
            ordering_key: Some(format!("order:{i}")),
            data: serde_json::json!({"id": i, "order_number": format!("SO-{i}"), "status": "CREATED"}),
        };
        body = outbox::emit(&db, event).await.unwrap().body;
    }
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(
        Dispatcher::new(db.clone(), config)
            .unwrap()
            .run(shutdown.clone()),
    );
    use freightgate::store::entities::delivery;
    while delivery::Entity::find()
        .filter(delivery::Column::State.eq("pending"))
        .count(&db)
        .await
        .unwrap()
        > 0
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await.unwrap();
    (elapsed, body)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("FG_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        webhooks_allow_networks: "127.0.0.0/8".into(),
        webhooks_per_endpoint_concurrency: CONCURRENCY,
        webhooks_poll_ms: 5,
        ..Config::default()
    };
    let count = Arc::new(AtomicUsize::new(0));
    let url = receiver(count.clone()).await;
    let (dispatcher_time, body) = dispatched(&config, &url, n).await;
    let plain_time = plain_loop(&url, &body, n).await;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "messages: {n}, concurrency per endpoint: {CONCURRENCY}, body: {} bytes",
        body.len()
    );
    println!("plain reqwest loop: {:>8.0} deliveries/s", rate(plain_time));
    println!(
        "dispatcher:         {:>8.0} deliveries/s",
        rate(dispatcher_time)
    );
    println!(
        "ratio dispatcher / plain loop: {:.2}",
        rate(dispatcher_time) / rate(plain_time)
    );
    assert!(
        count.load(Ordering::Relaxed) >= 2 * n,
        "every delivery arrived"
    );
}
