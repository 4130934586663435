//! Starting the app against a fresh database and talking to it.

use std::path::PathBuf;
use std::time::Duration;

use freightgate::Config;
use freightgate::domain::{Scope, Slug};
use freightgate::store::{self, Db};
use sea_orm::{ConnectionTrait, Database};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A fresh database: a temporary SQLite file, or a uniquely named PostgreSQL
/// database created from `TEST_DATABASE_URL` and dropped afterwards.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(admin_url).await,
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path: PathBuf = dir.path().join("freightgate.db");
                Self {
                    url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    pg_drop: None,
                }
            }
        }
    }

    async fn postgres(admin_url: String) -> Self {
        let name = format!("fg_test_{}", uuid::Uuid::now_v7().simple());
        // Under CI an unreachable PostgreSQL must fail the run, never skip it.
        let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
        });
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let prefix = &base[..base.rfind('/').expect("database URL has a path") + 1];
        Self {
            url: format!("{prefix}{name}"),
            _dir: None,
            pg_drop: Some((admin_url, name)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_drop.is_some()
    }

    /// A migrated connection to this database.
    pub async fn connect(&self) -> Db {
        let config = config_for(&self.url);
        let db = store::connect(&config).await.expect("connect");
        store::migrate(&db).await.expect("migrate");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg_drop.take() else {
            return;
        };
        // Drop runs outside any runtime we may block, so use a thread of our own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin.execute_unprepared(&sql).await;
                    admin.close().await.ok();
                }
            });
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}

/// The public id key every test database shares (one process serves one key).
const TEST_ID_KEY: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

fn install_test_id_key() {
    freightgate::domain::public_id::install(
        freightgate::domain::IdKey::parse(TEST_ID_KEY).expect("test key"),
    )
    .expect("the test id key is the only one installed");
}

/// The row id behind an id the API gave out, for tests that read the database.
pub fn internal_id(public: i64) -> i64 {
    install_test_id_key();
    freightgate::domain::public_id::internal(public)
}

/// The id the API shows for a row id, for tests that write the database.
pub fn public_id(internal: i64) -> i64 {
    install_test_id_key();
    freightgate::domain::public_id::public(internal)
}

/// A configuration for tests: the given database, quiet logs, quick shutdown.
pub fn config_for(url: &str) -> Config {
    install_test_id_key();
    Config {
        database_url: url.to_string(),
        listen: "127.0.0.1:0".parse().expect("address"),
        db_max_connections: 5,
        rules_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules"),
        webhooks_allow_networks: freightgate::config::parse_networks("127.0.0.0/8").unwrap(),
        webhooks_retry_schedule: freightgate::config::parse_durations("0s,300ms,300ms").unwrap(),
        webhooks_poll_ms: 25,
        shutdown_grace_secs: 5,
        public_id_key: Some(TEST_ID_KEY.into()),
        ..Config::default()
    }
}

/// A running app with its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub shutdown: CancellationToken,
    pub database: TestDb,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An app reading its rules from a directory of its own: `files` (name, text),
    /// beside copies of the shipped rules when `with_shipped`. Keep the directory
    /// as long as the app.
    pub async fn spawn_with_rules(
        files: &[(&str, &str)],
        with_shipped: bool,
    ) -> (Self, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a rules directory");
        if with_shipped {
            copy_shipped_rules(dir.path());
        }
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("a rules file written");
        }
        let rules_dir = dir.path().to_path_buf();
        (Self::spawn_with(|c| c.rules_dir = rules_dir).await, dir)
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let database = TestDb::new().await;
        let mut config = config_for(&database.url);
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        let db = database.connect().await;
        tokio::spawn(freightgate::run(config, listener, shutdown.clone()));
        let app = Self {
            base,
            client: reqwest::Client::new(),
            db,
            shutdown,
            database,
        };
        app.wait_until_serving().await;
        app
    }

    async fn wait_until_serving(&self) {
        for _ in 0..100 {
            if let Ok(r) = self.client.get(self.url("/healthz")).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the app did not start serving");
    }

    /// A second gateway on the same database, as a second instance behind a load
    /// balancer would be; it stops when the returned token is cancelled.
    pub async fn second_instance(&self, adjust: impl FnOnce(&mut Config)) -> CancellationToken {
        let mut config = config_for(&self.database.url);
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let shutdown = CancellationToken::new();
        tokio::spawn(freightgate::run(config, listener, shutdown.clone()));
        shutdown
    }

    pub async fn post_json(
        &self,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `method path` with `key` and, when given, a JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new API key for `business` with `scopes`.
    pub async fn key(&self, business: &str, scopes: &[Scope]) -> String {
        let slug = Slug::parse(business).expect("slug");
        written(&self.db, async |t| {
            store::keys::create(t, &slug, "test", scopes).await
        })
        .await
        .expect("create key")
        .plaintext
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request")
    }

    /// `GET path` with `key`, its body as JSON.
    pub async fn get_json(&self, path: &str, key: &str) -> serde_json::Value {
        self.get(path, key).await.json().await.expect("a JSON body")
    }

    /// Runs the pull source `name` now (`POST /v1/sources/{name}/run`): the run.
    pub async fn run_source(&self, key: &str, name: &str) -> serde_json::Value {
        let response = self
            .client
            .post(self.url(&format!("/v1/sources/{name}/run")))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "running {name}");
        response.json().await.expect("a JSON body")
    }

    /// `/metrics`, as Prometheus text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("a text body")
    }

    /// A gateway reading its rules and pull sources from directories of its own,
    /// written from (file name, text) pairs, beside copies of the shipped rules when
    /// `shipped_rules`; its schedule is off unless `adjust` turns it on. Keep the
    /// directory as long as the app.
    pub async fn spawn_with_sources(
        rules: &[(&str, &str)],
        shipped_rules: bool,
        sources: &[(&str, &str)],
        adjust: impl FnOnce(&mut Config),
    ) -> (Self, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a directory");
        let (rules_dir, sources_dir) = (dir.path().join("rules"), dir.path().join("sources"));
        std::fs::create_dir_all(&rules_dir).expect("rules/");
        std::fs::create_dir_all(&sources_dir).expect("sources/");
        if shipped_rules {
            copy_shipped_rules(&rules_dir);
        }
        for (name, text) in rules {
            std::fs::write(rules_dir.join(name), text).expect("a rules file written");
        }
        for (name, text) in sources {
            std::fs::write(sources_dir.join(name), text).expect("a source file written");
        }
        let app = Self::spawn_with(|c| {
            c.rules_dir = rules_dir;
            c.sources_dir = sources_dir;
            c.sources_scheduler = false;
            adjust(c);
        })
        .await;
        (app, dir)
    }
}

/// Copies the shipped rules files into `dir`.
fn copy_shipped_rules(dir: &std::path::Path) {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    for file in std::fs::read_dir(shipped).expect("the shipped rules") {
        let path = file.expect("a rules file").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, dir.join(name)).expect("copied");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Asserts a problem+json answer with `status` and `code` (any code when empty),
/// returning the body.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem body is JSON");
    if !code.is_empty() {
        assert_eq!(body["code"], code, "{body}");
    }
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// A websocket on `/graphql/ws`.
pub type GraphqlWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws session on `base`'s `/graphql/ws`, with the
/// `connection_init` carrying `key` already sent.
pub async fn graphql_ws(base: &str, key: &str) -> GraphqlWs {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/graphql/ws", base.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = serde_json::json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {key}")}});
    socket.send(Message::text(init.to_string())).await.unwrap();
    socket
}

/// Whether the server refused a websocket session after its `connection_init`: it
/// closed, or answered anything but `connection_ack`, within 10 s.
pub async fn refused_session(socket: &mut GraphqlWs) -> bool {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let answer = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("an answer within 10 s");
    match answer {
        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => true,
        Some(Ok(Message::Text(text))) => !text.contains("connection_ack"),
        _ => false,
    }
}

/// The next text frame of a websocket as JSON; panics on a close or after 10 s.
pub async fn next_json<S>(socket: &mut S) -> serde_json::Value
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket stays open")
            .expect("a valid frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Runs one of the store's writes in its own write transaction, on its turn in the
/// write queue as the application's writes are: committed when it succeeds, rolled
/// back when it fails.
pub async fn written<V, E>(
    db: &Db,
    write: impl AsyncFnOnce(&store::gate::WriteTxn) -> Result<V, E>,
) -> Result<V, E> {
    let txn = store::gate::WriteGate::for_db(db)
        .begin(db)
        .await
        .expect("begin a write");
    let result = write(&txn).await;
    match result {
        Ok(_) => txn.commit().await.expect("commit"),
        Err(_) => txn.rollback().await.expect("roll back"),
    }
    result
}
