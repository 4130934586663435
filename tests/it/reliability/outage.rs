//! PostgreSQL stopped and started under a running gateway. It stops the machine's
//! shared cluster, so it is ignored in the normal (parallel) suite and run alone by
//! `.ci/pg-outage` after the PostgreSQL suite.

use std::process::Command;
use std::time::{Duration, Instant};

use freightgate::domain::Scope;

use super::{order_payload, retry_after};
use crate::support::{TestApp, assert_problem};

/// The local cluster; dropping the guard starts it again, also when the test fails.
struct Stopped;

fn pg_ctlcluster(action: &str) -> bool {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql lists the cluster versions")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .max()
        .expect("a cluster version");
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .status()
        .is_ok_and(|s| s.success())
}

impl Stopped {
    fn stop() -> Self {
        assert!(pg_ctlcluster("stop"), "could not stop PostgreSQL");
        Stopped
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if !pg_ctlcluster("start") {
            eprintln!("could not start PostgreSQL again: run pg_ctlcluster … main start");
        }
    }
}

async fn ingest(app: &TestApp, key: &str, n: usize) -> reqwest::Response {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .post(app.url("/v1/ingest"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(order_payload(&format!("PG-{n}")))
        .send()
        .await
        .expect("an answer, not a hang")
}

#[tokio::test]
#[ignore = "stops the machine's PostgreSQL; run alone by .ci/pg-outage"]
async fn while_postgresql_is_down_requests_get_503_and_succeed_after_it_is_back() {
    let app = TestApp::spawn_with(|c| {
        c.db_acquire_timeout_ms = 1_000;
        c.rate_limit_per_sec = 0;
    })
    .await;
    assert!(
        app.database.is_postgres(),
        "set TEST_DATABASE_URL to a local PostgreSQL"
    );
    let key = app.key("acme", &[Scope::Ingest, Scope::Read]).await;
    assert_eq!(ingest(&app, &key, 0).await.status(), 201);

    let outage = Stopped::stop();
    let down = Instant::now();
    let refused = ingest(&app, &key, 1).await;
    assert!(
        down.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        down.elapsed()
    );
    assert_eq!(retry_after(&refused), Some(1));
    assert_problem(refused, 503, "unavailable").await;
    let read = app.get("/v1/shipments/1", &key).await;
    assert_problem(read, 503, "unavailable").await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_problem(ready, 503, "unavailable").await;
    drop(outage);
    eprintln!("outage: PostgreSQL was down for {:?}", down.elapsed());

    // The same process recovers: its pool reconnects on its own.
    let up = Instant::now();
    let mut n = 2;
    loop {
        let response = ingest(&app, &key, n).await;
        let status = response.status().as_u16();
        if status == 201 {
            break;
        }
        assert_eq!(status, 503, "only 503 while PostgreSQL comes back");
        assert!(up.elapsed() < Duration::from_secs(30), "never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
        n += 1;
    }
    eprintln!("outage: serving again {:?} after the start", up.elapsed());
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let (orders, _) = super::stored(&app.db).await;
    assert_eq!(
        orders, 2,
        "the order from before the outage and the one after"
    );
}
