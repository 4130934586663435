//! Scenario 9: the payload listing at a million records. One business holds
//! `FG_BENCH_LISTING_ROWS` payload records (default 1,000,000) received over 30
//! days: 90 % accepted, 8 % rejected (`missing_field` or `unknown_code`), 2 %
//! partially accepted, over eight rules, two keys and one order reference each.
//! Measured: the first page of `GET /v1/ingest`, one request at a time, without a
//! filter (the baseline) and with two filters each: the last hour's rejections,
//! rejections of the last hour and of the last five minutes, rejections by rule, a
//! problem code by key, and a reference in the last day; and, reported but not held
//! to the target, a reference with no time bound.

use std::time::{Duration, Instant};

use crate::drive::Outcome;
use crate::procs;
use crate::scenarios::{Ctx, Db, expect};

pub const BASELINE: &str = "9 listing at 1 M records: first page, no filter";
/// (row name, query) of the filtered listings.
pub const FILTERED: &[(&str, &str)] = &[
    (
        "9 listing at 1 M records: outcome + since (last hour)",
        "outcome=rejected&since={hour_ago}",
    ),
    (
        "9 listing at 1 M records: outcome + since (last 5 minutes)",
        "outcome=rejected&since={minutes_ago}",
    ),
    (
        "9 listing at 1 M records: outcome + rule",
        "outcome=rejected&rule=rule-3",
    ),
    (
        "9 listing at 1 M records: code + key",
        "code=unknown_code&key=night-shift",
    ),
    (
        "9 listing at 1 M records: reference + since (last day)",
        "reference=ORD-0099&since={day_ago}",
    ),
];
/// Reported, not held to the target: one text filter with no time bound reads every
/// record of the business.
pub const UNBOUNDED: (&str, &str) = (
    "9 listing at 1 M records: reference alone (no time bound)",
    "reference=ORD-0099",
);
const SAMPLES: usize = 200;

fn rows() -> u64 {
    std::env::var("FG_BENCH_LISTING_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Writes the records straight into the database in one statement, as a
/// million ingests would have left them.
async fn seed(db: &Db, rows: u64) {
    use sea_orm::sqlx::{self, AssertSqlSafe, Connection};
    let columns = "logging_id, business_id, api_key_id, content_type, body_sha256, rule, \
        operation, entity, outcome, received_at, problem_codes, refs, source";
    // Bodies and answers live in their own table, which the listing does not read:
    // small ones keep the seeding quick (a million real ones are gigabytes).
    let bodies = "INSERT INTO inbound_bodies (payload_id, body, response) \
        SELECT id, '{}', NULL FROM inbound_payloads";
    // Position i of n: outcome by i mod 50, rule by i mod 8, key by i mod 2.
    let outcome = "CASE WHEN i % 50 < 4 THEN 'rejected' WHEN i % 50 = 4 THEN 'partially_accepted' \
        ELSE 'accepted' END";
    let codes = "CASE WHEN i % 50 < 2 THEN ' missing_field validation_failed ' \
        WHEN i % 50 < 5 THEN ' unknown_code validation_failed ' ELSE NULL END";
    // The business `northwind` and its two keys: the server's and `night-shift`.
    let business = "(SELECT id FROM businesses WHERE slug = 'northwind')";
    let key_a = "(SELECT MIN(id) FROM api_keys)";
    let key_b = "(SELECT MAX(id) FROM api_keys)";
    match db {
        Db::Sqlite(_) => {
            let path = db.url();
            let mut conn = sqlx::SqliteConnection::connect(&path)
                .await
                .expect("open the bench database");
            let sql = format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
                 INSERT INTO inbound_payloads ({columns}) SELECT \
                 'bench-' || i, {business}, CASE WHEN i % 2 = 0 THEN {key_a} ELSE {key_b} END, \
                 'application/json', 'sha', 'rule-' || (i % 8), 'create', 'order', \
                 {outcome}, \
                 strftime('%Y-%m-%dT%H:%M:%f', 'now', '-30 days', \
                   '+' || (i * 2592000.0 / {rows}) || ' seconds') || '000000+00:00', \
                 {codes}, ' ORD-' || substr('0000' || (i % 10000), -4) || ' ', 'rest' FROM n; \
                 {bodies}"
            );
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .expect("seed SQLite");
            // A database that received its records over a month has long since
            // checkpointed them out of the write-ahead log; one written in a single
            // statement has not, and every read would search the log first.
            sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut conn)
                .await
                .expect("checkpoint SQLite");
        }
        Db::Postgres { .. } => {
            let mut conn = sqlx::PgConnection::connect(&db.url())
                .await
                .expect("open the bench database");
            let sql = format!(
                "INSERT INTO inbound_payloads ({columns}) SELECT \
                 'bench-' || i, {business}, CASE WHEN i % 2 = 0 THEN {key_a} ELSE {key_b} END, \
                 'application/json', 'sha', 'rule-' || (i % 8), 'create', 'order', \
                 {outcome}, \
                 now() - interval '30 days' + i * (interval '30 days' / {rows}), \
                 {codes}, ' ORD-' || lpad((i % 10000)::text, 4, '0') || ' ', 'rest' \
                 FROM generate_series(1, {rows}) AS i; {bodies}; ANALYZE inbound_payloads"
            );
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .expect("seed PostgreSQL");
        }
    }
}

/// A new key named `name` of `business` (created with the CLI, as operators do).
pub fn key_named(ctx: &Ctx, db: &Db, business: &str, name: &str) -> String {
    let out = std::process::Command::new(&ctx.programs.server)
        .args(["keys", "create", "--business", business, "--name", name])
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

async fn first_pages(ctx: &Ctx, base: &str, key: &str, query: &str) -> Outcome {
    let mut out = Outcome::default();
    let started = Instant::now();
    for _ in 0..SAMPLES {
        let sent_at = Instant::now();
        let sent = ctx
            .client
            .get(format!("{base}/v1/ingest?{query}"))
            .bearer_auth(key)
            .send();
        match expect(sent.await, 200).await {
            Ok(()) => {
                out.ok += 1;
                out.latencies_us.push(sent_at.elapsed().as_micros() as u32);
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out.elapsed = started.elapsed();
    out
}

/// The scenario on SQLite, or on PostgreSQL at `postgres` (names end in `, PostgreSQL`).
pub async fn scenario(ctx: &mut Ctx, postgres: Option<String>) {
    let on = |name: &str| match postgres {
        Some(_) => format!("{name}, PostgreSQL"),
        None => name.to_string(),
    };
    let rows = rows();
    let db = Db::fresh(postgres.as_deref()).await;
    let server = ctx.server(&db, &[]).await;
    let night_shift = key_named(ctx, &db, "northwind", "night-shift");
    let seeding = Instant::now();
    seed(&db, rows).await;
    ctx.notes.push(format!(
        "{}: {rows} payload records seeded in {:.1} s",
        on("9 listing"),
        seeding.elapsed().as_secs_f64()
    ));
    let (base, pid) = (server.proc.base.clone(), server.proc.pid());
    let now = chrono::Utc::now();
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let hour_ago = stamp(now - chrono::Duration::hours(1));
    let day_ago = stamp(now - chrono::Duration::days(1));
    let minutes_ago = stamp(now - chrono::Duration::minutes(5));
    // One warm-up pass: the first request after seeding reads the pages in.
    first_pages(ctx, &base, &night_shift, "limit=1").await;
    let ticks = procs::cpu_ticks(pid);
    let baseline = first_pages(ctx, &base, &night_shift, "").await;
    ctx.push(
        &on(BASELINE),
        format!("{SAMPLES} first pages, one at a time"),
        baseline,
        procs::cpu_ticks(pid) - ticks,
        pid,
    );
    for (name, query) in FILTERED.iter().chain([&UNBOUNDED]) {
        let query = query
            .replace("{hour_ago}", &hour_ago)
            .replace("{day_ago}", &day_ago)
            .replace("{minutes_ago}", &minutes_ago);
        let ticks = procs::cpu_ticks(pid);
        let out = first_pages(ctx, &base, &night_shift, &query).await;
        ctx.push(
            &on(name),
            format!("{SAMPLES} first pages, one at a time"),
            out,
            procs::cpu_ticks(pid) - ticks,
            pid,
        );
    }
    drop(server);
    tokio::time::sleep(Duration::from_millis(100)).await;
}
