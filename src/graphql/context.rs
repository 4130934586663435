//! What a resolver needs from the request: the principal, the database and the
//! business-scoped data loaders.

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::{Context, Result};

use super::loaders::Store;
use crate::app::App;
use crate::domain::{Scope, Slug};
use crate::error::{AuthFailure, Error};
use crate::store::Db;
use crate::store::keys::Principal;

/// How long a loader collects keys before it queries: none beyond the current poll.
/// Sibling fields resolve concurrently within one poll of the request, so their keys
/// are all queued before the loader's spawned fetch first runs; lists load their rows'
/// relations up front (`super::prime`). A 1 ms window cost every nested level a
/// timer tick of latency; the `loaders` tests, which count statements, hold without it.
const LOADER_DELAY: std::time::Duration = std::time::Duration::ZERO;

/// Request-scoped data, attached to every GraphQL request (and websocket connection).
/// The loaders cache within the request, so a list can load its rows' relations up
/// front ([`super::prime`]) and the rows find them there.
pub struct RequestScope {
    pub principal: Principal,
    pub loader: DataLoader<Store, HashMapCache>,
}

impl RequestScope {
    /// Loaders for `principal`'s business.
    pub fn new(principal: Principal, db: Db) -> Self {
        let store = Store {
            db,
            business_id: principal.business_id,
        };
        Self {
            principal,
            loader: DataLoader::with_cache(store, tokio::spawn, HashMapCache::default())
                .delay(LOADER_DELAY),
        }
    }
}

/// The request's scope; missing only if the transport forgot to authenticate.
pub fn scope<'a>(ctx: &Context<'a>) -> Result<&'a RequestScope> {
    ctx.data::<RequestScope>()
        .map_err(|_| Error::Unauthorized(AuthFailure::Missing).into())
}

/// The principal, after checking it carries `scope`.
pub fn principal<'a>(ctx: &Context<'a>, needed: Scope) -> Result<&'a Principal> {
    let principal = &scope(ctx)?.principal;
    principal.require(needed)?;
    Ok(principal)
}

/// The principal without a scope check (for fields below an already checked root).
pub fn who<'a>(ctx: &Context<'a>) -> Result<&'a Principal> {
    Ok(&scope(ctx)?.principal)
}

/// The business-scoped loaders.
pub fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<Store, HashMapCache>> {
    Ok(&scope(ctx)?.loader)
}

/// The application state.
pub fn state<'a>(ctx: &Context<'a>) -> Result<&'a App> {
    ctx.data::<App>()
}

/// The database pool.
pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a Db> {
    Ok(&state(ctx)?.db)
}

/// Checks that `business` is the key's own business: anything else is `forbidden`.
pub fn own_business(principal: &Principal, business: &str) -> Result<(), Error> {
    if business == principal.business_slug {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "this API key belongs to business `{}` and cannot act for `{business}`",
            principal.business_slug
        )))
    }
}

/// Parses a slug argument, naming the argument when it is malformed.
pub fn slug(field: &str, value: &str) -> Result<Slug, Error> {
    Slug::parse(value).map_err(|detail| Error::invalid_field(field, detail))
}
