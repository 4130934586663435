//! Group commit. Requests classify and map their payloads in parallel, then hand the
//! store work to a writer, which applies the payloads that queued up together in one
//! transaction and answers each only after that transaction committed. SQLite has a
//! single writer anyway: this turns its lock, which the waiting connections poll in
//! a sleeping busy handler, into one queue, and many commits into one.
//!
//! The other doors' writes (a REST or GraphQL create) can join the same queue as a
//! [`Task`]: each runs on a unit (a savepoint) of its own in the batch's transaction,
//! so a task that fails undoes only itself, and is answered after the commit too.

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sea_orm::DbErr;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinSet;

use super::ack::Ack;
use super::{Prepared, apply_all};
use crate::error::{Error, Result};
use crate::rules::RuleSummary;
use crate::store::entities::idempotency_key;
use crate::store::gate::{WriteGate, WriteTxn};
use crate::store::idempotency::{self, Claim, Window};
use crate::store::keys::Principal;
use crate::store::unit::{DeliveryBudget, Unit};
use crate::store::{self, Db, inbound};

/// Payloads that may wait for a writer; requests beyond it wait to enqueue.
const QUEUE_DEPTH: usize = 1024;

/// An Idempotency-Key to claim in the payload's own transaction.
#[derive(Debug, Clone)]
pub struct KeyClaim {
    pub key: String,
    pub fingerprint: String,
    pub window: Window,
}

/// What the writer made of a payload.
#[derive(Debug)]
pub enum Written {
    /// Applied and committed: the acknowledgement.
    Fresh(Ack),
    /// The key was used before; nothing was written.
    Earlier(idempotency_key::Model),
}

/// A payload's store work, ready for a writer.
pub(super) struct Payload {
    pub principal: Principal,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub key: Option<KeyClaim>,
    pub logging_id: String,
    pub received_at: DateTime<Utc>,
    /// The prepared items, or the sender's mistake to record and answer with.
    pub work: std::result::Result<Vec<Prepared>, Error>,
    pub rule: Option<RuleSummary>,
    pub source: super::Source,
}

/// Store work of another door, run on a unit of its own in a batch's transaction. It
/// may run more than once: when another job of its batch fails on our side, the
/// batch is rolled back and written again without that job.
pub type Task =
    Box<dyn for<'a> Fn(&'a Unit) -> BoxFuture<'a, Result<Box<dyn Any + Send>>> + Send + Sync>;

enum Work {
    Payload(Box<Payload>),
    Task(Task),
}

/// What a job wrote, given to its request once the transaction committed.
enum Done {
    Payload(Written),
    /// A task's result; its error is in the job's answer, not here.
    Task(Box<dyn Any + Send>),
}

struct Job {
    work: Work,
    answer: oneshot::Sender<Result<Done>>,
    /// The request's span, so the acknowledgement's log line carries its request id.
    span: tracing::Span,
}

/// The queue in front of the writers; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

/// How the writers batch.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Concurrent writers (transactions).
    pub writers: usize,
    /// Payloads per transaction at most.
    pub batch: usize,
    pub strict: crate::config::Strict,
    /// Webhook deliveries one payload may create.
    pub max_deliveries: usize,
    /// Page cache of each writer's SQLite connection, in KiB.
    pub sqlite_cache_kib: u32,
}

impl Settings {
    pub fn from_config(config: &crate::Config) -> Self {
        let writers = match config.ingest_writers {
            0 if config.is_sqlite() => 1,
            0 => 4,
            n => n,
        };
        Self {
            writers,
            batch: config.ingest_batch_max,
            strict: config.strict(),
            max_deliveries: config.webhooks_max_deliveries_per_payload,
            sqlite_cache_kib: config.sqlite_cache_kib,
        }
    }
}

impl Writer {
    /// Starts the writers; they stop once every `Writer` clone is gone and the queue
    /// is empty. The join set ends when they have.
    /// The writers run on connections of their own (one each): on SQLite a
    /// connection's page cache survives only its own writes, so a writer that took
    /// a different pooled connection for every batch would start each one cold.
    pub fn start(db: Db, gate: WriteGate, settings: Settings) -> (Self, JoinSet<()>) {
        Self::start_on(
            store::own_pool(
                &db,
                settings.writers.max(1) as u32,
                settings.sqlite_cache_kib,
            ),
            gate,
            settings,
        )
    }

    /// Starts the writers on `db` as it is: a pool of their own (see [`store::own_pool`]).
    pub fn start_on(db: Db, gate: WriteGate, settings: Settings) -> (Self, JoinSet<()>) {
        let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
        let jobs = Arc::new(Mutex::new(jobs));
        let mut writers = JoinSet::new();
        for _ in 0..settings.writers.max(1) {
            writers.spawn(write_batches(
                db.clone(),
                gate.clone(),
                settings,
                jobs.clone(),
            ));
        }
        (Self { queue }, writers)
    }

    /// Queues the job and waits for its commit.
    pub(super) async fn submit(&self, payload: Payload) -> Result<Written> {
        match self
            .queue_and_wait(Work::Payload(Box::new(payload)))
            .await?
        {
            Done::Payload(written) => Ok(written),
            Done::Task(_) => Err(mixed_up()),
        }
    }

    /// Runs `task` on a unit of its own in the writers' next transaction and gives
    /// its result once that transaction committed. An error undoes what the task
    /// wrote and nothing else of the batch. `task` may run more than once (see
    /// [`Task`]), so it takes what it writes by clone.
    pub async fn run<T, F>(&self, task: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> Fn(&'a Unit) -> BoxFuture<'a, Result<T>> + Send + Sync + 'static,
    {
        let task: Task = Box::new(move |unit| {
            let ran = task(unit);
            Box::pin(async move { ran.await.map(|t| Box::new(t) as Box<dyn Any + Send>) })
        });
        match self.queue_and_wait(Work::Task(task)).await? {
            Done::Task(result) => result.downcast().map(|t| *t).map_err(|_| mixed_up()),
            Done::Payload(_) => Err(mixed_up()),
        }
    }

    async fn queue_and_wait(&self, work: Work) -> Result<Done> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            work,
            answer,
            span: tracing::Span::current(),
        };
        self.queue.send(job).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn mixed_up() -> Error {
    Error::Internal(anyhow::anyhow!(
        "the ingest writer answered a job with another kind's result"
    ))
}

fn stopped() -> Error {
    Error::Internal(anyhow::anyhow!("the ingest writer has stopped"))
}

async fn write_batches(
    db: Db,
    gate: WriteGate,
    settings: Settings,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
) {
    let mut batch = Vec::with_capacity(settings.batch);
    loop {
        // Whatever queued while the previous transaction ran forms the next one,
        // shared out among the writers so that on PostgreSQL concurrent payloads
        // also run in concurrent transactions.
        let taken = {
            let mut jobs = jobs.lock().await;
            let share = (jobs.len() / settings.writers.max(1)).clamp(1, settings.batch);
            jobs.recv_many(&mut batch, share).await
        };
        if taken == 0 {
            return;
        }
        // A request that gave up (timed out, disconnected) was never acknowledged:
        // writing it now would only surprise its sender.
        batch.retain(|job| !job.answer.is_closed());
        if batch.is_empty() {
            continue;
        }
        metrics::histogram!("freightgate_ingest_group_commit_payloads").record(batch.len() as f64);
        commit(&db, &gate, settings, std::mem::take(&mut batch)).await;
    }
}

/// Counts a committed payload by outcome and rule, and its problems by code.
fn count(ack: &Ack) {
    let rule = ack
        .results
        .iter()
        .find_map(|r| r.rule.clone())
        .unwrap_or_else(|| "none".into());
    metrics::counter!(
        "freightgate_ingest_payloads_total",
        "outcome" => ack.outcome.as_str(),
        "rule" => rule
    )
    .increment(1);
    for code in ack
        .problem_codes()
        .iter()
        .flat_map(|c| c.split_whitespace())
    {
        metrics::counter!("freightgate_ingest_problems_total", "code" => code.to_string())
            .increment(1);
    }
}

/// Writes `jobs` in one transaction and answers them after it commits. A payload that
/// fails on our side is answered with its error and the others are written again
/// without it, so one payload never takes the others down with it. A request that
/// gave up before the commit (its timeout, a disconnect) is left out: it was told
/// nothing was written.
async fn commit(db: &Db, gate: &WriteGate, settings: Settings, mut jobs: Vec<Job>) {
    loop {
        let started = Instant::now();
        let txn = match gate.begin(db).await {
            Ok(txn) => txn,
            Err(e) => return fail_all(jobs, e),
        };
        jobs.retain(|job| !job.answer.is_closed());
        if jobs.is_empty() {
            return rollback(txn).await;
        }
        let written = match write_all(&txn, settings, &jobs).await {
            Ok(written) => written,
            Err((index, error)) => {
                rollback(txn).await;
                let _ = jobs.remove(index).answer.send(Err(error));
                continue;
            }
        };
        if jobs.iter().any(|job| job.answer.is_closed()) {
            rollback(txn).await;
            continue;
        }
        if let Err(e) = txn.commit().await {
            return fail_all(jobs, e);
        }
        metrics::histogram!("freightgate_ingest_group_commit_seconds")
            .record(started.elapsed().as_secs_f64());
        for (job, written) in jobs.into_iter().zip(written) {
            if let (Work::Payload(payload), Ok(Done::Payload(Written::Fresh(ack)))) =
                (&job.work, &written)
            {
                job.span.in_scope(|| {
                    tracing::info!(
                        logging_id = payload.logging_id,
                        outcome = ack.outcome.as_str(),
                        status = ack.status().as_u16(),
                        "payload acknowledged"
                    )
                });
                count(ack);
            }
            let _ = job.answer.send(written);
        }
        return;
    }
}

/// Every job's writes (a task's own error among them), or the index of the first
/// job that failed on our side and why.
async fn write_all(
    txn: &WriteTxn,
    settings: Settings,
    jobs: &[Job],
) -> std::result::Result<Vec<Result<Done>>, (usize, Error)> {
    let mut written = Vec::with_capacity(jobs.len());
    for (index, job) in jobs.iter().enumerate() {
        let done = async {
            Ok(match &job.work {
                Work::Payload(payload) => {
                    Ok(Done::Payload(write_one(txn, settings, payload).await?))
                }
                Work::Task(task) => run_task(txn, task).await?.map(Done::Task),
            })
        };
        // A job that panics is the batch's failure, like any error on our side: the
        // batch is written again without it, and the writer lives on.
        let done = std::panic::AssertUnwindSafe(done)
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(Error::Internal(anyhow::anyhow!(
                    "writing the request panicked: {}",
                    panic_message(&*panic)
                )))
            });
        written.push(done.map_err(|e| (index, e))?);
    }
    Ok(written)
}

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

/// A task on a unit of its own: its error (`Ok(Err(…))`) rolls back only the unit.
/// An error in the unit's own begin, release or rollback is the batch's.
async fn run_task(txn: &WriteTxn, task: &Task) -> Result<Result<Box<dyn Any + Send>>> {
    let unit = Unit::begin(txn).await?;
    match task(&unit).await {
        Ok(done) => {
            // The other doors' writes have no delivery budget of their own.
            unit.commit(&mut DeliveryBudget::new(usize::MAX)).await?;
            Ok(Ok(done))
        }
        Err(error) => {
            unit.rollback().await?;
            Ok(Err(error))
        }
    }
}

async fn rollback(txn: WriteTxn) {
    if let Err(e) = txn.rollback().await {
        tracing::warn!(error = %e, "rolling back an ingest transaction failed");
    }
}

/// Nothing of the batch was written: every payload gets the error, none an answer
/// that could be mistaken for an acknowledgement.
fn fail_all(jobs: Vec<Job>, error: DbErr) {
    let error = Error::from_db_err(error);
    tracing::warn!(error = %error.report(), payloads = jobs.len(), "group commit failed; nothing of it was written");
    let unavailable = matches!(error, Error::Unavailable(_));
    let detail = error.to_string();
    for job in jobs {
        let shared = DbErr::Custom(format!("the payload's group commit failed: {detail}"));
        let error = if unavailable {
            Error::Unavailable(shared)
        } else {
            Error::Database(shared)
        };
        let _ = job.answer.send(Err(error));
    }
}

/// One payload inside the batch's transaction: the key claim, the items (a savepoint
/// each), the payload record and the key's stored answer.
async fn write_one(txn: &WriteTxn, settings: Settings, job: &Payload) -> Result<Written> {
    let business_id = job.principal.business_id;
    let claim = match &job.key {
        None => None,
        Some(k) => {
            match idempotency::claim(txn, business_id, &k.key, &k.fingerprint, k.window).await? {
                Claim::Claimed(id) => Some(id),
                Claim::Existing(row) => return Ok(Written::Earlier(row)),
            }
        }
    };
    let ack = match &job.work {
        Err(e) => Ack::problem(&job.logging_id, e),
        Ok(prepared) => {
            let results = apply_all(
                txn,
                settings.strict,
                settings.max_deliveries,
                &job.principal,
                prepared,
            )
            .await?;
            Ack::for_results(&job.logging_id, results)
        }
    };
    let body = ack.stored_body();
    // The rule of the first item that found one: a payload whose items a rule
    // matched but the checks refused still names it.
    let rule = match &job.rule {
        Some(r) => Some((
            r.name.as_str(),
            Some(r.operation.as_str()),
            Some(r.entity.as_str()),
        )),
        None => ack
            .results
            .iter()
            .find_map(|r| r.rule.as_deref().map(|name| (name, r.operation, r.entity))),
    };
    let record = inbound::NewInbound {
        logging_id: &job.logging_id,
        business_id,
        api_key_id: match &job.source {
            super::Source::Pull { .. } | super::Source::Reply { .. } => None,
            _ => Some(job.principal.key_id),
        },
        content_type: job.content_type.as_deref().unwrap_or(""),
        body: &job.body,
        rule: rule.map(|(name, _, _)| name.to_string()),
        operation: rule
            .and_then(|(_, operation, _)| operation)
            .map(str::to_string),
        entity: rule.and_then(|(_, _, entity)| entity).map(str::to_string),
        outcome: ack.outcome.as_str(),
        response: body,
        received_at: job.received_at,
        problem_codes: ack.problem_codes(),
        refs: ack.references(),
        source: job.source.as_str(),
        reprocess_of: match &job.source {
            super::Source::Reprocess { of } => Some(of.as_str()),
            _ => None,
        },
        source_run_id: match &job.source {
            super::Source::Pull { run, .. } => Some(*run),
            _ => None,
        },
        delivery_id: match &job.source {
            super::Source::Reply { delivery, .. } => Some(*delivery),
            _ => None,
        },
    };
    inbound::record(txn, record).await?;
    // A pulled page's cursor moves in the transaction that stores its items: a
    // crash leaves both or neither.
    if let super::Source::Pull {
        source,
        cursor: Some(cursor),
        ..
    } = &job.source
    {
        store::sources::advance(txn, source, cursor).await?;
    }
    if let super::Source::Pull { source, seen, .. } = &job.source
        && !seen.is_empty()
        && ack.refusal.is_none()
    {
        let stored: Vec<(&str, &str)> = seen
            .iter()
            .filter(|item| {
                let mut results = ack.results.iter().filter(|r| r.index == item.index);
                results.clone().next().is_some()
                    && results.all(|r| r.status != super::ack::Status::Rejected)
            })
            .map(|item| (item.key.as_str(), item.digest.as_str()))
            .collect();
        store::sources::remember(txn, source, &stored).await?;
    }
    if let Some(claim) = claim {
        idempotency::finish(txn, claim, ack.status().as_u16(), &job.logging_id).await?;
    }
    Ok(Written::Fresh(ack))
}
