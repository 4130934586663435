//! `updateShipment`, `createShipmentAndOrder` and `createException`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use sea_orm::ConnectionTrait;

use super::inputs::{OrderInput, UpdateShipmentInput};
use super::order::upsert_order;
use super::{begin, commit, strict};
use crate::app::shipments;
use crate::domain::PublicId;
use crate::domain::{ExceptionPriority as Priority, Scope};
use crate::error::Error;
use crate::graphql::context::{own_business, principal, slug};
use crate::graphql::types::enums::ExceptionPriority;
use crate::graphql::types::shipment::Shipment;
use crate::store::attach;
use crate::store::entities::{pallet, shipment};
use crate::store::gate::WriteTxn;
use crate::store::keys::Principal;

#[derive(Default)]
pub struct ShipmentMutations;

/// What `updateShipment` answers.
#[derive(SimpleObject)]
pub struct UpdateShipmentPayload {
    pub success: bool,
    pub id: PublicId,
}

/// A shipment with the orders to create or update on it.
#[derive(InputObject)]
pub struct CreateShipmentAndOrderInput {
    pub shipment: UpdateShipmentInput,
    pub orders: Vec<OrderInput>,
}

/// What `createShipmentAndOrder` answers.
#[derive(SimpleObject)]
pub struct CreateShipmentAndOrderPayload {
    pub shipment: Shipment,
}

/// An exception on a shipment or one of its pallets.
#[derive(InputObject)]
pub struct CreateExceptionInput {
    pub shipment_id: PublicId,
    /// The pallet's code, when the exception is about one pallet.
    pub pallet_id: Option<String>,
    /// Defaults to MEDIUM.
    pub priority: Option<ExceptionPriority>,
    pub customer_exception_description: String,
}

/// What `createException` answers.
#[derive(SimpleObject)]
pub struct CreateExceptionPayload {
    pub exception_id: PublicId,
}

#[Object]
impl ShipmentMutations {
    /// Creates the shipment `shipmentNumber` of the facility, or updates the fields
    /// given (a status change is added to its history).
    async fn update_shipment(
        &self,
        ctx: &Context<'_>,
        input: UpdateShipmentInput,
    ) -> Result<UpdateShipmentPayload> {
        let who = principal(ctx, Scope::Write)?;
        let txn = begin(ctx).await?;
        let saved = upsert_shipment(&txn, who, input, strict(ctx)?).await?;
        commit(txn).await?;
        Ok(UpdateShipmentPayload {
            success: true,
            id: saved.id.into(),
        })
    }

    /// Creates or updates a shipment and the orders on it, all or nothing.
    async fn create_shipment_and_order(
        &self,
        ctx: &Context<'_>,
        input: CreateShipmentAndOrderInput,
    ) -> Result<CreateShipmentAndOrderPayload> {
        let who = principal(ctx, Scope::Write)?;
        let strict = strict(ctx)?;
        let txn = begin(ctx).await?;
        let saved = upsert_shipment(&txn, who, input.shipment, strict).await?;
        for mut order in input.orders {
            order.shipment_id = Some(saved.id.into());
            upsert_order(&txn, who, order, strict, false).await?;
        }
        commit(txn).await?;
        Ok(CreateShipmentAndOrderPayload {
            shipment: Shipment(saved),
        })
    }

    /// Records an exception on a shipment of the key's business.
    async fn create_exception(
        &self,
        ctx: &Context<'_>,
        input: CreateExceptionInput,
    ) -> Result<CreateExceptionPayload> {
        let who = principal(ctx, Scope::Write)?;
        if input.customer_exception_description.trim().is_empty() {
            return Err(crate::error::Error::invalid_field(
                "input.customerExceptionDescription",
                "an exception needs a description: say what went wrong",
            )
            .into());
        }
        let txn = begin(ctx).await?;
        let shipment = shipments::find(&txn, who, input.shipment_id.internal()).await?;
        let pallet = match &input.pallet_id {
            Some(code) => Some(pallet(&txn, &shipment, code).await?),
            None => None,
        };
        let priority: Priority = input.priority.unwrap_or(ExceptionPriority::Medium).into();
        let description = input.customer_exception_description;
        let created = attach::exception(
            &txn,
            &shipment,
            pallet.as_ref(),
            priority,
            &description,
            None,
        )
        .await?;
        commit(txn).await?;
        Ok(CreateExceptionPayload {
            exception_id: created.id.into(),
        })
    }
}

async fn pallet(
    db: &impl ConnectionTrait,
    shipment: &shipment::Model,
    code: &str,
) -> Result<pallet::Model, Error> {
    let found = attach::find_pallet(db, shipment.id, code).await?;
    found.ok_or_else(|| Error::NotFound {
        what: "pallet",
        id: format!("`{code}` on shipment {}", PublicId::from(shipment.id)),
    })
}

/// Parses a legacy shipment input and runs the shared upsert: created, or the given
/// fields of the facility's shipment with that number updated.
pub(super) async fn upsert_shipment(
    txn: &WriteTxn,
    who: &Principal,
    input: UpdateShipmentInput,
    strict: bool,
) -> Result<shipment::Model, Error> {
    own_business(who, &input.business_slug)?;
    let facility_slug = slug("input.facilitySlug", &input.facility_slug)?;
    let (number, fields) = input.into_fields()?;
    let (saved, _) =
        shipments::upsert_in(txn, who, &facility_slug, &number, fields, strict).await?;
    Ok(saved)
}
