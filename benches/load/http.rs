//! The load generator's HTTP/1 client for the floor and explain scenarios: hyper's
//! connection-level API with keep-alive connections reused from a plain stack, and
//! requests built from pre-made `Bytes` and header values. reqwest (used by the other
//! scenarios) parses the URL, runs its pool and redirect machinery on every request;
//! on the one-thread generator that made the floor measure the client, not the server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// One target (`POST path` with a fixed body and headers) and its idle connections.
pub struct Poster {
    addr: SocketAddr,
    path: String,
    host: HeaderValue,
    auth: Option<HeaderValue>,
    body: Bytes,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl Poster {
    /// Posts `body` as JSON to `base` + `path` (`base` is `http://127.0.0.1:PORT`).
    pub fn new(base: &str, path: &str, bearer: Option<&str>, body: &'static str) -> Arc<Self> {
        let authority = base.strip_prefix("http://").expect("an http:// base");
        Arc::new(Self {
            addr: authority.parse().expect("an IP:port base"),
            path: path.to_string(),
            host: HeaderValue::from_str(authority).expect("host header"),
            auth: bearer.map(|k| HeaderValue::from_str(&format!("Bearer {k}")).expect("key")),
            body: Bytes::from_static(body.as_bytes()),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends one request; `Ok` when the answer has `status` (its body is read either way).
    pub async fn post(&self, status: u16) -> Result<(), String> {
        let mut sender = self.connection().await?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.path.as_str())
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let request = request
            .body(Full::new(self.body.clone()))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let got = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        // Back to the stack only once the answer is read: the connection is free again.
        self.idle.lock().unwrap().push(sender);
        if got == status {
            Ok(())
        } else {
            Err(format!("{got}: {}", String::from_utf8_lossy(&body)))
        }
    }

    /// An idle connection that is still open, or a new one.
    async fn connection(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        loop {
            let idle = self.idle.lock().unwrap().pop();
            match idle {
                Some(mut sender) => {
                    if sender.ready().await.is_ok() {
                        return Ok(sender);
                    }
                }
                None => return self.connect().await,
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(sender)
    }
}
