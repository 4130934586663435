//! Business, facility, dock and address.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::filters::{OrdersFilter, ShipmentFilter};
use super::order::Order;
use super::shipment::Shipment;
use crate::domain::{MasterEntity, SkuFields};
use crate::domain::{PublicId, public_id};
use crate::graphql::context::{db, loader, who};
use crate::graphql::loaders::DocksOf;
use crate::store::entities::{business, dock, facility, master_record};
use crate::store::listing::{self, Page};
use crate::store::master;

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

    /// The SKUs of this facility, oldest first (at most 1000); deleted ones are not
    /// listed.
    #[graphql(name = "SKUs")]
    async fn skus(&self, ctx: &Context<'_>) -> Result<Vec<Sku>> {
        let who = who(ctx)?;
        let query = master::Query {
            facility_id: Some(self.0.id),
            ..Default::default()
        };
        let page = Page {
            after: None,
            limit: LEGACY_LIST_LIMIT,
        };
        let found =
            master::list(db(ctx)?, who.business_id, MasterEntity::Sku, &query, page).await?;
        Ok(found
            .rows
            .into_iter()
            .map(|row| Sku::new(row, &who.business_slug, &self.0.slug))
            .collect())
    }

    /// A SKU of this facility by its id; null when there is none (or it was deleted).
    #[graphql(name = "SKU")]
    async fn sku(&self, ctx: &Context<'_>, id: String) -> Result<Option<Sku>> {
        let who = who(ctx)?;
        let key = master::Key {
            business_id: who.business_id,
            entity: MasterEntity::Sku,
            facility_id: Some(self.0.id),
            code: id,
        };
        let found = master::find(db(ctx)?, &key).await?;
        Ok(found
            .filter(|row| row.archived_at.is_none())
            .map(|row| Sku::new(row, &who.business_slug, &self.0.slug)))
    }
}

/// A SKU expected at a facility, in Kargo's shape.
#[derive(SimpleObject)]
#[graphql(name = "SKU", rename_fields = "snake_case")]
pub struct Sku {
    pub business_slug: String,
    pub facility_slug: String,
    pub sku_id: String,
    pub description: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub unit_of_measure: Option<String>,
    pub alternate_sku_ids: Option<Vec<String>>,
    pub sku_metadata: Option<String>,
}

impl Sku {
    fn new(row: master_record::Model, business: &str, facility: &str) -> Self {
        let fields: SkuFields = serde_json::from_value(row.data).unwrap_or_default();
        let time = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        Self {
            business_slug: business.to_string(),
            facility_slug: facility.to_string(),
            sku_id: row.code,
            description: fields.description,
            created_at: Some(time(row.created_at)),
            updated_at: Some(time(row.updated_at)),
            unit_of_measure: fields.unit_of_measure,
            alternate_sku_ids: fields.alternate_sku_ids,
            sku_metadata: fields.sku_metadata,
        }
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
