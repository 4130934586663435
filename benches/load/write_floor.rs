//! Scenario 4, the write floor: the rows one 5 KB ingest writes, inserted by a minimal
//! sqlx program (same schema, one transaction per payload, the server's pool settings),
//! pinned to the server core like the server. Its own process, so its CPU and RSS are
//! measured the same way.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use sea_orm::sqlx::{self, Row as _, postgres::PgPoolOptions, sqlite::SqlitePoolOptions};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::drive::{self, Outcome};
use crate::payload;
use crate::procs;
use crate::scenarios::{Ctx, Db};
use crate::stats::{Latency, Row};

/// Tables one ingest of the WMS payload writes to.
const TABLES: [&str; 8] = [
    "inbound_payloads",
    "inbound_bodies",
    "shipments",
    "shipment_status_events",
    "orders",
    "order_items",
    "entity_references",
    "messages",
];

#[derive(Clone, Copy)]
struct Ids {
    business: i64,
    facility: i64,
    dock: Option<i64>,
}

/// Inserts the rows of payload `n` on one transaction; written once for both backends.
macro_rules! insert_payload {
    ($pool:expr, $ids:expr, $run:expr, $n:expr, $orders:expr) => {{
        let (ids, n): (Ids, u64) = ($ids, $n);
        let doc = payload::wms($run, n, $orders);
        let body = doc.to_string();
        let now = Utc::now();
        let mut tx = $pool.begin().await.map_err(|e| e.to_string())?;
        let shipment_number = doc["shipmentNumber"].as_str().unwrap_or_default().to_string();
        let shipment: i64 = sqlx::query(
            "INSERT INTO shipments (business_id, facility_id, shipment_number, direction, status, dock_id, \
             expected_arrival_at, carrier, carrier_service, trailer_number, seal_number, created_at, updated_at) \
             VALUES ($1, $2, $3, 'OUTBOUND', 'SCHEDULED', $4, $5, 'Van Dijk Transport', 'FTL', 'BX-482-K', 'SL998812', $6, $6) RETURNING id",
        )
        .bind(ids.business).bind(ids.facility).bind(&shipment_number).bind(ids.dock).bind(now).bind(now)
        .fetch_one(&mut *tx).await.map_err(|e| e.to_string())?.get(0);
        sqlx::query("INSERT INTO shipment_status_events (shipment_id, status, occurred_at, recorded_at) VALUES ($1, 'SCHEDULED', $2, $2)")
            .bind(shipment).bind(now).execute(&mut *tx).await.map_err(|e| e.to_string())?;
        let mut results = vec![];
        for order in doc["orders"].as_array().into_iter().flatten() {
            let number = order["orderNumber"].as_str().unwrap_or_default();
            let id: i64 = sqlx::query(
                "INSERT INTO orders (business_id, facility_id, order_number, customer, direction, status, purchase_order, \
                 requested_delivery_date, seal_number, consignee, addons, shipment_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'northwind', 'OUTBOUND', 'CREATED', $4, $5, 'SL998812', $6, $7, $8, $9, $9) RETURNING id",
            )
            .bind(ids.business).bind(ids.facility).bind(number).bind(order["purchaseOrder"].as_str())
            .bind(now).bind(sqlx::types::Json(&order["consignee"])).bind(sqlx::types::Json(json!([])))
            .bind(shipment).bind(now)
            .fetch_one(&mut *tx).await.map_err(|e| e.to_string())?.get(0);
            let items = order["items"].as_array().map_or(&[][..], |v| v.as_slice());
            let values: Vec<String> = (0..items.len())
                .map(|i| format!("(${}, {i}, ${}, ${}, 24, 'CASE', 11.5, 'KILOGRAM', false)", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO order_items (order_id, position, lpn, sku, quantity, quantity_unit, weight_per_unit, weight_unit, is_dangerous_good) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for item in items {
                q = q.bind(id).bind(item["lpn"].as_str()).bind(item["sku"].as_str());
            }
            q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
            results.push(json!({"entity": "order", "id": id, "reference": number, "status": "accepted"}));
            emit(&mut *tx, ids, "order.created", number, json!({"id": id, "order_number": number}), now).await?;
        }
        emit(&mut *tx, ids, "shipment.created", &shipment_number, json!({"id": shipment, "shipment_number": shipment_number}), now).await?;
        let response = json!({"status": "accepted", "results": results});
        let record: i64 = sqlx::query_scalar(
            "INSERT INTO inbound_payloads (logging_id, business_id, content_type, body_sha256, rule, operation, entity, \
             outcome, received_at) VALUES ($1, $2, 'application/json', $3, 'northwind-wms-shipment', 'create', \
             'shipment', 'accepted', $4) RETURNING id",
        )
        .bind(uuid::Uuid::now_v7().to_string()).bind(ids.business).bind(hex::encode(Sha256::digest(body.as_bytes())))
        .bind(now)
        .fetch_one(&mut *tx).await.map_err(|e| e.to_string())?;
        sqlx::query("INSERT INTO inbound_bodies (payload_id, body, response) VALUES ($1, $2, $3)")
            .bind(record).bind(&body).bind(sqlx::types::Json(response))
            .execute(&mut *tx).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())
    }};
}

/// An outbox message, as the server writes one per change (no endpoints: no deliveries).
macro_rules! emit_fn {
    ($name:ident, $db:ty) => {
        async fn $name(
            tx: &mut <$db as sqlx::Database>::Connection,
            ids: Ids,
            event_type: &str,
            key: &str,
            data: Value,
            now: chrono::DateTime<Utc>,
        ) -> Result<(), String> {
            let body = json!({"type": event_type, "timestamp": now.to_rfc3339(), "data": data});
            sqlx::query(
                "INSERT INTO messages (webhook_id, business_id, facility_id, event_type, ordering_key, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(format!("msg_{}", uuid::Uuid::now_v7().simple()))
            .bind(ids.business)
            .bind(ids.facility)
            .bind(event_type)
            .bind(key)
            .bind(body.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
        }
    };
}

mod sqlite_impl {
    use super::*;
    emit_fn!(emit, sqlx::Sqlite);
    pub async fn insert(
        pool: &sqlx::SqlitePool,
        ids: Ids,
        run: &str,
        n: u64,
        orders: usize,
    ) -> Result<(), String> {
        insert_payload!(pool, ids, run, n, orders)
    }
}

mod pg_impl {
    use super::*;
    emit_fn!(emit, sqlx::Postgres);
    pub async fn insert(
        pool: &sqlx::PgPool,
        ids: Ids,
        run: &str,
        n: u64,
        orders: usize,
    ) -> Result<(), String> {
        insert_payload!(pool, ids, run, n, orders)
    }
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Pool {
    async fn open(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            let options: SqliteConnectOptions = url.parse().expect("sqlite url");
            let options = options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(16)
                    .connect_with(options)
                    .await
                    .expect("open sqlite"),
            )
        } else {
            Pool::Pg(
                PgPoolOptions::new()
                    .max_connections(16)
                    .connect(url)
                    .await
                    .expect("open postgres"),
            )
        }
    }

    async fn scalar(&self, sql: &str) -> Option<i64> {
        match self {
            Pool::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_optional(p)
                .await
                .expect(sql)
                .map(|r| r.get(0)),
            Pool::Pg(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_optional(p)
                .await
                .expect(sql)
                .map(|r| r.get(0)),
        }
    }

    async fn rows(&self) -> i64 {
        let mut total = 0;
        for t in TABLES {
            total += self
                .scalar(&format!("SELECT COUNT(*) FROM {t}"))
                .await
                .unwrap_or(0);
        }
        total
    }

    async fn insert(&self, ids: Ids, run: &str, n: u64, orders: usize) -> Result<(), String> {
        match self {
            Pool::Sqlite(p) => sqlite_impl::insert(p, ids, run, n, orders).await,
            Pool::Pg(p) => pg_impl::insert(p, ids, run, n, orders).await,
        }
    }
}

pub fn summary(mode: &str, mut out: Outcome, ticks: u64) -> Value {
    let l = Latency::of(&mut out.latencies_us);
    json!({
        "mode": mode, "ok": out.ok, "errors": out.errors + out.dropped,
        "secs": out.elapsed.as_secs_f64(), "ticks": ticks,
        "latency": l.map(|l| [l.p50, l.p99, l.p999]), "first_error": out.first_error,
    })
}

/// The child: expects a database where the server stored exactly one WMS payload, checks
/// it writes as many rows per payload, then runs closed loop and half rate; prints `ROW` lines.
pub async fn child(url: &str, concurrency: usize, secs: Duration, orders: usize) {
    let pool = Pool::open(url).await;
    let ids = Ids {
        business: pool
            .scalar("SELECT id FROM businesses WHERE slug = 'northwind'")
            .await
            .expect("business"),
        facility: pool
            .scalar("SELECT id FROM facilities WHERE slug = 'rotterdam-dc'")
            .await
            .expect("facility"),
        dock: pool
            .scalar("SELECT id FROM docks WHERE slug = 'd07' OR slug = 'D07'")
            .await,
    };
    let by_server = pool.rows().await;
    let run = format!("floor{:x}", uuid::Uuid::now_v7().as_u128() as u32);
    pool.insert(ids, &run, u64::MAX, orders)
        .await
        .expect("one floor insert");
    let by_floor = pool.rows().await - by_server;
    println!("ROWS {by_server} {by_floor}");
    let next = Arc::new(AtomicU64::new(0));
    let op = {
        let run = run.clone();
        move |_| {
            let (pool, run, n) = (
                pool.clone(),
                run.clone(),
                next.fetch_add(1, Ordering::Relaxed),
            );
            async move { pool.insert(ids, &run, n, orders).await }
        }
    };
    let me = std::process::id();
    drive::closed(concurrency, Duration::from_secs(1), op.clone()).await;
    let before = procs::cpu_ticks(me);
    let out = drive::closed(concurrency, secs, op.clone()).await;
    let ticks = procs::cpu_ticks(me) - before;
    let half = (crate::stats::rate(out.ok, out.elapsed) / 2.0).max(1.0);
    println!(
        "ROW {}",
        summary(&format!("closed c={concurrency}"), out, ticks)
    );
    let before = procs::cpu_ticks(me);
    let out = drive::open(half, secs, op).await;
    let ticks = procs::cpu_ticks(me) - before;
    println!("ROW {}", summary(&format!("fixed {half:.0}/s"), out, ticks));
    println!("RSS {}", procs::memory_mb(me, "VmHWM").unwrap_or(0.0));
}

pub async fn scenario(ctx: &mut Ctx, postgres: bool) {
    let db = Db::fresh(if postgres {
        ctx.args.postgres.as_deref()
    } else {
        None
    })
    .await;
    // The server migrates, creates the business, facility and dock, and stores one payload.
    let server = ctx.server(&db, &[]).await;
    let op = crate::scenarios::ingest_op(ctx, &server, false);
    op(0).await.expect("seed ingest");
    drop(server);
    let out = ctx
        .pinning
        .command(&ctx.programs.this)
        .args([
            "write-floor",
            &db.url(),
            &ctx.args.concurrency.to_string(),
            &ctx.args.secs.to_string(),
            &ctx.orders.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run the write floor");
    assert!(out.status.success(), "write floor failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let scenario = format!("4 write floor, {}", db.label());
    let rss = text
        .lines()
        .find_map(|l| l.strip_prefix("RSS "))
        .and_then(|v| v.parse().ok());
    for line in text.lines() {
        if let Some(rows) = line.strip_prefix("ROWS ") {
            ctx.notes.push(format!(
                "write floor, {}: rows per payload written by the server / by the floor: {}",
                db.label(),
                rows.replace(' ', " / ")
            ));
        }
        let Some(row) = line.strip_prefix("ROW ") else {
            continue;
        };
        let row = parse_row(ctx, &scenario, row, rss);
        eprintln!(
            "  {}",
            crate::stats::table(std::slice::from_ref(&row))
                .lines()
                .last()
                .unwrap()
        );
        ctx.rows.push(row);
    }
    db.remove().await;
}

/// A `ROW` line printed by a child (see `summary`) as a table row.
pub fn parse_row(ctx: &Ctx, scenario: &str, row: &str, rss: Option<f64>) -> Row {
    let v: Value = serde_json::from_str(row).expect("ROW json");
    if let Some(e) = v["first_error"].as_str() {
        eprintln!("  {scenario}: first error: {e}");
    }
    let ok = v["ok"].as_u64().unwrap_or(0);
    let latency = v["latency"].as_array().map(|l| Latency {
        p50: l[0].as_f64().unwrap_or(0.0),
        p99: l[1].as_f64().unwrap_or(0.0),
        p999: l[2].as_f64().unwrap_or(0.0),
    });
    Row {
        scenario: scenario.into(),
        mode: v["mode"].as_str().unwrap_or("?").into(),
        rate: ok as f64 / v["secs"].as_f64().unwrap_or(1.0),
        latency,
        cpu_per_1000: crate::stats::cpu_per_1000(
            v["ticks"].as_u64().unwrap_or(0),
            ctx.ticks_per_sec,
            ok,
        ),
        peak_rss_mb: rss,
        errors: v["errors"].as_u64().unwrap_or(0),
    }
}
