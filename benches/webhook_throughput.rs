//! Webhook deliveries per second to a local receiver that answers 204, against a
//! plain reqwest loop posting the same bytes with the same concurrency, in one run.
//!
//! `cargo bench --bench webhook_throughput` (`FG_BENCH_MESSAGES` per round, default
//! 10000; `FG_BENCH_ROUNDS`, default 3; the medians are compared).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use freightgate::Config;
use freightgate::store::{self, outbox};
use freightgate::webhooks::dispatcher::Dispatcher;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
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

/// Writes `n` messages for the endpoint, in transactions of 500 as a busy ingest
/// would; answers the last body.
async fn publish(
    db: &sea_orm::DatabaseConnection,
    business_id: i64,
    round: usize,
    n: usize,
) -> String {
    let mut body = String::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let txn = db.begin().await.unwrap();
        for i in chunk {
            let event = outbox::NewEvent {
                business_id,
                facility_id: None,
                facility_slug: None,
                event_type: "order.created",
                ordering_key: Some(format!("order:{round}:{i}")),
                data: serde_json::json!({"id": i, "order_number": format!("SO-{i}"), "status": "CREATED"}),
            };
            body = outbox::emit(&txn, event).await.unwrap().body;
        }
        txn.commit().await.unwrap();
    }
    body
}

/// Time until the receiver has every push and the database records every delivery.
async fn dispatched(
    db: &sea_orm::DatabaseConnection,
    config: &Config,
    received: &AtomicUsize,
    n: usize,
) -> Duration {
    let before = received.load(Ordering::Relaxed);
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(
        Dispatcher::new(
            db.clone(),
            config,
            freightgate::store::gate::WriteGate::for_db(db),
        )
        .unwrap()
        .run(shutdown.clone()),
    );
    while received.load(Ordering::Relaxed) < before + n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    use freightgate::store::entities::delivery;
    while delivery::Entity::find()
        .filter(delivery::Column::State.eq("pending"))
        .count(db)
        .await
        .unwrap()
        > 0
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await.unwrap();
    elapsed
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

#[tokio::main]
async fn main() {
    let setting = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n = setting("FG_BENCH_MESSAGES", 10_000);
    let rounds = setting("FG_BENCH_ROUNDS", 3);
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        webhooks_allow_networks: "127.0.0.0/8".into(),
        webhooks_per_endpoint_concurrency: CONCURRENCY,
        webhooks_poll_ms: 5,
        ..Config::default()
    };
    let received = Arc::new(AtomicUsize::new(0));
    let url = receiver(received.clone()).await;
    let db = store::connect(&config).await.unwrap();
    store::migrate(&db).await.unwrap();
    let business =
        store::tenancy::ensure_business(&db, &freightgate::domain::Slug::parse("bench").unwrap())
            .await
            .unwrap();
    let secret = freightgate::webhooks::signer::WebhookSecret::generate();
    store::webhooks::create(
        &db,
        business.id,
        url.clone(),
        Default::default(),
        secret.expose(),
    )
    .await
    .unwrap();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    // Alternate the two so that a busy moment on the machine hits both alike.
    let (mut plain, mut dispatcher) = (Vec::new(), Vec::new());
    let mut body = String::new();
    for round in 0..rounds {
        body = publish(&db, business.id, round, n).await;
        plain.push(rate(plain_loop(&url, &body, n).await));
        eprintln!("round {round}: dispatching");
        dispatcher.push(rate(dispatched(&db, &config, &received, n).await));
    }
    println!(
        "messages: {n} per round, {rounds} rounds, concurrency per endpoint: {CONCURRENCY}, body: {} bytes",
        body.len()
    );
    println!(
        "plain reqwest loop: {:>8.0} deliveries/s (median; rounds {plain:.0?})",
        median(plain.clone())
    );
    println!(
        "dispatcher:         {:>8.0} deliveries/s (median; rounds {dispatcher:.0?})",
        median(dispatcher.clone())
    );
    println!(
        "ratio dispatcher / plain loop: {:.2}",
        median(dispatcher) / median(plain)
    );
    assert_eq!(
        received.load(Ordering::Relaxed),
        2 * n * rounds,
        "every delivery arrived once"
    );
}
