//! The soak: ingest at half its closed-loop rate for `--soak` seconds with every
//! event pushed to a webhook receiver, on SQLite and (with `--postgres`) PostgreSQL.
//! With both, the two servers soak side by side (an hour each would otherwise take
//! two): they share the server core, so each one's closed loop, and so its rate,
//! is measured beside the other's. Every 10 s each samples its server's RSS, the
//! ingest and delivery rates; the drift of RSS after `--soak-warmup` is the figure.
//! The samples are written to `target/soak-<database>.csv` (or `--soak-out DIR`) for
//! `benches/scripts/plots.py`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::drive;
use crate::procs;
use crate::scenarios::{Ctx, Db, expect, ingest_op};

const SAMPLE: Duration = Duration::from_secs(10);

pub async fn scenario(ctx: &mut Ctx) {
    let notes = match ctx.args.postgres.clone() {
        Some(pg) => {
            let (sqlite, postgres) = tokio::join!(soak(ctx, None), soak(ctx, Some(&pg)));
            vec![sqlite, postgres]
        }
        None => vec![soak(ctx, None).await],
    };
    ctx.notes.extend(notes);
}

/// The server's own account of its memory (`freightgate_memory_bytes` by part) as
/// CSV columns in MB: mimalloc's heap, SQLite's share, glibc's heap in use and
/// held free. A part the server does not show (SQLite's on PostgreSQL) is empty.
async fn memory_parts(ctx: &Ctx, base: &str) -> String {
    let text = match ctx.client.get(format!("{base}/metrics")).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    ["heap", "sqlite", "c_heap_in_use", "c_heap_free"]
        .iter()
        .map(|part| {
            let prefix = format!("freightgate_memory_bytes{{part=\"{part}\"}} ");
            text.lines()
                .find_map(|line| line.strip_prefix(prefix.as_str()))
                .and_then(|value| value.trim().parse::<f64>().ok())
                .map_or_else(String::new, |bytes| format!("{:.1}", bytes / 1e6))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// One database's soak; returns its note.
async fn soak(ctx: &Ctx, postgres: Option<&str>) -> String {
    let receiver = crate::webhooks::healthy_receiver().await;
    let db = Db::fresh(postgres).await;
    let label = db.label();
    let allow = ("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8");
    let server = ctx.server(&db, &[allow]).await;
    let sent = ctx
        .client
        .post(format!("{}/v1/webhooks/endpoints", server.proc.base))
        .bearer_auth(&server.key)
        .json(&serde_json::json!({ "url": receiver.url }))
        .send();
    expect(sent.await, 201).await.expect("register endpoint");
    let op = ingest_op(ctx, &server, false);
    let pid = server.proc.pid();
    let rate = match ctx.args.soak_rate {
        Some(rate) => {
            eprintln!("  soak on {label}: ingest at {rate:.0}/s (--soak-rate)");
            rate
        }
        None => {
            let max = drive::closed(ctx.args.concurrency, SAMPLE, op.clone()).await;
            let rate = (crate::stats::rate(max.ok, max.elapsed) / 2.0).max(1.0);
            eprintln!("  soak on {label}: ingest at {rate:.0}/s (half of a 10 s closed loop)");
            rate
        }
    };
    let mut csv = String::from(
        "seconds,rss_mb,ingested_per_s,delivered_per_s,heap_mb,sqlite_mb,c_heap_in_use_mb,c_heap_free_mb\n",
    );
    let (mut errors, mut dropped, mut samples) = (0, 0, Vec::new());
    let mut first_error: Option<String> = None;
    let started = Instant::now();
    let mut delivered = receiver.count.load(Ordering::Relaxed);
    for _ in 0..ctx.args.soak.div_ceil(SAMPLE.as_secs()) {
        let out = drive::open(rate, SAMPLE, op.clone()).await;
        errors += out.errors;
        dropped += out.dropped;
        if first_error.is_none() {
            first_error = out.first_error.clone();
        }
        let rss = procs::memory_mb(pid, "VmRSS").unwrap_or(0.0);
        let now = receiver.count.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs();
        let per_s = |n: u64| n as f64 / out.elapsed.as_secs_f64();
        let parts = memory_parts(ctx, &server.proc.base).await;
        csv.push_str(&format!(
            "{secs},{rss:.1},{:.1},{:.1},{parts}\n",
            per_s(out.ok),
            per_s(now - delivered)
        ));
        delivered = now;
        samples.push((secs, rss));
    }
    let file = ctx
        .args
        .soak_out
        .clone()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into())
        .join(format!("soak-{}.csv", label.to_lowercase()));
    if let Err(e) = std::fs::write(&file, csv) {
        eprintln!("  cannot write {}: {e}", file.display());
    }
    let after: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| *t >= ctx.args.soak_warmup)
        .map(|(_, rss)| *rss)
        .collect();
    let drift = match (after.first(), after.iter().copied().reduce(f64::min)) {
        (Some(start), Some(low)) => {
            let high = after.iter().copied().fold(low, f64::max);
            format!(
                "after the {} s warm-up RSS went from {start:.1} MB to {:.1} MB (range {low:.1}–{high:.1} MB, {:+.1} % … {:+.1} % of the first)",
                ctx.args.soak_warmup,
                after.last().copied().unwrap_or(*start),
                (low / start - 1.0) * 100.0,
                (high / start - 1.0) * 100.0
            )
        }
        _ => format!(
            "shorter than its {} s warm-up: no drift figure",
            ctx.args.soak_warmup
        ),
    };
    let note = format!(
        "soak on {label}: ingest at {rate:.0}/s with webhooks for {} s, {errors} error(s){}, {dropped} not sent (the harness's in-flight cap was full), {} pushes received; {drift}; peak {:.1} MB; samples in {}",
        started.elapsed().as_secs(),
        first_error.map_or_else(String::new, |e| format!(" (the first: {e})")),
        receiver.count.load(Ordering::Relaxed),
        server.proc.peak_rss_mb().unwrap_or(0.0),
        file.display()
    );
    drop(server);
    db.remove().await;
    note
}
