//! The mutation root. Each mutation checks the key's scope and business, then does
//! all of its writes in one transaction (`store::begin_write` … `commit`).

pub mod inputs;
mod order;
mod payload;
mod shipment;

use async_graphql::{Context, MergedObject, Result};
use sea_orm::DatabaseTransaction;

use super::context::db;
use crate::error::Error;

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    shipment::ShipmentMutations,
    order::OrderMutations,
    payload::PayloadMutations,
    super::webhooks::WebhookMutations,
);

/// Starts the mutation's one write transaction.
async fn begin(ctx: &Context<'_>) -> Result<DatabaseTransaction> {
    let db = db(ctx)?;
    Ok(crate::store::begin_write(db)
        .await
        .map_err(Error::from_db_err)?)
}

/// Commits the mutation's transaction.
async fn commit(txn: DatabaseTransaction) -> Result<()> {
    txn.commit().await.map_err(Error::from_db_err)?;
    Ok(())
}

/// Whether facilities must exist before they are referenced.
fn strict(ctx: &Context<'_>) -> Result<bool> {
    Ok(super::context::state(ctx)?.config.strict_facilities)
}
