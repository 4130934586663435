//! Order use cases: read, list, create, upsert, change, cancel, and add or remove
//! lines. Every door (REST, GraphQL) calls these.

use sea_orm::ConnectionTrait;

use super::shipments::Slugs;
use super::views::{OrderSummary, OrderView};
use super::{App, Expected, FacilityScope, Listing, Version, next_after};
use crate::config::Strict;
use crate::domain::PublicId;
use crate::domain::{ItemsMode, OrderNumber, Scope, Slug, UpdateMode};
use crate::domain::{OrderId, ShipmentId};
use crate::error::{Error, Result};
use crate::store::entities::order;
use crate::store::gate::{Write, WriteTxn};
use crate::store::keys::Principal;
use crate::store::listing::{self, OrderQuery, Page};
use crate::store::orders::{self, ItemFields, OrderFields, OrderWithItems};
use crate::store::{order_items, shipments, tenancy};

fn not_found(what: &'static str, id: impl Into<PublicId>) -> Error {
    Error::NotFound {
        what,
        id: id.into().to_string(),
    }
}

/// Whether the key may see `order`: a customer key only its own.
pub(crate) fn sees(who: &Principal, order: &order::Model) -> bool {
    who.role
        .customer()
        .is_none_or(|c| order.customer.as_deref() == Some(c))
}

/// The order `id` of the key's business (a customer key: of its own), or
/// `not_found`.
pub async fn find(db: &impl ConnectionTrait, who: &Principal, id: OrderId) -> Result<order::Model> {
    orders::find(db, who.business_id, id)
        .await?
        .filter(|o| sees(who, o))
        .ok_or_else(|| not_found("order", id))
}

/// The order `id`, locked for the rest of the transaction, or `not_found`.
async fn find_locked(txn: &WriteTxn, who: &Principal, id: OrderId) -> Result<order::Model> {
    orders::find_locked(txn, who.business_id, id)
        .await?
        .filter(|o| sees(who, o))
        .ok_or_else(|| not_found("order", id))
}

/// A customer key writes orders for its own customer only: `customer` is set to it
/// (another customer is `forbidden`). The business plans its shipments: the key
/// cannot put an order on a shipment or take it off one (`shipment` is the order's
/// shipment now, kept as it is).
fn for_own_customer(
    who: &Principal,
    fields: &mut OrderFields,
    shipment: Option<i64>,
) -> Result<()> {
    let Some(own) = who.role.customer() else {
        return Ok(());
    };
    if let Some(named) = fields.customer.as_deref()
        && named != own
    {
        return Err(Error::Forbidden(format!(
            "this key acts for customer `{own}` and cannot write orders of `{named}`"
        )));
    }
    let moved = fields.shipment_id.is_some() && fields.shipment_id != shipment;
    if moved || fields.cleared.has("shipment_id") {
        return Err(Error::Forbidden(
            "a customer key cannot put an order on a shipment or take it off one; the business plans its shipments"
                .into(),
        ));
    }
    fields.customer = Some(own.to_string());
    fields.shipment_id = shipment;
    Ok(())
}

async fn view(db: &impl ConnectionTrait, order: order::Model) -> Result<OrderView> {
    let items = orders::items(db, order.id).await?;
    let facility = Slugs::default().facility(db, order.facility_id).await?;
    let references = crate::store::batch::references_of_orders(db, order.business_id, &[order.id])
        .await?
        .remove(&order.id)
        .unwrap_or_default();
    Ok(OrderView::new(
        OrderWithItems { order, items },
        facility,
        references,
    ))
}

/// An order with its items (scope `read`).
pub async fn get(app: &App, who: &Principal, id: OrderId) -> Result<OrderView> {
    who.require(Scope::Read)?;
    let found = find(&app.db, who, id).await?;
    view(&app.db, found).await
}

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only this facility's (an unknown facility lists nothing).
    pub facility: Option<Slug>,
    pub query: OrderQuery,
}

/// Orders of the key's business, by ascending id (scope `read`).
pub async fn list(
    app: &App,
    who: &Principal,
    filter: OrderFilter,
    page: Page,
) -> Result<Listing<OrderSummary>> {
    who.require(Scope::Read)?;
    let mut query = filter.query;
    query.customer = who.role.customer().map(str::to_owned);
    match FacilityScope::of(app, who.business_id, filter.facility.as_ref()).await? {
        FacilityScope::All => {}
        FacilityScope::Only(id) => query.facility_id = Some(id),
        FacilityScope::Unknown => return Ok(Listing::empty()),
    }
    let slice = listing::orders(&app.db, who.business_id, &query, page).await?;
    let next = next_after(&slice, |o| o.id);
    let mut slugs = Slugs::default();
    let mut items = Vec::with_capacity(slice.rows.len());
    for row in slice.rows {
        let facility = slugs.facility(&app.db, row.facility_id).await?;
        items.push(OrderSummary::new(row, facility));
    }
    Ok(Listing::new(items, next))
}

/// Refuses an order whose customer or SKUs the strict settings do not know, naming
/// the field (`$.customer`, `$.items[2].sku`).
async fn check_references(
    db: &impl ConnectionTrait,
    who: &Principal,
    facility_id: i64,
    fields: &OrderFields,
    strict: Strict,
) -> Result<()> {
    if !strict.parties && !strict.skus {
        return Ok(());
    }
    let unknown = crate::store::master::unknown_in_order(
        db,
        who.business_id,
        facility_id,
        fields,
        strict.parties,
        strict.skus,
    )
    .await?;
    match unknown {
        None => Ok(()),
        Some(unknown) => Err(Error::Invalid {
            code: unknown.code,
            errors: vec![crate::error::FieldError::new(
                format!("$.{}", unknown.field),
                unknown.detail.clone(),
            )],
            detail: unknown.detail,
        }),
    }
}

/// An order may only name a shipment of the key's business.
async fn linked_shipment_exists(
    db: &impl ConnectionTrait,
    who: &Principal,
    fields: &OrderFields,
) -> Result<()> {
    match fields.shipment_id {
        Some(id)
            if shipments::find(db, who.business_id, ShipmentId::new(id))
                .await?
                .is_none() =>
        {
            Err(not_found("shipment", id))
        }
        _ => Ok(()),
    }
}

/// How an upsert treats an order number the facility already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    /// Refuse it: `409 duplicate`.
    Refuse,
    /// Change the fields given; lines by this mode.
    Update(ItemsMode),
}

/// An order to create, or to change when its facility has its number already.
#[derive(Debug, Clone)]
pub struct OrderUpsert {
    pub facility: Slug,
    pub number: OrderNumber,
    pub fields: OrderFields,
    pub existing: OnExisting,
}

/// Creates the facility's order, or handles the one it has as `existing` says
/// (scope `write`). Returns the order and whether it was created.
pub async fn upsert(
    app: &App,
    who: &Principal,
    order: OrderUpsert,
) -> Result<(order::Model, bool)> {
    let strict = app.config.strict();
    let who = who.clone();
    app.grouped(move |unit| {
        let (who, order) = (who.clone(), order.clone());
        Box::pin(async move { upsert_in(unit, &who, order, strict).await })
    })
    .await
}

/// [`upsert`] inside the caller's transaction.
pub(super) async fn upsert_in(
    txn: &impl Write,
    who: &Principal,
    order: OrderUpsert,
    strict: Strict,
) -> Result<(order::Model, bool)> {
    who.require(Scope::Write)?;
    let OrderUpsert {
        facility,
        number,
        mut fields,
        existing,
    } = order;
    for_own_customer(who, &mut fields, None)?;
    linked_shipment_exists(txn, who, &fields).await?;
    let facility = tenancy::facility(txn, who.business_id, &facility, strict.facilities).await?;
    check_references(txn, who, facility.id, &fields, strict).await?;
    let found = match existing {
        OnExisting::Refuse => None,
        OnExisting::Update(_) => orders::find_by_number(txn, facility.id, &number).await?,
    };
    if let Some(found) = &found
        && !sees(who, found)
    {
        return Err(Error::Conflict {
            code: crate::error::ProblemCode::Duplicate,
            detail: crate::error::exists_in_facility("order", &number, &facility.slug),
        });
    }
    if let Some(found) = &found
        && who.role.customer().is_some()
    {
        // A customer's upsert keeps the order on the shipment the business put it on.
        fields.shipment_id = found.shipment_id;
    }
    match (found, existing) {
        (Some(found), OnExisting::Update(items)) => Ok((
            orders::update(txn, found, fields, UpdateMode::Patch, items).await?,
            false,
        )),
        _ => Ok((orders::create(txn, &facility, &number, fields).await?, true)),
    }
}

/// Creates an order with its lines (scope `write`); a number the facility already
/// has is a `409 duplicate`.
pub async fn create(
    app: &App,
    who: &Principal,
    facility: Slug,
    number: OrderNumber,
    fields: OrderFields,
) -> Result<OrderView> {
    let strict = app.config.strict();
    let who = who.clone();
    let order = OrderUpsert {
        facility,
        number,
        fields,
        existing: OnExisting::Refuse,
    };
    app.grouped(move |unit| {
        let (who, order) = (who.clone(), order.clone());
        Box::pin(async move {
            let facility = order.facility.to_string();
            let (created, _) = upsert_in(unit, &who, order, strict).await?;
            // Written just now: its facility is the one named, and it has no
            // references yet, so only its lines are read back.
            let items = orders::items(unit, created.id).await?;
            Ok(OrderView::new(
                OrderWithItems {
                    order: created,
                    items,
                },
                facility,
                Vec::new(),
            ))
        })
    })
    .await
}

/// Changes an order (scope `write`): `Replace` clears what `fields` leaves out and
/// replaces the lines; `Patch` keeps what is left out and, when lines are given,
/// replaces them. With `expected`, an order changed since is `412`.
pub async fn update(
    app: &App,
    who: &Principal,
    id: OrderId,
    fields: OrderFields,
    mode: UpdateMode,
    expected: Option<&Expected>,
) -> Result<OrderView> {
    who.require(Scope::Write)?;
    let mut fields = fields;
    if mode == UpdateMode::Replace && fields.items.is_none() {
        // Replacing leaves nothing of what was not sent: no lines either.
        fields.items = Some(Vec::new());
    }
    let txn = app.begin().await?;
    let found = find_locked(&txn, who, id).await?;
    Version::of_order(&found).check(expected)?;
    for_own_customer(who, &mut fields, found.shipment_id)?;
    linked_shipment_exists(&txn, who, &fields).await?;
    check_references(&txn, who, found.facility_id, &fields, app.config.strict()).await?;
    let updated = orders::update(&txn, found, fields, mode, ItemsMode::Overwrite).await?;
    let answer = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Cancels an order (scope `write`); cancelling twice changes nothing.
pub async fn cancel(
    app: &App,
    who: &Principal,
    id: OrderId,
    expected: Option<&Expected>,
) -> Result<OrderView> {
    who.require(Scope::Write)?;
    let txn = app.begin().await?;
    let found = find_locked(&txn, who, id).await?;
    Version::of_order(&found).check(expected)?;
    let cancelled = orders::cancel(&txn, found, Default::default()).await?;
    let answer = view(&txn, cancelled).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Appends lines to an order, inside the caller's transaction.
async fn add_items_in(
    txn: &WriteTxn,
    who: &Principal,
    id: OrderId,
    items: Vec<ItemFields>,
    expected: Option<&Expected>,
    strict: Strict,
) -> Result<order::Model> {
    who.require(Scope::Write)?;
    let found = find_locked(txn, who, id).await?;
    Version::of_order(&found).check(expected)?;
    let fields = OrderFields {
        items: Some(items),
        ..OrderFields::default()
    };
    check_references(txn, who, found.facility_id, &fields, strict).await?;
    orders::update(txn, found, fields, UpdateMode::Patch, ItemsMode::Append).await
}

/// Appends lines to an order (scope `write`).
pub async fn add_items(
    app: &App,
    who: &Principal,
    id: OrderId,
    items: Vec<ItemFields>,
    expected: Option<&Expected>,
) -> Result<OrderView> {
    let txn = app.begin().await?;
    let updated = add_items_in(&txn, who, id, items, expected, app.config.strict()).await?;
    let answer = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(answer)
}

/// What removing lines did.
#[derive(Debug, Clone)]
pub struct Removed {
    pub order: order::Model,
    /// The keys that matched a line.
    pub keys: Vec<String>,
    /// The last line went, so the order was cancelled (it is kept for its history).
    pub order_cancelled: bool,
}

/// Removes the lines with these keys (identifier, else LPN, else SKU; scope
/// `write`). Removing the last line cancels the order.
pub async fn remove_items(
    app: &App,
    who: &Principal,
    id: OrderId,
    keys: &[String],
) -> Result<Removed> {
    let txn = app.begin().await?;
    let removed = remove_items_in(&txn, who, id, keys, None).await?;
    txn.commit().await?;
    Ok(removed)
}

/// [`remove_items`] inside the caller's transaction, with a version to check.
async fn remove_items_in(
    txn: &WriteTxn,
    who: &Principal,
    id: OrderId,
    keys: &[String],
    expected: Option<&Expected>,
) -> Result<Removed> {
    who.require(Scope::Write)?;
    let found = find_locked(txn, who, id).await?;
    Version::of_order(&found).check(expected)?;
    // Touching the order first also refuses a cancelled one (`order_cancelled`).
    let touched = orders::update(
        txn,
        found,
        OrderFields::default(),
        UpdateMode::Patch,
        ItemsMode::Merge,
    )
    .await?;
    let deleted = order_items::delete_by_keys(txn, touched.id, keys).await?;
    let order_cancelled = deleted.remaining == 0;
    let order = if order_cancelled {
        let reason = Some("its last line was removed".to_owned());
        let cancellation = crate::store::Cancellation {
            occurred_at: None,
            reason,
        };
        orders::cancel(txn, touched, cancellation).await?
    } else {
        touched
    };
    Ok(Removed {
        order,
        keys: deleted.keys,
        order_cancelled,
    })
}

/// Removes one line (scope `write`); a key that matches no line is `404`.
pub async fn remove_item(
    app: &App,
    who: &Principal,
    id: OrderId,
    key: String,
    expected: Option<&Expected>,
) -> Result<OrderView> {
    let txn = app.begin().await?;
    let removed = remove_items_in(&txn, who, id, std::slice::from_ref(&key), expected).await?;
    if removed.keys.is_empty() {
        return Err(Error::NotFound {
            what: "order line",
            id: format!("`{key}` on order {}", PublicId::from(id)),
        });
    }
    let answer = view(&txn, removed.order).await?;
    txn.commit().await?;
    Ok(answer)
}
