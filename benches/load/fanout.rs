//! Scenario 8: one business's fan-out against another business's pushes and writes.
//! Business `northwind` has 1,000 endpoints (all on one fast receiver); business
//! `bavaria` has one endpoint and ingests one order at a time. Measured:
//! - bavaria's send-to-receipt push latency, alone and while a backlog of northwind's
//!   deliveries drains;
//! - bavaria's write latency (send to `201`), alone and while northwind keeps
//!   ingesting payloads whose events each become 1,000 deliveries.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::mpsc;

use crate::drive::Outcome;
use crate::procs;
use crate::scenarios::{Ctx, Db, expect, ingest_op};

pub const ALONE: &str = "8 fan-out: one business's push, alone";
pub const CROWDED: &str = "8 fan-out: one business's push, another draining 1,000 endpoints";
pub const WRITE_ALONE: &str = "8 fan-out: one business's write, alone";
pub const WRITE_CROWDED: &str =
    "8 fan-out: one business's write, another writing payloads for 1,000 endpoints";
const ENDPOINTS: usize = 1_000;
/// Northwind payloads ingested before measuring: about 9 events each, to every endpoint.
const BACKLOG_PAYLOADS: u64 = 10;
const SAMPLES: usize = 40;

/// A receiver answering 204 at once; each arrival is sent down the channel.
async fn receiver(path: &str) -> (String, mpsc::UnboundedReceiver<Instant>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        path,
        axum::routing::post(move || {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Instant::now());
                StatusCode::NO_CONTENT
            }
        }),
    );
    let url = crate::webhooks::serve(app, path).await;
    (url, rx)
}

async fn register(ctx: &Ctx, base: &str, key: &str, url: &str) {
    let sent = ctx
        .client
        .post(format!("{base}/v1/webhooks/endpoints"))
        .bearer_auth(key)
        .json(&serde_json::json!({ "url": url }))
        .send();
    expect(sent.await, 201).await.expect("register endpoint");
}

/// Bavaria's orders one at a time: ingest an order, and unless `arrivals` is `None`
/// wait for its push. The pushes' latencies and the writes' (send to `201`).
async fn lone_pushes(
    ctx: &Ctx,
    base: &str,
    key: &str,
    mut arrivals: Option<&mut mpsc::UnboundedReceiver<Instant>>,
    run: &str,
) -> (Outcome, Outcome) {
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/feeds/tms-order-create.json"
        ))
        .expect("sample feed"),
    )
    .expect("JSON");
    let mut out = Outcome::default();
    let mut writes = Outcome::default();
    let started = Instant::now();
    if let Some(arrivals) = arrivals.as_deref_mut() {
        while arrivals.try_recv().is_ok() {}
    }
    for n in 0..SAMPLES {
        let mut order = template.clone();
        order["order_identifier"] = serde_json::json!(format!("FAN-{}-{run}-{n}", ctx.run));
        let sent_at = Instant::now();
        let sent = ctx
            .client
            .post(format!("{base}/v1/ingest"))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(order.to_string())
            .send();
        if let Err(e) = expect(sent.await, 201).await {
            writes.errors += 1;
            writes.first_error.get_or_insert(e);
            continue;
        }
        writes.ok += 1;
        writes
            .latencies_us
            .push(sent_at.elapsed().as_micros() as u32);
        let Some(arrivals) = arrivals.as_deref_mut() else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        match tokio::time::timeout(Duration::from_secs(30), arrivals.recv()).await {
            Ok(Some(at)) => {
                out.ok += 1;
                out.latencies_us
                    .push(at.saturating_duration_since(sent_at).as_micros() as u32);
            }
            _ => {
                out.errors += 1;
                out.first_error
                    .get_or_insert_with(|| "no push within 30 s".into());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    out.elapsed = started.elapsed();
    writes.elapsed = out.elapsed;
    (out, writes)
}

/// The scenario on SQLite, or on PostgreSQL at `postgres` (names end in `, PostgreSQL`).
pub async fn scenario(ctx: &mut Ctx, postgres: Option<String>) {
    let on = |name: &str| match postgres {
        Some(_) => format!("{name}, PostgreSQL"),
        None => name.to_string(),
    };
    const ALLOW: (&str, &str) = ("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8");
    const MAX: (&str, &str) = ("FREIGHTGATE_WEBHOOKS_MAX_ENDPOINTS_PER_BUSINESS", "1000");
    let (crowd_url, _crowd_arrivals) = receiver("/crowd").await;
    let (lone_url, mut lone_arrivals) = receiver("/lone").await;
    let db = Db::fresh(postgres.as_deref()).await;
    let server = ctx.server(&db, &[ALLOW, MAX]).await;
    let base = server.proc.base.clone();
    let pid = server.proc.pid();
    let bavaria = crate::listing::key_named(ctx, &db, "bavaria", "cli");
    register(ctx, &base, &bavaria, &lone_url).await;
    let ticks = procs::cpu_ticks(pid);
    let (alone, writes_alone) =
        lone_pushes(ctx, &base, &bavaria, Some(&mut lone_arrivals), "alone").await;
    let cpu = procs::cpu_ticks(pid) - ticks;
    ctx.push(
        &on(ALONE),
        format!("{SAMPLES} pushes, one at a time"),
        alone,
        cpu,
        pid,
    );
    ctx.push(
        &on(WRITE_ALONE),
        format!("{SAMPLES} writes, one at a time"),
        writes_alone,
        cpu,
        pid,
    );
    for n in 0..ENDPOINTS {
        register(ctx, &base, &server.key, &format!("{crowd_url}?n={n}")).await;
    }
    let op = ingest_op(ctx, &server, false);
    for _ in 0..BACKLOG_PAYLOADS {
        op(0).await.expect("northwind payload");
    }
    let ticks = procs::cpu_ticks(pid);
    let (crowded, _) = lone_pushes(ctx, &base, &bavaria, Some(&mut lone_arrivals), "crowded").await;
    ctx.push(
        &on(CROWDED),
        format!("{SAMPLES} pushes, one at a time"),
        crowded,
        procs::cpu_ticks(pid) - ticks,
        pid,
    );
    // Northwind writes fan-out payloads back to back while bavaria writes.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, op) = (stop.clone(), op.clone());
        tokio::spawn(async move {
            let mut written = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                op(0).await.expect("northwind payload");
                written += 1;
            }
            written
        })
    };
    let ticks = procs::cpu_ticks(pid);
    let (_, writes_crowded) = lone_pushes(ctx, &base, &bavaria, None, "writes").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let northwind_payloads = writer.await.expect("northwind writer");
    ctx.push(
        &on(WRITE_CROWDED),
        format!(
            "{SAMPLES} writes, one at a time, beside {northwind_payloads} northwind payloads \
             ({} orders each), every event to {ENDPOINTS} endpoints",
            ctx.orders
        ),
        writes_crowded,
        procs::cpu_ticks(pid) - ticks,
        pid,
    );
    drop(server);
    db.remove().await;
}
