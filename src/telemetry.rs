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

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("bucket list is non-empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; ours then stays unused.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}
