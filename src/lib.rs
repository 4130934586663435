//! freightgate: a logistics integration gateway. Senders post their own JSON; rules
//! turn it into canonical shipments and orders; signed webhooks push changes out.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ingest;
pub mod outbound;
pub mod rules;
pub mod sources;
pub mod store;
pub mod telemetry;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::{Error, Result};

/// Serves the gateway on `listener` until `shutdown` is cancelled, then stops
/// accepting and lets in-flight requests finish (bounded by `shutdown_grace_secs`).
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // The recorder first: what start-up records (the rules loaded) is kept.
    telemetry::metrics_handle();
    let live_rules = Arc::new(load_rules(&config)?);
    let sources = Arc::new(load_sources(&config)?);
    let outbound = Arc::new(load_outbound(&config)?);
    let db = store::connect(&config).await.with_context(|| {
        format!(
            "cannot open the database at {}",
            redact(&config.database_url)
        )
    })?;
    if config.auto_migrate {
        let applied = store::migrate(&db)
            .await
            .context("cannot apply database migrations")?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
    }
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let poll = Duration::from_millis(config.rules_poll_ms);
    tokio::spawn(rules::live::watch(
        live_rules.clone(),
        poll,
        shutdown.clone(),
    ));
    tokio::spawn(sources::watch(sources.clone(), poll, shutdown.clone()));
    tokio::spawn(outbound::watch(outbound.clone(), poll, shutdown.clone()));
    // Every writer of this process takes turns on SQLite's single write lock, and
    // routes its events to the outbound targets that want them.
    let gate = store::gate::WriteGate::for_db(&db).with_router(outbound.clone());
    let id_key = match &config.public_id_key {
        Some(key) => domain::IdKey::parse(key).map_err(anyhow::Error::msg)?,
        None => store::instance::public_id_key(&db, &gate)
            .await
            .context("cannot read the public id key (has `freightgate migrate` run?)")?,
    };
    domain::public_id::install(id_key)?;
    tokio::spawn(purge_idempotency_keys(
        db.clone(),
        gate.clone(),
        shutdown.clone(),
    ));
    let (writer, mut writers) = ingest::writer::Writer::start(
        db.clone(),
        gate.clone(),
        ingest::writer::Settings::from_config(&config),
    );
    let state = app::App {
        db: db.clone(),
        config: Arc::new(config),
        rules: live_rules,
        writer,
        gate,
        sources,
        outbound,
    };
    let dispatcher = if state.config.webhooks_dispatcher {
        let dispatcher =
            webhooks::dispatcher::Dispatcher::new(db.clone(), &state.config, state.gate.clone())
                .context("cannot start the webhook dispatcher")?
                .with_outbound(
                    state.outbound.clone(),
                    Arc::new(app::outbound::ReplyIngest(state.clone())),
                );
        Some(tokio::spawn(dispatcher.run(shutdown.clone())))
    } else {
        None
    };
    if state.config.sources_scheduler {
        app::pull::schedule(state.clone(), shutdown.clone());
    }
    let limits = http::server::ConnectionLimits::from_config(&state.config);
    let shedding = Arc::new(http::server::Shedding::default());
    let app = http::router(state, shedding.clone());
    tracing::info!(address = %listener.local_addr()?, "freightgate is serving");
    let mut server = tokio::spawn(http::server::serve(
        listener,
        app,
        limits,
        shedding,
        shutdown.clone(),
    ));
    tokio::select! {
        joined = &mut server => {
            joined.context("server task failed")?;
        }
        _ = shutdown.cancelled() => {
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            match tokio::time::timeout(grace, server).await {
                Ok(joined) => joined.context("server task failed")?,
                Err(_) => tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "requests still running after the grace period; stopping"
                ),
            }
        }
    }
    // The dispatcher lets go of its handle on the queue (partners' replies go through
    // it) when it stops.
    if let Some(dispatcher) = dispatcher {
        dispatcher.await.ok();
    }
    // The writers end once the server has let go of the queue; payloads still in it
    // were not acknowledged and need no waiting for beyond the grace period.
    let drained = async { while writers.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        tracing::warn!(
            "payloads still being written after the grace period; they were not acknowledged"
        );
    }
    db.close().await.ok();
    Ok(())
}

/// Loads the rules; a bad rules file stops start-up with every problem listed.
pub fn load_rules(config: &Config) -> anyhow::Result<rules::live::LiveRules> {
    let options = rules::LoadOptions {
        max_document_bytes: config.max_document_bytes,
    };
    match rules::live::LiveRules::load(&config.rules_dir, options) {
        Ok((live, report)) => {
            for warning in &report.warnings {
                tracing::warn!(problem = %warning, "rules warning");
            }
            if report.rules == 0 {
                tracing::warn!(dir = %config.rules_dir.display(), "no rules loaded: every payload will be rejected");
            }
            tracing::info!(
                rules = report.rules,
                files = report.files.len(),
                "rules loaded"
            );
            Ok(live)
        }
        Err(report) => anyhow::bail!(
            "the rules in {} have errors (set FREIGHTGATE_RULES_DIR or `rules_dir` to use another directory):\n{}",
            config.rules_dir.display(),
            rules::live::describe_errors(&report)
        ),
    }
}

/// Loads the pull sources; a bad source file stops start-up with every problem listed.
pub fn load_sources(config: &Config) -> anyhow::Result<sources::Registry> {
    match sources::Registry::load(&config.sources_dir) {
        Ok(registry) => {
            if !registry.is_empty() {
                tracing::info!(
                    sources = registry.len(),
                    dir = %config.sources_dir.display(),
                    "pull sources loaded"
                );
            }
            Ok(registry)
        }
        Err(problems) => anyhow::bail!(
            "the sources in {} have errors (set FREIGHTGATE_SOURCES_DIR or `sources_dir` to use another directory):\n{}",
            config.sources_dir.display(),
            problems
                .iter()
                .map(|p| format!("error: {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Loads the outbound targets; a bad outbound file stops start-up with every problem
/// listed.
pub fn load_outbound(config: &Config) -> anyhow::Result<outbound::Outbound> {
    match outbound::Outbound::load(&config.outbound_dir) {
        Ok(loaded) => {
            if !loaded.is_empty() {
                tracing::info!(
                    targets = loaded.len(),
                    dir = %config.outbound_dir.display(),
                    "outbound targets loaded"
                );
            }
            Ok(loaded)
        }
        Err(problems) => anyhow::bail!(
            "the outbound files in {} have errors (set FREIGHTGATE_OUTBOUND_DIR or `outbound_dir` to use another directory):\n{}",
            config.outbound_dir.display(),
            problems
                .iter()
                .map(|p| format!("error: {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Deletes expired Idempotency-Keys every ten minutes.
async fn purge_idempotency_keys(
    db: store::Db,
    gate: store::gate::WriteGate,
    shutdown: CancellationToken,
) {
    // Not at start-up: a first write there would compete with whatever starts next.
    let period = Duration::from_secs(600);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => match purge_turn(&db, &gate).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "expired idempotency keys deleted"),
                Err(e) => tracing::warn!(error = %e.report(), "could not purge idempotency keys"),
            },
        }
    }
}

async fn purge_turn(db: &store::Db, gate: &store::gate::WriteGate) -> Result<u64> {
    let txn = gate.begin(db).await?;
    let purged = store::idempotency::purge_expired(&txn).await?;
    txn.commit().await?;
    Ok(purged)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            super::redact("sqlite://freightgate.db"),
            "sqlite://freightgate.db"
        );
    }
}
