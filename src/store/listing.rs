//! Filtered, keyset-paginated listings of a business's shipments and orders.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{business, dock, facility, order, shipment};
use crate::domain::{OrderDirection, OrderStatus, ShipmentDirection, ShipmentStatus};
use crate::error::{Error, Result};

/// A page request: rows with an id greater than `after`, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub after: Option<i64>,
    pub limit: u64,
}

/// A page of rows and whether more follow.
#[derive(Debug, Clone)]
pub struct Slice<T> {
    pub rows: Vec<T>,
    pub has_more: bool,
}

/// Which shipments a listing returns; `None` means "no restriction".
#[derive(Debug, Clone, Default)]
pub struct ShipmentQuery {
    pub facility_id: Option<i64>,
    /// Changed at or after.
    pub since: Option<DateTime<Utc>>,
    /// Changed before.
    pub before: Option<DateTime<Utc>>,
    /// Case-sensitive substring of the number, purchase order, trailer or
    /// customer identifier.
    pub text: Option<String>,
    pub dock_slugs: Option<Vec<String>>,
    pub direction: Option<ShipmentDirection>,
    pub status: Option<ShipmentStatus>,
    /// Only shipments carrying an order of this customer (a customer key's view).
    pub customer: Option<String>,
    /// Only shipments assigned to this subcontractor (a subcontractor key's view).
    pub subcontractor: Option<String>,
}

/// Which orders a listing returns; `None` means "no restriction".
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub facility_id: Option<i64>,
    pub direction: Option<OrderDirection>,
    pub status: Option<OrderStatus>,
    /// The requested date (ship date for outbound, delivery date for inbound) is at
    /// or after `start` and before `end`; for an order without one, its creation time.
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Changed at or after.
    pub since: Option<DateTime<Utc>>,
    /// Only this customer's orders (a customer key's view).
    pub customer: Option<String>,
}

pub(crate) fn slice<T>(mut rows: Vec<T>, limit: u64) -> Slice<T> {
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Slice { rows, has_more }
}

/// Shipments of the business matching `query`, by ascending id.
pub async fn shipments(
    db: &impl ConnectionTrait,
    business_id: i64,
    query: &ShipmentQuery,
    page: Page,
) -> Result<Slice<shipment::Model>> {
    use shipment::Column as C;
    let mut select = shipment::Entity::find().filter(C::BusinessId.eq(business_id));
    if let Some(id) = query.facility_id {
        select = select.filter(C::FacilityId.eq(id));
    }
    if let Some(since) = query.since {
        select = select.filter(C::UpdatedAt.gte(since));
    }
    if let Some(before) = query.before {
        select = select.filter(C::UpdatedAt.lt(before));
    }
    if let Some(direction) = query.direction {
        select = select.filter(C::Direction.eq(direction));
    }
    if let Some(status) = query.status {
        select = select.filter(C::Status.eq(status));
    }
    if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
        select = select.filter(
            Condition::any()
                .add(C::ShipmentNumber.contains(text))
                .add(C::PurchaseOrder.contains(text))
                .add(C::TrailerNumber.contains(text))
                .add(C::CustomerShipmentIdentifier.contains(text)),
        );
    }
    if let Some(slugs) = &query.dock_slugs {
        let ids = dock_ids(db, business_id, query.facility_id, slugs).await?;
        select = select.filter(C::DockId.is_in(ids));
    }
    if let Some(subcontractor) = &query.subcontractor {
        select = select.filter(C::Subcontractor.eq(subcontractor.as_str()));
    }
    if let Some(customer) = &query.customer {
        select = select.filter(C::Id.in_subquery(carrying_orders_of(business_id, customer)));
    }
    if let Some(after) = page.after {
        select = select.filter(C::Id.gt(after));
    }
    let rows = select
        .order_by_asc(C::Id)
        .limit(page.limit + 1)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(slice(rows, page.limit))
}

/// The ids of the shipments carrying an order of `customer`.
pub fn carrying_orders_of(business_id: i64, customer: &str) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(order::Column::ShipmentId)
        .from(order::Entity)
        .and_where(order::Column::BusinessId.eq(business_id))
        .and_where(order::Column::Customer.eq(customer))
        .and_where(order::Column::ShipmentId.is_not_null())
        .to_owned()
}

async fn dock_ids(
    db: &impl ConnectionTrait,
    business_id: i64,
    facility_id: Option<i64>,
    slugs: &[String],
) -> Result<Vec<i64>> {
    let mut select = dock::Entity::find()
        .filter(dock::Column::BusinessId.eq(business_id))
        .filter(dock::Column::Slug.is_in(slugs.iter().cloned()));
    if let Some(id) = facility_id {
        select = select.filter(dock::Column::FacilityId.eq(id));
    }
    let docks = select.all(db).await.map_err(Error::from_db_err)?;
    Ok(docks.into_iter().map(|d| d.id).collect())
}

/// Orders of the business matching `query`, by ascending id.
pub async fn orders(
    db: &impl ConnectionTrait,
    business_id: i64,
    query: &OrderQuery,
    page: Page,
) -> Result<Slice<order::Model>> {
    use order::Column as C;
    let mut select = order::Entity::find().filter(C::BusinessId.eq(business_id));
    if let Some(id) = query.facility_id {
        select = select.filter(C::FacilityId.eq(id));
    }
    if let Some(direction) = query.direction {
        select = select.filter(C::Direction.eq(direction));
    }
    if let Some(status) = query.status {
        select = select.filter(C::Status.eq(status));
    }
    if let Some(since) = query.since {
        select = select.filter(C::UpdatedAt.gte(since));
    }
    if let Some(customer) = &query.customer {
        select = select.filter(C::Customer.eq(customer.as_str()));
    }
    if query.start.is_some() || query.end.is_some() {
        select = select.filter(
            Condition::any()
                .add(date_window(
                    OrderDirection::Outbound,
                    C::RequestedShipDate,
                    query,
                ))
                .add(date_window(
                    OrderDirection::Inbound,
                    C::RequestedDeliveryDate,
                    query,
                )),
        );
    }
    if let Some(after) = page.after {
        select = select.filter(C::Id.gt(after));
    }
    let rows = select
        .order_by_asc(C::Id)
        .limit(page.limit + 1)
        .all(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(slice(rows, page.limit))
}

/// Orders of `direction` whose requested date (`column`) falls in the query's
/// window, or, for an order without one, whose creation time does.
fn date_window(direction: OrderDirection, column: order::Column, query: &OrderQuery) -> Condition {
    let within = |at: order::Column| {
        let mut condition = Condition::all();
        if let Some(start) = query.start {
            condition = condition.add(at.gte(start));
        }
        if let Some(end) = query.end {
            condition = condition.add(at.lt(end));
        }
        condition
    };
    Condition::all()
        .add(order::Column::Direction.eq(direction))
        .add(
            Condition::any().add(within(column)).add(
                Condition::all()
                    .add(column.is_null())
                    .add(within(order::Column::CreatedAt)),
            ),
        )
}

/// The facilities of a business, by slug.
pub async fn facilities(
    db: &impl ConnectionTrait,
    business_id: i64,
) -> Result<Vec<facility::Model>> {
    facility::Entity::find()
        .filter(facility::Column::BusinessId.eq(business_id))
        .order_by_asc(facility::Column::Slug)
        .all(db)
        .await
        .map_err(Error::from_db_err)
}

/// The business itself.
pub async fn business(db: &impl ConnectionTrait, business_id: i64) -> Result<business::Model> {
    business::Entity::find_by_id(business_id)
        .one(db)
        .await
        .map_err(Error::from_db_err)?
        .ok_or(Error::NotFound {
            what: "business",
            id: business_id.to_string(),
        })
}
