//! `/graphql/ws`: GraphQL over websocket (`graphql-transport-ws` and the older
//! `graphql-ws`), authenticated by the connection-init payload.

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use serde_json::Value;

use crate::app::App;
use crate::error::{AuthFailure, Error};
use crate::graphql::{self, AppSchema};
use crate::store::keys;

/// Upgrades to a GraphQL websocket session.
#[tracing::instrument(skip_all)]
pub async fn upgrade(
    State(state): State<App>,
    Extension(schema): Extension<AppSchema>,
    protocol: GraphQLProtocol,
    websocket: WebSocketUpgrade,
) -> Response {
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| authenticate(state, payload))
                .serve()
        })
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

async fn authenticate(state: App, payload: Value) -> async_graphql::Result<Data> {
    let key = presented_key(&payload).ok_or(Error::Unauthorized(AuthFailure::Missing))?;
    let principal = keys::authenticate(&state.db, &key)
        .await?
        .ok_or(Error::Unauthorized(AuthFailure::Unknown))?;
    let mut data = Data::default();
    data.insert(graphql::request_data(principal, state.db.clone()));
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
