//! `createOrder`, `createOrUpdateOrder`, `addItemsToOrder` and `deleteItemsFromOrder`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::inputs::{OrderInput, OrderItemInput, items_fields};
use crate::app::orders::{self, OnExisting, OrderUpsert};
use crate::domain::PublicId;
use crate::domain::{ItemsMode, Scope};
use crate::error::Error;
use crate::graphql::context::{own_business, principal, slug, state};
use crate::store::keys::Principal;

#[derive(Default)]
pub struct OrderMutations;

/// What `createOrder` answers.
#[derive(SimpleObject)]
pub struct CreateOrderPayload {
    pub success: bool,
    pub id: PublicId,
}

/// What `createOrUpdateOrder` answers; `type` is `CREATE` or `UPDATE`.
#[derive(SimpleObject)]
pub struct CreateOrUpdateOrderPayload {
    pub success: bool,
    pub id: PublicId,
    #[graphql(name = "type")]
    pub kind: String,
}

/// Lines to add to an order.
#[derive(InputObject)]
pub struct AddItemsToOrderInput {
    pub id: PublicId,
    pub items: Vec<OrderItemInput>,
}

/// What `addItemsToOrder` answers.
#[derive(SimpleObject)]
pub struct AddItemsToOrderPayload {
    pub success: bool,
}

/// Lines to remove from an order, by identifier (else LPN, else SKU).
#[derive(InputObject)]
pub struct DeleteItemsFromOrderInput {
    pub id: PublicId,
    pub identifiers: Vec<String>,
}

/// What `deleteItemsFromOrder` answers. When the last line goes, the order is
/// cancelled (kept for its history) and `orderDeleted` is true.
#[derive(SimpleObject)]
pub struct DeleteItemsFromOrderPayload {
    pub success: bool,
    pub deleted_identifiers: Vec<String>,
    pub order_deleted: bool,
}

#[Object]
impl OrderMutations {
    /// Creates an order; an order number already used in the facility is `duplicate`.
    async fn create_order(
        &self,
        ctx: &Context<'_>,
        input: OrderInput,
    ) -> Result<CreateOrderPayload> {
        let who = principal(ctx, Scope::Write)?;
        let order = order_upsert(who, input, true)?;
        let (saved, _) = orders::upsert(state(ctx)?, who, order).await?;
        Ok(CreateOrderPayload {
            success: true,
            id: saved.id.into(),
        })
    }

    /// Creates the order, or updates the fields given when its number exists in the
    /// facility (items replace the lines unless `appendItems`).
    async fn create_or_update_order(
        &self,
        ctx: &Context<'_>,
        input: OrderInput,
    ) -> Result<CreateOrUpdateOrderPayload> {
        let who = principal(ctx, Scope::Write)?;
        let order = order_upsert(who, input, false)?;
        let (saved, created) = orders::upsert(state(ctx)?, who, order).await?;
        Ok(CreateOrUpdateOrderPayload {
            success: true,
            id: saved.id.into(),
            kind: if created { "CREATE" } else { "UPDATE" }.into(),
        })
    }

    /// Appends lines to an order.
    async fn add_items_to_order(
        &self,
        ctx: &Context<'_>,
        input: AddItemsToOrderInput,
    ) -> Result<AddItemsToOrderPayload> {
        let who = principal(ctx, Scope::Write)?;
        let items = items_fields("input.items", input.items)?;
        orders::add_items(state(ctx)?, who, input.id.into(), items, None).await?;
        Ok(AddItemsToOrderPayload { success: true })
    }

    /// Removes lines from an order; the identifiers that matched are returned.
    async fn delete_items_from_order(
        &self,
        ctx: &Context<'_>,
        input: DeleteItemsFromOrderInput,
    ) -> Result<DeleteItemsFromOrderPayload> {
        let who = principal(ctx, Scope::Write)?;
        let removed =
            orders::remove_items(state(ctx)?, who, input.id.into(), &input.identifiers).await?;
        Ok(DeleteItemsFromOrderPayload {
            success: true,
            deleted_identifiers: removed.keys,
            order_deleted: removed.order_cancelled,
        })
    }
}

/// Parses a legacy order input into the order upsert: created, or (unless
/// `create_only`) the given fields of the facility's order with that number updated.
pub(super) fn order_upsert(
    who: &Principal,
    input: OrderInput,
    create_only: bool,
) -> Result<OrderUpsert, Error> {
    own_business(who, &input.business_slug)?;
    let facility = slug("input.facilitySlug", &input.facility_slug)?;
    let items_mode = if input.append_items.unwrap_or(false) {
        ItemsMode::Append
    } else {
        ItemsMode::Overwrite
    };
    let existing = match create_only {
        true => OnExisting::Refuse,
        false => OnExisting::Update(items_mode),
    };
    let (number, fields) = input.into_fields()?;
    Ok(OrderUpsert {
        facility,
        number,
        fields,
        existing,
    })
}
