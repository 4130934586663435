//! Filter arguments of the listings.

use async_graphql::InputObject;

use super::enums::{OrderDirection, OrderStatus, ShippingDirection};
use super::parse_time_opt;
use crate::error::Error;
use crate::store::listing::{OrderQuery, ShipmentQuery};

/// Which shipments a legacy listing returns.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ShipmentFilter {
    /// Changed at or after this ISO 8601 timestamp.
    pub since: Option<String>,
    /// Changed before this ISO 8601 timestamp.
    pub before: Option<String>,
    /// Text found in the shipment number, purchase order, trailer number or
    /// customer shipment identifier.
    pub query: Option<String>,
    /// Only shipments at one of these docks.
    pub dock_slugs: Option<Vec<String>>,
    pub shipping_direction: Option<ShippingDirection>,
}

impl ShipmentFilter {
    /// The store query this filter means.
    pub fn into_query(self) -> Result<ShipmentQuery, Error> {
        // No stored value holds a NUL, and PostgreSQL refuses one in text.
        let nul = |s: &String| s.contains('\0');
        if self.query.as_ref().is_some_and(nul) {
            return Err(Error::invalid_field(
                "filter.query",
                "must not contain a NUL character",
            ));
        }
        if self.dock_slugs.iter().flatten().any(nul) {
            return Err(Error::invalid_field(
                "filter.dockSlugs",
                "must not contain a NUL character",
            ));
        }
        Ok(ShipmentQuery {
            customer: None,
            subcontractor: None,
            facility_id: None,
            since: parse_time_opt("filter.since", self.since.as_deref())?,
            before: parse_time_opt("filter.before", self.before.as_deref())?,
            text: self.query,
            dock_slugs: self.dock_slugs,
            direction: self.shipping_direction.map(Into::into),
            status: None,
        })
    }
}

/// Which orders a legacy listing returns.
#[derive(Debug, Clone, Default, InputObject)]
pub struct OrdersFilter {
    pub direction: Option<OrderDirection>,
    /// The requested date (ship date for outbound orders, delivery date for
    /// inbound ones) is at or after this ISO 8601 timestamp or date; an order
    /// without a requested date is matched by its creation time.
    pub start_date: Option<String>,
    /// The requested date (or, without one, the creation time) is before this ISO
    /// 8601 timestamp or date.
    pub end_date: Option<String>,
}

impl OrdersFilter {
    /// The store query this filter means.
    pub fn into_query(self) -> Result<OrderQuery, Error> {
        Ok(OrderQuery {
            customer: None,
            facility_id: None,
            direction: self.direction.map(Into::into),
            status: None,
            start: parse_time_opt("filter.startDate", self.start_date.as_deref())?,
            end: parse_time_opt("filter.endDate", self.end_date.as_deref())?,
            since: None,
        })
    }
}

/// Which shipments `shipmentsConnection` returns.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ShipmentsConnectionFilter {
    pub facility_slug: Option<String>,
    pub since: Option<String>,
    pub before: Option<String>,
    pub query: Option<String>,
    pub dock_slugs: Option<Vec<String>>,
    pub shipping_direction: Option<ShippingDirection>,
}

impl ShipmentsConnectionFilter {
    /// The facility slug and the rest of the filter.
    pub fn split(self) -> (Option<String>, ShipmentFilter) {
        let rest = ShipmentFilter {
            since: self.since,
            before: self.before,
            query: self.query,
            dock_slugs: self.dock_slugs,
            shipping_direction: self.shipping_direction,
        };
        (self.facility_slug, rest)
    }
}

/// Which orders `ordersConnection` returns.
#[derive(Debug, Clone, Default, InputObject)]
pub struct OrdersConnectionFilter {
    pub facility_slug: Option<String>,
    pub direction: Option<OrderDirection>,
    pub status: Option<OrderStatus>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

impl OrdersConnectionFilter {
    /// The facility slug and the store query for the rest.
    pub fn split(self) -> Result<(Option<String>, OrderQuery), Error> {
        let legacy = OrdersFilter {
            direction: self.direction,
            start_date: self.start_date,
            end_date: self.end_date,
        };
        let mut query = legacy.into_query()?;
        query.status = self.status.map(Into::into);
        Ok((self.facility_slug, query))
    }
}
