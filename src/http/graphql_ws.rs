//! `/graphql/ws`: GraphQL over websocket (`graphql-transport-ws` and the older
//! `graphql-ws`), authenticated by the connection-init payload. The socket gets what
//! an HTTP request gets: every operation re-checks the key (through the key cache)
//! and takes a token from the key's rate limit, and the key is re-checked every
//! `graphql_ws_key_check_ms` besides, so a revoked key closes the socket (code 4403).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use std::str::FromStr;

use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as Protocol, WebSocketProtocols, WsMessage,
};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::http::request::Parts;
use axum::response::Response as HttpResponse;
use futures_util::stream::{self, BoxStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::Notify;

use super::limits::RateLimits;
use crate::app::App;
use crate::error::{AuthFailure, Error, ProblemCode};
use crate::graphql::{self, AppSchema};
use crate::store::key_cache::KeyCache;
use crate::store::keys::Principal;

/// The close code a socket whose key was revoked is closed with.
const REVOKED: u16 = 4403;

/// The GraphQL websocket subprotocol the client asked for.
pub struct Subprotocol(WebSocketProtocols);

impl<S: Send + Sync> FromRequestParts<S> for Subprotocol {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        parts
            .headers
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|value| value.to_str().ok())
            .and_then(|protocols| {
                protocols
                    .split(',')
                    .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
            })
            .map(Subprotocol)
            .ok_or(Error::BadRequest {
                code: ProblemCode::BadRequest,
                detail: "send `Sec-WebSocket-Protocol: graphql-transport-ws` (or the older `graphql-ws`)".into(),
            })
    }
}

/// Upgrades to a GraphQL websocket session.
#[tracing::instrument(skip_all)]
pub async fn upgrade(
    State(app): State<App>,
    Extension(schema): Extension<AppSchema>,
    Extension(keys): Extension<Arc<KeyCache>>,
    Extension(limits): Extension<Arc<RateLimits>>,
    Subprotocol(protocol): Subprotocol,
    websocket: WebSocketUpgrade,
) -> HttpResponse {
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let session = Arc::new(Session {
                app,
                keys,
                limits,
                key: OnceLock::new(),
                wake: Notify::new(),
            });
            serve(socket, schema, protocol, session)
        })
}

/// One socket's key and the means to check it.
struct Session {
    app: App,
    keys: Arc<KeyCache>,
    limits: Arc<RateLimits>,
    /// The key presented in `connection_init`, once accepted.
    key: OnceLock<String>,
    /// Wakes the socket's loop when a check (an operation's or the periodic one)
    /// found the key revoked; the loop then closes the socket.
    wake: Notify,
}

impl Session {
    /// The key's principal as of now: `Ok(None)` before `connection_init`, an error
    /// once the key is unknown or revoked.
    async fn principal(&self) -> Result<Option<Principal>, Error> {
        let Some(key) = self.key.get() else {
            return Ok(None);
        };
        match self.keys.authenticate(&self.app.db, key).await? {
            Some(principal) => Ok(Some(principal)),
            None => {
                self.wake.notify_one();
                Err(Error::Unauthorized(AuthFailure::Unknown))
            }
        }
    }

    /// Admits one operation: the key is still valid and within its rate limit.
    async fn admit(&self) -> Result<Option<Principal>, Error> {
        let principal = self.principal().await?;
        if let Some(principal) = &principal {
            self.limits.check(principal)?;
        }
        Ok(principal)
    }
}

/// The schema behind the session's checks. Each operation gets a fresh request scope
/// (its own loader cache, the key's current scopes) instead of the connection's.
#[derive(Clone)]
struct Guarded {
    schema: AppSchema,
    session: Arc<Session>,
}

impl Executor for Guarded {
    async fn execute(&self, request: Request) -> Response {
        // Only streams are used over the socket; answered the same way regardless.
        let mut responses = self.execute_stream(request, None);
        responses.next().await.unwrap_or_default()
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let guarded = self.clone();
        stream::once(async move {
            let admitted = guarded.session.admit().await;
            (guarded, admitted, request)
        })
        .flat_map(move |(guarded, admitted, request)| match admitted {
            Ok(principal) => {
                let request = match principal {
                    Some(principal) => request.data(graphql::request_data(
                        principal,
                        guarded.session.app.db.clone(),
                    )),
                    None => request,
                };
                Executor::execute_stream(&guarded.schema, request, session_data.clone())
            }
            Err(error) => stream::once(async move { refused(&error) }).boxed(),
        })
        .boxed()
    }
}

/// The answer to an operation that was not admitted.
fn refused(error: &Error) -> Response {
    let mut server_error = ServerError::new(error.to_string(), None);
    let extensions = server_error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", error.code().as_str());
    if let Some(seconds) = error.retry_after() {
        extensions.set("retryAfter", seconds);
    }
    Response::from_errors(vec![server_error])
}

/// Runs the protocol over the socket until either side ends it or the key is revoked.
async fn serve(
    socket: WebSocket,
    schema: AppSchema,
    protocol: WebSocketProtocols,
    session: Arc<Session>,
) {
    let (mut sink, input) = socket.split();
    let input = input
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| {
            futures_util::future::ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let executor = Guarded {
        schema,
        session: session.clone(),
    };
    let init = session.clone();
    let outgoing = Protocol::new(executor, input, protocol)
        .on_connection_init(move |payload| authenticate(init, payload));
    let mut outgoing = std::pin::pin!(outgoing);
    let mut check = tokio::time::interval(Duration::from_millis(
        session.app.config.graphql_ws_key_check_ms,
    ));
    check.tick().await;
    loop {
        let message = tokio::select! {
            message = outgoing.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })),
                None => break,
            },
            _ = check.tick() => {
                // A revoked key wakes the loop below; a database that does not answer
                // is not a revocation.
                let _ = session.principal().await;
                continue;
            }
            _ = session.wake.notified() => close_revoked(),
        };
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() || closing {
            break;
        }
    }
}

fn close_revoked() -> Message {
    metrics::counter!("freightgate_graphql_ws_closed_total", "reason" => "key_revoked")
        .increment(1);
    Message::Close(Some(CloseFrame {
        code: REVOKED,
        reason: "the API key is unknown or was revoked".into(),
    }))
}

/// The key from `{"authorization": "Bearer <key>"}` (any case) or `{"apiKey": "<key>"}`.
fn presented_key(payload: &Value) -> Option<String> {
    let object = payload.as_object()?;
    let field = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    };
    if let Some(header) = field("authorization") {
        let (scheme, token) = header.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    field("apiKey").map(str::to_owned)
}

async fn authenticate(session: Arc<Session>, payload: Value) -> async_graphql::Result<Data> {
    let key = presented_key(&payload).ok_or(Error::Unauthorized(AuthFailure::Missing))?;
    let principal = session
        .keys
        .authenticate(&session.app.db, &key)
        .await?
        .ok_or(Error::Unauthorized(AuthFailure::Unknown))?;
    session.limits.check(&principal)?;
    crate::app::access::subscriptions(&principal)?;
    let _ = session.key.set(key);
    let mut data = Data::default();
    data.insert(graphql::request_data(principal, session.app.db.clone()));
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::presented_key;
    use serde_json::json;

    #[test]
    fn the_key_comes_from_authorization_or_api_key() {
        assert_eq!(
            presented_key(&json!({"authorization": "Bearer fgk_x"})).as_deref(),
            Some("fgk_x")
        );
        assert_eq!(
            presented_key(&json!({"Authorization": "bearer fgk_y"})).as_deref(),
            Some("fgk_y")
        );
        assert_eq!(
            presented_key(&json!({"apiKey": "fgk_z"})).as_deref(),
            Some("fgk_z")
        );
        assert_eq!(presented_key(&json!({"authorization": "Basic abc"})), None);
        assert_eq!(presented_key(&json!(null)), None);
    }
}
