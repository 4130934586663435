//! The mutation root. Each mutation checks the key's scope and business, parses its
//! input and calls one use case of [`crate::app`], which writes in one transaction.

pub mod inputs;
mod order;
mod payload;
mod shipment;
mod sku;

use async_graphql::MergedObject;

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    shipment::ShipmentMutations,
    order::OrderMutations,
    sku::SkuMutations,
    payload::PayloadMutations,
    super::webhooks::WebhookMutations,
    super::operator::OperatorMutations,
    super::sources::SourceMutations,
);
