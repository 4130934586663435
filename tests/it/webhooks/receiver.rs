//! A real HTTP receiver for webhook pushes: records what arrives and answers from a
//! script of statuses (204 once the script is used up).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

/// One push as received.
#[derive(Debug, Clone)]
pub struct Push {
    /// The request's path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
    pub at: Instant,
}

impl Push {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("pushes are JSON")
    }
}

#[derive(Default)]
struct Inner {
    pushes: Vec<Push>,
    script: VecDeque<(u16, Option<&'static str>)>,
    delay: Option<Duration>,
    /// Fixed JSON answers by path: (status, body), ahead of the script.
    bodies: std::collections::HashMap<String, (u16, String)>,
}

/// A receiver listening on 127.0.0.1.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fixed = inner.lock().unwrap().bodies.get(uri.path()).cloned();
    let (answer, delay) = {
        let mut inner = inner.lock().unwrap();
        inner.pushes.push(Push {
            path: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
        if let Some((status, body)) = fixed {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            return response;
        }
        (inner.script.pop_front().unwrap_or((204, None)), inner.delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = StatusCode::from_u16(answer.0).unwrap().into_response();
    if let Some(retry_after) = answer.1 {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static(retry_after));
    }
    response
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, false)
    }

    /// A partner's API: it takes POST, PUT and PATCH on any path, not only `/hooks`.
    pub async fn start_partner() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, true)
    }

    /// Starts on a given port (a receiver coming back up).
    pub async fn start_on(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        Self::serve(listener, false)
    }

    fn serve(listener: tokio::net::TcpListener, any_path: bool) -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let mut app = Router::new().route("/hooks", post(receive));
        if any_path {
            app = app.route("/{*rest}", post(receive).put(receive).patch(receive));
        }
        let app = app.with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { inner, url }
    }

    /// The next answers, in order: status and optional Retry-After.
    pub fn script(&self, answers: &[(u16, Option<&'static str>)]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .extend(answers.iter().copied());
    }

    /// Forgets the rest of the script: 204 from now on. Answers how many pushes
    /// came before.
    pub fn heal(&self) -> usize {
        let mut inner = self.inner.lock().unwrap();
        inner.script.clear();
        inner.pushes.len()
    }

    /// Answers every request to `path` with `status` and the JSON `body`.
    pub fn respond(&self, path: &str, status: u16, body: &str) {
        self.inner
            .lock()
            .unwrap()
            .bodies
            .insert(path.to_string(), (status, body.to_string()));
    }

    pub fn slow(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = Some(delay);
    }

    pub fn pushes(&self) -> Vec<Push> {
        self.inner.lock().unwrap().pushes.clone()
    }

    /// Waits until `done` holds for the pushes so far, or fails after `within`.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[Push]) -> bool) -> Vec<Push> {
        let started = Instant::now();
        loop {
            let pushes = self.pushes();
            if done(&pushes) {
                return pushes;
            }
            assert!(
                started.elapsed() < within,
                "timed out; received so far: {pushes:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The event types of the pushes, in arrival order.
pub fn types(pushes: &[Push]) -> Vec<String> {
    pushes
        .iter()
        .map(|p| p.json()["type"].as_str().unwrap_or("").to_string())
        .collect()
}
