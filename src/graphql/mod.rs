//! The GraphQL API: the legacy Kargo-style operations plus Relay-style listings.
//! Resolvers are thin; reads go through the data loaders in [`loaders`], writes
//! through the store inside one transaction per mutation.

pub mod context;
pub mod errors;
mod expansion;
pub mod loaders;
pub mod mutation;
pub mod operator;
pub mod prime;
mod public_id;
pub mod query;
mod result_scope;
mod roles;
pub mod sources;
pub mod subscription;
pub mod types;
pub mod webhooks;

use std::sync::Arc;

use async_graphql::Schema;

use crate::config::Config;
use crate::store::Db;
use crate::store::keys::Principal;

pub use context::RequestScope;

/// The executable schema.
pub type AppSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// Builds the schema with the configured limits; `state` is reachable from every
/// resolver.
pub fn schema(state: crate::app::App) -> AppSchema {
    let config = state.config.clone();
    let subscriptions = Arc::new(subscription::Subscriptions::new(state.db.clone(), &config));
    builder(&config).data(state).data(subscriptions).finish()
}

fn builder(
    config: &Config,
) -> async_graphql::SchemaBuilder<
    query::QueryRoot,
    mutation::MutationRoot,
    subscription::SubscriptionRoot,
> {
    let mut builder = Schema::build(
        query::QueryRoot::default(),
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    .limit_depth(config.graphql_max_depth)
    .limit_complexity(config.graphql_max_complexity)
    .extension(errors::ErrorCodes)
    .extension(roles::RoleGate)
    .extension(result_scope::ResultScope)
    .extension(expansion::ExpansionLimit(config.graphql_max_complexity));
    if !config.graphql_introspection {
        builder = builder.disable_introspection();
    }
    builder
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder(&Config::default()).finish().sdl()
}

/// The per-request data: who is asking and loaders scoped to their business.
pub fn request_data(principal: Principal, db: Db) -> RequestScope {
    RequestScope::new(principal, db)
}
