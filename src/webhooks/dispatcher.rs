//! The dispatcher: claims due deliveries, signs and POSTs them, and records each
//! attempt. A slow or failing endpoint only ever holds its own slots.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::Rng;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::signer::{WebhookSecret, signature_header};
use super::ssrf::{Guard, GuardedResolver};
use crate::config::Config;
use crate::store::entities::delivery;
use crate::store::outbox::{self, AttemptRecord, DELIVERED, FAILED, PENDING};
use crate::store::{Db, webhooks};

/// Largest part of a receiver's answer kept in the attempt log.
const RESPONSE_LOG_BYTES: usize = 4096;
/// Deliveries claimed per round.
const CLAIM_BATCH: u64 = 64;

/// How deliveries are retried and bounded.
#[derive(Debug, Clone)]
pub struct Settings {
    pub schedule: Vec<Duration>,
    pub per_endpoint: usize,
    pub poll: Duration,
    pub lease: Duration,
}

/// Delivers the outbox until shut down.
#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    client: reqwest::Client,
    guard: Arc<Guard>,
    settings: Arc<Settings>,
    owner: Arc<str>,
    inflight: Arc<Mutex<HashMap<i64, usize>>>,
    /// This dispatcher's own writes queue here instead of in SQLite's busy handler,
    /// which sleeps between retries and would pace deliveries at its sleeps.
    writes: Arc<tokio::sync::Mutex<()>>,
}

/// What a receiver made of one push.
struct Answer {
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
}

impl Answer {
    fn failed(error: impl Into<String>) -> Self {
        Self {
            status: None,
            body: None,
            error: Some(error.into()),
            retry_after: None,
        }
    }
}

/// The HTTP client for pushes: no redirects, guarded DNS, bounded timeouts.
pub fn client(config: &Config, guard: Arc<Guard>) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver(guard)))
        .connect_timeout(Duration::from_millis(config.webhooks_connect_timeout_ms))
        .timeout(Duration::from_millis(config.webhooks_timeout_ms))
        .user_agent(concat!("freightgate-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            (at.with_timezone(&Utc) - Utc::now())
                .to_std()
                .unwrap_or_default()
        }
    };
    Some(wait.min(Duration::from_secs(24 * 3600)))
}

fn jitter(delay: Duration) -> Duration {
    delay.mul_f64(rand::rng().random_range(0.8..=1.2))
}

impl Dispatcher {
    /// A dispatcher for `config`; `owner` names this instance in leases.
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        let guard =
            Arc::new(Guard::parse(&config.webhooks_allow_networks).map_err(anyhow::Error::msg)?);
        let settings = Settings {
            schedule: config.retry_schedule().map_err(anyhow::Error::msg)?,
            per_endpoint: config.webhooks_per_endpoint_concurrency,
            poll: Duration::from_millis(config.webhooks_poll_ms.max(10)),
            lease: Duration::from_millis(config.webhooks_timeout_ms) + Duration::from_secs(5),
        };
        Ok(Self {
            client: client(config, guard.clone())?,
            db,
            guard,
            settings: Arc::new(settings),
            owner: format!("dispatcher-{}", uuid::Uuid::now_v7().simple()).into(),
            inflight: Arc::default(),
            writes: Arc::default(),
        })
    }

    /// Runs until `shutdown`, then waits briefly for pushes in flight.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tasks = JoinSet::new();
        loop {
            // A finished push frees a slot: look for more at once rather than at the
            // next tick, so a busy endpoint's queue drains at the receiver's pace.
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.settings.poll) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
            while tasks.try_join_next().is_some() {}
            for delivery in self.claim().await {
                let this = self.clone();
                tasks.spawn(async move { this.deliver(delivery).await });
            }
        }
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .is_err()
        {
            tracing::warn!(
                "webhook pushes still in flight at shutdown; their leases will expire and be retried"
            );
        }
    }

    /// Claims due deliveries, keeping within each endpoint's free slots.
    async fn claim(&self) -> Vec<delivery::Model> {
        let busy: Vec<i64> = self
            .lock()
            .iter()
            .filter(|(_, n)| **n >= self.settings.per_endpoint)
            .map(|(id, _)| *id)
            .collect();
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let claimed = {
            let _turn = self.writes.lock().await;
            outbox::claim(&self.db, &self.owner, lease, CLAIM_BATCH, &busy).await
        };
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim webhook deliveries");
                return Vec::new();
            }
        };
        let (mut keep, mut release) = (Vec::new(), Vec::new());
        {
            let mut inflight = self.lock();
            for d in claimed {
                let slots = inflight.entry(d.endpoint_id).or_default();
                if *slots < self.settings.per_endpoint {
                    *slots += 1;
                    keep.push(d);
                } else {
                    release.push(d.id);
                }
            }
        }
        if !release.is_empty()
            && let Err(e) = outbox::release(&self.db, &self.owner, &release).await
        {
            tracing::warn!(error = %e, "cannot release surplus webhook claims; they wait for their lease");
        }
        keep
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        self.inflight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[tracing::instrument(skip_all, fields(delivery = d.id, endpoint = d.endpoint_id, attempt = d.attempts + 1))]
    async fn deliver(&self, d: delivery::Model) {
        let attempt = d.attempts + 1;
        let attempted_at = Utc::now();
        let started = Instant::now();
        let answer = self.send(&d).await;
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (state, next) = self.next_step(&d, attempt, &answer).await;
        metrics::counter!("webhook_attempts_total", "outcome" => state).increment(1);
        let record = AttemptRecord {
            attempt,
            attempted_at,
            status_code: answer.status,
            duration_ms,
            response_body: answer.body,
            error: answer.error,
            state,
            next_attempt_at: next,
        };
        let recorded = {
            let _turn = self.writes.lock().await;
            outbox::record_attempt(&self.db, d.id, &self.owner, record).await
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "cannot record a webhook attempt; the lease will expire and it is retried");
        }
        if let Some(slots) = self.lock().get_mut(&d.endpoint_id) {
            *slots = slots.saturating_sub(1);
        }
    }

    /// Delivered, dead-lettered, or pending again after the schedule's next delay.
    async fn next_step(
        &self,
        d: &delivery::Model,
        attempt: i32,
        answer: &Answer,
    ) -> (&'static str, chrono::DateTime<Utc>) {
        let now = Utc::now();
        match answer.status {
            Some(s) if (200..300).contains(&s) => return (DELIVERED, now),
            Some(410) => {
                if let Err(e) = webhooks::disable_by_id(
                    &self.db,
                    d.endpoint_id,
                    "the receiver answered 410 Gone",
                )
                .await
                {
                    tracing::warn!(error = %e, "cannot disable an endpoint that answered 410");
                }
                tracing::warn!(
                    endpoint = d.endpoint_id,
                    "endpoint answered 410 Gone and is disabled"
                );
                return (FAILED, now);
            }
            _ => {}
        }
        let Some(delay) = self.settings.schedule.get(attempt as usize) else {
            tracing::warn!(
                delivery = d.id,
                attempts = attempt,
                "webhook delivery dead-lettered"
            );
            return (FAILED, now);
        };
        let wait = jitter(*delay).max(answer.retry_after.unwrap_or_default());
        (
            PENDING,
            now + chrono::Duration::from_std(wait).unwrap_or_default(),
        )
    }

    async fn send(&self, d: &delivery::Model) -> Answer {
        let (message, endpoint) = match (
            outbox::message_by_id(&self.db, d.message_id).await,
            webhooks::by_id(&self.db, d.endpoint_id).await,
        ) {
            (Ok(Some(m)), Ok(Some(e))) => (m, e),
            _ => return Answer::failed("the message or endpoint could not be loaded"),
        };
        let url = match reqwest::Url::parse(&endpoint.url) {
            Ok(url) => url,
            Err(e) => return Answer::failed(format!("invalid endpoint URL: {e}")),
        };
        let literal = url
            .host_str()
            .and_then(|h| h.trim_matches(['[', ']']).parse().ok());
        if literal.is_some_and(|ip| !self.guard.permits(ip)) {
            return Answer::failed("the endpoint's address is private or reserved and not allowed");
        }
        let mut secrets: Vec<WebhookSecret> =
            WebhookSecret::parse(&endpoint.secret).into_iter().collect();
        if endpoint
            .previous_secret_expires_at
            .is_some_and(|t| t > Utc::now())
            && let Some(old) = endpoint
                .previous_secret
                .as_deref()
                .and_then(|s| WebhookSecret::parse(s).ok())
        {
            secrets.push(old);
        }
        let timestamp = Utc::now().timestamp();
        let signature = signature_header(
            &secrets,
            &message.webhook_id,
            timestamp,
            message.body.as_bytes(),
        );
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &message.webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(message.body);
        match request.send().await {
            Ok(response) => read_answer(response).await,
            Err(e) => Answer::failed(describe(&e)),
        }
    }
}

async fn read_answer(mut response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let mut body = Vec::new();
    while body.len() < RESPONSE_LOG_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(RESPONSE_LOG_BYTES);
    Answer {
        status: Some(status),
        body: Some(String::from_utf8_lossy(&body).into_owned()),
        error: None,
        retry_after,
    }
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = format!("{kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
