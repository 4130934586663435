//! Pull sources against a partner API simulator (axum on port 0): pages by token, a
//! bearer token, a 429 with `Retry-After`, a 500 in the middle of a run, and
//! consignments edited and cancelled between runs. Every consignment is stored once,
//! edits are applied, cancellations honoured, and the cursor never passes an item
//! that was not stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use freightgate::domain::Scope;
use freightgate::store::entities::order;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::{TestApp, assert_problem};

const TOKEN: &str = "pn-test-token-0001";
const PAGE: usize = 2;

/// The partner's consignments and the faults it is told to show.
#[derive(Default)]
struct Partner {
    consignments: Mutex<Vec<Value>>,
    /// Answer this page (0-based, within a run) with a 500, once.
    fail_page: Mutex<Option<usize>>,
    /// Answer the next request with 429 and `Retry-After: 1`, once.
    throttle: AtomicBool,
    requests: AtomicUsize,
    /// Never answer this page (0-based, within a run), and say so on `stalled`.
    stall: Mutex<Option<usize>>,
    stalled: tokio::sync::Notify,
    /// OAuth 2.0: tokens issued so far (`tok-1`, `tok-2`, …); with `oauth` set, the
    /// API takes tokens numbered `oldest_token` or later.
    oauth: AtomicBool,
    issued: AtomicUsize,
    oldest_token: AtomicUsize,
}

/// The token endpoint: client credentials in HTTP basic authentication
/// (`client-1:secret-1`), the grant type and the scope in the form body.
async fn token(State(partner): State<Arc<Partner>>, headers: HeaderMap, body: String) -> Response {
    let basic = headers.get("authorization").and_then(|v| v.to_str().ok());
    let mut fields: Vec<&str> = body.split('&').collect();
    fields.sort_unstable();
    if basic != Some("Basic Y2xpZW50LTE6c2VjcmV0LTE=")
        || fields != ["grant_type=client_credentials", "scope=consignments%3Aread"]
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let n = partner.issued.fetch_add(1, Ordering::SeqCst) + 1;
    axum::Json(
        json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": 3600}),
    )
    .into_response()
}

#[derive(serde::Deserialize)]
struct Params {
    updated_since: Option<String>,
    page_token: Option<usize>,
}

async fn consignments(
    State(partner): State<Arc<Partner>>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    partner.requests.fetch_add(1, Ordering::SeqCst);
    let presented = headers.get("authorization").and_then(|v| v.to_str().ok());
    let allowed = if partner.oauth.load(Ordering::SeqCst) {
        presented
            .and_then(|p| p.strip_prefix("Bearer tok-"))
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= partner.oldest_token.load(Ordering::SeqCst))
    } else {
        presented == Some(&format!("Bearer {TOKEN}"))
    };
    if !allowed {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if partner.throttle.swap(false, Ordering::SeqCst) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response();
    }
    let page = params.page_token.unwrap_or(0);
    {
        let mut fail = partner.fail_page.lock().await;
        if *fail == Some(page) {
            *fail = None;
            return (StatusCode::INTERNAL_SERVER_ERROR, "database timeout").into_response();
        }
    }
    if *partner.stall.lock().await == Some(page) {
        partner.stalled.notify_one();
        std::future::pending::<()>().await;
    }
    let since = params.updated_since.unwrap_or_default();
    let mut newer: Vec<Value> = partner
        .consignments
        .lock()
        .await
        .iter()
        .filter(|c| c["updated_at"].as_str().unwrap() > since.as_str())
        .cloned()
        .collect();
    newer.sort_by(|a, b| a["updated_at"].as_str().cmp(&b["updated_at"].as_str()));
    let slice: Vec<Value> = newer.iter().skip(page * PAGE).take(PAGE).cloned().collect();
    let next = (newer.len() > (page + 1) * PAGE).then_some(page + 1);
    axum::Json(json!({"consignments": slice, "next_page_token": next})).into_response()
}

async fn simulator(partner: Arc<Partner>) -> String {
    let app = axum::Router::new()
        .route("/v1/consignments", axum::routing::get(consignments))
        .route("/oauth/token", axum::routing::post(token))
        .with_state(partner);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn consignment(n: u32, updated_at: &str) -> Value {
    json!({
        "tracking_number": format!("4711{n:09}"),
        "customer": format!("CUST-{n}"),
        "pallets": n,
        "status": "BOOKED",
        "updated_at": updated_at,
    })
}

const RULES: &str = r#"
[[rule]]
name = "palletnet-consignment"
business = "palletnet"
operation = "create"
entity = "order"
identity = ["order_number"]
on_duplicate = "upsert"
match = { all = [{ path = "$.tracking_number", regex = "^4711\\d{9}$" }, { not = { path = "$.status", equals = "CANCELLED" } }] }

[rule.map]
order_number = "$.tracking_number"
customer = "$.customer"
direction = { value = "INBOUND" }

[rule.map.items]
path = "$"
map = { identifier = { value = "pallets" }, quantity = "$.pallets", quantity_unit = { value = "PALLET" } }

[[rule]]
name = "palletnet-consignment-cancelled"
business = "palletnet"
operation = "cancel"
entity = "order"
identity = ["order_number"]
match = { all = [{ path = "$.tracking_number", exists = true }, { path = "$.status", equals = "CANCELLED" }] }
map = { order_number = "$.tracking_number", notes = "$.reason" }
"#;

/// A directory holding `rules/` with the rules above and `sources/` with one source
/// pulling `base` every `every` with a bearer token from a file.
fn directories(base: &str, every: &str) -> tempfile::TempDir {
    directories_with(base, every, None)
}

/// [`directories`], with `auth` (a TOML inline table) instead of the bearer token.
fn directories_with(base: &str, every: &str, auth: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let sources = dir.path().join("sources");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(rules.join("palletnet.toml"), RULES).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    std::fs::write(
        sources.join("palletnet.toml"),
        format!(
            r#"
[[source]]
name = "palletnet-consignments"
business = "palletnet"
kind = "http"
every = "{every}"
url = "{base}/v1/consignments?updated_since={{cursor}}"
items = "$.consignments[*]"
auth = {}
cursor = {{ field = "$.updated_at" }}
next = {{ param = "page_token", from = "$.next_page_token" }}
attempts = 3
"#,
            auth.map(str::to_string).unwrap_or_else(|| format!(
                "{{ kind = \"bearer\", token_file = \"{}\" }}",
                token.display()
            ))
        ),
    )
    .unwrap();
    dir
}

/// A gateway with the rules above and one source pulling `base`, its schedule off
/// unless `scheduled`; the directories live as long as the returned guard.
async fn gateway(base: &str, every: &str, scheduled: bool) -> (TestApp, tempfile::TempDir) {
    let dir = directories(base, every);
    let rules = dir.path().join("rules");
    let sources = dir.path().join("sources");
    let app = TestApp::spawn_with(|c| {
        c.rules_dir = rules;
        c.sources_dir = sources;
        c.sources_scheduler = scheduled;
    })
    .await;
    (app, dir)
}

#[tokio::test]
async fn pulled_consignments_are_stored_once_with_edits_and_cancellations_and_the_cursor_never_passes_a_lost_page()
 {
    let partner = Arc::new(Partner::default());
    *partner.consignments.lock().await = (1..=5)
        .map(|n| consignment(n, &format!("2026-12-05T08:0{n}:00Z")))
        .collect();
    let base = simulator(partner.clone()).await;
    let (app, _dirs) = gateway(&base, "1h", false).await;
    let key = app.key("palletnet", &[Scope::Ingest, Scope::Read]).await;

    // The partner fails the second page: the first page's items and cursor are kept.
    *partner.fail_page.lock().await = Some(1);
    let failed = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(failed["outcome"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("500"),
        "{failed}"
    );
    assert_eq!(
        (failed["pages"].as_i64(), failed["created"].as_i64()),
        (Some(1), Some(2)),
        "{failed}"
    );
    assert_eq!(failed["cursor_after"], "2026-12-05T08:02:00Z", "{failed}");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 2);

    // The next run goes on from there, through a 429 it waits out.
    partner.throttle.store(true, Ordering::SeqCst);
    let resumed = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(resumed["outcome"], "succeeded", "{resumed}");
    assert_eq!(
        resumed["cursor_before"], "2026-12-05T08:02:00Z",
        "{resumed}"
    );
    assert_eq!(resumed["cursor_after"], "2026-12-05T08:05:00Z", "{resumed}");
    assert_eq!(
        (resumed["created"].as_i64(), resumed["rejected"].as_i64()),
        (Some(3), Some(0)),
        "{resumed}"
    );
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 5);

    // Between runs the partner edits one consignment and cancels another.
    {
        let mut all = partner.consignments.lock().await;
        all[2]["customer"] = json!("CUST-3-NEW");
        all[2]["updated_at"] = json!("2026-12-05T09:00:00Z");
        all[3]["status"] = json!("CANCELLED");
        all[3]["reason"] = json!("consignee closed");
        all[3]["updated_at"] = json!("2026-12-05T09:01:00Z");
    }
    let changes = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(changes["outcome"], "succeeded", "{changes}");
    assert_eq!(
        (
            changes["items"].as_i64(),
            changes["updated"].as_i64(),
            changes["created"].as_i64()
        ),
        (Some(2), Some(2), Some(0)),
        "{changes}"
    );
    // Nothing new: an empty page, the cursor where it was.
    let idle = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(
        (idle["items"].as_i64(), idle["cursor_after"].clone()),
        (Some(0), json!("2026-12-05T09:01:00Z")),
        "{idle}"
    );

    assert_eq!(
        order::Entity::find().count(&app.db).await.unwrap(),
        5,
        "each consignment stored once"
    );
    let orders: Value = app.get_json("/v1/orders?limit=10", &key).await;
    let by_number = |n: &str| {
        orders["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["order_number"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} in {orders}"))
    };
    assert_eq!(by_number("4711000000003")["customer"], "CUST-3-NEW");
    let cancelled = by_number("4711000000004");
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    assert_eq!(
        cancelled["cancel_reason"], "consignee closed",
        "{cancelled}"
    );

    // The runs, newest first, and the payloads they stored, each naming its run.
    let runs: Value = app
        .get_json("/v1/sources/palletnet-consignments/runs", &key)
        .await;
    let outcomes: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["succeeded", "succeeded", "succeeded", "failed"],
        "{runs}"
    );
    let pulled: Value = app.get_json("/v1/ingest?source=pull", &key).await;
    assert_eq!(pulled["items"].as_array().unwrap().len(), 4, "{pulled}");
    let listed: Value = app.get_json("/v1/sources", &key).await;
    assert_eq!(listed[0]["cursor"], "2026-12-05T09:01:00Z", "{listed}");
    assert_eq!(listed[0]["last_run"]["id"], runs[0]["id"], "{listed}");

    // The lag: now minus the cursor's time.
    let metrics = app.metrics().await;
    let lag: f64 = metrics
        .lines()
        .find(|l| {
            l.starts_with("freightgate_source_lag_seconds{source=\"palletnet-consignments\"}")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the lag gauge in {metrics}"));
    let since = (chrono::Utc::now()
        - chrono::DateTime::parse_from_rfc3339("2026-12-05T09:01:00Z")
            .unwrap()
            .to_utc())
    .num_seconds() as f64;
    // The recorder is the process's: other tests pull sources of the same name with
    // cursors of the same morning, so the gauge may hold one of theirs.
    assert!(
        (lag - since).abs() < 2.0 * 3600.0,
        "lag {lag} s, expected about {since} s"
    );
}

#[tokio::test]
async fn an_item_pulled_again_unchanged_is_left_alone_and_a_changed_one_is_an_update() {
    let partner = Arc::new(Partner::default());
    *partner.consignments.lock().await = (1..=3)
        .map(|n| consignment(n, "2026-12-05T08:00:00Z"))
        .collect();
    let base = simulator(partner.clone()).await;
    let dirs = directories(&base, "1h");
    // No cursor: every run pulls every consignment, told apart by tracking number.
    std::fs::write(
        dirs.path().join("sources/palletnet.toml"),
        format!(
            r#"
[[source]]
name = "palletnet-consignments"
business = "palletnet"
kind = "http"
every = "1h"
url = "{base}/v1/consignments"
items = "$.consignments[*]"
item_id = "$.tracking_number"
auth = {{ kind = "bearer", token_file = "{}" }}
next = {{ param = "page_token", from = "$.next_page_token" }}
"#,
            dirs.path().join("token").display()
        ),
    )
    .unwrap();
    let (rules, sources) = (dirs.path().join("rules"), dirs.path().join("sources"));
    let app = TestApp::spawn_with(|c| {
        c.rules_dir = rules;
        c.sources_dir = sources;
        c.sources_scheduler = false;
    })
    .await;
    let key = app.key("palletnet", &[Scope::Ingest, Scope::Read]).await;
    let payloads = async || {
        app.get_json("/v1/ingest?source=pull", &key).await["items"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let counts = |run: &Value| {
        (
            run["items"].as_i64(),
            run["created"].as_i64(),
            run["updated"].as_i64(),
            run["unchanged"].as_i64(),
        )
    };
    let first = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(
        counts(&first),
        (Some(3), Some(3), Some(0), Some(0)),
        "{first}"
    );
    assert_eq!(payloads().await, 2, "two pages, two payloads");

    let again = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(
        counts(&again),
        (Some(3), Some(0), Some(0), Some(3)),
        "{again}"
    );
    assert_eq!(payloads().await, 2, "nothing stored for unchanged items");

    partner.consignments.lock().await[1]["customer"] = json!("CUST-2-NEW");
    let edited = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(
        counts(&edited),
        (Some(3), Some(0), Some(1), Some(2)),
        "{edited}"
    );
    assert_eq!(payloads().await, 3);
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 3);
    let graphql: Value = app
        .post_json(
            "/graphql",
            &key,
            &json!({"query": "{ pullSourceRuns(name: \"palletnet-consignments\", first: 1) { unchanged updated } }"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        graphql["data"]["pullSourceRuns"][0],
        json!({"unchanged": 2, "updated": 1}),
        "{graphql}"
    );
}

#[tokio::test]
async fn a_source_runs_on_its_schedule_and_pause_stops_it() {
    let partner = Arc::new(Partner::default());
    *partner.consignments.lock().await = vec![consignment(1, "2026-12-05T08:01:00Z")];
    let base = simulator(partner.clone()).await;
    let (app, _dirs) = gateway(&base, "1s", true).await;
    let key = app.key("palletnet", &[Scope::Ingest, Scope::Read]).await;
    let runs = async || -> usize {
        app.get_json("/v1/sources/palletnet-consignments/runs", &key)
            .await
            .as_array()
            .map_or(0, Vec::len)
    };
    let mut seen = 0;
    for _ in 0..100 {
        seen = runs().await;
        if seen >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen >= 2, "two scheduled runs within 10 s, saw {seen}");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 1);
    let paused: Value = app
        .client
        .post(app.url("/v1/sources/palletnet-consignments/pause"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paused["paused"], true, "{paused}");
    // A run under way when it was paused may still end; after that, none starts.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let before = runs().await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(runs().await, before, "no run while paused");
}

#[tokio::test]
async fn another_business_does_not_see_the_source_and_a_bad_source_file_stops_start_up() {
    let partner = Arc::new(Partner::default());
    let base = simulator(partner).await;
    let (app, _dirs) = gateway(&base, "1h", false).await;
    let other = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;
    let listed: Value = app.get_json("/v1/sources", &other).await;
    assert_eq!(listed, json!([]));
    let response = app
        .client
        .post(app.url("/v1/sources/palletnet-consignments/run"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[source]]\nname = \"x\"\nbusiness = \"b\"\nkind = \"ftp\"\nevery = \"1h\"\nurl = \"http://127.0.0.1/\"\nitems = \"$[*]\"\n",
    )
    .unwrap();
    let mut config = crate::support::config_for("sqlite::memory:");
    config.sources_dir = dir.path().to_path_buf();
    let error = freightgate::load_sources(&config)
        .err()
        .expect("a bad source file");
    assert!(
        error
            .to_string()
            .contains("bad.toml:1: source 'x': kind: unknown kind `ftp`"),
        "{error}"
    );
}

const BIN: &str = env!("CARGO_BIN_EXE_freightgate");

/// `freightgate serve` on `database_url` with the directories of [`directories`].
fn serve(database_url: &str, dirs: &std::path::Path, port: u16) -> std::process::Child {
    std::process::Command::new(BIN)
        .arg("serve")
        .current_dir(dirs)
        .env("DATABASE_URL", database_url)
        .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("FREIGHTGATE_RULES_DIR", dirs.join("rules"))
        .env("FREIGHTGATE_SOURCES_DIR", dirs.join("sources"))
        .env("FREIGHTGATE_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_kill_9_in_the_middle_of_a_run_loses_nothing_and_stores_nothing_twice() {
    use std::time::{Duration, Instant};
    let partner = Arc::new(Partner::default());
    *partner.consignments.lock().await = (1..=5)
        .map(|n| consignment(n, &format!("2026-12-05T08:0{n}:00Z")))
        .collect();
    // The run stores its first page, then hangs on the second.
    *partner.stall.lock().await = Some(1);
    let base = simulator(partner.clone()).await;
    let dirs = directories(&base, "1h");
    let database = crate::support::TestDb::new().await;
    let created = std::process::Command::new(BIN)
        .args([
            "keys",
            "create",
            "--business",
            "palletnet",
            "--scopes",
            "ingest,read",
        ])
        .env("DATABASE_URL", &database.url)
        .env("FREIGHTGATE_LOG", "warn")
        .output()
        .unwrap();
    let key = String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The schedule runs the source at start-up: it never ran.
    let mut first = serve(&database.url, dirs.path(), port);
    tokio::time::timeout(Duration::from_secs(30), partner.stalled.notified())
        .await
        .expect("the scheduled run reached the second page");
    let db = database.connect().await;
    assert_eq!(
        order::Entity::find().count(&db).await.unwrap(),
        2,
        "the first page was stored"
    );
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    *partner.stall.lock().await = None;
    let mut second = serve(&database.url, dirs.path(), port);
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/v1/sources/palletnet-consignments/run");
    let started = Instant::now();
    // The dead instance's lease lapses within 15 s; until then the source is busy.
    let run: Value = loop {
        match client.post(&url).bearer_auth(&key).send().await {
            Ok(r) if r.status() == 200 => break r.json().await.unwrap(),
            Ok(r) => assert_eq!(r.status(), 409, "busy until the lease lapses"),
            Err(_) => {} // not serving yet
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the source never ran again"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(run["cursor_before"], "2026-12-05T08:02:00Z", "{run}");
    assert_eq!(run["created"], 3, "{run}");
    assert_eq!(
        order::Entity::find().count(&db).await.unwrap(),
        5,
        "each consignment once"
    );
    let runs: Value = client
        .get(format!(
            "http://127.0.0.1:{port}/v1/sources/palletnet-consignments/runs"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs[1]["outcome"], "failed", "{runs}");
    assert!(
        runs[1]["error"]
            .as_str()
            .unwrap()
            .contains("stopped without finishing"),
        "{runs}"
    );
    second.kill().unwrap();
    second.wait().unwrap();
}

#[tokio::test]
async fn graphql_runs_lists_and_pauses_the_same_sources() {
    let partner = Arc::new(Partner::default());
    *partner.consignments.lock().await = vec![
        consignment(1, "2026-12-05T08:01:00Z"),
        consignment(2, "2026-12-05T08:02:00Z"),
        consignment(3, "2026-12-05T08:03:00Z"),
    ];
    let base = simulator(partner).await;
    let (app, _dirs) = gateway(&base, "1h", false).await;
    let key = app.key("palletnet", &[Scope::Ingest, Scope::Read]).await;
    let ran = crate::graphql::data(
        &app,
        &key,
        r#"mutation { runPullSource(name: "palletnet-consignments") { id outcome pages items created cursorAfter } }"#,
        json!({}),
    )
    .await;
    let run = &ran["runPullSource"];
    assert_eq!(
        (
            run["outcome"].clone(),
            run["pages"].clone(),
            run["created"].clone()
        ),
        (json!("succeeded"), json!(2), json!(3)),
        "{ran}"
    );
    let paused = crate::graphql::data(
        &app,
        &key,
        r#"mutation { pausePullSource(name: "palletnet-consignments", paused: true) { paused } }"#,
        json!({}),
    )
    .await;
    assert_eq!(paused["pausePullSource"]["paused"], true, "{paused}");
    let listed = crate::graphql::data(
        &app,
        &key,
        r#"{ pullSources { name paused cursor lastRun { id } } pullSourceRuns(name: "palletnet-consignments") { id outcome } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        listed["pullSources"],
        json!([{"name": "palletnet-consignments", "paused": true, "cursor": "2026-12-05T08:03:00Z", "lastRun": {"id": run["id"]}}]),
        "{listed}"
    );
    assert_eq!(listed["pullSourceRuns"][0]["id"], run["id"], "{listed}");
    // Another business sees none, and cannot run it.
    let other = app.key("northwind", &[Scope::Ingest, Scope::Read]).await;
    let (_, answer) = crate::graphql::post(
        &app,
        &other,
        r#"mutation { runPullSource(name: "palletnet-consignments") { id } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "not_found",
        "{answer}"
    );
}

#[tokio::test]
async fn oauth2_client_credentials_are_exchanged_once_reused_across_pages_and_renewed_when_refused()
{
    let partner = Arc::new(Partner::default());
    partner.oauth.store(true, Ordering::SeqCst);
    partner.oldest_token.store(1, Ordering::SeqCst);
    *partner.consignments.lock().await = (1..=5)
        .map(|n| consignment(n, &format!("2026-12-05T08:0{n}:00Z")))
        .collect();
    let base = simulator(partner.clone()).await;
    let secrets = tempfile::tempdir().unwrap();
    let id = secrets.path().join("id");
    let secret = secrets.path().join("secret");
    std::fs::write(&id, "client-1\n").unwrap();
    std::fs::write(&secret, "secret-1").unwrap();
    let auth = format!(
        r#"{{ kind = "oauth2", token_url = "{base}/oauth/token", client_id_file = "{}", client_secret_file = "{}", scope = "consignments:read" }}"#,
        id.display(),
        secret.display()
    );
    let dirs = directories_with(&base, "1h", Some(&auth));
    let app = TestApp::spawn_with(|c| {
        c.rules_dir = dirs.path().join("rules");
        c.sources_dir = dirs.path().join("sources");
        c.sources_scheduler = false;
    })
    .await;
    let key = app.key("palletnet", &[Scope::Ingest, Scope::Read]).await;
    let first = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(
        (
            first["outcome"].clone(),
            first["pages"].clone(),
            first["created"].clone()
        ),
        (json!("succeeded"), json!(3), json!(5)),
        "{first}"
    );
    assert_eq!(
        partner.issued.load(Ordering::SeqCst),
        1,
        "one token for the three pages"
    );
    let again = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(again["outcome"], "succeeded", "{again}");
    assert_eq!(
        partner.issued.load(Ordering::SeqCst),
        1,
        "the token is kept between runs"
    );
    // The partner stops taking the token: the next request gets a new one.
    partner.oldest_token.store(2, Ordering::SeqCst);
    let renewed = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(renewed["outcome"], "succeeded", "{renewed}");
    assert_eq!(partner.issued.load(Ordering::SeqCst), 2);
    // Wrong client credentials: the run fails and says what the token endpoint said.
    std::fs::write(&secret, "wrong").unwrap();
    partner.oldest_token.store(3, Ordering::SeqCst);
    let refused = app.run_source(&key, "palletnet-consignments").await;
    assert_eq!(refused["outcome"], "failed", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("the token endpoint answered 401"),
        "{refused}"
    );
}
