//! Mapped outbound deliveries per second (an `http` target whose mapping renders the
//! partner's JSON, with an API-key header) against signed-envelope webhook
//! deliveries per second, to the same local receiver with the same concurrency, in
//! alternating rounds of one run. Each round is timed twice: writing the events
//! (where a mapped event is rendered, inside the writing transaction) and
//! delivering them.
//!
//! `cargo bench --bench outbound_throughput` (`FG_BENCH_MESSAGES` per round, default
//! 5000; `FG_BENCH_ROUNDS`, default 3; the medians are compared).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use freightgate::Config;
use freightgate::outbound::Outbound;
use freightgate::store::{self, outbox};
use freightgate::webhooks::dispatcher::{Dispatcher, Replies, Reply};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

const CONCURRENCY: usize = 4;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A receiver that answers 204 on any path and counts.
async fn receiver(count: Arc<AtomicUsize>) -> String {
    let hit = move || {
        let count = count.clone();
        async move {
            count.fetch_add(1, Ordering::Relaxed);
            StatusCode::NO_CONTENT
        }
    };
    let app = Router::new()
        .route("/hooks", post(hit.clone()))
        .route("/{*rest}", post(hit));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

struct NoReplies;

#[async_trait::async_trait]
impl Replies for NoReplies {
    async fn take(&self, _: Reply) -> Result<(), String> {
        Ok(())
    }
}

/// Writes `n` `order.created` events of the business, in transactions of 500.
async fn publish(
    db: &store::Db,
    gate: &store::gate::WriteGate,
    business: (i64, &str),
    round: usize,
    n: usize,
) -> Duration {
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let txn = gate.begin(db).await.unwrap();
        for i in chunk {
            let event = outbox::NewEvent {
                business_id: business.0,
                facility_id: None,
                facility_slug: Some("rotterdam-dc".into()),
                event_type: freightgate::domain::EventType::OrderCreated,
                ordering_key: Some(format!("order:{round}:{i}")),
                data: serde_json::json!({"business": business.1, "facility": "rotterdam-dc",
                    "id": i, "order_number": format!("SO-{round}-{i}"), "direction": "OUTBOUND",
                    "status": "CREATED", "customer": "ACME-UK", "updated_at": "2026-12-05T10:00:00Z"}),
                audience: None,
            };
            outbox::emit(&txn, event).await.unwrap();
        }
        txn.commit().await.unwrap();
    }
    started.elapsed()
}

/// Time until the receiver has `n` more requests and no delivery is pending.
async fn dispatched(
    db: &store::Db,
    config: &Config,
    outbound: &Arc<Outbound>,
    received: &AtomicUsize,
    n: usize,
) -> Duration {
    let before = received.load(Ordering::Relaxed);
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let dispatcher = Dispatcher::new(db.clone(), config, store::gate::WriteGate::for_db(db))
        .unwrap()
        .with_outbound(outbound.clone(), Arc::new(NoReplies));
    let task = tokio::spawn(dispatcher.run(shutdown.clone()));
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
    let n = setting("FG_BENCH_MESSAGES", 5_000);
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
    let base = receiver(received.clone()).await;
    let key_file = dir.path().join("api-key");
    std::fs::write(&key_file, "bench-key").unwrap();
    let target = format!(
        r#"
[[target]]
name = "partner"
business = "mapped"
kind = "http"
url = "{base}/v1/consignments/{{$.data.order_number}}/events"
auth = {{ kind = "header", header = "X-Api-Key", value_file = {key:?} }}

[[target.mapping]]
name = "order"
events = ["order.created"]
when = {{ path = "$.data.direction", equals = "OUTBOUND" }}

[target.mapping.body]
event_type = {{ value = "BOOKING" }}
consignment = {{ path = "$.data.order_number", required = true }}
account = {{ path = "$.data.customer", transform = ["upper"] }}
depot = {{ path = "$.data.facility", transform = ["upper"] }}
status = "$.data.status"
at = "$.data.updated_at"
"#,
        key = key_file.display().to_string()
    );
    let outbound = Arc::new(Outbound::from_texts(&[("partner.toml".into(), target)]).unwrap());
    let db = store::connect(&config).await.unwrap();
    store::migrate(&db).await.unwrap();
    let gate = store::gate::WriteGate::for_db(&db).with_router(outbound.clone());
    let txn = gate.begin(&db).await.unwrap();
    let slug = |s: &str| freightgate::domain::Slug::parse(s).unwrap();
    let signed = store::tenancy::ensure_business(&txn, &slug("signed"))
        .await
        .unwrap();
    let mapped = store::tenancy::ensure_business(&txn, &slug("mapped"))
        .await
        .unwrap();
    let secret = freightgate::webhooks::signer::WebhookSecret::generate();
    store::webhooks::create(
        &txn,
        signed.id,
        format!("{base}/hooks"),
        Default::default(),
        secret.expose(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let (mut envelope, mut partner) = (Vec::new(), Vec::new());
    let (mut envelope_write, mut partner_write) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        eprintln!("round {round}: signed envelopes");
        envelope_write.push(rate(
            publish(&db, &gate, (signed.id, "signed"), round, n).await,
        ));
        envelope.push(rate(
            dispatched(&db, &config, &outbound, &received, n).await,
        ));
        eprintln!("round {round}: mapped requests");
        partner_write.push(rate(
            publish(&db, &gate, (mapped.id, "mapped"), round, n).await,
        ));
        partner.push(rate(
            dispatched(&db, &config, &outbound, &received, n).await,
        ));
    }
    println!("messages: {n} per round, {rounds} rounds, concurrency per endpoint: {CONCURRENCY}");
    println!(
        "signed envelope: {:>8.0} deliveries/s (median; rounds {envelope:.0?}); events written {:>8.0}/s",
        median(envelope.clone()),
        median(envelope_write.clone())
    );
    println!(
        "mapped request:  {:>8.0} deliveries/s (median; rounds {partner:.0?}); events written {:>8.0}/s",
        median(partner.clone()),
        median(partner_write.clone())
    );
    println!(
        "ratio mapped / signed envelope: deliveries {:.2}, events written {:.2}",
        median(partner) / median(envelope),
        median(partner_write) / median(envelope_write)
    );
    assert_eq!(
        received.load(Ordering::Relaxed),
        2 * n * rounds,
        "every delivery arrived once"
    );
}
