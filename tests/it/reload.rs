//! Rules reload without restart: on file change and SIGHUP, atomically, keeping the
//! previous set when the new one is broken.

use std::path::Path;
use std::time::{Duration, Instant};

use freightgate::domain::Scope;
use freightgate::rules::LoadOptions;
use freightgate::rules::live::LiveRules;
use serde_json::json;

use crate::support::TestApp;

const CANCEL_RULE: &str = r#"
[[rule]]
name = "cancel-by-ref"
operation = "cancel"
entity = "order"
match = { path = "$.cancel", exists = true }
map = { order_number = "$.cancel" }
"#;

const CREATE_RULE: &str = r#"
[[rule]]
name = "create-by-ref"
operation = "create"
entity = "order"
match = { path = "$.ref", exists = true }
map = { order_number = "$.ref", customer = { value = "WALK-IN" } }
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn a_reload_swaps_in_the_new_rules_and_a_broken_file_keeps_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", CANCEL_RULE);
    let (live, report) = LiveRules::load(dir.path(), LoadOptions::default()).unwrap();
    assert_eq!(report.rules, 1);
    let before = live.current();
    write(dir.path(), "b.toml", CREATE_RULE);
    live.reload().unwrap();
    assert_eq!(live.current().len(), 2);
    assert_eq!(
        before.len(),
        1,
        "a request holding the old set keeps seeing it whole"
    );
    write(
        dir.path(),
        "c.toml",
        "[[rule]]\nname = \"broken\"\nmatch = { path = \"$[\", exists = true }\n",
    );
    let report = live.reload().unwrap_err();
    assert!(
        report.errors.iter().any(|e| e.file.contains("c.toml")),
        "{report:?}"
    );
    assert_eq!(
        live.current().len(),
        2,
        "the previous good set stays in use"
    );
}

async fn post_ref(app: &TestApp, key: &str) -> u16 {
    app.client
        .post(app.url("/v1/ingest"))
        .bearer_auth(key)
        .json(&json!({"ref": "R-1"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_changed_rules_file_is_picked_up_by_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", CANCEL_RULE);
    let rules_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(|c| {
        c.rules_dir = rules_dir;
        c.rules_poll_ms = 50;
    })
    .await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    assert_eq!(post_ref(&app, &key).await, 422, "no rule matches yet");
    write(dir.path(), "b.toml", CREATE_RULE);
    let started = Instant::now();
    while post_ref(&app, &key).await != 201 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the new rule was never loaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_broken_rules_directory_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "[[rule]]\nname = \"x\"\noperation = \"teleport\"\nentity = \"order\"\nmatch = { path = \"$.a\", exists = true }\nmap = { order_number = \"$.a\" }\n";
    write(dir.path(), "bad.toml", rule);
    let database = crate::support::TestDb::new().await;
    let mut config = crate::support::config_for(&database.url);
    config.rules_dir = dir.path().to_path_buf();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let error = freightgate::run(config, listener, Default::default())
        .await
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("bad.toml") && message.contains("teleport"),
        "{message}"
    );
}
