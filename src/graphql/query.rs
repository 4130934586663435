//! The query root: legacy operations and Relay-style connections.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{Context, MergedObject, Object, Result};

use super::context::{db, own_business, principal, slug};
use super::types::facility::Business;
use super::types::filters::{OrdersConnectionFilter, ShipmentsConnectionFilter};
use super::types::order::Order;
use super::types::parse_time;
use super::types::push::{LEGACY_TYPES, PushMessage, PushMessageFilter};
use super::types::shipment::Shipment;
use crate::domain::PublicId;
use crate::domain::Scope;
use crate::error::Error;
use crate::store::keys::Principal;
use crate::store::listing::{self, Page, Slice};
use crate::store::{Db, outbox, tenancy};

/// Page size when `first` is not given, and the largest accepted.
const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 500;

/// Cursors carry public ids, like every id the API gives out.
type Cursor = OpaqueCursor<PublicId>;

/// Every query.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    LegacyQueries,
    super::webhooks::WebhookQueries,
    super::operator::OperatorQueries,
    super::sources::SourceQueries,
);

/// The legacy queries and the Relay-style listings.
#[derive(Default)]
pub struct LegacyQueries;

#[Object]
impl LegacyQueries {
    /// Always true: the API is up and the key is valid.
    async fn ping(&self) -> bool {
        true
    }

    /// The key's own business (a list for legacy clients).
    async fn businesses(&self, ctx: &Context<'_>) -> Result<Vec<Business>> {
        let who = principal(ctx, Scope::Read)?;
        Ok(vec![Business(
            listing::business(db(ctx)?, who.business_id).await?,
        )])
    }

    /// Pallet events and shipment completions of the business written after
    /// `since`, oldest first (at most 1000).
    async fn push_messages(
        &self,
        ctx: &Context<'_>,
        input: PushMessageFilter,
    ) -> Result<Vec<PushMessage>> {
        let who = principal(ctx, Scope::Read)?;
        own_business(who, &input.business_slug)?;
        let db = db(ctx)?;
        let since = parse_time("input.since", &input.since)?;
        let facility = match input.facility_slug.as_deref() {
            Some(name) => {
                let found =
                    tenancy::find_facility(db, who.business_id, &slug("input.facilitySlug", name)?)
                        .await?;
                Some(
                    found
                        .map(|f| (f.id, f.slug))
                        .unwrap_or((-1, name.to_string())),
                )
            }
            None => None,
        };
        let facility_id = facility.as_ref().map(|(id, _)| *id);
        let query = outbox::MessageQuery {
            since: Some(since),
            facility_id,
            types: Some(LEGACY_TYPES),
            ..Default::default()
        };
        let rows = outbox::messages_after(db, who.business_id, &query, 1000).await?;
        let mut facilities: std::collections::HashMap<i64, String> = facility.into_iter().collect();
        let mut messages = Vec::with_capacity(rows.len());
        for m in rows {
            let slug = match m.facility_id {
                Some(id) if !facilities.contains_key(&id) => {
                    let found = tenancy::facility_by_id(db, id)
                        .await?
                        .map(|f| f.slug)
                        .unwrap_or_default();
                    facilities.insert(id, found.clone());
                    Some(found)
                }
                Some(id) => facilities.get(&id).cloned(),
                None => None,
            };
            messages.push(PushMessage::new(m, &who.business_slug, slug));
        }
        Ok(messages)
    }

    /// A shipment of the key's business by id.
    async fn shipment(&self, ctx: &Context<'_>, id: PublicId) -> Result<Shipment> {
        let who = principal(ctx, Scope::Read)?;
        // The use case's find: a subcontractor key finds only its assigned shipments.
        let found = crate::app::shipments::find(db(ctx)?, who, id.into()).await?;
        super::prime::shipments(ctx, ctx.look_ahead(), std::slice::from_ref(&found)).await?;
        Ok(Shipment(found))
    }

    /// Shipments of the key's business, oldest first, paged forward.
    async fn shipments_connection(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ShipmentsConnectionFilter>,
    ) -> Result<Connection<Cursor, Shipment>> {
        let who = principal(ctx, Scope::Read)?;
        let db = db(ctx)?;
        let (facility, rest) = filter.unwrap_or_default().split();
        let mut query = rest.into_query()?;
        query.facility_id = facility_id(db, who, facility).await?;
        let page = page(first, after)?;
        let found = listing::shipments(db, who.business_id, &query, page).await?;
        let node = ctx.look_ahead().field("edges").field("node");
        super::prime::shipments(ctx, node, &found.rows).await?;
        Ok(connection(page, found, |s| s.id, Shipment))
    }

    /// Orders of the key's business, oldest first, paged forward.
    async fn orders_connection(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OrdersConnectionFilter>,
    ) -> Result<Connection<Cursor, Order>> {
        let who = principal(ctx, Scope::Read)?;
        let db = db(ctx)?;
        let (facility, mut query) = filter.unwrap_or_default().split()?;
        query.facility_id = facility_id(db, who, facility).await?;
        let page = page(first, after)?;
        let found = listing::orders(db, who.business_id, &query, page).await?;
        let node = ctx.look_ahead().field("edges").field("node");
        super::prime::orders(ctx, node, &found.rows).await?;
        Ok(connection(page, found, |o| o.id, Order))
    }
}

/// The id of a facility named in a filter; an unknown slug matches nothing.
async fn facility_id(db: &Db, who: &Principal, facility: Option<String>) -> Result<Option<i64>> {
    let Some(facility) = facility else {
        return Ok(None);
    };
    let slug = slug("filter.facilitySlug", &facility)?;
    let found = tenancy::find_facility(db, who.business_id, &slug).await?;
    Ok(Some(found.map(|f| f.id).unwrap_or(-1)))
}

fn page(first: Option<i32>, after: Option<String>) -> Result<Page, Error> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(Error::invalid_field(
            "first",
            format!("`first` must be between 0 and {MAX_PAGE}"),
        ));
    }
    let after = after
        .map(|a| Cursor::decode_cursor(&a).map(|c| c.0.internal()))
        .transpose()
        .map_err(|_| Error::invalid_field("after", "`after` is not a cursor this API issued"))?;
    Ok(Page {
        after,
        limit: first as u64,
    })
}

fn connection<M, N: async_graphql::OutputType>(
    page: Page,
    found: Slice<M>,
    id: impl Fn(&M) -> i64,
    node: impl Fn(M) -> N,
) -> Connection<Cursor, N> {
    let mut connection = Connection::new(page.after.is_some(), found.has_more);
    connection.edges.extend(
        found
            .rows
            .into_iter()
            .map(|row| Edge::new(OpaqueCursor(PublicId::from(id(&row))), node(row))),
    );
    connection
}
