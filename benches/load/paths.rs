//! Scenario 11: the other doors for the same order, each beside `POST /v1/ingest` of
//! it in the same run, on a fresh database each.
//!
//! - **REST create**: `POST /v1/orders` of the canonical order that the shipped rule
//!   `bavaria-erp-order` maps the ERP document to, against ingest of that document;
//! - **pull**: one run of an `http` pull source over pages of 100 such documents served
//!   by the harness, in items per second, against ingest of the documents one per
//!   request by the closed loop's clients (how a partner that pushes sends them). The
//!   run pulls about as many items as the closed loop posted, so both last about as
//!   long.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

use crate::drive::Outcome;
use crate::procs::{self, Scratch};
use crate::scenarios::{Ctx, Db, post_op};

/// The business of rule `bavaria-erp-order`.
const BUSINESS: &str = "bavaria-buero";
/// Items per page of the harness's partner API.
const PAGE: u64 = 100;
const SOURCE: &str = "bench-erp-orders";

pub fn ingest_name(db: &str) -> String {
    format!("11 ingest, one ERP order, {db}")
}

pub fn rest_name(db: &str) -> String {
    format!("11 REST POST /v1/orders, the same order, {db}")
}

pub fn pull_name(db: &str) -> String {
    format!("11 pull source, pages of {PAGE}, {db}")
}

/// The ERP document (as `tests/feeds/erp-flat-order.json`) numbered `number`.
fn erp_order(number: &str) -> Value {
    json!({
        "Belegart": "AUFTRAG",
        "AuftragNr": number,
        "Kunde": "K-10021",
        "Lieferdatum": "2026-05-20 14:00",
        "Empfaenger_Name": "Müller Bürobedarf GmbH",
        "Empfaenger_Strasse": "Hauptstraße 12",
        "Empfaenger_PLZ": "80331",
        "Empfaenger_Ort": "München",
        "Empfaenger_Land": "DE",
        "Positionen": [
            { "ArtikelNr": "DESK-200", "Menge": 4, "Einheit": "STK", "Gewicht_lb": 88.2 },
            { "ArtikelNr": "CHAIR-80", "Menge": 12, "Einheit": "STK", "Gewicht_lb": 26.5 }
        ]
    })
}

/// The canonical order the rule makes of `erp_order(number)`
/// (`tests/fixtures/erp-flat-order.canonical.json`).
fn canonical_order(number: &str) -> Value {
    let mut order: Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/erp-flat-order.canonical.json"
    ))
    .expect("the canonical order fixture");
    order["order_number"] = number.into();
    order
}

/// The partner's API: `GET /orders?page=N` (from 1) answers the page's documents
/// while fewer than `total` have been given, then an empty page.
async fn partner(run: String, total: Arc<AtomicU64>) -> String {
    #[derive(serde::Deserialize)]
    struct Query {
        page: Option<u64>,
    }
    let app = axum::Router::new().route(
        "/orders",
        axum::routing::get(
            move |axum::extract::Query(q): axum::extract::Query<Query>| {
                let (run, total) = (run.clone(), total.load(Ordering::Relaxed));
                async move {
                    let first = (q.page.unwrap_or(1).max(1) - 1) * PAGE;
                    let orders: Vec<Value> = (first..(first + PAGE).min(total))
                        .map(|n| erp_order(&format!("{run}-P{n}")))
                        .collect();
                    axum::Json(json!({ "orders": orders }))
                }
            },
        ),
    );
    crate::webhooks::serve(app, "/orders").await
}

pub async fn scenario(ctx: &mut Ctx, postgres: Option<String>) {
    let total = Arc::new(AtomicU64::new(0));
    let partner_url = partner(ctx.run.clone(), total.clone()).await;
    let sources = Scratch::new("sources");
    std::fs::write(
        sources.0.join("bench.toml"),
        format!(
            r#"[[source]]
name = "{SOURCE}"
business = "{BUSINESS}"
kind = "http"
every = "24h"
url = "{partner_url}"
items = "$.orders[*]"
next = {{ page = "page", first = 1 }}
max_pages = 100000
"#
        ),
    )
    .expect("write the pull source");
    let dir = sources.0.display().to_string();
    let env = [
        ("FREIGHTGATE_SOURCES_DIR", dir.as_str()),
        ("FREIGHTGATE_SOURCES_SCHEDULER", "false"),
    ];
    let db_label = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    // Ingest of the ERP document, one per request.
    let db = Db::fresh(postgres.as_deref()).await;
    let server = ctx.server(&db, &env).await;
    let key = ctx.key(&db, BUSINESS);
    let prefix = format!("{}-I", ctx.run);
    let url = format!("{}/v1/ingest", server.proc.base);
    let op = post_op(ctx, &url, &key, None, move |n| {
        erp_order(&format!("{prefix}{n}")).to_string()
    });
    let posted = ctx
        .measure(&ingest_name(db_label), server.proc.pid(), op)
        .await;
    drop(server);
    db.remove().await;

    // The canonical order through the REST resource.
    let db = Db::fresh(postgres.as_deref()).await;
    let server = ctx.server(&db, &env).await;
    let key = ctx.key(&db, BUSINESS);
    let prefix = format!("{}-R", ctx.run);
    let url = format!("{}/v1/orders", server.proc.base);
    let op = post_op(ctx, &url, &key, None, move |n| {
        canonical_order(&format!("{prefix}{n}")).to_string()
    });
    ctx.measure(&rest_name(db_label), server.proc.pid(), op)
        .await;
    drop(server);
    db.remove().await;

    // One pull run of about as many documents as the closed loop posted.
    let items = ((posted * ctx.args.secs as f64) as u64)
        .div_ceil(PAGE)
        .max(10)
        * PAGE;
    total.store(items, Ordering::Relaxed);
    let db = Db::fresh(postgres.as_deref()).await;
    let server = ctx.server(&db, &env).await;
    let key = ctx.key(&db, BUSINESS);
    let pid = server.proc.pid();
    let pg_before = postgres.as_ref().map(|_| procs::postgres_ticks());
    let before = procs::cpu_ticks(pid);
    let started = Instant::now();
    let sent = ctx
        .client
        .post(format!("{}/v1/sources/{SOURCE}/run", server.proc.base))
        .bearer_auth(&key)
        .send()
        .await;
    let elapsed = started.elapsed();
    let ticks = procs::cpu_ticks(pid) - before;
    let pg_ticks = pg_before.map(|b| procs::postgres_spent(&b));
    let answer: Value = match sent {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let created = answer["created"].as_u64().unwrap_or(0);
    let mut out = Outcome {
        ok: created,
        elapsed,
        ..Outcome::default()
    };
    if answer["outcome"] != "succeeded" || created != items {
        out.errors = items.saturating_sub(created).max(1);
        out.first_error = Some(format!("run of {items} items answered {answer}"));
    }
    if let Some(pg_ticks) = pg_ticks {
        note_pull_time(ctx, db_label, elapsed, ticks, pg_ticks, created);
    }
    ctx.push(
        &pull_name(db_label),
        format!("one run, {items} items"),
        out,
        ticks,
        pid,
    );
    drop(server);
    db.remove().await;
    drop(sources);
}

/// Where a pulled item's time goes: a run stores its pages one after another on one
/// writer, so the server and PostgreSQL take turns; when their CPU per item adds up to
/// the wall time per item, that chain is the limit, not waiting on anything else.
fn note_pull_time(
    ctx: &mut Ctx,
    db: &str,
    elapsed: std::time::Duration,
    server_ticks: u64,
    pg_ticks: u64,
    items: u64,
) {
    let per_item_ms = |seconds: f64| seconds * 1000.0 / items.max(1) as f64;
    let tps = ctx.ticks_per_sec as f64;
    let wall = per_item_ms(elapsed.as_secs_f64());
    let server = per_item_ms(server_ticks as f64 / tps);
    let pg = per_item_ms(pg_ticks as f64 / tps);
    ctx.notes.push(format!(
        "{}: per item {wall:.3} ms of wall time, the server's CPU {server:.3} ms, \
         PostgreSQL's {pg:.3} ms (every postgres process); together {:.0} % of the wall time",
        pull_name(db),
        (server + pg) / wall.max(f64::EPSILON) * 100.0
    ));
}
