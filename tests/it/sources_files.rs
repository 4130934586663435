//! File sources: a watched folder (a partly written file is left until complete, a
//! marker file says when another is, each file is moved with its acknowledgement, the
//! same file dropped twice is stored once) and a real OpenSSH server's SFTP directory
//! (files taken with a pinned host key and a client key; a server showing another key
//! is not logged in to).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use freightgate::domain::Scope;
use freightgate::store::entities::order;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::support::TestApp;

const RULES: &str = r#"
[[rule]]
name = "expected-shipment"
business = "dropco"
operation = "create"
entity = "order"
identity = ["order_number"]
on_duplicate = "upsert"
match = { path = "$.order_ref", regex = "^EXP-\\d+$" }

[rule.map]
order_number = "$.order_ref"
customer = "$.customer"
direction = { value = "INBOUND" }

[rule.map.items]
path = "$"
map = { identifier = { value = "cartons" }, quantity = { path = "$.cartons", transform = ["number"] }, quantity_unit = { value = "CASE" } }
"#;

/// A gateway with the rules above and `source` (a `[[source]]` table) in its sources
/// directory, its schedule off.
async fn gateway(source: &str) -> (TestApp, tempfile::TempDir) {
    TestApp::spawn_with_sources(
        &[("dropco.toml", RULES)],
        false,
        &[("drop.toml", source)],
        |_| {},
    )
    .await
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn csv(refs: &[u32]) -> String {
    let mut out = String::from("order_ref,customer,cartons\n");
    for n in refs {
        out.push_str(&format!("EXP-{n},Customer {n},{n}\n"));
    }
    out
}

#[tokio::test]
async fn a_folder_takes_complete_files_once_and_moves_each_with_its_acknowledgement() {
    let inbox = tempfile::tempdir().unwrap();
    let (app, _dirs) = gateway(&format!(
        r#"
[[source]]
name = "dropco-inbox"
business = "dropco"
kind = "folder"
every = "1h"
path = "{}"
files = "*.csv"
settle = "400ms"
"#,
        inbox.path().display()
    ))
    .await;
    let key = app.key("dropco", &[Scope::Ingest, Scope::Read]).await;
    let path = inbox.path();
    std::fs::write(path.join("a.csv"), csv(&[1, 2])).unwrap();
    std::fs::write(
        path.join("bad.csv"),
        "order_ref,customer,cartons\nEXP-9,\"unclosed\n",
    )
    .unwrap();
    std::fs::write(path.join("notes.txt"), "not a csv").unwrap();

    // A file still being written while the run looks is left for the next run.
    let growing = path.join("b.csv");
    let writer = {
        let growing = growing.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::File::create(&growing).unwrap();
            file.write_all(b"order_ref,customer,cartons\n").unwrap();
            for n in 3..=12 {
                std::thread::sleep(Duration::from_millis(100));
                file.write_all(format!("EXP-{n},Customer {n},{n}\n").as_bytes())
                    .unwrap();
                file.flush().unwrap();
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let first = app.run_source(&key, "dropco-inbox").await;
    writer.join().unwrap();
    assert_eq!(first["outcome"], "succeeded", "{first}");
    assert_eq!(
        (
            first["pages"].as_i64(),
            first["created"].as_i64(),
            first["rejected"].as_i64()
        ),
        (Some(2), Some(2), Some(1)),
        "two files taken (one refused), the growing one left: {first}"
    );
    assert_eq!(names(path), ["b.csv", "notes.txt"]);
    assert_eq!(names(&path.join("processed")), ["a.csv", "a.csv.ack.json"]);
    assert_eq!(names(&path.join("failed")), ["bad.csv", "bad.csv.ack.json"]);
    let ack: Value =
        serde_json::from_slice(&std::fs::read(path.join("processed/a.csv.ack.json")).unwrap())
            .unwrap();
    assert_eq!(ack["status"], "accepted", "{ack}");
    assert_eq!(ack["results"].as_array().unwrap().len(), 2, "{ack}");
    let refused: Value =
        serde_json::from_slice(&std::fs::read(path.join("failed/bad.csv.ack.json")).unwrap())
            .unwrap();
    assert_eq!(refused["status"], 422, "{refused}");
    assert_eq!(refused["code"], "malformed_document", "{refused}");
    assert_eq!(refused["errors"][0]["path"], "row 2", "{refused}");

    // Complete now: taken. The same content dropped again is recognised, not stored
    // twice, and moved beside the first with the first one's acknowledgement.
    std::fs::write(path.join("a-again.csv"), csv(&[1, 2])).unwrap();
    let second = app.run_source(&key, "dropco-inbox").await;
    assert_eq!(second["outcome"], "succeeded", "{second}");
    assert_eq!(
        (
            second["pages"].as_i64(),
            second["created"].as_i64(),
            second["unchanged"].as_i64()
        ),
        (Some(2), Some(10), Some(1)),
        "{second}"
    );
    assert_eq!(names(path), ["notes.txt"]);
    let again: Value = serde_json::from_slice(
        &std::fs::read(path.join("processed/a-again.csv.ack.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(again["logging_id"], ack["logging_id"], "{again}");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 12);
    let pulled: Value = app.get_json("/v1/ingest?source=pull", &key).await;
    assert_eq!(
        pulled["items"].as_array().unwrap().len(),
        3,
        "a payload record per stored or refused file: {pulled}"
    );
    let orders: Value = app.get_json("/v1/orders?limit=20", &key).await;
    let last = orders["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["order_number"] == "EXP-12")
        .unwrap_or_else(|| panic!("EXP-12 in {orders}"));
    assert_eq!(last["customer"], "Customer 12", "{last}");
}

#[tokio::test]
async fn a_marker_file_says_when_a_file_is_complete_and_delete_leaves_nothing() {
    let inbox = tempfile::tempdir().unwrap();
    let (app, _dirs) = gateway(&format!(
        r#"
[[source]]
name = "dropco-marked"
business = "dropco"
kind = "folder"
cron = "0 6 * * 1-5"
timezone = "Europe/Amsterdam"
path = "{}"
marker = ".done"
after = "delete"
content_type = "text/csv"
"#,
        inbox.path().display()
    ))
    .await;
    let key = app.key("dropco", &[Scope::Ingest, Scope::Read]).await;
    let path = inbox.path();
    std::fs::write(path.join("orders-1"), csv(&[1])).unwrap();
    std::fs::write(path.join("orders-2"), csv(&[2])).unwrap();
    std::fs::write(path.join("orders-2.done"), "").unwrap();
    let first = app.run_source(&key, "dropco-marked").await;
    assert_eq!(
        (first["pages"].as_i64(), first["created"].as_i64()),
        (Some(1), Some(1)),
        "{first}"
    );
    assert_eq!(names(path), ["orders-1"]);
    std::fs::write(path.join("orders-1.done"), "").unwrap();
    let second = app.run_source(&key, "dropco-marked").await;
    assert_eq!(second["created"], 1, "{second}");
    assert!(names(path).is_empty(), "{:?}", names(path));
    let listed: Value = app.get_json("/v1/sources", &key).await;
    assert_eq!(listed[0]["kind"], "folder", "{listed}");
    assert_eq!(
        listed[0]["every"], "cron 0 6 * * 1-5 (Europe/Amsterdam)",
        "{listed}"
    );
}

/// A real OpenSSH server on a free port of 127.0.0.1, serving SFTP
/// (`internal-sftp`) to the current user with `client_key`; stopped when dropped.
pub(crate) struct Sshd {
    child: std::process::Child,
    pub port: u16,
    /// The host's public key line (`ssh-ed25519 AAAA…`).
    pub host_key: String,
    pub client_key: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let status = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "freightgate-test",
            "-f",
        ])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
}

/// Starts sshd, or says why it cannot (`None` outside CI when OpenSSH's server is
/// not installed; CI installs it, so there it is a failure).
pub(crate) async fn sshd() -> Option<Sshd> {
    let Some(binary) = ["/usr/sbin/sshd", "/usr/local/sbin/sshd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install openssh-server so that SFTP sources are tested against a real server"
        );
        eprintln!("skipping: OpenSSH's sshd is not installed (apt-get install openssh-server)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host_ed25519");
    let client = dir.path().join("client_ed25519");
    keygen(&host);
    keygen(&client);
    std::fs::copy(
        client.with_extension("pub"),
        dir.path().join("authorized_keys"),
    )
    .unwrap();
    // sshd run by root wants its privilege separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = dir.path().join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {pid}\n\
             AuthorizedKeysFile {keys}\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n\
             LogLevel ERROR\n",
            host = host.display(),
            pid = dir.path().join("sshd.pid").display(),
            keys = dir.path().join("authorized_keys").display(),
        ),
    )
    .unwrap();
    let child = std::process::Command::new(binary)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .spawn()
        .expect("sshd starts");
    let host_key = std::fs::read_to_string(host.with_extension("pub")).unwrap();
    let host_key = host_key
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let sshd = Sshd {
        child,
        port,
        host_key,
        client_key: client,
        _dir: dir,
    };
    // sshd writes its pid file once it listens (a probe connection would make it log
    // a failed key exchange).
    let pid = sshd._dir.path().join("sshd.pid");
    for _ in 0..100 {
        if std::fs::metadata(&pid).is_ok_and(|m| m.len() > 0) {
            return Some(sshd);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("sshd did not listen on {port}");
}

pub(crate) fn current_user() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn an_sftp_directory_is_taken_with_a_pinned_host_key_and_a_server_showing_another_is_refused()
{
    let Some(sshd) = sshd().await else {
        return;
    };
    let outbox = tempfile::tempdir().unwrap();
    let other_host = tempfile::tempdir().unwrap();
    keygen(&other_host.path().join("k"));
    let wrong_key = std::fs::read_to_string(other_host.path().join("k.pub")).unwrap();
    let wrong_key: String = wrong_key
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let source = |name: &str, host_key: &str| {
        format!(
            r#"
[[source]]
name = "{name}"
business = "dropco"
kind = "sftp"
every = "30m"
host = "127.0.0.1"
port = {port}
user = "{user}"
auth = {{ kind = "key", key_file = "{key}" }}
host_key = "{host_key}"
path = "{path}"
files = "*.csv"
settle = "200ms"
timeout = "10s"
"#,
            port = sshd.port,
            user = current_user(),
            key = sshd.client_key.display(),
            path = outbox.path().display(),
        )
    };
    let (app, _dirs) = gateway(&format!(
        "{}{}",
        source("dropco-sftp", &sshd.host_key),
        source("dropco-impostor", &wrong_key)
    ))
    .await;
    let key = app.key("dropco", &[Scope::Ingest, Scope::Read]).await;
    let path = outbox.path();
    std::fs::write(path.join("expected-1.csv"), csv(&[1, 2, 3])).unwrap();
    std::fs::write(path.join("expected-2.csv"), csv(&[4])).unwrap();

    let refused = app.run_source(&key, "dropco-impostor").await;
    assert_eq!(refused["outcome"], "failed", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("not the one pinned in `host_key`"),
        "{refused}"
    );
    assert_eq!(names(path), ["expected-1.csv", "expected-2.csv"]);

    let taken = app.run_source(&key, "dropco-sftp").await;
    assert_eq!(taken["outcome"], "succeeded", "{taken}");
    assert_eq!(
        (taken["pages"].as_i64(), taken["created"].as_i64()),
        (Some(2), Some(4)),
        "{taken}"
    );
    assert!(names(path).is_empty(), "{:?}", names(path));
    assert_eq!(
        names(&path.join("processed")),
        [
            "expected-1.csv",
            "expected-1.csv.ack.json",
            "expected-2.csv",
            "expected-2.csv.ack.json"
        ]
    );
    let ack: Value = serde_json::from_slice(
        &std::fs::read(path.join("processed/expected-1.csv.ack.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ack["results"].as_array().unwrap().len(), 3, "{ack}");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 4);
    let listed: Value = app.get_json("/v1/sources", &key).await;
    let sftp = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dropco-sftp")
        .unwrap();
    assert_eq!(sftp["kind"], "sftp", "{listed}");
    assert_eq!(
        sftp["url"],
        json!(format!(
            "sftp://{}@127.0.0.1:{}/{}",
            current_user(),
            sshd.port,
            path.display().to_string().trim_start_matches('/')
        ))
    );
}

#[tokio::test]
async fn a_source_file_added_while_serving_is_scheduled_and_a_broken_one_changes_nothing() {
    let inbox = tempfile::tempdir().unwrap();
    let (app, dirs) = TestApp::spawn_with_sources(&[("dropco.toml", RULES)], false, &[], |c| {
        c.sources_scheduler = true;
        c.rules_poll_ms = 100;
    })
    .await;
    let sources = dirs.path().join("sources");
    let key = app.key("dropco", &[Scope::Ingest, Scope::Read]).await;
    assert_eq!(app.get_json("/v1/sources", &key).await, json!([]));
    std::fs::write(inbox.path().join("late.csv"), csv(&[7])).unwrap();
    std::fs::write(
        sources.join("drop.toml"),
        format!(
            "[[source]]\nname = \"dropco-late\"\nbusiness = \"dropco\"\nkind = \"folder\"\nevery = \"1s\"\npath = \"{}\"\nsettle = \"100ms\"\n",
            inbox.path().display()
        ),
    )
    .unwrap();
    // The file is moved once its payload is stored: wait for both.
    let processed = inbox.path().join("processed/late.csv");
    let mut stored = 0;
    for _ in 0..100 {
        stored = order::Entity::find().count(&app.db).await.unwrap();
        if stored == 1 && processed.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored, 1, "the new source ran on its schedule");
    assert!(processed.exists(), "the processed file is moved aside");

    std::fs::write(sources.join("broken.toml"), "[[source]]\nname = \"x\"\n").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let listed: Value = app.get_json("/v1/sources", &key).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dropco-late"], "the sources in use stay: {listed}");
}
