//! What a key may do beyond its scopes, decided here for every door. A tenant key
//! (the business itself) is limited by its scopes only. A customer key may use only
//! the operations listed below: any other REST route, GraphQL field or subscription
//! is `403 forbidden`, so that a door added later is closed to it until it is listed
//! here. What the listed operations read and change is narrowed to the customer's own
//! orders and the shipments that carry them, in the use cases (`orders::find`,
//! `shipments::find`, the listings) and in ingest.

use crate::domain::KeyRole;
use crate::error::{Error, Result};
use crate::store::keys::Principal;

/// The REST routes (method, route as declared) a customer key may call.
const CUSTOMER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/key"),
    ("GET", "/v1/orders"),
    ("POST", "/v1/orders"),
    ("GET", "/v1/orders/{id}"),
    ("PUT", "/v1/orders/{id}"),
    ("PATCH", "/v1/orders/{id}"),
    ("POST", "/v1/orders/{id}/cancel"),
    ("POST", "/v1/orders/{id}/items"),
    ("DELETE", "/v1/orders/{id}/items/{key}"),
    ("GET", "/v1/shipments"),
    ("GET", "/v1/shipments/{id}"),
    ("POST", "/v1/ingest"),
    ("POST", "/graphql"),
    ("GET", "/graphql"),
];

/// The GraphQL root fields a customer key may use: order writes, whose answers
/// carry no other customer's data.
const CUSTOMER_FIELDS: &[&str] = &[
    "ping",
    "createOrder",
    "createOrUpdateOrder",
    "addItemsToOrder",
    "deleteItemsFromOrder",
];

fn refuse(who: &Principal, what: String) -> Error {
    Error::Forbidden(format!(
        "a {} key may not use {what}; it may read and change its own orders (GET/POST /v1/orders, \
         /v1/orders/{{id}}, POST /v1/ingest, GraphQL's order mutations) and read the shipments that carry them",
        who.role.name()
    ))
}

/// Whether the key may call the REST route `route` (as declared, e.g.
/// `/v1/orders/{id}`) with `method`.
pub fn http(who: &Principal, method: &str, route: Option<&str>) -> Result<()> {
    match &who.role {
        KeyRole::Tenant => Ok(()),
        KeyRole::Customer(_) => {
            let allowed = route.is_some_and(|route| {
                CUSTOMER_ROUTES
                    .iter()
                    .any(|(m, r)| *m == method && *r == route)
            });
            if allowed {
                Ok(())
            } else {
                Err(refuse(
                    who,
                    format!("{method} {}", route.unwrap_or("this path")),
                ))
            }
        }
    }
}

/// Whether the key may resolve anything under the GraphQL root field `field`.
pub fn graphql(who: &Principal, field: &str) -> Result<()> {
    match &who.role {
        KeyRole::Tenant => Ok(()),
        KeyRole::Customer(_) if CUSTOMER_FIELDS.contains(&field) => Ok(()),
        KeyRole::Customer(_) => Err(refuse(who, format!("the GraphQL field `{field}`"))),
    }
}

/// Whether the key may open subscriptions (`/graphql/ws`).
pub fn subscriptions(who: &Principal) -> Result<()> {
    match &who.role {
        KeyRole::Tenant => Ok(()),
        KeyRole::Customer(_) => Err(refuse(who, "subscriptions".into())),
    }
}
