//! A closed loop of requests: `CONCURRENCY` connections, each sending its next
//! request when the last one answered, for `secs` seconds. Shared by the benches
//! that compare two ways of reading the same data in one run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const CONCURRENCY: usize = 8;

/// Requests per second answered with a success.
pub async fn drive(
    requests: impl Fn() -> reqwest::RequestBuilder + Send + Sync + 'static,
    secs: u64,
) -> f64 {
    let requests = Arc::new(requests);
    let (done, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (requests, done, stop) = (requests.clone(), done.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let response = requests().send().await.unwrap();
                    assert!(response.status().is_success());
                    response.bytes().await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}
