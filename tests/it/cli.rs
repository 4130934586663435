//! The `freightgate` binary as operators run it.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{TestApp, TestDb, assert_problem};

const BIN: &str = env!("CARGO_BIN_EXE_freightgate");

fn freightgate(database_url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("FREIGHTGATE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run freightgate")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn keys_create_prints_the_key_alone_on_the_last_line_and_it_works() {
    let app = TestApp::spawn().await;
    let output = freightgate(
        &app.database.url,
        &["keys", "create", "--business", "northwind"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    let key = text.lines().last().unwrap();
    assert!(key.starts_with("fgk_") && !key.contains(' '), "{text}");
    assert!(
        text.contains("ingest,read,write,webhooks"),
        "default scopes: {text}"
    );
    assert_problem(app.get("/v1/shipments/1", key).await, 404, "not_found").await;
    let anonymous = app
        .client
        .get(app.url("/v1/shipments/1"))
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401, "unauthorized").await;
}

#[tokio::test]
async fn keys_list_shows_prefixes_never_keys_and_revoke_disables_one() {
    let app = TestApp::spawn().await;
    let created = freightgate(
        &app.database.url,
        &[
            "keys",
            "create",
            "--business",
            "acme",
            "--scopes",
            "read,admin",
        ],
    );
    let key = stdout(&created).lines().last().unwrap().to_string();
    let listed = stdout(&freightgate(&app.database.url, &["keys", "list"]));
    assert!(
        listed.contains("acme") && listed.contains("read,admin") && listed.contains("active"),
        "{listed}"
    );
    assert!(
        listed.contains(&key[..12]) && !listed.contains(&key),
        "{listed}"
    );
    let revoked = freightgate(&app.database.url, &["keys", "revoke", "1"]);
    assert!(revoked.status.success());
    assert!(stdout(&freightgate(&app.database.url, &["keys", "list"])).contains("revoked"));
    assert_problem(app.get("/v1/shipments/1", &key).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn keys_create_rejects_unknown_scopes_naming_the_accepted_ones() {
    let database = TestDb::new().await;
    let output = freightgate(
        &database.url,
        &["keys", "create", "--business", "acme", "--scopes", "root"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("root") && stderr.contains("ingest, read, write, webhooks, admin"),
        "{stderr}"
    );
}

#[tokio::test]
async fn migrate_applies_the_schema_once() {
    let database = TestDb::new().await;
    let first = freightgate(&database.url, &["migrate"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let first = stdout(&first);
    assert!(
        first.starts_with("Applied ") && !first.starts_with("Applied 0"),
        "{first}"
    );
    let second = freightgate(&database.url, &["migrate"]);
    assert!(
        stdout(&second).contains("Applied 0 migration"),
        "{}",
        stdout(&second)
    );
}

#[test]
fn an_invalid_setting_stops_start_up_naming_it_and_its_accepted_values() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env("FREIGHTGATE_LOG_FORMAT", "yaml")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FREIGHTGATE_LOG_FORMAT"), "{stderr}");
    assert!(
        stderr.contains("text") && stderr.contains("json"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("freightgate.db").exists(),
        "nothing is created on a bad config"
    );
}

#[test]
fn an_unknown_setting_in_the_config_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("freightgate.toml"),
        "lisen = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .arg("migrate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("lisen") && stderr.contains("listen"),
        "{stderr}"
    );
}

#[test]
fn a_database_that_refuses_connections_is_named_as_such_without_its_password() {
    let port = free_port();
    let url = format!("postgres://fg:hunter2@127.0.0.1:{port}/fg");
    let output = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("FREIGHTGATE_DB_ACQUIRE_TIMEOUT_MS", "500")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("pool timed out"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// The shipped rules beside the database, as in a checkout.
fn copy_rules_into(dir: &std::path::Path) {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    std::fs::create_dir(dir.join("rules")).unwrap();
    for entry in std::fs::read_dir(rules).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join("rules").join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Waits (20 s at most) until the server at `base` answers `/readyz` with 200.
async fn wait_until_ready(base: &str) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn serve_with_zero_config_creates_a_wal_sqlite_file_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    copy_rules_into(dir.path());
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_ready(&format!("http://127.0.0.1:{port}")).await;
    assert!(dir.path().join("freightgate.db").exists());
    assert!(dir.path().join("freightgate.db-wal").exists(), "WAL mode");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn rules_check_and_test_pass_on_the_shipped_rules() {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let check = Command::new(BIN)
        .args(["rules", "check", rules])
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(stdout(&check).contains(" 0 error(s)"), "{}", stdout(&check));
    let test = Command::new(BIN)
        .args(["rules", "test", rules])
        .output()
        .unwrap();
    assert!(test.status.success(), "{}", stdout(&test));
    assert!(stdout(&test).contains(" 0 failed"), "{}", stdout(&test));
}

#[test]
fn rules_list_shows_the_rules_per_business_and_says_when_a_business_has_none() {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let run = |args: &[&str]| {
        let output = Command::new(BIN)
            .args(["rules", "list", rules])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout(&output)
    };
    let all = run(&[]);
    assert!(
        all.lines()
            .any(|l| l.starts_with("northwind ") && l.contains("northwind-wms-shipment")),
        "{all}"
    );
    assert!(all.contains("bavaria"), "{all}");
    assert!(all.contains("(every business)"), "{all}");
    let northwind = run(&["--business", "northwind"]);
    assert!(!northwind.contains("bavaria"), "{northwind}");
    assert!(northwind.contains("northwind-wms-shipment"), "{northwind}");
    assert!(northwind.contains("(every business)"), "{northwind}");
    // Rules for every business apply to a new business too; its own, none.
    let new = run(&["--business", "northwnd"]);
    assert!(!new.lines().any(|l| l.starts_with("northwind ")), "{new}");
    assert!(
        new.contains("no rule is written for business `northwnd` itself"),
        "{new}"
    );
    assert!(new.contains("bavaria-buero, nordlicht, northwind"), "{new}");
}

#[test]
fn rules_check_lists_every_problem_with_file_and_rule_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "[[rule]]\nname = \"first\"\noperation = \"create\"\nentity = \"order\"\nmatch = { path = \"$.a\", regex = \"(\" }\nmap = { order_number = \"$.a\" }\n\n[[rule]]\nname = \"second\"\noperation = \"create\"\nentity = \"order\"\nmatch = { path = \"$.b\", exists = true }\nmap = { no_such_field = \"$.b\" }\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["rules", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = stdout(&output);
    assert!(
        text.contains("broken.toml") && text.contains("first"),
        "{text}"
    );
    assert!(
        text.contains("second") && text.contains("no_such_field"),
        "{text}"
    );
}

#[test]
fn sources_check_describes_each_source_warns_of_unreadable_credentials_and_fails_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("partner.toml"),
        "[[source]]\nname = \"partner-orders\"\nbusiness = \"northwind\"\nkind = \"http\"\nevery = \"30m\"\nurl = \"https://partner.example/v1/orders?since={cursor}\"\nitems = \"$.orders[*]\"\ncursor = { field = \"$.changed_at\" }\nauth = { kind = \"bearer\", token_env = \"FREIGHTGATE_TEST_UNSET_PARTNER_TOKEN\" }\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["sources", "check"])
        .arg(dir.path())
        .env_remove("FREIGHTGATE_TEST_UNSET_PARTNER_TOKEN")
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("source 'partner-orders' (partner.toml): http, business northwind, every 30m, https://partner.example/v1/orders, items $.orders[*], cursor $.changed_at"),
        "{text}"
    );
    assert!(
        text.contains("warning: source 'partner-orders': the environment variable `FREIGHTGATE_TEST_UNSET_PARTNER_TOKEN` is not set"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("broken.toml"),
        "[[source]]\nname = \"Bad Name\"\nbusiness = \"northwind\"\nkind = \"http\"\nevery = \"soon\"\nurl = \"ftp://x\"\nitems = \"orders\"\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["sources", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(!output.status.success(), "{text}");
    for key in ["name", "every", "url", "items"] {
        assert!(
            text.contains(&format!("error: broken.toml:1: source 'Bad Name': {key}: ")),
            "{key}: {text}"
        );
    }
}

#[test]
fn sources_test_reads_a_recorded_page_through_the_rules_and_fails_on_a_refused_item() {
    let root = env!("CARGO_MANIFEST_DIR");
    let examples = format!("{root}/examples/sources");
    let page = format!("{root}/tests/feeds/pull/pallet-network-page.json");
    let run = |page: &str| {
        Command::new(BIN)
            .args([
                "sources",
                "test",
                "pallet-network-consignments",
                page,
                "--dir",
                &examples,
            ])
            .env("FREIGHTGATE_RULES_DIR", format!("{root}/rules"))
            .output()
            .unwrap()
    };
    let output = run(&page);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    for line in [
        "2 item(s) at $.consignments[*]",
        "item 1: rule `pallet-network-consignment`: create order",
        "item 2: rule `pallet-network-consignment`: create order",
        "cursor after this page: 2026-12-05T08:03:40Z",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    // A tracking number that does not start with the depot code is refused.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("page.json");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&page)
            .unwrap()
            .replace("3129900000002", "9999900000002"),
    )
    .unwrap();
    let output = run(bad.to_str().unwrap());
    let text = stdout(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains(
            "item 2: rule `pallet-network-consignment`: create order, refused: pattern_mismatch"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn sighup_reloads_the_rules_of_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    let port = free_port();
    let database_url = format!("sqlite://{}", dir.path().join("fg.db").display());
    let key = stdout(&freightgate(
        &database_url,
        &["keys", "create", "--business", "acme"],
    ))
    .lines()
    .last()
    .unwrap()
    .to_string();
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env("DATABASE_URL", &database_url)
        .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("FREIGHTGATE_RULES_POLL_MS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let post = || {
        client
            .post(format!("http://127.0.0.1:{port}/v1/ingest"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"ref": "R-1"}))
            .send()
    };
    let started = Instant::now();
    let first = loop {
        if let Ok(response) = post().await {
            break response.status().as_u16();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(first, 422, "no rules yet");
    std::fs::write(
        dir.path().join("rules/ref.toml"),
        "[[rule]]\nname = \"ref\"\noperation = \"create\"\nentity = \"order\"\nmatch = { path = \"$.ref\", exists = true }\nmap = { order_number = \"$.ref\", customer = { value = \"X\" } }\n",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        post().await.unwrap().status(),
        422,
        "polling is off: nothing changes before SIGHUP"
    );
    Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    while post().await.unwrap().status() != 201 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload the rules"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_push_interrupted_by_kill_9_is_delivered_after_restart_with_its_webhook_id() {
    use crate::webhooks::receiver::Receiver;
    let dir = tempfile::tempdir().unwrap();
    copy_rules_into(dir.path());
    let database_url = format!("sqlite://{}", dir.path().join("fg.db").display());
    let key = stdout(&freightgate(
        &database_url,
        &["keys", "create", "--business", "acme"],
    ))
    .lines()
    .last()
    .unwrap()
    .to_string();
    let receiver = Receiver::start().await;
    receiver.slow(Duration::from_secs(30));
    let start = |port: u16| {
        Command::new(BIN)
            .arg("serve")
            .current_dir(dir.path())
            .env("DATABASE_URL", &database_url)
            .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8")
            .env("FREIGHTGATE_WEBHOOKS_TIMEOUT_MS", "1000")
            .env(
                "FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE",
                "0s,100ms,100ms,100ms",
            )
            .env("FREIGHTGATE_WEBHOOKS_POLL_MS", "25")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let port = free_port();
    let mut first = start(port);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let endpoint = serde_json::json!({"url": receiver.url, "event_types": ["order.created"]});
    let response = client
        .post(format!("{base}/v1/webhooks/endpoints"))
        .bearer_auth(&key)
        .json(&endpoint)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let feed = crate::ingest::feed("tms-order-create.json");
    let response = client
        .post(format!("{base}/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(feed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let first_push = receiver
        .wait_for(Duration::from_secs(10), |p| !p.is_empty())
        .await;
    Command::new("kill")
        .args(["-9", &first.id().to_string()])
        .status()
        .unwrap();
    first.wait().unwrap();
    receiver.slow(Duration::ZERO);
    let port = free_port();
    let mut second = start(port);
    let pushes = receiver
        .wait_for(Duration::from_secs(20), |p| p.len() >= 2)
        .await;
    assert_eq!(
        pushes[1].header("webhook-id"),
        first_push[0].header("webhook-id")
    );
    second.kill().unwrap();
    second.wait().unwrap();
}

/// A served gateway that is killed however the test ends, so a failing assertion
/// does not leave it running (holding the test's output open).
struct Served(std::process::Child);

impl Served {
    /// `freightgate serve` on `database_url` with the shipped rules on a free port,
    /// `configure`d further (environment, stderr); returns once `/readyz` answers 200,
    /// with the server's base URL.
    async fn start(database_url: &str, configure: impl FnOnce(&mut Command)) -> (Self, String) {
        let port = free_port();
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("FREIGHTGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "FREIGHTGATE_RULES_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/rules"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        configure(&mut command);
        let served = Served(command.spawn().unwrap());
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&base).await;
        (served, base)
    }

    /// SIGTERM, then waits for the exit.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn no_log_level_writes_an_api_key_not_even_trace() {
    use futures_util::SinkExt;
    let database = TestDb::new().await;
    let created = freightgate(
        &database.url,
        &["keys", "create", "--business", "northwind"],
    );
    let key = stdout(&created).lines().last().unwrap().to_string();
    let log = tempfile::NamedTempFile::new().unwrap();
    let stderr = log.reopen().unwrap();
    let (served, base) = Served::start(&database.url, |command| {
        command.env("RUST_LOG", "trace").stderr(stderr);
    })
    .await;
    let client = reqwest::Client::new();
    // The key over HTTP, over the websocket's connection_init, and a query there.
    let answer = client
        .get(format!("{base}/v1/shipments"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let mut socket = crate::support::graphql_ws(&base, &key).await;
    let query =
        serde_json::json!({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}});
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            query.to_string(),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(socket);
    served.stop();
    let written = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        written.contains("started processing request"),
        "verbose logging is not on: {written}"
    );
    let secret = &key[4..];
    assert!(
        !written.contains(secret),
        "the API key is in the trace log: {}",
        written.lines().find(|l| l.contains(secret)).unwrap_or("")
    );
}

#[tokio::test]
async fn pushes_ignore_proxy_variables_from_the_environment() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let database = TestDb::new().await;
    let created = freightgate(
        &database.url,
        &["keys", "create", "--business", "northwind"],
    );
    let key = stdout(&created).lines().last().unwrap().to_string();
    // A "proxy" that counts the connections it is offered and answers none.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let offered = Arc::new(AtomicUsize::new(0));
    let counter = offered.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = proxy.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let receiver = crate::webhooks::receiver::Receiver::start().await;
    let (served, base) = Served::start(&database.url, |command| {
        command
            .env("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8")
            .env("FREIGHTGATE_LOG", "warn")
            .env("HTTP_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("ALL_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy");
    })
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let registered = client
        .post(format!("{base}/v1/webhooks/endpoints"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"url": receiver.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let ingested = client
        .post(format!("{base}/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(crate::ingest::feed("wms-shipment-with-orders.json"))
        .send()
        .await
        .unwrap();
    assert!(ingested.status().is_success());
    let started = Instant::now();
    while receiver.pushes().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no push arrived (the proxy was offered {} connections)",
            offered.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    served.stop();
    assert_eq!(
        offered.load(Ordering::SeqCst),
        0,
        "a push went to the proxy"
    );
}

#[tokio::test]
async fn keys_create_for_a_misspelt_business_asks_instead_of_creating_it() {
    let database = TestDb::new().await;
    let first = freightgate(
        &database.url,
        &["keys", "create", "--business", "northwind"],
    );
    assert!(first.status.success());
    let typo = freightgate(&database.url, &["keys", "create", "--business", "northwnd"]);
    assert!(
        !typo.status.success(),
        "a key for a misspelt business was created"
    );
    let said = String::from_utf8_lossy(&typo.stderr);
    assert!(said.contains("did you mean `northwind`"), "{said}");
    assert!(said.contains("--new-business"), "{said}");
    let listed = stdout(&freightgate(&database.url, &["keys", "list"]));
    assert!(!listed.contains("northwnd"), "{listed}");
    // Meant it: created.
    let meant = freightgate(
        &database.url,
        &["keys", "create", "--business", "northwnd", "--new-business"],
    );
    assert!(
        meant.status.success(),
        "{}",
        String::from_utf8_lossy(&meant.stderr)
    );
    // Nothing close: created without asking.
    let other = freightgate(&database.url, &["keys", "create", "--business", "bavaria"]);
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
}

#[tokio::test]
async fn metrics_to_alert_on_hold_between_retries_and_every_one_has_help() {
    let database = TestDb::new().await;
    let created = freightgate(&database.url, &["keys", "create", "--business", "acme"]);
    let key = stdout(&created).lines().last().unwrap().to_string();
    let log = tempfile::NamedTempFile::new().unwrap();
    let stderr = log.reopen().unwrap();
    let (served, base) = Served::start(&database.url, |command| {
        command
            .env("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.0/8")
            // One attempt now, the retry an hour later: the endpoint stays failing.
            .env("FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE", "0s,1h")
            .env("FREIGHTGATE_LOG_FORMAT", "json")
            .stderr(stderr);
    })
    .await;
    let client = reqwest::Client::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    let registered = client
        .post(format!("{base}/v1/webhooks/endpoints"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"url": dead}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let answer = client
        .post(format!("{base}/v1/ingest"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(crate::ingest::feed("tms-order-create.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let request_id = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let ack: serde_json::Value = answer.json().await.unwrap();
    let logging_id = ack["logging_id"].as_str().unwrap().to_string();

    let started = std::time::Instant::now();
    loop {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The counter moves when the push fails, the queue's gauges once the attempt
        // log has committed it: wait for both.
        if text.contains(r#"freightgate_webhook_attempts_total{outcome="failed"} 1"#)
            && text.contains("freightgate_webhook_endpoints_failing 1")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no failed attempt counted and recorded: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Scraped again after the attempt: the queue as it stands between retries.
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"freightgate_ingest_payloads_total{outcome="accepted",rule="tms-order-create"} 1"#,
        "freightgate_webhook_endpoints_failing 1",
        "freightgate_webhook_backlog 1",
        "freightgate_webhook_dead_letters 0",
        r#"freightgate_build_info{version=""#,
        "freightgate_rules_loaded ",
        r#"freightgate_rules_info{version=""#,
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    let age: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("freightgate_webhook_oldest_pending_age_seconds "))
        .expect("oldest pending age")
        .parse()
        .unwrap();
    assert!(age > 0.0 && age < 60.0, "{age}");
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(typed) = line.strip_prefix("# TYPE ") {
            let name = typed.split(' ').next().unwrap();
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} has no HELP"
            );
        }
        if !line.starts_with('#') {
            assert!(line.starts_with("freightgate_"), "unprefixed: {line}");
        }
    }
    served.stop();

    // The acknowledgement's log line names the request and the payload.
    let written = std::fs::read_to_string(log.path()).unwrap();
    let line = written
        .lines()
        .find(|l| l.contains("payload acknowledged"))
        .unwrap_or_else(|| panic!("no acknowledgement logged: {written}"));
    assert!(line.contains(&logging_id), "{line}");
    assert!(line.contains(&request_id), "{line}");
}

#[test]
fn every_metric_in_the_code_is_described_and_prefixed() {
    let described: Vec<&str> = freightgate::telemetry::METRICS
        .iter()
        .map(|(name, _, _)| *name)
        .collect();
    let macro_call =
        regex::Regex::new(r#"metrics::(counter|gauge|histogram)!\(\s*"([a-z_]+)""#).unwrap();
    let mut used = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for found in macro_call.captures_iter(&text) {
                    used.push((found[2].to_string(), path.display().to_string()));
                }
            }
        }
    }
    assert!(used.len() > 10, "the scan found the metrics: {used:?}");
    for (name, file) in used {
        assert!(name.starts_with("freightgate_"), "{name} in {file}");
        assert!(
            described.contains(&name.as_str()),
            "{name} in {file} has no HELP in telemetry::METRICS"
        );
    }
}

#[tokio::test]
async fn keys_create_binds_a_customer_key_to_a_customer_party() {
    let app = TestApp::spawn().await;
    let tenant = app
        .key("northwind", &[freightgate::domain::Scope::Write])
        .await;
    let put = app
        .client
        .put(app.url("/v1/parties/HENDRIKS"))
        .bearer_auth(&tenant)
        .json(&serde_json::json!({"role": "CUSTOMER"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let url = &app.database.url;
    let missing = freightgate(
        url,
        &[
            "keys",
            "create",
            "--business",
            "northwind",
            "--role",
            "customer",
        ],
    );
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("--role customer needs --party CODE")
    );
    let unknown = freightgate(
        url,
        &[
            "keys",
            "create",
            "--business",
            "northwind",
            "--role",
            "customer",
            "--party",
            "NOBODY",
        ],
    );
    assert!(!unknown.status.success());
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        said.contains("party `NOBODY` is not a party of the business"),
        "{said}"
    );
    let created = freightgate(
        url,
        &[
            "keys",
            "create",
            "--business",
            "northwind",
            "--role",
            "customer",
            "--party",
            "HENDRIKS",
        ],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let text = stdout(&created);
    assert!(
        text.contains("acting for customer `HENDRIKS` only"),
        "{text}"
    );
    let key = text.lines().last().unwrap();
    let refused = app.get("/v1/messages?since=0", key).await;
    assert_problem(refused, 403, "forbidden").await;
    let orders = app.get("/v1/orders", key).await;
    assert_eq!(orders.status(), 200);
    let listed = stdout(&freightgate(url, &["keys", "list"]));
    assert!(listed.contains("customer HENDRIKS"), "{listed}");

    // A subcontractor key needs a subcontractor party: a customer is refused.
    let args = |party: &'static str| {
        [
            "keys",
            "create",
            "--business",
            "northwind",
            "--role",
            "subcontractor",
            "--party",
            party,
        ]
    };
    let wrong = freightgate(url, &args("HENDRIKS"));
    assert!(!wrong.status.success());
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("is not a subcontractor"), "{said}");
    let put = app
        .client
        .put(app.url("/v1/parties/VANDIJK"))
        .bearer_auth(&tenant)
        .json(&serde_json::json!({"role": "SUBCONTRACTOR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let created = freightgate(url, &args("VANDIJK"));
    let text = stdout(&created);
    assert!(
        text.contains("acting for subcontractor `VANDIJK` only"),
        "{text}"
    );
    let key = text.lines().last().unwrap();
    let shipments = app.get_json("/v1/shipments", key).await;
    assert_eq!(shipments["items"], serde_json::json!([]), "{shipments}");
    let listed = stdout(&freightgate(url, &["keys", "list"]));
    assert!(listed.contains("subcontractor VANDIJK"), "{listed}");
}

/// The `THP_enabled` line of a process's `/proc/PID/status`: 0 when transparent
/// huge pages are off for it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn thp_enabled(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("THP_enabled:"))
        .expect("the kernel reports THP_enabled")
        .trim()
        .to_string()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn the_server_runs_without_transparent_huge_pages_unless_mimalloc_allow_thp_is_set() {
    let database = TestDb::new().await;
    let (served, _) = Served::start(&database.url, |command| {
        command.env_remove("MIMALLOC_ALLOW_THP");
    })
    .await;
    assert_eq!(
        thp_enabled(served.0.id()),
        "0",
        "huge pages are on by default"
    );
    served.stop();
    let (served, _) = Served::start(&database.url, |command| {
        command.env("MIMALLOC_ALLOW_THP", "1");
    })
    .await;
    assert_eq!(
        thp_enabled(served.0.id()),
        "1",
        "MIMALLOC_ALLOW_THP=1 does not keep them"
    );
    served.stop();
}
