//! Overload protection. Per-key rate limits are token buckets (governor's GCRA); a
//! global concurrency limit and a request timeout turn excess load into 503 with
//! `Retry-After` at once instead of an unbounded queue.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::BoxError;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::server::Shedding;
use crate::config::Config;
use crate::error::{BodyTooSlow, Error, Result};
use crate::store::keys::Principal;

/// One token bucket per API key, created on the key's first request.
pub struct RateLimits {
    default: Option<Quota>,
    buckets: Mutex<HashMap<i64, (Quota, Arc<DefaultDirectRateLimiter>)>>,
    clock: DefaultClock,
}

impl RateLimits {
    /// The configured default quota; keys with their own limit get their own.
    pub fn new(config: &Config) -> Self {
        let default = NonZeroU32::new(config.rate_limit_per_sec).map(|rate| {
            let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(rate);
            Quota::per_second(rate).allow_burst(burst.max(rate))
        });
        Self {
            default,
            buckets: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one token from the key's bucket, or says how long to wait (429).
    pub fn check(&self, principal: &Principal) -> Result<()> {
        let quota = match principal.rate_limit_per_sec.and_then(NonZeroU32::new) {
            Some(own) => Quota::per_second(own),
            None => match self.default {
                Some(quota) => quota,
                None => return Ok(()),
            },
        };
        let limiter = {
            let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            let entry = buckets
                .entry(principal.key_id)
                .or_insert_with(|| (quota, Arc::new(RateLimiter::direct(quota))));
            if entry.0 != quota {
                // The key's limit changed: start a bucket with the new quota.
                *entry = (quota, Arc::new(RateLimiter::direct(quota)));
            }
            entry.1.clone()
        };
        limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            metrics::counter!("freightgate_http_rate_limited_total").increment(1);
            Error::RateLimited {
                // Whole seconds, rounded up: a client that waits that long gets a token.
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

/// Answers for the errors of the load-shed, concurrency-limit and timeout layers.
pub async fn overload_error(shedding: Arc<Shedding>, error: BoxError) -> Error {
    if error.is::<tower::load_shed::error::Overloaded>() {
        shedding.shed();
        metrics::counter!("freightgate_http_shed_total", "reason" => "concurrency").increment(1);
        Error::Overloaded
    } else if error.is::<tower::timeout::error::Elapsed>() {
        metrics::counter!("freightgate_http_shed_total", "reason" => "timeout").increment(1);
        Error::TimedOut
    } else {
        Error::Internal(anyhow::anyhow!("request middleware failed: {error}"))
    }
}

/// How many of something each key has open, with a cap per key: connections per
/// client address, requests in flight per API key.
pub struct Counted<K> {
    max: usize,
    open: Mutex<HashMap<K, usize>>,
}

impl<K: Hash + Eq + Copy> Counted<K> {
    /// At most `max` per key; 0: no cap.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The cap per key (0: none).
    pub fn max(&self) -> usize {
        self.max
    }

    /// One more for `key`, or `None` when it has `max` already. The count goes down
    /// when the slot is dropped.
    pub fn take(self: &Arc<Self>, key: K) -> Option<CountedSlot<K>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key).or_insert(0);
        if self.max > 0 && *count >= self.max {
            return None;
        }
        *count += 1;
        Some(CountedSlot {
            table: self.clone(),
            key,
        })
    }
}

/// One counted thing of a key, given back when dropped.
pub struct CountedSlot<K: Hash + Eq + Copy> {
    table: Arc<Counted<K>>,
    key: K,
}

impl<K: Hash + Eq + Copy> Drop for CountedSlot<K> {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Requests in flight per API key (by a hash of its `Authorization` header), so that
/// one key cannot hold every slot of the process (slow bodies, slow queries).
pub type InFlight = Counted<u64>;

/// Refuses a request with `429 too_many_in_flight` when its key already has
/// `max_requests_per_key` requests running. Keys are told apart by a hash of the
/// `Authorization` header; the key itself is not kept.
pub async fn cap_in_flight_per_key(
    State(table): State<Arc<InFlight>>,
    request: Request,
    next: Next,
) -> Response {
    if table.max() == 0 {
        return next.run(request).await;
    }
    let Some(header) = request.headers().get(AUTHORIZATION) else {
        return next.run(request).await;
    };
    let mut hasher = DefaultHasher::new();
    header.as_bytes().hash(&mut hasher);
    let Some(slot) = table.take(hasher.finish()) else {
        metrics::counter!("freightgate_http_shed_total", "reason" => "key_in_flight").increment(1);
        return Error::KeyBusy { max: table.max() }.into_response();
    };
    let response = next.run(request).await;
    drop(slot);
    response
}

/// The slowest a request body may arrive: a grace period, then a floor in bytes per
/// second averaged from the start.
#[derive(Debug, Clone, Copy)]
pub struct BodyPace {
    pub grace: Duration,
    pub min_bytes_per_sec: u64,
}

impl BodyPace {
    pub fn from_config(config: &Config) -> Self {
        Self {
            grace: Duration::from_millis(config.header_read_timeout_ms),
            min_bytes_per_sec: config.body_min_bytes_per_sec,
        }
    }

    /// How long after the start `received` bytes may take to arrive.
    fn allowance(&self, received: u64) -> Duration {
        self.grace + Duration::from_secs_f64(received as f64 / self.min_bytes_per_sec as f64)
    }
}

/// Wraps each request body so that one arriving slower than the pace fails with
/// [`BodyTooSlow`], which the body extractors answer as `408 body_too_slow`.
pub async fn pace_body(State(pace): State<BodyPace>, request: Request, next: Next) -> Response {
    if pace.min_bytes_per_sec == 0 || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let request = request.map(|body| {
        axum::body::Body::new(PacedBody {
            inner: body,
            received: 0,
            started: Instant::now(),
            pace,
            deadline: Box::pin(tokio::time::sleep(pace.grace)),
        })
    });
    next.run(request).await
}

struct PacedBody {
    inner: axum::body::Body,
    received: u64,
    started: Instant,
    pace: BodyPace,
    deadline: Pin<Box<Sleep>>,
}

impl HttpBody for PacedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let next = this.started + this.pace.allowance(this.received);
                    this.deadline.as_mut().reset(next);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    metrics::counter!("freightgate_http_shed_total", "reason" => "slow_body")
                        .increment(1);
                    Poll::Ready(Some(Err(Box::new(BodyTooSlow {
                        min_bytes_per_sec: this.pace.min_bytes_per_sec,
                        grace_secs: this.pace.grace.as_secs(),
                    }))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(key_id: i64, rate_limit_per_sec: Option<u32>) -> Principal {
        Principal {
            key_id,
            business_id: 1,
            business_slug: "acme".into(),
            scopes: Vec::new(),
            rate_limit_per_sec,
            role: Default::default(),
        }
    }

    #[test]
    fn the_default_bucket_allows_its_burst_then_refuses_with_a_wait() {
        let config = Config {
            rate_limit_per_sec: 2,
            rate_limit_burst: 3,
            ..Config::default()
        };
        let limits = RateLimits::new(&config);
        let key = principal(1, None);
        for _ in 0..3 {
            limits.check(&key).expect("within the burst");
        }
        match limits.check(&key) {
            Err(Error::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        // Buckets are per key.
        limits.check(&principal(2, None)).expect("another key");
    }

    #[test]
    fn a_keys_own_limit_overrides_the_default_and_zero_turns_the_default_off() {
        let off = RateLimits::new(&Config {
            rate_limit_per_sec: 0,
            ..Config::default()
        });
        for _ in 0..1000 {
            off.check(&principal(1, None)).expect("no default limit");
        }
        let own = principal(1, Some(1));
        off.check(&own).expect("first token");
        assert!(matches!(off.check(&own), Err(Error::RateLimited { .. })));
    }
}
