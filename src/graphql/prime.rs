//! Loading a list's relations up front, one statement per relation the selection
//! asks for, so a listing's round trips do not depend on how many rows it has
//! (the executor resolves list items in chunks, which would otherwise split the
//! loaders' batches).

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, Lookahead, Result};

use super::context::loader;
use super::loaders::{
    DockId, DocumentsOf, FacilityId, HistoryOf, ItemsOf, OrdersOf, PalletsOf, Store,
};
use crate::store::entities::{order, shipment};

/// Loads the lists of `keys` and caches an empty list for keys without rows, so the
/// rows that have none do not go back to the database either.
async fn lists<K, V>(
    loader: &DataLoader<Store, HashMapCache>,
    keys: Vec<K>,
) -> Result<HashMap<K, Vec<V>>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
    Store: Loader<K, Value = Vec<V>, Error = async_graphql::Error>,
{
    let found = loader.load_many(keys.iter().cloned()).await?;
    let missing: Vec<(K, Vec<V>)> = keys
        .into_iter()
        .filter(|k| !found.contains_key(k))
        .map(|k| (k, Vec::new()))
        .collect();
    loader.feed_many(missing).await;
    Ok(found)
}

/// Primes what `node` (the selection of one shipment) needs for all of `shipments`.
pub async fn shipments(
    ctx: &Context<'_>,
    node: Lookahead<'_>,
    shipments: &[shipment::Model],
) -> Result<()> {
    let loader = loader(ctx)?;
    let ids = || shipments.iter().map(|s| s.id);
    if node.field("orders").exists() {
        let orders = lists(loader, ids().map(OrdersOf).collect()).await?;
        if node.field("orders").field("items").exists() {
            lists(
                loader,
                orders.values().flatten().map(|o| ItemsOf(o.id)).collect(),
            )
            .await?;
        }
    }
    if node.field("documents").exists() {
        lists(loader, ids().map(DocumentsOf).collect()).await?;
    }
    if node.field("pallets").exists() {
        lists(loader, ids().map(PalletsOf).collect()).await?;
    }
    if node.field("statusEvents").exists() {
        lists(loader, ids().map(HistoryOf).collect()).await?;
    }
    if node.field("dock").exists() {
        loader
            .load_many(shipments.iter().filter_map(|s| s.dock_id).map(DockId))
            .await?;
    }
    if node.field("facility").exists() {
        loader
            .load_many(shipments.iter().map(|s| FacilityId(s.facility_id)))
            .await?;
    }
    Ok(())
}

/// Primes the items of `orders` when `node` (the selection of one order) asks for them.
pub async fn orders(ctx: &Context<'_>, node: Lookahead<'_>, orders: &[order::Model]) -> Result<()> {
    if node.field("items").exists() {
        lists(loader(ctx)?, orders.iter().map(|o| ItemsOf(o.id)).collect()).await?;
    }
    Ok(())
}
