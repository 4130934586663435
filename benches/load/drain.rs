//! Scenario 10: webhook delivery as the Svix comparison in BENCHMARKS.md measured it.
//! One endpoint subscribed to `order.created`, a fast receiver in the harness, and
//! 10,000 orders written by 16 clients through `POST /v1/orders`:
//!
//! - **backlog drain**: the orders are written with delivery off, then a server with
//!   delivery on drains them; deliveries per second from readiness to the last one,
//!   with the server's and PostgreSQL's CPU per 1,000 deliveries;
//! - **send to receipt**: the orders are written with delivery on; each push's
//!   latency runs from the start of its order's request to its arrival.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::drive::Outcome;
use crate::procs;
use crate::scenarios::{Ctx, Db, Server, expect};

/// Orders per measurement, as in the comparison with Svix.
const MESSAGES: u64 = 10_000;
/// Clients writing them.
const CLIENTS: u64 = 16;
const ALLOW: (&str, &str) = ("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8");

pub fn drain_name(db: &str) -> String {
    format!("10 webhooks: backlog drain of {MESSAGES}, {db}")
}

pub fn latency_name(db: &str) -> String {
    format!("10 webhooks: send to receipt, {CLIENTS} clients, {db}")
}

/// When each order's request started, and when its push arrived, by order number.
#[derive(Default)]
struct Clock {
    sent: Mutex<HashMap<String, Instant>>,
    /// When each order's request was answered.
    answered: Mutex<HashMap<String, Instant>>,
    received: Mutex<HashMap<String, Instant>>,
    pushes: AtomicU64,
    duplicates: AtomicU64,
}

async fn receiver(clock: Arc<Clock>) -> String {
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |body: axum::body::Bytes| {
            let clock = clock.clone();
            async move {
                let at = Instant::now();
                let event: serde_json::Value =
                    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                let number = event["data"]["order_number"].as_str().unwrap_or_default();
                clock.pushes.fetch_add(1, Ordering::Relaxed);
                let first = clock
                    .received
                    .lock()
                    .unwrap()
                    .insert(number.to_string(), at)
                    .is_none();
                if !first {
                    clock.duplicates.fetch_add(1, Ordering::Relaxed);
                }
                StatusCode::NO_CONTENT
            }
        }),
    );
    crate::webhooks::serve(app, "/hooks").await
}

async fn subscribe(ctx: &Ctx, server: &Server, url: &str) {
    let sent = ctx
        .client
        .post(format!("{}/v1/webhooks/endpoints", server.proc.base))
        .bearer_auth(&server.key)
        .json(&serde_json::json!({ "url": url, "event_types": ["order.created"] }))
        .send();
    expect(sent.await, 201).await.expect("register endpoint");
}

/// Writes the orders with `CLIENTS` clients, noting when each request started.
async fn write_orders(ctx: &Ctx, server: &Server, clock: &Arc<Clock>) {
    let next = Arc::new(AtomicU64::new(0));
    let url = format!("{}/v1/orders", server.proc.base);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, key, url) = (ctx.client.clone(), server.key.clone(), url.clone());
            let (next, clock, run) = (next.clone(), clock.clone(), ctx.run.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= MESSAGES {
                        return;
                    }
                    let number = format!("DR-{run}-{n}");
                    let body = serde_json::json!({"order_number": number, "facility": "rotterdam-dc",
                        "items": [{"sku": "A", "quantity": 1}]});
                    clock.sent.lock().unwrap().insert(number.clone(), Instant::now());
                    let sent = client.post(&url).bearer_auth(&key).json(&body).send();
                    expect(sent.await, 201).await.expect("write an order");
                    clock.answered.lock().unwrap().insert(number, Instant::now());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("order writer");
    }
}

/// Waits until every order's push arrived, or nothing arrived for 10 s.
async fn until_received(clock: &Clock) {
    let mut last = (0, Instant::now());
    loop {
        let got = clock.received.lock().unwrap().len() as u64;
        if got >= MESSAGES || last.1.elapsed() > Duration::from_secs(10) {
            return;
        }
        if got != last.0 {
            last = (got, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn drain(ctx: &mut Ctx, postgres: Option<&str>) {
    let clock = Arc::new(Clock::default());
    let url = receiver(clock.clone()).await;
    let db = Db::fresh(postgres).await;
    let label = db.label();
    let writer = ctx
        .server(&db, &[ALLOW, ("FREIGHTGATE_WEBHOOKS_DISPATCHER", "false")])
        .await;
    subscribe(ctx, &writer, &url).await;
    write_orders(ctx, &writer, &clock).await;
    drop(writer);
    let pg_before = postgres.map(|_| procs::postgres_ticks());
    let server = ctx.server(&db, &[ALLOW]).await;
    let pid = server.proc.pid();
    let ready = Instant::now();
    let ticks_before = procs::cpu_ticks(pid);
    until_received(&clock).await;
    let ticks = procs::cpu_ticks(pid) - ticks_before;
    let pg = pg_before.map(|b| procs::postgres_spent(&b));
    let out = arrivals(&clock, ready, false);
    let delivered = out.ok;
    ctx.push(
        &drain_name(label),
        format!("{delivered} deliveries"),
        out,
        ticks,
        pid,
    );
    note_extra(ctx, &drain_name(label), &clock, pg, delivered);
    drop(server);
    db.remove().await;
}

async fn latency(ctx: &mut Ctx, postgres: Option<&str>) {
    let clock = Arc::new(Clock::default());
    let url = receiver(clock.clone()).await;
    let db = Db::fresh(postgres).await;
    let label = db.label();
    let server = ctx.server(&db, &[ALLOW]).await;
    subscribe(ctx, &server, &url).await;
    let pid = server.proc.pid();
    let pg_before = postgres.map(|_| procs::postgres_ticks());
    let ticks_before = procs::cpu_ticks(pid);
    let started = Instant::now();
    write_orders(ctx, &server, &clock).await;
    until_received(&clock).await;
    let ticks = procs::cpu_ticks(pid) - ticks_before;
    let pg = pg_before.map(|b| procs::postgres_spent(&b));
    let out = arrivals(&clock, started, true);
    let delivered = out.ok;
    let name = latency_name(label);
    ctx.push(
        &name,
        format!("{delivered} orders, each pushed"),
        out,
        ticks,
        pid,
    );
    note_extra(ctx, &name, &clock, pg, delivered);
    ctx.notes.push(format!("{name}: {}", split(&clock)));
    drop(server);
    db.remove().await;
}

/// Where the send-to-receipt time goes: the order's request (send to answer) and
/// the delivery after it (answer to receipt; 0 for a push that arrived first).
fn split(clock: &Clock) -> String {
    let sent = clock.sent.lock().unwrap();
    let answered = clock.answered.lock().unwrap();
    let received = clock.received.lock().unwrap();
    let us = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
    let (mut request, mut delivery) = (Vec::new(), Vec::new());
    for (number, at) in answered.iter() {
        if let Some(start) = sent.get(number) {
            request.push(us(at.saturating_duration_since(*start)));
        }
        if let Some(arrival) = received.get(number) {
            delivery.push(us(arrival.saturating_duration_since(*at)));
        }
    }
    let show = |us: &mut Vec<u32>| match crate::stats::Latency::of(us) {
        Some(l) => format!("p50 {:.1} ms, p99 {:.1} ms", l.p50, l.p99),
        None => "none".to_string(),
    };
    format!(
        "the request {}; from its answer to the push's receipt {}",
        show(&mut request),
        show(&mut delivery)
    )
}

/// The orders whose push arrived, counted from `from` to the last arrival; with
/// `latencies`, each push's time from its order's request.
fn arrivals(clock: &Clock, from: Instant, latencies: bool) -> Outcome {
    let (sent, received) = (clock.sent.lock().unwrap(), clock.received.lock().unwrap());
    let latencies_us = if latencies {
        received
            .iter()
            .filter_map(|(number, at)| Some(at.saturating_duration_since(*sent.get(number)?)))
            .map(|d| d.as_micros().min(u32::MAX as u128) as u32)
            .collect()
    } else {
        Vec::new()
    };
    let last = received.values().max().copied().unwrap_or(from);
    Outcome {
        ok: received.len() as u64,
        errors: MESSAGES - received.len() as u64,
        elapsed: last.saturating_duration_since(from),
        latencies_us,
        ..Outcome::default()
    }
}

/// PostgreSQL's CPU and any duplicate pushes, as a note under the table.
fn note_extra(ctx: &mut Ctx, name: &str, clock: &Clock, pg_ticks: Option<u64>, delivered: u64) {
    let duplicates = clock.duplicates.load(Ordering::Relaxed);
    let mut note = format!(
        "{name}: {} pushes for {delivered} orders ({duplicates} duplicate)",
        clock.pushes.load(Ordering::Relaxed)
    );
    if let Some(ticks) = pg_ticks {
        let per_1000 = ticks as f64 / ctx.ticks_per_sec as f64 * 1000.0 / delivered.max(1) as f64;
        note.push_str(&format!(
            "; PostgreSQL spent {per_1000:.2} CPU-s per 1,000 deliveries (every postgres process)"
        ));
    }
    ctx.notes.push(note);
}

/// Both measures on PostgreSQL (when given) and SQLite.
pub async fn scenario(ctx: &mut Ctx) {
    let postgres = ctx.args.postgres.clone();
    let backends = postgres.as_deref().map(Some).into_iter().chain([None]);
    for db in backends.collect::<Vec<_>>() {
        drain(ctx, db).await;
        latency(ctx, db).await;
    }
}
