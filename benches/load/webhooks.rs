//! Scenario 6: webhook fan-out by the server's dispatcher to local receivers (one
//! healthy, one answering after 2 s, one failing) against a plain reqwest loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::drive::Outcome;
use crate::procs;
use crate::scenarios::{Ctx, Db, expect, ingest_op};

pub const ALONE: &str = "6 webhooks: dispatcher, healthy endpoint alone";
pub const MIXED: &str = "6 webhooks: dispatcher, healthy + slow 2 s + failing";
pub const PLAIN: &str = "6 webhooks: plain reqwest loop, same bodies";
/// The server's default `webhooks_per_endpoint_concurrency`, used by the plain loop too.
const CONCURRENCY: usize = 4;

#[derive(Clone, Copy)]
enum Behaviour {
    Healthy,
    Slow,
    Failing,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub url: String,
    pub count: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    last: Arc<Mutex<Option<Instant>>>,
}

/// A receiver answering 204 at once.
pub async fn healthy_receiver() -> Receiver {
    receiver(Behaviour::Healthy).await
}

async fn receiver(behaviour: Behaviour) -> Receiver {
    let r = Receiver::default();
    let seen = r.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                match behaviour {
                    Behaviour::Healthy => {}
                    Behaviour::Slow => tokio::time::sleep(Duration::from_secs(2)).await,
                    Behaviour::Failing => return StatusCode::INTERNAL_SERVER_ERROR,
                }
                seen.count.fetch_add(1, Ordering::Relaxed);
                seen.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                *seen.last.lock().unwrap() = Some(Instant::now());
                StatusCode::NO_CONTENT
            }
        }),
    );
    let url = serve(app, "/hooks").await;
    Receiver { url, ..r }
}

/// Serves `app` on a free loopback port in the harness; answers the URL of `path` there.
pub async fn serve(app: axum::Router, path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Messages are written with the dispatcher off; then the server restarts with it on
/// and the healthy receiver's arrivals are timed from readiness to the last one.
async fn dispatched(ctx: &mut Ctx, with_bad: bool) -> (u64, f64) {
    const ALLOW: (&str, &str) = ("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8");
    let healthy = receiver(Behaviour::Healthy).await;
    let mut urls = vec![healthy.url.clone()];
    if with_bad {
        urls.push(receiver(Behaviour::Slow).await.url);
        urls.push(receiver(Behaviour::Failing).await.url);
    }
    let db = Db::fresh(None).await;
    let writer = ctx
        .server(&db, &[ALLOW, ("FREIGHTGATE_WEBHOOKS_DISPATCHER", "false")])
        .await;
    for url in &urls {
        let sent = ctx
            .client
            .post(format!("{}/v1/webhooks/endpoints", writer.proc.base))
            .bearer_auth(&writer.key)
            .json(&serde_json::json!({ "url": url }))
            .send();
        expect(sent.await, 201).await.expect("register endpoint");
    }
    let op = ingest_op(ctx, &writer, false);
    let payloads = ctx.args.webhook_payloads;
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < payloads {
                    op(0).await.expect("ingest for webhooks");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("ingest task");
    }
    drop(writer);
    let server = ctx.server(&db, &[ALLOW]).await;
    let pid = server.proc.pid();
    let ready = Instant::now();
    let (before, ticks_before) = (healthy.count.load(Ordering::Relaxed), procs::cpu_ticks(pid));
    // Done when the healthy receiver has heard nothing for 2 s (bounded at 5 minutes).
    let mut seen = (before, Instant::now());
    while seen.1.elapsed() < Duration::from_secs(2) && ready.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = healthy.count.load(Ordering::Relaxed);
        if now != seen.0 {
            seen = (now, Instant::now());
        }
    }
    let ticks = procs::cpu_ticks(pid) - ticks_before;
    let last = healthy.last.lock().unwrap().unwrap_or(ready);
    let delivered = seen.0 - before;
    let out = Outcome {
        ok: delivered,
        elapsed: last.saturating_duration_since(ready),
        ..Outcome::default()
    };
    let scenario = if with_bad { MIXED } else { ALONE };
    ctx.push(scenario, format!("{delivered} deliveries"), out, ticks, pid);
    let avg = healthy.bytes.load(Ordering::Relaxed) as f64 / seen.0.max(1) as f64;
    drop(server);
    db.remove().await;
    (delivered, avg)
}

/// The child: `n` posts of a `bytes`-long JSON body, `concurrency` at a time; prints a `ROW`.
pub async fn plain_child(url: &str, n: u64, concurrency: usize, bytes: usize) {
    let body: &'static str = Box::leak(
        format!(r#"{{"pad":"{}"}}"#, "x".repeat(bytes.saturating_sub(10))).into_boxed_str(),
    );
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let me = std::process::id();
    let ticks_before = procs::cpu_ticks(me);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.to_string(), next.clone());
            tokio::spawn(async move {
                let mut out = Outcome::default();
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let t = Instant::now();
                    let result = expect(client.post(&url).body(body).send().await, 204).await;
                    match result {
                        Ok(()) => {
                            out.ok += 1;
                            out.latencies_us.push(t.elapsed().as_micros() as u32);
                        }
                        Err(e) => {
                            out.errors += 1;
                            out.first_error.get_or_insert(e);
                        }
                    }
                }
                out
            })
        })
        .collect();
    let mut out = Outcome::default();
    for w in workers {
        let part = w.await.expect("plain loop worker");
        out.ok += part.ok;
        out.errors += part.errors;
        out.latencies_us.extend(part.latencies_us);
        out.first_error = out.first_error.or(part.first_error);
    }
    out.elapsed = started.elapsed();
    let ticks = procs::cpu_ticks(me) - ticks_before;
    let mode = format!("{n} posts, c={concurrency}");
    println!("ROW {}", crate::write_floor::summary(&mode, out, ticks));
    println!("RSS {}", procs::memory_mb(me, "VmHWM").unwrap_or(0.0));
}

/// The same number of same-size bodies posted by reqwest with the same concurrency, from
/// a process on the server core, to a receiver in the harness (as the dispatcher's are).
async fn plain(ctx: &mut Ctx, n: u64, avg_bytes: f64) {
    let healthy = receiver(Behaviour::Healthy).await;
    let mut command = ctx.pinning.command(&ctx.programs.this);
    command
        .args([
            "plain-loop",
            &healthy.url,
            &n.to_string(),
            &CONCURRENCY.to_string(),
            &(avg_bytes as usize).to_string(),
        ])
        .stderr(std::process::Stdio::inherit());
    // Off the runtime thread: the receiver the child posts to runs on it.
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("plain loop thread")
        .expect("run the plain loop");
    assert!(out.status.success(), "plain loop failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let rss = text
        .lines()
        .find_map(|l| l.strip_prefix("RSS "))
        .and_then(|v| v.parse().ok());
    if let Some(line) = text.lines().find_map(|l| l.strip_prefix("ROW ")) {
        let row = crate::write_floor::parse_row(ctx, PLAIN, line, rss);
        eprintln!(
            "  {}",
            crate::stats::table(std::slice::from_ref(&row))
                .lines()
                .last()
                .unwrap()
        );
        ctx.rows.push(row);
    }
}

pub async fn scenario(ctx: &mut Ctx) {
    dispatched(ctx, false).await;
    let (n, avg) = dispatched(ctx, true).await;
    plain(ctx, n.max(1), avg).await;
}
