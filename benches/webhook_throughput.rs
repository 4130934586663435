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
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

const CONCURRENCY: usize = 4;

// The server's allocator (see `src/main.rs`), so the dispatcher runs here as it
// runs in `freightgate serve`; the plain loop gets it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
async fn publish(db: &store::Db, business_id: i64, round: usize, n: usize) -> String {
    let mut body = String::new();
    let gate = store::gate::WriteGate::for_db(db);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let txn = gate.begin(db).await.unwrap();
        for i in chunk {
            let event = outbox::NewEvent {
                business_id,
                facility_id: None,
                facility_slug: None,
                event_type: freightgate::domain::EventType::OrderCreated,
                ordering_key: Some(format!("order:{round}:{i}")),
                data: serde_json::json!({"id": i, "order_number": format!("SO-{i}"), "status": "CREATED"}),
                audience: None,
            };
            body = outbox::emit(&txn, event).await.unwrap().body;
        }
        txn.commit().await.unwrap();
    }
    body
}

/// Time until the receiver has every push and the database records every delivery.
async fn dispatched(db: &store::Db, config: &Config, received: &AtomicUsize, n: usize) -> Duration {
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

/// CPU seconds this process has used so far (user + system), from `/proc/self/stat`.
fn cpu_secs() -> f64 {
    let ticks = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 3, utime 14 and stime 15.
    (field(11) + field(12)) / ticks
}

/// Runs `phase` and answers its wall time and the CPU seconds the process used in it.
async fn timed<F: std::future::Future<Output = Duration>>(phase: F) -> (Duration, f64) {
    let cpu = cpu_secs();
    let wall = phase.await;
    (wall, cpu_secs() - cpu)
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
        webhooks_allow_networks: freightgate::config::parse_networks("127.0.0.0/8").unwrap(),
        webhooks_per_endpoint_concurrency: CONCURRENCY,
        webhooks_poll_ms: 5,
        ..Config::default()
    };
    let received = Arc::new(AtomicUsize::new(0));
    let url = receiver(received.clone()).await;
    let db = store::connect(&config).await.unwrap();
    store::migrate(&db).await.unwrap();
    let txn = store::gate::WriteGate::for_db(&db)
        .begin(&db)
        .await
        .unwrap();
    let business =
        store::tenancy::ensure_business(&txn, &freightgate::domain::Slug::parse("bench").unwrap())
            .await
            .unwrap();
    let secret = freightgate::webhooks::signer::WebhookSecret::generate();
    store::webhooks::create(
        &txn,
        business.id,
        url.clone(),
        Default::default(),
        secret.expose(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    // Alternate the two so that a busy moment on the machine hits both alike.
    let (mut plain, mut dispatcher) = (Vec::new(), Vec::new());
    // CPU µs per delivery and cores busy, per round.
    let (mut plain_cpu, mut dispatcher_cpu) = (Vec::new(), Vec::new());
    let cpu = |(wall, cpu): (Duration, f64)| (cpu * 1e6 / n as f64, cpu / wall.as_secs_f64());
    let mut body = String::new();
    for round in 0..rounds {
        body = publish(&db, business.id, round, n).await;
        let phase = timed(plain_loop(&url, &body, n)).await;
        plain.push(rate(phase.0));
        plain_cpu.push(cpu(phase));
        eprintln!("round {round}: dispatching");
        let phase = timed(dispatched(&db, &config, &received, n)).await;
        dispatcher.push(rate(phase.0));
        dispatcher_cpu.push(cpu(phase));
    }
    let usage = |rounds: &[(f64, f64)]| {
        rounds
            .iter()
            .map(|(us, cores)| format!("{us:.1} µs, {cores:.2} cores"))
            .collect::<Vec<_>>()
            .join("; ")
    };
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
        "CPU per delivery, whole process (rounds): plain loop {}",
        usage(&plain_cpu)
    );
    println!(
        "                                          dispatcher {}",
        usage(&dispatcher_cpu)
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
