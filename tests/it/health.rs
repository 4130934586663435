use crate::support::TestApp;

#[tokio::test]
async fn healthz_answers_while_the_process_is_up() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_answers_when_the_database_is_reachable() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool() {
    let app = TestApp::spawn().await;
    app.client.get(app.url("/healthz")).send().await.unwrap();
    app.client
        .get(app.url("/v1/orders/1"))
        .send()
        .await
        .unwrap();
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"freightgate_http_requests_total{method="GET",route="/v1/orders/{id}",status="401"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE freightgate_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(text.contains(
        r#"freightgate_http_request_duration_seconds_bucket{route="/healthz",le="0.005"}"#
    ));
    assert!(
        text.contains(r#"freightgate_db_pool_connections{state="open"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"freightgate_db_pool_connections{state="idle"}"#),
        "{text}"
    );
}

/// The memory gauges place a growing resident set: the process's own figure, and on
/// SQLite what SQLite itself holds (the test binary keeps the system allocator, so
/// mimalloc's part is absent here).
#[tokio::test]
async fn metrics_show_the_resident_set_and_sqlite_s_share_of_it() {
    let app = TestApp::spawn().await;
    let text = app.metrics().await;
    let part = |name: &str| -> Option<f64> {
        let prefix = format!("freightgate_memory_bytes{{part=\"{name}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map(|value| value.parse().unwrap())
    };
    let resident = part("resident").expect("the resident set is shown");
    assert!(resident > 1e6, "resident {resident} bytes:\n{text}");
    if !app.database.is_postgres() {
        let sqlite = part("sqlite").expect("SQLite's share is shown on SQLite");
        assert!(
            sqlite > 0.0 && sqlite < resident,
            "sqlite {sqlite} of {resident} bytes"
        );
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    assert!(part("c_heap_in_use").unwrap() > 0.0, "{text}");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_sent_one_is_kept() {
    let app = TestApp::spawn().await;
    let generated = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let kept = app
        .client
        .get(app.url("/v1/shipments/1"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-me-42");
}

/// Histogram samples wait in the recorder until they are folded into buckets; a
/// thread folds them every few seconds, so a gateway nobody scrapes does not keep
/// every request's sample.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn histogram_samples_are_folded_without_a_scrape() {
    let _app = TestApp::spawn().await;
    freightgate::telemetry::metrics_handle();
    let threads: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect();
    assert!(
        threads
            .iter()
            .any(|name| name == freightgate::telemetry::UPKEEP_THREAD),
        "no {} thread among {threads:?}",
        freightgate::telemetry::UPKEEP_THREAD
    );
}
