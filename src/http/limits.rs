//! Overload protection. Per-key rate limits are token buckets (governor's GCRA); a
//! global concurrency limit and a request timeout turn excess load into 503 with
//! `Retry-After` at once instead of an unbounded queue.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::BoxError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::error::{Error, Result};
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
            metrics::counter!("http_rate_limited_total").increment(1);
            Error::RateLimited {
                // Whole seconds, rounded up: a client that waits that long gets a token.
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

/// Answers for the errors of the load-shed, concurrency-limit and timeout layers.
pub async fn overload_error(error: BoxError) -> Error {
    if error.is::<tower::load_shed::error::Overloaded>() {
        metrics::counter!("http_shed_total", "reason" => "concurrency").increment(1);
        Error::Overloaded
    } else if error.is::<tower::timeout::error::Elapsed>() {
        metrics::counter!("http_shed_total", "reason" => "timeout").increment(1);
        Error::TimedOut
    } else {
        Error::Internal(anyhow::anyhow!("request middleware failed: {error}"))
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
