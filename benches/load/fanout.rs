//! Scenario 8: one business's fan-out against another business's pushes. Business
//! `northwind` has 1,000 endpoints (all on one fast receiver) and a backlog of
//! deliveries to them; business `bavaria` has one endpoint and ingests one order at a
//! time, waiting for its push. Measured: bavaria's send-to-receipt latency, alone and
//! while northwind's backlog drains.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::mpsc;

use crate::drive::Outcome;
use crate::procs;
use crate::scenarios::{Ctx, Db, expect, ingest_op};

pub const ALONE: &str = "8 fan-out: one business's push, alone";
pub const CROWDED: &str = "8 fan-out: one business's push, another draining 1,000 endpoints";
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

fn key_for(ctx: &Ctx, db: &Db, business: &str) -> String {
    let out = std::process::Command::new(&ctx.programs.server)
        .args(["keys", "create", "--business", business])
        .env("DATABASE_URL", db.url())
        .output()
        .expect("run freightgate keys create");
    assert!(out.status.success(), "keys create failed");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .last()
        .expect("key line")
        .trim()
        .to_string()
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

/// Bavaria's pushes one at a time: ingest an order, wait for its arrival.
async fn lone_pushes(
    ctx: &Ctx,
    base: &str,
    key: &str,
    arrivals: &mut mpsc::UnboundedReceiver<Instant>,
    run: &str,
) -> Outcome {
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/feeds/tms-order-create.json"
        ))
        .expect("sample feed"),
    )
    .expect("JSON");
    let mut out = Outcome::default();
    let started = Instant::now();
    while arrivals.try_recv().is_ok() {}
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
            out.errors += 1;
            out.first_error.get_or_insert(e);
            continue;
        }
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
    out
}

pub async fn scenario(ctx: &mut Ctx) {
    const ALLOW: (&str, &str) = ("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8");
    const MAX: (&str, &str) = ("FREIGHTGATE_WEBHOOKS_MAX_ENDPOINTS_PER_BUSINESS", "1000");
    let (crowd_url, _crowd_arrivals) = receiver("/crowd").await;
    let (lone_url, mut lone_arrivals) = receiver("/lone").await;
    let db = Db::fresh(None).await;
    let server = ctx.server(&db, &[ALLOW, MAX]).await;
    let base = server.proc.base.clone();
    let pid = server.proc.pid();
    let bavaria = key_for(ctx, &db, "bavaria");
    register(ctx, &base, &bavaria, &lone_url).await;
    let ticks = procs::cpu_ticks(pid);
    let alone = lone_pushes(ctx, &base, &bavaria, &mut lone_arrivals, "alone").await;
    ctx.push(
        ALONE,
        format!("{SAMPLES} pushes, one at a time"),
        alone,
        procs::cpu_ticks(pid) - ticks,
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
    let crowded = lone_pushes(ctx, &base, &bavaria, &mut lone_arrivals, "crowded").await;
    ctx.push(
        CROWDED,
        format!("{SAMPLES} pushes, one at a time"),
        crowded,
        procs::cpu_ticks(pid) - ticks,
        pid,
    );
    drop(server);
    db.remove().await;
}
