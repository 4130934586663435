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
use super::ingest::{Answer, IdempotencyKey};
use crate::error::{Error, Result};
use crate::ingest::ack::{Ack, Status};
use crate::ingest::{Incoming, PulledItem, Source, writer::Written};
use crate::sources::definition::{Complete, Definition, Files, HttpSource, Kind, Schedule};
use crate::sources::fetch;
use crate::sources::files::{self, Dir, Settled};
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
                tracing::warn!(source = name, error = %e.report(), "could not renew the source's lease")
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
    let cursor = state.cursor.or_else(|| source.initial_cursor());
    let mut record =
        sources::start_run(&txn, &source.name, business.id, trigger.as_str(), cursor).await?;
    txn.commit().await?;
    let principal = Principal::ingesting_for(business.id, business.slug.clone());
    let started = std::time::Instant::now();
    let lost = Arc::new(AtomicBool::new(false));
    let beat = tokio::spawn(heartbeat(
        app.clone(),
        source.name.clone(),
        owner.to_string(),
        lost.clone(),
    ));
    let result = match &source.kind {
        Kind::Http(http) => {
            let http = HttpSource {
                name: &source.name,
                http,
            };
            pages(app, &http, &principal, &mut record, &lost).await
        }
        Kind::Folder(files) => match Dir::local(files) {
            Ok(dir) => {
                let taking = Taking {
                    app,
                    source,
                    files,
                    dir: &dir,
                    principal: &principal,
                };
                take_files(&taking, &mut record, &lost).await
            }
            Err(e) => Err(e),
        },
        Kind::Sftp(sftp) => match Dir::sftp(sftp).await {
            Ok(dir) => {
                let taking = Taking {
                    app,
                    source,
                    files: &sftp.files,
                    dir: &dir,
                    principal: &principal,
                };
                take_files(&taking, &mut record, &lost).await
            }
            Err(e) => Err(format!("source `{}`: {e}", source.name)),
        },
    };
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
    // How far behind the partner's data the source is, when its cursor is a time.
    if let Some(at) = record
        .cursor_after
        .as_deref()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
    {
        let lag = (Utc::now() - at.with_timezone(&Utc)).num_milliseconds() as f64 / 1000.0;
        metrics::gauge!("freightgate_source_lag_seconds", "source" => source.name.clone())
            .set(lag.max(0.0));
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
    http: &HttpSource<'_>,
    principal: &Principal,
    record: &mut source_run::Model,
    lost: &AtomicBool,
) -> std::result::Result<(), String> {
    let first = fetch::first_url(http, record.cursor_before.as_deref())?;
    let mut url = first.clone();
    let mut high = record.cursor_before.clone();
    for _ in 0..http.http.max_pages {
        let (page, headers) =
            fetch::fetch(&app.sources.client, app.sources.tokens(), http, &url).await?;
        let items = fetch::items(http, &page);
        let next = fetch::next_url(http, &first, &url, &page, items.len())?;
        if lost.load(Ordering::SeqCst) {
            return Err(lost_lease());
        }
        if !items.is_empty() {
            high = fetch::high_water(http, &items, Some(&headers), high);
            store_page(app, http, principal, record, &items, high.clone())
                .await
                .map_err(|e| format!("storing page {}: {e}", record.pages + 1))?;
        }
        record.pages += 1;
        record.cursor_after = high.clone();
        progress(app, record).await?;
        match next {
            Some(next) if !items.is_empty() => url = next,
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// The run's progress, visible while it goes on.
async fn progress(app: &App, record: &source_run::Model) -> std::result::Result<(), String> {
    let txn = app.begin().await.map_err(|e| e.to_string())?;
    sources::save_run(&txn, record)
        .await
        .map_err(|e| format!("recording the run's progress: {e}"))?;
    txn.commit().await.map_err(|e| e.to_string())
}

fn lost_lease() -> String {
    "the run lost its lease to another instance".to_string()
}

/// Stores one page's items as one payload, in chunks of the per-payload document cap;
/// the cursor moves with the last chunk. Items stored before with the same content
/// are left alone (counted as unchanged).
async fn store_page(
    app: &App,
    source: &HttpSource<'_>,
    principal: &Principal,
    record: &mut source_run::Model,
    items: &[Value],
    cursor: Option<String>,
) -> Result<()> {
    let identified: Vec<(String, String)> = items
        .iter()
        .map(|item| fetch::identify(source, item))
        .collect();
    let keys: Vec<&str> = identified.iter().map(|(key, _)| key.as_str()).collect();
    let stored = sources::digests(&app.db, source.name, &keys).await?;
    let mut fresh: Vec<(&Value, &(String, String))> = Vec::new();
    for (item, id) in items.iter().zip(&identified) {
        if stored.get(&id.0) == Some(&id.1) || fresh.iter().any(|(_, seen)| *seen == id) {
            record.unchanged += 1;
        } else {
            fresh.push((item, id));
        }
    }
    record.items += i32::try_from(items.len()).unwrap_or(i32::MAX);
    metrics::counter!("freightgate_source_items_total", "source" => source.name.to_string())
        .increment(items.len() as u64);
    if fresh.is_empty() {
        // Nothing to store, but the cursor still moves past the page.
        if let Some(cursor) = cursor {
            let txn = app.begin().await?;
            sources::advance(&txn, source.name, &cursor).await?;
            txn.commit().await?;
        }
        return Ok(());
    }
    let rules = app.rules.current();
    let max = app.config.max_documents_per_payload.max(1);
    let chunks: Vec<&[(&Value, &(String, String))]> = fresh.chunks(max).collect();
    let last = chunks.len() - 1;
    for (n, chunk) in chunks.into_iter().enumerate() {
        let documents: Vec<&Value> = chunk.iter().map(|(item, _)| *item).collect();
        let body = serde_json::to_vec(&documents).map_err(|e| Error::Internal(e.into()))?;
        let seen = chunk
            .iter()
            .enumerate()
            .map(|(index, (_, (key, digest)))| PulledItem {
                index,
                key: key.clone(),
                digest: digest.clone(),
            })
            .collect();
        let incoming = Incoming {
            principal,
            content_type: Some("application/json"),
            body: body.into(),
            key: None,
            source: Source::Pull {
                source: source.name.to_string(),
                run: record.id,
                cursor: if n == last { cursor.clone() } else { None },
                seen,
            },
        };
        let written = crate::ingest::write(&rules, &app.writer, incoming, max).await?;
        let Written::Fresh(ack) = written else {
            return Err(Error::Internal(anyhow::anyhow!(
                "a pulled page was answered as a repeat"
            )));
        };
        count(record, &ack);
    }
    Ok(())
}

/// Adds an acknowledgement's results to the run's counts.
fn count(record: &mut source_run::Model, ack: &Ack) {
    for result in &ack.results {
        match result.status {
            Status::Rejected => record.rejected += 1,
            _ if result.created => record.created += 1,
            _ => record.updated += 1,
        }
    }
}

/// What taking a source's files needs.
struct Taking<'a> {
    app: &'a App,
    source: &'a Definition,
    files: &'a Files,
    dir: &'a Dir,
    principal: &'a Principal,
}

/// Takes the directory's complete files, oldest first: each is one payload (read as
/// its Content-Type, or by its extension), stored under a key made of its content so
/// that a file taken again (a crash before it was moved, or the same file sent
/// twice) is recognised and not stored twice. Then it is moved with its
/// acknowledgement, or deleted.
async fn take_files(
    taking: &Taking<'_>,
    record: &mut source_run::Model,
    lost: &AtomicBool,
) -> std::result::Result<(), String> {
    let Taking {
        app,
        source,
        files,
        dir,
        ..
    } = *taking;
    let named = |e: String| format!("source `{}`: {e}", source.name);
    let listing = dir.list().await.map_err(named)?;
    let settled = match &files.complete {
        Complete::Stable(settle) if !listing.is_empty() => {
            tokio::time::sleep(*settle).await;
            Some(dir.list().await.map_err(named)?)
        }
        _ => None,
    };
    for entry in files::ready(files, &listing, settled.as_deref()) {
        if lost.load(Ordering::SeqCst) {
            return Err(lost_lease());
        }
        let (processed, ack) = take_file(taking, record, &entry)
            .await
            .map_err(|e| named(format!("{}: {e}", entry.name)))?;
        dir.settle(
            files,
            &entry,
            Settled {
                processed,
                ack: &ack,
            },
        )
        .await
        .map_err(named)?;
        record.pages += 1;
        progress(app, record).await?;
    }
    Ok(())
}

/// Stores one file; whether it was stored in full, and its acknowledgement.
async fn take_file(
    taking: &Taking<'_>,
    record: &mut source_run::Model,
    entry: &files::Entry,
) -> std::result::Result<(bool, Vec<u8>), String> {
    let Taking {
        app,
        source,
        files,
        dir,
        principal,
    } = *taking;
    let Some(bytes) = dir.read(entry, app.config.max_body_bytes).await? else {
        record.rejected += 1;
        let problem = Error::Invalid {
            code: crate::error::ProblemCode::PayloadTooLarge,
            detail: format!(
                "the file holds {} bytes, more than max_body_bytes ({})",
                entry.size, app.config.max_body_bytes
            ),
            errors: Vec::new(),
        };
        return Ok((false, problem_bytes(&problem)));
    };
    let content_type = files
        .content_type
        .clone()
        .unwrap_or_else(|| crate::rules::formats::content_type_of(&entry.name, &bytes).to_string());
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let key = IdempotencyKey::parse(&format!("source:{}:{digest}", source.name))
        .map_err(|e| e.to_string())?;
    let incoming = Incoming {
        principal,
        content_type: Some(&content_type),
        body: bytes.into(),
        key: None,
        source: Source::Pull {
            source: source.name.clone(),
            run: record.id,
            cursor: None,
            seen: Vec::new(),
        },
    };
    let done = |status: u16| status == 200 || status == 201;
    match super::ingest::ingest(app, incoming, Some(key)).await {
        Ok(Answer::Fresh(ack)) => {
            record.items += i32::try_from(ack.results.len()).unwrap_or(i32::MAX);
            metrics::counter!("freightgate_source_items_total", "source" => source.name.clone())
                .increment(ack.results.len() as u64);
            // A refusal without a result per document still counts once.
            if ack.refusal.is_some() && ack.results.is_empty() {
                record.rejected += 1;
            }
            count(record, &ack);
            let body = serde_json::to_vec_pretty(&ack.body()).unwrap_or_default();
            Ok((done(ack.status().as_u16()), body))
        }
        Ok(Answer::Replayed { status, body }) => {
            record.unchanged += 1;
            Ok((
                done(status.as_u16()),
                serde_json::to_vec_pretty(&body).unwrap_or_default(),
            ))
        }
        // Refused as a whole, as the endpoint would have answered it.
        Err(e) if e.status().is_client_error() && !matches!(e, Error::Conflict { .. }) => {
            record.rejected += 1;
            Ok((false, problem_bytes(&e)))
        }
        Err(e) => Err(format!("storing it: {e}")),
    }
}

fn problem_bytes(error: &Error) -> Vec<u8> {
    serde_json::to_vec_pretty(&error.problem()).unwrap_or_default()
}

/// Runs every source on its schedule until `shutdown`. With `every`, the next run
/// is due `every` (± `jitter`) after the last one started, so a restart neither runs
/// a source early nor skips it, and a source that never ran runs soon after start-up.
/// With `cron`, runs are due at the expression's times (up to `jitter` later).
pub fn schedule(app: App, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut reloads = app.sources.subscribe();
        loop {
            // One task per source; a reload replaces them all (a run under way ends
            // first, with the definition it started with).
            let tasks = shutdown.child_token();
            for source in app.sources.definitions() {
                tokio::spawn(source_schedule(app.clone(), source, tasks.clone()));
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = reloads.changed() => {
                    tasks.cancel();
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// Runs `source` on its schedule until `stop`.
async fn source_schedule(app: App, source: Arc<Definition>, stop: CancellationToken) {
    let wake = app.sources.wake_handle(&source.name);
    let mut due = first_due(&app, &source).await;
    loop {
        let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
        }
        let paused = sources::state(&app.db, &source.name)
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s.paused);
        if !paused && let Err(e) = run(&app, &source, Trigger::Schedule).await {
            tracing::warn!(source = source.name, error = %e.report(), "the source's run could not start");
        }
        due = next_due(&source, Utc::now());
    }
}

async fn first_due(app: &App, source: &Definition) -> chrono::DateTime<Utc> {
    match source.schedule {
        Schedule::Cron { .. } => next_due(source, Utc::now()),
        Schedule::Every(_) => {
            let last = sources::runs(&app.db, &source.name, 1, None)
                .await
                .ok()
                .and_then(|runs| runs.into_iter().next());
            match last {
                Some(run) => next_due(source, run.started_at),
                // Never ran: soon, spread over the jitter so that sources do not
                // start at once.
                None => Utc::now() + to_chrono(random_up_to(source.jitter)),
            }
        }
    }
}

/// When the run after one at `after` is due: the schedule's next time, moved by the
/// jitter (either way for an interval, later for a cron time).
fn next_due(source: &Definition, after: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    let next = source.schedule.next_after(after);
    match source.schedule {
        Schedule::Every(_) => {
            next + to_chrono(random_up_to(source.jitter * 2)) - to_chrono(source.jitter)
        }
        Schedule::Cron { .. } => next + to_chrono(random_up_to(source.jitter)),
    }
}

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or_default()
}

fn random_up_to(limit: Duration) -> Duration {
    if limit.is_zero() {
        return Duration::ZERO;
    }
    let most = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=most))
}
