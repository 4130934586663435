//! Logging and metrics set-up.

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Libraries that log what is sent over a connection at their most verbose levels
/// (the websocket library logs every frame, `connection_init` with its API key
/// included). They are held at `debug` whatever the filter says, so no level of
/// logging writes a key.
pub const QUIETED: &[&str] = &["tungstenite=debug", "tokio_tungstenite=debug"];

/// The log filter: the configured one (or `RUST_LOG`), with [`QUIETED`] on top.
pub fn filter(config: &Config) -> EnvFilter {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log));
    for directive in QUIETED {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the log subscriber on stderr; `RUST_LOG` overrides the configured filter.
pub fn init_logging(config: &Config) {
    let filter = filter(config);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second initialisation (tests start many apps) is harmless, so its error is ignored.
    let _ = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What a metric is, for its `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric freightgate records, with its `# HELP` text. A test fails when a
/// metric in the code is missing here or does not start with `freightgate_`.
pub const METRICS: &[(&str, Kind, &str)] = &[
    (
        "freightgate_build_info",
        Kind::Gauge,
        "Always 1; the version label says which freightgate runs.",
    ),
    (
        "freightgate_http_requests_total",
        Kind::Counter,
        "HTTP requests answered, by method (unknown methods as `other`), route and status.",
    ),
    (
        "freightgate_http_request_duration_seconds",
        Kind::Histogram,
        "Time to answer an HTTP request, by route.",
    ),
    (
        "freightgate_http_connections_open",
        Kind::Gauge,
        "HTTP connections open now.",
    ),
    (
        "freightgate_http_connections_refused_total",
        Kind::Counter,
        "Connections closed on arrival: `process` past max_connections, `address` past max_connections_per_ip.",
    ),
    (
        "freightgate_http_rate_limited_total",
        Kind::Counter,
        "Requests refused with 429 rate_limited by a key's rate limit.",
    ),
    (
        "freightgate_http_shed_total",
        Kind::Counter,
        "Requests turned away for want of capacity, by reason: concurrency, timeout, key_in_flight, slow_body.",
    ),
    (
        "freightgate_db_pool_connections",
        Kind::Gauge,
        "Database pool connections by state (open, idle), at scrape time.",
    ),
    (
        "freightgate_memory_bytes",
        Kind::Gauge,
        "Memory at scrape time, by part: resident (the process's resident set), heap (what mimalloc, Rust's allocator, holds from the system), sqlite (what SQLite's page caches and statements hold, on SQLite), c_heap_in_use and c_heap_free (glibc's malloc, where C code such as SQLite allocates: in use, and held but free).",
    ),
    (
        "freightgate_db_pool_max_connections",
        Kind::Gauge,
        "The database pool's size (db_max_connections).",
    ),
    (
        "freightgate_ingest_payloads_total",
        Kind::Counter,
        "Payloads committed, by outcome (accepted, accepted_with_warnings, partially_accepted, rejected) and the rule of their first matched item (`none` when no rule matched).",
    ),
    (
        "freightgate_ingest_problems_total",
        Kind::Counter,
        "Problem codes in committed answers (the refusal's and each item error's), once per payload and code.",
    ),
    (
        "freightgate_ingest_group_commit_payloads",
        Kind::Histogram,
        "Payloads (and the REST and GraphQL creates queued with them) written per group-commit transaction.",
    ),
    (
        "freightgate_ingest_group_commit_seconds",
        Kind::Histogram,
        "Time one group-commit transaction took, begin to commit.",
    ),
    ("freightgate_rules_loaded", Kind::Gauge, "Rules in use."),
    (
        "freightgate_outbound_reloads_total",
        Kind::Counter,
        "Readings of the outbound files after a change or SIGHUP, by result (ok, error).",
    ),
    (
        "freightgate_outbound_batches_total",
        Kind::Counter,
        "Batch files made by outbound mappings with `batch`, one per period that gathered events, by target.",
    ),
    (
        "freightgate_outbound_replies_total",
        Kind::Counter,
        "Partners' answers to outbound deliveries taken through the rules, by target and outcome (taken, refused).",
    ),
    (
        "freightgate_outbound_render_failures_total",
        Kind::Counter,
        "Events an outbound target's mapping took but could not render (the delivery is dead-lettered), by target.",
    ),
    (
        "freightgate_source_lag_seconds",
        Kind::Gauge,
        "Now minus the source's cursor after its last run, when the cursor is an RFC 3339 time.",
    ),
    (
        "freightgate_sources_reloads_total",
        Kind::Counter,
        "Readings of the source files after a change or SIGHUP, by result (ok, failed).",
    ),
    (
        "freightgate_source_runs_total",
        Kind::Counter,
        "Pull-source runs ended, by source and outcome (succeeded, failed).",
    ),
    (
        "freightgate_source_run_seconds",
        Kind::Histogram,
        "How long a pull-source run took, by source.",
    ),
    (
        "freightgate_source_items_total",
        Kind::Counter,
        "Items pull sources fetched and handed to the rules, by source.",
    ),
    (
        "freightgate_source_last_success_timestamp_seconds",
        Kind::Gauge,
        "When a pull source's last successful run ended (Unix seconds), by source.",
    ),
    (
        "freightgate_rules_info",
        Kind::Gauge,
        "1 for the version (a hash of the rules files) in use, 0 for versions used before.",
    ),
    (
        "freightgate_rules_reloads_total",
        Kind::Counter,
        "Rules reloads, by result: ok, or failed (the previous rules stay in use).",
    ),
    (
        "freightgate_rules_reload_failing",
        Kind::Gauge,
        "1 while the last reload failed: a rules file is broken and older rules are in use.",
    ),
    (
        "freightgate_webhook_attempts_total",
        Kind::Counter,
        "Webhook push attempts by outcome: delivered (a 2xx answer) or failed.",
    ),
    (
        "freightgate_webhook_dead_letters_total",
        Kind::Counter,
        "Deliveries given up after their last scheduled attempt.",
    ),
    (
        "freightgate_webhook_backlog",
        Kind::Gauge,
        "Deliveries waiting for an attempt, over all businesses, at scrape time.",
    ),
    (
        "freightgate_webhook_oldest_pending_age_seconds",
        Kind::Gauge,
        "Age of the oldest delivery waiting for an attempt, at scrape time (0 when none waits).",
    ),
    (
        "freightgate_webhook_dead_letters",
        Kind::Gauge,
        "Deliveries given up and not replayed (state failed), at scrape time.",
    ),
    (
        "freightgate_webhook_endpoints_failing",
        Kind::Gauge,
        "Endpoints whose last attempt failed and that have a delivery waiting for its retry, at scrape time.",
    ),
    (
        "freightgate_graphql_subscription_polls_total",
        Kind::Counter,
        "Reads of new messages by the poller that feeds GraphQL subscriptions.",
    ),
    (
        "freightgate_graphql_ws_closed_total",
        Kind::Counter,
        "GraphQL websockets closed by the server, by reason.",
    ),
];

fn describe_metrics() {
    for (name, kind, help) in METRICS {
        match kind {
            Kind::Counter => metrics::describe_counter!(*name, *help),
            Kind::Gauge => metrics::describe_gauge!(*name, *help),
            Kind::Histogram => metrics::describe_histogram!(*name, *help),
        }
    }
    metrics::gauge!("freightgate_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Reads how many bytes the process's global allocator holds from the system; set by
/// the binary that installs it (see [`set_heap_reader`]).
static HEAP_READER: OnceLock<fn() -> u64> = OnceLock::new();

/// Tells `/metrics` how to read the global allocator's holding (the `heap` part of
/// `freightgate_memory_bytes`). Only the first call counts.
pub fn set_heap_reader(read: fn() -> u64) {
    let _ = HEAP_READER.set(read);
}

/// Sets `freightgate_memory_bytes` by part, so a growing or swinging resident set
/// can be placed: Rust's heap, SQLite's caches, or glibc's arenas around them.
/// `sqlite` says whether the database is SQLite (its count is process-wide).
pub fn record_memory(sqlite: bool) {
    let gauge = |part: &'static str, bytes: u64| {
        metrics::gauge!("freightgate_memory_bytes", "part" => part).set(bytes as f64);
    };
    if let Some(resident) = resident_bytes() {
        gauge("resident", resident);
    }
    if let Some(read) = HEAP_READER.get() {
        gauge("heap", read());
    }
    if sqlite {
        // SAFETY: sqlite3_memory_used reads SQLite's global counter under its own
        // mutex; it takes no arguments and may be called from any thread.
        let used = unsafe { libsqlite3_sys::sqlite3_memory_used() };
        gauge("sqlite", u64::try_from(used).unwrap_or(0));
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 takes no arguments and returns a plain struct; glibc
        // takes each arena's lock while it counts.
        let info = unsafe { libc::mallinfo2() };
        gauge("c_heap_in_use", (info.uordblks + info.hblkhd) as u64);
        gauge("c_heap_free", info.fordblks as u64);
    }
}

/// The resident set from `/proc/self/status` (Linux), in bytes.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("freightgate_http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("bucket list is non-empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; ours then stays unused.
        if metrics::set_global_recorder(recorder).is_ok() {
            describe_metrics();
            start_upkeep(handle.clone());
        }
        handle
    })
}

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The recorder keeps each histogram sample (a request's duration, a group
/// commit's size) until it is folded into the buckets, which a scrape of
/// `/metrics` does. A gateway nobody scrapes would keep them all: about 8 bytes a
/// sample, three samples for each request at most, without end. A thread of its own
/// folds them every few seconds whether or not anyone scrapes.
fn start_upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name(UPKEEP_THREAD.into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "cannot start the metrics upkeep; histogram samples are folded only when /metrics is scraped");
    }
}

/// The name of the thread that folds histogram samples.
pub const UPKEEP_THREAD: &str = "metrics-upkeep";
