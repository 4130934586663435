//! Business, facility, dock and address.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::filters::{OrdersFilter, ShipmentFilter};
use super::order::Order;
use super::shipment::Shipment;
use crate::domain::{PublicId, public_id};
use crate::graphql::context::{db, loader, who};
use crate::graphql::loaders::DocksOf;
use crate::store::entities::{business, dock, facility};
use crate::store::listing::{self, Page};

/// Most rows a legacy (unpaginated) list returns; page with the connections beyond.
pub const LEGACY_LIST_LIMIT: u64 = 1000;

/// The tenant an API key belongs to.
pub struct Business(pub business::Model);

#[Object]
impl Business {
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The business's facilities, by slug.
    async fn facilities(&self, ctx: &Context<'_>) -> Result<Vec<Facility>> {
        let rows = listing::facilities(db(ctx)?, self.0.id).await?;
        Ok(rows.into_iter().map(Facility).collect())
    }
}

/// A site of the business.
pub struct Facility(pub facility::Model);

/// A postal address.
#[derive(SimpleObject)]
pub struct Address {
    pub address_one: Option<String>,
    pub address_two: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
}

#[Object]
impl Facility {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }

    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn address(&self) -> Address {
        let f = &self.0;
        Address {
            address_one: f.address_one.clone(),
            address_two: f.address_two.clone(),
            city: f.city.clone(),
            state: f.state.clone(),
            zip: f.zip.clone(),
            country: f.country.clone(),
        }
    }

    async fn docks(&self, ctx: &Context<'_>) -> Result<Vec<Dock>> {
        let docks = loader(ctx)?.load_one(DocksOf(self.0.id)).await?;
        Ok(docks.unwrap_or_default().into_iter().map(Dock).collect())
    }

    /// Shipments of this facility, oldest first (at most 1000; use
    /// `shipmentsConnection` to page).
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        filter: Option<ShipmentFilter>,
    ) -> Result<Vec<Shipment>> {
        let mut query = filter.unwrap_or_default().into_query()?;
        query.facility_id = Some(self.0.id);
        let page = Page {
            after: None,
            limit: LEGACY_LIST_LIMIT,
        };
        let found = listing::shipments(db(ctx)?, who(ctx)?.business_id, &query, page).await?;
        crate::graphql::prime::shipments(ctx, ctx.look_ahead(), &found.rows).await?;
        Ok(found.rows.into_iter().map(Shipment).collect())
    }

    /// A shipment of this facility; null when there is none with this id.
    async fn shipment(&self, ctx: &Context<'_>, id: PublicId) -> Result<Option<Shipment>> {
        let found =
            crate::store::shipments::find(db(ctx)?, who(ctx)?.business_id, id.into()).await?;
        Ok(found.filter(|s| s.facility_id == self.0.id).map(Shipment))
    }

    /// Orders of this facility, oldest first (at most 1000; use `ordersConnection`
    /// to page).
    async fn orders(&self, ctx: &Context<'_>, filter: OrdersFilter) -> Result<Vec<Order>> {
        let mut query = filter.into_query()?;
        query.facility_id = Some(self.0.id);
        let page = Page {
            after: None,
            limit: LEGACY_LIST_LIMIT,
        };
        let found = listing::orders(db(ctx)?, who(ctx)?.business_id, &query, page).await?;
        crate::graphql::prime::orders(ctx, ctx.look_ahead(), &found.rows).await?;
        Ok(found.rows.into_iter().map(Order).collect())
    }
}

/// A door of a facility.
pub struct Dock(pub dock::Model);

#[Object]
impl Dock {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }

    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    async fn facility_id(&self) -> i64 {
        public_id::public(self.0.facility_id)
    }

    async fn business_id(&self) -> i64 {
        public_id::public(self.0.business_id)
    }
}
