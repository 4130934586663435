//! Orders and their items.

use super::gate::Write;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    IntoActiveModel, QueryFilter, QueryOrder, QueryTrait, Set, Statement,
};

use super::entities::{facility, order, order_item};
use super::shipments::put;
use super::{events, stable};
use crate::domain::PublicId;
use crate::domain::{
    DimensionUnit, EventType, ItemsMode, OrderDirection, OrderId, OrderNumber, OrderStatus, Party,
    Quantity, QuantityUnit, UpdateMode, WeightUnit,
};
use crate::error::{Error, ProblemCode, Result, from_db};

/// The settable fields of an order; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct OrderFields {
    pub external_id: Option<String>,
    pub customer: Option<String>,
    pub direction: Option<OrderDirection>,
    pub status: Option<OrderStatus>,
    pub order_type: Option<String>,
    pub purchase_order: Option<String>,
    pub requested_ship_date: Option<DateTime<Utc>>,
    pub requested_delivery_date: Option<DateTime<Utc>>,
    pub service_level: Option<String>,
    pub carrier: Option<String>,
    pub carrier_service: Option<String>,
    pub bol_number: Option<String>,
    pub seal_number: Option<String>,
    pub shipper: Option<Party>,
    pub consignee: Option<Party>,
    pub payer: Option<Party>,
    pub pickup_window_start: Option<DateTime<Utc>>,
    pub pickup_window_end: Option<DateTime<Utc>>,
    pub delivery_window_start: Option<DateTime<Utc>>,
    pub delivery_window_end: Option<DateTime<Utc>>,
    pub addons: Option<Vec<String>>,
    pub notes: Option<String>,
    pub shipment_id: Option<i64>,
    /// How many units the sender expects in total (legacy `expectedQuantity`).
    pub expected_quantity: Option<f64>,
    /// `None` leaves items alone; `Some` applies them by the update's items mode.
    pub items: Option<Vec<ItemFields>>,
    /// What a patch clears besides.
    pub cleared: super::Cleared,
}

/// One order line as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFields {
    pub identifier: Option<String>,
    pub lpn: Option<String>,
    pub sku: Option<String>,
    pub description: Option<String>,
    pub upc: Option<String>,
    pub quantity: Quantity,
    pub quantity_unit: QuantityUnit,
    pub purchase_order: Option<String>,
    pub weight_per_unit: Option<f64>,
    pub weight_unit: Option<WeightUnit>,
    pub length: Option<f64>,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub dimension_unit: Option<DimensionUnit>,
    pub is_dangerous_good: bool,
    pub lot: Option<String>,
    pub expiration_date: Option<NaiveDate>,
    pub manufacturing_date: Option<NaiveDate>,
    pub metadata: Option<serde_json::Value>,
}

impl ItemFields {
    /// A line of `quantity` units of `unit` with nothing else known.
    pub fn new(quantity: Quantity, quantity_unit: QuantityUnit) -> Self {
        Self {
            identifier: None,
            lpn: None,
            sku: None,
            description: None,
            upc: None,
            quantity,
            quantity_unit,
            purchase_order: None,
            weight_per_unit: None,
            weight_unit: None,
            length: None,
            width: None,
            height: None,
            dimension_unit: None,
            is_dangerous_good: false,
            lot: None,
            expiration_date: None,
            manufacturing_date: None,
            metadata: None,
        }
    }

    /// What identifies a line across updates: identifier, else LPN, else SKU.
    fn key(&self) -> Option<&str> {
        self.identifier
            .as_deref()
            .or(self.lpn.as_deref())
            .or(self.sku.as_deref())
    }
}

fn stored_key(item: &order_item::Model) -> Option<&str> {
    item.identifier
        .as_deref()
        .or(item.lpn.as_deref())
        .or(item.sku.as_deref())
}

fn party_json(party: Option<Party>) -> Option<serde_json::Value> {
    party.and_then(|p| serde_json::to_value(p).ok())
}

/// An order with its items, in position order.
#[derive(Debug, Clone)]
pub struct OrderWithItems {
    pub order: order::Model,
    pub items: Vec<order_item::Model>,
}

/// Creates an order with its items; a number already used in the facility is a 409.
pub async fn create(
    db: &impl Write,
    facility: &facility::Model,
    number: &OrderNumber,
    fields: OrderFields,
) -> Result<order::Model> {
    create_if_absent(db, facility, number, fields)
        .await?
        .map_err(|_| Error::Conflict {
            code: ProblemCode::Duplicate,
            detail: crate::error::exists_in_facility("order", number, &facility.slug),
        })
}

/// Creates an order with its items unless the facility has an order of that number:
/// then nothing is written and `fields` is handed back, for the caller to update
/// the order it finds or to refuse. One statement fewer than looking the number up
/// first, for the common case of a new order; and a concurrent writer's order of the
/// same number is met here instead of failing the transaction.
pub async fn create_if_absent(
    db: &impl Write,
    facility: &facility::Model,
    number: &OrderNumber,
    mut fields: OrderFields,
) -> Result<std::result::Result<order::Model, OrderFields>> {
    let items = fields.items.take();
    let mut row = fields.clone();
    let cancelling = take_cancel(&mut row);
    let active = new_order(facility, number, row, Utc::now());
    let inserted = order::Entity::insert(active)
        .on_conflict(
            OnConflict::columns([order::Column::FacilityId, order::Column::OrderNumber])
                .do_nothing()
                .to_owned(),
        )
        // As a list: a conflict returns no row, which both backends answer as an
        // empty list (a single row's `exec_with_returning` calls it an error,
        // each backend a different one).
        .exec_with_returning_many(db)
        .await
        .map_err(|e| {
            from_db(e, "order", || {
                format!("`{number}` in facility `{}`", facility.slug)
            })
        })?;
    let Some(created) = inserted.into_iter().next() else {
        fields.items = items;
        return Ok(Err(fields));
    };
    insert_items(db, created.id, 0, items.unwrap_or_default()).await?;
    let created = Unannounced {
        order: created,
        cancelling,
    };
    created.announce(db).await.map(Ok)
}

/// An order just written as new whose `order.created` is not emitted yet: a caller
/// writing several orders together emits their events in its own document order.
#[derive(Debug)]
pub struct Unannounced {
    order: order::Model,
    /// Sent as CANCELLED: stored with the status it would have had, and cancelled
    /// when announced.
    cancelling: bool,
}

impl Unannounced {
    /// Emits the order's `order.created`, then cancels it the one way when it was
    /// sent as CANCELLED (`cancelled_at`, `order.cancelled`).
    pub async fn announce(self, db: &impl Write) -> Result<order::Model> {
        events::order(db, EventType::OrderCreated, &self.order).await?;
        if self.cancelling {
            return cancel(db, self.order, Default::default()).await;
        }
        Ok(self.order)
    }
}

/// A status of CANCELLED is taken out of `fields`: whichever door sends it, the order
/// is cancelled the one way (`cancelled_at`, one `order.cancelled` event).
fn take_cancel(fields: &mut OrderFields) -> bool {
    if fields.status == Some(OrderStatus::Cancelled) {
        fields.status = None;
        true
    } else {
        false
    }
}

/// Writes the orders of one facility together, skipping the numbers the facility
/// has already: the orders in multi-row statements, then all the new ones' items.
/// Answers for each order in the order given: the order written, with its items,
/// to be announced, or, when the facility has an order of that number, the number
/// and fields handed back and nothing written. Emits no event: a caller that also
/// updates orders emits every event in its own document order. The numbers must
/// differ from each other.
///
/// One statement fewer than looking the numbers up first, for the common case of
/// new orders; and a concurrent writer's order of the same number is met here
/// instead of failing the transaction.
pub async fn insert_many_if_absent(
    db: &impl Write,
    facility: &facility::Model,
    orders: Vec<(OrderNumber, OrderFields)>,
) -> Result<Vec<std::result::Result<Unannounced, (OrderNumber, OrderFields)>>> {
    let now = Utc::now();
    let mut rows = Vec::with_capacity(orders.len());
    let mut given = Vec::with_capacity(orders.len());
    for (number, mut fields) in orders {
        let items = fields.items.take();
        let mut row = fields.clone();
        let cancelling = take_cancel(&mut row);
        rows.push(new_order(facility, &number, row, now));
        given.push((number, fields, items, cancelling));
    }
    let mut stored = HashMap::with_capacity(rows.len());
    for chunk in stable::chunks(&rows) {
        let inserted = order::Entity::insert_many(chunk.iter().cloned())
            .on_conflict(
                OnConflict::columns([order::Column::FacilityId, order::Column::OrderNumber])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_with_returning(db)
            .await
            .map_err(|e| {
                from_db(e, "order", || {
                    let numbers: Vec<String> = given.iter().map(|(n, ..)| n.to_string()).collect();
                    format!(
                        "with one of the numbers `{}` in facility `{}`",
                        numbers.join("`, `"),
                        facility.slug
                    )
                })
            })?;
        // The order of RETURNING rows is not promised: match them by number.
        stored.extend(inserted.into_iter().map(|o| (o.order_number.clone(), o)));
    }
    let mut answers = Vec::with_capacity(given.len());
    let mut item_rows = Vec::new();
    for (number, mut fields, items, cancelling) in given {
        let Some(order) = stored.remove(number.as_str()) else {
            fields.items = items;
            answers.push(Err((number, fields)));
            continue;
        };
        item_rows.extend(
            items
                .unwrap_or_default()
                .into_iter()
                .zip(0..)
                .map(|(item, position)| item_model(order.id, position, item)),
        );
        answers.push(Ok(Unannounced { order, cancelling }));
    }
    for chunk in stable::chunks(&item_rows) {
        order_item::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(db)
            .await
            .map_err(Error::from_db_err)?;
    }
    Ok(answers)
}

/// A new order's row, every column set (so that rows share one multi-row statement).
fn new_order(
    facility: &facility::Model,
    number: &OrderNumber,
    fields: OrderFields,
    now: DateTime<Utc>,
) -> order::ActiveModel {
    let mut active = order::ActiveModel {
        business_id: Set(facility.business_id),
        facility_id: Set(facility.id),
        order_number: Set(number.to_string()),
        direction: Set(fields.direction.unwrap_or(OrderDirection::Outbound)),
        status: Set(fields.status.unwrap_or(OrderStatus::Created)),
        addons: Set(serde_json::json!([])),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply_fields(&mut active, fields, UpdateMode::Replace);
    active
}

fn apply_fields(active: &mut order::ActiveModel, f: OrderFields, mode: UpdateMode) {
    if let Some(direction) = f.direction {
        active.direction = Set(direction);
    }
    if let Some(status) = f.status {
        active.status = Set(status);
    }
    match (f.addons, mode) {
        (Some(addons), _) => active.addons = Set(serde_json::json!(addons)),
        (None, UpdateMode::Replace) => active.addons = Set(serde_json::json!([])),
        (None, UpdateMode::Patch) if f.cleared.has("addons") => {
            active.addons = Set(serde_json::json!([]))
        }
        (None, UpdateMode::Patch) => {}
    }
    put!(active, f.cleared, mode, external_id, f.external_id);
    put!(active, f.cleared, mode, customer, f.customer);
    put!(active, f.cleared, mode, order_type, f.order_type);
    put!(active, f.cleared, mode, purchase_order, f.purchase_order);
    put!(
        active,
        f.cleared,
        mode,
        requested_ship_date,
        f.requested_ship_date
    );
    put!(
        active,
        f.cleared,
        mode,
        requested_delivery_date,
        f.requested_delivery_date
    );
    put!(active, f.cleared, mode, service_level, f.service_level);
    put!(active, f.cleared, mode, carrier, f.carrier);
    put!(active, f.cleared, mode, carrier_service, f.carrier_service);
    put!(active, f.cleared, mode, bol_number, f.bol_number);
    put!(active, f.cleared, mode, seal_number, f.seal_number);
    put!(active, f.cleared, mode, shipper, party_json(f.shipper));
    put!(active, f.cleared, mode, consignee, party_json(f.consignee));
    put!(active, f.cleared, mode, payer, party_json(f.payer));
    put!(
        active,
        f.cleared,
        mode,
        pickup_window_start,
        f.pickup_window_start
    );
    put!(
        active,
        f.cleared,
        mode,
        pickup_window_end,
        f.pickup_window_end
    );
    put!(
        active,
        f.cleared,
        mode,
        delivery_window_start,
        f.delivery_window_start
    );
    put!(
        active,
        f.cleared,
        mode,
        delivery_window_end,
        f.delivery_window_end
    );
    put!(active, f.cleared, mode, notes, f.notes);
    put!(active, f.cleared, mode, shipment_id, f.shipment_id);
    put!(
        active,
        f.cleared,
        mode,
        expected_quantity,
        f.expected_quantity
    );
}

fn item_model(order_id: i64, position: i32, item: ItemFields) -> order_item::ActiveModel {
    order_item::ActiveModel {
        order_id: Set(order_id),
        position: Set(position),
        identifier: Set(item.identifier),
        lpn: Set(item.lpn),
        sku: Set(item.sku),
        description: Set(item.description),
        upc: Set(item.upc),
        quantity: Set(item.quantity.get()),
        quantity_unit: Set(item.quantity_unit),
        purchase_order: Set(item.purchase_order),
        weight_per_unit: Set(item.weight_per_unit),
        weight_unit: Set(item.weight_unit),
        length: Set(item.length),
        width: Set(item.width),
        height: Set(item.height),
        dimension_unit: Set(item.dimension_unit),
        is_dangerous_good: Set(item.is_dangerous_good),
        lot: Set(item.lot),
        expiration_date: Set(item.expiration_date),
        manufacturing_date: Set(item.manufacturing_date),
        metadata: Set(item.metadata),
        ..Default::default()
    }
}

async fn insert_items(
    db: &impl Write,
    order_id: i64,
    first_position: i32,
    items: Vec<ItemFields>,
) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = items
        .into_iter()
        .zip(first_position..)
        .map(|(item, position)| item_model(order_id, position, item))
        .collect();
    // In bounded statements: thousands of lines in one would pass the databases'
    // limits on bind parameters.
    for chunk in stable::chunks(&rows) {
        order_item::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(db)
            .await
            .map_err(Error::from_db_err)?;
    }
    Ok(())
}

/// Updates an order and applies its items by `items_mode`. A cancelled order cannot
/// be revived (409 `order_cancelled`).
pub async fn update(
    db: &impl Write,
    existing: order::Model,
    mut fields: OrderFields,
    mode: UpdateMode,
    items_mode: ItemsMode,
) -> Result<order::Model> {
    let existing = current(db, existing).await?;
    if existing.status == OrderStatus::Cancelled {
        return Err(Error::Conflict {
            code: ProblemCode::OrderCancelled,
            detail: format!(
                "order `{}` is cancelled; a cancelled order cannot be updated or revived",
                existing.order_number
            ),
        });
    }
    let cancelling = take_cancel(&mut fields);
    let items = fields.items.take();
    let mut active = existing.into_active_model();
    apply_fields(&mut active, fields, mode);
    active.updated_at = Set(Utc::now());
    let updated = active.update(db).await.map_err(Error::from_db_err)?;
    if let Some(items) = items {
        apply_items(db, updated.id, items, items_mode).await?;
    }
    events::order(db, EventType::OrderUpdated, &updated).await?;
    if cancelling {
        return cancel(db, updated, Default::default()).await;
    }
    Ok(updated)
}

async fn apply_items(
    db: &impl Write,
    order_id: i64,
    sent: Vec<ItemFields>,
    mode: ItemsMode,
) -> Result<()> {
    let existing = items(db, order_id).await?;
    let next_position = existing.iter().map(|i| i.position + 1).max().unwrap_or(0);
    match mode {
        ItemsMode::Overwrite => {
            delete_items(db, existing.iter().map(|i| i.id).collect()).await?;
            insert_items(db, order_id, 0, sent).await
        }
        ItemsMode::Append => insert_items(db, order_id, next_position, sent).await,
        ItemsMode::Delete => {
            let doomed = existing
                .iter()
                .filter(|i| {
                    sent.iter()
                        .any(|s| s.key().is_some() && s.key() == stored_key(i))
                })
                .map(|i| i.id)
                .collect();
            delete_items(db, doomed).await
        }
        ItemsMode::Merge => merge_items(db, order_id, existing, sent, next_position).await,
    }
}

async fn merge_items(
    db: &impl Write,
    order_id: i64,
    existing: Vec<order_item::Model>,
    sent: Vec<ItemFields>,
    next_position: i32,
) -> Result<()> {
    let mut added = Vec::new();
    for item in sent {
        let matched = existing
            .iter()
            .find(|e| item.key().is_some() && item.key() == stored_key(e));
        match matched {
            Some(old) => {
                let mut active = item_model(order_id, old.position, item);
                active.id = Set(old.id);
                active.update(db).await.map_err(Error::from_db_err)?;
            }
            None => added.push(item),
        }
    }
    insert_items(db, order_id, next_position, added).await
}

async fn delete_items(db: &impl Write, ids: Vec<i64>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    order_item::Entity::delete_many()
        .filter(order_item::Column::Id.is_in(ids))
        .exec(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(())
}

/// Cancels an order. Cancelling a cancelled order changes nothing and succeeds.
pub async fn cancel(
    db: &impl Write,
    existing: order::Model,
    cancellation: super::Cancellation,
) -> Result<order::Model> {
    let existing = current(db, existing).await?;
    if existing.status == OrderStatus::Cancelled {
        return Ok(existing);
    }
    let now = Utc::now();
    let mut active = existing.into_active_model();
    active.status = Set(OrderStatus::Cancelled);
    active.cancelled_at = Set(Some(cancellation.occurred_at.unwrap_or(now)));
    active.cancel_reason = Set(cancellation.reason);
    active.updated_at = Set(now);
    let cancelled = active.update(db).await.map_err(Error::from_db_err)?;
    events::order(db, EventType::OrderCancelled, &cancelled).await?;
    Ok(cancelled)
}

/// On PostgreSQL, the order as it is now, its row locked until the transaction ends:
/// a status check made on it holds until the write, whoever read the order first
/// (two cancels at once emit one `order.cancelled`; nothing changes an order a
/// concurrent cancel got to first). SQLite has one writer at a time: `existing` is
/// current already.
async fn current(db: &impl Write, existing: order::Model) -> Result<order::Model> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(existing);
    }
    let select = order::Entity::find_by_id(existing.id);
    super::for_update(select, db)
        .one(db)
        .await
        .map_err(Error::from_db_err)?
        .ok_or(Error::NotFound {
            what: "order",
            id: PublicId::from(existing.id).to_string(),
        })
}

/// An order of the business by id; other businesses' orders are not found.
pub async fn find(
    db: &impl ConnectionTrait,
    business_id: i64,
    id: OrderId,
) -> Result<Option<order::Model>> {
    order::Entity::find_by_id(id.internal())
        .filter(order::Column::BusinessId.eq(business_id))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// Like [`find`], with the row locked until the transaction ends (PostgreSQL; on
/// SQLite the write gate already lets one writer in at a time): a version check or
/// a status check made on it holds until the write.
pub async fn find_locked(
    db: &impl Write,
    business_id: i64,
    id: OrderId,
) -> Result<Option<order::Model>> {
    let select =
        order::Entity::find_by_id(id.internal()).filter(order::Column::BusinessId.eq(business_id));
    super::for_update(select, db)
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// An order by its number within a facility.
pub async fn find_by_number(
    db: &impl ConnectionTrait,
    facility_id: i64,
    number: &OrderNumber,
) -> Result<Option<order::Model>> {
    order::Entity::find()
        .filter(order::Column::FacilityId.eq(facility_id))
        .filter(order::Column::OrderNumber.eq(number.as_str()))
        .one(db)
        .await
        .map_err(Error::from_db_err)
}

/// The facility's orders with any of `numbers`, by number, in one statement per 256
/// numbers (lists padded to a few fixed lengths, see [`super::stable`]; the statement
/// is [`by_numbers_statement`]). A number repeated by the padding finds its order
/// once per repeat; the map keeps one.
pub async fn by_numbers(
    db: &impl ConnectionTrait,
    facility_id: i64,
    numbers: &[&str],
) -> Result<HashMap<String, order::Model>> {
    let mut found = HashMap::with_capacity(numbers.len());
    for list in super::stable::id_lists(numbers) {
        let Some(statement) = by_numbers_statement(db.get_database_backend(), facility_id, &list)
        else {
            continue;
        };
        let rows = order::Model::find_by_statement(statement)
            .all(db)
            .await
            .map_err(Error::from_db_err)?;
        found.extend(rows.into_iter().map(|o| (o.order_number.clone(), o)));
    }
    Ok(found)
}

/// The lookup of the facility's orders with any of `numbers`; `None` for no numbers.
///
/// One equality lookup per number joined by `UNION ALL`, not an `IN` list: each part
/// is a seek of the unique (facility, number) index under any plan. With an `IN` list,
/// PostgreSQL's generic plan, which a connection caches once a statement has run a
/// few times, may keep the list as a filter over every order of the facility: made
/// while the table was small, it stayed as the table grew.
pub fn by_numbers_statement(
    backend: DbBackend,
    facility_id: i64,
    numbers: &[&str],
) -> Option<Statement> {
    stable::union_all(
        backend,
        numbers.iter().map(|number| {
            order::Entity::find()
                .filter(order::Column::FacilityId.eq(facility_id))
                .filter(order::Column::OrderNumber.eq(*number))
                .into_query()
        }),
    )
}

/// An order's items in position order.
pub async fn items(db: &impl ConnectionTrait, order_id: i64) -> Result<Vec<order_item::Model>> {
    order_item::Entity::find()
        .filter(order_item::Column::OrderId.eq(order_id))
        .order_by_asc(order_item::Column::Position)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// Whether the shipment carries an order of `customer`, in one indexed query.
pub async fn shipment_carries_customer(
    db: &impl ConnectionTrait,
    shipment_id: i64,
    customer: &str,
) -> Result<bool> {
    use sea_orm::QuerySelect;
    let found = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .filter(order::Column::ShipmentId.eq(shipment_id))
        .filter(order::Column::Customer.eq(customer))
        .into_tuple::<i64>()
        .one(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(found.is_some())
}

/// The orders assigned to a shipment, each with its items, in two queries.
pub async fn for_shipment(
    db: &impl ConnectionTrait,
    shipment_id: i64,
) -> Result<Vec<OrderWithItems>> {
    let orders = order::Entity::find()
        .filter(order::Column::ShipmentId.eq(shipment_id))
        .order_by_asc(order::Column::Id)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut all_items = order_item::Entity::find()
        .filter(order_item::Column::OrderId.is_in(ids))
        .order_by_asc(order_item::Column::Position)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(orders
        .into_iter()
        .map(|order| {
            let (mine, rest) = all_items.drain(..).partition(|i| i.order_id == order.id);
            all_items = rest;
            OrderWithItems { order, items: mine }
        })
        .collect())
}

/// Orders of the business with `number`, optionally only in one facility; at most two.
pub async fn find_in_business(
    db: &impl ConnectionTrait,
    business_id: i64,
    facility_id: Option<i64>,
    number: &OrderNumber,
) -> Result<Vec<order::Model>> {
    use sea_orm::QuerySelect;
    let mut query = order::Entity::find()
        .filter(order::Column::BusinessId.eq(business_id))
        .filter(order::Column::OrderNumber.eq(number.as_str()));
    if let Some(facility_id) = facility_id {
        query = query.filter(order::Column::FacilityId.eq(facility_id));
    }
    query.limit(2).all(db).await.map_err(Error::from_db_err)
}
