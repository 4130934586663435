//! What a key may do beyond its scopes, decided here for every door. A tenant key
//! (the business itself) is limited by its scopes only. A customer or subcontractor
//! key may use only the operations listed below: any other REST route, GraphQL field
//! or subscription is `403 forbidden`, so that a door added later is closed to it
//! until it is listed here. What the listed operations read and change is narrowed
//! in the use cases (`orders::find`, `shipments::find`, the listings, the messages
//! and endpoints) and in ingest: a customer's own orders and the shipments that carry
//! them; a subcontractor's assigned shipments and the events about them.

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

/// The REST routes a subcontractor key may call.
const SUBCONTRACTOR_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/key"),
    ("GET", "/v1/shipments"),
    ("GET", "/v1/shipments/{id}"),
    ("GET", "/v1/shipments/{id}/pallets"),
    ("GET", "/v1/shipments/{id}/documents"),
    ("GET", "/v1/shipments/{id}/references"),
    ("GET", "/v1/shipments/{id}/exceptions"),
    ("PATCH", "/v1/shipments/{id}/stops/{seq}"),
    ("POST", "/v1/ingest"),
    ("GET", "/v1/messages"),
    ("GET", "/v1/webhooks/event-types"),
    ("GET", "/v1/webhooks/endpoints"),
    ("POST", "/v1/webhooks/endpoints"),
    ("GET", "/v1/webhooks/endpoints/{id}"),
    ("DELETE", "/v1/webhooks/endpoints/{id}"),
    ("GET", "/v1/webhooks/endpoints/{id}/secret"),
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

/// The GraphQL root fields a subcontractor key may use: `shipment(id)` finds only
/// the shipments assigned to it.
const SUBCONTRACTOR_FIELDS: &[&str] = &["ping", "shipment"];

fn refuse(who: &Principal, what: String) -> Error {
    let may = match &who.role {
        KeyRole::Subcontractor(_) => {
            "it may read the shipments assigned to it (GET /v1/shipments, /v1/shipments/{id}), report on their stops \
             (PATCH /v1/shipments/{id}/stops/{seq}, POST /v1/ingest), pull its events (GET /v1/messages) and keep its own webhook endpoints"
        }
        _ => {
            "it may read and change its own orders (GET/POST /v1/orders, /v1/orders/{id}, POST /v1/ingest, \
             GraphQL's order mutations) and read the shipments that carry them"
        }
    };
    Error::Forbidden(format!(
        "a {} key may not use {what}; {may}",
        who.role.name()
    ))
}

/// What a role-bound key may use: REST routes (method, route as declared) and
/// GraphQL root fields.
struct Allowed {
    routes: &'static [(&'static str, &'static str)],
    fields: &'static [&'static str],
}

/// What the key's role may use; `None` for a tenant key, which may use all.
fn allowed(role: &KeyRole) -> Option<Allowed> {
    match role {
        KeyRole::Tenant => None,
        KeyRole::Customer(_) => Some(Allowed {
            routes: CUSTOMER_ROUTES,
            fields: CUSTOMER_FIELDS,
        }),
        KeyRole::Subcontractor(_) => Some(Allowed {
            routes: SUBCONTRACTOR_ROUTES,
            fields: SUBCONTRACTOR_FIELDS,
        }),
    }
}

/// Whether the key may call the REST route `route` (as declared, e.g.
/// `/v1/orders/{id}`) with `method`.
pub fn http(who: &Principal, method: &str, route: Option<&str>) -> Result<()> {
    let Some(Allowed { routes, .. }) = allowed(&who.role) else {
        return Ok(());
    };
    let listed = route.is_some_and(|route| routes.iter().any(|(m, r)| *m == method && *r == route));
    if listed {
        Ok(())
    } else {
        Err(refuse(
            who,
            format!("{method} {}", route.unwrap_or("this path")),
        ))
    }
}

/// Whether the key may resolve anything under the GraphQL root field `field`.
pub fn graphql(who: &Principal, field: &str) -> Result<()> {
    match allowed(&who.role) {
        None => Ok(()),
        Some(Allowed { fields, .. }) if fields.contains(&field) => Ok(()),
        Some(_) => Err(refuse(who, format!("the GraphQL field `{field}`"))),
    }
}

/// Whether the key may open subscriptions (`/graphql/ws`).
pub fn subscriptions(who: &Principal) -> Result<()> {
    match allowed(&who.role) {
        None => Ok(()),
        Some(_) => Err(refuse(who, "subscriptions".into())),
    }
}
