//! `updateShipment`, `createShipmentAndOrder` and `createException`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::inputs::{OrderInput, UpdateShipmentInput};
use super::order::order_upsert;
use crate::app::orders::OrderUpsert;
use crate::app::shipments;
use crate::domain::PublicId;
use crate::domain::{ExceptionDescription, ExceptionPriority as Priority, Scope};
use crate::error::Error;
use crate::graphql::context::{own_business, principal, slug, state};
use crate::graphql::types::enums::ExceptionPriority;
use crate::graphql::types::shipment::Shipment;
use crate::store::entities::shipment;
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
        let (saved, _) = upsert(ctx, who, input, Vec::new()).await?;
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
        let orders = input
            .orders
            .into_iter()
            .map(|order| order_upsert(who, order, false))
            .collect::<Result<Vec<_>, Error>>()?;
        let (saved, _) = upsert(ctx, who, input.shipment, orders).await?;
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
        let description = ExceptionDescription::parse(&input.customer_exception_description)
            .map_err(|detail| Error::invalid_field("input.customerExceptionDescription", detail))?;
        let priority: Priority = input.priority.unwrap_or(ExceptionPriority::Medium).into();
        let created = shipments::create_exception(
            state(ctx)?,
            who,
            input.shipment_id.into(),
            input.pallet_id.as_deref(),
            priority,
            &description,
        )
        .await?;
        Ok(CreateExceptionPayload {
            exception_id: created.id.into(),
        })
    }
}

/// Parses a legacy shipment input and runs the shipment upsert with `orders`.
async fn upsert(
    ctx: &Context<'_>,
    who: &Principal,
    input: UpdateShipmentInput,
    orders: Vec<OrderUpsert>,
) -> Result<(shipment::Model, bool)> {
    own_business(who, &input.business_slug)?;
    let facility_slug = slug("input.facilitySlug", &input.facility_slug)?;
    let (number, fields) = input.into_fields()?;
    let app = state(ctx)?;
    Ok(shipments::upsert(app, who, &facility_slug, &number, fields, orders).await?)
}
