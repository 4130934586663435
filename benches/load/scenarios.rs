//! The scenarios, each against a fresh server (or floor program) and a fresh database.

use std::future::Future;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::drive::{self, Outcome};
use crate::http::Poster;
use crate::procs::{self, Pinning, Running, Scratch};
use crate::stats::{self, Latency, Ratio, Row};
use crate::{Args, Programs, payload};

/// State shared by every scenario of one run.
pub struct Ctx {
    pub args: Args,
    pub programs: Programs,
    pub pinning: Pinning,
    pub client: reqwest::Client,
    pub ticks_per_sec: u64,
    /// Makes shipment and order numbers unique across the run.
    pub run: String,
    pub orders: usize,
    pub body: &'static str,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    rules: Scratch,
    pub rule_count: usize,
}

/// A fresh database: a SQLite file in a scratch dir, or a new PostgreSQL database.
pub enum Db {
    Sqlite(Scratch),
    Postgres {
        admin: String,
        url: String,
        name: String,
    },
}

impl Db {
    pub async fn fresh(postgres: Option<&str>) -> Db {
        let Some(admin) = postgres else {
            return Db::Sqlite(Scratch::new("sqlite"));
        };
        use sea_orm::sqlx::Connection;
        let name = format!("fg_bench_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sea_orm::sqlx::PgConnection::connect(admin)
            .await
            .expect("connect to FG_BENCH_POSTGRES");
        sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name}"
        )))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
        let mut url = reqwest::Url::parse(admin).expect("FG_BENCH_POSTGRES is a URL");
        url.set_path(&format!("/{name}"));
        Db::Postgres {
            admin: admin.into(),
            url: url.into(),
            name,
        }
    }

    pub fn url(&self) -> String {
        match self {
            Db::Sqlite(dir) => format!("sqlite://{}", dir.0.join("bench.db").display()),
            Db::Postgres { url, .. } => url.clone(),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres { .. } => "PostgreSQL",
        }
    }

    pub async fn remove(self) {
        if let Db::Postgres { admin, name, .. } = self {
            use sea_orm::sqlx::Connection;
            if let Ok(mut conn) = sea_orm::sqlx::PgConnection::connect(&admin).await {
                let _ = sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
        }
    }
}

/// A running release server with an API key of business `northwind`.
pub struct Server {
    pub proc: Running,
    pub key: String,
    _dir: Scratch,
}

impl Ctx {
    fn server_env(&self, db: &Db) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), db.url()),
            (
                "FREIGHTGATE_RULES_DIR".into(),
                self.rules.0.display().to_string(),
            ),
            ("FREIGHTGATE_LOG".into(), "warn".into()),
            // One key drives every scenario at full speed: the per-key rate limit
            // would measure itself, not the gateway.
            ("FREIGHTGATE_RATE_LIMIT_PER_SEC".into(), "0".into()),
            ("FREIGHTGATE_MAX_CONCURRENT_REQUESTS".into(), "4096".into()),
        ]
    }

    /// A new API key of `business` (`freightgate keys create`, which also migrates).
    pub fn key(&self, db: &Db, business: &str) -> String {
        let dir = Scratch::new("keys");
        let out = std::process::Command::new(&self.programs.server)
            .args(["keys", "create", "--business", business])
            .envs(self.server_env(db))
            .current_dir(&dir.0)
            .stderr(Stdio::inherit())
            .output()
            .expect("run freightgate keys create");
        assert!(out.status.success(), "freightgate keys create failed");
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .last()
            .expect("key line")
            .trim()
            .to_string()
    }

    /// Creates the key (which migrates the fresh database), then serves on the server core.
    pub async fn server(&self, db: &Db, extra: &[(&str, &str)]) -> Server {
        let dir = Scratch::new("server");
        let key = self.key(db, "northwind");
        let port = procs::free_port();
        let child = self
            .pinning
            .command(&self.programs.server)
            .arg("serve")
            .envs(self.server_env(db))
            .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
            .envs(extra.iter().map(|(k, v)| (*k, *v)))
            .current_dir(&dir.0)
            .stdout(Stdio::null())
            .spawn()
            .expect("start freightgate serve");
        let proc = Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        procs::wait_ready(&self.client, &proc.base, "/readyz").await;
        Server {
            proc,
            key,
            _dir: dir,
        }
    }

    /// Appends a row for one phase measured against process `pid`.
    pub fn push(&mut self, scenario: &str, mode: String, mut out: Outcome, ticks: u64, pid: u32) {
        if let Some(e) = &out.first_error {
            eprintln!("  {scenario} / {mode}: {} error(s), first: {e}", out.errors);
        }
        if out.dropped > 0 {
            eprintln!(
                "  {scenario} / {mode}: {} sends skipped ({} already in flight)",
                out.dropped,
                drive::MAX_IN_FLIGHT
            );
        }
        let row = Row {
            scenario: scenario.into(),
            mode,
            rate: stats::rate(out.ok, out.elapsed),
            latency: Latency::of(&mut out.latencies_us),
            cpu_per_1000: stats::cpu_per_1000(ticks, self.ticks_per_sec, out.ok),
            peak_rss_mb: procs::memory_mb(pid, "VmHWM"),
            errors: out.errors + out.dropped,
        };
        eprintln!(
            "  {}",
            stats::table(std::slice::from_ref(&row))
                .lines()
                .last()
                .unwrap()
        );
        self.rows.push(row);
    }

    /// Warm-up, closed loop, then a fixed rate of half the closed-loop rate; returns the
    /// closed-loop rate.
    pub async fn measure<F, Fut>(&mut self, scenario: &str, pid: u32, op: F) -> f64
    where
        F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let (c, secs) = (self.args.concurrency, Duration::from_secs(self.args.secs));
        let warm = drive::closed(c, Duration::from_secs(1), op.clone()).await;
        if warm.errors > 0 {
            let first = warm.first_error.unwrap_or_default();
            let first: String = first.chars().take(200).collect();
            self.notes.push(format!(
                "{scenario}: {} error(s) in the 1 s warm-up (not in the table), first: {first}",
                warm.errors
            ));
        }
        let before = procs::cpu_ticks(pid);
        let out = drive::closed(c, secs, op.clone()).await;
        let ticks = procs::cpu_ticks(pid) - before;
        let max = stats::rate(out.ok, out.elapsed);
        self.push(scenario, format!("closed c={c}"), out, ticks, pid);
        let half = (max / 2.0).max(1.0);
        let before = procs::cpu_ticks(pid);
        let out = drive::open(half, secs, op).await;
        let ticks = procs::cpu_ticks(pid) - before;
        self.push(scenario, format!("fixed {half:.0}/s"), out, ticks, pid);
        max
    }

    /// The maximum (closed-loop, or only) rate of a scenario row, if it ran.
    pub fn closed_rate(&self, scenario: &str) -> Option<f64> {
        self.row(scenario, false).map(|r| r.rate)
    }

    fn row(&self, scenario: &str, fixed: bool) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.mode.starts_with("fixed") == fixed)
    }
}

/// Expects `status` and drains the body.
pub async fn expect(sent: reqwest::Result<reqwest::Response>, status: u16) -> Result<(), String> {
    let response = sent.map_err(|e| e.to_string())?;
    let got = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if got == status {
        Ok(())
    } else {
        Err(format!("{got}: {}", String::from_utf8_lossy(&body)))
    }
}

/// The floor program: a bare axum handler that reads the body and answers 200.
pub async fn floor_http(port: u16) {
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/floor",
            post(|body: String| async move { body.len().to_string() }),
        )
        .route("/readyz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind floor port");
    axum::serve(listener, app).await.expect("floor server");
}

async fn floor(ctx: &mut Ctx) {
    let port = procs::free_port();
    let child = ctx
        .pinning
        .command(&ctx.programs.this)
        .args(["floor-http", &port.to_string()])
        .spawn()
        .expect("start the floor server");
    let proc = Running {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    procs::wait_ready(&ctx.client, &proc.base, "/readyz").await;
    let poster = Poster::new(&proc.base, "/floor", None, ctx.body);
    ctx.measure("1 floor: bare axum, 5 KB body", proc.pid(), move |_| {
        let poster = poster.clone();
        async move { poster.post(200).await }
    })
    .await;
}

async fn explain(ctx: &mut Ctx) {
    let db = Db::fresh(None).await;
    let server = ctx.server(&db, &[]).await;
    let path = "/v1/ingest/explain";
    let poster = Poster::new(&server.proc.base, path, Some(&server.key), ctx.body);
    let scenario = format!("2 explain, 5 KB, {} rules", ctx.rule_count);
    ctx.measure(&scenario, server.proc.pid(), move |_| {
        let poster = poster.clone();
        async move { poster.post(200).await }
    })
    .await;
    drop(server);
    db.remove().await;
}

/// A closed-loop operation, boxed so scenarios can hand it around.
pub type Op = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// `POST /v1/ingest` of unique 5 KB WMS payloads (each creates a shipment and its orders).
pub fn ingest_op(
    ctx: &Ctx,
    server: &Server,
    idempotent: bool,
) -> impl Fn(u64) -> Op + Clone + Send + Sync + 'static {
    let (run, orders) = (ctx.run.clone(), ctx.orders);
    post_op(
        ctx,
        &format!("{}/v1/ingest", server.proc.base),
        &server.key,
        idempotent.then(|| ctx.run.clone()),
        move |n| payload::wms(&run, n, orders).to_string(),
    )
}

/// Each call posts `body(n)` as JSON to `url` with `key`, `n` counting from 0 per
/// operation, and expects 201; with `idempotency`, under the Idempotency-Key
/// `{idempotency}-{n}`.
pub fn post_op<B: Fn(u64) -> String + Send + Sync + 'static>(
    ctx: &Ctx,
    url: &str,
    key: &str,
    idempotency: Option<String>,
    body: B,
) -> impl Fn(u64) -> Op + Clone + Send + Sync + 'static + use<B> {
    let (client, url, key) = (ctx.client.clone(), url.to_string(), key.to_string());
    let (next, body) = (Arc::new(AtomicU64::new(0)), Arc::new(body));
    move |_| {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let mut request = client
            .post(&url)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body(n));
        if let Some(prefix) = &idempotency {
            request = request.header("idempotency-key", format!("{prefix}-{n}"));
        }
        let sent = request.send();
        Box::pin(async move { expect(sent.await, 201).await })
    }
}

async fn ingest(ctx: &mut Ctx, postgres: bool, idempotent: bool) {
    let db = Db::fresh(if postgres {
        ctx.args.postgres.as_deref()
    } else {
        None
    })
    .await;
    let server = ctx.server(&db, &[]).await;
    let op = ingest_op(ctx, &server, idempotent);
    let scenario = format!(
        "3 ingest, {}{}",
        db.label(),
        if idempotent { ", Idempotency-Key" } else { "" }
    );
    ctx.measure(&scenario, server.proc.pid(), op).await;
    drop(server);
    db.remove().await;
}

async fn graphql_vs_rest(ctx: &mut Ctx) {
    let db = Db::fresh(None).await;
    let server = ctx.server(&db, &[]).await;
    let feed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/feeds/wms-shipment-with-orders.json"
    ))
    .expect("sample feed");
    let base = server.proc.base.clone();
    let ack: serde_json::Value = ctx
        .client
        .post(format!("{base}/v1/ingest"))
        .bearer_auth(&server.key)
        .header("content-type", "application/json")
        .body(feed)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("ingest the sample shipment")
        .json()
        .await
        .expect("acknowledgement");
    let id = ack["results"][0]["id"].as_i64().expect("shipment id");
    let (client, key) = (ctx.client.clone(), server.key.clone());
    let url = format!("{base}/v1/shipments/{id}");
    ctx.measure(
        "5 REST GET /v1/shipments/{id}",
        server.proc.pid(),
        move |_| {
            let sent = client.get(&url).bearer_auth(&key).send();
            async move { expect(sent.await, 200).await }
        },
    )
    .await;
    let query = serde_json::json!({"query": format!("{{ shipment(id: {id}) {{ id status carrier arrivedAt expectedArrivalAt dock {{ slug }} \
        statusEvents {{ status completedAt }} orders {{ orderNumber purchaseOrder status items {{ id lpn sku quantity quantityUnit \
        weightPerUnit weightUnit lot }} }} }} }}")})
    .to_string();
    let query: &'static str = Box::leak(query.into_boxed_str());
    let (client, key) = (ctx.client.clone(), server.key.clone());
    let url = format!("{base}/graphql");
    ctx.measure("5 GraphQL shipment(id)", server.proc.pid(), move |_| {
        let sent = client
            .post(&url)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(query)
            .send();
        async move {
            let response = sent.await.map_err(|e| e.to_string())?;
            let body = response.text().await.map_err(|e| e.to_string())?;
            if body.starts_with(r#"{"data":{"shipment":{"id""#) {
                Ok(())
            } else {
                Err(body)
            }
        }
    })
    .await;
    drop(server);
    db.remove().await;
}

/// The ingest scenario on SQLite twice on one server: alone, then while 2,000 idle
/// connections send half a header and stop (from other loopback addresses, so the
/// per-address cap does not turn them away; each one the server closes after its
/// header-read timeout is opened again at once, as an attacker would).
pub const SLOW_BASELINE: &str = "7 ingest, SQLite, baseline for slow connections";
pub const SLOW_HELD: &str = "7 ingest, SQLite, 2,000 slow connections held";

async fn slow_connections(ctx: &mut Ctx) {
    let db = Db::fresh(None).await;
    let server = ctx.server(&db, &[]).await;
    let pid = server.proc.pid();
    let op = ingest_op(ctx, &server, false);
    ctx.measure(SLOW_BASELINE, pid, op.clone()).await;
    let address: std::net::SocketAddr = server
        .proc
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("server address");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let held = Arc::new(AtomicU64::new(0));
    let holders: Vec<_> = (0..2_000u32)
        .map(|i| {
            let (stop, held) = (stop.clone(), held.clone());
            let from = std::net::Ipv4Addr::new(127, 1 + (i / 250) as u8, (i % 250) as u8, 7);
            tokio::spawn(hold_half_header(address, from, stop, held))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("  {} slow connections open", held.load(Ordering::Relaxed));
    ctx.measure(SLOW_HELD, pid, op).await;
    ctx.notes.push(format!(
        "{SLOW_HELD}: {} connections were open when it ended",
        held.load(Ordering::Relaxed)
    ));
    stop.store(true, Ordering::Relaxed);
    for holder in holders {
        holder.abort();
    }
    drop(server);
    db.remove().await;
}

/// Keeps one connection from `from` open with an unfinished header; reopens it when
/// the server closes it.
async fn hold_half_header(
    to: std::net::SocketAddr,
    from: std::net::Ipv4Addr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    held: Arc<AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while !stop.load(Ordering::Relaxed) {
        let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
            return;
        };
        if socket.bind((from, 0).into()).is_err() {
            return;
        }
        let Ok(mut stream) = socket.connect(to).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if stream
            .write_all(b"POST /v1/ingest HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .is_err()
        {
            continue;
        }
        held.fetch_add(1, Ordering::Relaxed);
        let mut sink = [0u8; 512];
        // Until the server gives up on it.
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
        held.fetch_sub(1, Ordering::Relaxed);
    }
}

fn ratios(ctx: &Ctx) -> Vec<Ratio> {
    let rate = |s: &str| ctx.closed_rate(s);
    let div = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
    let explain = format!("2 explain, 5 KB, {} rules", ctx.rule_count);
    let ratio = |name: &str, value, target, at_least| Ratio {
        name: name.into(),
        value,
        target,
        at_least,
    };
    let peak_ingest = ctx
        .rows
        .iter()
        .filter(|r| r.scenario.starts_with("3 ingest"))
        .filter_map(|r| r.peak_rss_mb)
        .reduce(f64::max);
    vec![
        ratio(
            "explain ÷ floor (5 KB)",
            div(rate(&explain), rate("1 floor: bare axum, 5 KB body")),
            0.5,
            true,
        ),
        ratio(
            "ingest ÷ write floor, SQLite",
            div(rate("3 ingest, SQLite"), rate("4 write floor, SQLite")),
            0.8,
            true,
        ),
        ratio(
            "ingest ÷ write floor, PostgreSQL",
            div(
                rate("3 ingest, PostgreSQL"),
                rate("4 write floor, PostgreSQL"),
            ),
            0.8,
            true,
        ),
        ratio(
            "ingest SQLite p99 ms at half max",
            ctx.row("3 ingest, SQLite", true)
                .and_then(|r| r.latency)
                .map(|l| l.p99),
            20.0,
            false,
        ),
        ratio(
            "GraphQL ÷ REST",
            div(
                rate("5 GraphQL shipment(id)"),
                rate("5 REST GET /v1/shipments/{id}"),
            ),
            0.6,
            true,
        ),
        ratio(
            "webhook deliveries ÷ plain loop",
            div(rate(crate::webhooks::MIXED), rate(crate::webhooks::PLAIN)),
            0.7,
            true,
        ),
        ratio(
            "healthy endpoint with slow+failing ÷ alone",
            div(rate(crate::webhooks::MIXED), rate(crate::webhooks::ALONE)),
            0.9,
            true,
        ),
        ratio("peak RSS MB under ingest", peak_ingest, 150.0, false),
        ratio(
            "push p99 ms of a business beside a 1,000-endpoint fan-out",
            ctx.row(crate::fanout::CROWDED, false)
                .and_then(|r| r.latency)
                .map(|l| l.p99),
            1000.0,
            false,
        ),
        ratio(
            "write p99 ms of a business while another writes a 1,000-endpoint fan-out",
            ctx.row(crate::fanout::WRITE_CROWDED, false)
                .and_then(|r| r.latency)
                .map(|l| l.p99),
            1000.0,
            false,
        ),
        ratio(
            "the same on PostgreSQL",
            ctx.row(
                &format!("{}, PostgreSQL", crate::fanout::WRITE_CROWDED),
                false,
            )
            .and_then(|r| r.latency)
            .map(|l| l.p99),
            1000.0,
            false,
        ),
        ratio(
            "listing p99 ms at 1 M records, worst two-filter first page (SQLite)",
            worst_listing_p99(ctx, ""),
            50.0,
            false,
        ),
        ratio(
            "the same on PostgreSQL",
            worst_listing_p99(ctx, ", PostgreSQL"),
            50.0,
            false,
        ),
        ratio(
            "REST create ÷ ingest of the same order, SQLite",
            div(
                rate(&crate::paths::rest_name("SQLite")),
                rate(&crate::paths::ingest_name("SQLite")),
            ),
            1.0,
            true,
        ),
        ratio(
            "the same on PostgreSQL",
            div(
                rate(&crate::paths::rest_name("PostgreSQL")),
                rate(&crate::paths::ingest_name("PostgreSQL")),
            ),
            1.0,
            true,
        ),
        ratio(
            "pulled ÷ POSTed items/s, SQLite",
            div(
                rate(&crate::paths::pull_name("SQLite")),
                rate(&crate::paths::ingest_name("SQLite")),
            ),
            0.9,
            true,
        ),
        ratio(
            "the same on PostgreSQL",
            div(
                rate(&crate::paths::pull_name("PostgreSQL")),
                rate(&crate::paths::ingest_name("PostgreSQL")),
            ),
            0.9,
            true,
        ),
        ratio(
            "ingest with 2,000 slow connections ÷ without",
            div(rate(SLOW_HELD), rate(SLOW_BASELINE)),
            0.8,
            true,
        ),
    ]
}

/// Runs the selected scenarios in order and prints the table and the ratios.
pub async fn run_all(args: Args, programs: Programs, pinning: Pinning) {
    let run = format!("{:x}", uuid::Uuid::now_v7().as_u128() as u32);
    let orders = payload::orders_for_5kb(&run);
    let body = payload::wms(&run, u64::MAX, orders).to_string();
    let rules = Scratch::new("rules");
    let rule_count = payload::rules_dir(&programs.repo_rules, &rules.0, 100);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .build()
        .expect("client");
    let mut ctx = Ctx {
        args,
        programs,
        pinning,
        client,
        ticks_per_sec: procs::ticks_per_sec(),
        run,
        orders,
        body: Box::leak(body.into_boxed_str()),
        rows: vec![],
        notes: vec![],
        rules,
        rule_count,
    };
    eprintln!("{}", ctx.pinning.description);
    eprintln!(
        "payload: {} bytes ({} orders x 3 items); {} s per phase",
        ctx.body.len(),
        ctx.orders,
        ctx.args.secs
    );
    let pg = ctx.args.postgres.is_some();
    if ctx.args.wants("floor") {
        floor(&mut ctx).await;
    }
    if ctx.args.wants("explain") {
        explain(&mut ctx).await;
    }
    for postgres in [false, true] {
        if postgres && !pg {
            ctx.notes
                .push("PostgreSQL skipped: set FG_BENCH_POSTGRES".into());
            continue;
        }
        if ctx.args.wants("ingest") {
            ingest(&mut ctx, postgres, false).await;
            ingest(&mut ctx, postgres, true).await;
        }
        if ctx.args.wants("write-floor") {
            crate::write_floor::scenario(&mut ctx, postgres).await;
        }
    }
    if ctx.args.wants("graphql") {
        graphql_vs_rest(&mut ctx).await;
    }
    if ctx.args.wants("webhooks") {
        crate::webhooks::scenario(&mut ctx).await;
    }
    if ctx.args.wants("slow-connections") {
        slow_connections(&mut ctx).await;
    }
    if ctx.args.wants("fanout") {
        crate::fanout::scenario(&mut ctx, None).await;
        if let Some(pg) = ctx.args.postgres.clone() {
            crate::fanout::scenario(&mut ctx, Some(pg)).await;
        }
    }
    if ctx.args.wants("listing") {
        crate::listing::scenario(&mut ctx, None).await;
        if let Some(pg) = ctx.args.postgres.clone() {
            crate::listing::scenario(&mut ctx, Some(pg)).await;
        }
    }
    if ctx.args.wants("drain") {
        crate::drain::scenario(&mut ctx).await;
    }
    if ctx.args.wants("paths") {
        crate::paths::scenario(&mut ctx, None).await;
        if let Some(pg) = ctx.args.postgres.clone() {
            crate::paths::scenario(&mut ctx, Some(pg)).await;
        }
    }
    if ctx.args.soak > 0 {
        crate::soak::scenario(&mut ctx).await;
    }
    println!("\n{}\n", ctx.pinning.description);
    println!(
        "{} s per phase; closed loop with {} connections, then a fixed rate of half the closed-loop \
         rate (latency from the scheduled send); CPU and peak RSS are the measured process's.\n",
        ctx.args.secs, ctx.args.concurrency
    );
    println!("{}", stats::table(&ctx.rows));
    println!("{}", stats::ratios(&ratios(&ctx)));
    for note in &ctx.notes {
        println!("- {note}");
    }
}

/// The slowest p99 (ms) of the filtered first pages of scenario 9 on one backend.
fn worst_listing_p99(ctx: &Ctx, suffix: &str) -> Option<f64> {
    crate::listing::FILTERED
        .iter()
        .filter_map(|(name, _)| ctx.row(&format!("{name}{suffix}"), false))
        .filter_map(|r| r.latency.map(|l| l.p99))
        .reduce(f64::max)
}
