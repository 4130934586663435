//! Shipment use cases: read, list, create, upsert, change and cancel, and what is
//! attached to a shipment. Every door (REST, GraphQL) calls these.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use super::orders::OrderUpsert;
use super::views::{
    Attached, DocumentView, ExceptionView, OrderView, PalletView, ReferenceView, ShipmentSummary,
    ShipmentView, StopView,
};
use super::{App, Expected, FacilityScope, Listing, Version, next_after};
use crate::domain::PublicId;
use crate::domain::ShipmentId;
use crate::domain::{
    ExceptionDescription, ExceptionPriority, Scope, ShipmentNumber, Slug, UpdateMode,
};
use crate::error::{Error, Result};
use crate::store::entities::{exception, shipment};
use crate::store::gate::WriteTxn;
use crate::store::keys::Principal;
use crate::store::listing::{self, Page, ShipmentQuery};
use crate::store::shipments::ShipmentFields;
use crate::store::{attach, orders, shipments, tenancy, trips};

fn not_found(id: ShipmentId) -> Error {
    Error::NotFound {
        what: "shipment",
        id: id.to_string(),
    }
}

/// The shipment `id` of the key's business, or `not_found`. A customer key finds
/// only shipments carrying one of its orders; a subcontractor key only those
/// assigned to it.
pub async fn find(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: ShipmentId,
) -> Result<shipment::Model> {
    let found = shipments::find(db, who.business_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if let Some(customer) = who.role.customer()
        && !orders::shipment_carries_customer(db, found.id, customer).await?
    {
        return Err(not_found(id));
    }
    if !assigned_to_key(who, &found) {
        return Err(not_found(id));
    }
    Ok(found)
}

/// Whether a subcontractor key may see the shipment (any other key: yes).
fn assigned_to_key(who: &Principal, s: &shipment::Model) -> bool {
    who.role
        .subcontractor()
        .is_none_or(|party| s.subcontractor.as_deref() == Some(party))
}

/// The shipment `id`, locked for the rest of the transaction, or `not_found`.
async fn find_locked(txn: &WriteTxn, who: &Principal, id: ShipmentId) -> Result<shipment::Model> {
    shipments::find_locked(txn, who.business_id, id)
        .await?
        .filter(|s| assigned_to_key(who, s))
        .ok_or_else(|| not_found(id))
}

/// A shipment with its status history, orders and their items (scope `read`).
pub async fn get(app: &App, who: &Principal, id: ShipmentId) -> Result<ShipmentView> {
    who.require(Scope::Read)?;
    let found = find(&app.db, who, id).await?;
    match who.role.customer() {
        None => view(&app.db, found).await,
        Some(customer) => customer_view(&app.db, found, customer).await,
    }
}

/// A shipment as a customer key sees it: its own orders only, and nothing attached
/// (pallets, documents, references and exceptions may name other customers' orders).
async fn customer_view(
    db: &impl ConnectionTrait,
    s: shipment::Model,
    customer: &str,
) -> Result<ShipmentView> {
    let mut slugs = Slugs::default();
    let summary = slugs.summary(db, s).await?;
    let id = summary.id.internal();
    let history = shipments::history(db, id).await?;
    let mut orders = orders::for_shipment(db, id).await?;
    orders.retain(|o| o.order.customer.as_deref() == Some(customer));
    let order_views = order_views(db, orders, &mut slugs).await?;
    Ok(ShipmentView::new(
        summary,
        history,
        order_views,
        Attached::default(),
    ))
}

/// The views of a shipment's orders, with their references.
async fn order_views(
    db: &impl ConnectionTrait,
    orders: Vec<crate::store::orders::OrderWithItems>,
    slugs: &mut Slugs,
) -> Result<Vec<OrderView>> {
    let Some(business_id) = orders.first().map(|o| o.order.business_id) else {
        return Ok(Vec::new());
    };
    let order_ids: Vec<i64> = orders.iter().map(|o| o.order.id).collect();
    let mut order_references =
        crate::store::batch::references_of_orders(db, business_id, &order_ids).await?;
    let mut views = Vec::with_capacity(orders.len());
    for order in orders {
        let facility = slugs.facility(db, order.order.facility_id).await?;
        let references = order_references.remove(&order.order.id).unwrap_or_default();
        views.push(OrderView::new(order, facility, references));
    }
    Ok(views)
}

async fn view(db: &impl ConnectionTrait, s: shipment::Model) -> Result<ShipmentView> {
    let mut slugs = Slugs::default();
    let summary = slugs.summary(db, s).await?;
    let id = summary.id.internal();
    let history = shipments::history(db, id).await?;
    let orders = orders::for_shipment(db, id).await?;
    let order_views = order_views(db, orders, &mut slugs).await?;
    let attached = Attached {
        stops: trips::stops_of(db, id)
            .await?
            .into_iter()
            .map(StopView::from)
            .collect(),
        pallets: pallet_views(db, id, &mut slugs).await?,
        documents: attach::documents_of(db, id)
            .await?
            .into_iter()
            .map(DocumentView::from)
            .collect(),
        references: attach::references_of(db, id)
            .await?
            .into_iter()
            .map(ReferenceView::from)
            .collect(),
        exceptions: attach::exceptions_of(db, id)
            .await?
            .into_iter()
            .map(ExceptionView::from)
            .collect(),
    };
    Ok(ShipmentView::new(summary, history, order_views, attached))
}

/// A shipment's pallet events with their docks' slugs, oldest first.
async fn pallet_views(
    db: &impl ConnectionTrait,
    shipment_id: i64,
    slugs: &mut Slugs,
) -> Result<Vec<PalletView>> {
    let rows = attach::pallets_of(db, shipment_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let dock = slugs.dock(db, row.dock_id).await?;
        out.push(PalletView::new(row, dock));
    }
    Ok(out)
}

/// Facility and dock slugs, each looked up once per request.
#[derive(Default)]
pub(super) struct Slugs {
    facilities: HashMap<i64, String>,
    docks: HashMap<i64, Option<String>>,
}

impl Slugs {
    pub(super) async fn facility(&mut self, db: &impl ConnectionTrait, id: i64) -> Result<String> {
        if let Some(slug) = self.facilities.get(&id) {
            return Ok(slug.clone());
        }
        let slug = tenancy::facility_by_id(db, id)
            .await?
            .map(|f| f.slug)
            .unwrap_or_default();
        self.facilities.insert(id, slug.clone());
        Ok(slug)
    }

    async fn dock(&mut self, db: &impl ConnectionTrait, id: Option<i64>) -> Result<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        if let Some(slug) = self.docks.get(&id) {
            return Ok(slug.clone());
        }
        let slug = tenancy::dock_by_id(db, id).await?.map(|d| d.slug);
        self.docks.insert(id, slug.clone());
        Ok(slug)
    }

    async fn summary(
        &mut self,
        db: &impl ConnectionTrait,
        s: shipment::Model,
    ) -> Result<ShipmentSummary> {
        let facility = self.facility(db, s.facility_id).await?;
        let dock = self.dock(db, s.dock_id).await?;
        Ok(ShipmentSummary::new(s, facility, dock))
    }
}

/// Which shipments to list.
#[derive(Debug, Clone, Default)]
pub struct ShipmentFilter {
    /// Only this facility's (an unknown facility lists nothing).
    pub facility: Option<Slug>,
    pub query: ShipmentQuery,
}

/// Shipments of the key's business, by ascending id (scope `read`).
pub async fn list(
    app: &App,
    who: &Principal,
    filter: ShipmentFilter,
    page: Page,
) -> Result<Listing<ShipmentSummary>> {
    who.require(Scope::Read)?;
    let mut query = filter.query;
    query.customer = who.role.customer().map(str::to_owned);
    query.subcontractor = who.role.subcontractor().map(str::to_owned);
    match FacilityScope::of(app, who.business_id, filter.facility.as_ref()).await? {
        FacilityScope::All => {}
        FacilityScope::Only(id) => query.facility_id = Some(id),
        FacilityScope::Unknown => return Ok(Listing::empty()),
    }
    let slice = listing::shipments(&app.db, who.business_id, &query, page).await?;
    let next = next_after(&slice, |s| s.id);
    let mut slugs = Slugs::default();
    let mut items = Vec::with_capacity(slice.rows.len());
    for row in slice.rows {
        items.push(slugs.summary(&app.db, row).await?);
    }
    Ok(Listing::new(items, next))
}

/// Creates a shipment (scope `write`); a number the facility already has is a
/// `409 duplicate`.
pub async fn create(
    app: &App,
    who: &Principal,
    facility: Slug,
    number: ShipmentNumber,
    fields: ShipmentFields,
) -> Result<ShipmentView> {
    who.require(Scope::Write)?;
    let strict = app.config.strict_facilities;
    let business_id = who.business_id;
    app.grouped(move |unit| {
        let (facility, number, fields) = (facility.clone(), number.clone(), fields.clone());
        Box::pin(async move {
            let facility = tenancy::facility(unit, business_id, &facility, strict).await?;
            let created = shipments::create(unit, &facility, &number, fields).await?;
            view(unit, created).await
        })
    })
    .await
}

/// Creates the facility's shipment `number`, or changes the given fields of the one
/// it has, then creates or changes `orders` on it, all in one transaction (scope
/// `write`). Returns the shipment and whether it was created.
pub async fn upsert(
    app: &App,
    who: &Principal,
    facility: &Slug,
    number: &ShipmentNumber,
    fields: ShipmentFields,
    orders: Vec<OrderUpsert>,
) -> Result<(shipment::Model, bool)> {
    who.require(Scope::Write)?;
    let strict = app.config.strict();
    let (who, facility, number) = (who.clone(), facility.clone(), number.clone());
    app.grouped(move |unit| {
        let (who, facility, number) = (who.clone(), facility.clone(), number.clone());
        let (fields, orders) = (fields.clone(), orders.clone());
        Box::pin(async move {
            let facility =
                tenancy::facility(unit, who.business_id, &facility, strict.facilities).await?;
            let saved = match shipments::find_by_number(unit, facility.id, &number).await? {
                Some(existing) => (
                    shipments::update(unit, existing, fields, UpdateMode::Patch).await?,
                    false,
                ),
                None => (
                    shipments::create(unit, &facility, &number, fields).await?,
                    true,
                ),
            };
            for mut order in orders {
                order.fields.shipment_id = Some(saved.0.id);
                super::orders::upsert_in(unit, &who, order, strict).await?;
            }
            Ok(saved)
        })
    })
    .await
}

/// Records an exception on a shipment of the key's business, or on one of its
/// pallets by code (scope `write`).
pub async fn create_exception(
    app: &App,
    who: &Principal,
    id: ShipmentId,
    pallet: Option<&str>,
    priority: ExceptionPriority,
    description: &ExceptionDescription,
) -> Result<exception::Model> {
    who.require(Scope::Write)?;
    let txn = app.begin().await?;
    let shipment = find(&txn, who, id).await?;
    let pallet = match pallet {
        Some(code) => Some(
            attach::find_pallet(&txn, shipment.id, code)
                .await?
                .ok_or_else(|| Error::NotFound {
                    what: "pallet",
                    id: format!("`{code}` on shipment {}", PublicId::from(shipment.id)),
                })?,
        ),
        None => None,
    };
    let created = attach::exception(
        &txn,
        &shipment,
        pallet.as_ref(),
        priority,
        description,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a shipment (scope `write`): `Replace` clears what `fields` leaves out,
/// `Patch` keeps it. With `expected`, a shipment changed since is `412`.
pub async fn update(
    app: &App,
    who: &Principal,
    id: ShipmentId,
    fields: ShipmentFields,
    mode: UpdateMode,
    expected: Option<&Expected>,
) -> Result<ShipmentView> {
    who.require(Scope::Write)?;
    let txn = app.begin().await?;
    let found = find_locked(&txn, who, id).await?;
    Version::of_shipment(&found).check(expected)?;
    let updated = shipments::update(&txn, found, fields, mode).await?;
    let answer = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Cancels a shipment (scope `write`); cancelling twice changes nothing.
pub async fn cancel(
    app: &App,
    who: &Principal,
    id: ShipmentId,
    expected: Option<&Expected>,
) -> Result<ShipmentView> {
    who.require(Scope::Write)?;
    let txn = app.begin().await?;
    let found = find_locked(&txn, who, id).await?;
    Version::of_shipment(&found).check(expected)?;
    let cancelled = shipments::cancel(&txn, found, Default::default()).await?;
    let answer = view(&txn, cancelled).await?;
    txn.commit().await?;
    Ok(answer)
}

/// The pallet events of a shipment, oldest first (scope `read`).
pub async fn pallets(app: &App, who: &Principal, id: ShipmentId) -> Result<Vec<PalletView>> {
    who.require(Scope::Read)?;
    let found = find(&app.db, who, id).await?;
    pallet_views(&app.db, found.id, &mut Slugs::default()).await
}

/// The documents of a shipment without their bytes (scope `read`).
pub async fn documents(app: &App, who: &Principal, id: ShipmentId) -> Result<Vec<DocumentView>> {
    who.require(Scope::Read)?;
    let found = find(&app.db, who, id).await?;
    let rows = attach::documents_of(&app.db, found.id).await?;
    Ok(rows.into_iter().map(DocumentView::from).collect())
}

/// The references of a shipment (scope `read`).
pub async fn references(app: &App, who: &Principal, id: ShipmentId) -> Result<Vec<ReferenceView>> {
    who.require(Scope::Read)?;
    let found = find(&app.db, who, id).await?;
    let rows = attach::references_of(&app.db, found.id).await?;
    Ok(rows.into_iter().map(ReferenceView::from).collect())
}

/// The exceptions of a shipment and its pallets (scope `read`).
pub async fn exceptions(app: &App, who: &Principal, id: ShipmentId) -> Result<Vec<ExceptionView>> {
    who.require(Scope::Read)?;
    let found = find(&app.db, who, id).await?;
    let rows = attach::exceptions_of(&app.db, found.id).await?;
    Ok(rows.into_iter().map(ExceptionView::from).collect())
}

/// Reports how a stop of the shipment went: its status, actual times or a note
/// (scope `write`). A subcontractor key reports on the shipments assigned to it.
/// Publishes `stop.updated` and, for an assigned trip, `trip.updated`.
pub async fn report_stop(
    app: &App,
    who: &Principal,
    id: ShipmentId,
    stop: trips::StopFields,
) -> Result<ShipmentView> {
    who.require(Scope::Write)?;
    let txn = app.begin().await?;
    let found = find_locked(&txn, who, id).await?;
    if !trips::stops_of(&txn, found.id)
        .await?
        .iter()
        .any(|s| s.seq == stop.seq)
    {
        return Err(Error::NotFound {
            what: "stop",
            id: format!("{} of shipment {id}", stop.seq),
        });
    }
    let fields = ShipmentFields {
        stops: Some(vec![stop]),
        ..ShipmentFields::default()
    };
    let updated = shipments::update(&txn, found, fields, UpdateMode::Patch).await?;
    let answer = view(&txn, updated).await?;
    txn.commit().await?;
    Ok(answer)
}
