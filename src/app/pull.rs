//! Running pull sources: a run takes the source's lease, fetches its pages from the
//! committed cursor on (`sources::fetch`), and hands each page's items to the unified
//! endpoint's own pipeline; the page's cursor is stored in the transaction that
//! stores its items. The schedule runs each source every `every` (± `jitter`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use serde_json::Value;

use super::App;
use crate::domain::Scope;
use crate::error::{Error, Result};
use crate::ingest::ack::Status;
use crate::ingest::{Incoming, Source, writer::Written};
use crate::sources::definition::Definition;
use crate::sources::fetch;
use crate::store::entities::source_run;
use crate::store::keys::Principal;
use crate::store::{sources, tenancy};
use tokio_util::sync::CancellationToken;

/// Why a run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

/// How long a run's lease lasts without a renewal. A running instance renews it
/// every third of that, so the lease of an instance that died lapses within it and
/// another instance (or the restarted one) can run the source.
const LEASE: Duration = Duration::from_secs(15);

fn lease_until(now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::TimeDelta::MAX)
}

/// Renews the run's lease until aborted; sets `lost` when another instance took it.
async fn heartbeat(app: App, name: String, owner: String, lost: Arc<AtomicBool>) {
    loop {
        tokio::time::sleep(LEASE / 3).await;
        let renewed = async {
            let txn = app.begin().await?;
            let now = Utc::now();
            let kept = sources::lease(&txn, &name, &owner, now, lease_until(now)).await?;
            txn.commit().await?;
            Ok::<_, Error>(kept)
        };
        match renewed.await {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            // The next beat tries again; the lease outlasts two missed beats.
            Err(e) => {
                tracing::warn!(source = name, error = %e, "could not renew the source's lease")
            }
        }
    }
}

/// Runs `source` once: `Ok(None)` when another instance (or task) holds its lease.
pub(crate) async fn run(
    app: &App,
    source: &Definition,
    trigger: Trigger,
) -> Result<Option<source_run::Model>> {
    let owner = app.sources.owner.as_str();
    let now = Utc::now();
    let txn = app.begin().await?;
    let business = tenancy::ensure_business(&txn, &source.business).await?;
    let state = sources::ensure(&txn, &source.name, business.id).await?;
    if !sources::lease(&txn, &source.name, owner, now, lease_until(now)).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    sources::abandon_running(&txn, &source.name, now).await?;
    let cursor = state
        .cursor
        .or_else(|| source.http.cursor.as_ref().and_then(|c| c.initial.clone()));
    let mut record =
        sources::start_run(&txn, &source.name, business.id, trigger.as_str(), cursor).await?;
    txn.commit().await?;
    let principal = Principal {
        key_id: 0,
        business_id: business.id,
        business_slug: business.slug.clone(),
        scopes: vec![Scope::Ingest],
        rate_limit_per_sec: None,
    };
    let started = std::time::Instant::now();
    let lost = Arc::new(AtomicBool::new(false));
    let beat = tokio::spawn(heartbeat(
        app.clone(),
        source.name.clone(),
        owner.to_string(),
        lost.clone(),
    ));
    let result = pages(app, source, &principal, &mut record, &lost).await;
    beat.abort();
    record.finished_at = Some(Utc::now());
    match &result {
        Ok(()) => record.outcome = "succeeded".into(),
        Err(e) => {
            record.outcome = "failed".into();
            record.error = Some(e.clone());
        }
    }
    metrics::counter!("freightgate_source_runs_total", "source" => source.name.clone(), "outcome" => record.outcome.clone()).increment(1);
    metrics::histogram!("freightgate_source_run_seconds", "source" => source.name.clone())
        .record(started.elapsed().as_secs_f64());
    if result.is_ok() {
        metrics::gauge!("freightgate_source_last_success_timestamp_seconds", "source" => source.name.clone())
            .set(Utc::now().timestamp() as f64);
    }
    let txn = app.begin().await?;
    sources::save_run(&txn, &record).await?;
    sources::release(&txn, &source.name, owner).await?;
    txn.commit().await?;
    match &result {
        Ok(()) => tracing::info!(
            source = source.name,
            run = record.id,
            pages = record.pages,
            items = record.items,
            "source run succeeded"
        ),
        Err(e) => tracing::warn!(
            source = source.name,
            run = record.id,
            pages = record.pages,
            error = %e,
            "source run failed; the next run goes on from the committed cursor"
        ),
    }
    Ok(Some(record))
}

/// Fetches and stores pages until the last one, `max_pages`, or a failure (what
/// went wrong, for the run's record).
async fn pages(
    app: &App,
    source: &Definition,
    principal: &Principal,
    record: &mut source_run::Model,
    lost: &AtomicBool,
) -> std::result::Result<(), String> {
    let lost_lease = || "the run lost its lease to another instance".to_string();
    let first = fetch::first_url(source, record.cursor_before.as_deref())?;
    let mut url = first.clone();
    let mut high = record.cursor_before.clone();
    for _ in 0..source.http.max_pages {
        let page = fetch::fetch(&app.sources.client, app.sources.tokens(), source, &url).await?;
        let items = fetch::items(source, &page);
        let next = fetch::next_url(source, &first, &url, &page)?;
        if lost.load(Ordering::SeqCst) {
            return Err(lost_lease());
        }
        if !items.is_empty() {
            high = fetch::high_water(source, &items, high);
            store_page(app, source, principal, record, &items, high.clone())
                .await
                .map_err(|e| format!("storing page {}: {e}", record.pages + 1))?;
        }
        record.pages += 1;
        record.cursor_after = high.clone();
        // Progress is visible while the run goes on.
        let txn = app.begin().await.map_err(|e| e.to_string())?;
        sources::save_run(&txn, record)
            .await
            .map_err(|e| format!("recording the run's progress: {e}"))?;
        txn.commit().await.map_err(|e| e.to_string())?;
        match next {
            Some(next) if !items.is_empty() => url = next,
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// Stores one page's items as one payload, in chunks of the per-payload document cap;
/// the cursor moves with the last chunk.
async fn store_page(
    app: &App,
    source: &Definition,
    principal: &Principal,
    record: &mut source_run::Model,
    items: &[Value],
    cursor: Option<String>,
) -> Result<()> {
    let rules = app.rules.current();
    let max = app.config.max_documents_per_payload.max(1);
    let chunks: Vec<&[Value]> = items.chunks(max).collect();
    let last = chunks.len() - 1;
    for (n, chunk) in chunks.into_iter().enumerate() {
        let body = serde_json::to_vec(chunk).map_err(|e| Error::Internal(e.into()))?;
        let incoming = Incoming {
            principal,
            content_type: Some("application/json"),
            body: body.into(),
            key: None,
            source: Source::Pull {
                source: source.name.clone(),
                run: record.id,
                cursor: if n == last { cursor.clone() } else { None },
            },
        };
        let written = crate::ingest::write(&rules, &app.writer, incoming, max).await?;
        let Written::Fresh(ack) = written else {
            return Err(Error::Internal(anyhow::anyhow!(
                "a pulled page was answered as a repeat"
            )));
        };
        record.items += i32::try_from(chunk.len()).unwrap_or(i32::MAX);
        for result in &ack.results {
            match result.status {
                Status::Rejected => record.rejected += 1,
                _ if result.created => record.created += 1,
                _ => record.updated += 1,
            }
        }
        metrics::counter!("freightgate_source_items_total", "source" => source.name.clone())
            .increment(chunk.len() as u64);
    }
    Ok(())
}

/// Runs every source on its schedule until `shutdown`: the next run is due `every`
/// (± `jitter`) after the last one started, so a restart neither runs a source early
/// nor skips it; a source that never ran runs soon after start-up.
pub fn schedule(app: App, shutdown: CancellationToken) {
    for source in app.sources.definitions() {
        let app = app.clone();
        let shutdown = shutdown.clone();
        let wake = app.sources.wake_handle(&source.name);
        tokio::spawn(async move {
            let mut due = first_due(&app, &source).await;
            loop {
                let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                    _ = wake.notified() => {}
                }
                let paused = sources::state(&app.db, &source.name)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|s| s.paused);
                if !paused && let Err(e) = run(&app, &source, Trigger::Schedule).await {
                    tracing::warn!(source = source.name, error = %e, "the source's run could not start");
                }
                due = Utc::now() + jittered(&source);
            }
        });
    }
}

async fn first_due(app: &App, source: &Definition) -> chrono::DateTime<Utc> {
    let last = sources::runs(&app.db, &source.name, 1, None)
        .await
        .ok()
        .and_then(|runs| runs.into_iter().next());
    match last {
        Some(run) => run.started_at + jittered(source),
        // Never ran: soon, spread over the jitter so that sources do not start at once.
        None => {
            Utc::now() + chrono::Duration::from_std(random_up_to(source.jitter)).unwrap_or_default()
        }
    }
}

fn jittered(source: &Definition) -> chrono::Duration {
    let every = chrono::Duration::from_std(source.every).unwrap_or(chrono::TimeDelta::MAX);
    let jitter = chrono::Duration::from_std(random_up_to(source.jitter * 2)).unwrap_or_default()
        - chrono::Duration::from_std(source.jitter).unwrap_or_default();
    every + jitter
}

fn random_up_to(limit: Duration) -> Duration {
    if limit.is_zero() {
        return Duration::ZERO;
    }
    let most = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=most))
}
