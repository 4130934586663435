//! Load drivers: closed loop (fixed concurrency, as fast as answers come) and open loop
//! (fixed request rate, latency measured from the scheduled send time so a stalled
//! server cannot hide its queueing delay).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one phase produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ok: u64,
    pub errors: u64,
    /// Scheduled sends skipped because `MAX_IN_FLIGHT` requests were already waiting.
    pub dropped: u64,
    pub latencies_us: Vec<u32>,
    pub elapsed: Duration,
    pub first_error: Option<String>,
}

impl Outcome {
    fn record(&mut self, result: Result<(), String>, latency: Duration) {
        match result {
            Ok(()) => {
                self.ok += 1;
                self.latencies_us
                    .push(latency.as_micros().min(u128::from(u32::MAX)) as u32);
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Upper bound on outstanding requests in the open loop.
pub const MAX_IN_FLIGHT: usize = 4096;

/// `concurrency` workers each send the next request as soon as the previous one answered.
pub async fn closed<F, Fut>(concurrency: usize, duration: Duration, op: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let op = Arc::new(op);
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, seq) = (op.clone(), seq.clone());
            tokio::spawn(async move {
                let mut out = Outcome::default();
                while Instant::now() < deadline {
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let result = op(n).await;
                    out.record(result, t.elapsed());
                }
                out
            })
        })
        .collect();
    let mut total = Outcome::default();
    for w in workers {
        total.merge(w.await.expect("load worker panicked"));
    }
    total.elapsed = started.elapsed();
    total
}

/// Sends `rate` requests per second for `duration`, whatever the answers do.
pub async fn open<F, Fut>(rate: f64, duration: Duration, op: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let op = Arc::new(op);
    let shared = Arc::new(Mutex::new(Outcome::default()));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let period = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let total = (duration.as_secs_f64() * rate.max(1.0)) as u64;
    let started = Instant::now();
    let mut dropped = 0;
    for n in 0..total {
        let scheduled = started + period.mul_f64(n as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            dropped += 1;
            continue;
        };
        let (op, shared) = (op.clone(), shared.clone());
        tokio::spawn(async move {
            let result = op(n).await;
            let latency = scheduled.elapsed();
            shared.lock().unwrap().record(result, latency);
            drop(permit);
        });
    }
    // Let the stragglers finish (bounded), so their latency counts.
    let _ = tokio::time::timeout(
        Duration::from_secs(30),
        in_flight.acquire_many(MAX_IN_FLIGHT as u32),
    )
    .await;
    let elapsed = started.elapsed();
    let mut out = std::mem::take(&mut *shared.lock().unwrap());
    out.dropped = dropped;
    out.elapsed = elapsed;
    out
}
