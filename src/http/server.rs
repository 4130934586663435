//! The accept loop. Each connection gets a header-read timeout (which also bounds how
//! long a keep-alive connection may sit idle), and the number of open connections is
//! capped for the process and for each client address: a client past a cap gets a
//! short problem+json answer with `Retry-After` and its connection is closed, instead
//! of the process running out of file descriptors. On shutdown the loop stops
//! accepting and lets the open connections finish what they are doing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::limits::Counted;
use crate::config::Config;
use crate::error::Error;

/// The connection limits of one process.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections at once; 0: no cap.
    pub max_connections: usize,
    /// Open connections at once from one client address; 0: no cap.
    pub max_connections_per_ip: usize,
    /// How long a client may take to send a request's headers, and how long a
    /// keep-alive connection may wait for its next request.
    pub header_read_timeout: Duration,
}

impl ConnectionLimits {
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_connections: config.max_connections,
            max_connections_per_ip: config.max_connections_per_ip,
            header_read_timeout: Duration::from_millis(config.header_read_timeout_ms),
        }
    }
}

/// Whether the process turned requests or connections away lately; `/readyz`
/// answers 503 while it does, so a load balancer sends new work elsewhere.
#[derive(Debug, Default)]
pub struct Shedding {
    /// Milliseconds since the epoch until which the process counts as shedding.
    until_ms: AtomicU64,
}

/// How long one refusal keeps `/readyz` at 503.
const SHEDDING_WINDOW: Duration = Duration::from_secs(5);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Shedding {
    /// Notes a refusal: the process counts as shedding for the next few seconds.
    pub fn shed(&self) {
        self.until_ms.store(
            now_ms() + SHEDDING_WINDOW.as_millis() as u64,
            Ordering::Relaxed,
        );
    }

    /// Whether a refusal happened within the window.
    pub fn is_shedding(&self) -> bool {
        now_ms() < self.until_ms.load(Ordering::Relaxed)
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled; then stops accepting
/// and waits for the open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shedding: Arc<Shedding>,
    shutdown: CancellationToken,
) {
    let total =
        (limits.max_connections > 0).then(|| Arc::new(Semaphore::new(limits.max_connections)));
    let per_ip = Arc::new(Counted::<IpAddr>::new(limits.max_connections_per_ip));
    let connections = TaskTracker::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let service = TowerToHyperService::new(router);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let permit: Option<OwnedSemaphorePermit> = match &total {
            None => None,
            Some(total) => match total.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    shedding.shed();
                    metrics::counter!("freightgate_http_connections_refused_total", "reason" => "process")
                        .increment(1);
                    tokio::spawn(refuse(stream, Refusal::Process));
                    continue;
                }
            },
        };
        let Some(slot) = per_ip.take(peer.ip()) else {
            metrics::counter!("freightgate_http_connections_refused_total", "reason" => "address")
                .increment(1);
            tokio::spawn(refuse(stream, Refusal::Address(peer)));
            continue;
        };
        let connection = builder
            .serve_connection(TokioIo::new(stream), service.clone())
            .with_upgrades();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            metrics::gauge!("freightgate_http_connections_open").increment(1.0);
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = shutdown.cancelled() => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                tracing::debug!(%error, "connection ended with an error");
            }
            metrics::gauge!("freightgate_http_connections_open").decrement(1.0);
            drop(slot);
            drop(permit);
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// An accept that failed: out of file descriptors or memory pauses the loop briefly
/// (the error repeats at once otherwise); a connection reset before it was accepted
/// is nothing.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "accept failed; pausing new connections for 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

enum Refusal {
    Process,
    Address(SocketAddr),
}

/// Answers a connection past a cap and closes it. Bounded: a client that does not
/// read the answer within a second is dropped.
async fn refuse(mut stream: TcpStream, why: Refusal) {
    let error = match why {
        Refusal::Process => Error::Overloaded,
        Refusal::Address(peer) => {
            tracing::debug!(%peer, "connection refused: too many open from this address");
            Error::TooManyConnections
        }
    };
    let problem = error.problem();
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let status = error.status();
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    let answer = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent so that closing does not reset the connection
        // before the answer is read.
        let mut sink = [0u8; 4096];
        let mut read = 0usize;
        while read < 64 * 1024 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => read += n,
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}
