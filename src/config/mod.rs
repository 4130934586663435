//! Configuration: built-in defaults, then an optional `freightgate.toml`, then
//! environment variables (`DATABASE_URL` and `FREIGHTGATE_*`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

mod values;

pub use values::{parse_byte_size, parse_durations, parse_networks, parse_port_ranges};

/// Default configuration file, read from the working directory when present.
pub const DEFAULT_CONFIG_FILE: &str = "freightgate.toml";

/// Every setting freightgate reads. Field names are the TOML keys; the environment
/// variable is `FREIGHTGATE_` + the upper-cased name (`DATABASE_URL` for `database_url`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Address the HTTP server binds to.
    pub listen: SocketAddr,
    /// Directory holding the rules files.
    pub rules_dir: PathBuf,
    /// Directory holding the pull sources' files (none when it does not exist).
    pub sources_dir: PathBuf,
    /// Run the pull sources on their schedules in this process (off for API-only
    /// instances; `POST /v1/sources/{name}/run` works either way).
    pub sources_scheduler: bool,
    /// Directory holding the outbound targets' files (none when it does not exist).
    pub outbound_dir: PathBuf,
    /// Run pending migrations when `serve` starts.
    pub auto_migrate: bool,
    /// Reject references to facilities that do not exist yet instead of creating them.
    pub strict_facilities: bool,
    /// An order's customer must be the code of a customer party (`unknown_customer`
    /// otherwise), and a resource's owner the code of a party (`unknown_party`).
    pub strict_parties: bool,
    /// An order line's SKU must be a SKU of the order's facility (`unknown_sku`).
    pub strict_skus: bool,
    /// Largest accepted request body, in bytes or with a unit (`5MB`, `512KiB`).
    #[serde(with = "values::byte_size")]
    pub max_body_bytes: usize,
    /// Upper bound of the database connection pool; 0 picks one by database
    /// ([`Config::db_pool_size`]).
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before failing with 503.
    pub db_acquire_timeout_ms: u64,
    /// Page cache of each of the ingest writers' and the webhook dispatcher's own
    /// SQLite connections, in KiB (SQLite's `cache_size`).
    pub sqlite_cache_kib: u32,
    /// Page cache of each connection of the shared SQLite pool (API reads, and
    /// writes outside ingest and delivery), in KiB. A connection's cache is emptied
    /// whenever another connection has written since its last read, so on a busy
    /// gateway a large one mostly holds memory between bursts.
    pub sqlite_read_cache_kib: u32,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// Log format on stderr.
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax, e.g. `info` or `freightgate=debug,sqlx=warn`.
    pub log: String,
    /// How often the rules directory is checked for changed files, in milliseconds
    /// (0: only reload on SIGHUP).
    pub rules_poll_ms: u64,
    /// Largest decoded document (e.g. a POD file) a payload may carry, in bytes or
    /// with a unit (`10MiB`).
    #[serde(with = "values::byte_size")]
    pub max_document_bytes: usize,
    /// How long an Idempotency-Key and its stored answer are kept, in seconds.
    pub idempotency_ttl_secs: u64,
    /// Run the webhook dispatcher in this process (off for API-only instances).
    pub webhooks_dispatcher: bool,
    /// CIDRs webhook targets may use although not public (`10.0.0.0/8,fd00::/8`).
    #[serde(with = "values::networks")]
    pub webhooks_allow_networks: Vec<IpNet>,
    /// Ports webhook targets may use (`80,443,1024-65535`). Well-known service ports
    /// inside a range (databases, caches, brokers, cluster APIs) stay refused unless
    /// listed on their own.
    #[serde(with = "values::port_ranges")]
    pub webhooks_allow_ports: Vec<(u16, u16)>,
    /// Delays before each attempt, e.g. `0s,5s,5m`; ±20% jitter is added.
    #[serde(with = "values::durations")]
    pub webhooks_retry_schedule: Vec<Duration>,
    /// An HTTP proxy every push goes through (`http://proxy.internal:3128`); unset,
    /// pushes connect directly and proxy environment variables are ignored.
    pub webhooks_proxy: Option<String>,
    /// The key public ids are derived with (64 hex digits). Unset, the database's own
    /// key is used (created at the first start); set it on every instance or on none.
    pub public_id_key: Option<String>,
    /// Connect timeout of a push, in milliseconds.
    pub webhooks_connect_timeout_ms: u64,
    /// Total timeout of a push, in milliseconds.
    pub webhooks_timeout_ms: u64,
    /// Pushes in flight at once to one endpoint.
    pub webhooks_per_endpoint_concurrency: usize,
    /// How often the dispatcher looks for due deliveries, in milliseconds.
    pub webhooks_poll_ms: u64,
    /// Longest pause between pushes to an endpoint that keeps failing, in
    /// milliseconds (0: failing endpoints are not paced).
    pub webhooks_failing_pause_max_ms: u64,
    /// How long a rotated-out secret keeps signing, in seconds.
    pub webhooks_secret_overlap_secs: u64,
    /// Deepest selection nesting a GraphQL operation may have.
    pub graphql_max_depth: usize,
    /// Highest complexity (one point per field) a GraphQL operation may have.
    pub graphql_max_complexity: usize,
    /// Whether GraphQL introspection (`__schema`, `__type`) is answered.
    pub graphql_introspection: bool,
    /// Requests per second one API key may make, unless the key has its own limit
    /// (`keys create --rate-limit`); 0 turns the default limit off.
    pub rate_limit_per_sec: u32,
    /// Token-bucket size: how many requests an idle key may send at once.
    pub rate_limit_burst: u32,
    /// Requests served at once; more are refused with 503 instead of queuing.
    pub max_concurrent_requests: usize,
    /// Longest a request may run before it is abandoned with 503, in milliseconds.
    pub request_timeout_ms: u64,
    /// Most ingested payloads written in one transaction (group commit); 1 gives
    /// each payload a transaction of its own.
    pub ingest_batch_max: usize,
    /// Transactions writing ingested payloads at once; 0 picks 1 on SQLite (it has
    /// a single writer) and 4 on PostgreSQL.
    pub ingest_writers: usize,
    /// How long an authenticated API key is remembered in memory, in milliseconds;
    /// bounds how late a revocation made by another process is seen. 0 looks up every request.
    pub api_key_cache_ttl_ms: u64,
    /// Connections open at once in this process; past it a new connection gets `503`
    /// and is closed (0: no cap).
    pub max_connections: usize,
    /// Connections open at once from one client address; past it `429` (0: no cap,
    /// e.g. behind a proxy that all clients come through).
    pub max_connections_per_ip: usize,
    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection is kept, in milliseconds.
    pub header_read_timeout_ms: u64,
    /// Slowest accepted request body: after the header-read timeout's worth of
    /// grace, a body must keep arriving at this many bytes per second (0: no floor).
    pub body_min_bytes_per_sec: u64,
    /// Requests one API key may have in flight at once (0: no cap).
    pub max_requests_per_key: usize,
    /// Most documents (array elements, NDJSON lines, CSV rows) one payload may hold.
    pub max_documents_per_payload: usize,
    /// Most documents an explain answers in full (`?full=true`); by default an
    /// explain of a batch answers a summary per document.
    pub explain_full_max_documents: usize,
    /// Webhook endpoints one business may have.
    pub webhooks_max_endpoints_per_business: usize,
    /// Webhook deliveries (events times the endpoints that want them) one ingested
    /// payload may create; a payload that would create more is refused.
    pub webhooks_max_deliveries_per_payload: usize,
    /// GraphQL subscriptions one API key may hold open at once.
    pub graphql_max_subscriptions_per_key: usize,
    /// GraphQL subscriptions this process holds open at once.
    pub graphql_max_subscriptions: usize,
    /// How often an open GraphQL websocket re-checks that its key is still valid,
    /// in milliseconds; a revoked key closes the socket.
    pub graphql_ws_key_check_ms: u64,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://freightgate.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            rules_dir: PathBuf::from("rules"),
            sources_dir: PathBuf::from("sources"),
            sources_scheduler: true,
            outbound_dir: PathBuf::from("outbound"),
            auto_migrate: true,
            strict_facilities: false,
            strict_parties: false,
            strict_skus: false,
            max_body_bytes: 5 * 1024 * 1024,
            db_max_connections: 0,
            db_acquire_timeout_ms: 5_000,
            sqlite_cache_kib: 2_048,
            sqlite_read_cache_kib: 512,
            shutdown_grace_secs: 30,
            log_format: LogFormat::Text,
            log: "info".into(),
            rules_poll_ms: 2_000,
            max_document_bytes: 10 * 1024 * 1024,
            idempotency_ttl_secs: 24 * 60 * 60,
            webhooks_dispatcher: true,
            webhooks_allow_networks: Vec::new(),
            webhooks_allow_ports: vec![(80, 80), (443, 443), (1024, 65535)],
            webhooks_retry_schedule: [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]
                .map(Duration::from_secs)
                .to_vec(),
            webhooks_proxy: None,
            public_id_key: None,
            webhooks_connect_timeout_ms: 5_000,
            webhooks_timeout_ms: 15_000,
            webhooks_per_endpoint_concurrency: 4,
            webhooks_poll_ms: 200,
            webhooks_failing_pause_max_ms: 5_000,
            webhooks_secret_overlap_secs: 24 * 60 * 60,
            graphql_max_depth: 15,
            graphql_max_complexity: 1000,
            graphql_introspection: true,
            rate_limit_per_sec: 50,
            rate_limit_burst: 100,
            max_concurrent_requests: 256,
            request_timeout_ms: 30_000,
            ingest_batch_max: 64,
            ingest_writers: 0,
            api_key_cache_ttl_ms: 2_000,
            max_connections: 4_096,
            max_connections_per_ip: 512,
            header_read_timeout_ms: 10_000,
            body_min_bytes_per_sec: 1_024,
            max_requests_per_key: 64,
            max_documents_per_payload: 10_000,
            explain_full_max_documents: 100,
            webhooks_max_endpoints_per_business: 100,
            webhooks_max_deliveries_per_payload: 100_000,
            graphql_max_subscriptions_per_key: 100,
            graphql_max_subscriptions: 10_000,
            graphql_ws_key_check_ms: 5_000,
        }
    }
}

/// A setting that could not be used; the message names the setting and what it accepts.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads defaults, then `file` (or `freightgate.toml` if it exists), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE))
            }
            None => {}
        }
        figment = figment
            .merge(Env::raw().only(&["database_url"]))
            .merge(Env::prefixed("FREIGHTGATE_").ignore(&["config"]));
        let config: Config = figment.extract().map_err(|e| ConfigError(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: value ranges and URL schemes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(format!(
                "database_url (DATABASE_URL) = {:?}: accepted values are sqlite://PATH, \
                 sqlite::memory:, postgres://USER@HOST/DB",
                crate::redact(url)
            )));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError(format!(
                "max_body_bytes (FREIGHTGATE_MAX_BODY_BYTES) = {}: accepted values are 1024 or more",
                self.max_body_bytes
            )));
        }
        if self.db_max_connections > 10_000 {
            return Err(ConfigError(format!(
                "db_max_connections (FREIGHTGATE_DB_MAX_CONNECTIONS) = {}: accepted values are 0 (automatic) to 10000",
                self.db_max_connections
            )));
        }
        for (name, env, kib) in [
            (
                "sqlite_cache_kib",
                "FREIGHTGATE_SQLITE_CACHE_KIB",
                self.sqlite_cache_kib,
            ),
            (
                "sqlite_read_cache_kib",
                "FREIGHTGATE_SQLITE_READ_CACHE_KIB",
                self.sqlite_read_cache_kib,
            ),
        ] {
            if !(64..=1_048_576).contains(&kib) {
                return Err(ConfigError(format!(
                    "{name} ({env}) = {kib}: accepted values are 64 to 1048576 (1 GiB)"
                )));
            }
        }
        if self.idempotency_ttl_secs == 0 || self.idempotency_ttl_secs > 30 * 24 * 3600 {
            return Err(ConfigError(format!(
                "idempotency_ttl_secs (FREIGHTGATE_IDEMPOTENCY_TTL_SECS) = {}: accepted values are 1 to 2592000 (30 days)",
                self.idempotency_ttl_secs
            )));
        }
        if self.webhooks_per_endpoint_concurrency == 0 || self.webhooks_timeout_ms == 0 {
            return Err(ConfigError(
                "webhooks_per_endpoint_concurrency and webhooks_timeout_ms must be 1 or more"
                    .into(),
            ));
        }
        if self.webhooks_failing_pause_max_ms > 3_600_000 {
            return Err(ConfigError(format!(
                "webhooks_failing_pause_max_ms (FREIGHTGATE_WEBHOOKS_FAILING_PAUSE_MAX_MS) = {}: accepted values are 0 to 3600000 (one hour)",
                self.webhooks_failing_pause_max_ms
            )));
        }
        if !(2..=100).contains(&self.graphql_max_depth) {
            return Err(ConfigError(format!(
                "graphql_max_depth (FREIGHTGATE_GRAPHQL_MAX_DEPTH) = {}: accepted values are 2 to 100",
                self.graphql_max_depth
            )));
        }
        if !(10..=1_000_000).contains(&self.graphql_max_complexity) {
            return Err(ConfigError(format!(
                "graphql_max_complexity (FREIGHTGATE_GRAPHQL_MAX_COMPLEXITY) = {}: accepted values are 10 to 1000000",
                self.graphql_max_complexity
            )));
        }
        if self.rate_limit_per_sec > 0 && self.rate_limit_burst < self.rate_limit_per_sec {
            return Err(ConfigError(format!(
                "rate_limit_burst (FREIGHTGATE_RATE_LIMIT_BURST) = {}: accepted values are at least \
                 rate_limit_per_sec ({})",
                self.rate_limit_burst, self.rate_limit_per_sec
            )));
        }
        if self.max_concurrent_requests == 0 {
            return Err(ConfigError(
                "max_concurrent_requests (FREIGHTGATE_MAX_CONCURRENT_REQUESTS) = 0: accepted values are 1 or more"
                    .into(),
            ));
        }
        if !(100..=3_600_000).contains(&self.request_timeout_ms) {
            return Err(ConfigError(format!(
                "request_timeout_ms (FREIGHTGATE_REQUEST_TIMEOUT_MS) = {}: accepted values are 100 to 3600000",
                self.request_timeout_ms
            )));
        }
        if !(1..=10_000).contains(&self.ingest_batch_max) {
            return Err(ConfigError(format!(
                "ingest_batch_max (FREIGHTGATE_INGEST_BATCH_MAX) = {}: accepted values are 1 to 10000",
                self.ingest_batch_max
            )));
        }
        if self.ingest_writers > 64 {
            return Err(ConfigError(format!(
                "ingest_writers (FREIGHTGATE_INGEST_WRITERS) = {}: accepted values are 0 (automatic) to 64",
                self.ingest_writers
            )));
        }
        if self.api_key_cache_ttl_ms > 60_000 {
            return Err(ConfigError(format!(
                "api_key_cache_ttl_ms (FREIGHTGATE_API_KEY_CACHE_TTL_MS) = {}: accepted values are 0 to 60000",
                self.api_key_cache_ttl_ms
            )));
        }
        if let Some(key) = &self.public_id_key
            && let Err(e) = crate::domain::IdKey::parse(key)
        {
            return Err(ConfigError(format!(
                "public_id_key (FREIGHTGATE_PUBLIC_ID_KEY): {e}"
            )));
        }
        if let Some(proxy) = &self.webhooks_proxy
            && reqwest::Proxy::all(proxy.as_str()).is_err()
        {
            return Err(ConfigError(format!(
                "webhooks_proxy (FREIGHTGATE_WEBHOOKS_PROXY) = {:?}: accepted values are proxy URLs such as http://proxy.internal:3128",
                crate::redact(proxy)
            )));
        }
        if !(100..=600_000).contains(&self.header_read_timeout_ms) {
            return Err(ConfigError(format!(
                "header_read_timeout_ms (FREIGHTGATE_HEADER_READ_TIMEOUT_MS) = {}: accepted values are 100 to 600000",
                self.header_read_timeout_ms
            )));
        }
        if !(1..=1_000_000).contains(&self.max_documents_per_payload) {
            return Err(ConfigError(format!(
                "max_documents_per_payload (FREIGHTGATE_MAX_DOCUMENTS_PER_PAYLOAD) = {}: accepted values are 1 to 1000000",
                self.max_documents_per_payload
            )));
        }
        if !(1..=10_000).contains(&self.explain_full_max_documents) {
            return Err(ConfigError(format!(
                "explain_full_max_documents (FREIGHTGATE_EXPLAIN_FULL_MAX_DOCUMENTS) = {}: accepted values are 1 to 10000",
                self.explain_full_max_documents
            )));
        }
        if self.webhooks_max_endpoints_per_business == 0 {
            return Err(ConfigError(
                "webhooks_max_endpoints_per_business (FREIGHTGATE_WEBHOOKS_MAX_ENDPOINTS_PER_BUSINESS) = 0: accepted values are 1 or more"
                    .into(),
            ));
        }
        if !(100..=3_600_000).contains(&self.graphql_ws_key_check_ms) {
            return Err(ConfigError(format!(
                "graphql_ws_key_check_ms (FREIGHTGATE_GRAPHQL_WS_KEY_CHECK_MS) = {}: accepted values are 100 to 3600000",
                self.graphql_ws_key_check_ms
            )));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            return Err(ConfigError(format!(
                "log (FREIGHTGATE_LOG) = {:?}: {e}; accepted values are tracing filters such as \
                 `info` or `freightgate=debug,sqlx=warn`",
                self.log
            )));
        }
        Ok(())
    }

    /// The webhook retry schedule: one delay per attempt.
    pub fn retry_schedule(&self) -> &[Duration] {
        &self.webhooks_retry_schedule
    }

    /// Database acquire timeout as a `Duration`.
    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }

    /// How long an authenticated key stays cached, as a `Duration`.
    pub fn api_key_cache_ttl(&self) -> Duration {
        Duration::from_millis(self.api_key_cache_ttl_ms)
    }

    /// The request timeout as a `Duration`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Whether the database is SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// The shared pool's size: `db_max_connections`, or when it is 0, 16 on
    /// PostgreSQL and 4 on SQLite. A SQLite connection keeps a page cache of up to
    /// `sqlite_read_cache_kib` in the process, and the pool keeps every connection a burst
    /// opened (it hands idle ones out in turn, so none stays idle long enough to
    /// close): four read side by side on two cores as fast as sixteen did, and hold
    /// a quarter of the memory.
    pub fn db_pool_size(&self) -> u32 {
        match self.db_max_connections {
            0 if self.is_sqlite() => 4,
            0 => 16,
            n => n,
        }
    }

    /// Which references must name records that exist.
    pub fn strict(&self) -> Strict {
        Strict {
            facilities: self.strict_facilities,
            parties: self.strict_parties,
            skus: self.strict_skus,
        }
    }
}

/// Which references must name records that exist (settings `strict_facilities`,
/// `strict_parties`, `strict_skus`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Strict {
    pub facilities: bool,
    pub parties: bool,
    pub skus: bool,
}

/// Figment's errors name the key and the source; we add the environment variable's
/// name so the operator knows both spellings.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let env = if key == "database_url" {
                "DATABASE_URL".to_string()
            } else {
                format!("FREIGHTGATE_{}", key.to_uppercase())
            };
            let source = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .map(|s| format!(" (from {s})"))
                .unwrap_or_default();
            if let figment::error::Kind::UnknownField(unknown, known) = &e.kind {
                let env = format!("FREIGHTGATE_{}", unknown.to_uppercase());
                return match values::closest(unknown, known) {
                    Some(close) => format!(
                        "unknown setting `{unknown}` / {env}{source}: did you mean `{close}`? \
                         (every setting is listed under Configuration in the README)"
                    ),
                    None => format!(
                        "unknown setting `{unknown}` / {env}{source}; every setting is listed \
                         under Configuration in the README"
                    ),
                };
            }
            if key.is_empty() {
                format!("{}{source}", e.kind)
            } else {
                format!("setting `{key}` / {env}{source}: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_with_zero_configuration() {
        let config = Config::default();
        config.validate().expect("defaults are valid");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url, "sqlite://freightgate.db");
        assert_eq!(config.rules_dir, PathBuf::from("rules"));
    }

    #[test]
    fn overload_settings_are_checked_and_name_their_variables() {
        let burst_below_rate = Config {
            rate_limit_per_sec: 10,
            rate_limit_burst: 5,
            ..Config::default()
        };
        let message = burst_below_rate.validate().unwrap_err().to_string();
        assert!(
            message.contains("FREIGHTGATE_RATE_LIMIT_BURST"),
            "{message}"
        );
        let no_default_limit = Config {
            rate_limit_per_sec: 0,
            rate_limit_burst: 0,
            ..Config::default()
        };
        no_default_limit
            .validate()
            .expect("0 turns the default rate limit off");
        for (concurrency, timeout_ms, variable) in [
            (0, 30_000, "FREIGHTGATE_MAX_CONCURRENT_REQUESTS"),
            (8, 10, "FREIGHTGATE_REQUEST_TIMEOUT_MS"),
        ] {
            let config = Config {
                max_concurrent_requests: concurrency,
                request_timeout_ms: timeout_ms,
                ..Config::default()
            };
            let message = config.validate().unwrap_err().to_string();
            assert!(message.contains(variable), "{message}");
        }
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn a_misspelt_setting_is_answered_with_the_closest_name_only() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("freightgate.toml", "max_body_byte = 10")?;
            let message = Config::load(None).unwrap_err().to_string();
            assert!(message.contains("`max_body_byte`"), "{message}");
            assert!(
                message.contains("did you mean `max_body_bytes`"),
                "{message}"
            );
            assert!(
                !message.contains("rules_poll_ms"),
                "lists every key: {message}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_pool_is_four_connections_on_sqlite_and_sixteen_on_postgres_unless_set() {
        let sqlite = Config::default();
        assert_eq!(sqlite.db_pool_size(), 4);
        let postgres = Config {
            database_url: "postgres://postgres@127.0.0.1:5432/test".into(),
            ..Config::default()
        };
        assert_eq!(postgres.db_pool_size(), 16);
        let set = Config {
            db_max_connections: 32,
            ..Config::default()
        };
        set.validate().expect("32 is accepted");
        assert_eq!(set.db_pool_size(), 32);
        let huge = Config {
            db_max_connections: 10_001,
            ..Config::default()
        };
        let message = huge.validate().unwrap_err().to_string();
        assert!(
            message.contains("FREIGHTGATE_DB_MAX_CONNECTIONS"),
            "{message}"
        );
    }

    #[test]
    fn a_password_in_the_database_url_is_never_echoed() {
        let config = Config {
            database_url: "mysql://app:hunter2@db/x".into(),
            ..Config::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn unknown_database_scheme_names_the_setting_and_accepted_values() {
        let config = Config {
            database_url: "mysql://x".into(),
            ..Config::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("DATABASE_URL"), "{message}");
        assert!(message.contains("postgres://"), "{message}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn environment_overrides_file_and_bad_values_name_the_variable() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "freightgate.toml",
                "listen = \"127.0.0.1:9000\"\nlog = \"debug\"",
            )?;
            let config = Config::load(None).expect("file is valid");
            assert_eq!(config.listen.port(), 9000);
            jail.set_env("FREIGHTGATE_LISTEN", "127.0.0.1:9100");
            assert_eq!(
                Config::load(None).expect("env is valid").listen.port(),
                9100
            );
            jail.set_env("FREIGHTGATE_MAX_BODY_BYTES", "2MiB");
            jail.set_env("FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS", "10.0.0.0/8,fd00::/8");
            jail.set_env("FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE", "0s,30s");
            let typed = Config::load(None).expect("sizes and lists with units are valid");
            assert_eq!(typed.max_body_bytes, 2 * 1024 * 1024);
            assert_eq!(typed.webhooks_allow_networks.len(), 2);
            assert_eq!(
                typed.retry_schedule(),
                [Duration::ZERO, Duration::from_secs(30)]
            );
            jail.set_env("FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE", "0s,soon");
            let message = Config::load(None).unwrap_err().to_string();
            assert!(
                message.contains("FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE")
                    && message.contains("`soon`"),
                "{message}"
            );
            jail.set_env("FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE", "0s");
            jail.set_env("FREIGHTGATE_LOG_FORMAT", "yaml");
            let message = Config::load(None).unwrap_err().to_string();
            assert!(message.contains("FREIGHTGATE_LOG_FORMAT"), "{message}");
            assert!(
                message.contains("text") && message.contains("json"),
                "{message}"
            );
            Ok(())
        });
    }
}
