//! Outbound mappings: events sent to real partner receivers in the partner's own
//! JSON, through the outbox and dispatcher (retries, dead letters, replay).

use std::time::Duration;

use freightgate::domain::Scope;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::webhooks::receiver::{Push, Receiver};

const WAIT: Duration = Duration::from_secs(15);

/// The shipped example, sending to `receiver` with its API key in a file.
fn shipped_example(receiver: &Receiver, dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/outbound/pallet-network-milestones.toml"
    ))
    .expect("the shipped example");
    let key_file = dir.join("pallet-network.key");
    std::fs::write(&key_file, "pn-secret-key\n").expect("the key file");
    let base = receiver.url.trim_end_matches("/hooks");
    text.replace("https://api.pallet-network.example", base)
        .replace(
            "value_env = \"PALLET_NETWORK_API_KEY\"",
            &format!("value_file = {:?}", key_file.display().to_string()),
        )
}

/// A gateway with the shipped rules and `files` in its outbound directory.
async fn spawn(
    files: impl FnOnce(&std::path::Path) -> Vec<(&'static str, String)>,
    adjust: impl FnOnce(&mut freightgate::Config),
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a directory");
    let outbound = dir.path().join("outbound");
    std::fs::create_dir_all(&outbound).expect("outbound/");
    for (name, text) in files(dir.path()) {
        std::fs::write(outbound.join(name), text).expect("an outbound file");
    }
    let app = TestApp::spawn_with(|c| {
        c.outbound_dir = outbound;
        adjust(c);
    })
    .await;
    (app, dir)
}

async fn northwind(app: &TestApp) -> String {
    app.key(
        "northwind",
        &[Scope::Ingest, Scope::Read, Scope::Write, Scope::Webhooks],
    )
    .await
}

async fn ingest(app: &TestApp, key: &str, feed: &str) -> Value {
    let response =
        crate::ingest::post(app, key, "application/json", crate::ingest::feed(feed)).await;
    let status = response.status();
    let ack: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{feed}: {status} {ack}");
    ack
}

fn kinds(pushes: &[Push]) -> Vec<String> {
    pushes.iter().map(|p| p.header("x-event-kind")).collect()
}

#[tokio::test]
async fn a_pallet_network_receives_milestones_scans_exceptions_and_pods_in_its_own_json() {
    let receiver = Receiver::start_partner().await;
    receiver.script(&[(201, None); 10]);
    let (app, _dir) = spawn(
        |dir| vec![("pallet-network.toml", shipped_example(&receiver, dir))],
        |_| {},
    )
    .await;
    let key = northwind(&app).await;
    let created = ingest(&app, &key, "wms-shipment-with-orders.json").await;
    let shipment_id = created["results"][0]["id"].as_i64().unwrap();
    ingest(&app, &key, "shipment-status.json").await;
    ingest(&app, &key, "dock-pallet-scan.json").await;
    let raise = "mutation($input: CreateExceptionInput!) { createException(input: $input) { exceptionId } }";
    let input = json!({"shipmentId": shipment_id, "priority": "HIGH",
        "customerExceptionDescription": "seal broken on arrival"});
    let response = app
        .post_json(
            "/graphql",
            &key,
            &json!({"query": raise, "variables": {"input": input}}),
        )
        .await;
    let answer: Value = response.json().await.unwrap();
    assert!(answer["errors"].is_null(), "{answer}");
    ingest(&app, &key, "pod-document.json").await;

    let mut pushes = receiver.wait_for(WAIT, |p| p.len() >= 4).await;
    let arrived = kinds(&pushes);
    let at = |kind: &str| arrived.iter().position(|k| k == kind);
    assert!(
        at("milestone") < at("scan") && at("scan") < at("exception"),
        "a shipment's events in the order of its changes: {arrived:?}"
    );
    // The POD is the order's, not the shipment's: it need not wait for the exception.
    pushes.sort_by_key(|p| {
        ["milestone", "scan", "exception", "pod"]
            .iter()
            .position(|k| *k == p.header("x-event-kind"))
    });
    assert_eq!(
        kinds(&pushes),
        ["milestone", "scan", "exception", "pod"],
        "one request per mapped event; shipment.created is not mapped"
    );
    for push in &pushes {
        assert_eq!(push.header("x-api-key"), "pn-secret-key");
        assert_eq!(push.header("x-depot"), "312");
        assert_eq!(push.header("content-type"), "application/json");
    }
    let milestone = &pushes[0];
    assert_eq!(milestone.path, "/v1/consignments/NW-SHP-240611-0042/events");
    assert_eq!(
        milestone.body,
        json!({
            "event_type": "MILESTONE",
            "milestone": "ARRIVED_AT_DEPOT",
            "consignment": "NW-SHP-240611-0042",
            "occurred_at": "2026-06-11T06:21:55Z",
            "depot": "ROTTERDAM-DC",
            "vehicle": {"trailer": "BX-482-K", "seal": "SL998812", "carrier": "Van Dijk Transport"},
        })
        .to_string(),
        "the partner's fields, in the mapping's order, as compact JSON"
    );
    let scan = pushes[1].json();
    assert_eq!(scan["pallet"], "PLT-0007731");
    assert_eq!(scan["consignment"], "NW-SHP-240611-0042");
    assert!(
        scan["location"]
            .as_str()
            .unwrap()
            .starts_with("rotterdam-dc/")
    );
    let exception = pushes[2].json();
    assert_eq!(exception["severity"], "CRITICAL");
    assert_eq!(exception["reason"], "seal broken on arrival");
    let pod = &pushes[3];
    assert_eq!(pod.path, "/v1/documents", "the mapping's own URL");
    assert_eq!(pod.json()["event_type"], "POD");
    assert!(pod.json()["sha256"].as_str().is_some_and(|s| s.len() == 64));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.pushes().len(), 4, "each once");
}

/// A target of its own: every order event, to `/orders/{number}`.
fn orders_target(receiver: &Receiver, success: &str) -> String {
    format!(
        r#"
[[target]]
name = "erp-orders"
business = "northwind"
kind = "http"
url = "{base}/orders/{{$.data.order_number}}"
method = "PUT"
{success}

[[target.mapping]]
name = "order"
events = ["order.created", "order.updated"]

[target.mapping.body]
number = {{ path = "$.data.order_number", required = true }}
state = "$.data.status"
event = "$.type"
"#,
        base = receiver.url.trim_end_matches("/hooks")
    )
}

#[tokio::test]
async fn a_partner_503_is_retried_with_the_same_bytes_and_a_401_dead_letters_until_replayed() {
    let receiver = Receiver::start_partner().await;
    let target = orders_target(&receiver, "");
    let (app, _dir) = spawn(
        |_| vec![("erp.toml", target)],
        |c| {
            c.webhooks_retry_schedule =
                freightgate::config::parse_durations("0s,100ms,100ms").unwrap();
        },
    )
    .await;
    let key = northwind(&app).await;
    receiver.script(&[(503, Some("0")), (200, None)]);
    ingest(&app, &key, "tms-order-create.json").await;
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 2).await;
    assert_eq!(pushes[0].body, pushes[1].body, "the same bytes again");
    assert!(pushes[0].path.starts_with("/orders/"), "{}", pushes[0].path);

    receiver.script(&[(401, None); 3]);
    ingest(&app, &key, "tms-order-update.json").await;
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 5).await;
    let refused = pushes[2].body.clone();
    assert!(pushes[2..5].iter().all(|p| p.body == refused));

    let endpoints: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    let row = endpoints["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["url"] == "outbound:erp-orders")
        .expect("the target's row is listed")
        .clone();
    let id = row["id"].as_i64().unwrap();
    let path = format!("/v1/webhooks/endpoints/{id}/deliveries?state=failed");
    let failed = wait_for_json(&app, &key, &path, |v| {
        v["deliveries"].as_array().is_some_and(|d| d.len() == 1)
    })
    .await;
    let delivery = &failed["deliveries"][0];
    assert_eq!(delivery["last_status"], 401);
    assert_eq!(delivery["attempts"], 3, "the schedule: three attempts");

    let replay = format!(
        "/v1/webhooks/endpoints/{id}/deliveries/{}/replay",
        delivery["id"]
    );
    let response = app.post_json(&replay, &key, &json!({})).await;
    assert!(response.status().is_success(), "{}", response.status());
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 6).await;
    assert_eq!(pushes[5].body, refused, "a replay sends what was refused");

    let patch = app
        .client
        .patch(app.url(&format!("/v1/webhooks/endpoints/{id}")))
        .bearer_auth(&key)
        .json(&json!({"url": "https://example.com/elsewhere"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 409, "the outbound files declare the target");
}

#[tokio::test]
async fn a_mapping_that_cannot_render_an_event_dead_letters_it_at_once_and_sends_nothing() {
    let receiver = Receiver::start_partner().await;
    let target = orders_target(&receiver, "success = [201]").replace(
        "state = \"$.data.status\"",
        "state = \"$.data.status\"\ncustomer = { path = \"$.data.no_such_field\", required = true }",
    );
    let (app, _dir) = spawn(
        |_| vec![("erp.toml", target)],
        |c| {
            c.webhooks_retry_schedule = freightgate::config::parse_durations("0s,100ms").unwrap();
        },
    )
    .await;
    let key = northwind(&app).await;
    ingest(&app, &key, "tms-order-create.json").await;
    let endpoints: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    let id = endpoints["endpoints"][0]["id"].as_i64().unwrap();
    let failed = wait_for_json(
        &app,
        &key,
        &format!("/v1/webhooks/endpoints/{id}/deliveries?state=failed"),
        |v| v["deliveries"].as_array().is_some_and(|d| d.len() == 1),
    )
    .await;
    let error = failed["deliveries"][0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("mapping `order`") && error.contains("body.customer: required"),
        "{error}"
    );
    assert!(receiver.pushes().is_empty(), "nothing was sent");
}

async fn wait_for_json(
    app: &TestApp,
    key: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = std::time::Instant::now();
    loop {
        let value: Value = app.get_json(path, key).await;
        if done(&value) {
            return value;
        }
        assert!(started.elapsed() < WAIT, "timed out: {value}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_booked_consignments_reply_sets_the_orders_tracking_number_through_the_rules() {
    let partner = Receiver::start_partner().await;
    let base = partner.url.trim_end_matches("/hooks").to_string();
    partner.respond(
        "/oauth/token",
        200,
        r#"{"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}"#,
    );
    partner.respond(
        "/v2/consignments",
        201,
        r#"{"consignment": {"id": "c-88123", "tracking_number": "5501234567890",
            "routing": {"hub": "MIDLANDS", "route": "R12"}}}"#,
    );
    let (app, _dir) = spawn(
        |dir| {
            std::fs::write(dir.join("id"), "northwind-client").unwrap();
            std::fs::write(dir.join("secret"), "s3cret").unwrap();
            let text = std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/outbound/palletforce-consignments.toml"
            ))
            .unwrap()
            .replace("https://api.palletforce.example", &base)
            .replace(
                "client_id_env = \"PALLETFORCE_CLIENT_ID\"",
                &format!(
                    "client_id_file = {:?}",
                    dir.join("id").display().to_string()
                ),
            )
            .replace(
                "client_secret_env = \"PALLETFORCE_CLIENT_SECRET\"",
                &format!(
                    "client_secret_file = {:?}",
                    dir.join("secret").display().to_string()
                ),
            );
            vec![("palletforce.toml", text)]
        },
        |_| {},
    )
    .await;
    let key = northwind(&app).await;
    let ack = ingest(&app, &key, "tms-order-create.json").await;
    let order_id = ack["results"][0]["id"].as_i64().unwrap();
    // An order keeps its tracking number among its references.
    let order = wait_for_json(&app, &key, &format!("/v1/orders/{order_id}"), |o| {
        o["references"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["kind"] == "tracking_number"))
    })
    .await;
    let references: Vec<(String, String)> = order["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for wanted in [
        ("tracking_number", "5501234567890"),
        ("network_hub", "MIDLANDS"),
        ("network_route", "R12"),
    ] {
        assert!(
            references.contains(&(wanted.0.into(), wanted.1.into())),
            "{references:?}"
        );
    }
    let pushes = partner.pushes();
    let booked: Vec<&Push> = pushes
        .iter()
        .filter(|p| p.path == "/v2/consignments")
        .collect();
    assert_eq!(booked.len(), 1, "booked once");
    assert_eq!(booked[0].header("authorization"), "Bearer tok-1");
    assert_eq!(booked[0].json()["customer_reference"], "TMS-2026-118734");
    let token_request = pushes
        .iter()
        .find(|p| p.path == "/oauth/token")
        .expect("a token was asked for");
    assert!(token_request.body.contains("grant_type=client_credentials"));

    let replies: Value = app.get_json("/v1/ingest?source=reply", &key).await;
    let items = replies["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{replies}");
    assert_eq!(items[0]["rule"], "pallet-network-booking-reply");
}

/// The shipped customer-files example, writing to `target` (the lines from `kind` to
/// `timeout` replaced).
fn customer_files(target: &str) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/outbound/customer-shipment-files.toml"
    ))
    .unwrap();
    let start = text.find("kind = \"sftp\"").unwrap();
    let end = text.find("timeout = \"30s\"\n").unwrap() + "timeout = \"30s\"\n".len();
    format!("{}{target}\n{}", &text[..start], &text[end..])
}

/// A shipment with a scanned pallet that departs: `shipment.completed`.
async fn complete_a_shipment(app: &TestApp, key: &str) {
    ingest(app, key, "wms-shipment-with-orders.json").await;
    ingest(app, key, "dock-pallet-scan.json").await;
    let departed = json!({"kind": "yard.checkin", "business": "northwind", "facility": "rotterdam-dc",
        "shipment": "NW-SHP-240611-0042", "status": "DEPARTED", "at": "2026-06-11T16:05:00+02:00"});
    let response = app.post_json("/v1/ingest", key, &departed).await;
    assert!(response.status().is_success(), "{}", response.status());
}

/// What a completed shipment's file holds: the header and one line per pallet.
fn assert_the_customer_file(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "shipment;departed_at;carrier;trailer;pallet;scanned_at"
    );
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].starts_with("NW-SHP-240611-0042;2026-06-11T14:05:00Z;")
            && lines[1].contains(";PLT-0007731;"),
        "{text}"
    );
}

#[tokio::test]
async fn a_completed_shipment_is_written_as_a_csv_file_into_a_folder() {
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().join("customer");
    let target = customer_files(&format!(
        "kind = \"folder\"\npath = {:?}",
        folder.display().to_string()
    ));
    let (app, _dir) = spawn(|_| vec![("files.toml", target)], |_| {}).await;
    let key = northwind(&app).await;
    complete_a_shipment(&app, &key).await;
    let file = folder.join("NW-SHP-240611-0042.csv");
    let started = std::time::Instant::now();
    while !file.exists() {
        assert!(started.elapsed() < WAIT, "no file in {}", folder.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_the_customer_file(&std::fs::read_to_string(&file).unwrap());
    let names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["NW-SHP-240611-0042.csv"], "no temporary file left");
}

#[tokio::test]
async fn a_completed_shipment_is_uploaded_as_a_csv_file_to_a_real_sftp_server() {
    let Some(sshd) = crate::sources_files::sshd().await else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let target = customer_files(&format!(
        "kind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\nhost_key = \"{}\"\nauth = {{ kind = \"key\", key_file = {:?} }}\npath = {:?}\ntimeout = \"10s\"",
        sshd.port,
        crate::sources_files::current_user(),
        sshd.host_key,
        sshd.client_key.display().to_string(),
        out.path().display().to_string(),
    ));
    let (app, _dir) = spawn(|_| vec![("files.toml", target)], |_| {}).await;
    let key = northwind(&app).await;
    complete_a_shipment(&app, &key).await;
    let file = out.path().join("NW-SHP-240611-0042.csv");
    let started = std::time::Instant::now();
    while !file.exists() {
        assert!(started.elapsed() < WAIT, "nothing uploaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_the_customer_file(&std::fs::read_to_string(&file).unwrap());
    let endpoints: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    let id = endpoints["endpoints"][0]["id"].as_i64().unwrap();
    let delivered = wait_for_json(
        &app,
        &key,
        &format!("/v1/webhooks/endpoints/{id}/deliveries?state=delivered"),
        |v| v["deliveries"].as_array().is_some_and(|d| d.len() == 1),
    )
    .await;
    assert_eq!(delivered["deliveries"][0]["attempts"], 1);
}

/// A local SMTP sink: accepts every mail and keeps what it was sent (the DATA).
struct SmtpSink {
    port: u16,
    mails: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn smtp_sink() -> SmtpSink {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            write.write_all(b"354 go ahead\r\n").await.ok();
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(&line);
                                data.push('\n');
                            }
                            kept.lock().unwrap().push(data);
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            return;
                        }
                        _ => b"502 not here\r\n",
                    };
                    write.write_all(answer).await.ok();
                }
            });
        }
    });
    SmtpSink { port, mails }
}

#[tokio::test]
async fn a_completed_shipments_csv_is_mailed_as_an_attachment() {
    let sink = smtp_sink().await;
    let target = customer_files(&format!(
        "kind = \"email\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"freightgate@northwind.example\"\nto = [\"planning@customer.example\", \"ops@customer.example\"]\nsubject = \"Shipment {{$.data.shipment_number}} is complete\"",
        sink.port
    ));
    let (app, _dir) = spawn(|_| vec![("mail.toml", target)], |_| {}).await;
    let key = northwind(&app).await;
    complete_a_shipment(&app, &key).await;
    let started = std::time::Instant::now();
    let mail = loop {
        if let Some(mail) = sink.mails.lock().unwrap().first().cloned() {
            break mail;
        }
        assert!(started.elapsed() < WAIT, "no mail arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        mail.contains("Subject: Shipment NW-SHP-240611-0042 is complete"),
        "{mail}"
    );
    assert!(
        mail.contains("To: planning@customer.example, ops@customer.example"),
        "{mail}"
    );
    assert!(
        mail.contains("filename=\"NW-SHP-240611-0042.csv\""),
        "{mail}"
    );
    // The attachment is quoted-printable: soft line breaks end in `=`.
    let mail = mail.replace("=\n", "").replace("=3D", "=");
    let csv_start = mail
        .find("shipment;departed_at;")
        .unwrap_or_else(|| panic!("the CSV is attached as it is: {mail}"));
    assert_the_customer_file(
        &mail[csv_start
            ..mail[csv_start..]
                .find("\n--")
                .map_or(mail.len(), |e| csv_start + e)],
    );
    assert_eq!(sink.mails.lock().unwrap().len(), 1, "mailed once");
}

#[tokio::test]
async fn the_api_lists_a_businesss_targets_and_explains_an_event_without_sending() {
    let receiver = Receiver::start_partner().await;
    let (app, _dir) = spawn(
        |dir| vec![("pallet-network.toml", shipped_example(&receiver, dir))],
        |_| {},
    )
    .await;
    let key = northwind(&app).await;
    let targets: Value = app.get_json("/v1/outbound/targets", &key).await;
    assert_eq!(targets[0]["name"], "pallet-network-tracking");
    assert_eq!(targets[0]["kind"], "http");
    assert_eq!(targets[0]["mappings"].as_array().unwrap().len(), 4);
    let other = app.key("acme", &[Scope::Read]).await;
    assert_eq!(
        app.get_json("/v1/outbound/targets", &other).await,
        json!([]),
        "another business's targets are not shown"
    );

    let feed = |name: &str| -> Value {
        let path = format!("{}/tests/feeds/outbound/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let response = app
        .post_json(
            "/v1/outbound/explain",
            &key,
            &feed("shipment-departed.json"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let explained: Value = response.json().await.unwrap();
    let mapping = |name: &str| {
        explained
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["mapping"] == name)
            .unwrap()
            .clone()
    };
    let milestone = mapping("milestone");
    assert_eq!(milestone["fires"], true);
    assert_eq!(milestone["method"], "POST");
    let body: Value = serde_json::from_str(milestone["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, feed("shipment-departed.pallet-network.json"));
    let scan = mapping("scan");
    assert_eq!(scan["fires"], false);
    assert!(
        scan["reason"]
            .as_str()
            .unwrap()
            .contains("does not take shipment.status_changed"),
        "{scan}"
    );

    let response = app
        .post_json(
            "/v1/outbound/explain",
            &key,
            &json!({"type": "shipment.exploded", "data": {}}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["path"], "$.type", "{problem}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.pushes().is_empty(), "explain sends nothing");
}

#[tokio::test]
async fn a_paused_target_keeps_its_events_and_sends_them_once_resumed() {
    let receiver = Receiver::start_partner().await;
    let target = orders_target(&receiver, "");
    let (app, _dir) = spawn(|_| vec![("erp.toml", target)], |_| {}).await;
    let key = northwind(&app).await;
    ingest(&app, &key, "tms-order-create.json").await;
    receiver.wait_for(WAIT, |p| !p.is_empty()).await;
    let endpoints: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    let id = endpoints["endpoints"][0]["id"].as_i64().unwrap();
    let paused = app
        .post_json(
            &format!("/v1/webhooks/endpoints/{id}/disable"),
            &key,
            &json!({}),
        )
        .await;
    assert!(paused.status().is_success(), "{}", paused.status());
    ingest(&app, &key, "tms-order-update.json").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.pushes().len(), 1, "nothing goes out while paused");
    let pending: Value = app
        .get_json(
            &format!("/v1/webhooks/endpoints/{id}/deliveries?state=pending"),
            &key,
        )
        .await;
    assert_eq!(pending["deliveries"].as_array().unwrap().len(), 1, "kept");
    let resumed = app
        .post_json(
            &format!("/v1/webhooks/endpoints/{id}/enable"),
            &key,
            &json!({}),
        )
        .await;
    assert!(resumed.status().is_success());
    let pushes = receiver.wait_for(WAIT, |p| p.len() >= 2).await;
    assert_eq!(pushes[1].json()["event"], "order.updated");
}

#[tokio::test]
async fn outbound_files_are_read_again_when_they_change_and_a_broken_one_changes_nothing() {
    let receiver = Receiver::start_partner().await;
    let target = orders_target(&receiver, "");
    let dir = tempfile::tempdir().unwrap();
    let outbound = dir.path().join("outbound");
    std::fs::create_dir_all(&outbound).unwrap();
    let file = outbound.join("erp.toml");
    std::fs::write(&file, &target).unwrap();
    let app = TestApp::spawn_with(|c| {
        c.outbound_dir = outbound.clone();
        c.rules_poll_ms = 100;
    })
    .await;
    let key = northwind(&app).await;
    let changed = target.replace(
        "event = \"$.type\"",
        "event = \"$.type\"\nsource = { value = \"freightgate\" }",
    );
    // The file's size changes with its text, so the check sees it at once.
    std::fs::write(&file, &changed).unwrap();
    let started = std::time::Instant::now();
    loop {
        let metrics = app.metrics().await;
        if metrics.contains("freightgate_outbound_reloads_total{result=\"ok\"} 1") {
            break;
        }
        assert!(started.elapsed() < WAIT, "not reloaded: {metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(&file, "[[target]]\nname = \"broken\"\n").unwrap();
    let started = std::time::Instant::now();
    while !app
        .metrics()
        .await
        .contains("freightgate_outbound_reloads_total{result=\"error\"} 1")
    {
        assert!(started.elapsed() < WAIT, "the broken file was not read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ingest(&app, &key, "tms-order-create.json").await;
    let pushes = receiver.wait_for(WAIT, |p| !p.is_empty()).await;
    assert_eq!(
        pushes[0].json()["source"],
        "freightgate",
        "the changed mapping, kept through the broken file"
    );
}

/// A NATS server with JetStream of the test's own, so that it can be stopped and
/// started again: a free port, its store in a temporary directory.
struct NatsServer {
    child: Option<std::process::Child>,
    port: u16,
    store: tempfile::TempDir,
}

impl NatsServer {
    async fn start() -> Option<Self> {
        let Some(_) = nats_binary() else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must install nats-server so that NATS targets are tested against a real server"
            );
            eprintln!("skipping: nats-server is not installed (apt-get install nats-server)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self {
            child: None,
            port,
            store: tempfile::tempdir().unwrap(),
        };
        server.up().await;
        Some(server)
    }

    async fn up(&mut self) {
        let child = std::process::Command::new(nats_binary().unwrap())
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(started.elapsed() < WAIT, "nats-server did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn stream(&self) -> async_nats::jetstream::stream::Stream {
        let client = async_nats::connect(format!("127.0.0.1:{}", self.port))
            .await
            .unwrap();
        async_nats::jetstream::new(client)
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: "FREIGHTGATE".into(),
                subjects: vec!["freightgate.>".into()],
                ..Default::default()
            })
            .await
            .unwrap()
    }

    /// Waits until the stream holds `n` messages.
    async fn wait_for(&self, n: u64) {
        let started = std::time::Instant::now();
        loop {
            let mut stream = self.stream().await;
            let held = stream.info().await.unwrap().state.messages;
            if held >= n {
                return;
            }
            assert!(started.elapsed() < WAIT, "the stream holds {held} of {n}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.down();
    }
}

fn nats_binary() -> Option<&'static str> {
    [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
}

/// An order created then updated: two events with the order's ordering key.
async fn order_twice(app: &TestApp, key: &str, number: &str) {
    for feed in ["tms-order-create.json", "tms-order-update.json"] {
        let text = crate::ingest::feed(feed).replace("TMS-2026-118734", number);
        let body: Value = serde_json::from_str(&text).unwrap();
        let response = app.post_json("/v1/ingest", key, &body).await;
        assert!(response.status().is_success(), "{}", response.status());
    }
}

/// A broker of the test's own, which it can stop and start again.
trait OwnBroker {
    async fn up(&mut self);
    fn down(&mut self);
    /// Waits until the broker holds `n` messages.
    async fn wait_for(&self, n: u32);
}

impl OwnBroker for NatsServer {
    async fn up(&mut self) {
        NatsServer::up(self).await
    }
    fn down(&mut self) {
        NatsServer::down(self)
    }
    async fn wait_for(&self, n: u32) {
        NatsServer::wait_for(self, u64::from(n)).await
    }
}

impl OwnBroker for RabbitNode {
    async fn up(&mut self) {
        RabbitNode::up(self).await
    }
    fn down(&mut self) {
        RabbitNode::down(self)
    }
    async fn wait_for(&self, n: u32) {
        RabbitNode::wait_for(self, n).await
    }
}

/// A gateway with `files` as its outbound files that writes eight orders, two
/// events each: four before `broker` stops, four while it is down; it answers once
/// the broker, started again, holds all sixteen.
async fn orders_through_a_restart(
    broker: &mut impl OwnBroker,
    files: Vec<(&'static str, String)>,
) -> (TestApp, tempfile::TempDir, String) {
    let (app, dir) = spawn(
        |_| files,
        |c| {
            c.webhooks_retry_schedule = freightgate::config::parse_durations(
                "0s,200ms,200ms,500ms,500ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
            )
            .unwrap();
        },
    )
    .await;
    let key = northwind(&app).await;
    for i in 0..4 {
        order_twice(&app, &key, &format!("BUS-{i}")).await;
    }
    broker.wait_for(8).await;
    // Down only once the eight are recorded as delivered: a broker that stops
    // between taking a message and its confirmation reaching freightgate gets that
    // message again (at least once, by design: consumers keep each `message_id`
    // once), and this test counts each event once.
    delivered_at_least(&app, 8).await;
    broker.down();
    for i in 4..8 {
        order_twice(&app, &key, &format!("BUS-{i}")).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    broker.up().await;
    broker.wait_for(16).await;
    (app, dir, key)
}

/// Waits until `n` deliveries are recorded as delivered, whichever the endpoint.
async fn delivered_at_least(app: &TestApp, n: u64) {
    use freightgate::domain::DeliveryState;
    use freightgate::store::entities::delivery;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let started = std::time::Instant::now();
    loop {
        let delivered = delivery::Entity::find()
            .filter(delivery::Column::State.eq(DeliveryState::Delivered))
            .count(&app.db)
            .await
            .unwrap();
        if delivered >= n {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{delivered} of {n} deliveries recorded as delivered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the target's row has delivered the sixteen events of
/// [`orders_through_a_restart`], those written while the broker was down after more
/// than one attempt.
async fn sixteen_delivered_some_retried(app: &TestApp, key: &str, endpoint: i64) {
    let delivered = wait_for_json(
        app,
        key,
        &format!("/v1/webhooks/endpoints/{endpoint}/deliveries?state=delivered&limit=100"),
        |v| v["deliveries"].as_array().is_some_and(|d| d.len() == 16),
    )
    .await;
    assert!(
        delivered["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["attempts"].as_i64().unwrap() > 1),
        "the events written while the broker was down took more than one attempt"
    );
}

/// Of the (order, event) pairs consumed, each order's creation came before its update.
fn assert_each_order_created_before_updated(seen: &[(String, String)]) {
    for i in 0..8 {
        let order = format!("BUS-{i}");
        let at = |event: &str| seen.iter().position(|(o, e)| *o == order && e == event);
        assert!(
            at("order.created").is_some() && at("order.created") < at("order.updated"),
            "{order} created before updated: {seen:?}"
        );
    }
}

#[tokio::test]
async fn events_published_to_nats_jetstream_arrive_once_and_in_order_through_a_server_restart() {
    let Some(mut nats) = NatsServer::start().await else {
        return;
    };
    nats.stream().await;
    let target = format!(
        r#"
[[target]]
name = "bus"
business = "northwind"
kind = "nats"
url = "nats://127.0.0.1:{port}"
subject = "freightgate.{{$.data.business}}.{{$.type}}"
timeout = "1s"

[[target.mapping]]
name = "orders"
events = ["order.created", "order.updated"]

[target.mapping.body]
order = {{ path = "$.data.order_number", required = true }}
event = "$.type"
"#,
        port = nats.port
    );
    let (app, _dir, key) = orders_through_a_restart(&mut nats, vec![("bus.toml", target)]).await;
    // Every pending delivery done: nothing more arrives.
    let endpoints: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    let id = endpoints["endpoints"][0]["id"].as_i64().unwrap();
    sixteen_delivered_some_retried(&app, &key, id).await;

    let stream = nats.stream().await;
    let mut seen = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for sequence in 1..=16 {
        let message = stream.get_raw_message(sequence).await.unwrap();
        assert_eq!(message.subject.as_str(), {
            let body: Value = serde_json::from_slice(&message.payload).unwrap();
            // A value's dots would add tokens to the subject: they become `_`.
            format!(
                "freightgate.northwind.{}",
                body["event"].as_str().unwrap().replace('.', "_")
            )
        });
        let id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .unwrap_or_else(|| panic!("the event's id: {:?}", message.headers))
            .to_string();
        assert!(ids.insert(id), "each event once");
        let body: Value = serde_json::from_slice(&message.payload).unwrap();
        seen.push((
            body["order"].as_str().unwrap().to_string(),
            body["event"].as_str().unwrap().to_string(),
        ));
    }
    let mut stream = nats.stream().await;
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        16,
        "no duplicate stored"
    );
    assert_each_order_created_before_updated(&seen);
}

/// A RabbitMQ node of the test's own (the machine's broker is shared), so that it
/// can be stopped and started again: free ports, its own node name, cookie and
/// database in a temporary directory; durable queues and persistent messages
/// outlive a restart as they would in production.
struct RabbitNode {
    child: Option<std::process::Child>,
    port: u16,
    home: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rabbit_binary() -> Option<&'static str> {
    [
        "/usr/lib/rabbitmq/bin/rabbitmq-server",
        "/usr/sbin/rabbitmq-server",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
}

impl RabbitNode {
    async fn start() -> Option<Self> {
        let Some(_) = rabbit_binary() else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must install rabbitmq-server so that AMQP targets are tested against a real broker"
            );
            eprintln!(
                "skipping: rabbitmq-server is not installed (apt-get install rabbitmq-server)"
            );
            return None;
        };
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("plugins"), "[].\n").unwrap();
        std::fs::write(home.path().join("rabbitmq.conf"), "loopback_users = none\n").unwrap();
        let mut node = Self {
            child: None,
            port: free_port(),
            home,
        };
        node.up().await;
        Some(node)
    }

    /// Starts the node (again) and waits until it takes AMQP connections. A node
    /// that exits before it listens (its distribution port taken meanwhile, say) is
    /// started again; one that never listens fails the test with its log's tail.
    async fn up(&mut self) {
        self.spawn();
        let started = std::time::Instant::now();
        loop {
            if lapin::Connection::connect(&self.url(), lapin::ConnectionProperties::default())
                .await
                .is_ok()
            {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                eprintln!(
                    "rabbitmq-server exited ({status}) before it listened; starting it again"
                );
                self.spawn();
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "rabbitmq-server did not listen; the end of its log:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn spawn(&mut self) {
        let home = self.home.path();
        let child = std::process::Command::new(rabbit_binary().unwrap())
            .env("HOME", home)
            .env(
                "RABBITMQ_NODENAME",
                format!("freightgate{}@localhost", self.port),
            )
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", free_port().to_string())
            .env("RABBITMQ_MNESIA_BASE", home.join("db"))
            .env("RABBITMQ_LOG_BASE", home.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", home.join("plugins"))
            .env("RABBITMQ_CONFIG_FILE", home.join("rabbitmq"))
            .env("RABBITMQ_PID_FILE", home.join("pid"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rabbitmq-server starts");
        self.child = Some(child);
    }

    /// The last lines of the node's log files.
    fn log_tail(&self) -> String {
        let Ok(entries) = std::fs::read_dir(self.home.path().join("log")) else {
            return "(no log directory)".into();
        };
        let mut tail = String::new();
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            tail.push_str(&format!("== {}\n", entry.path().display()));
            for line in &lines[lines.len().saturating_sub(30)..] {
                tail.push_str(line);
                tail.push('\n');
            }
        }
        tail
    }

    /// Stops the node as `rabbitmqctl stop` or a service manager would (SIGTERM).
    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let started = std::time::Instant::now();
            let mut forced = false;
            while child.try_wait().ok().flatten().is_none() {
                if started.elapsed() > Duration::from_secs(30) && !forced {
                    let _ = child.kill();
                    forced = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            // The script killed, the Erlang VM it started may still run and keep the
            // port from the next start: it goes too.
            let vm = std::fs::read_to_string(self.home.path().join("pid")).unwrap_or_default();
            let cmdline = std::fs::read(format!("/proc/{}/cmdline", vm.trim())).unwrap_or_default();
            if forced && String::from_utf8_lossy(&cmdline).contains("beam") {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", vm.trim()])
                    .status();
            }
        }
    }

    fn url(&self) -> String {
        format!("amqp://127.0.0.1:{}/%2f", self.port)
    }

    async fn channel(&self) -> lapin::Channel {
        let connection =
            lapin::Connection::connect(&self.url(), lapin::ConnectionProperties::default())
                .await
                .unwrap();
        connection.create_channel().await.unwrap()
    }

    /// A durable topic exchange `freightgate` and a durable queue taking
    /// `freightgate.#` from it.
    async fn declare(&self) {
        use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
        use lapin::types::FieldTable;
        let channel = self.channel().await;
        channel
            .exchange_declare(
                "freightgate".into(),
                lapin::ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_declare(
                "orders".into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                "orders".into(),
                "freightgate".into(),
                "freightgate.#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
    }

    /// How many messages the queue holds.
    async fn held(&self) -> u32 {
        use lapin::options::QueueDeclareOptions;
        let channel = self.channel().await;
        channel
            .queue_declare(
                "orders".into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap()
            .message_count()
    }

    async fn wait_for(&self, n: u32) {
        let started = std::time::Instant::now();
        loop {
            let held = self.held().await;
            if held >= n {
                return;
            }
            assert!(
                started.elapsed() < WAIT * 2,
                "the queue holds {held} of {n}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        self.down();
    }
}

#[tokio::test]
async fn events_published_to_rabbitmq_are_confirmed_and_arrive_in_order_through_a_broker_restart() {
    let Some(mut rabbit) = RabbitNode::start().await else {
        return;
    };
    rabbit.declare().await;
    // The shipped example, logging in with the broker's user from files.
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/outbound/shipment-events-amqp.toml"
    ))
    .expect("the shipped example");
    let credentials = tempfile::tempdir().unwrap();
    let (user, password) = (
        credentials.path().join("user"),
        credentials.path().join("password"),
    );
    std::fs::write(&user, "guest\n").unwrap();
    std::fs::write(&password, "guest\n").unwrap();
    let shipped = shipped
        .replace("amqp://127.0.0.1:5672/%2f", &rabbit.url())
        .replace(
            "user_env = \"RABBITMQ_USER\", password_env = \"RABBITMQ_PASSWORD\"",
            &format!("user_file = {user:?}, password_file = {password:?}"),
        );
    assert!(shipped.contains(&rabbit.url()) && shipped.contains("user_file"));
    let nowhere = format!(
        r#"
# A routing key no queue is bound to: the broker returns the message, and the
# delivery is a failed attempt, never a silent drop.
[[target]]
name = "nowhere"
business = "northwind"
kind = "amqp"
url = "{url}"
exchange = ""
routing_key = "no-such-queue"
timeout = "2s"

[[target.mapping]]
name = "created"
events = ["order.created"]

[target.mapping.body]
order = "$.data.order_number"
"#,
        url = rabbit.url()
    );
    let (app, _dir, key) = orders_through_a_restart(
        &mut rabbit,
        vec![("events.toml", shipped), ("nowhere.toml", nowhere)],
    )
    .await;

    let endpoints: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    let id_of = |name: &str| {
        endpoints["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"] == format!("outbound:{name}"))
            .unwrap_or_else(|| panic!("the row of {name}: {endpoints}"))["id"]
            .as_i64()
            .unwrap()
    };
    sixteen_delivered_some_retried(&app, &key, id_of("shipment-events-rabbitmq")).await;

    // Consume the queue: every event, each once by its message id, in order per order.
    let channel = rabbit.channel().await;
    let mut seen = Vec::new();
    let mut ids = std::collections::BTreeMap::new();
    while let Some(message) = channel
        .basic_get(
            "orders".into(),
            lapin::options::BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap()
    {
        let properties = &message.delivery.properties;
        assert_eq!(
            properties.delivery_mode(),
            &Some(2),
            "persistent, so a restart keeps it"
        );
        let id = properties
            .message_id()
            .as_ref()
            .expect("the event's id as message_id")
            .to_string();
        *ids.entry(id).or_insert(0) += 1;
        let body: Value = serde_json::from_slice(&message.delivery.data).unwrap();
        assert_eq!(
            message.delivery.routing_key.as_str(),
            format!(
                "freightgate.northwind.{}",
                body["event"].as_str().unwrap().replace('.', "_")
            )
        );
        seen.push((
            body["order"].as_str().unwrap().to_string(),
            body["event"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(ids.len(), 16, "every event arrived: {seen:?}");
    assert!(
        ids.values().all(|n| *n == 1),
        "no event was published twice: {ids:?}"
    );
    assert_each_order_created_before_updated(&seen);

    // The unroutable target's events are failed attempts that say why.
    let pending = wait_for_json(
        &app,
        &key,
        &format!(
            "/v1/webhooks/endpoints/{}/deliveries?limit=100",
            id_of("nowhere")
        ),
        |v| {
            v["deliveries"].as_array().is_some_and(|d| {
                d.len() == 8
                    && d.iter().any(|d| {
                        d["last_error"]
                            .as_str()
                            .is_some_and(|e| e.contains("312 NO_ROUTE (no queue is bound"))
                    })
            })
        },
    )
    .await;
    assert!(
        pending["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] != "delivered"),
        "{pending}"
    );
}

#[tokio::test]
async fn a_completed_shipment_is_written_as_edifact_x12_and_fixed_width_files_its_readers_read_back()
 {
    let out = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/outbound/customer-edi-files.toml"
    ))
    .expect("the shipped example");
    let folder = |name: &str| out.path().join(name);
    let targets = shipped
        .replace(
            "/srv/edi/outbox/iftsta",
            &folder("iftsta").display().to_string(),
        )
        .replace("/srv/edi/outbox/x12", &folder("x12").display().to_string())
        .replace(
            "/srv/edi/outbox/as400",
            &folder("as400").display().to_string(),
        );
    let (app, _dir) = spawn(|_| vec![("edi.toml", targets)], |_| {}).await;
    let key = northwind(&app).await;
    complete_a_shipment(&app, &key).await;
    let wait_for = |path: std::path::PathBuf| async move {
        let started = std::time::Instant::now();
        while !path.exists() {
            assert!(started.elapsed() < WAIT, "no file {}", path.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        std::fs::read(&path).unwrap()
    };
    let iftsta = wait_for(folder("iftsta").join("IFTSTA-NW-SHP-240611-0042.edi")).await;
    let documents = freightgate::rules::formats::edifact::read(&iftsta, 10)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&iftsta)));
    assert_eq!(documents[0]["BGM"][0]["BGM02"], "NW-SHP-240611-0042");
    assert_eq!(
        documents[0]["CNI"][0]["STS"][0]["PCI"][0]["PCI02"],
        "PLT-0007731"
    );
    let x12 = wait_for(folder("x12").join("214-NW-SHP-240611-0042.x12")).await;
    let documents = freightgate::rules::formats::x12::read(&x12, 10)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&x12)));
    assert_eq!(documents[0]["B10"][0]["B1001"], "NW-SHP-240611-0042");
    assert_eq!(documents[0]["LX"][0]["MS2"][0]["MS202"], "BX-482-K");
    let text = wait_for(folder("as400").join("DESP-NW-SHP-240611-0042.txt")).await;
    let text = String::from_utf8(text).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(
        lines[0].starts_with("SHPNW-SHP-240611-0042  2026061114"),
        "{text:?}"
    );
    assert!(lines[1].starts_with("PALPLT-0007731"), "{text:?}");
}

#[tokio::test]
async fn a_batched_mapping_writes_one_file_per_period_with_every_event_of_it() {
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().join("daily");
    let target = format!(
        r#"
[[target]]
name = "order-digest"
business = "northwind"
kind = "folder"
path = {folder:?}

[[target.mapping]]
name = "orders"
events = ["order.created"]
format = "csv"
batch = "4s"
file_name = "orders-{{$.data.period}}-{{$.data.events}}.csv"

[target.mapping.body]
order = {{ path = "$.data.order_number", required = true }}
status = "$.data.status"
"#,
        folder = folder.display().to_string()
    );
    let (app, _dir) = spawn(|_| vec![("digest.toml", target)], |_| {}).await;
    let key = northwind(&app).await;
    // Start just after a period begins, so that the four orders share one.
    let now = chrono::Utc::now();
    let into = (now.timestamp() % 4) as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0;
    if into > 1.0 {
        tokio::time::sleep(Duration::from_secs_f64(4.0 - into + 0.05)).await;
    }
    for i in 0..4 {
        order_twice(&app, &key, &format!("DIGEST-{i}")).await;
    }
    // Nothing is written before the period ends.
    assert!(
        !folder.exists() || std::fs::read_dir(&folder).unwrap().next().is_none(),
        "a file before the period ended"
    );
    let started = std::time::Instant::now();
    let file = loop {
        let names: Vec<std::path::PathBuf> = std::fs::read_dir(&folder)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        if let [one] = names.as_slice() {
            break one.clone();
        }
        assert!(names.len() < 2, "{names:?}");
        assert!(started.elapsed() < WAIT, "no batch file");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("orders-") && name.ends_with("Z-4.csv"),
        "the name is the period's start and the number of events: {name}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "order,status", "{text}");
    let orders: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        orders,
        ["DIGEST-0", "DIGEST-1", "DIGEST-2", "DIGEST-3"],
        "every event once, in order: {text}"
    );
    // The file is one delivery of the target's row, delivered.
    let endpoints: Value = app.get_json("/v1/webhooks/endpoints", &key).await;
    let id = endpoints["endpoints"][0]["id"].as_i64().unwrap();
    let deliveries = wait_for_json(
        &app,
        &key,
        &format!("/v1/webhooks/endpoints/{id}/deliveries?limit=100"),
        |v| v["deliveries"][0]["state"] == "delivered",
    )
    .await;
    let list = deliveries["deliveries"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{deliveries}");
    assert_eq!(list[0]["event_type"], "outbound.batch");
}
