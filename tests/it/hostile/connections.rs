//! Clients that hold connections or bodies open: half-sent headers, idle keep-alive
//! connections, trickled bodies, too many connections from one address or in all,
//! requests without a key that announce a body they never send.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use freightgate::domain::Scope;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::{TestApp, assert_problem};

fn address(app: &TestApp) -> SocketAddr {
    app.base
        .trim_start_matches("http://")
        .parse()
        .expect("the app's address")
}

/// A raw connection to the app from `from` (any 127.x.y.z address is this machine).
async fn connect_from(app: &TestApp, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(address(app)).await.expect("connect")
}

/// Everything the server sends until it closes the connection, or `None` if it
/// keeps it open longer than `within`.
async fn read_until_closed(
    stream: &mut (impl AsyncRead + Unpin),
    within: Duration,
) -> Option<String> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut answer)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

/// The status line and body of the first answer on a connection, read within `within`.
async fn first_answer(
    stream: &mut (impl AsyncRead + Unpin),
    within: Duration,
) -> Option<(u16, String)> {
    let mut buffer = Vec::new();
    let deadline = Instant::now() + within;
    loop {
        let text = String::from_utf8_lossy(&buffer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.split(' ').nth(1)?.parse().ok()?;
                return Some((status, body[..length].to_string()));
            }
        }
        let mut chunk = [0u8; 4096];
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn half_sent_headers_and_idle_keep_alive_connections_are_closed_after_the_header_read_timeout()
 {
    let app = TestApp::spawn_with(|c| c.header_read_timeout_ms = 300).await;
    // Slowloris: headers that never end.
    let mut slow = connect_from(&app, [127, 0, 0, 1]).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Wait: ")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        read_until_closed(&mut slow, Duration::from_secs(5))
            .await
            .is_some(),
        "a connection with unfinished headers stayed open"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // A keep-alive connection that answered once and then sits idle.
    let mut idle = connect_from(&app, [127, 0, 0, 1]).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (status, _) = first_answer(&mut idle, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(status, 200);
    assert!(
        read_until_closed(&mut idle, Duration::from_secs(5))
            .await
            .is_some(),
        "an idle keep-alive connection stayed open"
    );
}

#[tokio::test]
async fn connections_past_the_per_address_cap_get_429_and_other_addresses_still_get_in() {
    let app = TestApp::spawn_with(|c| c.max_connections_per_ip = 4).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from(&app, [127, 0, 0, 9]).await);
    }
    let mut refused = connect_from(&app, [127, 0, 0, 9]).await;
    let answer = read_until_closed(&mut refused, Duration::from_secs(5))
        .await
        .expect("the fifth connection is answered and closed");
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    // Another address is not affected, and readiness is not: one client's excess
    // is its own.
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    // Closing one lets the address in again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect_from(&app, [127, 0, 0, 9]).await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (status, _) = first_answer(&mut again, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn connections_past_the_process_cap_get_503_and_readyz_reports_the_shedding() {
    let app = TestApp::spawn_with(|c| {
        c.max_connections = 6;
        c.max_connections_per_ip = 0;
    })
    .await;
    // reqwest keeps its pooled connection from the start-up probe; hold the rest.
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..8 {
        let mut stream = connect_from(&app, [127, 0, 0, 10]).await;
        match read_until_closed(&mut stream, Duration::from_millis(300)).await {
            Some(answer) => {
                refused = Some(answer);
                break;
            }
            None => held.push(stream),
        }
    }
    let answer = refused.expect("a connection past the cap is answered and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("\"overloaded\""), "{answer}");
    drop(held.pop());
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = reqwest::Client::new()
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_problem(ready, 503, "overloaded").await;
}

#[tokio::test]
async fn a_body_trickled_slower_than_the_floor_gets_408_and_writes_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.header_read_timeout_ms = 300;
        c.body_min_bytes_per_sec = 1_000;
    })
    .await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let before = super::counts(&app.db).await;
    let stream = connect_from(&app, [127, 0, 0, 1]).await;
    let (mut reader, mut stream) = stream.into_split();
    let head = format!(
        "POST /v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickle = async {
        loop {
            if stream.write_all(b"          ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let answer = tokio::select! {
        answer = first_answer(&mut reader, Duration::from_secs(10)) => answer,
        _ = trickle => None,
    };
    let (status, body) = answer.expect("an answer before the body ends");
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("body_too_slow"), "{body}");
    assert!(body.contains("body_min_bytes_per_sec"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(super::counts(&app.db).await, before);
}

#[tokio::test]
async fn every_route_refuses_a_missing_key_before_reading_the_body() {
    let app = TestApp::spawn().await;
    let openapi: serde_json::Value =
        serde_json::from_str(include_str!("../../../openapi.json")).unwrap();
    let mut routes: Vec<(String, String)> = vec![("POST".into(), "/graphql".into())];
    for (path, operations) in openapi["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if operations.get(method).is_some() {
                let concrete = path
                    .replace("{id}", "1")
                    .replace("{key}", "1")
                    .replace("{delivery_id}", "1")
                    .replace("{logging_id}", "x");
                routes.push((method.to_uppercase(), concrete));
            }
        }
    }
    assert!(routes.len() > 10, "{routes:?}");
    for (method, path) in routes {
        let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
        // A body is announced and never sent.
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = first_answer(&mut stream, Duration::from_secs(3)).await;
        let (status, body) = answer
            .unwrap_or_else(|| panic!("{method} {path} waited for the body of a keyless request"));
        assert_eq!(status, 401, "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn one_key_past_its_in_flight_cap_gets_429_and_other_keys_do_not() {
    let app = TestApp::spawn_with(|c| c.max_requests_per_key = 2).await;
    let key = app.key("acme", &[Scope::Ingest]).await;
    let other = app.key("acme", &[Scope::Ingest]).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
        let head = format!(
            "POST /v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let body = serde_json::json!({"x": 1});
    let third = app.post_json("/v1/ingest/explain", &key, &body).await;
    assert_eq!(third.headers()["retry-after"], "1");
    assert_problem(third, 429, "too_many_in_flight").await;
    let elsewhere = app.post_json("/v1/ingest/explain", &other, &body).await;
    assert_eq!(elsewhere.status(), 200);
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = app.post_json("/v1/ingest/explain", &key, &body).await;
    assert_eq!(later.status(), 200);
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_label() {
    let app = TestApp::spawn().await;
    for method in ["FOOBAR", "XYZZY1", "XYZZY2"] {
        let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
        let head = format!("{method} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        first_answer(&mut stream, Duration::from_secs(3))
            .await
            .expect("an answer");
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("XYZZY"),
        "a made-up method became a label"
    );
    assert!(
        !metrics.contains("FOOBAR"),
        "a made-up method became a label"
    );
    assert!(metrics.contains("method=\"other\""));
}
