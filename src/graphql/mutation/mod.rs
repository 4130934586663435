//! The mutation root. Each mutation checks the key's scope and business, then does
//! all of its writes in one transaction (`store::begin_write` … `commit`).

pub mod inputs;
mod order;
mod payload;
mod shipment;

use crate::store::gate::WriteTxn;
use async_graphql::{Context, MergedObject, Result};

use super::context::db;
use crate::error::Error;

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    shipment::ShipmentMutations,
    order::OrderMutations,
    payload::PayloadMutations,
    super::webhooks::WebhookMutations,
    super::operator::OperatorMutations,
);

/// Starts the mutation's one write transaction, on its turn in the write queue.
async fn begin(ctx: &Context<'_>) -> Result<WriteTxn> {
    let db = db(ctx)?;
    let gate = &super::context::state(ctx)?.gate;
    Ok(gate.begin(db).await.map_err(Error::from_db_err)?)
}

/// Commits the mutation's transaction.
async fn commit(txn: WriteTxn) -> Result<()> {
    txn.commit().await.map_err(Error::from_db_err)?;
    Ok(())
}

/// Whether facilities must exist before they are referenced.
fn strict(ctx: &Context<'_>) -> Result<bool> {
    Ok(super::context::state(ctx)?.config.strict_facilities)
}
