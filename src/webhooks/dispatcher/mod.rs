//! The dispatcher: claims due deliveries in batches with a lease, pushes them through
//! one lane per endpoint, and records the attempts of many pushes in one
//! transaction. A slow or failing endpoint only ever fills its own lane.

mod batches;
mod brokers;
mod lanes;
mod push;
mod record;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::Rng;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use self::lanes::{Change, Job, Lanes, Next, still_fruitless};
use self::push::{Answer, OutboundPush, Target};
use crate::config::Config;
use crate::domain::DeliveryState;
use crate::outbound::Outbound;
use crate::sources::fetch::Tokens;
use crate::store::dispatch::{self, AttemptRecord};
use crate::store::gate::WriteGate;
use crate::store::{Db, webhooks};
use crate::webhooks::ssrf::Guard;

pub use self::push::client;

/// Endpoints a claim round takes deliveries for, at most; the next round goes on
/// from the last of them.
const CLAIM_ENDPOINTS: u64 = 64;
/// Deliveries a claim round takes for one endpoint, at most.
const CLAIM_PER_ENDPOINT: u64 = 256;
/// Deliveries waiting in a lane per concurrent push before its endpoint is left out
/// of claims: enough to keep the pushes going between claim rounds.
const LANE_DEPTH_PER_PUSH: usize = 32;
/// Attempts written per transaction at most.
const RECORD_BATCH: usize = 512;
/// How long the attempt log waits for more attempts to share a transaction with.
const RECORD_LINGER: Duration = Duration::from_millis(2);
/// How often held leases are extended. Leases last the push timeout plus five
/// seconds, so a renewal that is late by a few seconds still covers every push.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// A push starts only if its lease outlasts the push's timeout by this much.
const LEASE_MARGIN: Duration = Duration::from_secs(1);

/// A partner's answer to an outbound delivery whose mapping sends answers through
/// the ingest rules.
#[derive(Debug, Clone)]
pub struct Reply {
    pub business_id: i64,
    pub target: String,
    pub mapping: String,
    pub delivery_id: i64,
    pub status: u16,
    /// The event the delivery carried (the body a webhook push would carry).
    pub event: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Where partners' answers go: the ingest rules (see `app::outbound`).
#[async_trait::async_trait]
pub trait Replies: Send + Sync {
    /// Takes a reply through the rules; the error says why it was not taken.
    async fn take(&self, reply: Reply) -> Result<(), String>;
}

/// How deliveries are retried and bounded.
#[derive(Debug, Clone)]
pub struct Settings {
    pub schedule: Vec<Duration>,
    pub per_endpoint: usize,
    pub poll: Duration,
    pub timeout: Duration,
    pub lease: Duration,
    /// Longest pause between pushes to an endpoint that keeps failing (zero: none).
    pub failing_pause_max: Duration,
}

/// Delivers the outbox until shut down.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    client: reqwest::Client,
    guard: Arc<Guard>,
    /// Pushes go through `webhooks_proxy`: targets are checked before each push.
    proxied: bool,
    settings: Settings,
    owner: String,
    lanes: Mutex<Lanes>,
    /// Until when every lease this dispatcher holds is known to run.
    leased_until: Mutex<Instant>,
    /// The process's writes queue here instead of in SQLite's busy handler, which
    /// sleeps between retries and would pace deliveries at its sleeps.
    writes: WriteGate,
    /// Rings when a lane has room for another claim.
    room: Notify,
    /// The last look that found nothing outside full lanes: when, and which were full.
    fruitless: Mutex<Option<(Instant, Vec<i64>)>>,
    /// The endpoint the last claim round ended with; the next starts after it.
    claimed_up_to: Mutex<i64>,
    /// The outbound targets, for the rows that stand for them.
    outbound: Arc<Outbound>,
    /// OAuth 2.0 access tokens of outbound targets.
    tokens: Tokens,
    /// Outbound targets' secrets read from files.
    secrets: push::SecretCache,
    /// NATS targets' connections.
    brokers: brokers::Brokers,
    /// Where partners' answers go.
    replies: Option<Arc<dyn Replies>>,
    reply_limit: usize,
    /// When the dispatcher last looked for batch files to make.
    batches_looked: Mutex<Option<Instant>>,
    /// Held by each of the dispatcher's own write transactions (see
    /// [`Dispatcher::begin_own`]).
    own_writes: Arc<tokio::sync::Mutex<()>>,
}

/// One push's attempt, on its way to the attempt log.
struct Outcome {
    endpoint_id: i64,
    record: AttemptRecord,
}

fn jitter(delay: Duration) -> Duration {
    delay.mul_f64(rand::rng().random_range(0.8..=1.2))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Dispatcher {
    /// A dispatcher for `config`, with a lease owner name of its own.
    /// Its statements run on connections of its own (see
    /// [`crate::store::dispatcher_pool`]). `gate` is the write queue the process's
    /// other writers use.
    pub fn new(db: Db, config: &Config, gate: WriteGate) -> anyhow::Result<Self> {
        let db = crate::store::dispatcher_pool(&db, config.sqlite_cache_kib);
        let guard = Arc::new(Guard::from_config(config));
        let timeout = Duration::from_millis(config.webhooks_timeout_ms);
        let settings = Settings {
            schedule: config.retry_schedule().to_vec(),
            per_endpoint: config.webhooks_per_endpoint_concurrency,
            poll: Duration::from_millis(config.webhooks_poll_ms.max(10)),
            timeout,
            lease: timeout + Duration::from_secs(5),
            failing_pause_max: Duration::from_millis(config.webhooks_failing_pause_max_ms),
        };
        let lanes = Lanes::new(
            settings.per_endpoint,
            settings.per_endpoint * LANE_DEPTH_PER_PUSH,
            settings.failing_pause_max,
        );
        Ok(Self {
            inner: Arc::new(Inner {
                client: client(config, guard.clone())?,
                db,
                guard,
                proxied: config.webhooks_proxy.is_some(),
                settings,
                owner: format!("dispatcher-{}", uuid::Uuid::now_v7().simple()),
                lanes: Mutex::new(lanes),
                leased_until: Mutex::new(Instant::now()),
                writes: gate,
                room: Notify::new(),
                fruitless: Mutex::new(None),
                claimed_up_to: Mutex::new(0),
                outbound: Arc::new(Outbound::empty()),
                tokens: Tokens::default(),
                secrets: push::SecretCache::default(),
                brokers: brokers::Brokers::default(),
                replies: None,
                reply_limit: config.max_body_bytes,
                batches_looked: Mutex::new(None),
                own_writes: Arc::default(),
            }),
        })
    }

    /// The same dispatcher, sending the deliveries of outbound targets as `outbound`
    /// declares them. Called before [`Dispatcher::run`].
    pub fn with_outbound(mut self, outbound: Arc<Outbound>, replies: Arc<dyn Replies>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => {
                inner.outbound = outbound;
                inner.replies = Some(replies);
            }
            None => tracing::error!("the dispatcher is already running; outbound targets not set"),
        }
        self
    }

    /// Runs until `shutdown`, then gives back what it has not started and waits
    /// briefly for pushes in flight.
    pub async fn run(self, shutdown: CancellationToken) {
        crate::store::open_connections(&self.inner.db).await;
        let (outcomes, recorded) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(self.clone().record(recorded));
        let mut workers = JoinSet::new();
        let mut renewal = tokio::time::interval(RENEW_EVERY);
        renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // An interval, not a sleep renewed every round: renewals must not keep
        // postponing the poll.
        let mut poll = tokio::time::interval(self.inner.settings.poll);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = renewal.tick() => {
                    self.renew().await;
                    continue;
                }
                _ = poll.tick() => {
                    self.make_batches().await;
                }
                _ = self.inner.room.notified() => {}
                // This process committed deliveries: claim them now, not at the poll.
                _ = self.inner.writes.deliveries_committed() => {}
            }
            while workers.try_join_next().is_some() {}
            for endpoint in self.claim().await {
                let work = self
                    .clone()
                    .work(endpoint, outcomes.clone(), shutdown.clone());
                workers.spawn(work);
            }
        }
        let waiting = lock(&self.inner.lanes).drain(None);
        self.give_back(&waiting).await;
        let drain = async { while workers.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .is_err()
        {
            tracing::warn!(
                "webhook pushes still in flight at shutdown; their leases will expire and be retried"
            );
        }
        workers.shutdown().await;
        drop(outcomes);
        let _ = recorder.await;
    }

    /// Claims due deliveries for every lane with room; answers one endpoint id per
    /// worker to start.
    async fn claim(&self) -> Vec<i64> {
        let inner = &self.inner;
        let full = {
            let mut lanes = lock(&inner.lanes);
            lanes.full(Instant::now())
        };
        if self.recently_fruitless(&full) {
            return Vec::new();
        }
        let lease = chrono::Duration::from_std(inner.settings.lease).unwrap_or_default();
        let started = Instant::now();
        let after = *lock(&inner.claimed_up_to);
        let claimed = async {
            let now = Utc::now();
            let due =
                dispatch::due_endpoints(&inner.db, now, &full, after, CLAIM_ENDPOINTS).await?;
            if due.is_empty() {
                return Ok(Vec::new());
            }
            let claimed = dispatch::claim(
                &inner.writes,
                &inner.db,
                &inner.owner,
                now,
                lease,
                CLAIM_PER_ENDPOINT,
                due,
            )
            .await?;
            Ok::<_, crate::error::Error>(claimed)
        }
        .await;
        let claimed = match claimed {
            Ok(claimed) if claimed.is_empty() => {
                if !full.is_empty() {
                    *lock(&inner.fruitless) = Some((Instant::now(), full));
                }
                return Vec::new();
            }
            Ok(claimed) => {
                if let Some(last) = claimed.last() {
                    *lock(&inner.claimed_up_to) = last.endpoint_id;
                }
                claimed
            }
            Err(e) => {
                tracing::warn!(error = %e.report(), "cannot claim webhook deliveries");
                return Vec::new();
            }
        };
        let jobs = match self.prepare(claimed).await {
            Ok(jobs) => jobs,
            Err((e, ids)) => {
                tracing::warn!(error = %e.report(), "cannot load claimed webhook deliveries");
                self.give_back(&ids).await;
                return Vec::new();
            }
        };
        let mut lanes = lock(&inner.lanes);
        if lanes.is_empty() {
            *lock(&inner.leased_until) = started + inner.settings.lease;
        }
        jobs.into_iter()
            .filter_map(|job| {
                let endpoint = job.delivery.endpoint_id;
                lanes.push(job).then_some(endpoint)
            })
            .collect()
    }

    /// True when a look found nothing outside full lanes a moment ago and every lane
    /// full then still is: no lane has room it lacked then, so only time can have
    /// brought due work elsewhere.
    fn recently_fruitless(&self, full: &[i64]) -> bool {
        still_fruitless(lock(&self.inner.fruitless).as_ref(), full, Instant::now())
    }

    /// Loads the endpoints of a claim and the messages it did not read itself, a
    /// query each for the batch.
    async fn prepare(
        &self,
        mut claimed: Vec<dispatch::Claimed>,
    ) -> Result<Vec<Job>, (crate::error::Error, Vec<i64>)> {
        let db = &self.inner.db;
        let ids: Vec<i64> = claimed.iter().map(|d| d.id).collect();
        let mut read: HashMap<i64, dispatch::Payload> = HashMap::new();
        for d in &mut claimed {
            if let Some(payload) = d.payload.take() {
                read.insert(d.message_id, payload);
            }
        }
        let mut message_ids: Vec<i64> = claimed
            .iter()
            .map(|d| d.message_id)
            .filter(|id| !read.contains_key(id))
            .collect();
        let mut endpoint_ids: Vec<i64> = claimed.iter().map(|d| d.endpoint_id).collect();
        message_ids.sort_unstable();
        message_ids.dedup();
        endpoint_ids.sort_unstable();
        endpoint_ids.dedup();
        let loaded = tokio::try_join!(
            dispatch::payloads(db, &message_ids),
            webhooks::by_ids(db, &endpoint_ids),
        );
        let (messages, endpoints) = loaded.map_err(|e| (e, ids))?;
        let mut messages: HashMap<i64, _> = messages.into_iter().collect();
        messages.extend(read);
        let targets: HashMap<i64, Arc<Target>> = endpoints
            .iter()
            .map(|e| {
                let target = Target::new(e, &self.inner.guard, &self.inner.outbound);
                (e.id, Arc::new(target))
            })
            .collect();
        // A message is pushed to several endpoints: only the last of them takes it
        // without a copy.
        let mut remaining: HashMap<i64, usize> = HashMap::new();
        for d in &claimed {
            *remaining.entry(d.message_id).or_default() += 1;
        }
        Ok(claimed
            .into_iter()
            .filter_map(|delivery| {
                let target = targets.get(&delivery.endpoint_id)?.clone();
                let left = remaining.get_mut(&delivery.message_id)?;
                *left -= 1;
                let message = if *left == 0 {
                    messages.remove(&delivery.message_id)?
                } else {
                    messages.get(&delivery.message_id)?.clone()
                };
                Some(Job {
                    delivery,
                    message,
                    target,
                })
            })
            .collect())
    }

    /// Drains one endpoint's lane, one push at a time, pausing while it fails.
    async fn work(
        self,
        endpoint: i64,
        outcomes: mpsc::UnboundedSender<Outcome>,
        shutdown: CancellationToken,
    ) {
        loop {
            let next = lock(&self.inner.lanes).next(endpoint, Instant::now());
            let job = match next {
                Next::Push { job, refill } => {
                    if refill {
                        self.inner.room.notify_one();
                    }
                    job
                }
                Next::Retire => return,
                Next::Wait(until) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until.into()) => continue,
                        _ = shutdown.cancelled() => {
                            lock(&self.inner.lanes).retire(endpoint);
                            return;
                        }
                    }
                }
            };
            if !self.lease_covers_a_push() {
                // Another dispatcher may take it over once the lease runs out.
                lock(&self.inner.lanes).done(endpoint, job.delivery.id);
                continue;
            }
            let record = self.attempt(job).await;
            if outcomes
                .send(Outcome {
                    endpoint_id: endpoint,
                    record,
                })
                .is_err()
            {
                return;
            }
        }
    }

    /// A write transaction of the dispatcher's own (attempt log, lease renewal,
    /// give-back, 410 disable), one at a time. On SQLite the write gate orders them anyway; on
    /// PostgreSQL nothing did, and an attempt log and a renewal running side by
    /// side update the same deliveries in different orders: under a soak they
    /// deadlocked about every four minutes, the log lost, and its attempts were sent
    /// again once their leases ran out.
    async fn begin_own(
        &self,
    ) -> Result<
        (
            tokio::sync::OwnedMutexGuard<()>,
            crate::store::gate::WriteTxn,
        ),
        sea_orm::DbErr,
    > {
        let own = self.inner.own_writes.clone().lock_owned().await;
        let txn = self.inner.writes.begin(&self.inner.db).await?;
        Ok((own, txn))
    }

    fn lease_covers_a_push(&self) -> bool {
        let until = *lock(&self.inner.leased_until);
        until.saturating_duration_since(Instant::now()) > self.inner.settings.timeout + LEASE_MARGIN
    }

    #[tracing::instrument(skip_all, fields(delivery = job.delivery.id, endpoint = job.delivery.endpoint_id, attempt = job.delivery.attempts + 1))]
    async fn attempt(&self, job: Job) -> AttemptRecord {
        let attempt = job.delivery.attempts + 1;
        let attempted_at = Utc::now();
        let started = Instant::now();
        let answer = if job.target.is_outbound() {
            let push = OutboundPush {
                client: &self.inner.client,
                guard: &self.inner.guard,
                proxied: self.inner.proxied,
                tokens: &self.inner.tokens,
                timeout: self.inner.settings.timeout,
                reply_limit: self.inner.reply_limit,
                secrets: &self.inner.secrets,
                brokers: &self.inner.brokers,
            };
            push::send_outbound(
                &push,
                &job.target,
                job.delivery.rendered.as_ref(),
                &job.message,
            )
            .await
        } else {
            let proxied = self.inner.proxied.then_some(&*self.inner.guard);
            push::send(&self.inner.client, &job.target, &job.message, proxied).await
        };
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        self.pace(job.delivery.endpoint_id, &answer);
        let (state, next_attempt_at) = self.next_step(&job, attempt, &answer).await;
        let mut answer = answer;
        if let Some(body) = answer.reply.take() {
            let reply = Reply {
                business_id: body.business_id,
                target: body.target,
                mapping: body.mapping,
                delivery_id: job.delivery.id,
                status: answer.status.unwrap_or_default(),
                event: job.message.body.clone(),
                content_type: body.content_type,
                body: body.bytes,
            };
            let taken = match &self.inner.replies {
                Some(replies) => replies.take(reply).await,
                None => Err("this process takes no replies".into()),
            };
            if let Err(why) = taken {
                tracing::warn!(delivery = job.delivery.id, error = %why, "a partner's reply was not taken");
                answer.error = Some(format!("delivered, but the reply was not taken: {why}"));
            }
        }
        let rendered = answer.rendered;
        let outcome = match state {
            DeliveryState::Delivered => "delivered",
            _ => "failed",
        };
        metrics::counter!("freightgate_webhook_attempts_total", "outcome" => outcome).increment(1);
        if state == DeliveryState::Failed {
            metrics::counter!("freightgate_webhook_dead_letters_total").increment(1);
        }
        AttemptRecord {
            delivery_id: job.delivery.id,
            attempt,
            attempted_at,
            status_code: answer.status,
            duration_ms,
            response_body: answer.body,
            error: answer.error,
            state,
            next_attempt_at,
            rendered,
        }
    }

    /// Notes the answer for the endpoint's pacing; logs when it starts failing and
    /// when it answers again. A 410 disables the endpoint instead.
    fn pace(&self, endpoint: i64, answer: &Answer) {
        if answer.status == Some(410) {
            return;
        }
        let ok = answer.ok;
        let change = {
            let mut lanes = lock(&self.inner.lanes);
            lanes.answered(endpoint, ok, answer.retry_after, Instant::now())
        };
        match change {
            Some(Change::StartedFailing) => {
                tracing::warn!(
                    endpoint,
                    status = answer.status,
                    error = answer.error.as_deref(),
                    "webhook endpoint is failing; its pushes go one at a time, with growing pauses, until it answers"
                );
            }
            Some(Change::Recovered(failures)) => {
                tracing::info!(endpoint, failures, "webhook endpoint answers again");
            }
            None => {}
        }
    }

    /// Delivered, dead-lettered, or pending again after the schedule's next delay.
    async fn next_step(
        &self,
        job: &Job,
        attempt: i32,
        answer: &Answer,
    ) -> (DeliveryState, chrono::DateTime<Utc>) {
        let now = Utc::now();
        if answer.ok {
            return (DeliveryState::Delivered, now);
        }
        if answer.permanent {
            tracing::warn!(
                delivery = job.delivery.id,
                error = answer.error.as_deref(),
                "outbound delivery dead-lettered: it cannot be sent as it is"
            );
            return (DeliveryState::Failed, now);
        }
        match answer.status {
            // A partner's 410 is about one request; a webhook receiver's, about itself.
            Some(410) if !job.target.is_outbound() => {
                self.disable(job.delivery.endpoint_id).await;
                return (DeliveryState::Failed, now);
            }
            _ => {}
        }
        // A replay starts the schedule again; the attempt numbers go on.
        let retry = attempt - job.delivery.attempts_before_replay;
        let Some(delay) = self.inner.settings.schedule.get(retry as usize) else {
            tracing::warn!(
                delivery = job.delivery.id,
                attempts = attempt,
                "webhook delivery dead-lettered"
            );
            return (DeliveryState::Failed, now);
        };
        let wait = jitter(*delay).max(answer.retry_after.unwrap_or_default());
        (
            DeliveryState::Pending,
            now + chrono::Duration::from_std(wait).unwrap_or_default(),
        )
    }

    /// An endpoint that answered 410 Gone: disabled, and what its lane still held
    /// goes back to wait for it to be enabled again.
    async fn disable(&self, endpoint: i64) {
        let reason = "the receiver answered 410 Gone";
        let disabled = async {
            let (_own, txn) = self.begin_own().await?;
            webhooks::disable_by_id(&txn, endpoint, reason).await?;
            Ok::<_, crate::error::Error>(txn.commit().await?)
        }
        .await;
        if let Err(e) = disabled {
            tracing::warn!(error = %e.report(), "cannot disable an endpoint that answered 410");
        }
        tracing::warn!(endpoint, "endpoint answered 410 Gone and is disabled");
        let waiting = lock(&self.inner.lanes).drain(Some(endpoint));
        self.give_back(&waiting).await;
    }
}
