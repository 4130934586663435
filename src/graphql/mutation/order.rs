//! `createOrder`, `createOrUpdateOrder`, `addItemsToOrder` and `deleteItemsFromOrder`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use sea_orm::ConnectionTrait;

use super::inputs::{OrderInput, OrderItemInput, items_fields};
use super::{begin, commit, strict};
use crate::domain::{ItemsMode, Scope, UpdateMode};
use crate::error::Error;
use crate::graphql::context::{own_business, principal, slug};
use crate::store::entities::order;
use crate::store::keys::Principal;
use crate::store::orders::OrderFields;
use crate::store::{order_items, orders, shipments, tenancy};

#[derive(Default)]
pub struct OrderMutations;

/// What `createOrder` answers.
#[derive(SimpleObject)]
pub struct CreateOrderPayload {
    pub success: bool,
    pub id: i64,
}

/// What `createOrUpdateOrder` answers; `type` is `CREATE` or `UPDATE`.
#[derive(SimpleObject)]
pub struct CreateOrUpdateOrderPayload {
    pub success: bool,
    pub id: i64,
    #[graphql(name = "type")]
    pub kind: String,
}

/// Lines to add to an order.
#[derive(InputObject)]
pub struct AddItemsToOrderInput {
    pub id: i64,
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
    pub id: i64,
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
        let txn = begin(ctx).await?;
        let (saved, _) = upsert_order(&txn, who, input, strict(ctx)?, true).await?;
        commit(txn).await?;
        Ok(CreateOrderPayload {
            success: true,
            id: saved.id,
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
        let txn = begin(ctx).await?;
        let (saved, created) = upsert_order(&txn, who, input, strict(ctx)?, false).await?;
        commit(txn).await?;
        Ok(CreateOrUpdateOrderPayload {
            success: true,
            id: saved.id,
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
        let txn = begin(ctx).await?;
        let existing = find(&txn, who, input.id).await?;
        let fields = OrderFields {
            items: Some(items),
            ..OrderFields::default()
        };
        orders::update(&txn, existing, fields, UpdateMode::Patch, ItemsMode::Append).await?;
        commit(txn).await?;
        Ok(AddItemsToOrderPayload { success: true })
    }

    /// Removes lines from an order; the identifiers that matched are returned.
    async fn delete_items_from_order(
        &self,
        ctx: &Context<'_>,
        input: DeleteItemsFromOrderInput,
    ) -> Result<DeleteItemsFromOrderPayload> {
        let who = principal(ctx, Scope::Write)?;
        let txn = begin(ctx).await?;
        let existing = find(&txn, who, input.id).await?;
        // Touching the order first also refuses a cancelled one (`order_cancelled`).
        let touched = orders::update(
            &txn,
            existing,
            OrderFields::default(),
            UpdateMode::Patch,
            ItemsMode::Merge,
        )
        .await?;
        let deleted = order_items::delete_by_keys(&txn, touched.id, &input.identifiers).await?;
        let order_deleted = deleted.remaining == 0;
        if order_deleted {
            orders::cancel(&txn, touched).await?;
        }
        commit(txn).await?;
        Ok(DeleteItemsFromOrderPayload {
            success: true,
            deleted_identifiers: deleted.keys,
            order_deleted,
        })
    }
}

async fn find(db: &impl ConnectionTrait, who: &Principal, id: i64) -> Result<order::Model, Error> {
    orders::find(db, who.business_id, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "order",
            id: id.to_string(),
        })
}

/// Creates an order, or (unless `create_only`) updates the given fields of the
/// facility's order with that number. Returns the order and whether it was created.
pub(super) async fn upsert_order(
    db: &impl ConnectionTrait,
    who: &Principal,
    input: OrderInput,
    strict: bool,
    create_only: bool,
) -> Result<(order::Model, bool), Error> {
    own_business(who, &input.business_slug)?;
    let facility_slug = slug("input.facilitySlug", &input.facility_slug)?;
    let items_mode = if input.append_items.unwrap_or(false) {
        ItemsMode::Append
    } else {
        ItemsMode::Overwrite
    };
    let (number, fields) = input.into_fields()?;
    if let Some(shipment_id) = fields.shipment_id
        && shipments::find(db, who.business_id, shipment_id)
            .await?
            .is_none()
    {
        return Err(Error::NotFound {
            what: "shipment",
            id: shipment_id.to_string(),
        });
    }
    let facility = tenancy::facility(db, who.business_id, &facility_slug, strict).await?;
    let existing = match create_only {
        true => None,
        false => orders::find_by_number(db, facility.id, &number).await?,
    };
    match existing {
        Some(found) => {
            let updated = orders::update(db, found, fields, UpdateMode::Patch, items_mode).await?;
            Ok((updated, false))
        }
        None => Ok((orders::create(db, &facility, &number, fields).await?, true)),
    }
}
